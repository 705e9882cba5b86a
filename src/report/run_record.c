/* Reading a run directory back: config.json and summary.json (required),
 * metrics.csv, model.safetensors, snapshots.bin and evaluation.json (each
 * noted as missing when absent, refused when present but wrong). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "report/run_liveness.h"
#include "report/run_record.h"
#include "util/atomic_file.h"

#define MAX_JSON_FILE ((size_t)256 << 20)
#define MAX_METRICS_FILE ((size_t)256 << 20)
#define METRICS_HEADER "epoch,step,train_loss,train_accuracy,val_loss,val_accuracy,lr,seconds"
#define METRICS_HEADER_REGRESS "epoch,step,train_loss,train_mae,val_loss,val_mae,lr,seconds"

static void note_missing(run_record *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note_missing(run_record *r, const char *fmt, ...)
{
    if (r->n_missing >= RUN_RECORD_MAX_MISSING)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->missing[r->n_missing++], sizeof r->missing[0], fmt, ap);
    va_end(ap);
}

static void path_of(const run_record *r, const char *file, char *out, size_t len)
{
    snprintf(out, len, "%s/%s", r->dir, file);
}

static bool exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

nncl_status run_json_read(const char *path, json_t **out, json_error_t *err)
{
    char *text;
    size_t len;
    *out = NULL;
    nncl_status st = nncl_read_file(path, MAX_JSON_FILE, &text, &len);
    if (st != NNCL_OK)
        return st;
    *out = json_loadb(text, len, 0, err);
    free(text);
    return NNCL_OK;
}

nncl_status run_json_object_read(const char *path, json_t **out)
{
    json_t *j;
    json_error_t err;
    *out = NULL;
    nncl_status st = run_json_read(path, &j, &err);
    if (st != NNCL_OK)
        return st;
    if (!json_is_object(j)) {
        json_decref(j);
        return nncl_fail(NNCL_E_FORMAT, "%s: line %d: not a JSON object (%s)", path, err.line,
                         j ? "another JSON value" : err.text);
    }
    *out = j;
    return NNCL_OK;
}

/* A JSON object file; *out stays NULL when the file is absent and !required. */
static nncl_status load_json(const run_record *r, const char *file, bool required, json_t **out)
{
    char path[4200];
    path_of(r, file, path, sizeof path);
    *out = NULL;
    if (!exists(path)) {
        if (!required)
            return NNCL_OK;
        return nncl_fail(NNCL_E_IO, "%s: missing (%s is not a complete nncl run directory)", path, r->dir);
    }
    return run_json_object_read(path, out);
}

/* One number of a metrics row: empty means NaN (no validation that epoch). */
static bool metric(const char *s, const char *end, double *out)
{
    if (s == end) {
        *out = NAN;
        return true;
    }
    char buf[64];
    if ((size_t)(end - s) >= sizeof buf)
        return false;
    memcpy(buf, s, (size_t)(end - s));
    buf[end - s] = '\0';
    char *e;
    errno = 0;
    *out = strtod(buf, &e);
    return *e == '\0' && errno == 0;
}

double run_metrics_best_val(const nncl_epoch_metrics *e, size_t n, bool higher_better, int *epoch)
{
    double best = NAN;
    for (size_t k = 0; k < n; k++) {
        double v = e[k].val_accuracy;
        if (!isnan(v) && (isnan(best) || (higher_better ? v > best : v < best))) {
            best = v;
            if (epoch)
                *epoch = e[k].epoch;
        }
    }
    return best;
}

nncl_status run_metrics_read(const char *path, nncl_epoch_metrics **out, size_t *n_out)
{
    *out = NULL;
    *n_out = 0;
    char *text;
    size_t len, n = 0;
    nncl_status st = nncl_read_file(path, MAX_METRICS_FILE, &text, &len);
    if (st != NNCL_OK)
        return st;
    size_t lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    nncl_epoch_metrics *epochs = calloc(lines + 1, sizeof *epochs);
    if (!epochs) {
        free(text);
        return nncl_fail(NNCL_E_NOMEM, "%s: out of memory", path);
    }
    char *line = text, *end = text + len;
    int lineno = 0;
    while (line < end && st == NNCL_OK) {
        char *nl = memchr(line, '\n', (size_t)(end - line));
        if (!nl) {
            st = nncl_fail(NNCL_E_FORMAT, "%s: line %d is cut off (no line break): the file is truncated", path,
                           lineno + 1);
            break;
        }
        *nl = '\0';
        lineno++;
        if (lineno == 1) {
            /* A regression's MAE comes in the accuracy's place. */
            if (strcmp(line, METRICS_HEADER) != 0 && strcmp(line, METRICS_HEADER_REGRESS) != 0)
                st = nncl_fail(NNCL_E_FORMAT, "%s: line 1: expected the header %s (or, for a regression, %s)", path,
                               METRICS_HEADER, METRICS_HEADER_REGRESS);
            line = nl + 1;
            continue;
        }
        double v[8];
        int k = 0;
        char *f = line;
        for (;;) {
            char *comma = strchr(f, ',');
            char *fe = comma ? comma : nl;
            if (k >= 8 || !metric(f, fe, &v[k])) {
                k = -1;
                break;
            }
            k++;
            if (!comma)
                break;
            f = comma + 1;
        }
        if (k != 8 || !(v[0] >= 1) || v[0] != floor(v[0]) || !(v[1] >= 0) ||
            (n > 0 && v[0] != epochs[n - 1].epoch + 1)) {
            st = nncl_fail(NNCL_E_FORMAT,
                           "%s: line %d: expected 8 comma-separated numbers, epochs counting up from 1 (%s)", path,
                           lineno, METRICS_HEADER);
            break;
        }
        epochs[n++] = (nncl_epoch_metrics){
            .epoch = (int)v[0], .step = (unsigned long)v[1], .train_loss = v[2], .train_accuracy = v[3],
            .val_loss = v[4], .val_accuracy = v[5], .lr = v[6], .seconds = v[7], .samples_per_second = NAN};
        line = nl + 1;
    }
    if (st == NNCL_OK && lineno == 0)
        st = nncl_fail(NNCL_E_FORMAT, "%s: empty: expected the header %s", path, METRICS_HEADER);
    free(text);
    if (st != NNCL_OK) {
        free(epochs);
        return st;
    }
    *out = epochs;
    *n_out = n;
    return NNCL_OK;
}

static nncl_status load_metrics(run_record *r)
{
    char path[4200];
    path_of(r, "metrics.csv", path, sizeof path);
    if (!exists(path)) {
        note_missing(r, "No learning curves: metrics.csv is missing (the run stopped before its first epoch ended).");
        return NNCL_OK;
    }
    return run_metrics_read(path, &r->epochs, &r->n_epochs);
}

static char **names_from(json_t *a, size_t want)
{
    if (!json_is_array(a) || json_array_size(a) != want || want == 0)
        return NULL;
    char **names = calloc(want, sizeof *names);
    for (size_t i = 0; names && i < want; i++) {
        json_t *s = json_array_get(a, i);
        names[i] = strdup(json_is_string(s) ? json_string_value(s) : "");
    }
    return names;
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; names && i < n; i++)
        free(names[i]);
    free(names);
}

/* A layer list from config.json (model.layer_specs before the output layer,
 * on model.input_shape), resolved as training resolved it: its sizes must be
 * model.layers, already in r->cfg. Without this a CNN run without a model
 * would read as a dense network of its layers' flattened sizes. */
static nncl_status layer_list_from_config(run_record *r, json_t *model, const char *path)
{
    nncl_net_config *c = &r->cfg, want = *c;
    json_t *shape = json_object_get(model, "input_shape");
    const char *text = json_string_value(json_object_get(model, "layer_specs"));
    int n = 0;
    bool ok = text && json_array_size(shape) == 3 &&
              nncl_layers_parse(text, c->specs, NNCL_MAX_SPECS - 1, &n) == NNCL_OK;
    size_t dims[3] = {0, 0, 0};
    for (int i = 0; ok && i < 3; i++) {
        json_t *v = json_array_get(shape, (size_t)i);
        ok = json_is_integer(v) && json_integer_value(v) >= 1 && json_integer_value(v) <= (1 << 24);
        dims[i] = ok ? (size_t)json_integer_value(v) : 0;
    }
    if (ok) {
        c->in_c = dims[0];
        c->in_h = dims[1];
        c->in_w = dims[2];
        c->specs[n] = (nncl_layer_spec){.kind = NNCL_LAYER_DENSE, .units = want.sizes[want.layers]};
        c->n_specs = n + 1;
        c->dropout = (float)json_number_value(json_object_get(model, "dropout"));
        ok = nncl_net_config_resolve(c) == NNCL_OK && c->layers == want.layers &&
             memcmp(c->sizes, want.sizes, sizeof want.sizes) == 0;
    }
    if (!ok)
        return nncl_fail(NNCL_E_FORMAT, "%s: model.layer_specs and model.input_shape do not give the network of "
                                        "model.layers",
                         path);
    return NNCL_OK;
}

/* The network from config.json, for a run without a model file. */
static nncl_status network_from_config(run_record *r)
{
    char path[4200];
    path_of(r, "config.json", path, sizeof path);
    json_t *model = json_object_get(r->config, "model"), *data = json_object_get(r->config, "data");
    json_t *layers = json_object_get(model, "layers");
    size_t n = json_array_size(layers);
    if (!json_is_array(layers) || n < 2 || n > NNCL_MAX_LAYERS + 1)
        return nncl_fail(NNCL_E_FORMAT, "%s: model.layers is not a list of 2 to %d layer sizes", path,
                         NNCL_MAX_LAYERS + 1);
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(layers, i);
        if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > (1 << 24))
            return nncl_fail(NNCL_E_FORMAT, "%s: model.layers[%zu] is not a size from 1 to %d", path, i, 1 << 24);
        r->cfg.sizes[i] = (size_t)json_integer_value(v);
    }
    r->cfg.layers = (int)n - 1;
    const char *act = json_string_value(json_object_get(model, "activation"));
    if (!act || nncl_act_parse(act, &r->cfg.act) != NNCL_OK)
        return nncl_fail(NNCL_E_FORMAT, "%s: model.activation is missing or unknown", path);
    const char *task = json_string_value(json_object_get(data, "task"));
    r->cfg.task = task && strcmp(task, "regress") == 0 ? NNCL_TASK_REGRESS : NNCL_TASK_CLASSIFY;
    nncl_status st;
    if (json_is_array(json_object_get(model, "input_shape")) && (st = layer_list_from_config(r, model, path)) != NNCL_OK)
        return st;
    json_t *shape = json_object_get(data, "image_shape");
    if (json_is_array(shape) && json_array_size(shape) == 2) {
        r->image_h = (int)json_integer_value(json_array_get(shape, 0));
        r->image_w = (int)json_integer_value(json_array_get(shape, 1));
        if (r->image_h < 1 || r->image_w < 1 || (size_t)r->image_h * (size_t)r->image_w != r->cfg.sizes[0])
            r->image_h = r->image_w = 0;
    }
    if (r->cfg.task == NNCL_TASK_CLASSIFY) {
        r->num_classes = (int)r->cfg.sizes[r->cfg.layers];
        r->class_names = names_from(json_object_get(data, "class_names"), (size_t)r->num_classes);
    }
    r->feature_names = names_from(json_object_get(data, "feature_names"), r->cfg.sizes[0]);
    return NNCL_OK;
}

static nncl_status load_model(run_record *r)
{
    char path[4200];
    path_of(r, "model.safetensors", path, sizeof path);
    if (!exists(path)) {
        const char *status = json_string_value(json_object_get(r->summary, "status"));
        if (status && strcmp(status, "diverged") == 0)
            note_missing(r, "No final model: the run diverged (its loss became NaN or infinite), so no weights were saved.");
        else
            note_missing(r, "No final model: model.safetensors is missing (the run %s).",
                         status ? status : "did not finish");
        return network_from_config(r);
    }
    nncl_status st = nncl_model_load(path, &r->model);
    if (st != NNCL_OK)
        return st;
    r->has_model = true;
    r->cfg = r->model.cfg;
    r->image_h = r->model.image_h;
    r->image_w = r->model.image_w;
    /* The names are the model's: copied so that freeing stays simple. */
    if (r->cfg.task == NNCL_TASK_CLASSIFY) {
        r->num_classes = (int)r->cfg.sizes[r->cfg.layers];
        if (r->model.class_names) {
            r->class_names = calloc((size_t)r->num_classes, sizeof *r->class_names);
            for (int i = 0; r->class_names && i < r->num_classes; i++)
                r->class_names[i] = strdup(r->model.class_names[i]);
        }
    }
    if (r->model.feature_names) {
        r->feature_names = calloc(r->cfg.sizes[0], sizeof *r->feature_names);
        for (size_t i = 0; r->feature_names && i < r->cfg.sizes[0]; i++)
            r->feature_names[i] = strdup(r->model.feature_names[i]);
    }
    return NNCL_OK;
}

static nncl_status load_snapshots(run_record *r)
{
    char path[4200];
    path_of(r, "snapshots.bin", path, sizeof path);
    if (!exists(path)) {
        json_t *n = json_object_get(r->config, "snapshots");
        if (!nncl_net_config_is_dense(&r->cfg))
            note_missing(r, "No snapshots: nncl records the weights through time for dense networks only, so this "
                            "network's page has no time slider; it shows its layers and its first convolution's "
                            "final filters.");
        else if (json_is_integer(n) && json_integer_value(n) == 0)
            note_missing(r, "No snapshots: the run was made with --snapshots 0, so there is no time slider; "
                            "the drawings show the final weights.");
        else
            note_missing(r, "No snapshots: snapshots.bin is missing (made by an nncl without snapshots, or the "
                            "run stopped before it started); the drawings show the final weights.");
        return NNCL_OK;
    }
    nncl_status st = nncl_snapshots_load(path, &r->snaps);
    if (st != NNCL_OK)
        return st;
    bool same = r->snaps.layers == r->cfg.layers;
    for (int l = 0; same && l <= r->cfg.layers; l++)
        same = r->snaps.sizes[l] == r->cfg.sizes[l];
    if (!same) {
        nncl_snapshots_free(&r->snaps);
        return nncl_fail(NNCL_E_FORMAT, "%s: its network's layer sizes differ from the run's %s", path,
                         r->has_model ? "model.safetensors" : "config.json");
    }
    if (r->snaps.count == 0)
        note_missing(r, "No snapshots: snapshots.bin holds none (the run stopped before its first).");
    return NNCL_OK;
}

static nncl_status check_evaluation(run_record *r)
{
    char path[4200];
    path_of(r, "evaluation.json", path, sizeof path);
    if (!r->evaluation) {
        note_missing(r, "No test results: the run had no test set, or it did not finish.");
        return NNCL_OK;
    }
    json_t *c = json_object_get(r->evaluation, "classify"), *g = json_object_get(r->evaluation, "regress");
    json_t *rows = json_object_get(r->evaluation, "rows");
    if (!json_is_integer(rows) || json_integer_value(rows) < 0)
        return nncl_fail(NNCL_E_FORMAT, "%s: \"rows\" is not a count", path);
    if (r->cfg.task == NNCL_TASK_CLASSIFY) {
        json_t *m = json_object_get(c, "confusion");
        size_t C = (size_t)r->num_classes;
        json_int_t total = 0;
        bool ok = json_is_array(m) && json_array_size(m) == C;
        for (size_t i = 0; ok && i < C; i++) {
            json_t *row = json_array_get(m, i);
            ok = json_is_array(row) && json_array_size(row) == C;
            for (size_t j = 0; ok && j < C; j++) {
                json_t *v = json_array_get(row, j);
                ok = json_is_integer(v) && json_integer_value(v) >= 0;
                total += ok ? json_integer_value(v) : 0;
            }
        }
        if (!ok || total != json_integer_value(rows))
            return nncl_fail(NNCL_E_FORMAT,
                             "%s: classify.confusion is not a %zu x %zu matrix of counts summing to rows (%lld)", path,
                             C, C, (long long)json_integer_value(rows));
    } else {
        json_t *t = json_object_get(g, "true"), *p = json_object_get(g, "pred");
        if (!json_is_array(t) || !json_is_array(p) || json_array_size(t) != json_array_size(p))
            return nncl_fail(NNCL_E_FORMAT, "%s: regress.true and regress.pred are not lists of the same length",
                             path);
    }
    return NNCL_OK;
}

nncl_status run_record_load(const char *dir, run_record *r)
{
    memset(r, 0, sizeof *r);
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/')
        len--;
    if (len >= sizeof r->dir - 64)
        return nncl_fail(NNCL_E_INVALID, "%s: the path is too long", dir);
    memcpy(r->dir, dir, len);
    r->dir[len] = '\0';
    struct stat sb;
    if (stat(r->dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return nncl_fail(NNCL_E_IO, "%s: %s", r->dir, errno == ENOENT ? "no such directory" : "not a directory");
    nncl_status st;
    if ((st = load_json(r, "config.json", true, &r->config)) != NNCL_OK ||
        (st = load_json(r, "summary.json", true, &r->summary)) != NNCL_OK ||
        (st = load_metrics(r)) != NNCL_OK || (st = load_model(r)) != NNCL_OK ||
        (st = load_snapshots(r)) != NNCL_OK ||
        (st = load_json(r, "evaluation.json", false, &r->evaluation)) != NNCL_OK ||
        (st = check_evaluation(r)) != NNCL_OK) {
        run_record_free(r);
        return st;
    }
    const char *status = json_string_value(json_object_get(r->summary, "status"));
    if (status && strcmp(status, "running") == 0 && run_is_crashed(r->summary)) {
        char note[512];
        run_crash_note(r->summary, r->dir, note, sizeof note);
        note_missing(r, "The run %s.", note);
    } else if (status && strcmp(status, "running") == 0) {
        note_missing(r, "The run is still training (or runs on another machine): this is the page of what it has "
                        "done so far.");
    }
    return NNCL_OK;
}

void run_record_free(run_record *r)
{
    if (!r)
        return;
    json_decref(r->config);
    json_decref(r->summary);
    json_decref(r->evaluation);
    free(r->epochs);
    nncl_model_free(&r->model);
    free_names(r->class_names, (size_t)r->num_classes);
    free_names(r->feature_names, r->cfg.sizes[0]);
    nncl_snapshots_free(&r->snaps);
    memset(r, 0, sizeof *r);
}

size_t run_record_frames(const run_record *r)
{
    return r->snaps.count > 0 ? r->snaps.count : r->has_model ? 1 : 0;
}

void run_record_frame_params(const run_record *r, size_t k, float *out)
{
    if (r->snaps.count > 0)
        nncl_snapshots_params(&r->snaps, k, out);
    else if (r->has_model)
        memcpy(out, r->model.params, r->model.n_params * sizeof *out);
}

const nncl_snapshot_info *run_record_frame_info(const run_record *r, size_t k)
{
    return r->snaps.count > 0 && k < r->snaps.count ? &r->snaps.info[k] : NULL;
}
