/* Parsing `nncl sweep`'s command line into a plan, and expanding it into
 * trials: the grid of every listed value (seeds innermost), or --random N
 * points drawn with a seeded generator, so the same command always gives
 * the same trials (which is what lets a sweep resume). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/sweep_plan.h"
#include "cli/train_options.h"
#include "nncl/data.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: nncl sweep [sweep options] [train options, each with one value or a list]\n"
            "\n"
            "Runs one training run per point of the grid of every listed value, each a normal\n"
            "run directory under the sweep directory, and records them in its sweep.json:\n"
            "\n"
            "  nncl sweep --lr 0.0005,0.002,0.01 --act relu,tanh --epochs 5 --out sweeps/lr-act\n"
            "\n"
            "Lists are comma-separated; --layers lists are separated by '/' (its own values\n"
            "use commas): --layers 64/128,64 tries one hidden layer of 64, then 128 and 64.\n"
            "A flag given one value passes to every trial unchanged. Running the same\n"
            "command again resumes: finished trials are kept, unfinished ones run again.\n"
            "\n"
            "sweep options:\n"
            "  --out DIR          the sweep directory (default sweeps/<UTC time>)\n"
            "  --seeds N          repeat every point with --seed 1..N\n"
            "  --random N         N random points instead of the whole grid; ranges as\n"
            "                     LO:HI (uniform), LO:HI:log (log-uniform), LO:HI:int\n"
            "  --sample-seed S    the generator of --random's points (default 1)\n"
            "  --jobs J           run J trials at once, in J processes; on a CPU device\n"
            "                     each gets 1/J of the cores (default 1)\n"
            "  --device DEVICE    the device every trial trains on\n"
            "\n"
            "Under mpirun -np R, rank 0 keeps sweep.json and hands the trials out to ranks\n"
            "1..R-1 as they free up (one machine or a shared file system; see README).\n"
            "\n"
            "See nncl train --help for the train options; nncl compare DIR for the results.\n");
}

/* ---- values --------------------------------------------------------------------- */

static bool is_number(const char *s, double *v)
{
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return end != s && *end == '\0' && errno == 0 && isfinite(*v);
}

/* "LO:HI[:log|:lin|:int]" with numbers: a range. */
static bool parse_range(const char *text, sweep_axis *a)
{
    char buf[128];
    if (strlen(text) >= sizeof buf)
        return false;
    strcpy(buf, text);
    char *lo = buf, *hi = strchr(buf, ':');
    if (!hi)
        return false;
    *hi++ = '\0';
    char *kind = strchr(hi, ':');
    if (kind)
        *kind++ = '\0';
    if (!is_number(lo, &a->lo) || !is_number(hi, &a->hi))
        return false;
    a->scale = !kind || strcmp(kind, "lin") == 0 ? SWEEP_LIN
               : strcmp(kind, "log") == 0       ? SWEEP_LOG
               : strcmp(kind, "int") == 0       ? SWEEP_INT
                                                : SWEEP_LIST;
    return a->scale != SWEEP_LIST;
}

/* Split a list on sep into the axis's values (pointers into a copy). */
static int split_list(char *text, char sep, sweep_axis *a, const char *flag)
{
    for (char *v = text;;) {
        char *end = strchr(v, sep);
        if (end)
            *end = '\0';
        if (!*v) {
            cli_error("--%s: an empty value in the list", flag);
            return CLI_USAGE;
        }
        if (a->n >= SWEEP_MAX_VALUES) {
            cli_error("--%s: more than %d values", flag, SWEEP_MAX_VALUES);
            return CLI_USAGE;
        }
        for (int i = 0; i < a->n; i++)
            if (strcmp(a->values[i], v) == 0) {
                cli_error("--%s: '%s' is listed twice", flag, v);
                return CLI_USAGE;
            }
        a->values[a->n++] = v;
        if (!end)
            return CLI_OK;
        v = end + 1;
    }
}

/* Keep s (malloc'd) until the plan is freed; NULL when out of memory. */
static char *own(sweep_plan *p, char *s)
{
    if (!s)
        return NULL;
    if (p->n_owned == p->cap_owned) {
        size_t cap = p->cap_owned ? 2 * p->cap_owned : 64;
        char **grown = realloc(p->owned, cap * sizeof *grown);
        if (!grown) {
            free(s);
            return NULL;
        }
        p->owned = grown;
        p->cap_owned = cap;
    }
    return p->owned[p->n_owned++] = s;
}

/* ---- the command line ----------------------------------------------------------- */

static int add_axis(sweep_plan *p, const char *flag, char *value)
{
    for (int i = 0; i < p->n_axes; i++)
        if (strcmp(p->axes[i].flag, flag) == 0) {
            cli_error("--%s is given twice", flag);
            return CLI_USAGE;
        }
    if (p->n_axes >= SWEEP_MAX_AXES - 1) {
        cli_error("more than %d varied flags", SWEEP_MAX_AXES - 1);
        return CLI_USAGE;
    }
    sweep_axis *a = &p->axes[p->n_axes++];
    memset(a, 0, sizeof *a);
    snprintf(a->flag, sizeof a->flag, "%s", flag);
    if (p->random && parse_range(value, a))
        return CLI_OK;
    return split_list(value, strcmp(flag, "layers") == 0 ? '/' : ',', a, flag);
}

static bool fixed_has(const sweep_plan *p, const char *flag)
{
    for (int i = 0; i < p->n_fixed; i++)
        if (strncmp(p->fixed[i], "--", 2) == 0 && strcmp(p->fixed[i] + 2, flag) == 0)
            return true;
    return false;
}

static bool parse_count(const char *flag, const char *v, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (end == v || *end || errno || n < lo || n > hi) {
        cli_error("--%s: '%s' is not a whole number from %ld to %ld", flag, v, lo, hi);
        return false;
    }
    *out = n;
    return true;
}

/* The sweep's own options (not passed to the trials). */
static int sweep_option(sweep_plan *p, const char *name, const char *v)
{
    static const struct {
        const char *name;
        long lo, hi;
    } counts[] = {{"seeds", 1, 1000}, {"random", 1, SWEEP_MAX_TRIALS}, {"jobs", 1, 64},
                  {"sample-seed", 0, 2147483647L}};
    if (strcmp(name, "out") == 0) {
        p->out = v;
        return CLI_OK;
    }
    if (strcmp(name, "device") == 0) {
        p->device = v;
        return CLI_OK;
    }
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        long n;
        if (strcmp(name, counts[i].name) != 0)
            continue;
        if (!parse_count(name, v, counts[i].lo, counts[i].hi, &n))
            return CLI_USAGE;
        if (i == 0)
            p->seeds = (int)n;
        else if (i == 1)
            p->random = (int)n;
        else if (i == 2)
            p->jobs = (int)n;
        else
            p->sample_seed = (uint64_t)n;
    }
    return CLI_OK;
}

static bool is_sweep_option(const char *name)
{
    static const char *names[] = {"out", "device", "seeds", "random", "jobs", "sample-seed"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(name, names[i]) == 0)
            return true;
    return false;
}

/* Walk argv: call fn for every "--name value" / "--name=value" / "--switch".
 * Two walks: the sweep's own options first, since --random changes how the
 * train flags' values read (LO:HI is a range only then). */
typedef int (*visit_fn)(sweep_plan *p, const char *name, char *value, const char *arg);

static int walk(sweep_plan *p, int argc, char **argv, visit_fn fn)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0 || !a[2]) {
            cli_error("unexpected argument '%s' (see nncl sweep --help)", a);
            return CLI_USAGE;
        }
        char name[64];
        const char *eq = strchr(a + 2, '=');
        size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        if (len >= sizeof name) {
            cli_error("unknown option '%s' (see nncl sweep --help)", a);
            return CLI_USAGE;
        }
        memcpy(name, a + 2, len);
        name[len] = '\0';
        int arity = is_sweep_option(name) ? 1 : strcmp(name, "help") == 0 ? 0 : train_option_arity(name);
        if (arity < 0) {
            cli_error("unknown option '%s' (see nncl sweep --help and nncl train --help)", a);
            return CLI_USAGE;
        }
        char *value = NULL;
        if (arity == 1 && eq) {
            value = (char *)eq + 1;
        } else if (arity == 1) {
            if (i + 1 >= argc) {
                cli_error("--%s needs a value", name);
                return CLI_USAGE;
            }
            value = argv[++i];
        } else if (eq) {
            cli_error("--%s takes no value", name);
            return CLI_USAGE;
        }
        int rc = fn(p, name, value, a);
        if (rc != CLI_OK)
            return rc;
    }
    return CLI_OK;
}

static int visit_sweep(sweep_plan *p, const char *name, char *value, const char *arg)
{
    (void)arg;
    if (strcmp(name, "help") == 0) {
        usage(stdout);
        return -1;
    }
    return is_sweep_option(name) ? sweep_option(p, name, value) : CLI_OK;
}

static int visit_train(sweep_plan *p, const char *name, char *value, const char *arg)
{
    (void)arg;
    if (is_sweep_option(name) || strcmp(name, "help") == 0)
        return CLI_OK;
    if (strcmp(name, "seed") == 0 && p->seeds) {
        cli_error("--seeds %d and --seed: give one of them", p->seeds);
        return CLI_USAGE;
    }
    if (strcmp(name, "quiet") == 0 || strcmp(name, "log-every") == 0 || strcmp(name, "profile") == 0)
        return CLI_OK;      /* a sweep prints one line per trial */
    if (fixed_has(p, name)) {
        cli_error("--%s is given twice", name);
        return CLI_USAGE;
    }
    if (!value) {
        if (p->n_fixed + 1 > SWEEP_MAX_FIXED) {
            cli_error("too many flags");
            return CLI_USAGE;
        }
        p->fixed[p->n_fixed++] = arg;
        return CLI_OK;
    }
    char sep = strcmp(name, "layers") == 0 ? '/' : ',';
    sweep_axis probe = {0};
    bool range = parse_range(value, &probe);
    if (range && !p->random) {
        cli_error("--%s %s: a range needs --random N (or list values: --%s 0.001,0.01)", name, value, name);
        return CLI_USAGE;
    }
    bool listed = strchr(value, sep) != NULL || range;
    if (listed) {
        char *copy = own(p, strdup(value));     /* the axis's values point into it */
        return copy ? add_axis(p, name, copy) : CLI_FAILED;
    }
    if (p->n_fixed + 2 > SWEEP_MAX_FIXED) {
        cli_error("too many flags");
        return CLI_USAGE;
    }
    char *flag = own(p, malloc(strlen(name) + 3));
    if (!flag)
        return CLI_FAILED;
    sprintf(flag, "--%s", name);
    p->fixed[p->n_fixed++] = flag;
    p->fixed[p->n_fixed++] = value;
    return CLI_OK;
}

/* ---- the trials ---------------------------------------------------------------------- */

/* A directory name from a trial's values: "003_lr0.01_act-tanh". */
static void trial_dir(const sweep_plan *p, size_t i, char *out, size_t len)
{
    int n = snprintf(out, len, "%03zu", i + 1);
    for (int a = 0; a < p->n_axes && n < (int)len - 2; a++) {
        n += snprintf(out + n, len - (size_t)n, "_%s-", p->axes[a].flag);
        for (const char *c = p->trials[i].values[a]; *c && n < (int)len - 1; c++)
            out[n++] = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                               *c == '.' || *c == '-'
                           ? *c
                       : *c == ',' ? 'x'
                                   : '-';
        out[n] = '\0';
    }
}

/* A sampled value of a range axis, as text the train flag parses. */
static char *sample(sweep_plan *p, const sweep_axis *a, nncl_rng *r)
{
    char buf[64];
    double u = (double)(nncl_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
    if (a->scale == SWEEP_LIST)
        return a->values[nncl_rng_below(r, (uint64_t)a->n)];
    if (a->scale == SWEEP_LOG)
        snprintf(buf, sizeof buf, "%.3g", exp(log(a->lo) + u * (log(a->hi) - log(a->lo))));
    else if (a->scale == SWEEP_INT)
        snprintf(buf, sizeof buf, "%lld", (long long)a->lo + (long long)floor(u * (a->hi - a->lo + 1)));
    else
        snprintf(buf, sizeof buf, "%.4g", a->lo + u * (a->hi - a->lo));
    return own(p, strdup(buf));
}

static int expand(sweep_plan *p)
{
    int varied = p->n_axes;                  /* the seed axis, if any, is after these */
    if (p->seeds) {
        sweep_axis *a = &p->axes[p->n_axes++];
        memset(a, 0, sizeof *a);
        snprintf(a->flag, sizeof a->flag, "seed");
        for (int s = 1; s <= p->seeds; s++) {
            char buf[16];
            snprintf(buf, sizeof buf, "%d", s);
            if (!(a->values[a->n++] = own(p, strdup(buf))))
                return CLI_FAILED;
        }
    }
    for (int a = 0; a < varied; a++) {
        const sweep_axis *ax = &p->axes[a];
        if (ax->scale != SWEEP_LIST && !p->random) {
            cli_error("--%s: a range (%g:%g) needs --random N", ax->flag, ax->lo, ax->hi);
            return CLI_USAGE;
        }
        if (ax->scale == SWEEP_LOG && !(ax->lo > 0 && ax->hi > ax->lo)) {
            cli_error("--%s: a log range needs 0 < LO < HI", ax->flag);
            return CLI_USAGE;
        }
        if (ax->scale != SWEEP_LIST && !(ax->hi > ax->lo)) {
            cli_error("--%s: a range needs LO < HI", ax->flag);
            return CLI_USAGE;
        }
    }
    size_t points = 1;
    if (p->random) {
        points = (size_t)p->random;
    } else {
        for (int a = 0; a < varied; a++)
            if ((points *= (size_t)p->axes[a].n) > SWEEP_MAX_TRIALS)
                break;
    }
    size_t per_point = p->seeds ? (size_t)p->seeds : 1;
    if (points * per_point > SWEEP_MAX_TRIALS) {
        cli_error("the sweep has more than %d trials", SWEEP_MAX_TRIALS);
        return CLI_USAGE;
    }
    p->n_trials = points * per_point;
    p->trials = calloc(p->n_trials, sizeof *p->trials);
    if (!p->trials)
        return CLI_FAILED;
    nncl_rng r;
    nncl_rng_seed(&r, p->sample_seed);
    for (size_t pt = 0; pt < points; pt++) {
        const char *values[SWEEP_MAX_AXES];
        size_t rest = pt;
        /* grid: the first axis varies slowest */
        for (int a = varied - 1; a >= 0; a--) {
            const sweep_axis *ax = &p->axes[a];
            if (p->random) {
                continue;
            }
            values[a] = ax->values[rest % (size_t)ax->n];
            rest /= (size_t)ax->n;
        }
        for (int a = 0; p->random && a < varied; a++)
            if (!(values[a] = sample(p, &p->axes[a], &r)))
                return CLI_FAILED;
        for (size_t s = 0; s < per_point; s++) {
            sweep_trial *t = &p->trials[pt * per_point + s];
            memcpy(t->values, values, (size_t)varied * sizeof values[0]);
            if (p->seeds)
                t->values[varied] = p->axes[varied].values[s];
        }
    }
    for (size_t i = 0; i < p->n_trials; i++)
        trial_dir(p, i, p->trials[i].dir, sizeof p->trials[i].dir);
    return CLI_OK;
}

int sweep_plan_parse(sweep_plan *p, const char *device, int argc, char **argv)
{
    memset(p, 0, sizeof *p);
    p->jobs = 1;
    p->sample_seed = 1;
    p->device = device;
    int rc = walk(p, argc, argv, visit_sweep);
    if (rc == CLI_OK)
        rc = walk(p, argc, argv, visit_train);
    if (rc == CLI_OK && p->n_axes == 0 && !p->seeds && !p->random) {
        cli_error("nothing varies: give a flag a list (--lr 0.001,0.01), or --seeds N");
        rc = CLI_USAGE;
    }
    if (rc == CLI_OK)
        rc = expand(p);
    return rc;
}

void sweep_plan_free(sweep_plan *p)
{
    for (size_t i = 0; i < p->n_owned; i++)
        free(p->owned[i]);
    free(p->owned);
    free(p->trials);
    memset(p, 0, sizeof *p);
}

json_t *sweep_plan_json(const sweep_plan *p)
{
    json_t *axes = json_array(), *fixed = json_array();
    for (int a = 0; a < p->n_axes; a++) {
        const sweep_axis *ax = &p->axes[a];
        char flag[40];
        snprintf(flag, sizeof flag, "--%s", ax->flag);
        json_t *o = json_pack("{s:s}", "flag", flag);
        if (ax->scale == SWEEP_LIST) {
            json_t *v = json_array();
            for (int i = 0; i < ax->n; i++)
                json_array_append_new(v, json_string(ax->values[i]));
            json_object_set_new(o, "values", v);
        } else {
            const char *kind = ax->scale == SWEEP_LOG ? "log" : ax->scale == SWEEP_INT ? "int" : "lin";
            json_object_set_new(o, "range", json_pack("[f, f, s]", ax->lo, ax->hi, kind));
        }
        json_array_append_new(axes, o);
    }
    for (int i = 0; i < p->n_fixed; i++)
        json_array_append_new(fixed, json_string(p->fixed[i]));
    return json_pack("{s:o, s:o, s:i, s:i, s:I}", "axes", axes, "fixed", fixed, "seeds", p->seeds, "random",
                     p->random, "sample_seed", (json_int_t)p->sample_seed);
}

int sweep_trial_argv(const sweep_plan *p, size_t i, const char *out_dir, char ***argv)
{
    size_t n = 1 + (size_t)p->n_fixed + 2 * (size_t)p->n_axes + 2;
    size_t dir_len = strlen(out_dir) + strlen(p->trials[i].dir) + 2;
    size_t flags_len = 0;
    for (int a = 0; a < p->n_axes; a++)
        flags_len += strlen(p->axes[a].flag) + 3;
    char **v = malloc((n + 1) * sizeof *v + dir_len + flags_len);
    if (!v)
        return -1;
    char *text = (char *)(v + n + 1);
    int k = 0;
    v[k++] = "train";
    for (int f = 0; f < p->n_fixed; f++)
        v[k++] = (char *)p->fixed[f];
    for (int a = 0; a < p->n_axes; a++) {
        v[k++] = text;
        text += sprintf(text, "--%s", p->axes[a].flag) + 1;
        v[k++] = (char *)p->trials[i].values[a];
    }
    v[k++] = "--out";
    v[k++] = text;
    sprintf(text, "%s/%s", out_dir, p->trials[i].dir);
    v[k] = NULL;
    *argv = v;
    return k;
}

void sweep_trial_label(const sweep_plan *p, size_t i, char *buf, size_t len)
{
    int n = 0;
    buf[0] = '\0';
    for (int a = 0; a < p->n_axes && n < (int)len; a++)
        n += snprintf(buf + n, len - (size_t)n, "%s--%s %s", a ? " " : "", p->axes[a].flag,
                      p->trials[i].values[a]);
}
