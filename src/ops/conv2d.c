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
 * whose patch matrix fits the cache (images_per_chunk), and the forward's
 * reordering follows each chunk's GEMM while Y is in the cache. Scratch
 * holds col (Q*R floats: enough for any chunking) then Y or G (K*R). The
 * backward pass forms col again rather than keeping the forward's: the op
 * has no hidden state, and im2col costs a fraction of the GEMMs. CPU devices
 * run the data-moving kernels in their row-per-work-item form
 * (nncl_conv_cpu_form).
 * The host backend runs the same products (OpenBLAS when built with it) in
 * its own loop, nncl_host_conv2d_fwd/bwd below, or, at stride 1 on a CPU
 * with AVX-512, sums them directly in register blocks with no patch
 * matrix (conv_direct.c); the tests compare every form with the direct
 * double-precision loops of conv_reference.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device/opencl_impl.h"
#include "ops/conv_direct.h"
#include "ops/conv_impl.h"
#include "ops/gemm_impl.h"
#include "ops/host_split.h"
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
        st = nncl_view_check_out(dev, scratch, sizeof(float), nncl_conv2d_scratch_len(s), what);
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
        st = nncl_view_check_out(dev, a->y, sizeof(float), nncl_conv2d_y_len(&a->s), "conv2d_fwd: y");
    return st;
}

nncl_status nncl_check_conv2d_bwd(const nncl_device *dev, const nncl_conv2d_bwd_args *a)
{
    nncl_status st = check_common(dev, &a->s, a->x, a->w, a->scratch, "conv2d_bwd");
    if (st == NNCL_OK)
        st = nncl_view_check(dev, a->dy, sizeof(float), nncl_conv2d_y_len(&a->s), "conv2d_bwd: dy");
    if (st == NNCL_OK)
        st = nncl_view_check_out(dev, a->dw, sizeof(float), nncl_conv2d_w_len(&a->s), "conv2d_bwd: dw");
    if (st == NNCL_OK && a->db.buf)
        st = nncl_view_check_out(dev, a->db, sizeof(float), a->s.k, "conv2d_bwd: db");
    if (st == NNCL_OK && a->dx.buf)
        st = nncl_view_check_out(dev, a->dx, sizeof(float), nncl_conv2d_x_len(&a->s), "conv2d_bwd: dx");
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
    if (!nncl_conv_cpu_form(dev))
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
        /* Yc = W col_chunk (K x Rc), then the chunk's images of y from it
         * while it is in the cache (one chunk on GPUs: the whole batch) */
        nncl_gemm_args g = {.trans_a = false, .trans_b = false, .m = s->k, .n = Rc, .k = Q, .alpha = 1.0f,
                            .beta = 0.0f, .a = a->w, .lda = Q, .b = col, .ldb = Rc, .c = Y, .ldc = Rc};
        if (st == NNCL_OK)
            st = p->gemm(dev, &g);
        if (st == NNCL_OK)
            st = p->swap_outer(dev, Y, view_at(a->y, n0 * s->k * P), a->b, s->k, count, P, a->act,
                               a->act_param);
    }
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

/* The host backend's own path, where the direct form (conv_direct.c) does
 * not apply: the same products through OpenBLAS, but
 * with every other pass done per chunk while the chunk is in the cache, and
 * no whole-batch copies. Per chunk of images [n0, n0 + count), Rc = count*P:
 *   forward   col = im2col(chunk); Yc = W col (K x Rc, in scratch after col);
 *             y[n0 + b, k, :] = act(Yc[k, b*P ...] + bias[k]) straight away
 *   backward  Gc[k, b*P + p] = dy[n0 + b, k, p] (a copy of P floats per
 *             (b, k)); dW (+)= Gc col^T; col = W^T Gc; dx chunk = col2im(col)
 *   db        summed from dy in double, 8 lanes per filter in a fixed order.
 * The chunks run on two threads, each taking the next when free (below).
 * With stride 1 (im2col_padded, col2im_padded) each input plane is first
 * copied into a zero-bordered plane, so every tap's row is a plain copy, or
 * a plain add, with no padding logic; otherwise im2col copies whole rows
 * (the in-image span, zeros around it) rather than testing the padding per
 * element. col2im adds whole rows of a tap into an image plane kept in L1,
 * tap by tap: the same sums as nncl_host_col2im, in another order (within
 * float rounding of it).
 * With the products in OpenBLAS, these passes took most of the time before
 * (the per-element im2col and col2im, and the swap over the whole batch). */

/* The output columns j whose tap e lands inside a row of width w: z = j*sw
 * + e - pw in [0, w) for j in [*lo, *hi). */
static void tap_span(size_t w, size_t ow, size_t sw, size_t pw, size_t e, size_t *lo, size_t *hi)
{
    size_t l = e >= pw ? 0 : (pw - e + sw - 1) / sw;
    size_t h = w + pw > e ? (w + pw - e + sw - 1) / sw : 0;
    h = h < ow ? h : ow;
    *lo = l < h ? l : h;
    *hi = h;
}

/* col[q, b*P + i*OW + j] for images x[0 .. count) (x at the first one). */
static void im2col_rows(const nncl_conv2d_shape *s, const float *x, size_t count, float *col)
{
    size_t P = s->oh * s->ow, Rc = count * P, hw = s->h * s->w;
    for (size_t c = 0; c < s->c; c++)
        for (size_t ka = 0; ka < s->kh; ka++)
            for (size_t ke = 0; ke < s->kw; ke++) {
                float *row = col + ((c * s->kh + ka) * s->kw + ke) * Rc;
                size_t lo, hi;
                tap_span(s->w, s->ow, s->stride_w, s->pad_w, ke, &lo, &hi);
                for (size_t b = 0; b < count; b++) {
                    const float *plane = x + (b * s->c + c) * hw;
                    for (size_t i = 0; i < s->oh; i++) {
                        float *out = row + (b * s->oh + i) * s->ow;
                        size_t y = i * s->stride_h + ka - s->pad_h; /* "negative" wraps past h */
                        if (y >= s->h) {
                            memset(out, 0, s->ow * sizeof *out);
                            continue;
                        }
                        const float *src = plane + y * s->w + ke - s->pad_w; /* src[j*sw], j in [lo, hi) */
                        for (size_t j = 0; j < lo; j++)
                            out[j] = 0.0f;
                        if (s->stride_w == 1)
                            memcpy(out + lo, src + lo, (hi - lo) * sizeof *out);
                        else
                            for (size_t j = lo; j < hi; j++)
                                out[j] = src[j * s->stride_w];
                        for (size_t j = hi; j < s->ow; j++)
                            out[j] = 0.0f;
                    }
                }
            }
}

/* Stride 1, through a zero-bordered copy of each input plane (at most
 * PADDED_MAX floats, on the stack): every tap's output row is then a plain
 * copy of ow floats from it, with no padding tests and no zero fills (those
 * short memsets and spans were most of im2col's time). The copied values
 * are the same, so the results are bit for bit those of im2col_rows. */
enum { PADDED_MAX = 8192 };

/* GCC turns the row copies below back into memcpy calls (loop distribution),
 * one call per 7-28 floats; inline loops are faster at these lengths. */
#if defined(__GNUC__) && !defined(__clang__)
#define INLINE_COPIES __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define INLINE_COPIES
#endif

static bool padded_fits(const nncl_conv2d_shape *s)
{
    return s->stride_h == 1 && s->stride_w == 1 && (s->h + 2 * s->pad_h) * (s->w + 2 * s->pad_w) <= PADDED_MAX &&
           s->oh + s->kh - 1 <= s->h + 2 * s->pad_h && s->ow + s->kw - 1 <= s->w + 2 * s->pad_w;
}

INLINE_COPIES static void im2col_padded(const nncl_conv2d_shape *s, const float *x, size_t count, float *col)
{
    float pad[PADDED_MAX];
    size_t P = s->oh * s->ow, Rc = count * P, hw = s->h * s->w, W2 = s->w + 2 * s->pad_w;
    size_t H2 = s->h + 2 * s->pad_h;
    for (size_t i = 0; i < H2 * W2; i++)
        pad[i] = 0.0f;
    for (size_t c = 0; c < s->c; c++)
        for (size_t b = 0; b < count; b++) {
            const float *plane = x + (b * s->c + c) * hw;
            for (size_t y = 0; y < s->h; y++)
                for (size_t z = 0; z < s->w; z++)
                    pad[(y + s->pad_h) * W2 + z + s->pad_w] = plane[y * s->w + z];
            for (size_t ka = 0; ka < s->kh; ka++)
                for (size_t ke = 0; ke < s->kw; ke++) {
                    float *out = col + ((c * s->kh + ka) * s->kw + ke) * Rc + b * P;
                    const float *src = pad + ka * W2 + ke;
                    for (size_t i = 0; i < s->oh; i++)
                        for (size_t j = 0; j < s->ow; j++)
                            out[i * s->ow + j] = src[i * W2 + j];
                }
        }
}

/* The same for col2im: each tap's rows are added, whole, into a
 * zero-bordered plane, tap by tap in the order col2im_rows adds them (so
 * every element gets the same additions in the same order: the same bits),
 * and the plane's inside is copied out; the border gathers what falls
 * outside the image and is dropped. */
INLINE_COPIES static void col2im_padded(const nncl_conv2d_shape *s, const float *col, size_t count, float *dx)
{
    float pad[PADDED_MAX];
    size_t P = s->oh * s->ow, Rc = count * P, hw = s->h * s->w, W2 = s->w + 2 * s->pad_w;
    size_t H2 = s->h + 2 * s->pad_h;
    for (size_t b = 0; b < count; b++)
        for (size_t c = 0; c < s->c; c++) {
            for (size_t i = 0; i < H2 * W2; i++)
                pad[i] = 0.0f;
            for (size_t ka = 0; ka < s->kh; ka++)
                for (size_t ke = 0; ke < s->kw; ke++) {
                    const float *in = col + ((c * s->kh + ka) * s->kw + ke) * Rc + b * P;
                    float *dst = pad + ka * W2 + ke;
                    for (size_t i = 0; i < s->oh; i++)
                        for (size_t j = 0; j < s->ow; j++)
                            dst[i * W2 + j] += in[i * s->ow + j];
                }
            float *plane = dx + (b * s->c + c) * hw;
            for (size_t y = 0; y < s->h; y++)
                for (size_t z = 0; z < s->w; z++)
                    plane[y * s->w + z] = pad[(y + s->pad_h) * W2 + z + s->pad_w];
        }
}

/* dx[b, c] = sum over the taps of col's rows, for images [0, count): each
 * plane zeroed, then each tap's rows added into it (the plane stays in L1). */
static void col2im_rows(const nncl_conv2d_shape *s, const float *col, size_t count, float *dx)
{
    size_t P = s->oh * s->ow, Rc = count * P, hw = s->h * s->w;
    for (size_t b = 0; b < count; b++)
        for (size_t c = 0; c < s->c; c++) {
            float *plane = dx + (b * s->c + c) * hw;
            memset(plane, 0, hw * sizeof *plane);
            for (size_t ka = 0; ka < s->kh; ka++)
                for (size_t ke = 0; ke < s->kw; ke++) {
                    const float *row = col + ((c * s->kh + ka) * s->kw + ke) * Rc + b * P;
                    size_t lo, hi;
                    tap_span(s->w, s->ow, s->stride_w, s->pad_w, ke, &lo, &hi);
                    for (size_t i = 0; i < s->oh; i++) {
                        size_t y = i * s->stride_h + ka - s->pad_h;
                        if (y >= s->h)
                            continue;
                        const float *in = row + i * s->ow;
                        float *dst = plane + y * s->w + ke - s->pad_w;
                        if (s->stride_w == 1)
                            for (size_t j = lo; j < hi; j++)
                                dst[j] += in[j];
                        else
                            for (size_t j = lo; j < hi; j++)
                                dst[j * s->stride_w] += in[j];
                    }
                }
        }
}

static size_t host_images_per_chunk(const nncl_conv2d_shape *s)
{
    size_t budget = NNCL_CONV_HOST_CHUNK_FLOATS;
    const char *env = getenv("NNCL_CONV_CHUNK_FLOATS");
    if (env && *env)
        budget = (size_t)strtoull(env, NULL, 10);
    size_t per_image = s->c * s->kh * s->kw * s->oh * s->ow, n = per_image ? budget / per_image : s->n;
    return n < 1 ? 1 : n > s->n ? s->n : n;
}

/* The chunks run on the host's workers (nncl_host_for), each taking the
 * next chunk when free; worker t forms its chunk's col and Y (or G) in its
 * own part of scratch (which holds the whole batch's col and Y): col at
 * t*Q*chunk*P, Y or G at Q*R + t*K*chunk*P, which fits for t < n / chunk
 * (host_conv_workers; a chunk is at most half the batch, so two always
 * fit). A chunk's result depends on
 * the chunk alone: its images of y and dx, and in backward its own dW slot;
 * the slots are added in chunk order at the end (dW = ((slot 0 + slot 1) +
 * slot 2) ..., the order the single-threaded loop used), so the bits do not
 * depend on which worker ran what, nor on the number of cores. */
typedef struct host_conv_job {
    const nncl_conv2d_fwd_args *fa;
    const nncl_conv2d_bwd_args *ba;
    size_t chunk;
    float *slots; /* backward: K*Q floats per chunk, its dW */
} host_conv_job;

static size_t host_conv_chunk(const nncl_conv2d_shape *s)
{
    size_t chunk = host_images_per_chunk(s), half = s->n / 2 ? s->n / 2 : 1;
    return chunk < half ? chunk : half;
}

/* The workers whose parts of scratch fit beside each other (above). */
static int host_conv_workers(const nncl_conv2d_shape *s, size_t chunk)
{
    size_t fit = s->n / chunk;
    return fit > NNCL_HOST_MAX_WORKERS ? NNCL_HOST_MAX_WORKERS : fit < 1 ? 1 : (int)fit;
}

/* Chunk `item` of the batch as worker `worker` forms it: its images
 * [n0, n0 + count), Rc = count * P columns, its col and its K x Rc block
 * (Y forward, G backward) in the worker's part of scratch. */
typedef struct host_chunk {
    size_t P, Q, img, n0, count, Rc;
    float *col, *block;
} host_chunk;

static host_chunk host_chunk_at(const nncl_conv2d_shape *s, nncl_view scratch, size_t chunk, size_t item, int worker)
{
    host_chunk c = {.P = s->oh * s->ow, .Q = s->c * s->kh * s->kw, .img = s->c * s->h * s->w, .n0 = item * chunk};
    c.count = s->n - c.n0 < chunk ? s->n - c.n0 : chunk;
    c.Rc = c.count * c.P;
    float *base = nncl_host_f32(scratch);
    c.col = base + (size_t)worker * c.Q * chunk * c.P;
    c.block = base + c.Q * s->n * c.P + (size_t)worker * s->k * chunk * c.P;
    return c;
}

static void im2col_host(const nncl_conv2d_shape *s, const float *x, size_t count, float *col)
{
    if (padded_fits(s))
        im2col_padded(s, x, count, col);
    else
        im2col_rows(s, x, count, col);
}

static void host_conv_fwd_chunk(void *arg, size_t item, int worker)
{
    host_conv_job *job = arg;
    const nncl_conv2d_fwd_args *a = job->fa;
    const nncl_conv2d_shape *s = &a->s;
    host_chunk c = host_chunk_at(s, a->scratch, job->chunk, item, worker);
    size_t P = c.P, Q = c.Q, n0 = c.n0, count = c.count, Rc = c.Rc;
    const float *x = nncl_host_f32(a->x), *w = nncl_host_f32(a->w), *bias = a->b.buf ? nncl_host_f32(a->b) : NULL;
    float *y = nncl_host_f32(a->y), *col = c.col, *Y = c.block;
    im2col_host(s, x + n0 * c.img, count, col);
    nncl_gemm_args g = {.trans_a = false, .trans_b = false, .m = s->k, .n = Rc, .k = Q, .alpha = 1.0f,
                        .beta = 0.0f, .lda = Q, .ldb = Rc, .ldc = Rc};
    nncl_host_sgemm(&g, w, col, Y);
    for (size_t b = 0; b < count; b++)
        for (size_t k = 0; k < s->k; k++) {
            const float *src = Y + k * Rc + b * P;
            float *dst = y + ((n0 + b) * s->k + k) * P, add = bias ? bias[k] : 0.0f;
            for (size_t p = 0; p < P; p++)
                dst[p] = src[p] + add;
            nncl_act_apply_n(a->act, a->act_param, dst, P);
        }
}

nncl_status nncl_host_conv2d_fwd(nncl_device *dev, const nncl_conv2d_fwd_args *a)
{
    const cd_isa *isa = nncl_conv_direct_isa(&a->s);
    if (isa)
        return nncl_conv_direct_fwd(dev, isa, a);
    host_conv_job job = {.fa = a, .chunk = host_conv_chunk(&a->s)};
    nncl_host_for((a->s.n + job.chunk - 1) / job.chunk, host_conv_workers(&a->s, job.chunk), host_conv_fwd_chunk,
                  &job);
    return NNCL_OK;
}

/* db[k] for the filters [k_lo, k_hi): in double, over 8 lanes (element p
 * of a row to lane p mod 8, a short row's tail to lane 0) added in a fixed
 * tree at the end. One running sum was a chain of dependent adds, 4 cycles
 * an element: ~40% of the backward's own time at the CNNs' first layers. */
static void host_conv_db_part(void *arg, size_t k_lo, size_t k_hi)
{
    const nncl_conv2d_bwd_args *a = ((host_conv_job *)arg)->ba;
    const nncl_conv2d_shape *s = &a->s;
    const float *dy = nncl_host_f32(a->dy);
    float *db = nncl_host_f32(a->db);
    size_t P = s->oh * s->ow, P8 = P / 8 * 8;
    for (size_t k = k_lo; k < k_hi; k++) {
        double acc[8] = {0};
        for (size_t n = 0; n < s->n; n++) {
            const float *row = dy + (n * s->k + k) * P;
            for (size_t p = 0; p < P8; p += 8)
                for (int l = 0; l < 8; l++)
                    acc[l] += row[p + l];
            for (size_t p = P8; p < P; p++)
                acc[0] += row[p];
        }
        db[k] = (float)(((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])));
    }
}

static void host_conv_bwd_chunk(void *arg, size_t item, int worker)
{
    host_conv_job *job = arg;
    const nncl_conv2d_bwd_args *a = job->ba;
    const nncl_conv2d_shape *s = &a->s;
    host_chunk c = host_chunk_at(s, a->scratch, job->chunk, item, worker);
    size_t P = c.P, Q = c.Q, img = c.img, n0 = c.n0, count = c.count, Rc = c.Rc;
    const float *x = nncl_host_f32(a->x), *w = nncl_host_f32(a->w), *dy = nncl_host_f32(a->dy);
    float *col = c.col, *G = c.block;
    /* chunk 0 writes dW itself; the others their slots */
    float *dw = item ? job->slots + (item - 1) * s->k * Q : nncl_host_f32(a->dw);
    for (size_t b = 0; b < count; b++)
        for (size_t k = 0; k < s->k; k++)
            memcpy(G + k * Rc + b * P, dy + ((n0 + b) * s->k + k) * P, P * sizeof *G);
    im2col_host(s, x + n0 * img, count, col);
    /* the chunk's dW = Gc col^T */
    nncl_gemm_args gw = {.trans_a = false, .trans_b = true, .m = s->k, .n = Q, .k = Rc, .alpha = 1.0f,
                         .beta = 0.0f, .lda = Rc, .ldb = Rc, .ldc = Q};
    nncl_host_sgemm(&gw, G, col, dw);
    if (!a->dx.buf)
        return;
    /* col = W^T Gc (dW was the last to read col), then the chunk's dx */
    nncl_gemm_args gx = {.trans_a = true, .trans_b = false, .m = Q, .n = Rc, .k = s->k, .alpha = 1.0f,
                         .beta = 0.0f, .lda = Q, .ldb = Rc, .ldc = Rc};
    nncl_host_sgemm(&gx, w, G, col);
    if (padded_fits(s))
        col2im_padded(s, col, count, nncl_host_f32(a->dx) + n0 * img);
    else
        col2im_rows(s, col, count, nncl_host_f32(a->dx) + n0 * img);
}

/* Images per dW slot in the direct form (conv_direct.c): eight chunks, so
 * two threads share them evenly and the slots stay few; with
 * NNCL_CONV_CHUNK_FLOATS set, the im2col form's chunks (the tests' one
 * image per chunk). */
static size_t direct_chunk(const nncl_conv2d_shape *s)
{
    const char *env = getenv("NNCL_CONV_CHUNK_FLOATS");
    return env && *env ? host_images_per_chunk(s) : (s->n + 7) / 8;
}

nncl_status nncl_host_conv2d_bwd(nncl_device *dev, const nncl_conv2d_bwd_args *a)
{
    size_t wlen = nncl_conv2d_w_len(&a->s);
    host_conv_job job = {.ba = a, .chunk = host_conv_chunk(&a->s)};
    if (a->db.buf)
        nncl_host_range(a->s.k, 1, host_conv_db_part, &job);
    const cd_isa *isa = nncl_conv_direct_isa(&a->s);
    if (isa)
        return nncl_conv_direct_bwd(dev, isa, a, direct_chunk(&a->s));
    size_t chunks = (a->s.n + job.chunk - 1) / job.chunk;
    if (chunks > 1) { /* the chunks' dW but the first's, in the device's working buffer */
        nncl_status st = nncl_host_workspace(dev, (chunks - 1) * wlen * sizeof(float), (void **)&job.slots);
        if (st != NNCL_OK)
            return st;
    }
    nncl_host_for(chunks, host_conv_workers(&a->s, job.chunk), host_conv_bwd_chunk, &job);
    float *dw = nncl_host_f32(a->dw);
    for (size_t c = 1; c < chunks; c++) {
        const float *slot = job.slots + (c - 1) * wlen;
        for (size_t i = 0; i < wlen; i++)
            dw[i] += slot[i];
    }
    return NNCL_OK;
}

/* ---- OpenCL ---------------------------------------------------------------------------- */

static nncl_status swap_outer_cl(nncl_device *dev, nncl_view x, nncl_view y, nncl_view bias, size_t A, size_t B,
                                 size_t P, nncl_act act, float act_param)
{
    size_t global[2] = {P, A * B}, rows = A * B;
    bool has_bias = bias.buf != NULL, cpu = nncl_conv_cpu_form(dev);
    /* Without a bias, a valid buffer (never read) still goes to the kernel. */
    return nncl_cl_launch(dev, cpu ? "swap_outer_rows" : "swap_outer", cpu ? 1 : 2, cpu ? &rows : global, NULL,
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
