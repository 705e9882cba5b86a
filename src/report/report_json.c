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
#include <stdlib.h>
#include <string.h>

#include "report/report_json.h"
#include "util/base64.h"

#define CLAMP_PERCENTILE 0.995
#define COLOUR_PERCENTILE 0.99
#define PCT_BINS 2048

static json_t *num(double v) { return isfinite(v) ? json_real(v) : json_null(); }

/* The p-quantile of |x[0..n)| (finite values), from a histogram of
 * |x| / max|x|: exact to 1/PCT_BINS of the maximum. */
static float abs_quantile(const float *x, size_t n, double p)
{
    float m = 0;
    for (size_t i = 0; i < n; i++)
        m = isfinite(x[i]) && fabsf(x[i]) > m ? fabsf(x[i]) : m;
    if (!(m > 0))
        return 0.0f;
    size_t hist[PCT_BINS] = {0}, finite = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]))
            continue;
        size_t b = (size_t)(fabsf(x[i]) / m * (PCT_BINS - 1));
        hist[b]++;
        finite++;
    }
    size_t want = (size_t)ceil(p * (double)finite), seen = 0;
    for (size_t b = 0; b < PCT_BINS; b++) {
        seen += hist[b];
        if (seen >= want && seen > 0)
            return m * (float)(b + 1) / (PCT_BINS - 1);
    }
    return m;
}

/* One tensor to codes; returns its scale. */
static float encode(const float *x, size_t n, char *out)
{
    float clamp = abs_quantile(x, n, CLAMP_PERCENTILE);
    float scale = clamp / 31.0f, inv = clamp > 0 ? 31.0f / clamp : 0.0f;
    for (size_t i = 0; i < n; i++) {
        float v = isfinite(x[i]) ? x[i] * inv : (x[i] > 0 ? 31.0f : x[i] < 0 ? -31.0f : 0.0f);
        v = v > 31.0f ? 31.0f : v < -31.0f ? -31.0f : v;
        out[i] = BASE64_DIGITS[32 + (int)lrintf(v)];
    }
    return scale;
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
        json_array_append_new(scales, json_real(encode(params + off, nw, codes + written)));
        json_array_append_new(scales, json_real(encode(params + off + nw, out, codes + written + nw)));
        if (clamp) {
            float w = abs_quantile(params + off, nw, COLOUR_PERCENTILE);
            json_array_append_new(clamp, json_real(w > 0 ? w : 1.0));
        }
        if (bias_clamp) {
            float b = abs_quantile(params + off + nw, out, COLOUR_PERCENTILE);
            json_array_append_new(bias_clamp, json_real(b > 0 ? b : 1.0));
        }
        off += nw + out;
        written += nw + out;
    }
    return written;
}

static json_t *copy_or_null(json_t *v) { return v ? json_deep_copy(v) : json_null(); }

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
    json_t *sizes = json_array(), *layers = json_array();
    size_t off = 0;
    for (int l = 0; l <= c->layers; l++)
        json_array_append_new(sizes, json_integer((json_int_t)c->sizes[l]));
    for (int l = 0; l < c->layers; l++) {
        size_t in = c->sizes[l], out = c->sizes[l + 1];
        json_array_append_new(layers, json_pack("{s:I, s:I, s:I, s:I}", "in", (json_int_t)in, "out", (json_int_t)out,
                                                "w_offset", (json_int_t)off, "b_offset", (json_int_t)(off + in * out)));
        off += out * (in + 1);
    }
    return json_pack("{s:o, s:s, s:s, s:o, s:o, s:o, s:I, s:o}", "sizes", sizes, "activation", nncl_act_name(c->act),
                     "task", c->task == NNCL_TASK_CLASSIFY ? "classify" : "regress", "image",
                     r->image_h > 0 ? json_pack("[i, i]", r->image_h, r->image_w) : json_null(), "feature_names",
                     report_names_json(r->feature_names, c->sizes[0]), "class_names",
                     report_names_json(r->class_names, (size_t)r->num_classes), "n_params", (json_int_t)off, "layers",
                     layers);
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

nncl_status report_data(const run_record *r, json_t **data_out, char **codes_out, size_t *codes_len)
{
    *data_out = NULL;
    *codes_out = NULL;
    *codes_len = 0;
    const int L = r->cfg.layers;
    size_t frames = run_record_frames(r), P = 0;
    for (int l = 0; l < L; l++)
        P += r->cfg.sizes[l + 1] * (r->cfg.sizes[l] + 1);
    float *params = malloc((P ? P : 1) * sizeof *params);
    char *codes = malloc(frames * P + 1);
    if (!params || !codes) {
        free(params);
        free(codes);
        return nncl_fail(NNCL_E_NOMEM, "out of memory for the report's %zu frames", frames);
    }
    json_t *frames_j = json_null();
    if (frames > 0) {
        json_t *scales = json_array(), *clamp = json_array(), *bias_clamp = json_array();
        for (size_t k = 0; k < frames; k++) {
            run_record_frame_params(r, k, params);
            json_t *s = json_array();
            /* The colour domain is the last frame's, fixed through time,
             * so a growing weight shows as a deepening colour. */
            bool last = k == frames - 1;
            report_encode_params(&r->cfg, params, NULL, codes + k * P, s, last ? clamp : NULL,
                                 last ? bias_clamp : NULL);
            json_array_append_new(scales, s);
        }
        frames_j = json_pack("{s:I, s:s, s:o, s:o, s:o}", "count", (json_int_t)frames, "source",
                             r->snaps.count ? "snapshots" : "model", "scale", scales, "clamp", clamp, "bias_clamp",
                             bias_clamp);
        series_json(r, frames, frames_j);
    }
    codes[frames * P] = '\0';
    free(params);

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
