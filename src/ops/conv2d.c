/* conv2d_fwd, conv2d_bwd: a 2-D convolution and its gradients, as im2col +
 * the tuned gemm, on every backend.
 *
 * Why im2col + GEMM rather than a direct or implicit-GEMM kernel: nearly all
 * of a convolution's arithmetic is then in gemm.cl, already tuned per device
 * (register blocks on CPUs, local-memory tiles on GPUs) and tested on
 * awkward shapes, and the host backend gets OpenBLAS for it; the new kernels
 * only move data (im2col, col2im, a reordering, a row sum) and are easy to
 * get right. The price is memory traffic: the patch matrix is kh*kw times
 * the input. An implicit-GEMM kernel that forms patches as it loads its
 * tiles would save that; this composition is the oracle it will be tested
 * against.
 *
 * The layout: col has one row per tap (c, a, e) and one column per output
 * position (n, i, j) (im2col in ops.h). With R = n*oh*ow columns,
 * Q = c*kh*kw taps and W as the K x Q matrix it already is:
 *   forward   Y = W col               (K x R: gemm NN, long rows)
 *             y = act(Y + b) as [K, n, oh*ow] reordered to [n, K, oh*ow]
 *   backward  G = dy reordered to [K, n, oh*ow]                     (K x R)
 *             db = the row sums of G (a fixed-order tree)
 *             dW = G col^T            (K x Q: gemm NT, dot products over R)
 *             dcol = W^T G            (Q x R, into col's place: gemm TN)
 *             dx = col2im(dcol)
 * This layout was measured against the transposed one (col as R x Q, Y =
 * col W^T with gemm's fused bias, then a transpose to NCHW): there the
 * forward GEMM is an NT product with k = Q, only 25 or 9 for a first layer,
 * and took 29-39 ms (Q = 25) and 65-81 ms (Q = 9) at batch 128 on PoCL
 * against 1.6-2.6 and 1.4-2.4 ms here; and im2col and col2im wrote and read
 * Q floats apart between neighbouring work-items.
 * On CPUs the batch goes through im2col and the GEMMs in chunks of images
 * whose patch matrix fits the cache (images_per_chunk). Scratch holds col
 * (Q*R floats: enough for any chunking) then Y or G (K*R). The backward pass
 * forms col again rather than keeping the forward's: the op has no hidden
 * state, and im2col costs a fraction of the GEMMs.
 * The host backend runs the same composition with its own twins (OpenBLAS
 * for the products when built with it); the tests compare both with the
 * direct double-precision loops of conv_reference.c. */
#include <stdio.h>
#include <stdlib.h>

#include "device/opencl_impl.h"
#include "ops/conv_impl.h"
#include "ops/op_util.h"

/* ---- shapes and bounds ------------------------------------------------------------ */

static nncl_status check_common(const nncl_device *dev, const nncl_conv2d_shape *s, nncl_view x, nncl_view w,
                                nncl_view scratch, const char *op)
{
    char what[64];
    nncl_status st = nncl_check_conv2d_shape(s, true, op);
    snprintf(what, sizeof what, "%s: x", op);
    if (st == NNCL_OK)
        st = nncl_view_check(dev, x, sizeof(float), nncl_conv2d_x_len(s), what);
    snprintf(what, sizeof what, "%s: w", op);
    if (st == NNCL_OK)
        st = nncl_view_check(dev, w, sizeof(float), nncl_conv2d_w_len(s), what);
    snprintf(what, sizeof what, "%s: scratch", op);
    if (st == NNCL_OK)
        st = nncl_view_check(dev, scratch, sizeof(float), nncl_conv2d_scratch_len(s), what);
    return st;
}

nncl_status nncl_check_conv2d_fwd(const nncl_device *dev, const nncl_conv2d_fwd_args *a)
{
    nncl_status st = check_common(dev, &a->s, a->x, a->w, a->scratch, "conv2d_fwd");
    if (st == NNCL_OK)
        st = nncl_act_check(a->act, a->act_param, "conv2d_fwd");
    if (st == NNCL_OK && a->b.buf)
        st = nncl_view_check(dev, a->b, sizeof(float), a->s.k, "conv2d_fwd: b");
    if (st == NNCL_OK)
        st = nncl_view_check(dev, a->y, sizeof(float), nncl_conv2d_y_len(&a->s), "conv2d_fwd: y");
    return st;
}

nncl_status nncl_check_conv2d_bwd(const nncl_device *dev, const nncl_conv2d_bwd_args *a)
{
    nncl_status st = check_common(dev, &a->s, a->x, a->w, a->scratch, "conv2d_bwd");
    if (st == NNCL_OK)
        st = nncl_view_check(dev, a->dy, sizeof(float), nncl_conv2d_y_len(&a->s), "conv2d_bwd: dy");
    if (st == NNCL_OK)
        st = nncl_view_check(dev, a->dw, sizeof(float), nncl_conv2d_w_len(&a->s), "conv2d_bwd: dw");
    if (st == NNCL_OK && a->db.buf)
        st = nncl_view_check(dev, a->db, sizeof(float), a->s.k, "conv2d_bwd: db");
    if (st == NNCL_OK && a->dx.buf)
        st = nncl_view_check(dev, a->dx, sizeof(float), nncl_conv2d_x_len(&a->s), "conv2d_bwd: dx");
    return st;
}

/* ---- the composition, shared by both backends ------------------------------------------ */

/* y[b, a, p] = act(x[a, b, p] + bias[a]) (bias may be {NULL}). */
typedef nncl_status (*swap_outer_fn)(nncl_device *dev, nncl_view x, nncl_view y, nncl_view bias, size_t A,
                                     size_t B, size_t P, nncl_act act, float act_param);
/* y[i] = sum_t x[i * ldx + t], t < cols, for i < rows. */
typedef nncl_status (*rowsum_fn)(nncl_device *dev, nncl_view x, size_t ldx, nncl_view y, size_t rows, size_t cols);

/* One backend's pieces. The arguments are valid by construction (the
 * conv2d checks cover every view they touch), so the pieces are called
 * directly, not through the checking wrappers. */
typedef struct conv_pieces {
    nncl_status (*im2col)(nncl_device *, const nncl_im2col_args *);
    nncl_status (*col2im)(nncl_device *, const nncl_col2im_args *);
    nncl_status (*gemm)(nncl_device *, const nncl_gemm_args *);
    swap_outer_fn swap_outer;
    rowsum_fn rowsum;
} conv_pieces;

static nncl_view view_at(nncl_view v, size_t elements) { return nncl_view_of(v.buf, v.off + elements); }

/* Images per chunk of the patch matrix. On a CPU the patch matrix of a whole
 * batch (40 MB for 128 images into a 16->32 5x5 layer) is written by im2col
 * and streamed from memory by the GEMM, once per block of rows; a chunk of
 * a few images whose patches fit the cache is written and read there
 * instead. A GPU wants the largest GEMM it can get: one chunk. The chunking
 * is fixed per device and shape, so results stay the same bits run to run
 * (dW sums its chunks in order). NNCL_CONV_CHUNK_FLOATS overrides the
 * budget (a tuning knob for benchmarks). */
static size_t images_per_chunk(const nncl_device *dev, const nncl_conv2d_shape *s)
{
    if (dev->info.type == NNCL_DEVICE_GPU || dev->info.type == NNCL_DEVICE_ACCELERATOR)
        return s->n;
    size_t budget = NNCL_CONV_CHUNK_FLOATS;
    const char *env = getenv("NNCL_CONV_CHUNK_FLOATS");
    if (env && *env)
        budget = (size_t)strtoull(env, NULL, 10);
    size_t per_image = s->c * s->kh * s->kw * s->oh * s->ow, n = per_image ? budget / per_image : s->n;
    return n < 1 ? 1 : n > s->n ? s->n : n;
}

/* The shape of images [n0, n0 + count) alone. */
static nncl_conv2d_shape chunk_of(const nncl_conv2d_shape *s, size_t count)
{
    nncl_conv2d_shape c = *s;
    c.n = count;
    return c;
}

static nncl_status conv2d_fwd_with(const conv_pieces *p, nncl_device *dev, const nncl_conv2d_fwd_args *a)
{
    const nncl_conv2d_shape *s = &a->s;
    size_t P = s->oh * s->ow, R = s->n * P, Q = s->c * s->kh * s->kw, chunk = images_per_chunk(dev, s);
    nncl_view col = a->scratch, Y = view_at(a->scratch, Q * R);
    nncl_status st = NNCL_OK;
    for (size_t n0 = 0; n0 < s->n && st == NNCL_OK; n0 += chunk) {
        size_t count = s->n - n0 < chunk ? s->n - n0 : chunk, Rc = count * P;
        nncl_im2col_args im = {chunk_of(s, count), view_at(a->x, n0 * s->c * s->h * s->w), col};
        st = p->im2col(dev, &im);
        /* Y[:, n0*P ...] = W col_chunk: the chunk's columns of Y */
        nncl_gemm_args g = {.trans_a = false, .trans_b = false, .m = s->k, .n = Rc, .k = Q, .alpha = 1.0f,
                            .beta = 0.0f, .a = a->w, .lda = Q, .b = col, .ldb = Rc, .c = view_at(Y, n0 * P),
                            .ldc = R};
        if (st == NNCL_OK)
            st = p->gemm(dev, &g);
    }
    if (st == NNCL_OK)
        st = p->swap_outer(dev, Y, a->y, a->b, s->k, s->n, P, a->act, a->act_param);
    return st;
}

static nncl_status conv2d_bwd_with(const conv_pieces *p, nncl_device *dev, const nncl_conv2d_bwd_args *a)
{
    const nncl_conv2d_shape *s = &a->s;
    size_t P = s->oh * s->ow, R = s->n * P, Q = s->c * s->kh * s->kw, chunk = images_per_chunk(dev, s);
    nncl_view col = a->scratch, G = view_at(a->scratch, Q * R);
    nncl_status st = p->swap_outer(dev, a->dy, G, (nncl_view){0}, s->n, s->k, P, NNCL_ACT_IDENTITY, 0.0f);
    if (st == NNCL_OK && a->db.buf)
        st = p->rowsum(dev, G, R, a->db, s->k, R);
    for (size_t n0 = 0; n0 < s->n && st == NNCL_OK; n0 += chunk) {
        size_t count = s->n - n0 < chunk ? s->n - n0 : chunk, Rc = count * P;
        nncl_conv2d_shape cs = chunk_of(s, count);
        nncl_view Gc = view_at(G, n0 * P);
        nncl_im2col_args im = {cs, view_at(a->x, n0 * s->c * s->h * s->w), col};
        st = p->im2col(dev, &im);
        /* dW (+)= G_chunk col_chunk^T, the chunks added in order */
        nncl_gemm_args gw = {.trans_a = false, .trans_b = true, .m = s->k, .n = Q, .k = Rc, .alpha = 1.0f,
                             .beta = n0 == 0 ? 0.0f : 1.0f, .a = Gc, .lda = R, .b = col, .ldb = Rc, .c = a->dw,
                             .ldc = Q};
        if (st == NNCL_OK)
            st = p->gemm(dev, &gw);
        if (st != NNCL_OK || !a->dx.buf)
            continue;
        /* dcol = W^T G_chunk overwrites col, which dW was the last to read
         * (queues run in order), and col2im gives the chunk's dx. */
        nncl_gemm_args gx = {.trans_a = true, .trans_b = false, .m = Q, .n = Rc, .k = s->k, .alpha = 1.0f,
                             .beta = 0.0f, .a = a->w, .lda = Q, .b = Gc, .ldb = R, .c = col, .ldc = Rc};
        st = p->gemm(dev, &gx);
        nncl_col2im_args ci = {cs, col, view_at(a->dx, n0 * s->c * s->h * s->w)};
        if (st == NNCL_OK)
            st = p->col2im(dev, &ci);
    }
    return st;
}

/* ---- host ---------------------------------------------------------------------------- */

static nncl_status swap_outer_host(nncl_device *dev, nncl_view xv, nncl_view yv, nncl_view bv, size_t A, size_t B,
                                   size_t P, nncl_act act, float act_param)
{
    (void)dev;
    const float *x = nncl_host_f32(xv), *bias = bv.buf ? nncl_host_f32(bv) : NULL;
    float *y = nncl_host_f32(yv);
    for (size_t b = 0; b < B; b++)
        for (size_t a = 0; a < A; a++) {
            const float *src = x + (a * B + b) * P;
            float *dst = y + (b * A + a) * P, add = bias ? bias[a] : 0.0f;
            for (size_t q = 0; q < P; q++)
                dst[q] = nncl_act_apply(act, act_param, bias ? src[q] + add : src[q]);
        }
    return NNCL_OK;
}

/* In double, in order: the oracle side of the kernel's float tree. */
static nncl_status rowsum_host(nncl_device *dev, nncl_view xv, size_t ldx, nncl_view yv, size_t rows, size_t cols)
{
    (void)dev;
    const float *x = nncl_host_f32(xv);
    float *y = nncl_host_f32(yv);
    for (size_t i = 0; i < rows; i++) {
        double sum = 0;
        for (size_t t = 0; t < cols; t++)
            sum += x[i * ldx + t];
        y[i] = (float)sum;
    }
    return NNCL_OK;
}

static const conv_pieces host_pieces = {nncl_host_im2col, nncl_host_col2im, nncl_host_gemm, swap_outer_host,
                                        rowsum_host};

nncl_status nncl_host_conv2d_fwd(nncl_device *dev, const nncl_conv2d_fwd_args *a)
{
    return conv2d_fwd_with(&host_pieces, dev, a);
}

nncl_status nncl_host_conv2d_bwd(nncl_device *dev, const nncl_conv2d_bwd_args *a)
{
    return conv2d_bwd_with(&host_pieces, dev, a);
}

/* ---- OpenCL ---------------------------------------------------------------------------- */

static nncl_status swap_outer_cl(nncl_device *dev, nncl_view x, nncl_view y, nncl_view bias, size_t A, size_t B,
                                 size_t P, nncl_act act, float act_param)
{
    size_t global[2] = {P, A * B};
    bool has_bias = bias.buf != NULL;
    /* Without a bias, a valid buffer (never read) still goes to the kernel. */
    return nncl_cl_launch(dev, "swap_outer", 2, global, NULL,
                          NNCL_CL_ARGS(nncl_arg_buf(x.buf), nncl_arg_ulong(x.off), nncl_arg_buf(y.buf),
                                       nncl_arg_ulong(y.off), nncl_arg_buf(has_bias ? bias.buf : x.buf),
                                       nncl_arg_ulong(has_bias ? bias.off : 0), nncl_arg_int(has_bias),
                                       nncl_arg_int((int)A), nncl_arg_int((int)B), nncl_arg_int((int)P),
                                       nncl_arg_int((int)act), nncl_arg_float(act_param)));
}

static nncl_status rowsum_cl(nncl_device *dev, nncl_view x, size_t ldx, nncl_view y, size_t rows, size_t cols)
{
    size_t lanes = nncl_reduce_group(dev);
    size_t global[2] = {lanes, rows}, local[2] = {lanes, 1};
    return nncl_cl_launch(dev, "rowsum", 2, global, local,
                          NNCL_CL_ARGS(nncl_arg_buf(x.buf), nncl_arg_ulong(x.off), nncl_arg_int((int)ldx),
                                       nncl_arg_buf(y.buf), nncl_arg_ulong(y.off), nncl_arg_int((int)cols)));
}

static const conv_pieces cl_pieces = {nncl_cl_im2col, nncl_cl_col2im, nncl_cl_gemm, swap_outer_cl, rowsum_cl};

nncl_status nncl_cl_conv2d_fwd(nncl_device *dev, const nncl_conv2d_fwd_args *a)
{
    return conv2d_fwd_with(&cl_pieces, dev, a);
}

nncl_status nncl_cl_conv2d_bwd(nncl_device *dev, const nncl_conv2d_bwd_args *a)
{
    return conv2d_bwd_with(&cl_pieces, dev, a);
}
