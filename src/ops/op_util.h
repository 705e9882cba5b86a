/* Small helpers shared by the op files in src/ops/: size arithmetic that
 * cannot overflow silently, and the fixed work-group sizes of the reduction
 * kernels. Private to the library. */
#ifndef NNCL_OP_UTIL_H
#define NNCL_OP_UTIL_H

#include <math.h>
#include <stdint.h>

#include "device/backend.h"
#include "ops/kernel_consts.h"

/* *out = a * b, or fail naming `what` if it does not fit a size_t. */
static inline nncl_status nncl_size_mul(size_t a, size_t b, size_t *out, const char *what)
{
    if (a != 0 && b > SIZE_MAX / a)
        return nncl_fail(NNCL_E_INVALID, "%s: %zu x %zu elements overflow", what, a, b);
    *out = a * b;
    return NNCL_OK;
}

/* A float matrix of `rows` rows of `cols` used columns and row stride ld:
 * its last element is at (rows - 1) * ld + cols - 1 (no rows: nothing to
 * check but the stride). `what` names it in the message ("gemm: A"). */
static inline nncl_status nncl_check_matrix(const nncl_device *dev, nncl_view v, size_t rows, size_t cols,
                                            size_t ld, const char *what)
{
    if (ld < cols)
        return nncl_fail(NNCL_E_INVALID, "%s: leading dimension %zu is less than its %zu columns", what, ld, cols);
    if (rows > 0 && ld > (SIZE_MAX - cols) / rows)
        return nncl_fail(NNCL_E_INVALID, "%s: %zu rows of stride %zu overflow", what, rows, ld);
    return rows ? nncl_view_check(dev, v, sizeof(float), (rows - 1) * ld + cols, what) : NNCL_OK;
}

/* nncl_check_matrix for a matrix the op writes: a sealed buffer is refused. */
static inline nncl_status nncl_check_matrix_out(const nncl_device *dev, nncl_view v, size_t rows, size_t cols,
                                                size_t ld, const char *what)
{
    nncl_status st = nncl_check_matrix(dev, v, rows, cols, ld, what);
    return st == NNCL_OK && rows ? nncl_view_check_out(dev, v, sizeof(float), (rows - 1) * ld + cols, what) : st;
}

/* The byte-input arguments shared by linear_u8_fwd, _wgrad and
 * linear_u8_head: sizes, x (x_rows x in bytes, x_rows = rows without an
 * index), the index (every entry checked on the host backend), shift and
 * scale. `op` names the op in the message. In src/ops/linear_u8.c. */
nncl_status nncl_check_u8_input(const nncl_device *dev, nncl_view x, nncl_view index, size_t x_rows,
                                nncl_view shift, nncl_view scale, size_t rows, size_t in, size_t out,
                                const char *op);

/* The host twins' head, one row in double (src/ops/head.c): logits
 * z = x W^T + b (x: in floats, W: classes x in), then softmax_xent's row for
 * label t: adds the loss (NaN for a label out of range) and 1 if the first
 * maximal class is t; dz = (softmax - onehot(t)) * grad_scale (NaN rows for
 * a bad label); with g, g = (float)(dz W) * f'(x), f = act read from its
 * output x. Shared by the twins of head_xent and linear_u8_head; in and
 * classes at most NNCL_HEAD_MAX (their checks refuse more). */
void nncl_host_head_row(const float *x, size_t in, size_t classes, const float *W, const float *b, int32_t t,
                        float grad_scale, nncl_act act, float act_param, double *dz, float *g, double *loss,
                        double *correct);

/* On the host backend, where an index list can be read: refuse an entry
 * outside [0, limit) (OpenCL kernels give NaN rows instead). Elsewhere OK. */
static inline nncl_status nncl_check_host_index(const nncl_device *dev, nncl_view index, size_t rows,
                                                size_t limit, const char *op)
{
    if (dev->info.backend != NNCL_BACKEND_HOST || !index.buf)
        return NNCL_OK;
    const int32_t *ix = (const int32_t *)index.buf->host + index.off;
    for (size_t i = 0; i < rows; i++)
        if (ix[i] < 0 || (size_t)ix[i] >= limit)
            return nncl_fail(NNCL_E_INVALID, "%s: index[%zu] = %d is outside [0, %zu)", op, i, (int)ix[i], limit);
    return NNCL_OK;
}

/* The work-group size of the one-group reductions (loss_reduce) and the
 * number of row lanes of colsum: 256 work-items where the device allows it,
 * else 64. Fixed per device, so a device always sums in the same order. */
static inline size_t nncl_reduce_group(const nncl_device *dev)
{
    return dev->info.max_work_group_size >= NNCL_REDUCE_GROUP_MAX ? NNCL_REDUCE_GROUP_MAX : 64;
}

/* y = f(x) on the host, the twin of act_forward in cl/activation.cl; the
 * host twins of act_fwd, gemm's epilogue and linear_u8_fwd all use it.
 * NaN stays NaN for every f (relu tests x < 0, which NaN fails). */
static inline float nncl_act_apply(nncl_act act, float slope, float x)
{
    switch (act) {
    case NNCL_ACT_RELU: return x < 0.0f ? 0.0f : x;
    case NNCL_ACT_LEAKY_RELU: return x < 0.0f ? slope * x : x;
    case NNCL_ACT_SIGMOID: return 1.0f / (1.0f + expf(-x));
    case NNCL_ACT_TANH: return tanhf(x);
    default: return x;
    }
}

/* x[i] = f(x[i]) for i < n, nncl_act_apply's values, with f chosen outside
 * the loop so that ReLU's and the identity's vectorise (one call per element
 * with the switch inside cost a tenth of a small network's host step). The
 * host's GEMM epilogue and convolution outputs use it. */
static inline void nncl_act_apply_n(nncl_act act, float slope, float *restrict x, size_t n)
{
    switch (act) {
    case NNCL_ACT_IDENTITY:
        break;
    case NNCL_ACT_RELU:
        for (size_t i = 0; i < n; i++)
            x[i] = x[i] < 0.0f ? 0.0f : x[i];
        break;
    default:
        for (size_t i = 0; i < n; i++)
            x[i] = nncl_act_apply(act, slope, x[i]);
    }
}

/* f'(z) from y = f(z) on the host, the twin of act_derivative in
 * cl/activation.cl (act_bwd and head_xent use it); a NaN y gives NaN,
 * identity included. */
static inline float nncl_act_derivative(nncl_act act, float slope, float y)
{
    switch (act) {
    case NNCL_ACT_RELU: return y > 0.0f ? 1.0f : (y <= 0.0f ? 0.0f : y);
    case NNCL_ACT_LEAKY_RELU: return y > 0.0f ? 1.0f : (y <= 0.0f ? slope : y);
    case NNCL_ACT_SIGMOID: return y * (1.0f - y);
    case NNCL_ACT_TANH: return 1.0f - y * y;
    default: return isnan(y) ? y : 1.0f;
    }
}

/* An activation code and its parameter, checked for op `op`. */
static inline nncl_status nncl_act_check(nncl_act act, float param, const char *op)
{
    switch (act) {
    case NNCL_ACT_IDENTITY:
    case NNCL_ACT_RELU:
    case NNCL_ACT_SIGMOID:
    case NNCL_ACT_TANH:
        return NNCL_OK;
    case NNCL_ACT_LEAKY_RELU:
        /* The backward pass reads the slope off the sign of y: it must be > 0. */
        if (!(param > 0.0f) || isinf(param))
            return nncl_fail(NNCL_E_INVALID, "%s: leaky relu slope %g must be positive and finite",
                             op, (double)param);
        return NNCL_OK;
    }
    return nncl_fail(NNCL_E_INVALID, "%s: unknown activation %d", op, (int)act);
}

#endif
