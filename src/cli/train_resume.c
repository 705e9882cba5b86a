/* `nncl train --resume RUN_DIR`: continue a stopped or crashed run from its
 * checkpoint.bin. Every option comes from the run's config.json, rebuilt
 * here and checked against it (so nothing is silently lost), the data must
 * hash as it did, and the run directory is reopened in place: metrics.csv
 * and snapshots.bin cut back to what the checkpoint counts, then continued.
 * On the same device the finished run is the one that never stopped. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/cli.h"
#include "report/report.h"
#include "report/run_liveness.h"
#include "cli/run_data.h"
#include "cli/train_dist.h"
#include "cli/train_run.h"
#include "nncl/model.h"
#include "util/json_same.h"

/* The flags --resume takes: the rest come from the run. */
typedef struct resume_args {
    const char *dir;
    int epochs;                 /* 0: the run's */
    const char *device;         /* NULL: the run's */
    bool quiet;
    int log_every;              /* 0: the run's */
} resume_args;

static bool parse_count(const char *flag, const char *v, int *out)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (end == v || *end || errno || v[0] == '-' || n < 1 || n > 1000000) {
        cli_error("%s: '%s' is not a whole number in [1, 1000000]", flag, v);
        return false;
    }
    *out = (int)n;
    return true;
}

static bool file_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* A finished run killed while writing report.html (its summary already
 * says ok, the last of its records) lacks the report and keeps the
 * temporary file: --resume, with nothing left to train, finishes them. */
static void finish_files(run_dir *run, const train_options *o)
{
    run_dir_remove_temporaries(run);
    char path[4200];
    run_dir_file(run, "report.html", path, sizeof path);
    if (o->no_report || file_exists(path))
        return;
    if (report_write_html(run->path, path) == NNCL_OK)
        printf("wrote %s, which the run had not finished writing\n", path);
    else
        fprintf(stderr, "nncl: warning: report.html was not written: %s (nncl report %s tries again)\n",
                nncl_last_error(), run->path);
}

/* Returns CLI_OK, CLI_USAGE, or -1 after --help. */
static int parse_args(int argc, char **argv, resume_args *a)
{
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strncmp(arg, "--", 2) != 0 || !arg[2]) {
            cli_error("unexpected argument '%s' (see nncl train --help)", arg);
            return CLI_USAGE;
        }
        char name[64];
        const char *eq = strchr(arg, '='), *value = NULL;
        snprintf(name, sizeof name, "%.*s", (int)(eq ? (size_t)(eq - arg - 2) : strlen(arg + 2)), arg + 2);
        bool takes = strcmp(name, "resume") == 0 || strcmp(name, "epochs") == 0 || strcmp(name, "device") == 0 ||
                     strcmp(name, "log-every") == 0;
        bool flag = strcmp(name, "quiet") == 0 || strcmp(name, "help") == 0 || strcmp(name, "distributed") == 0;
        if (!takes && !flag) {
            if (train_option_arity(name) >= 0)
                cli_error("--%s: with --resume, every option but --epochs, --device, --quiet and --log-every "
                          "comes from the run (its config.json)",
                          name);
            else
                cli_error("unknown option '--%s' (see nncl train --help)", name);
            return CLI_USAGE;
        }
        if (takes) {
            value = eq ? eq + 1 : i + 1 < argc ? argv[++i] : NULL;
            if (!value || !*value) {
                cli_error("--%s needs a value (see nncl train --help)", name);
                return CLI_USAGE;
            }
        } else if (eq) {
            cli_error("--%s takes no value", name);
            return CLI_USAGE;
        }
        if (strcmp(name, "help") == 0) {
            printf("usage: nncl train --resume RUN_DIR [--epochs N] [--device DEVICE] [--quiet] [--log-every N]\n"
                   "\n"
                   "Continues a stopped or crashed run from RUN_DIR/checkpoint.bin (from its start when it\n"
                   "has none yet), with every other option as the run had it (RUN_DIR/config.json). On the\n"
                   "same device the finished run is the one that never stopped: the same metrics.csv (times\n"
                   "aside), snapshots and model. --epochs N trains a run further (or for fewer epochs);\n"
                   "its learning-rate schedule then follows the new length. --device: the run's own by\n"
                   "default.\n");
            return -1;
        }
        if (strcmp(name, "resume") == 0)
            a->dir = value;
        else if (strcmp(name, "epochs") == 0 && !parse_count("--epochs", value, &a->epochs))
            return CLI_USAGE;
        else if (strcmp(name, "log-every") == 0 && !parse_count("--log-every", value, &a->log_every))
            return CLI_USAGE;
        else if (strcmp(name, "device") == 0)
            a->device = value;
        else if (strcmp(name, "quiet") == 0)
            a->quiet = true;
    }
    if (!a->dir) {
        cli_error("--resume needs a run directory");
        return CLI_USAGE;
    }
    return CLI_OK;
}

/* ---- the options, from config.json -------------------------------------------------- */

typedef struct reader {
    const char *path;
    nncl_status st;
} reader;

static const char *json_type_name(json_type type)
{
    switch (type) {
    case JSON_OBJECT: return "object";
    case JSON_ARRAY: return "array";
    case JSON_STRING: return "string";
    case JSON_INTEGER: return "integer";
    case JSON_TRUE: return "true or false";
    default: return "number";
    }
}

static json_t *need(reader *r, json_t *obj, const char *key, json_type type)
{
    json_t *v = json_object_get(obj, key);
    bool ok = v && (json_typeof(v) == type || (type == JSON_REAL && json_is_number(v)) ||
                    (type == JSON_TRUE && json_is_boolean(v)));
    if (!ok && r->st == NNCL_OK)
        r->st = nncl_fail(NNCL_E_FORMAT, "%s: no %s '%s' (not a run directory nncl made, or a damaged config.json)",
                          r->path, json_type_name(type), key);
    return ok ? v : NULL;
}

static const char *str(reader *r, json_t *obj, const char *key)
{
    json_t *v = need(r, obj, key, JSON_STRING);
    return v ? json_string_value(v) : "";
}

static double num(reader *r, json_t *obj, const char *key)
{
    json_t *v = need(r, obj, key, JSON_REAL);
    return v ? json_number_value(v) : 0;
}

static json_int_t integer(reader *r, json_t *obj, const char *key)
{
    json_t *v = need(r, obj, key, JSON_INTEGER);
    return v ? json_integer_value(v) : 0;
}

static bool boolean(reader *r, json_t *obj, const char *key)
{
    json_t *v = need(r, obj, key, JSON_TRUE);
    return v && json_is_true(v);
}

static int name_index(reader *r, const char *what, const char *name, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    if (r->st == NNCL_OK)
        r->st = nncl_fail(NNCL_E_FORMAT, "%s: unknown %s '%s'", r->path, what, name);
    return 0;
}

/* Every option the run was trained with, from its config.json (strings
 * point into config). */
static nncl_status options_from_config(json_t *config, const char *path, const cli_globals *g, train_options *o)
{
    char *argv[] = {"train", NULL};
    if (train_options_parse(o, g, 1, argv) != CLI_OK)
        return nncl_fail(NNCL_E_INVALID, "internal: default options");
    reader r = {path, NNCL_OK};
    json_t *data = need(&r, config, "data", JSON_OBJECT), *model = need(&r, config, "model", JSON_OBJECT),
           *opt = need(&r, config, "optimiser", JSON_OBJECT), *sched = need(&r, config, "schedule", JSON_OBJECT),
           *quirks = need(&r, config, "tutorial_quirks", JSON_OBJECT);
    if (r.st != NNCL_OK)
        return r.st;
    json_t *preset = json_object_get(config, "preset");
    o->preset = json_is_string(preset) ? json_string_value(preset) : NULL;
    /* data */
    o->data = str(&r, data, "name");
    json_t *label = json_object_get(data, "label");
    o->label = json_is_string(label) ? json_string_value(label) : NULL;
    o->task = strcmp(str(&r, data, "task"), "regress") == 0 ? NNCL_CSV_TASK_REGRESS : NNCL_CSV_TASK_CLASSIFY;
    const char *from = str(&r, data, "test_from");
    o->test_file = strncmp(from, "--test ", 7) == 0 ? from + 7 : NULL;
    o->val = num(&r, data, "val");
    o->test_split = num(&r, data, "test_split");
    o->limit = (size_t)integer(&r, data, "limit");
    /* model */
    json_t *layers = need(&r, model, "layers", JSON_ARRAY);
    size_t n = json_array_size(layers);
    if (layers && (n < 2 || n > NNCL_MAX_LAYERS + 1) && r.st == NNCL_OK)
        r.st = nncl_fail(NNCL_E_FORMAT, "%s: model.layers has %zu sizes", path, n);
    /* A layer list (conv, pooling, ...) is kept as its --layers text; the
     * dense form as the sizes alone (runs before layer lists). */
    json_t *specs = json_object_get(model, "layer_specs");
    if (json_is_string(specs) && r.st == NNCL_OK) {
        if (nncl_layers_parse(json_string_value(specs), o->hidden, NNCL_MAX_LAYERS - 1, &o->hidden_count) != NNCL_OK)
            r.st = nncl_fail(NNCL_E_FORMAT, "%s: model.layer_specs: %s", path, nncl_last_error());
    } else {
        o->hidden_count = n >= 2 ? (int)n - 2 : 0;
        for (int i = 0; i < o->hidden_count; i++)
            o->hidden[i] = (nncl_layer_spec){
                .kind = NNCL_LAYER_DENSE, .units = (size_t)json_integer_value(json_array_get(layers, (size_t)i + 1))};
    }
    const char *act = str(&r, model, "activation");
    if (r.st == NNCL_OK && nncl_act_parse(act, &o->act) != NNCL_OK)
        r.st = nncl_fail(NNCL_E_FORMAT, "%s: unknown activation '%s'", path, act);
    o->act_param = (float)num(&r, model, "leaky_slope");
    static const char *const inits[] = {"he", "xavier", "uniform"};
    o->init = (nncl_init_kind)name_index(&r, "initialisation", str(&r, model, "init"), inits, 3);
    o->init_param = (float)num(&r, model, "init_param");
    o->dropout = (float)num(&r, model, "dropout");
    /* optimisation */
    static const char *const optims[] = {"sgd", "momentum", "adam", "adamw"};
    o->optim.kind = (nncl_optim)name_index(&r, "optimiser", str(&r, opt, "kind"), optims, 4);
    o->schedule.lr = (float)num(&r, opt, "lr");
    o->optim.momentum = (float)num(&r, opt, "momentum");
    o->optim.nesterov = boolean(&r, opt, "nesterov");
    o->optim.beta1 = (float)num(&r, opt, "beta1");
    o->optim.beta2 = (float)num(&r, opt, "beta2");
    o->optim.eps = (float)num(&r, opt, "eps");
    o->optim.weight_decay = (float)num(&r, opt, "weight_decay");
    static const char *const scheds[] = {"constant", "step", "cosine"};
    o->schedule.kind = (nncl_schedule_kind)name_index(&r, "schedule", str(&r, sched, "kind"), scheds, 3);
    o->schedule.step_epochs = (int)integer(&r, sched, "step_epochs");
    o->schedule.gamma = (float)num(&r, sched, "gamma");
    o->schedule.warmup_epochs = (float)num(&r, sched, "warmup_epochs");
    o->batch = (size_t)integer(&r, config, "batch");
    o->epochs = (int)integer(&r, config, "epochs");
    o->early_stop = (int)integer(&r, config, "early_stop");
    o->seed = (uint64_t)integer(&r, config, "seed");
    o->snapshots = (int)integer(&r, config, "snapshots");
    o->faithful_rows = (size_t)integer(&r, quirks, "gradient_rows");
    o->faithful = boolean(&r, quirks, "scalar_bias");
    /* Recorded since checkpoints exist; older runs get the defaults. */
    json_t *v;
    if (json_is_integer(v = json_object_get(config, "checkpoint_every")))
        o->checkpoint_every = (int)json_integer_value(v);
    if (json_is_integer(v = json_object_get(config, "log_every")))
        o->log_every = (int)json_integer_value(v);
    if (json_is_boolean(v = json_object_get(config, "report")))
        o->no_report = !json_is_true(v);
    if (r.st == NNCL_OK && (o->epochs < 1 || o->batch < 1 || o->log_every < 1 || o->checkpoint_every < 0))
        r.st = nncl_fail(NNCL_E_FORMAT, "%s: epochs, batch, log_every or checkpoint_every out of range", path);
    return r.st;
}

/* What nncl makes of the rebuilt options must be what the run recorded:
 * every key that decides the training, compared whole. */
static nncl_status check_rebuilt(json_t *had, json_t *now, const char *path)
{
    static const char *const keys[] = {"preset", "data", "model", "optimiser", "schedule", "batch",
                                       "early_stop", "seed", "snapshots", "tutorial_quirks"};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        json_t *a = json_object_get(had, keys[k]), *b = json_object_get(now, keys[k]);
        /* Runs from before layer lists record the dense sizes alone. */
        if (json_is_object(a) && json_is_object(b) && !json_object_get(a, "layer_specs")) {
            json_object_del(b, "layer_specs");
            json_object_del(b, "input_shape");
        }
        if (nncl_json_same(a, b))   /* by value: an editor may write 0.0 back as 0 */
            continue;
        char *sa = json_dumps(a, JSON_COMPACT | JSON_ENCODE_ANY), *sb = json_dumps(b, JSON_COMPACT | JSON_ENCODE_ANY);
        nncl_status st = nncl_fail(NNCL_E_INVALID,
                                   "%s: its '%s' is not what this nncl rebuilds from it, so the run cannot be "
                                   "continued as it was:\n  recorded: %.600s\n  rebuilt:  %.600s",
                                   path, keys[k], sa ? sa : "?", sb ? sb : "?");
        free(sa);
        free(sb);
        return st;
    }
    return NNCL_OK;
}

/* ---- the device --------------------------------------------------------------------- */

/* The device named on the command line, or else the run's own (by name). */
static int open_device(json_t *config, const char *choice, nncl_device **dev)
{
    if (choice)
        return cli_open_device(choice, dev);
    json_t *d = json_object_get(config, "device");
    const char *name = json_string_value(json_object_get(d, "name"));
    const char *backend = json_string_value(json_object_get(d, "backend"));
    /* a run on the host resumes there without asking OpenCL */
    nncl_device_list list;
    nncl_status st = nncl_device_list_for(backend && strcmp(backend, "host") == 0 ? "host" : NULL, &list);
    if (st != NNCL_OK)
        return cli_fail(st);
    int found = -1;
    for (int i = 0; name && i < list.count && found < 0; i++)
        if (strcmp(list.items[i].name, name) == 0 &&
            (!backend || strcmp(nncl_backend_name(list.items[i].backend), backend) == 0))
            found = i;
    if (found < 0) {
        nncl_device_list_free(&list);
        cli_error("the run trained on '%s', which is not on this machine: choose a device with --device "
                  "(nncl --device list); the run then continues within float tolerance, not bit for bit",
                  name ? name : "?");
        return CLI_USAGE;
    }
    st = nncl_device_open(&list.items[found], dev);
    nncl_device_list_free(&list);
    return st == NNCL_OK ? CLI_OK : cli_fail(st);
}

/* ---- the command ---------------------------------------------------------------------- */

static json_t *resume_record(const nncl_checkpoint *c, int epochs, const nncl_device_info *dev, int argc,
                             char **argv)
{
    json_t *cmd = cli_command_json(argc, argv);
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return json_pack("{s:i, s:I, s:b, s:i, s:s, s:s, s:s, s:o}", "from_epoch", c ? c->state.epochs_done : 0,
                     "from_step", (json_int_t)(c ? c->state.step : 0), "inside_epoch", c && c->state.in_epoch,
                     "epochs", epochs, "device", dev->name, "nncl_version", nncl_version(), "time", when,
                     "command", cmd);
}

int train_resume_command(const cli_globals *g, int argc, char **argv)
{
    resume_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc != CLI_OK)
        return rc < 0 ? CLI_OK : rc;
    char path[4200], note[2048] = "";
    int nn = 0;

    /* The lock first: no other process may change the run from here on.
     * A distributed run's other ranks only read it (rank 0 holds the lock). */
    run_dir run;
    const bool lead = train_dist_leads();
    nncl_status st = lead ? run_dir_open(&run, a.dir) : run_dir_dry(&run, a.dir);
    if (st != NNCL_OK) {
        run_dir_close(&run);
        return cli_fail(st);
    }
    json_t *config = NULL, *summary = NULL;
    nncl_checkpoint ckpt, *c = NULL;
    memset(&ckpt, 0, sizeof ckpt);
    nncl_device *dev = NULL;
    splits s;
    memset(&s, 0, sizeof s);
    bool have_splits = false;
    train_options o;

    run_dir_file(&run, "config.json", path, sizeof path);
    json_error_t jerr;
    if (!(config = json_load_file(path, 0, &jerr))) {
        rc = cli_fail(file_exists(path) ? nncl_fail(NNCL_E_FORMAT, "%s: line %d: %s", path, jerr.line, jerr.text)
                                        : nncl_fail(NNCL_E_INVALID, "%s: not a run directory (no config.json)",
                                                    a.dir));
        goto done;
    }
    run_dir_file(&run, "summary.json", path, sizeof path);
    summary = json_load_file(path, 0, NULL);
    const char *status = json_string_value(json_object_get(summary, "status"));
    status = status ? status : "running";
    int done_epochs = (int)json_integer_value(json_object_get(summary, "epochs"));
    if (strcmp(status, "diverged") == 0) {
        cli_error("%s diverged at epoch %d: continuing it would diverge again the same way; start a new run "
                  "(a smaller --lr)", a.dir, done_epochs);
        rc = CLI_USAGE;
        goto done;
    }
    if (strcmp(status, "running") == 0 && !run_is_crashed(summary)) {
        /* We hold the lock, so no nncl process trains it here; a pid we
         * cannot check is on another host. */
        const char *host = json_string_value(json_object_get(summary, "host"));
        if (host)
            nn += snprintf(note + nn, sizeof note - (size_t)nn,
                           "nncl: note: summary.json says the run was training on %s (pid %lld); if it still is, "
                           "stop one of the two\n",
                           host, (long long)json_integer_value(json_object_get(summary, "pid")));
    }

    run_dir_file(&run, "config.json", path, sizeof path);
    if ((st = options_from_config(config, path, g, &o)) != NNCL_OK) {
        rc = cli_fail(st);
        goto done;
    }
    const int run_epochs = o.epochs;
    o.epochs = a.epochs ? a.epochs : run_epochs;
    o.quiet = a.quiet;
    cli_quiet_notices(o.quiet);
    if (a.log_every)
        o.log_every = a.log_every;
    o.out_dir = a.dir;
    o.device = a.device ? a.device : g->device;

    run_dir_file(&run, "checkpoint.bin", path, sizeof path);
    if (file_exists(path)) {
        if ((st = nncl_checkpoint_load(path, &ckpt)) != NNCL_OK) {
            cli_error("%s\n(remove %s to train the run again from its start)", nncl_last_error(), path);
            rc = cli_exit_code(st);
            goto done;
        }
        c = &ckpt;
    }
    int from = c ? c->state.epochs_done : 0;
    if (strcmp(status, "ok") == 0) {
        if (lead && ((o.early_stop > 0 && done_epochs < run_epochs) || o.epochs <= done_epochs))
            finish_files(&run, &o);
        if (o.early_stop > 0 && done_epochs < run_epochs) {
            printf("nothing to do: %s stopped early at epoch %d (--early-stop %d), and stays stopped\n", a.dir,
                   done_epochs, o.early_stop);
            rc = CLI_OK;
            goto done;
        }
        if (o.epochs <= done_epochs) {
            printf("nothing to do: %s finished its %d epochs (status ok); --resume %s --epochs N with N > %d "
                   "trains it further\n",
                   a.dir, done_epochs, a.dir, done_epochs);
            rc = CLI_OK;
            goto done;
        }
        if (!c || c->state.epochs_done != done_epochs) {
            cli_error("%s has no checkpoint of its last epoch (it ran with --checkpoint-every %d): it cannot be "
                      "trained further", a.dir, o.checkpoint_every);
            rc = CLI_USAGE;
            goto done;
        }
    }
    if (c && (o.epochs < from || (c->state.in_epoch && o.epochs <= from))) {
        cli_error("--epochs %d: the checkpoint is %s epoch %d; give at least %d", o.epochs,
                  c->state.in_epoch ? "inside" : "after", from + (c->state.in_epoch ? 1 : 0),
                  from + (c->state.in_epoch ? 1 : 0));
        rc = CLI_USAGE;
        goto done;
    }
    if (c && (c->state.seed != o.seed)) {
        cli_error("%s: the checkpoint is of seed %llu, config.json says %llu", a.dir,
                  (unsigned long long)c->state.seed, (unsigned long long)o.seed);
        rc = CLI_USAGE;
        goto done;
    }

    if ((rc = open_device(config, o.device, &dev)) != CLI_OK)
        goto done;
    const nncl_device_info *info = nncl_device_get_info(dev);
    /* The data from any directory, as eval finds it (relative to the run
     * directory first); its hash is checked below. */
    run_data_found found;
    if ((st = run_data_locate(config, a.dir, &found)) != NNCL_OK) {
        rc = cli_fail(st);
        goto done;
    }
    o.data = found.data;
    o.test_file = found.test[0] ? found.test : NULL;
    if (found.note[0] && !o.quiet)
        fprintf(stderr, "%s", found.note);
    if ((st = load_splits(&o, &s)) != NNCL_OK) {
        rc = cli_fail(st);
        goto done;
    }
    have_splits = true;
    /* The same data, or no resume. */
    json_t *data = json_object_get(config, "data");
    const char *sha = json_string_value(json_object_get(data, "sha256"));
    if (!sha || strcmp(sha, s.src.sha256) != 0) {
        cli_error("the data changed since the run: %s/config.json records %s with SHA-256 %s, it now hashes to "
                  "%s; a run continues only on the data it started on",
                  a.dir, s.src.name, sha ? sha : "(none)", s.src.sha256);
        rc = CLI_USAGE;
        goto done;
    }
    json_t *rebuilt = train_config_json(&o, info, &s, 0, NULL);
    if (!rebuilt) {
        rc = cli_fail(nncl_fail(NNCL_E_FORMAT, "%s/config.json: its network does not fit its data", a.dir));
        goto done;
    }
    /* Found elsewhere, the same bytes (checked above) keep the names the run
     * recorded for them. */
    json_t *rdata = json_object_get(rebuilt, "data");
    json_object_set(rdata, "name", json_object_get(data, "name"));
    json_object_set(rdata, "files", json_object_get(data, "files"));
    json_object_set(rdata, "test_from", json_object_get(data, "test_from"));
    run_dir_file(&run, "config.json", path, sizeof path);
    st = check_rebuilt(config, rebuilt, path);
    json_decref(rebuilt);
    if (st != NNCL_OK) {
        rc = cli_fail(st);
        goto done;
    }

    /* Notes: what makes this continuation differ from the run that never stopped. */
    const char *was = json_string_value(json_object_get(json_object_get(config, "device"), "name"));
    if (was && strcmp(was, info->name) != 0)
        nn += snprintf(note + nn, sizeof note - (size_t)nn,
                       "nncl: note: the run trained on %s; on %s it continues within float tolerance, not bit for "
                       "bit\n", was, info->name);
    const char *version = json_string_value(json_object_get(config, "nncl_version"));
    if (version && strcmp(version, nncl_version()) != 0)
        nn += snprintf(note + nn, sizeof note - (size_t)nn,
                       "nncl: note: the run was made by nncl %s, this is %s: it may not continue bit for bit\n",
                       version, nncl_version());
    if (o.epochs != run_epochs)
        nn += snprintf(note + nn, sizeof note - (size_t)nn,
                       "nncl: note: --epochs %d, the run had %d: from here on the learning-rate schedule (%s) and "
                       "the snapshots' spacing follow the new length, so the result is not that of an "
                       "uninterrupted run of either length\n",
                       o.epochs, run_epochs, schedule_name(o.schedule.kind));
    if (lead)
        fputs(note, stderr);
    char line[512];
    if (!c)
        snprintf(line, sizeof line, "resumed    from the start (no checkpoint yet; seed %llu starts it the same)\n",
                 (unsigned long long)o.seed);
    else if (c->state.in_epoch)
        snprintf(line, sizeof line, "resumed    from checkpoint.bin: inside epoch %d of %d, after step %llu\n",
                 from + 1, o.epochs, (unsigned long long)c->state.step);
    else
        snprintf(line, sizeof line, "resumed    from checkpoint.bin: after epoch %d of %d (step %llu)\n", from,
                 o.epochs, (unsigned long long)c->state.step);

    /* config.json records the resume, and the run's new length. */
    json_t *list = json_object_get(config, "resumed");
    if (!json_is_array(list)) {
        list = json_array();
        json_object_set_new(config, "resumed", list);
    }
    json_array_append_new(list, resume_record(c, o.epochs, info, argc, argv));
    json_object_set_new(config, "epochs", json_integer(o.epochs));
    train_resume r = {.run = &run, .config = config, .checkpoint = c, .note = line};
    rc = train_run_resume(dev, &o, &s, &r);

done:
    if (have_splits)
        splits_free(&s);
    nncl_device_close(dev);
    nncl_checkpoint_free(&ckpt);
    json_decref(config);
    json_decref(summary);
    run_dir_close(&run);
    return rc;
}
