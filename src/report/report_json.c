/* The report page's data: one JSON object describing the run, and the
 * weights of every frame as one character per parameter.
 *
 * Weights are 6-bit codes written as base64 digits (code c is
 * BASE64_DIGITS[c]): value = (c - 32) * scale[frame][tensor], tensors in
 * the order W_1, b_1, W_2, b_2, ... Each tensor's scale puts the 99.5th
 * percentile of |w| at code 32 +- 31, so one large weight does not flatten
 * the rest; larger values saturate at codes 1 and 63. For pictures that is
 * plenty (a colour scale has fewer distinguishable steps), and it keeps the
 * default run's page (60 frames of 203,530 weights) near 12 MB. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/host_split.h"
#include "report/report_json.h"
#include "util/base64.h"

#define CLAMP_PERCENTILE 0.995
#define COLOUR_PERCENTILE 0.99
#define PCT_BINS 2048

static json_t *num(double v) { return isfinite(v) ? json_real(v) : json_null(); }

/* The p[j]-quantiles of |x[0..n)| (finite values), j < k, into q[j], from
 * one histogram of |x| / max|x|: exact to 1/PCT_BINS of the maximum (each
 * tensor of a frame needs two: the codes' clamp and the colours'). */
static void abs_quantiles(const float *x, size_t n, const double *p, float *q, int k)
{
    float m = 0;
    for (size_t i = 0; i < n; i++)
        m = isfinite(x[i]) && fabsf(x[i]) > m ? fabsf(x[i]) : m;
    for (int j = 0; j < k; j++)
        q[j] = m > 0 ? m : 0.0f;
    if (!(m > 0))
        return;
    size_t hist[PCT_BINS] = {0}, finite = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]))
            continue;
        size_t b = (size_t)(fabsf(x[i]) / m * (PCT_BINS - 1));
        hist[b]++;
        finite++;
    }
    for (int j = 0; j < k; j++) {
        size_t want = (size_t)ceil(p[j] * (double)finite), seen = 0;
        for (size_t b = 0; b < PCT_BINS; b++) {
            seen += hist[b];
            if (seen >= want && seen > 0) {
                q[j] = m * (float)(b + 1) / (PCT_BINS - 1);
                break;
            }
        }
    }
}

/* One tensor to codes with |x| clamped at `clamp`; returns its scale. */
static float encode_clamped(const float *x, size_t n, float clamp, char *out)
{
    float scale = clamp / 31.0f, inv = clamp > 0 ? 31.0f / clamp : 0.0f;
    for (size_t i = 0; i < n; i++) {
        float v = isfinite(x[i]) ? x[i] * inv : (x[i] > 0 ? 31.0f : x[i] < 0 ? -31.0f : 0.0f);
        v = v > 31.0f ? 31.0f : v < -31.0f ? -31.0f : v;
        out[i] = BASE64_DIGITS[32 + (int)lrintf(v)];
    }
    return scale;
}

/* One tensor to codes (clamped at its CLAMP_PERCENTILE); returns its scale,
 * and its COLOUR_PERCENTILE in *colour if not NULL. */
static float encode(const float *x, size_t n, char *out, float *colour)
{
    static const double ps[2] = {CLAMP_PERCENTILE, COLOUR_PERCENTILE};
    float q[2];
    abs_quantiles(x, n, ps, q, colour ? 2 : 1);
    if (colour)
        *colour = q[1];
    return encode_clamped(x, n, q[0], out);
}

size_t report_encode_params(const nncl_net_config *c, const float *params, const bool *keep, char *codes,
                            json_t *scales, json_t *clamp, json_t *bias_clamp)
{
    size_t off = 0, written = 0;
    for (int l = 0; l < c->layers; l++) {
        size_t out = c->sizes[l + 1], nw = out * c->sizes[l];
        if (keep && !keep[l]) {
            json_array_append_new(scales, json_null());
            json_array_append_new(scales, json_null());
            if (clamp)
                json_array_append_new(clamp, json_null());
            if (bias_clamp)
                json_array_append_new(bias_clamp, json_null());
            off += nw + out;
            continue;
        }
        float w, b;
        json_array_append_new(scales, json_real(encode(params + off, nw, codes + written, clamp ? &w : NULL)));
        json_array_append_new(scales,
                              json_real(encode(params + off + nw, out, codes + written + nw, bias_clamp ? &b : NULL)));
        if (clamp)
            json_array_append_new(clamp, json_real(w > 0 ? w : 1.0));
        if (bias_clamp)
            json_array_append_new(bias_clamp, json_real(b > 0 ? b : 1.0));
        off += nw + out;
        written += nw + out;
    }
    return written;
}

static json_t *copy_or_null(json_t *v) { return v ? json_deep_copy(v) : json_null(); }

/* ---- layer-list networks ------------------------------------------------------------- */

#define MAX_FILTER_PARAMS ((size_t)1 << 18)   /* the first convolution's weights the pages carry */

/* One line of nncl_net_config_describe ("  1  conv:4:5  [1,28,28] -> [4,28,28], relu  104 params")
 * as {index, layer, in, out, activation, params}. The text is nncl's own, so
 * a line that does not read is a bug: it is kept as {text} to show as it is
 * rather than dropped. */
static json_t *describe_row(const char *line)
{
    int index, used = 0;
    char layer[64], act[32] = "";
    size_t in[3], out[3], params;
    if (sscanf(line, " %d %63s [%zu,%zu,%zu] -> [%zu,%zu,%zu]%n", &index, layer, &in[0], &in[1], &in[2], &out[0],
               &out[1], &out[2], &used) != 8 ||
        used == 0)
        return json_pack("{s:s}", "text", line);
    const char *rest = line + used;
    if (rest[0] == ',' && sscanf(rest, ", %31s", act) != 1)
        return json_pack("{s:s}", "text", line);
    const char *count = strstr(rest, "  ");
    if (!count || sscanf(count, " %zu params", &params) != 1)
        return json_pack("{s:s}", "text", line);
    return json_pack("{s:i, s:s, s:[I, I, I], s:[I, I, I], s:o, s:I}", "index", index, "layer", layer, "in",
                     (json_int_t)in[0], (json_int_t)in[1], (json_int_t)in[2], "out", (json_int_t)out[0],
                     (json_int_t)out[1], (json_int_t)out[2], "activation", act[0] ? json_string(act) : json_null(),
                     "params", (json_int_t)params);
}

static json_t *describe_rows(const nncl_net_config *c)
{
    char text[8192];
    json_t *rows = json_array();
    if (nncl_net_config_describe(c, text, sizeof text) != NNCL_OK)
        return rows;
    for (char *line = text, *nl; *line; line = nl + 1) {
        nl = strchr(line, '\n');
        if (!nl)
            break;
        *nl = '\0';
        json_array_append_new(rows, describe_row(line));
    }
    return rows;
}

/* Whether tensor t lies inside a vector of n floats and holds what its dims say. */
static bool tensor_fits(const nncl_tensor_info *t, size_t n)
{
    size_t want = 1;
    for (int d = 0; d < t->ndim; d++)
        want *= t->dims[d];
    return t->len == want && t->offset <= n && t->len <= n - t->offset;
}

/* The bias of the weight tensor t[w] ([k] in the same layer), or -1. */
static int bias_of(const nncl_tensor_info *t, int count, int w)
{
    for (int i = 0; i < count; i++) {
        size_t len = strlen(t[i].name);
        if (i != w && t[i].layer == t[w].layer && t[i].ndim == 1 && t[i].dims[0] == t[w].dims[0] && len > 5 &&
            strcmp(t[i].name + len - 5, ".bias") == 0)
            return i;
    }
    return -1;
}

/* The first convolution's filters [k, c, kh, kw] as 6-bit codes (encode()'s,
 * value = (code - 32) * scale), their colour clamp and biases; NULL with
 * why set when there is nothing to draw. Offsets come from the tensor table
 * and are checked against n_params: a model whose layers and vector disagree
 * draws nothing rather than reading past the vector. */
static json_t *first_conv_json(const nncl_net_config *c, const float *params, size_t n_params, char *why,
                               size_t why_len)
{
    nncl_tensor_info t[NNCL_MAX_TENSORS];
    int count = 0, w = -1;
    if (nncl_net_config_tensors(c, t, &count) != NNCL_OK) {
        snprintf(why, why_len, "its layers could not be laid out: %s", nncl_last_error());
        return NULL;
    }
    for (int i = 0; i < count && w < 0; i++)
        if (t[i].ndim == 4)
            w = i;
    if (w < 0) {
        snprintf(why, why_len, "the network has no convolution layer");
        return NULL;
    }
    if (!params) {
        snprintf(why, why_len, "the run saved no model, so there are no filters to draw");
        return NULL;
    }
    int b = bias_of(t, count, w);
    if (!tensor_fits(&t[w], n_params) || (b >= 0 && !tensor_fits(&t[b], n_params))) {
        snprintf(why, why_len, "the model's parameters do not match its layers");
        return NULL;
    }
    if (t[w].len > MAX_FILTER_PARAMS) {
        snprintf(why, why_len, "the first convolution has %zu weights, more than the page draws", t[w].len);
        return NULL;
    }
    char *codes = malloc(t[w].len + 1);
    if (!codes) {
        snprintf(why, why_len, "out of memory for the filters");
        return NULL;
    }
    const float *x = params + t[w].offset;
    float clamp;
    float scale = encode(x, t[w].len, codes, &clamp);
    codes[t[w].len] = '\0';
    json_t *bias = json_array();
    for (size_t i = 0; b >= 0 && i < t[b].len; i++)
        json_array_append_new(bias, num(params[t[b].offset + i]));
    json_t *o = json_pack("{s:s, s:i, s:[I, I, I, I], s:s, s:f, s:f, s:o}", "name", t[w].name, "layer", t[w].layer,
                          "dims", (json_int_t)t[w].dims[0], (json_int_t)t[w].dims[1], (json_int_t)t[w].dims[2],
                          (json_int_t)t[w].dims[3], "codes", codes, "scale", (double)scale, "clamp",
                          clamp > 0 ? (double)clamp : 1.0, "bias", b >= 0 ? bias : json_null());
    if (b < 0)
        json_decref(bias);
    free(codes);
    return o;
}

json_t *report_layer_list_json(const nncl_net_config *c, const float *params, size_t n_params)
{
    char why[256] = "";
    size_t count = 0;
    if (nncl_net_config_param_count(c, &count) != NNCL_OK)
        count = 0;
    json_t *filters = first_conv_json(c, params, n_params, why, sizeof why);
    return json_pack("{s:[I, I, I], s:o, s:I, s:o, s:o}", "input_shape", (json_int_t)c->in_c, (json_int_t)c->in_h,
                     (json_int_t)c->in_w, "rows", describe_rows(c), "n_params", (json_int_t)count, "filters",
                     filters ? filters : json_null(), "filters_note", filters ? json_null() : json_string(why));
}

json_t *report_names_json(char **names, size_t n)
{
    if (!names)
        return json_null();
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(names[i] ? names[i] : ""));
    return a;
}

static json_t *net_json(const run_record *r)
{
    const nncl_net_config *c = &r->cfg;
    /* Only the dense form has W_l [sizes[l], sizes[l-1]]: a layer list's
     * sizes are its layers' flattened outputs, and its weights are told
     * by layer_list (every offset from nncl_net_config_tensors). */
    const bool dense = nncl_net_config_is_dense(c);
    json_t *sizes = json_array(), *layers = json_array();
    size_t off = 0;
    for (int l = 0; l <= c->layers; l++)
        json_array_append_new(sizes, json_integer((json_int_t)c->sizes[l]));
    for (int l = 0; dense && l < c->layers; l++) {
        size_t in = c->sizes[l], out = c->sizes[l + 1];
        json_array_append_new(layers, json_pack("{s:I, s:I, s:I, s:I}", "in", (json_int_t)in, "out", (json_int_t)out,
                                                "w_offset", (json_int_t)off, "b_offset", (json_int_t)(off + in * out)));
        off += out * (in + 1);
    }
    json_t *list = dense ? NULL : report_layer_list_json(c, r->has_model ? r->model.params : NULL, r->model.n_params);
    if (list)
        off = (size_t)json_integer_value(json_object_get(list, "n_params"));
    json_t *o = json_pack("{s:o, s:s, s:s, s:o, s:o, s:o, s:I, s:o}", "sizes", sizes, "activation", nncl_act_name(c->act),
                          "task", c->task == NNCL_TASK_CLASSIFY ? "classify" : "regress", "image",
                          r->image_h > 0 ? json_pack("[i, i]", r->image_h, r->image_w) : json_null(), "feature_names",
                          report_names_json(r->feature_names, c->sizes[0]), "class_names",
                          report_names_json(r->class_names, (size_t)r->num_classes), "n_params", (json_int_t)off,
                          "layers", layers);
    if (o && list) {
        json_object_set_new(o, "form", json_string("layers"));
        json_object_set_new(o, "layer_list", list);
    } else {
        json_decref(list);
    }
    return o;
}

static json_t *metrics_json(const run_record *r)
{
    const char *keys[] = {"epoch", "step", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr", "seconds"};
    json_t *a[8];
    for (int i = 0; i < 8; i++)
        a[i] = json_array();
    for (size_t e = 0; e < r->n_epochs; e++) {
        const nncl_epoch_metrics *m = &r->epochs[e];
        double v[8] = {m->epoch, (double)m->step, m->train_loss, m->train_accuracy, m->val_loss, m->val_accuracy,
                       m->lr, m->seconds};
        json_array_append_new(a[0], json_integer(m->epoch));
        json_array_append_new(a[1], json_integer((json_int_t)m->step));
        for (int i = 2; i < 8; i++)
            json_array_append_new(a[i], num(v[i]));
    }
    json_t *o = json_object();
    for (int i = 0; i < 8; i++)
        json_object_set_new(o, keys[i], a[i]);
    return o;
}

/* Per-frame series of the snapshots' scalars and per-layer statistics. */
static void series_json(const run_record *r, size_t frames, json_t *o)
{
    const char *keys[] = {"step", "epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr", "seconds"};
    for (int i = 0; i < 8; i++) {
        json_t *a = json_array();
        for (size_t k = 0; k < frames; k++) {
            const nncl_snapshot_info *in = run_record_frame_info(r, k);
            if (!in && i == 0) {
                json_t *steps = json_object_get(r->summary, "steps");
                json_array_append_new(a, json_is_integer(steps) ? json_incref(steps) : json_null());
                continue;
            }
            if (!in) {
                json_array_append_new(a, json_null());
                continue;
            }
            double v[8] = {(double)in->step, in->epoch, in->train_loss, in->train_accuracy, in->val_loss,
                           in->val_accuracy, in->lr, in->seconds};
            json_array_append_new(a, i == 0 ? json_integer((json_int_t)in->step) : num(v[i]));
        }
        json_object_set_new(o, keys[i], a);
    }
    const char *stat_keys[] = {"w_mean", "w_std", "w_min", "w_max", "b_mean", "b_std", "b_min", "b_max",
                               "grad_norm", "update_ratio", "dead_fraction"};
    json_t *layers = json_array();
    for (int l = 0; l < r->cfg.layers; l++) {
        json_t *lo = json_object();
        for (int i = 0; i < 11; i++) {
            json_t *a = json_array();
            for (size_t k = 0; k < frames; k++) {
                const nncl_snapshot_info *in = run_record_frame_info(r, k);
                const nncl_layer_stats *s = in ? &in->layer[l] : NULL;
                float v[11] = {0};
                if (s) {
                    float t[11] = {s->w_mean, s->w_std, s->w_min, s->w_max, s->b_mean, s->b_std, s->b_min,
                                   s->b_max, s->grad_norm, s->update_ratio, s->dead_fraction};
                    memcpy(v, t, sizeof v);
                }
                json_array_append_new(a, s ? num(v[i]) : json_null());
            }
            json_object_set_new(lo, stat_keys[i], a);
        }
        json_t *hist = json_array();
        for (size_t k = 0; k < frames; k++) {
            const nncl_snapshot_info *in = run_record_frame_info(r, k);
            if (!in) {
                json_array_append_new(hist, json_null());
                continue;
            }
            json_t *h = json_array();
            for (int b = 0; b < NNCL_SNAPSHOT_BINS + 2; b++)
                json_array_append_new(h, json_integer(in->layer[l].hist[b]));
            json_array_append_new(hist, h);
        }
        json_object_set_new(lo, "hist", hist);
        json_object_set_new(lo, "hist_range", r->snaps.count ? json_real(r->snaps.hist_range[l]) : json_null());
        json_array_append_new(layers, lo);
    }
    json_object_set_new(o, "layers", layers);
}

/* The report's frames, encoded on the host's workers: frame k's weights
 * (dequantised into the worker's buffer) to codes[k P ...] and its 2 L
 * scales to scales[k 2 L ...], and the last frame's colour clamps (W_l,
 * b_l) to colour[2 l ...]. Each frame's result depends on k alone. */
typedef struct frames_job {
    const run_record *r;
    size_t P;
    int L;
    size_t frames;
    char *codes;
    float *scales;
    float *colour;
    float *params[NNCL_HOST_MAX_WORKERS];
} frames_job;

static void encode_frame(void *arg, size_t k, int worker)
{
    const frames_job *j = arg;
    float *params = j->params[worker];
    run_record_frame_params(j->r, k, params);
    bool last = k + 1 == j->frames;
    size_t off = 0;
    for (int l = 0; l < j->L; l++) {
        size_t out = j->r->cfg.sizes[l + 1], nw = out * j->r->cfg.sizes[l];
        float *sc = j->scales + k * 2 * (size_t)j->L + 2 * (size_t)l;
        sc[0] = encode(params + off, nw, j->codes + k * j->P + off, last ? &j->colour[2 * l] : NULL);
        sc[1] = encode(params + off + nw, out, j->codes + k * j->P + off + nw, last ? &j->colour[2 * l + 1] : NULL);
        off += nw + out;
    }
}

nncl_status report_data(const run_record *r, json_t **data_out, char **codes_out, size_t *codes_len)
{
    *data_out = NULL;
    *codes_out = NULL;
    *codes_len = 0;
    const int L = r->cfg.layers;
    /* Frames (snapshots, or the final model) are drawn as dense layers: a
     * layer list has none here, and shows its filters from net_json. */
    const bool dense = nncl_net_config_is_dense(&r->cfg);
    size_t frames = dense ? run_record_frames(r) : 0, P = 0;
    for (int l = 0; dense && l < L; l++)
        P += r->cfg.sizes[l + 1] * (r->cfg.sizes[l] + 1);
    size_t stored = r->snaps.count > 0 ? r->snaps.n_params : r->model.n_params;
    if (frames > 0 && stored != P)
        return nncl_fail(NNCL_E_FORMAT, "%s: the %s hold %zu parameters, the network %zu", r->dir,
                         r->snaps.count > 0 ? "snapshots" : "model", stored, P);
    char *codes = malloc(frames * P + 1);
    /* (at least one of each: a layer list's config counts no dense layers) */
    size_t per_frame = 2 * (size_t)(L > 0 ? L : 1);
    float *fscales = malloc((frames ? frames : 1) * per_frame * sizeof *fscales);
    float *colour = malloc(per_frame * sizeof *colour);
    /* one parameter buffer per worker, at most 64 MB of them in all */
    int workers = nncl_host_workers();
    size_t most = ((size_t)64 << 20) / ((P ? P : 1) * sizeof(float));
    if ((size_t)workers > most)
        workers = most ? (int)most : 1;
    frames_job job = {r, P, L, frames, codes, fscales, colour, {NULL}};
    bool ok = codes && fscales && colour;
    for (int w = 0; w < workers && ok; w++)
        ok = (job.params[w] = malloc((P ? P : 1) * sizeof(float))) != NULL;
    if (!ok) {
        for (int w = 0; w < workers; w++)
            free(job.params[w]);
        free(codes);
        free(fscales);
        free(colour);
        return nncl_fail(NNCL_E_NOMEM, "out of memory for the report's %zu frames", frames);
    }
    /* every frame on its own (the host's workers), then the JSON in order */
    nncl_host_for(frames, workers, encode_frame, &job);
    for (int w = 0; w < workers; w++)
        free(job.params[w]);
    json_t *frames_j = json_null();
    if (frames > 0) {
        json_t *scales = json_array(), *clamp = json_array(), *bias_clamp = json_array();
        for (size_t k = 0; k < frames; k++) {
            json_t *s = json_array();
            for (int i = 0; i < 2 * L; i++)
                json_array_append_new(s, json_real(fscales[k * 2 * (size_t)L + (size_t)i]));
            json_array_append_new(scales, s);
        }
        /* The colour domain is the last frame's, fixed through time, so a
         * growing weight shows as a deepening colour. */
        for (int l = 0; l < L; l++) {
            json_array_append_new(clamp, json_real(colour[2 * l] > 0 ? colour[2 * l] : 1.0));
            json_array_append_new(bias_clamp, json_real(colour[2 * l + 1] > 0 ? colour[2 * l + 1] : 1.0));
        }
        frames_j = json_pack("{s:I, s:s, s:o, s:o, s:o}", "count", (json_int_t)frames, "source",
                             r->snaps.count ? "snapshots" : "model", "scale", scales, "clamp", clamp, "bias_clamp",
                             bias_clamp);
        series_json(r, frames, frames_j);
    }
    codes[frames * P] = '\0';
    free(fscales);
    free(colour);

    json_t *missing = json_array();
    for (int i = 0; i < r->n_missing; i++)
        json_array_append_new(missing, json_string(r->missing[i]));
    const char *base = strrchr(r->dir, '/');
    json_t *d = json_pack("{s:i, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "format", 1, "title", base ? base + 1 : r->dir,
                          "config", copy_or_null(r->config), "summary", copy_or_null(r->summary), "net", net_json(r),
                          "metrics", metrics_json(r), "frames", frames_j, "test", copy_or_null(r->evaluation),
                          "missing", missing);
    if (!d) {
        free(codes);
        return nncl_fail(NNCL_E_NOMEM, "out of memory for the report's data");
    }
    *data_out = d;
    *codes_out = codes;
    *codes_len = frames * P;
    return NNCL_OK;
}
