/* pool2d_fwd, pool2d_bwd: max and average pooling over square windows.
 * Kernels: cl/pool.cl. The host twins are the formulas of ops.h as loops,
 * in the kernels' order (averages summed in double: the oracle should be
 * the more accurate side). */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "device/opencl_impl.h"
#include "ops/conv_impl.h"
#include "ops/op_util.h"
#include "ops/host_split.h"

static nncl_status check_shape(const nncl_pool2d_shape *s, nncl_pool kind, const char *op)
{
    if (kind != NNCL_POOL_MAX && kind != NNCL_POOL_AVG)
        return nncl_fail(NNCL_E_INVALID, "%s: unknown pooling %d", op, (int)kind);
    if (!s->n || !s->c || !s->h || !s->w || !s->window || !s->stride || !s->oh || !s->ow)
        return nncl_fail(NNCL_E_INVALID, "%s: sizes must be >= 1 (input %zux%zux%zux%zu, window %zu, stride %zu, "
                         "output %zux%zu)", op, s->n, s->c, s->h, s->w, s->window, s->stride, s->oh, s->ow);
    /* The kernels divide within a plane through float (cl/pool.cl): planes
     * below 2^20 pixels (1024 x 1024), the whole input below 2^31. */
    if (s->h > 65535 || s->w > 65535 || s->h * s->w >= (1u << 20) || s->window > 65535 || s->stride > 65535 ||
        s->c > INT32_MAX || s->n > INT32_MAX || s->n * s->c > INT32_MAX / (s->h * s->w))
        return nncl_fail(NNCL_E_UNSUPPORTED, "%s: an input of %zux%zux%zux%zu is too large (planes of up to 2^20 "
                         "pixels, 2^31 elements in all)", op, s->n, s->c, s->h, s->w);
    /* Every window lies inside the input (no padding). */
    if ((s->oh - 1) * s->stride + s->window > s->h || (s->ow - 1) * s->stride + s->window > s->w)
        return nncl_fail(NNCL_E_INVALID, "%s: an output of %zux%zu windows of %zu, stride %zu, does not fit the "
                         "%zux%zu input", op, s->oh, s->ow, s->window, s->stride, s->h, s->w);
    return NNCL_OK;
}

static size_t in_len(const nncl_pool2d_shape *s) { return s->n * s->c * s->h * s->w; }
static size_t out_len(const nncl_pool2d_shape *s) { return s->n * s->c * s->oh * s->ow; }

nncl_status nncl_check_pool2d_fwd(const nncl_device *dev, const nncl_pool2d_fwd_args *a)
{
    nncl_status st = check_shape(&a->s, a->kind, "pool2d_fwd");
    if (st == NNCL_OK)
        st = nncl_view_check(dev, a->x, sizeof(float), in_len(&a->s), "pool2d_fwd: x");
    if (st == NNCL_OK)
        st = nncl_view_check_out(dev, a->y, sizeof(float), out_len(&a->s), "pool2d_fwd: y");
    if (st == NNCL_OK && a->idx.buf)
        st = nncl_view_check_out(dev, a->idx, sizeof(int32_t), out_len(&a->s), "pool2d_fwd: idx");
    return st;
}

nncl_status nncl_check_pool2d_bwd(const nncl_device *dev, const nncl_pool2d_bwd_args *a)
{
    nncl_status st = check_shape(&a->s, a->kind, "pool2d_bwd");
    if (st == NNCL_OK && a->kind == NNCL_POOL_MAX && !a->idx.buf)
        st = nncl_fail(NNCL_E_INVALID, "pool2d_bwd: max pooling needs the forward pass's idx");
    if (st == NNCL_OK)
        st = nncl_view_check(dev, a->dy, sizeof(float), out_len(&a->s), "pool2d_bwd: dy");
    if (st == NNCL_OK && a->kind == NNCL_POOL_MAX)
        st = nncl_view_check(dev, a->idx, sizeof(int32_t), out_len(&a->s), "pool2d_bwd: idx");
    if (st == NNCL_OK)
        st = nncl_view_check_out(dev, a->dx, sizeof(float), in_len(&a->s), "pool2d_bwd: dx");
    return st;
}

/* ---- host twins ---------------------------------------------------------------------- */

/* One 2x2 max window's result, the loops' rule exactly: the first maximum
 * in row-major order, a NaN winning once met. */
static inline void max4_exact(const float v[4], const size_t at[4], float *best_out, size_t *arg_out)
{
    float best = v[0];
    size_t arg = at[0];
    for (int t = 1; t < 4; t++)
        if (!isnan(best) && (v[t] > best || isnan(v[t]))) {
            best = v[t];
            arg = at[t];
        }
    *best_out = best;
    *arg_out = arg;
}

/* One output row of stride-2 2x2 max pooling without NaNs, and its
 * argmax: the strict > keeps the first maximum in row-major order. */
static void max2x2_row_idx(const float *restrict r0, const float *restrict r1, float *restrict yo,
                           int32_t *restrict io, size_t ow, int32_t first, int32_t w)
{
    for (size_t j = 0; j < ow; j++) {
        float a = r0[2 * j], b = r0[2 * j + 1], c = r1[2 * j], d = r1[2 * j + 1];
        /* the selects on the offset as masks: with ?: the compiler kept a
         * branch per window and the loop scalar */
        float m = a;
        int32_t t = 0, k;
        k = -(int32_t)(b > m);
        t = (t & ~k) | (1 & k);
        m = b > m ? b : m;
        k = -(int32_t)(c > m);
        t = (t & ~k) | (w & k);
        m = c > m ? c : m;
        k = -(int32_t)(d > m);
        t = (t & ~k) | ((w + 1) & k);
        m = d > m ? d : m;
        yo[j] = m;
        io[j] = first + 2 * (int32_t)j + t;
    }
}

/* Output rows [r_lo, r_hi) of the n*c*oh rows of a 2x2 max pooling. With
 * stride 2 a row is done branch-free first (selects the compiler can
 * vectorise: the strict > keeps the first maximum, as the rule says) while
 * noting whether any input was a NaN; only such a row is redone with the
 * exact rule, where a NaN wins. */
static void max2x2_rows(const nncl_pool2d_shape *s, const float *x, float *y, int32_t *idx, size_t r_lo,
                        size_t r_hi)
{
    size_t S = s->stride, W = s->w;
    for (size_t r = r_lo; r < r_hi; r++) {
        size_t p = r / s->oh, i = r % s->oh;
        const float *plane = x + p * s->h * W;
        const float *r0 = plane + i * S * W, *r1 = r0 + W;
        size_t o = r * s->ow, first = i * S * W;
        float *yo = y + o;
        int nan = 1;
        if (S == 2) {
            /* the NaN test first, on its own (an integer OR the compiler
             * can vectorise), then the selects */
            nan = 0;
            for (size_t j = 0; j < 2 * s->ow; j++)
                nan |= (r0[j] != r0[j]) | (r1[j] != r1[j]);
            if (!nan && idx)
                max2x2_row_idx(r0, r1, yo, idx + o, s->ow, (int32_t)first, (int32_t)W);
            else if (!nan)
                for (size_t j = 0; j < s->ow; j++) {
                    float a = r0[2 * j], b = r0[2 * j + 1], c = r1[2 * j], d = r1[2 * j + 1];
                    float m = b > a ? b : a;
                    m = c > m ? c : m;
                    yo[j] = d > m ? d : m;
                }
        }
        if (!nan)
            continue;
        for (size_t j = 0; j < s->ow; j++) {
            size_t q = j * S;
            float v[4] = {r0[q], r0[q + 1], r1[q], r1[q + 1]}, best;
            size_t at[4] = {first + q, first + q + 1, first + W + q, first + W + q + 1}, arg;
            max4_exact(v, at, &best, &arg);
            yo[j] = best;
            if (idx)
                idx[o + j] = (int32_t)arg;
        }
    }
}

typedef struct pool_job {
    const nncl_pool2d_fwd_args *fa;
    const nncl_pool2d_bwd_args *ba;
} pool_job;

static void max2x2_part(void *arg, size_t lo, size_t hi)
{
    const nncl_pool2d_fwd_args *a = ((pool_job *)arg)->fa;
    max2x2_rows(&a->s, nncl_host_f32(a->x), nncl_host_f32(a->y), a->idx.buf ? nncl_host_i32(a->idx) : NULL, lo,
                hi);
}

nncl_status nncl_host_pool2d_fwd(nncl_device *dev, const nncl_pool2d_fwd_args *a)
{
    (void)dev;
    const nncl_pool2d_shape *s = &a->s;
    const float *x = nncl_host_f32(a->x);
    float *y = nncl_host_f32(a->y);
    int32_t *idx = a->idx.buf ? nncl_host_i32(a->idx) : NULL;
    size_t S = s->stride, win = s->window;
    if (a->kind == NNCL_POOL_MAX && win == 2) {
        /* The usual 2x2 window, unrolled, its output rows split over the
         * workers (nncl_host_range). (Unrolled, with the backward's scatter
         * below, the host's 2x2 pooling at the CNNs' shapes went from 25-48
         * to 4-16 ms, fwd + bwd, on this noisy machine; made branch-free and
         * split, see tools/BENCHMARKS.md.) */
        pool_job job = {.fa = a};
        nncl_host_range(s->n * s->c * s->oh, 16, max2x2_part, &job);
        return NNCL_OK;
    }
    for (size_t p = 0; p < s->n * s->c; p++) {
        const float *plane = x + p * s->h * s->w;
        for (size_t i = 0; i < s->oh; i++)
            for (size_t j = 0; j < s->ow; j++) {
                size_t o = (p * s->oh + i) * s->ow + j, first = i * S * s->w + j * S;
                if (a->kind == NNCL_POOL_MAX) {
                    /* the first maximum in row-major order; a NaN, once met, wins */
                    float best = plane[first];
                    size_t arg = first;
                    for (size_t r = i * S; r < i * S + win && !isnan(best); r++)
                        for (size_t q = j * S; q < j * S + win && !isnan(best); q++) {
                            float v = plane[r * s->w + q];
                            if (v > best || isnan(v)) {
                                best = v;
                                arg = r * s->w + q;
                            }
                        }
                    y[o] = best;
                    if (idx)
                        idx[o] = (int32_t)arg;
                } else {
                    double sum = 0;
                    for (size_t r = i * S; r < i * S + win; r++)
                        for (size_t q = j * S; q < j * S + win; q++)
                            sum += plane[r * s->w + q];
                    y[o] = (float)(sum / (double)(win * win));
                }
            }
    }
    return NNCL_OK;
}

/* Max pooling's backward with disjoint windows, planes [lo, hi): each
 * plane zeroed, then each window's term put at its maximum. */
static void scatter_max_part(void *arg, size_t lo, size_t hi)
{
    const nncl_pool2d_bwd_args *a = ((pool_job *)arg)->ba;
    const nncl_pool2d_shape *s = &a->s;
    const float *dy = nncl_host_f32(a->dy);
    const int32_t *idx = nncl_host_i32(a->idx);
    float *dx = nncl_host_f32(a->dx);
    size_t hw = s->h * s->w, ohw = s->oh * s->ow;
    memset(dx + lo * hw, 0, (hi - lo) * hw * sizeof *dx);
    for (size_t p = lo; p < hi; p++)
        for (size_t o = p * ohw; o < (p + 1) * ohw; o++)
            dx[p * hw + (size_t)idx[o]] = dy[o] + 0.0f; /* + 0.0f: the loops' double sum 0 + -0 is +0 */
}

nncl_status nncl_host_pool2d_bwd(nncl_device *dev, const nncl_pool2d_bwd_args *a)
{
    (void)dev;
    const nncl_pool2d_shape *s = &a->s;
    const float *dy = nncl_host_f32(a->dy);
    const int32_t *idx = a->kind == NNCL_POOL_MAX ? nncl_host_i32(a->idx) : NULL;
    float *dx = nncl_host_f32(a->dx);
    size_t S = s->stride, win = s->window;
    if (S >= win) {
        /* Disjoint windows: each pixel has at most one, so the sum below is
         * that window's term or 0, and scattering the windows gives the same
         * values without a division per pixel. (+ 0.0f: the loops' double
         * sum 0 + -0 is +0.) */
        if (idx) { /* max: the planes split over the workers */
            pool_job job = {.ba = a};
            nncl_host_range(s->n * s->c, 4, scatter_max_part, &job);
            return NNCL_OK;
        }
        size_t hw = s->h * s->w;
        memset(dx, 0, s->n * s->c * hw * sizeof *dx);
        for (size_t p = 0; p < s->n * s->c; p++)
            for (size_t i = 0; i < s->oh; i++)
                for (size_t j = 0; j < s->ow; j++) {
                    size_t o = (p * s->oh + i) * s->ow + j;
                    if (idx) {
                        dx[p * hw + (size_t)idx[o]] = dy[o] + 0.0f;
                        continue;
                    }
                    float v = (float)((double)dy[o] / (double)(win * win));
                    for (size_t r = i * S; r < i * S + win; r++)
                        for (size_t q = j * S; q < j * S + win; q++)
                            dx[p * hw + r * s->w + q] = v;
                }
        return NNCL_OK;
    }
    for (size_t p = 0; p < s->n * s->c; p++)
        for (size_t r = 0; r < s->h; r++)
            for (size_t q = 0; q < s->w; q++) {
                /* the windows (i, j) with i*S <= r < i*S + win, likewise j, in the
                 * kernel's order (decreasing i, then j) */
                size_t i_hi = r / S < s->oh - 1 ? r / S : s->oh - 1, j_hi = q / S < s->ow - 1 ? q / S : s->ow - 1;
                double sum = 0;
                for (size_t i = i_hi + 1; i > 0 && (i - 1) * S + win > r; i--)
                    for (size_t j = j_hi + 1; j > 0 && (j - 1) * S + win > q; j--) {
                        size_t o = (p * s->oh + i - 1) * s->ow + j - 1;
                        if (!idx || (size_t)idx[o] == r * s->w + q)
                            sum += dy[o];
                    }
                dx[(p * s->h + r) * s->w + q] = (float)(idx ? sum : sum / (double)(win * win));
            }
    return NNCL_OK;
}

/* ---- OpenCL dispatchers ------------------------------------------------------------------ */

#define POOL_SHAPE_ARGS(s)                                                                                  \
    nncl_arg_int((int)((s)->n * (s)->c)), nncl_arg_int((int)(s)->h), nncl_arg_int((int)(s)->w),             \
        nncl_arg_int((int)(s)->window), nncl_arg_int((int)(s)->stride), nncl_arg_int((int)(s)->oh),        \
        nncl_arg_int((int)(s)->ow)

nncl_status nncl_cl_pool2d_fwd(nncl_device *dev, const nncl_pool2d_fwd_args *a)
{
    size_t global[2] = {a->s.oh * a->s.ow, a->s.n * a->s.c}, rows = a->s.n * a->s.c * a->s.oh;
    bool has_idx = a->idx.buf != NULL, cpu = nncl_conv_cpu_form(dev);
    /* Without idx a valid buffer (never written) still goes to the kernel.
     * CPUs take the row per work-item form (cl/pool.cl says why). */
    return nncl_cl_launch(dev, cpu ? "pool2d_fwd_rows" : "pool2d_fwd", cpu ? 1 : 2, cpu ? &rows : global, NULL,
                          NNCL_CL_ARGS(nncl_arg_buf(a->x.buf), nncl_arg_ulong(a->x.off), nncl_arg_buf(a->y.buf),
                                       nncl_arg_ulong(a->y.off), nncl_arg_buf(has_idx ? a->idx.buf : a->y.buf),
                                       nncl_arg_ulong(has_idx ? a->idx.off : 0), nncl_arg_int(has_idx),
                                       nncl_arg_int((int)a->kind), POOL_SHAPE_ARGS(&a->s)));
}

nncl_status nncl_cl_pool2d_bwd(nncl_device *dev, const nncl_pool2d_bwd_args *a)
{
    size_t global[2] = {a->s.h * a->s.w, a->s.n * a->s.c};
    bool has_idx = a->kind == NNCL_POOL_MAX;
    /* Windows that do not overlap (the usual stride = window) have a kernel
     * without loops: each pixel has at most one window to read. */
    bool disjoint = a->s.stride >= a->s.window, rows_form = disjoint && nncl_conv_cpu_form(dev);
    size_t rows = a->s.n * a->s.c * a->s.oh;
    const char *kernel = rows_form ? "pool2d_bwd_rows" : disjoint ? "pool2d_bwd_disjoint" : "pool2d_bwd";
    return nncl_cl_launch(dev, kernel, rows_form ? 1 : 2, rows_form ? &rows : global, NULL,
                          NNCL_CL_ARGS(nncl_arg_buf(a->dy.buf), nncl_arg_ulong(a->dy.off),
                                       nncl_arg_buf(has_idx ? a->idx.buf : a->dy.buf),
                                       nncl_arg_ulong(has_idx ? a->idx.off : 0), nncl_arg_buf(a->dx.buf),
                                       nncl_arg_ulong(a->dx.off), nncl_arg_int((int)a->kind),
                                       POOL_SHAPE_ARGS(&a->s)));
}
