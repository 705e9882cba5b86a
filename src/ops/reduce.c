/* colsum and argmax_rows: the bias gradient (column sums) and predicted
 * classes (row argmax). Kernels: cl/reduce.cl. */
#include <math.h>

#include "device/opencl_impl.h"
#include "ops/kernel_consts.h"
#include "ops/op_util.h"


/* ---- colsum -------------------------------------------------------------------- */

nncl_status nncl_check_colsum(const nncl_device *dev, const nncl_colsum_args *a)
{
    if (a->cols == 0)
        return nncl_fail(NNCL_E_INVALID, "colsum: cols must be >= 1");
    nncl_status st = nncl_check_matrix(dev, a->x, a->rows, a->cols, a->ldx, "colsum: x (stride ldx)");
    if (st == NNCL_OK)
        st = nncl_view_check_out(dev, a->y, sizeof(float), a->cols, "colsum: y");
    return st;
}

/* Sums in double, rows in order, 64 columns at a time (no allocation). */
nncl_status nncl_host_colsum(nncl_device *dev, const nncl_colsum_args *a)
{
    (void)dev;
    const float *x = nncl_host_f32(a->x);
    float *y = nncl_host_f32(a->y);
    for (size_t j0 = 0; j0 < a->cols; j0 += 64) {
        size_t w = a->cols - j0 < 64 ? a->cols - j0 : 64;
        double s[64] = {0};
        for (size_t i = 0; i < a->rows; i++)
            for (size_t c = 0; c < w; c++)
                s[c] += x[i * a->ldx + j0 + c];
        for (size_t c = 0; c < w; c++) {
            float sum = a->alpha * (float)s[c];
            y[j0 + c] = a->beta == 0.0f ? sum : sum + a->beta * y[j0 + c];
        }
    }
    return NNCL_OK;
}

nncl_status nncl_cl_colsum(nncl_device *dev, const nncl_colsum_args *a)
{
    size_t lanes = nncl_reduce_group(dev) / NNCL_COLSUM_TILE;
    size_t local[2] = {NNCL_COLSUM_TILE, lanes};
    size_t global[2] = {a->cols, lanes};
    return nncl_cl_launch(dev, "colsum", 2, global, local,
                          NNCL_CL_ARGS(nncl_arg_buf(a->x.buf), nncl_arg_ulong(a->x.off),
                                       nncl_arg_ulong(a->ldx), nncl_arg_buf(a->y.buf),
                                       nncl_arg_ulong(a->y.off), nncl_arg_ulong(a->rows),
                                       nncl_arg_ulong(a->cols), nncl_arg_float(a->alpha),
                                       nncl_arg_float(a->beta)));
}

/* ---- argmax_rows ------------------------------------------------------------------ */

nncl_status nncl_check_argmax_rows(const nncl_device *dev, const nncl_argmax_rows_args *a)
{
    if (a->cols == 0)
        return nncl_fail(NNCL_E_INVALID, "argmax_rows: cols must be >= 1");
    if (a->cols > INT32_MAX)
        return nncl_fail(NNCL_E_INVALID, "argmax_rows: %zu cols do not fit an int32 index", a->cols);
    size_t n = 0;
    nncl_status st = nncl_size_mul(a->rows, a->cols, &n, "argmax_rows");
    if (st == NNCL_OK)
        st = nncl_view_check(dev, a->x, sizeof(float), n, "argmax_rows: x");
    if (st == NNCL_OK)
        st = nncl_view_check_out(dev, a->idx, sizeof(int32_t), a->rows, "argmax_rows: idx");
    return st;
}

nncl_status nncl_host_argmax_rows(nncl_device *dev, const nncl_argmax_rows_args *a)
{
    (void)dev;
    const float *x = nncl_host_f32(a->x);
    int32_t *idx = nncl_host_i32(a->idx);
    for (size_t i = 0; i < a->rows; i++) {
        const float *xr = x + i * a->cols;
        float best = xr[0];
        size_t arg = 0;
        for (size_t j = 1; j < a->cols && !isnan(best); j++) {
            if (xr[j] > best || isnan(xr[j])) {
                best = xr[j];
                arg = j;
            }
        }
        idx[i] = (int32_t)arg;
    }
    return NNCL_OK;
}

nncl_status nncl_cl_argmax_rows(nncl_device *dev, const nncl_argmax_rows_args *a)
{
    if (a->rows == 0)
        return NNCL_OK;
    size_t global = a->rows;
    return nncl_cl_launch(dev, "argmax_rows", 1, &global, NULL,
                          NNCL_CL_ARGS(nncl_arg_buf(a->x.buf), nncl_arg_ulong(a->x.off),
                                       nncl_arg_buf(a->idx.buf), nncl_arg_ulong(a->idx.off),
                                       nncl_arg_ulong(a->rows), nncl_arg_ulong(a->cols)));
}
