/* linear_u8_head: one training step of a byte-input network with a narrow
 * hidden layer (linear_u8_fwd, head_xent and linear_u8_wgrad in one pass over
 * the rows). Kernels: cl/linear_u8_head.cl (linear_u8_head over chunks of
 * rows, then linear_u8_head_sum adding the chunks in order). The host twin
 * is u8_head_host.c; the three ops' host twins composed, row by row, are
 * the oracle (nncl_host_linear_u8_head_reference). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device/opencl_impl.h"
#include "ops/kernel_consts.h"
#include "ops/op_util.h"
#include "ops/u8_head_host.h"

/* The chunking (cl/linear_u8_head.cl walks a chunk in blocks of
 * NNCL_U8H_BLOCK rows). A chunk is a multiple of 16 rows, there are at most
 * U8H_MAX_CHUNKS of them, so that the second stage adds few partial sums,
 * and a chunk has at least U8H_MIN_ROWS rows, so that a mini-batch still
 * spreads over a few cores. The chunking depends on the number of rows
 * only: the order of the sums is fixed. */
enum { U8H_MAX_CHUNKS = 64, U8H_MIN_ROWS = 16 };

static size_t u8h_chunk_rows(size_t rows)
{
    size_t r = (rows + U8H_MAX_CHUNKS - 1) / U8H_MAX_CHUNKS;
    r = (r + 15) / 16 * 16;
    return r < U8H_MIN_ROWS ? U8H_MIN_ROWS : r;
}

/* Floats of one chunk's sums (dW1, db1, dW2, db2, loss, correct), and the
 * stride between chunks: the sums, then room for a block's g and for W1
 * with the input scale folded in, rounded up to a 64-byte line so that
 * chunks on different cores never share one. */
static size_t u8h_sums(size_t in, size_t hidden, size_t classes)
{
    return hidden * in + hidden + classes * hidden + classes + 2;
}

static size_t u8h_stride(size_t in, size_t hidden, size_t classes)
{
    return (u8h_sums(in, hidden, classes) + NNCL_U8H_BLOCK * hidden + hidden * in + 15) / 16 * 16;
}

size_t nncl_linear_u8_head_scratch_len(size_t rows, size_t in, size_t hidden, size_t classes)
{
    if (in == 0 || hidden == 0 || classes == 0 || hidden > NNCL_HEAD_MAX || classes > NNCL_HEAD_MAX ||
        in > INT32_MAX / NNCL_HEAD_MAX)
        return 0;
    /* A bound on the chunks rather than their number, which can drop as
     * rows grow (1,024 rows make 64 chunks, 1,025 make 33): a scratch sized
     * for a batch must do for every smaller one. */
    size_t chunks = (rows + U8H_MIN_ROWS - 1) / U8H_MIN_ROWS;
    chunks = chunks < 1 ? 1 : chunks > U8H_MAX_CHUNKS ? U8H_MAX_CHUNKS : chunks;
    size_t cl = chunks * u8h_stride(in, hidden, classes), host = nncl_u8h_host_scratch_floats(in, hidden);
    return cl > host ? cl : host; /* one length for every device */
}

nncl_status nncl_check_linear_u8_head(const nncl_device *dev, const nncl_linear_u8_head_args *a)
{
    const char *op = "linear_u8_head";
    if (a->hidden == 0 || a->classes == 0)
        return nncl_fail(NNCL_E_INVALID, "%s: hidden and classes must be >= 1 (got %zu, %zu)", op, a->hidden,
                         a->classes);
    if (a->hidden > NNCL_HEAD_MAX || a->classes > NNCL_HEAD_MAX)
        return nncl_fail(NNCL_E_UNSUPPORTED, "%s: hidden (%zu) and classes (%zu) must be at most %d", op,
                         a->hidden, a->classes, NNCL_HEAD_MAX);
    /* The kernel indexes a chunk's sums and the rows with int. */
    if (a->in > INT32_MAX / NNCL_HEAD_MAX || u8h_stride(a->in, a->hidden, a->classes) > INT32_MAX)
        return nncl_fail(NNCL_E_UNSUPPORTED, "%s: %zu inputs is too many", op, a->in);
    if (a->rows > INT32_MAX / NNCL_HEAD_MAX)
        return nncl_fail(NNCL_E_UNSUPPORTED, "%s: %zu rows is too many", op, a->rows);
    nncl_status st = nncl_check_u8_input(dev, a->x, a->index, a->x_rows, a->shift, a->scale, a->rows, a->in,
                                         a->hidden, op);
    if (st == NNCL_OK)
        st = nncl_act_check(a->act, a->act_param, op);
    size_t nw1 = a->hidden * a->in, nw2 = a->classes * a->hidden;
    if (st == NNCL_OK)
        st = nncl_view_check(dev, a->w1, sizeof(float), nw1, "linear_u8_head: w1");
    if (st == NNCL_OK)
        st = nncl_view_check(dev, a->b1, sizeof(float), a->hidden, "linear_u8_head: b1");
    if (st == NNCL_OK)
        st = nncl_view_check(dev, a->w2, sizeof(float), nw2, "linear_u8_head: w2");
    if (st == NNCL_OK)
        st = nncl_view_check(dev, a->b2, sizeof(float), a->classes, "linear_u8_head: b2");
    if (st == NNCL_OK)
        st = nncl_view_check(dev, a->labels, sizeof(int32_t), a->rows, "linear_u8_head: labels");
    if (st == NNCL_OK)
        st = nncl_view_check_out(dev, a->dw1, sizeof(float), nw1, "linear_u8_head: dw1");
    if (st == NNCL_OK)
        st = nncl_view_check_out(dev, a->db1, sizeof(float), a->hidden, "linear_u8_head: db1");
    if (st == NNCL_OK)
        st = nncl_view_check_out(dev, a->dw2, sizeof(float), nw2, "linear_u8_head: dw2");
    if (st == NNCL_OK)
        st = nncl_view_check_out(dev, a->db2, sizeof(float), a->classes, "linear_u8_head: db2");
    if (st == NNCL_OK)
        st = nncl_view_check_out(dev, a->acc, sizeof(float), 2, "linear_u8_head: acc");
    if (st == NNCL_OK)
        st = nncl_view_check_out(dev, a->scratch, sizeof(float),
                             nncl_linear_u8_head_scratch_len(a->rows, a->in, a->hidden, a->classes),
                             "linear_u8_head: scratch (float[nncl_linear_u8_head_scratch_len(rows, in, "
                             "hidden, classes)])");
    return st;
}

/* Row r's hidden layer as linear_u8_fwd's twin computes it: xf = x' (the
 * transformed bytes), h = f(x' W1^T + b1) from a double sum rounded to float. */
static void host_hidden_row(const nncl_linear_u8_head_args *a, size_t r, float *xf, float *h)
{
    const size_t I = a->in;
    const int32_t *ix = a->index.buf ? nncl_host_i32(a->index) : NULL;
    const unsigned char *xr = nncl_host_u8(a->x) + (ix ? (size_t)ix[r] : r) * I;
    const float *sh = nncl_host_f32(a->shift), *sc = nncl_host_f32(a->scale);
    const float *W1 = nncl_host_f32(a->w1), *b1 = nncl_host_f32(a->b1);
    for (size_t j = 0; j < I; j++)
        xf[j] = ((float)xr[j] - sh[j]) * sc[j];
    for (size_t o = 0; o < a->hidden; o++) {
        double s = 0;
        for (size_t j = 0; j < I; j++)
            s += (double)xf[j] * W1[o * I + j];
        h[o] = nncl_act_apply(a->act, a->act_param, (float)s + b1[o]);
    }
}

/* The three host twins composed, row by row, in their precisions: the
 * hidden layer as linear_u8_fwd's, the head as head_xent's (the shared
 * nncl_host_head_row), dW1 as linear_u8_wgrad's (double sums). The oracle
 * the tests compare every device with; the host device runs the float
 * step of u8_head_host.c. */
nncl_status nncl_host_linear_u8_head_reference(const nncl_linear_u8_head_args *a)
{
    enum { M = NNCL_HEAD_MAX };
    const size_t I = a->in, H = a->hidden, C = a->classes;
    const float *W2 = nncl_host_f32(a->w2), *b2 = nncl_host_f32(a->b2);
    const int32_t *labels = nncl_host_i32(a->labels);
    double *dw1 = calloc(H * I, sizeof(double));
    float *xf = malloc(I * sizeof(float));
    if (!dw1 || !xf) {
        free(dw1);
        free(xf);
        return nncl_fail(NNCL_E_NOMEM, "linear_u8_head: out of host memory");
    }
    double db1[M] = {0}, dw2[M * M] = {0}, db2[M] = {0}, loss_sum = 0.0, correct_sum = 0.0;
    for (size_t r = 0; r < a->rows; r++) {
        float h[M], g[M];
        double dz[M];
        host_hidden_row(a, r, xf, h);
        nncl_host_head_row(h, H, C, W2, b2, labels[r], a->grad_scale, a->act, a->act_param, dz, g, &loss_sum,
                           &correct_sum);
        for (size_t c = 0; c < C; c++) {
            db2[c] += dz[c];
            for (size_t j = 0; j < H; j++)
                dw2[c * H + j] += dz[c] * h[j];
        }
        for (size_t o = 0; o < H; o++) {
            db1[o] += g[o];
            for (size_t j = 0; j < I; j++)
                dw1[o * I + j] += (double)g[o] * (double)xf[j];
        }
    }
    float *o1 = nncl_host_f32(a->dw1), *o2 = nncl_host_f32(a->dw2);
    for (size_t e = 0; e < H * I; e++)
        o1[e] = (float)dw1[e];
    for (size_t e = 0; e < C * H; e++)
        o2[e] = (float)dw2[e];
    for (size_t o = 0; o < H; o++)
        nncl_host_f32(a->db1)[o] = (float)db1[o];
    for (size_t c = 0; c < C; c++)
        nncl_host_f32(a->db2)[c] = (float)db2[c];
    float *acc = nncl_host_f32(a->acc);
    acc[0] += (float)loss_sum;
    acc[1] += (float)correct_sum;
    free(dw1);
    free(xf);
    return NNCL_OK;
}

nncl_status nncl_cl_linear_u8_head(nncl_device *dev, const nncl_linear_u8_head_args *a)
{
    size_t chunk_rows = u8h_chunk_rows(a->rows), chunks = (a->rows + chunk_rows - 1) / chunk_rows;
    size_t stride = u8h_stride(a->in, a->hidden, a->classes);
    bool has_index = a->index.buf != NULL;
    /* One chunk per work-group: a CPU runs a group on one core. */
    size_t one = 1;
    const size_t *local = dev->info.type == NNCL_DEVICE_CPU ? &one : NULL;
    nncl_status st = nncl_cl_launch(
        dev, "linear_u8_head", 1, &chunks, local,
        NNCL_CL_ARGS(nncl_arg_int((int)a->rows), nncl_arg_int((int)a->in), nncl_arg_int((int)a->hidden),
                     nncl_arg_int((int)a->classes), nncl_arg_buf(a->x.buf), nncl_arg_ulong(a->x.off),
                     nncl_arg_int(has_index), nncl_arg_buf(has_index ? a->index.buf : a->x.buf),
                     nncl_arg_ulong(a->index.off), nncl_arg_int((int)(has_index ? a->x_rows : a->rows)),
                     nncl_arg_buf(a->shift.buf), nncl_arg_ulong(a->shift.off), nncl_arg_buf(a->scale.buf),
                     nncl_arg_ulong(a->scale.off), nncl_arg_buf(a->w1.buf), nncl_arg_ulong(a->w1.off),
                     nncl_arg_buf(a->b1.buf), nncl_arg_ulong(a->b1.off), nncl_arg_buf(a->w2.buf),
                     nncl_arg_ulong(a->w2.off), nncl_arg_buf(a->b2.buf), nncl_arg_ulong(a->b2.off),
                     nncl_arg_buf(a->labels.buf), nncl_arg_ulong(a->labels.off), nncl_arg_buf(a->scratch.buf),
                     nncl_arg_ulong(a->scratch.off), nncl_arg_int((int)stride), nncl_arg_int((int)chunk_rows),
                     nncl_arg_int((int)a->act), nncl_arg_float(a->act_param), nncl_arg_float(a->grad_scale)));
    if (st != NNCL_OK)
        return st;
    size_t n = u8h_sums(a->in, a->hidden, a->classes);
    return nncl_cl_launch(dev, "linear_u8_head_sum", 1, &n, NULL,
                          NNCL_CL_ARGS(nncl_arg_buf(a->scratch.buf), nncl_arg_ulong(a->scratch.off),
                                       nncl_arg_int((int)chunks), nncl_arg_int((int)stride),
                                       nncl_arg_int((int)a->in), nncl_arg_int((int)a->hidden),
                                       nncl_arg_int((int)a->classes), nncl_arg_buf(a->dw1.buf),
                                       nncl_arg_ulong(a->dw1.off), nncl_arg_buf(a->db1.buf),
                                       nncl_arg_ulong(a->db1.off), nncl_arg_buf(a->dw2.buf),
                                       nncl_arg_ulong(a->dw2.off), nncl_arg_buf(a->db2.buf),
                                       nncl_arg_ulong(a->db2.off), nncl_arg_buf(a->acc.buf),
                                       nncl_arg_ulong(a->acc.off)));
}
