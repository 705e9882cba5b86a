/* Snapshots: when to take them, and the statistics of each, computed on the
 * host from copies of the flat parameter and gradient vectors. */
#include <math.h>
#include <string.h>

#include "nncl/snapshot.h"

size_t nncl_snapshot_schedule(size_t count, uint64_t total_steps, uint64_t *steps)
{
    if (count == 0)
        return 0;
    if (total_steps + 1 <= count) {
        for (uint64_t s = 0; s <= total_steps; s++)
            steps[s] = s;
        return (size_t)total_steps + 1;
    }
    if (count == 1) {
        steps[0] = total_steps;
        return 1;
    }
    /* k * T / (count - 1), rounded: strictly increasing because T >= count. */
    size_t n = 0;
    for (size_t k = 0; k < count; k++) {
        uint64_t s = (uint64_t)(((unsigned __int128)k * total_steps * 2 + (count - 1)) / (2 * (count - 1)));
        if (n == 0 || s > steps[n - 1])
            steps[n++] = s;
    }
    return n;
}

/* Mean, standard deviation (population), min and max of x[0..n), in one
 * pass with double sums (the snapshots' cost is part of training's). */
static void moments(const float *x, size_t n, float *mean, float *sd, float *lo, float *hi)
{
    if (n == 0) {
        *mean = *sd = *lo = *hi = NAN;
        return;
    }
    double s = 0, s2 = 0;
    float mn = x[0], mx = x[0];
    for (size_t i = 0; i < n; i++) {
        s += x[i];
        s2 += (double)x[i] * x[i];
        mn = x[i] < mn ? x[i] : mn;
        mx = x[i] > mx ? x[i] : mx;
    }
    double m = s / (double)n, v = s2 / (double)n - m * m;
    *mean = (float)m;
    *sd = (float)sqrt(v > 0 ? v : 0);
    *lo = mn;
    *hi = mx;
}

static double sum_squares(const float *x, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)x[i] * x[i];
    return s;
}

/* ||a - b||^2 and ||b||^2 in one pass. */
static void diff_squares(const float *a, const float *b, size_t n, double *diff, double *base)
{
    double d = 0, s = 0;
    for (size_t i = 0; i < n; i++) {
        d += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        s += (double)b[i] * b[i];
    }
    *diff = d;
    *base = s;
}

void nncl_snapshot_hist_range(const nncl_net_config *cfg, const float *params, float *hist_range)
{
    size_t off = 0;
    for (int l = 0; l < cfg->layers; l++) {
        size_t nw = cfg->sizes[l + 1] * cfg->sizes[l];
        float m = 0;
        for (size_t i = 0; i < nw; i++)
            m = fabsf(params[off + i]) > m ? fabsf(params[off + i]) : m;
        hist_range[l] = m > 0 && isfinite(m) ? 2 * m : 1.0f;
        off += nw + cfg->sizes[l + 1];
    }
}

static void histogram(const float *w, size_t n, float range, uint32_t *hist)
{
    memset(hist, 0, (NNCL_SNAPSHOT_BINS + 2) * sizeof *hist);
    const float per_bin = (float)NNCL_SNAPSHOT_BINS / (2 * range);
    for (size_t i = 0; i < n; i++) {
        float x = w[i];
        int b;
        if (x < -range)
            b = 0;
        else if (x > range)
            b = NNCL_SNAPSHOT_BINS + 1;
        else if (x == x) {
            b = 1 + (int)((x + range) * per_bin);
            b = b > NNCL_SNAPSHOT_BINS ? NNCL_SNAPSHOT_BINS : b;    /* x == range */
        } else
            b = NNCL_SNAPSHOT_BINS + 1;     /* NaN counts as off the scale */
        hist[b]++;
    }
}

void nncl_snapshot_stats(const nncl_net_config *cfg, const float *params, const float *prev,
                         const float *grads, const float *hist_range, nncl_snapshot_info *info)
{
    size_t off = 0;
    for (int l = 0; l < cfg->layers; l++) {
        nncl_layer_stats *s = &info->layer[l];
        size_t out = cfg->sizes[l + 1], nw = out * cfg->sizes[l];
        const float *w = params + off, *b = w + nw;
        moments(w, nw, &s->w_mean, &s->w_std, &s->w_min, &s->w_max);
        moments(b, out, &s->b_mean, &s->b_std, &s->b_min, &s->b_max);
        histogram(w, nw, hist_range[l], s->hist);
        s->grad_norm = grads ? (float)sqrt(sum_squares(grads + off, nw + out)) : NAN;
        if (prev) {
            double diff, before;
            diff_squares(w, prev + off, nw, &diff, &before);
            s->update_ratio = before > 0 ? (float)sqrt(diff / before) : NAN;
        } else {
            s->update_ratio = NAN;
        }
        off += nw + out;
    }
}
