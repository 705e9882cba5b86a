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

/* The sums the statistics need, in one pass each, fast enough to take 60
 * times during a run that lasts seconds: float lanes over short blocks (8
 * independent accumulators the compiler can vectorise, 32 terms each, so
 * the rounding stays near float's), added into doubles once per block. */
#define LANES 8
#define BLOCK 256

typedef struct sums {
    double s, s2;       /* sum x, sum x^2 */
    float lo, hi;       /* min, max (NaN ignored) */
} sums;

static sums sum_of(const float *x, size_t n)
{
    sums r = {0, 0, INFINITY, -INFINITY};
    for (size_t b = 0; b < n; b += BLOCK) {
        size_t m = n - b < BLOCK ? n - b : BLOCK, i = 0;
        float a[LANES] = {0}, q[LANES] = {0}, lo[LANES], hi[LANES];
        for (int l = 0; l < LANES; l++)
            lo[l] = INFINITY, hi[l] = -INFINITY;
        for (; i + LANES <= m; i += LANES)
            for (int l = 0; l < LANES; l++) {
                float v = x[b + i + (size_t)l];
                a[l] += v;
                q[l] += v * v;
                lo[l] = v < lo[l] ? v : lo[l];
                hi[l] = v > hi[l] ? v : hi[l];
            }
        for (; i < m; i++) {
            float v = x[b + i];
            a[0] += v;
            q[0] += v * v;
            lo[0] = v < lo[0] ? v : lo[0];
            hi[0] = v > hi[0] ? v : hi[0];
        }
        for (int l = 0; l < LANES; l++) {
            r.s += a[l];
            r.s2 += q[l];
            r.lo = lo[l] < r.lo ? lo[l] : r.lo;
            r.hi = hi[l] > r.hi ? hi[l] : r.hi;
        }
    }
    return r;
}

/* sum (a - b)^2 and sum b^2, the same way. */
static void diff_squares(const float *a, const float *b, size_t n, double *diff, double *base)
{
    double d = 0, s = 0;
    for (size_t k = 0; k < n; k += BLOCK) {
        size_t m = n - k < BLOCK ? n - k : BLOCK, i = 0;
        float dl[LANES] = {0}, sl[LANES] = {0};
        for (; i + LANES <= m; i += LANES)
            for (int l = 0; l < LANES; l++) {
                float e = a[k + i + (size_t)l] - b[k + i + (size_t)l];
                dl[l] += e * e;
                sl[l] += b[k + i + (size_t)l] * b[k + i + (size_t)l];
            }
        for (; i < m; i++) {
            float e = a[k + i] - b[k + i];
            dl[0] += e * e;
            sl[0] += b[k + i] * b[k + i];
        }
        for (int l = 0; l < LANES; l++) {
            d += dl[l];
            s += sl[l];
        }
    }
    *diff = d;
    *base = s;
}

/* Mean, standard deviation (population), min and max of x[0..n). */
static void moments(const float *x, size_t n, float *mean, float *sd, float *lo, float *hi)
{
    if (n == 0) {
        *mean = *sd = *lo = *hi = NAN;
        return;
    }
    sums r = sum_of(x, n);
    double m = r.s / (double)n, v = r.s2 / (double)n - m * m;
    *mean = (float)m;
    *sd = (float)sqrt(v > 0 ? v : 0);
    /* A NaN anywhere makes the mean NaN; min and max report it too. */
    *lo = isnan(r.s) ? NAN : r.lo;
    *hi = isnan(r.s) ? NAN : r.hi;
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

/* Four interleaved copies of the counts: consecutive weights mostly fall
 * in the same few bins, and one copy would make every increment wait for
 * the last (the usual histogram stall); the bin is chosen without branches. */
static inline int bin_of(float x, float range, float per_bin)
{
    enum { B = NNCL_SNAPSHOT_BINS };
    float t = (x + range) * per_bin;
    int in = 1 + (int)(t < (float)B ? (t > 0.0f ? t : 0.0f) : (float)(B - 1));    /* x == R: the last bin */
    /* below -R: bin 0; above R, or NaN: the last */
    return x < -range ? 0 : (x > range || x != x) ? B + 1 : in;
}

static void histogram(const float *w, size_t n, float range, uint32_t *hist)
{
    enum { B = NNCL_SNAPSHOT_BINS, COPIES = 4 };
    uint32_t h[COPIES][B + 2];
    memset(h, 0, sizeof h);
    const float per_bin = (float)B / (2 * range);
    /* Bins of a block first (a loop the compiler vectorises), then counts. */
    unsigned char bins[BLOCK];
    for (size_t k = 0; k < n; k += BLOCK) {
        size_t m = n - k < BLOCK ? n - k : BLOCK, i = 0;
        for (size_t j = 0; j < m; j++)
            bins[j] = (unsigned char)bin_of(w[k + j], range, per_bin);
        for (; i + COPIES <= m; i += COPIES)
            for (int c = 0; c < COPIES; c++)
                h[c][bins[i + (size_t)c]]++;
        for (; i < m; i++)
            h[0][bins[i]]++;
    }
    for (int b = 0; b < B + 2; b++)
        hist[b] = h[0][b] + h[1][b] + h[2][b] + h[3][b];
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
        s->grad_norm = grads ? (float)sqrt(sum_of(grads + off, nw + out).s2) : NAN;
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
