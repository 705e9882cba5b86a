/* Comparing runs: expanding sweeps and run folders, reading each run's
 * config.json, summary.json and metrics.csv (the model only when the page
 * is written, one run at a time, and never the snapshots, so fifty runs
 * load in moments), the hyper-parameters that differ, and groups of runs
 * that differ only by --seed. Read only: nothing in a run directory is
 * written. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "report/compare.h"
#include "report/run_liveness.h"
#include "report/report_json.h"

/* ---- the metrics ----------------------------------------------------------------- */

static const compare_metric_info metric_info[CM_COUNT] = {
    [CM_VAL_ACC] = {"val_accuracy", "best val acc (%)", CU_FRACTION, true, 1},
    [CM_FINAL_VAL_ACC] = {"final_val_accuracy", "final val acc (%)", CU_FRACTION, true, 1},
    [CM_TEST_ACC] = {"test_accuracy", "test acc (%)", CU_FRACTION, true, 1},
    [CM_VAL_MAE] = {"val_mae", "best val MAE", CU_NUMBER, false, 2},
    [CM_FINAL_VAL_MAE] = {"final_val_mae", "final val MAE", CU_NUMBER, false, 2},
    [CM_TEST_RMSE] = {"test_rmse", "test RMSE", CU_NUMBER, false, 2},
    [CM_TEST_MAE] = {"test_mae", "test MAE", CU_NUMBER, false, 2},
    [CM_TEST_R2] = {"test_r2", "test R\xc2\xb2", CU_NUMBER, true, 2},
    [CM_EPOCHS] = {"epochs", "epochs", CU_COUNT, false, 3},
    [CM_SECONDS] = {"time", "time (s)", CU_SECONDS, false, 3},
    [CM_SAMPLES_PER_SECOND] = {"samples_per_second", "samples/s", CU_RATE, true, 3},
};

const compare_metric_info *compare_metric_get(compare_metric m)
{
    return (unsigned)m < CM_COUNT ? &metric_info[m] : NULL;
}

/* ---- the hyper-parameters -------------------------------------------------------- */

typedef char *(*param_fn)(json_t *config);

typedef struct param_def {
    const char *flag;
    const char *path;       /* "optimiser.lr": a generic value */
    param_fn special;       /* or a value made from several fields */
    const char *if_path;    /* applies only when this field ... */
    const char *if_values;  /* ... is one of these ("adam|adamw") */
} param_def;

static json_t *get_path(json_t *j, const char *path)
{
    char key[64];
    while (j && *path) {
        const char *dot = strchr(path, '.');
        size_t len = dot ? (size_t)(dot - path) : strlen(path);
        if (len >= sizeof key)
            return NULL;
        memcpy(key, path, len);
        key[len] = '\0';
        j = json_object_get(j, key);
        path += len + (dot != NULL);
    }
    return j;
}

static char *dup_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *dup_printf(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return strdup(buf);
}

/* A JSON value as a flag value: floats (stored from single precision) with 6
 * significant digits, so 0.0020000000949949026 is "0.002". NULL when absent. */
static char *value_text(json_t *v)
{
    if (!v)
        return NULL;
    if (json_is_integer(v))
        return dup_printf("%lld", (long long)json_integer_value(v));
    if (json_is_real(v))
        return dup_printf("%.6g", json_real_value(v));
    if (json_is_string(v))
        return strdup(json_string_value(v));
    if (json_is_boolean(v))
        return strdup(json_is_true(v) ? "on" : "off");
    if (json_is_null(v))
        return strdup("none");
    return NULL;
}

static char *v_layers(json_t *c)
{
    /* A layer list's model.layers are its layers' flattened outputs, not
     * what --layers said: it has the text itself. */
    const char *specs = json_string_value(get_path(c, "model.layer_specs"));
    if (specs && json_is_array(get_path(c, "model.input_shape")))
        return strdup(specs);
    json_t *l = get_path(c, "model.layers");
    size_t n = json_array_size(l);
    if (!json_is_array(l) || n < 2)
        return NULL;
    if (n == 2)
        return strdup("none");
    char buf[512] = "";
    size_t at = 0;
    for (size_t i = 1; i + 1 < n && at < sizeof buf; i++)
        at += (size_t)snprintf(buf + at, sizeof buf - at, "%s%lld", i > 1 ? "," : "",
                               (long long)json_integer_value(json_array_get(l, i)));
    return strdup(buf);
}

static char *v_init(json_t *c)
{
    const char *kind = json_string_value(get_path(c, "model.init"));
    if (!kind)
        return NULL;
    if (strcmp(kind, "uniform") == 0)
        return dup_printf("uniform:%.6g", json_number_value(get_path(c, "model.init_param")));
    return strdup(kind);
}

static char *v_schedule(json_t *c)
{
    const char *kind = json_string_value(get_path(c, "schedule.kind"));
    if (!kind)
        return NULL;
    if (strcmp(kind, "step") == 0)
        return dup_printf("step:%lld:%.6g", (long long)json_integer_value(get_path(c, "schedule.step_epochs")),
                          json_number_value(get_path(c, "schedule.gamma")));
    return strdup(kind);
}

static char *v_limit(json_t *c)
{
    json_t *v = get_path(c, "data.limit");
    return json_is_integer(v) && json_integer_value(v) == 0 ? strdup("all") : value_text(v);
}

static char *v_label(json_t *c)
{
    json_t *v = get_path(c, "data.label");
    return json_is_null(v) ? strdup("last") : value_text(v);
}

/* Table order: the model, the optimiser, the schedule, then the data and the
 * device; --seed last, as groups fold over it. */
static const param_def params[COMPARE_N_PARAMS] = {
    {"--layers", NULL, v_layers, NULL, NULL},
    {"--act", "model.activation", NULL, NULL, NULL},
    {"--leaky-slope", "model.leaky_slope", NULL, "model.activation", "leaky_relu"},
    {"--init", NULL, v_init, NULL, NULL},
    {"--dropout", "model.dropout", NULL, NULL, NULL},
    {"--opt", "optimiser.kind", NULL, NULL, NULL},
    {"--lr", "optimiser.lr", NULL, NULL, NULL},
    {"--momentum", "optimiser.momentum", NULL, "optimiser.kind", "momentum"},
    {"--nesterov", "optimiser.nesterov", NULL, "optimiser.kind", "momentum"},
    {"--beta1", "optimiser.beta1", NULL, "optimiser.kind", "adam|adamw"},
    {"--beta2", "optimiser.beta2", NULL, "optimiser.kind", "adam|adamw"},
    {"--eps", "optimiser.eps", NULL, "optimiser.kind", "adam|adamw"},
    {"--weight-decay", "optimiser.weight_decay", NULL, NULL, NULL},
    {"--schedule", NULL, v_schedule, NULL, NULL},
    {"--warmup", "schedule.warmup_epochs", NULL, NULL, NULL},
    {"--batch", "batch", NULL, NULL, NULL},
    {"--epochs", "epochs", NULL, NULL, NULL},
    {"--early-stop", "early_stop", NULL, NULL, NULL},
    {"--preset", "preset", NULL, NULL, NULL},
    {"--data", "data.name", NULL, NULL, NULL},
    {"--task", "data.task", NULL, NULL, NULL},
    {"--label", NULL, v_label, NULL, NULL},
    {"--limit", NULL, v_limit, NULL, NULL},
    {"--val", "data.val", NULL, NULL, NULL},
    {"--test-split", "data.test_split", NULL, NULL, NULL},
    {"--device", "device.name", NULL, NULL, NULL},
    {"--seed", "seed", NULL, NULL, NULL},
};
enum { PARAM_DATA = 19 };

const char *compare_param_flag(int p)
{
    return p >= 0 && p < COMPARE_N_PARAMS ? params[p].flag : NULL;
}

static bool one_of(const char *s, const char *list)
{
    size_t n = strlen(s);
    for (const char *p = list; p && *p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && strncmp(p, s, n) == 0)
            return true;
        p = bar ? bar + 1 : NULL;
    }
    return false;
}

static char *param_value(const param_def *d, json_t *config)
{
    if (d->if_path) {
        const char *v = json_string_value(get_path(config, d->if_path));
        if (!v || !one_of(v, d->if_values))
            return NULL;
    }
    return d->special ? d->special(config) : value_text(get_path(config, d->path));
}

/* A sweep trial that left no run: its values from sweep.json ("--lr" or "lr"). */
static char *sweep_value(const param_def *d, json_t *values)
{
    json_t *v = json_object_get(values, d->flag);
    if (!v)
        v = json_object_get(values, d->flag + 2);
    return value_text(v);
}

/* ---- reading a run (config, summary, metrics) -------------------------------------- */

static bool exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

static bool is_dir(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* out = a/b (or a alone when b is NULL); false when it does not fit. */
static bool join(char *out, size_t len, const char *a, const char *b)
{
    size_t la = strlen(a), lb = b ? strlen(b) + 1 : 0;
    if (la + lb >= len)
        return false;
    memcpy(out, a, la);
    if (b) {
        out[la] = '/';
        memcpy(out + la + 1, b, lb - 1);
    }
    out[la + lb] = '\0';
    return true;
}

/* What a trial may lack: a run directory (strict) must have every file and
 * at least one epoch; a sweep trial that failed may have less. */
typedef enum { NEED_ALL, NEED_WHAT_IS_THERE } need;

static nncl_status read_run(const char *dir, need need, run_record *r)
{
    char path[4200];
    nncl_status st;
    memset(r, 0, sizeof *r);
    snprintf(r->dir, sizeof r->dir, "%s", dir);
    snprintf(path, sizeof path, "%s/config.json", dir);
    if ((st = run_json_object_read(path, &r->config)) != NNCL_OK)
        return st;
    snprintf(path, sizeof path, "%s/summary.json", dir);
    if (exists(path) || need == NEED_ALL) {
        if (!exists(path))
            return nncl_fail(NNCL_E_IO, "%s: missing (%s is not a complete nncl run directory)", path, dir);
        if ((st = run_json_object_read(path, &r->summary)) != NNCL_OK)
            return st;
    }
    snprintf(path, sizeof path, "%s/metrics.csv", dir);
    if (exists(path) && (st = run_metrics_read(path, &r->epochs, &r->n_epochs)) != NNCL_OK)
        return st;
    if (need == NEED_ALL && r->n_epochs == 0)
        return nncl_fail(NNCL_E_FORMAT, "%s: the run has no metrics to compare: %s", dir,
                         exists(path) ? "metrics.csv has no epoch rows" : "metrics.csv is missing");
    return NNCL_OK;
}

/* ---- the set of runs ------------------------------------------------------------- */

static int status_rank(const char *s)
{
    static const char *order[] = {"ok", "started", "running", "interrupted", "crashed", "diverged", "failed"};
    for (int i = 0; i < 7; i++)
        if (strcmp(s, order[i]) == 0)
            return i;
    return 6;
}

static nncl_status add_run(compare_set *s, int *cap, compare_run **out)
{
    if (s->n_runs == *cap) {
        int n = *cap ? 2 * *cap : 16;
        compare_run *more = realloc(s->runs, (size_t)n * sizeof *more);
        if (!more)
            return nncl_fail(NNCL_E_NOMEM, "out of memory for %d runs", n);
        s->runs = more;
        *cap = n;
    }
    *out = &s->runs[s->n_runs++];
    memset(*out, 0, sizeof **out);
    for (int m = 0; m < CM_COUNT; m++)
        (*out)->m[m] = NAN;
    (*out)->group = -1;
    return NNCL_OK;
}

static const char *last_component(const char *path, char *buf, size_t len)
{
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        n--;
    size_t start = n;
    while (start > 0 && path[start - 1] != '/')
        start--;
    snprintf(buf, len, "%.*s", (int)(n - start), path + start);
    return buf;
}

static double num(json_t *j, const char *key)
{
    json_t *v = json_object_get(j, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

/* The last epoch's validation metric (accuracy, or MAE for regression). */
static double final_val(const run_record *r)
{
    for (size_t i = r->n_epochs; i > 0; i--)
        if (!isnan(r->epochs[i - 1].val_accuracy))
            return r->epochs[i - 1].val_accuracy;
    return NAN;
}

static int run_task(const compare_run *run)
{
    const char *t = json_string_value(get_path(run->rec.config, "data.task"));
    return !t ? 0 : strcmp(t, "regress") == 0 ? 2 : 1;
}

static void fill_metrics(compare_run *run)
{
    json_t *sm = run->rec.summary;
    bool regress = run_task(run) == 2;
    /* the best any epoch reached (run_metrics_best_val); summary.json's
     * where metrics.csv has no validation */
    double best = run_metrics_best_val(run->rec.epochs, run->rec.n_epochs, !regress, NULL);
    run->m[regress ? CM_VAL_MAE : CM_VAL_ACC] =
        isnan(best) ? num(sm, regress ? "best_val_mae" : "best_val_accuracy") : best;
    run->m[regress ? CM_FINAL_VAL_MAE : CM_FINAL_VAL_ACC] = final_val(&run->rec);
    if (regress) {
        run->m[CM_TEST_RMSE] = num(sm, "test_rmse");
        run->m[CM_TEST_MAE] = num(sm, "test_mae");
        run->m[CM_TEST_R2] = num(sm, "test_r2");
    } else {
        run->m[CM_TEST_ACC] = num(sm, "test_accuracy");
    }
    run->m[CM_EPOCHS] = sm ? num(sm, "epochs") : run->rec.n_epochs ? (double)run->rec.n_epochs : NAN;
    run->m[CM_SECONDS] = num(sm, "seconds");
    run->m[CM_SAMPLES_PER_SECOND] = num(sm, "samples_per_second");
}

/* The run's status: summary.json's, or the sweep's word when that is worse
 * (a trial whose process died leaves "running" behind). */
static void set_status(compare_run *run, const char *sweep_status)
{
    const char *own = json_string_value(json_object_get(run->rec.summary, "status"));
    const char *s = own ? own : sweep_status ? sweep_status : "failed";
    if (own && sweep_status && status_rank(sweep_status) > status_rank(own))
        s = sweep_status;
    /* "running" whose process is gone: crashed (nncl train --resume continues it). */
    if (strcmp(s, "running") == 0 && run_is_crashed(run->rec.summary))
        s = "crashed";
    snprintf(run->status, sizeof run->status, "%s", s);
}

/* Each parameter's value: from config.json, or from sweep.json's "values"
 * for a trial that left no run. */
static void fill_values(compare_run *run, json_t *sweep_values)
{
    for (int p = 0; p < COMPARE_N_PARAMS; p++)
        run->values[p] = run->rec.config ? param_value(&params[p], run->rec.config)
                                         : sweep_value(&params[p], sweep_values);
}

/* One run directory given on the command line or found in a run folder. */
static nncl_status load_run_dir(compare_set *s, int *cap, const char *dir)
{
    compare_run *run;
    char name[256];
    nncl_status st = add_run(s, cap, &run);
    if (st != NNCL_OK)
        return st;
    run->dir = strdup(dir);
    run->name = strdup(last_component(dir, name, sizeof name));
    if (!run->dir || !run->name)
        return nncl_fail(NNCL_E_NOMEM, "out of memory");
    if ((st = read_run(dir, NEED_ALL, &run->rec)) != NNCL_OK)
        return st;
    set_status(run, NULL);
    fill_metrics(run);
    fill_values(run, NULL);
    return NNCL_OK;
}

/* ---- sweeps and run folders ------------------------------------------------------ */

/* sweep.json: {"trials": [{"dir": "...", "status": "...", "values": {...}}, ...]}. */
static nncl_status check_sweep(const char *path, json_t *j, json_error_t *err)
{
    if (!j)
        return nncl_fail(NNCL_E_FORMAT, "%s: half-written or not a sweep file: line %d, column %d: %s", path,
                         err->line, err->column, err->text);
    json_t *trials = json_object_get(j, "trials");
    if (!json_is_object(j) || !json_is_array(trials))
        return nncl_fail(NNCL_E_FORMAT, "%s: half-written or not a sweep file: expected an object with a "
                         "\"trials\" array", path);
    size_t i;
    json_t *t;
    json_array_foreach(trials, i, t) {
        json_t *dir = json_object_get(t, "dir"), *status = json_object_get(t, "status");
        json_t *values = json_object_get(t, "values");
        if (!json_is_object(t) || !json_is_string(dir) || json_string_length(dir) == 0)
            return nncl_fail(NNCL_E_FORMAT, "%s: half-written or not a sweep file: trials[%zu] is not an object "
                             "with a string \"dir\"", path, i);
        if (status && !json_is_string(status))
            return nncl_fail(NNCL_E_FORMAT, "%s: half-written or not a sweep file: trials[%zu].status is not a "
                             "string", path, i);
        if (values && !json_is_object(values))
            return nncl_fail(NNCL_E_FORMAT, "%s: half-written or not a sweep file: trials[%zu].values is not an "
                             "object", path, i);
    }
    return NNCL_OK;
}

static nncl_status load_sweep_file(const char *path, json_t **out)
{
    json_t *j;
    json_error_t err;
    *out = NULL;
    nncl_status st = run_json_read(path, &j, &err);
    if (st != NNCL_OK)
        return st;
    st = check_sweep(path, j, &err);
    if (st != NNCL_OK)
        json_decref(j);
    else
        *out = j;
    return st;
}

/* One trial of a sweep: pending ones (and running or started ones with no
 * epoch yet) are skipped; a failed, diverged or interrupted one is shown with its status
 * even when it left no run behind; an "ok" one must be a complete run. */
static nncl_status load_trial(compare_set *s, int *cap, const char *sweep_dir, const char *sweep_path, json_t *t)
{
    const char *rel = json_string_value(json_object_get(t, "dir"));
    const char *status = json_string_value(json_object_get(t, "status"));
    json_t *values = json_object_get(t, "values");
    if (status && strcmp(status, "pending") == 0)
        return NNCL_OK;
    char dir[4000], file[4200];
    if (!join(dir, sizeof dir, rel[0] == '/' ? rel : sweep_dir, rel[0] == '/' ? NULL : rel))
        return nncl_fail(NNCL_E_FORMAT, "%s: trial %s: the path is too long", sweep_path, rel);
    snprintf(file, sizeof file, "%s/config.json", dir);
    bool strict = !status || strcmp(status, "ok") == 0;
    bool has_run = exists(file);
    if (!has_run && strict)
        return nncl_fail(NNCL_E_FORMAT, "%s: trial %s: %s: %s", sweep_path, rel, dir,
                         is_dir(dir) ? "not a run directory (no config.json)" : "no such directory");
    snprintf(file, sizeof file, "%s/metrics.csv", dir);
    if (status && (strcmp(status, "running") == 0 || strcmp(status, "started") == 0) && !exists(file))
        return NNCL_OK;
    compare_run *run;
    char name[256];
    nncl_status st = add_run(s, cap, &run);
    if (st != NNCL_OK)
        return st;
    run->dir = strdup(dir);
    run->name = strdup(last_component(dir, name, sizeof name));
    if (!run->dir || !run->name)
        return nncl_fail(NNCL_E_NOMEM, "out of memory");
    if (has_run && (st = read_run(dir, strict ? NEED_ALL : NEED_WHAT_IS_THERE, &run->rec)) != NNCL_OK)
        return st;
    set_status(run, status);
    fill_metrics(run);
    fill_values(run, values);
    return NNCL_OK;
}

static nncl_status load_sweep(compare_set *s, int *cap, const char *dir, const char *path)
{
    json_t *j;
    nncl_status st = load_sweep_file(path, &j);
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(j, "trials"), i, t) {
        if (st == NNCL_OK)
            st = load_trial(s, cap, dir, path, t);
    }
    json_decref(j);
    return st;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A folder of runs (runs/): every visible subfolder must be a run. */
static nncl_status load_folder(compare_set *s, int *cap, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return nncl_fail(NNCL_E_IO, "%s: cannot open: %s", dir, strerror(errno));
    char **names = NULL;
    size_t n = 0, ncap = 0;
    nncl_status st = NNCL_OK;
    char sub[4000], file[4200];
    for (struct dirent *e; st == NNCL_OK && (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.' || !join(sub, sizeof sub, dir, e->d_name) || !is_dir(sub))
            continue;
        snprintf(file, sizeof file, "%s/config.json", sub);
        if (!exists(file)) {
            st = nncl_fail(NNCL_E_FORMAT, "%s: not a run or a sweep: it has no config.json (a run) or sweep.json "
                           "(a sweep), and its subfolder %s is not a run", dir, e->d_name);
            break;
        }
        if (n == ncap) {
            ncap = ncap ? 2 * ncap : 16;
            char **more = realloc(names, ncap * sizeof *more);
            if (!more) {
                st = nncl_fail(NNCL_E_NOMEM, "out of memory");
                break;
            }
            names = more;
        }
        if (!(names[n] = strdup(e->d_name)))
            st = nncl_fail(NNCL_E_NOMEM, "out of memory");
        else
            n++;
    }
    closedir(d);
    if (st == NNCL_OK && n == 0)
        st = nncl_fail(NNCL_E_FORMAT, "%s: not a run or a sweep: it has no config.json (a run), no sweep.json (a "
                       "sweep) and no run folders", dir);
    if (names)
        qsort(names, n, sizeof *names, by_name);
    for (size_t i = 0; i < n; i++) {
        join(sub, sizeof sub, dir, names[i]); /* fitted when it was listed */
        if (st == NNCL_OK)
            st = load_run_dir(s, cap, sub);
        free(names[i]);
    }
    free(names);
    return st;
}

static nncl_status load_path(compare_set *s, int *cap, const char *arg)
{
    char path[4096], file[4200];
    size_t len = strlen(arg);
    while (len > 1 && arg[len - 1] == '/')
        len--;
    if (len >= sizeof path)
        return nncl_fail(NNCL_E_INVALID, "%s: the path is too long", arg);
    memcpy(path, arg, len);
    path[len] = '\0';
    if (!is_dir(path))
        return nncl_fail(NNCL_E_IO, "%s: %s", path,
                         exists(path) ? "not a directory (expected a run or a sweep folder)" : "no such directory");
    snprintf(file, sizeof file, "%s/config.json", path);
    if (exists(file))
        return load_run_dir(s, cap, path);
    snprintf(file, sizeof file, "%s/sweep.json", path);
    if (exists(file))
        return load_sweep(s, cap, path, file);
    return load_folder(s, cap, path);
}

/* The same run named twice (directly and through its sweep) is shown once. */
static void drop_duplicates(compare_set *s)
{
    char **real = calloc((size_t)s->n_runs, sizeof *real);
    if (!real)
        return;
    int kept = 0;
    for (int i = 0; i < s->n_runs; i++) {
        real[i] = realpath(s->runs[i].dir, NULL);
        bool dup = false;
        for (int j = 0; real[i] && j < i && !dup; j++)
            dup = real[j] && strcmp(real[i], real[j]) == 0;
        if (dup) {
            compare_run *r = &s->runs[i];
            free(r->dir);
            free(r->name);
            run_record_free(&r->rec);
            for (int p = 0; p < COMPARE_N_PARAMS; p++)
                free(r->values[p]);
        } else {
            s->runs[kept++] = s->runs[i];
        }
    }
    for (int i = 0; i < s->n_runs; i++)
        free(real[i]);
    free(real);
    s->n_runs = kept;
}

/* ---- same data, same task -------------------------------------------------------- */

static const char *data_of(const compare_run *r, const char *key)
{
    const char *v = json_string_value(get_path(r->rec.config, key));
    return v ? v : "?";
}

static nncl_status check_same(compare_set *s, bool force)
{
    const compare_run *first = NULL;
    s->task = 0;
    for (int i = 0; i < s->n_runs; i++) {
        const compare_run *r = &s->runs[i];
        if (!r->rec.config)
            continue;
        s->task |= run_task(r);
        if (!first) {
            first = r;
            continue;
        }
        if (run_task(r) != run_task(first) && !force)
            return nncl_fail(NNCL_E_INVALID, "runs of different tasks: %s (%s) and %s (%s); compare them anyway "
                             "with --force", first->dir, data_of(first, "data.task"), r->dir,
                             data_of(r, "data.task"));
        bool same = strcmp(data_of(r, "data.sha256"), data_of(first, "data.sha256")) == 0 &&
                    strcmp(data_of(r, "data.name"), data_of(first, "data.name")) == 0;
        if (!same && !force)
            return nncl_fail(NNCL_E_INVALID, "runs on different data: %s (%s, sha256 %.12s) and %s (%s, sha256 "
                             "%.12s); compare them anyway with --force", first->dir, data_of(first, "data.name"),
                             data_of(first, "data.sha256"), r->dir, data_of(r, "data.name"),
                             data_of(r, "data.sha256"));
        s->mixed_data |= !same;
    }
    if (!s->task)
        s->task = 1;
    return NNCL_OK;
}

/* Two datasets of one name but different files: --data shows their hashes. */
static void tell_data_apart(compare_set *s)
{
    bool clash = false;
    for (int i = 0; i < s->n_runs && !clash; i++)
        for (int j = 0; j < i && !clash; j++)
            clash = s->runs[i].values[PARAM_DATA] && s->runs[j].values[PARAM_DATA] &&
                    strcmp(s->runs[i].values[PARAM_DATA], s->runs[j].values[PARAM_DATA]) == 0 &&
                    strcmp(data_of(&s->runs[i], "data.sha256"), data_of(&s->runs[j], "data.sha256")) != 0;
    for (int i = 0; clash && i < s->n_runs; i++) {
        compare_run *r = &s->runs[i];
        if (!r->values[PARAM_DATA])
            continue;
        char *v = dup_printf("%s@%.8s", r->values[PARAM_DATA], data_of(r, "data.sha256"));
        if (v) {
            free(r->values[PARAM_DATA]);
            r->values[PARAM_DATA] = v;
        }
    }
}

/* ---- differing parameters and groups --------------------------------------------- */

static bool same_value(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* A parameter differs when the runs it applies to hold two values or more. */
static void find_differing(compare_set *s)
{
    s->n_params = 0;
    for (int p = 0; p < COMPARE_N_PARAMS; p++) {
        const char *seen = NULL;
        bool differs = false;
        for (int i = 0; i < s->n_runs && !differs; i++) {
            const char *v = s->runs[i].values[p];
            if (v && seen && strcmp(v, seen) != 0)
                differs = true;
            if (v)
                seen = v;
        }
        if (differs)
            s->params[s->n_params++] = p;
    }
}

static bool same_point(const compare_set *s, const compare_run *a, const compare_run *b)
{
    for (int k = 0; k < s->n_params; k++) {
        int p = s->params[k];
        if (p != COMPARE_PARAM_SEED && !same_value(a->values[p], b->values[p]))
            return false;
    }
    return true;
}

static void group_stats(compare_set *s, compare_group *g)
{
    for (int m = 0; m < CM_COUNT; m++) {
        double sum = 0, sq = 0;
        int n = 0;
        for (int k = 0; k < g->n; k++) {
            double v = s->runs[g->members[k]].m[m];
            if (isfinite(v)) {
                sum += v;
                n++;
            }
        }
        double mean = n ? sum / n : NAN;
        for (int k = 0; k < g->n; k++) {
            double v = s->runs[g->members[k]].m[m];
            if (isfinite(v))
                sq += (v - mean) * (v - mean);
        }
        g->mean[m] = mean;
        g->std[m] = n > 1 ? sqrt(sq / (n - 1)) : n ? 0 : NAN;
        g->count[m] = n;
    }
}

static nncl_status group_finish(compare_set *s, compare_group *g)
{
    group_stats(s, g);
    snprintf(g->status, sizeof g->status, "%s", s->runs[g->members[0]].status);
    size_t len = 1;
    for (int k = 0; k < g->n; k++) {
        const compare_run *r = &s->runs[g->members[k]];
        if (status_rank(r->status) > status_rank(g->status))
            snprintf(g->status, sizeof g->status, "%s", r->status);
        len += (r->values[COMPARE_PARAM_SEED] ? strlen(r->values[COMPARE_PARAM_SEED]) : 1) + 1;
    }
    if (!(g->seeds = calloc(len, 1)))
        return nncl_fail(NNCL_E_NOMEM, "out of memory");
    for (int k = 0; k < g->n; k++) {
        const char *seed = s->runs[g->members[k]].values[COMPARE_PARAM_SEED];
        strcat(strcat(g->seeds, k ? "," : ""), seed ? seed : "?");
    }
    return NNCL_OK;
}

static nncl_status make_groups(compare_set *s)
{
    s->groups = calloc((size_t)s->n_runs, sizeof *s->groups);
    if (!s->groups)
        return nncl_fail(NNCL_E_NOMEM, "out of memory");
    for (int i = 0; i < s->n_runs; i++) {
        int g = 0;
        while (g < s->n_groups && !same_point(s, &s->runs[s->groups[g].members[0]], &s->runs[i]))
            g++;
        compare_group *grp = &s->groups[g];
        if (g == s->n_groups) {
            s->n_groups++;
            if (!(grp->members = calloc((size_t)s->n_runs, sizeof *grp->members)))
                return nncl_fail(NNCL_E_NOMEM, "out of memory");
        }
        grp->members[grp->n++] = i;
        s->runs[i].group = g;
    }
    nncl_status st = NNCL_OK;
    for (int g = 0; g < s->n_groups && st == NNCL_OK; g++)
        st = group_finish(s, &s->groups[g]);
    return st;
}

/* The task's validation metric: what "best" means. */
static compare_metric primary(const compare_set *s)
{
    return s->task == 2 ? CM_VAL_MAE : CM_VAL_ACC;
}

/* -1 when group a is better than b by metric m, 1 when worse; missing last. */
static int better(const compare_group *a, const compare_group *b, compare_metric m)
{
    double x = a->mean[m], y = b->mean[m];
    if (isnan(x) || isnan(y))
        return isnan(x) - isnan(y);
    if (x == y)
        return 0;
    return (metric_info[m].higher_better ? x > y : x < y) ? -1 : 1;
}

/* The best group by the validation metric, among those whose runs all
 * finished well when there are any. */
static void find_best(compare_set *s)
{
    compare_metric m = primary(s);
    s->best = -1;
    for (int pass = 0; pass < 2 && s->best < 0; pass++)
        for (int g = 0; g < s->n_groups; g++) {
            const compare_group *grp = &s->groups[g];
            if (isnan(grp->mean[m]) || (pass == 0 && strcmp(grp->status, "ok") != 0))
                continue;
            if (s->best < 0 || better(grp, &s->groups[s->best], m) < 0)
                s->best = g;
        }
}

nncl_status compare_load(char **paths, int n, bool force, compare_set *out)
{
    memset(out, 0, sizeof *out);
    out->best = -1;
    if (n < 1)
        return nncl_fail(NNCL_E_INVALID, "nothing to compare: give run directories or sweep folders");
    int cap = 0;
    nncl_status st = NNCL_OK;
    for (int i = 0; i < n && st == NNCL_OK; i++)
        st = load_path(out, &cap, paths[i]);
    if (st == NNCL_OK) {
        drop_duplicates(out);
        if (out->n_runs == 0)
            st = nncl_fail(NNCL_E_FORMAT, "%s: no runs to compare (every trial is still pending)", paths[0]);
    }
    if (st == NNCL_OK && (st = check_same(out, force)) == NNCL_OK) {
        tell_data_apart(out);
        find_differing(out);
        st = make_groups(out);
    }
    if (st != NNCL_OK) {
        compare_set_free(out);
        return st;
    }
    find_best(out);
    return compare_sort(out, NULL);
}

/* ---- sorting --------------------------------------------------------------------- */

typedef struct sort_ctx {
    const compare_set *s;
    int metric;     /* a compare_metric, or -1 */
    int param;      /* a parameter, or -1 */
    bool by_name;
} sort_ctx;

/* Numbers by value ("0.01" < "0.1" < "1e-1"...), then text. */
static int value_cmp(const char *a, const char *b)
{
    if (!a || !b)
        return (a == NULL) - (b == NULL);
    char *ea, *eb;
    double x = strtod(a, &ea), y = strtod(b, &eb);
    if (ea != a && eb != b && x != y)
        return x < y ? -1 : 1;
    return strcmp(a, b);
}

static int group_cmp(const sort_ctx *c, const compare_group *a, const compare_group *b)
{
    const compare_set *s = c->s;
    int r = 0;
    if (c->metric >= 0) {
        r = better(a, b, (compare_metric)c->metric);
    } else if (c->param >= 0) {
        r = value_cmp(compare_group_value(s, a, c->param), compare_group_value(s, b, c->param));
    } else if (c->by_name) {
        r = strcmp(s->runs[a->members[0]].name, s->runs[b->members[0]].name);
    }
    if (r == 0)
        r = better(a, b, primary(s));
    return r ? r : (a->members[0] > b->members[0]) - (a->members[0] < b->members[0]);
}

/* Insertion sort: a few hundred groups at most, and no global context. */
static void sort_groups(compare_set *s, const sort_ctx *c)
{
    int best_first = s->best >= 0 ? s->groups[s->best].members[0] : -1;
    for (int i = 1; i < s->n_groups; i++) {
        compare_group g = s->groups[i];
        int j = i;
        for (; j > 0 && group_cmp(c, &s->groups[j - 1], &g) > 0; j--)
            s->groups[j] = s->groups[j - 1];
        s->groups[j] = g;
    }
    for (int g = 0; g < s->n_groups; g++) {
        for (int k = 0; k < s->groups[g].n; k++)
            s->runs[s->groups[g].members[k]].group = g;
        if (s->groups[g].members[0] == best_first)
            s->best = g;
    }
}

static bool key_is(const char *key, const char *name)
{
    return strcmp(key, name) == 0;
}

nncl_status compare_sort(compare_set *s, const char *key)
{
    sort_ctx c = {.s = s, .metric = -1, .param = -1};
    if (!key)
        key = metric_info[primary(s)].key;
    if (key_is(key, "name")) {
        c.by_name = true;
    } else if (key_is(key, "seconds") || key_is(key, "time")) {
        c.metric = CM_SECONDS;
    } else {
        for (int m = 0; m < CM_COUNT && c.metric < 0; m++)
            if (key_is(key, metric_info[m].key))
                c.metric = m;
        for (int p = 0; p < COMPARE_N_PARAMS && c.metric < 0 && c.param < 0; p++)
            if (key_is(key, params[p].flag) || key_is(key, params[p].flag + 2))
                c.param = p;
    }
    if (c.metric >= 0 && !(metric_info[c.metric].task & s->task)) {
        return nncl_fail(NNCL_E_INVALID, "'%s': %s runs have no such result; sort by %s", key,
                         s->task == 2 ? "regression" : "classification",
                         s->task == 2 ? "val_mae, final_val_mae, test_rmse, test_mae, test_r2, epochs, time, "
                                        "samples_per_second, name or a differing flag"
                                      : "val_accuracy, final_val_accuracy, test_accuracy, epochs, time, "
                                        "samples_per_second, name or a differing flag");
    }
    if (c.metric < 0 && c.param < 0 && !c.by_name)
        return nncl_fail(NNCL_E_INVALID, "'%s' is not something to sort by: use %s, epochs, time, "
                         "samples_per_second, name, or a hyper-parameter's flag (--lr, --batch, ...)", key,
                         s->task == 2 ? "val_mae, final_val_mae, test_rmse, test_mae, test_r2"
                                      : "val_accuracy, final_val_accuracy, test_accuracy");
    sort_groups(s, &c);
    s->sort_metric = c.metric >= 0 ? (compare_metric)c.metric : CM_COUNT;
    snprintf(s->sort_key, sizeof s->sort_key, "%s", c.metric >= 0 ? metric_info[c.metric].key : key);
    return NNCL_OK;
}

/* ---- names and values of groups -------------------------------------------------- */

void compare_group_name(const compare_set *s, const compare_group *g, char *out, size_t len)
{
    if (g->n > 1)
        snprintf(out, len, "%s +%d", s->runs[g->members[0]].name, g->n - 1);
    else
        snprintf(out, len, "%s", s->runs[g->members[0]].name);
}

const char *compare_group_value(const compare_set *s, const compare_group *g, int p)
{
    if (p == COMPARE_PARAM_SEED)
        return g->seeds;
    const char *v = s->runs[g->members[0]].values[p];
    return v ? v : "-";
}

/* ---- JSON for the page ----------------------------------------------------------- */

static json_t *real_or_null(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *values_json(const compare_set *s, char *const *values, const compare_group *g)
{
    json_t *o = json_object();
    for (int k = 0; k < s->n_params; k++) {
        int p = s->params[k];
        const char *v = g ? compare_group_value(s, g, p) : values[p];
        json_object_set_new(o, params[p].flag, v ? json_string(v) : json_null());
    }
    return o;
}

static json_t *metrics_json(const compare_set *s, const double *m)
{
    json_t *o = json_object();
    for (int k = 0; k < CM_COUNT; k++)
        if (metric_info[k].task & s->task)
            json_object_set_new(o, metric_info[k].key, real_or_null(m[k]));
    return o;
}

/* Per epoch, one array per column; a regression run's accuracy columns hold
 * MAE, and are named so. */
static json_t *curves_json(const run_record *r, bool regress)
{
    json_t *c = json_object();
    const char *names[] = {"epoch", "train_loss", regress ? "train_mae" : "train_accuracy", "val_loss",
                           regress ? "val_mae" : "val_accuracy", "lr", "seconds"};
    json_t *a[7];
    for (int k = 0; k < 7; k++)
        json_object_set_new(c, names[k], a[k] = json_array());
    for (size_t i = 0; i < r->n_epochs; i++) {
        const nncl_epoch_metrics *e = &r->epochs[i];
        double v[7] = {e->epoch, e->train_loss, e->train_accuracy, e->val_loss, e->val_accuracy, e->lr, e->seconds};
        json_array_append_new(a[0], json_integer(e->epoch));
        for (int k = 1; k < 7; k++)
            json_array_append_new(a[k], real_or_null(v[k]));
    }
    return c;
}

/* Every parameter the run has, differing or not. */
static json_t *settings_json(const compare_run *r)
{
    json_t *o = json_object();
    for (int p = 0; p < COMPARE_N_PARAMS; p++)
        if (r->values[p])
            json_object_set_new(o, params[p].flag, json_string(r->values[p]));
    return o;
}

/* The network from config.json: layer sizes, activation, image shape. */
static json_t *net_json(const compare_run *r)
{
    json_t *c = r->rec.config;
    if (!c)
        return json_null();
    json_t *shape = get_path(c, "data.image_shape"), *layers = get_path(c, "model.layers");
    json_t *o = json_pack("{s:O, s:O, s:O}", "sizes", json_is_array(layers) ? layers : json_null(), "activation",
                          get_path(c, "model.activation") ? get_path(c, "model.activation") : json_null(), "image",
                          json_is_array(shape) ? shape : json_null());
    /* a layer list: its sizes are flattened outputs, so the page names its layers instead */
    const char *specs = json_string_value(get_path(c, "model.layer_specs"));
    if (o && specs && json_is_array(get_path(c, "model.input_shape")))
        json_object_set_new(o, "layer_specs", json_string(specs));
    return o;
}

static json_t *run_json(const compare_set *s, const compare_run *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "dir", json_string(r->dir));
    json_object_set_new(o, "name", json_string(r->name));
    json_object_set_new(o, "status", json_string(r->status));
    json_object_set_new(o, "group", json_integer(r->group));
    json_object_set_new(o, "values", values_json(s, r->values, NULL));
    json_object_set_new(o, "metrics", metrics_json(s, r->m));
    json_object_set_new(o, "settings", settings_json(r));
    json_object_set_new(o, "summary", r->rec.summary ? json_deep_copy(r->rec.summary) : json_null());
    json_object_set_new(o, "curves", curves_json(&r->rec, run_task(r) == 2));
    json_object_set_new(o, "net", net_json(r));
    json_t *cmd = get_path(r->rec.config, "command");
    json_object_set_new(o, "command", json_is_array(cmd) ? json_deep_copy(cmd) : json_null());
    return o;
}

static json_t *group_json(const compare_set *s, int gi)
{
    const compare_group *g = &s->groups[gi];
    char name[512];
    compare_group_name(s, g, name, sizeof name);
    json_t *o = json_object(), *runs = json_array(), *dirs = json_array(), *count = json_object();
    for (int k = 0; k < g->n; k++) {
        json_array_append_new(runs, json_integer(g->members[k]));
        json_array_append_new(dirs, json_string(s->runs[g->members[k]].dir));
    }
    for (int k = 0; k < CM_COUNT; k++)
        if (metric_info[k].task & s->task)
            json_object_set_new(count, metric_info[k].key, json_integer(g->count[k]));
    json_object_set_new(o, "name", json_string(name));
    json_object_set_new(o, "runs", runs);
    json_object_set_new(o, "dirs", dirs);
    json_object_set_new(o, "n", json_integer(g->n));
    json_object_set_new(o, "values", values_json(s, NULL, g));
    json_object_set_new(o, "status", json_string(g->status));
    json_object_set_new(o, "best", json_boolean(gi == s->best));
    json_object_set_new(o, "mean", metrics_json(s, g->mean));
    json_object_set_new(o, "std", metrics_json(s, g->std));
    json_object_set_new(o, "count", count);
    return o;
}

json_t *compare_json(const compare_set *s)
{
    static const char *tasks[] = {"classify", "classify", "regress", "mixed"};
    json_t *o = json_object(), *flags = json_array(), *metrics = json_array(), *runs = json_array(),
           *groups = json_array();
    for (int k = 0; k < s->n_params; k++)
        json_array_append_new(flags, json_string(params[s->params[k]].flag));
    for (int k = 0; k < CM_COUNT; k++)
        if (metric_info[k].task & s->task)
            json_array_append_new(metrics, json_pack("{s:s, s:s, s:s, s:b}", "key", metric_info[k].key, "label",
                                                     metric_info[k].label, "unit",
                                                     metric_info[k].unit == CU_FRACTION ? "fraction"
                                                     : metric_info[k].unit == CU_SECONDS ? "seconds"
                                                     : metric_info[k].unit == CU_RATE    ? "per_second"
                                                     : metric_info[k].unit == CU_COUNT   ? "count"
                                                                                         : "number",
                                                     "higher_is_better", metric_info[k].higher_better));
    for (int i = 0; i < s->n_runs; i++)
        json_array_append_new(runs, run_json(s, &s->runs[i]));
    for (int g = 0; g < s->n_groups; g++)
        json_array_append_new(groups, group_json(s, g));
    json_object_set_new(o, "task", json_string(tasks[s->task & 3]));
    json_object_set_new(o, "data", s->n_runs && s->runs[0].rec.config && !s->mixed_data
                                       ? json_deep_copy(get_path(s->runs[0].rec.config, "data.name"))
                                       : json_null());
    json_object_set_new(o, "mixed_data", json_boolean(s->mixed_data));
    json_t *first = NULL;
    for (int i = 0; i < s->n_runs && !first; i++)
        first = get_path(s->runs[i].rec.config, "data");
    json_object_set_new(o, "dataset", first && !s->mixed_data ? json_deep_copy(first) : json_null());
    json_object_set_new(o, "flags", flags);
    json_object_set_new(o, "metrics", metrics);
    json_object_set_new(o, "primary", json_string(metric_info[primary(s)].key));
    json_object_set_new(o, "sort", json_string(s->sort_key));
    json_object_set_new(o, "best_group", json_integer(s->best));
    json_object_set_new(o, "runs", runs);
    json_object_set_new(o, "groups", groups);
    return o;
}

/* ---- the final weights, for the page ---------------------------------------------- */

#define ALL_LAYERS_UP_TO 100000   /* parameters: larger networks keep their first and last layers */

/* A layer-list network's model: its layers and first convolution's filters
 * (report_layer_list_json, the codes inline), nothing in the shared codes. */
static json_t *layer_list_weights(const nncl_model *m)
{
    const nncl_net_config *c = &m->cfg;
    json_t *list = report_layer_list_json(c, m->params, m->n_params);
    json_t *w = json_pack("{s:s, s:o, s:s, s:s, s:I, s:o}", "form", "layers", "layer_list", list, "activation",
                          nncl_act_name(c->act), "task", c->task == NNCL_TASK_REGRESS ? "regress" : "classify",
                          "n_params", (json_int_t)m->n_params, "class_names",
                          report_names_json(m->class_names,
                                            c->task == NNCL_TASK_CLASSIFY ? (size_t)m->num_classes : 0));
    return w;
}

/* One run's model.safetensors: its weights appended to *codes (grown as
 * needed), described in the returned object. NULL with *why set when the
 * run has none or it cannot be read. */
static json_t *run_weights(const compare_run *r, char **codes, size_t *len, size_t *cap, char *why, size_t why_len)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/model.safetensors", r->dir);
    if (!r->rec.config) {
        snprintf(why, why_len, "the trial left no run directory");
        return NULL;
    }
    if (!exists(path)) {
        snprintf(why, why_len, "%s", strcmp(r->status, "diverged") == 0
                                         ? "the run diverged, so no weights were saved"
                                         : "the run has no model.safetensors");
        return NULL;
    }
    nncl_model m;
    memset(&m, 0, sizeof m);
    if (nncl_model_load(path, &m) != NNCL_OK) {
        snprintf(why, why_len, "model.safetensors could not be read: %s", nncl_last_error());
        return NULL;
    }
    const nncl_net_config *c = &m.cfg;
    if (!nncl_net_config_is_dense(c)) {
        json_t *w = layer_list_weights(&m);
        nncl_model_free(&m);
        if (!w)
            snprintf(why, why_len, "out of memory for its layers");
        return w;
    }
    bool keep[NNCL_MAX_LAYERS];
    size_t kept = 0;
    for (int l = 0; l < c->layers; l++) {
        keep[l] = m.n_params <= ALL_LAYERS_UP_TO || l == 0 || l == c->layers - 1;
        if (keep[l])
            kept += c->sizes[l + 1] * (c->sizes[l] + 1);
    }
    if (*len + kept + 1 > *cap) {
        size_t ncap = *cap ? *cap : 1 << 20;
        while (ncap < *len + kept + 1)
            ncap *= 2;
        char *more = realloc(*codes, ncap);
        if (!more) {
            nncl_model_free(&m);
            snprintf(why, why_len, "out of memory for its weights");
            return NULL;
        }
        *codes = more;
        *cap = ncap;
    }
    json_t *scales = json_array(), *clamp = json_array(), *bias_clamp = json_array(), *sizes = json_array(),
           *layers = json_array();
    size_t n = report_encode_params(c, m.params, keep, *codes + *len, scales, clamp, bias_clamp);
    size_t off = 0;
    bool partial = false;
    for (int l = 0; l <= c->layers; l++)
        json_array_append_new(sizes, json_integer((json_int_t)c->sizes[l]));
    for (int l = 0; l < c->layers; l++) {
        size_t in = c->sizes[l], out = c->sizes[l + 1];
        partial |= !keep[l];
        json_array_append_new(layers, json_pack("{s:I, s:I, s:o, s:o}", "in", (json_int_t)in, "out", (json_int_t)out,
                                                "w_offset", keep[l] ? json_integer((json_int_t)off) : json_null(),
                                                "b_offset",
                                                keep[l] ? json_integer((json_int_t)(off + in * out)) : json_null()));
        if (keep[l])
            off += out * (in + 1);
    }
    bool image = m.image_h > 0 && (size_t)m.image_h * (size_t)m.image_w == c->sizes[0];
    json_t *w = json_pack("{s:I, s:I, s:o, s:s, s:s, s:o, s:I, s:b, s:o, s:o, s:o, s:o, s:o, s:o}", "offset",
                          (json_int_t)*len, "count", (json_int_t)n, "sizes", sizes, "activation", nncl_act_name(c->act),
                          "task", c->task == NNCL_TASK_REGRESS ? "regress" : "classify", "image",
                          image ? json_pack("[i, i]", m.image_h, m.image_w) : json_null(), "n_params",
                          (json_int_t)m.n_params, "partial", partial, "layers", layers, "scale", scales, "clamp", clamp,
                          "bias_clamp", bias_clamp, "class_names",
                          report_names_json(m.class_names, c->task == NNCL_TASK_CLASSIFY ? (size_t)m.num_classes : 0),
                          "feature_names",
                          !image && c->sizes[0] <= 256 ? report_names_json(m.feature_names, c->sizes[0]) : json_null());
    *len += n;
    nncl_model_free(&m);
    return w;
}

nncl_status compare_weights(const compare_set *s, json_t *data, char **codes_out, size_t *codes_len)
{
    char *codes = NULL;
    size_t len = 0, cap = 0;
    json_t *runs = json_object_get(data, "runs");
    for (int i = 0; i < s->n_runs; i++) {
        json_t *o = json_array_get(runs, (size_t)i);
        char why[512] = "";
        json_t *w = run_weights(&s->runs[i], &codes, &len, &cap, why, sizeof why);
        json_object_set_new(o, "weights", w ? w : json_null());
        json_object_set_new(o, "weights_note", w ? json_null() : json_string(why));
    }
    if (!codes && !(codes = malloc(1)))
        return nncl_fail(NNCL_E_NOMEM, "out of memory for the runs' weights");
    codes[len] = '\0';
    *codes_out = codes;
    *codes_len = len;
    return NNCL_OK;
}

void compare_set_free(compare_set *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->n_runs; i++) {
        compare_run *r = &s->runs[i];
        free(r->dir);
        free(r->name);
        run_record_free(&r->rec);
        for (int p = 0; p < COMPARE_N_PARAMS; p++)
            free(r->values[p]);
    }
    free(s->runs);
    for (int g = 0; s->groups && g < s->n_groups; g++) {
        free(s->groups[g].members);
        free(s->groups[g].seeds);
    }
    free(s->groups);
    memset(s, 0, sizeof *s);
    s->best = -1;
}
