/* linear_u8_fwd, linear_u8_wgrad: a dense layer reading byte inputs, with
 * the input transform x' = (x - shift) * scale applied as the bytes load.
 * Kernels: cl/linear_u8.cl. The host twins are plain loops in double (the
 * oracles); the host device runs float ones: u8_sparse_host.c's from the
 * nonzero bytes (the gradient, and the forward of 32 outputs or more), and
 * u8_head_host.c's dense loops for a narrower forward. */
#include <math.h>
#include <stdio.h>

#include "device/opencl_impl.h"
#include "ops/kernel_consts.h"
#include "ops/kernel_params.h"
#include "ops/op_util.h"
#include "ops/u8_head_host.h"

nncl_status nncl_check_u8_input(const nncl_device *dev, nncl_view x, nncl_view index, size_t x_rows,
                                nncl_view shift, nncl_view scale, size_t rows, size_t in, size_t out,
                                const char *op)
{
    char what[64];
    if (rows == 0 || in == 0 || out == 0)
        return nncl_fail(NNCL_E_INVALID, "%s: rows, in and out must be >= 1 (got %zu, %zu, %zu)", op, rows, in,
                         out);
    if (!index.buf)
        x_rows = rows;
    if (rows > INT32_MAX || in > INT32_MAX || out > INT32_MAX || x_rows > INT32_MAX)
        return nncl_fail(NNCL_E_UNSUPPORTED, "%s: sizes must be below 2^31", op);
    if (x_rows == 0)
        return nncl_fail(NNCL_E_INVALID, "%s: x has no rows", op);
    size_t nx;
    nncl_status st = nncl_size_mul(x_rows, in, &nx, op);
    snprintf(what, sizeof what, "%s: x", op);
    if (st == NNCL_OK)
        st = nncl_view_check(dev, x, 1, nx, what);
    snprintf(what, sizeof what, "%s: index", op);
    if (st == NNCL_OK && index.buf)
        st = nncl_view_check(dev, index, sizeof(int32_t), rows, what);
    if (st == NNCL_OK)
        st = nncl_check_host_index(dev, index, rows, x_rows, op);
    snprintf(what, sizeof what, "%s: shift", op);
    if (st == NNCL_OK)
        st = nncl_view_check(dev, shift, sizeof(float), in, what);
    snprintf(what, sizeof what, "%s: scale", op);
    if (st == NNCL_OK)
        st = nncl_view_check(dev, scale, sizeof(float), in, what);
    return st;
}

nncl_status nncl_check_linear_u8_fwd(const nncl_device *dev, const nncl_linear_u8_fwd_args *a)
{
    nncl_status st = nncl_check_u8_input(dev, a->x, a->index, a->x_rows, a->shift, a->scale, a->rows, a->in,
                                         a->out, "linear_u8_fwd");
    if (st == NNCL_OK && a->ldy > INT32_MAX)
        st = nncl_fail(NNCL_E_UNSUPPORTED, "linear_u8_fwd: ldy %zu must be below 2^31", a->ldy);
    if (st == NNCL_OK)
        st = nncl_act_check(a->act, a->act_param, "linear_u8_fwd");
    if (st == NNCL_OK)
        st = nncl_view_check(dev, a->w, sizeof(float), a->out * a->in, "linear_u8_fwd: w");
    if (st == NNCL_OK)
        st = nncl_view_check(dev, a->b, sizeof(float), a->out, "linear_u8_fwd: b");
    if (st == NNCL_OK)
        st = nncl_check_matrix_out(dev, a->y, a->rows, a->out, a->ldy, "linear_u8_fwd: y");
    return st;
}

nncl_status nncl_check_linear_u8_wgrad(const nncl_device *dev, const nncl_linear_u8_wgrad_args *a)
{
    nncl_status st = nncl_check_u8_input(dev, a->x, a->index, a->x_rows, a->shift, a->scale, a->rows, a->in,
                                         a->out, "linear_u8_wgrad");
    if (st == NNCL_OK && a->ldg > INT32_MAX)
        st = nncl_fail(NNCL_E_UNSUPPORTED, "linear_u8_wgrad: ldg %zu must be below 2^31", a->ldg);
    if (st == NNCL_OK)
        st = nncl_check_matrix(dev, a->g, a->rows, a->out, a->ldg, "linear_u8_wgrad: g");
    if (st == NNCL_OK)
        st = nncl_view_check_out(dev, a->dw, sizeof(float), a->out * a->in, "linear_u8_wgrad: dw");
    if (st == NNCL_OK && a->scratch.buf)
        st = nncl_view_check_out(dev, a->scratch, sizeof(float), a->scratch_len, "linear_u8_wgrad: scratch");
    return st;
}

/* The forward's oracle, in double; the host device runs the float loops of
 * u8_head_host.c (nncl_host_linear_u8_fwd). */
nncl_status nncl_host_linear_u8_fwd_reference(nncl_device *dev, const nncl_linear_u8_fwd_args *a)
{
    (void)dev;
    const unsigned char *x = nncl_host_u8(a->x);
    const float *sh = nncl_host_f32(a->shift), *sc = nncl_host_f32(a->scale);
    const float *W = nncl_host_f32(a->w), *b = nncl_host_f32(a->b);
    float *y = nncl_host_f32(a->y);
    const int32_t *ix = a->index.buf ? nncl_host_i32(a->index) : NULL;
    for (size_t i = 0; i < a->rows; i++)
        for (size_t o = 0; o < a->out; o++) {
            const unsigned char *xr = x + (ix ? (size_t)ix[i] : i) * a->in;
            double s = 0;
            for (size_t j = 0; j < a->in; j++)
                s += (double)(((float)xr[j] - sh[j]) * sc[j]) * W[o * a->in + j];
            y[i * a->ldy + o] = nncl_act_apply(a->act, a->act_param, (float)s + b[o]);
        }
    return NNCL_OK;
}

/* The weight gradient's oracle, in double; the host device runs
 * u8_sparse_host.c's float one. */
nncl_status nncl_host_linear_u8_wgrad_reference(nncl_device *dev, const nncl_linear_u8_wgrad_args *a)
{
    (void)dev;
    const unsigned char *x = nncl_host_u8(a->x);
    const float *sh = nncl_host_f32(a->shift), *sc = nncl_host_f32(a->scale), *g = nncl_host_f32(a->g);
    float *dw = nncl_host_f32(a->dw);
    const int32_t *ix = a->index.buf ? nncl_host_i32(a->index) : NULL;
    for (size_t o = 0; o < a->out; o++)
        for (size_t j = 0; j < a->in; j++) {
            double s = 0;
            for (size_t i = 0; i < a->rows; i++) {
                const unsigned char *xr = x + (ix ? (size_t)ix[i] : i) * a->in;
                s += (double)g[i * a->ldg + o] * (double)(((float)xr[j] - sh[j]) * sc[j]);
            }
            dw[o * a->in + j] = (float)s;
        }
    return NNCL_OK;
}


nncl_status nncl_cl_linear_u8_fwd(nncl_device *dev, const nncl_linear_u8_fwd_args *a)
{
    const nncl_u8_params *u = nncl_u8_params_on(dev);
    size_t dn = (size_t)u->dn, dm = (size_t)u->dm;
    size_t global[2] = {(a->out + dn - 1) / dn, (a->rows + dm - 1) / dm};
    /* 16 row blocks per work-group: about 2-4% faster than 8 on PoCL at the
     * full-batch shape (41,000 x 784 -> 10), the same at the mini-batch one
     * (128 -> 256); 32 was no better. */
    size_t local[2] = {1, 16};
    return nncl_cl_launch(dev, "linear_u8_fwd", 2, global, local,
                          NNCL_CL_ARGS(nncl_arg_int((int)a->rows), nncl_arg_int((int)a->in), nncl_arg_int((int)a->out),
                                       nncl_arg_buf(a->x.buf), nncl_arg_ulong(a->x.off),
                                       nncl_arg_int(a->index.buf != NULL),
                                       nncl_arg_buf(a->index.buf ? a->index.buf : a->x.buf),
                                       nncl_arg_ulong(a->index.off),
                                       nncl_arg_int((int)(a->index.buf ? a->x_rows : a->rows)),
                                       nncl_arg_buf(a->shift.buf), nncl_arg_ulong(a->shift.off),
                                       nncl_arg_buf(a->scale.buf), nncl_arg_ulong(a->scale.off),
                                       nncl_arg_buf(a->w.buf), nncl_arg_ulong(a->w.off),
                                       nncl_arg_buf(a->b.buf), nncl_arg_ulong(a->b.off),
                                       nncl_arg_buf(a->y.buf), nncl_arg_ulong(a->y.off), nncl_arg_int((int)a->ldy),
                                       nncl_arg_int((int)a->act), nncl_arg_float(a->act_param)));
}

/* Rows per chunk: 512 rows of 784 bytes (400 KB) stay in a CPU's L2 while
 * a work-item runs every column block of the chunk over them. */
enum { U8_CHUNK_ROWS = 512 };

nncl_status nncl_cl_linear_u8_wgrad(nncl_device *dev, const nncl_linear_u8_wgrad_args *a)
{
    size_t n = a->out * a->in;
    size_t chunks = (a->rows + U8_CHUNK_ROWS - 1) / U8_CHUNK_ROWS;
    if (!a->scratch.buf || a->scratch_len < 2 * n)
        chunks = 1;
    else if (chunks > a->scratch_len / n)
        chunks = a->scratch_len / n;
    size_t chunk_rows = (a->rows + chunks - 1) / chunks;
    chunks = (a->rows + chunk_rows - 1) / chunk_rows;
    nncl_view part = chunks > 1 ? a->scratch : a->dw;
    /* Column blocks per work-item: all of them (each work-item streams its
     * rows into the cache once, see cl/linear_u8.cl) unless that leaves
     * fewer than 4 work-items per compute unit to balance the load. */
    const nncl_u8_params *u = nncl_u8_params_on(dev);
    size_t tm = (size_t)u->tm, wcols = (size_t)nncl_u8_wcols(u);
    size_t nblocks = (a->in + wcols - 1) / wcols, items = chunks * ((a->out + tm - 1) / tm);
    size_t want = 4 * (size_t)(dev->info.compute_units ? dev->info.compute_units : 1);
    size_t groups = items >= want ? 1 : (want + items - 1) / items;
    if (groups > nblocks)
        groups = nblocks;
    size_t blocks = (nblocks + groups - 1) / groups;
    size_t global[3] = {(nblocks + blocks - 1) / blocks, (a->out + tm - 1) / tm, chunks};
    size_t local[3] = {1, 1, 1};
    nncl_status st = nncl_cl_launch(dev, "linear_u8_wgrad", 3, global, local,
                          NNCL_CL_ARGS(nncl_arg_int((int)a->rows), nncl_arg_int((int)a->in), nncl_arg_int((int)a->out),
                                       nncl_arg_buf(a->x.buf), nncl_arg_ulong(a->x.off),
                                       nncl_arg_int(a->index.buf != NULL),
                                       nncl_arg_buf(a->index.buf ? a->index.buf : a->x.buf),
                                       nncl_arg_ulong(a->index.off),
                                       nncl_arg_int((int)(a->index.buf ? a->x_rows : a->rows)),
                                       nncl_arg_buf(a->shift.buf), nncl_arg_ulong(a->shift.off),
                                       nncl_arg_buf(a->scale.buf), nncl_arg_ulong(a->scale.off),
                                       nncl_arg_buf(a->g.buf), nncl_arg_ulong(a->g.off), nncl_arg_int((int)a->ldg),
                                       nncl_arg_buf(part.buf), nncl_arg_ulong(part.off),
                                       nncl_arg_int((int)chunk_rows), nncl_arg_int((int)blocks)));
    if (st != NNCL_OK || chunks == 1)
        return st;
    size_t g1 = n;
    return nncl_cl_launch(dev, "linear_u8_wgrad_sum", 1, &g1, NULL,
                          NNCL_CL_ARGS(nncl_arg_buf(a->scratch.buf), nncl_arg_ulong(a->scratch.off),
                                       nncl_arg_int((int)chunks), nncl_arg_ulong(n), nncl_arg_buf(a->dw.buf),
                                       nncl_arg_ulong(a->dw.off)));
}
