/* The host backend's convolution at stride 1, summed directly.
 *
 * Why not im2col + OpenBLAS here: at the CNNs' shapes the patch matrix is
 * kh*kw times the input, written and read once per product, and the
 * products are thin (16-64 filters, or 16-32 rows of dW); a second layer
 * 16->32 5x5 at 14x14 ran its backward pass at ~85 GFLOP/s on two AVX-512
 * cores, where oneDNN's direct kernels reach ~250. Here each product keeps
 * a block of outputs in registers (conv_direct_kernels.inc) and reads its
 * inputs from zero-bordered copies of the input planes, which fit the L1/L2
 * cache: no patch matrix at all, and no padding logic in the inner loops.
 *
 * One description covers the forward pass and dx, a "valid" convolution of
 * bordered planes (dconv below):
 *   forward  y[n, k] = act(b[k] + sum_{c,a,e} w[k, c, a, e] x^[n, c, i+a, j+e])
 *            x^ = x with pad_h rows above and pad_w columns left (zeros
 *            around); cin = C, cout = K
 *   dx       dx[n, c, y, z] = sum_{k,a,e} w[k, c, kh-1-a, kw-1-e] g^[n, k, y+a, z+e]
 *            g^ = dy with kh-1-pad_h rows above and kw-1-pad_w left: the
 *            same form with the filters flipped and transposed; cin = K,
 *            cout = C
 *   dW       dW[k, c, a, e] = sum_{n,i,j} dy[n, k, i, j] x^[n, c, i+a, j+e]
 *            (dw_block), dy transposed per image to [pixel][k] so its k are
 *            a vector.
 * Vectors run over the output channels (forward, dx) or the filters (dW):
 * the weights of a tap are a vector, each input value is broadcast. Filters
 * are padded with zero weights to whole blocks, and the output to whole
 * blocks of rows and columns (the planes are bordered far enough that the
 * extra outputs read zeros; they are dropped on the way out).
 *
 * Threads: the forward pass and dx take one image per item; dW sums each
 * chunk of images into its own slot, and the slots are added in chunk order
 * at the end. Every output's sum runs over its taps (or dW's over its
 * pixels) in order, in one accumulator lane, whatever the block's shape, so
 * the bits depend neither on the threads nor on the block, nor on the
 * instruction set (both fuse each multiply-add: -ffp-contract=fast in
 * src/ops/meson.build); a test holds AVX2's bits to AVX-512's. */
#include <stdlib.h>
#include <string.h>

#include "device/backend.h"
#include "nncl_config.h"
#include "ops/conv_direct.h"
#include "ops/conv_impl.h"
#include "ops/host_split.h"
#include "ops/op_util.h"

const cd_isa *nncl_conv_direct_isa(const nncl_conv2d_shape *s)
{
#if NNCL_HAVE_X86_KERNELS
    /* Below 16 taps a filter (a first layer's 3x3 over one channel) the
     * products are few and the blocks' way out, from [pixel][filter] order
     * to the planes, costs more than they do: im2col + GEMM was faster
     * there (cnn3's first layer, batch 128: 2.5 against 1.5 ms forward,
     * 4.4 against 2.4 backward). */
    if (s->stride_h != 1 || s->stride_w != 1 || s->c * s->kh * s->kw < 16)
        return NULL;
    /* AVX2's blocks (12 accumulators in 16 registers: more loads per FMA)
     * run only when asked for: against OpenBLAS's own AVX2 kernels
     * (OPENBLAS_CORETYPE=Haswell on the AVX-512 machine, both sides at 8
     * lanes) they were as fast for the 5x5 network's second layer but 1.5x
     * slower for the 3x3 one's (37 against 24 ms, batch 128), and no
     * AVX2-only machine has measured them. Tests run them everywhere. */
    const char *env = getenv("NNCL_CONV_DIRECT");
    if (env && strcmp(env, "off") == 0)
        return NULL;
    if (env && strcmp(env, "avx2") == 0)
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? &cd_isa_avx2 : NULL;
    if (__builtin_cpu_supports("avx512f"))
        return &cd_isa_avx512;
#else
    (void)s;
#endif
    return NULL;
}

static size_t ceil_div(size_t a, size_t b) { return (a + b - 1) / b; }
static size_t max_size(size_t a, size_t b) { return a > b ? a : b; }

/* A "valid" convolution of cin bordered planes into cout output planes:
 * each input plane ih x iw sits at (top, left) in its bordered plane. */
typedef struct dconv {
    size_t cin, cout, kh, kw, ih, iw, top, left, oh, ow;
} dconv;

/* How dconv runs on this ISA: the block, the padded sizes, the taps'
 * offsets into the bordered planes, and the weights packed per tap. */
/* A call's working memory is one piece of the host device's buffer
 * (nncl_host_workspace), cut into 64-byte aligned arrays. */
static size_t carve_len(size_t bytes) { return (bytes + 63) / 64 * 64; }

static void *carve(char **ws, size_t bytes)
{
    void *p = *ws;
    *ws += carve_len(bytes);
    return p;
}

typedef struct dplan {
    dconv d;
    const cd_fwd_kernel *k;
    size_t kbw, kblocks, Kp;   /* floats per block of filters, blocks, padded cout */
    size_t PH, PW, plane, taps;
    size_t *off;               /* [taps] */
    float *w;                  /* [taps][Kp] */
} dplan;

/* Per tap, per block: KB weight loads and RB*CB broadcasts against
 * KB*RB*CB FMAs; two of each a cycle, so the larger count is the time. */
static const cd_fwd_kernel *pick_fwd(const cd_isa *isa, const dconv *d)
{
    const cd_fwd_kernel *best = NULL;
    size_t best_cost = 0, nvec = ceil_div(d->cout, (size_t)isa->vw);
    for (size_t i = 0; i < isa->n_fwd; i++) {
        const cd_fwd_kernel *k = &isa->fwd[i];
        size_t kb = (size_t)k->kb, pix = (size_t)(k->rb * k->cb), fma = kb * pix, loads = kb + pix;
        size_t blocks = ceil_div(nvec, kb) * ceil_div(d->oh, (size_t)k->rb) * ceil_div(d->ow, (size_t)k->cb);
        size_t cost = blocks * (fma > loads ? fma : loads);
        if (!best || cost < best_cost)
            best = k, best_cost = cost;
    }
    return best;
}

/* w_at(t, o): the weight of tap t for output channel o, from the layer's w. */
typedef float (*weight_fn)(const nncl_conv2d_shape *s, const float *w, size_t t, size_t o);

/* forward: tap t = (c, a, e) is w's own order within a filter */
static float w_fwd(const nncl_conv2d_shape *s, const float *w, size_t t, size_t k)
{
    return w[k * s->c * s->kh * s->kw + t];
}

/* dx: tap t = (k, a, e) reads filter k at channel c, flipped */
static float w_dx(const nncl_conv2d_shape *s, const float *w, size_t t, size_t c)
{
    size_t khw = s->kh * s->kw, k = t / khw, a = t % khw / s->kw, e = t % s->kw;
    return w[((k * s->c + c) * s->kh + (s->kh - 1 - a)) * s->kw + (s->kw - 1 - e)];
}

/* The plan's shape: its kernel, blocks and bordered planes (no memory). */
static void plan_shape(const cd_isa *isa, const dconv *d, dplan *p)
{
    *p = (dplan){.d = *d, .k = pick_fwd(isa, d)};
    size_t rb = (size_t)p->k->rb, cb = (size_t)p->k->cb;
    p->kbw = (size_t)p->k->kb * (size_t)isa->vw;
    p->kblocks = ceil_div(d->cout, p->kbw);
    p->Kp = p->kblocks * p->kbw;
    /* rows and columns the blocks read, and at least those the input is
     * copied into (an output cut short by the caller's shape covers less
     * than the input) */
    p->PH = max_size(ceil_div(d->oh, rb) * rb + d->kh - 1, d->top + d->ih);
    p->PW = max_size(ceil_div(d->ow, cb) * cb + d->kw - 1, d->left + d->iw);
    p->plane = p->PH * p->PW;
    p->taps = d->cin * d->kh * d->kw;
}

/* Bytes of the plan's tables: the taps' offsets and the packed filters */
static size_t plan_bytes(const dplan *p)
{
    return carve_len(p->taps * sizeof *p->off) + carve_len(p->taps * p->Kp * sizeof *p->w);
}

/* The plan's tables, in memory carved from *ws. */
static void plan_fill(const nncl_conv2d_shape *s, const float *w, weight_fn w_at, dplan *p, char **ws)
{
    const dconv *d = &p->d;
    p->off = carve(ws, p->taps * sizeof *p->off);
    p->w = carve(ws, p->taps * p->Kp * sizeof *p->w);
    for (size_t t = 0; t < p->taps; t++) {
        size_t khw = d->kh * d->kw, c = t / khw, a = t % khw / d->kw, e = t % d->kw;
        p->off[t] = c * p->plane + a * p->PW + e;
        for (size_t o = 0; o < p->Kp; o++)
            p->w[t * p->Kp + o] = o < d->cout ? w_at(s, w, t, o) : 0.0f;
    }
}

/* Floats a worker needs for one image: its bordered planes and one block's
 * output. */
static size_t plan_scratch(const dplan *p) { return p->d.cin * p->plane + (size_t)(p->k->rb * p->k->cb) * p->kbw; }

/* o[q] = act(v[q*stride] + add) for q < cols: one output channel's row of a
 * block, out of the block's [pixel][channel] order. */
static void put_row(float *restrict o, const float *restrict v, size_t stride, size_t cols, float add, nncl_act act,
                    float slope)
{
    for (size_t q = 0; q < cols; q++)
        o[q] = v[q * stride] + add;
    nncl_act_apply_n(act, slope, o, cols);
}

/* One image: src's cin planes into the bordered planes (whose borders are
 * zero from the start and never written), then every block, each written
 * out as dst[o][i][j] = act(sum + bias[o]) for the outputs that exist. */
static void plan_image(const dplan *p, const float *bias, nncl_act act, float slope, const float *src,
                       float *scratch, float *dst)
{
    const dconv *d = &p->d;
    float *planes = scratch, *tmp = scratch + d->cin * p->plane;
    for (size_t c = 0; c < d->cin; c++)
        for (size_t y = 0; y < d->ih; y++)
            memcpy(planes + c * p->plane + (y + d->top) * p->PW + d->left, src + (c * d->ih + y) * d->iw,
                   d->iw * sizeof *src);
    size_t rb = (size_t)p->k->rb, cb = (size_t)p->k->cb, kbw = p->kbw;
    cd_fwd_call call = {.off = p->off, .taps = p->taps, .PW = p->PW, .ldw = p->Kp};
    for (size_t i0 = 0; i0 < d->oh; i0 += rb)
        for (size_t kb0 = 0; kb0 < p->kblocks; kb0++)
            for (size_t j0 = 0; j0 < d->ow; j0 += cb) {
                p->k->fn(&call, planes + i0 * p->PW + j0, p->w + kb0 * kbw, tmp);
                size_t rows = d->oh - i0 < rb ? d->oh - i0 : rb, cols = d->ow - j0 < cb ? d->ow - j0 : cb;
                size_t o0 = kb0 * kbw, outs = d->cout - o0 < kbw ? d->cout - o0 : kbw;
                for (size_t oo = 0; oo < outs; oo++)
                    for (size_t r = 0; r < rows; r++)
                        put_row(dst + ((o0 + oo) * d->oh + i0 + r) * d->ow + j0, tmp + r * cb * kbw + oo, kbw, cols,
                                bias ? bias[o0 + oo] : 0.0f, act, slope);
            }
}

/* ---- forward ------------------------------------------------------------------------ */

typedef struct fwd_job {
    const nncl_conv2d_fwd_args *a;
    dplan plan;
    float *scratch; /* per worker: plan_scratch floats */
} fwd_job;

static void fwd_image(void *arg, size_t n, int worker)
{
    fwd_job *job = arg;
    const nncl_conv2d_fwd_args *a = job->a;
    const nncl_conv2d_shape *s = &a->s;
    const float *x = nncl_host_f32(a->x), *bias = a->b.buf ? nncl_host_f32(a->b) : NULL;
    plan_image(&job->plan, bias, a->act, a->act_param, x + n * s->c * s->h * s->w,
               job->scratch + (size_t)worker * plan_scratch(&job->plan), nncl_host_f32(a->y) + n * s->k * s->oh * s->ow);
}

nncl_status nncl_conv_direct_fwd(nncl_device *dev, const cd_isa *isa, const nncl_conv2d_fwd_args *a)
{
    const nncl_conv2d_shape *s = &a->s;
    dconv d = {s->c, s->k, s->kh, s->kw, s->h, s->w, s->pad_h, s->pad_w, s->oh, s->ow};
    fwd_job job = {.a = a};
    plan_shape(isa, &d, &job.plan);
    /* the tables, then each worker's planes (their borders zero) */
    const int workers = nncl_host_workers() < 2 ? 2 : nncl_host_workers();
    const size_t planes = (size_t)workers * plan_scratch(&job.plan) * sizeof(float);
    char *ws;
    nncl_status st = nncl_host_workspace(dev, plan_bytes(&job.plan) + carve_len(planes), (void **)&ws);
    if (st != NNCL_OK)
        return st;
    plan_fill(s, nncl_host_f32(a->w), w_fwd, &job.plan, &ws);
    job.scratch = carve(&ws, planes);
    memset(job.scratch, 0, planes);
    nncl_host_for(s->n, workers, fwd_image, &job);
    return NNCL_OK;
}

/* ---- backward ----------------------------------------------------------------------- */

typedef struct bwd_job {
    const nncl_conv2d_bwd_args *a;
    const cd_dw_kernel *k;
    size_t chunk, kbw, kblocks, Kw, tblocks, Qp; /* dW: images per slot, filter blocks, padded K, tap blocks, taps */
    size_t PW, plane;                            /* dW: x's bordered planes (row length, size) */
    size_t *off;                                 /* [Qp]: tap t's offset (0 for the padding taps) */
    float *slots;                                /* per chunk: [Qp][Kw] */
    size_t worker_floats;
    float *scratch;                              /* per worker: x planes, dy^T [P][Kw], dx's plan scratch */
    bool with_dx;
    dplan dx;
} bwd_job;

/* Per pixel, per block: KB gradient loads and TB broadcasts against KB*TB FMAs. */
static const cd_dw_kernel *pick_dw(const cd_isa *isa, size_t K, size_t Q)
{
    const cd_dw_kernel *best = NULL;
    size_t best_cost = 0, nvec = ceil_div(K, (size_t)isa->vw);
    for (size_t i = 0; i < isa->n_dw; i++) {
        const cd_dw_kernel *k = &isa->dw[i];
        size_t kb = (size_t)k->kb, tb = (size_t)k->tb, fma = kb * tb, loads = kb + tb;
        size_t cost = ceil_div(nvec, kb) * ceil_div(Q, tb) * (fma > loads ? fma : loads);
        if (!best || cost < best_cost)
            best = k, best_cost = cost;
    }
    return best;
}

static void bwd_chunk(void *arg, size_t item, int worker)
{
    bwd_job *job = arg;
    const nncl_conv2d_bwd_args *a = job->a;
    const nncl_conv2d_shape *s = &a->s;
    size_t P = s->oh * s->ow, img = s->c * s->h * s->w;
    float *xplanes = job->scratch + (size_t)worker * job->worker_floats;
    float *gT = xplanes + s->c * job->plane, *dxs = gT + P * job->Kw;
    float *slot = job->slots + item * job->Qp * job->Kw;
    const float *x = nncl_host_f32(a->x), *dy = nncl_host_f32(a->dy);
    size_t n_end = (item + 1) * job->chunk < s->n ? (item + 1) * job->chunk : s->n;
    cd_dw_call call = {.oh = s->oh, .ow = s->ow, .PW = job->PW, .ldg = job->Kw, .ldw = job->Kw};
    size_t tb = (size_t)job->k->tb;
    for (size_t n = item * job->chunk; n < n_end; n++) {
        const float *xn = x + n * img, *dyn = dy + n * s->k * P;
        for (size_t c = 0; c < s->c; c++)
            for (size_t y = 0; y < s->h; y++)
                memcpy(xplanes + c * job->plane + (y + s->pad_h) * job->PW + s->pad_w, xn + (c * s->h + y) * s->w,
                       s->w * sizeof *xn);
        for (size_t k = 0; k < s->k; k++)
            for (size_t q = 0; q < P; q++)
                gT[q * job->Kw + k] = dyn[k * P + q];
        for (size_t t0 = 0; t0 < job->tblocks; t0++) {
            call.off = job->off + t0 * tb;
            for (size_t kb0 = 0; kb0 < job->kblocks; kb0++)
                job->k->fn(&call, xplanes, gT + kb0 * job->kbw, slot + t0 * tb * job->Kw + kb0 * job->kbw);
        }
        if (job->with_dx)
            plan_image(&job->dx, NULL, NNCL_ACT_IDENTITY, 0.0f, dyn, dxs, nncl_host_f32(a->dx) + n * img);
    }
}

nncl_status nncl_conv_direct_bwd(nncl_device *dev, const cd_isa *isa, const nncl_conv2d_bwd_args *a, size_t chunk)
{
    const nncl_conv2d_shape *s = &a->s;
    size_t Q = s->c * s->kh * s->kw, P = s->oh * s->ow, chunks = ceil_div(s->n, chunk);
    bwd_job job = {.a = a, .k = pick_dw(isa, s->k, Q), .chunk = chunk, .with_dx = a->dx.buf != NULL};
    job.kbw = (size_t)job.k->kb * (size_t)isa->vw;
    job.kblocks = ceil_div(s->k, job.kbw);
    job.Kw = job.kblocks * job.kbw;
    job.tblocks = ceil_div(Q, (size_t)job.k->tb);
    job.Qp = job.tblocks * (size_t)job.k->tb;
    job.PW = max_size(s->ow + s->kw - 1, s->pad_w + s->w); /* rows and columns as in plan_shape */
    job.plane = max_size(s->oh + s->kh - 1, s->pad_h + s->h) * job.PW;
    if (job.with_dx) {
        dconv d = {s->k, s->c, s->kh, s->kw, s->oh, s->ow, s->kh - 1 - s->pad_h, s->kw - 1 - s->pad_w, s->h, s->w};
        plan_shape(isa, &d, &job.dx);
    }
    job.worker_floats = s->c * job.plane + P * job.Kw + (job.with_dx ? plan_scratch(&job.dx) : 0);
    /* dx's tables, the taps' offsets, the chunks' slots and each worker's
     * planes: all but the tables zero (the planes' borders and the slots'
     * sums start at zero; the padding taps' offsets are 0) */
    const int workers = nncl_host_workers() < 2 ? 2 : nncl_host_workers();
    const size_t offs = job.Qp * sizeof *job.off, slots = chunks * job.Qp * job.Kw * sizeof(float);
    const size_t scratch = (size_t)workers * job.worker_floats * sizeof(float);
    char *ws;
    nncl_status st = nncl_host_workspace(dev, (job.with_dx ? plan_bytes(&job.dx) : 0) + carve_len(offs) +
                                                  carve_len(slots) + carve_len(scratch),
                                         (void **)&ws);
    if (st != NNCL_OK)
        return st;
    if (job.with_dx)
        plan_fill(s, nncl_host_f32(a->w), w_dx, &job.dx, &ws);
    job.off = carve(&ws, offs);
    job.slots = carve(&ws, slots);
    job.scratch = carve(&ws, scratch);
    memset(job.off, 0, offs);
    memset(job.slots, 0, slots);
    memset(job.scratch, 0, scratch);
    for (size_t t = 0; t < Q; t++) {
        size_t khw = s->kh * s->kw, c = t / khw, ae = t % khw;
        job.off[t] = c * job.plane + ae / s->kw * job.PW + ae % s->kw;
    }
    nncl_host_for(chunks, workers, bwd_chunk, &job);
    /* dW = ((slot 0 + slot 1) + slot 2) ..., back in [K][Q] order */
    float *dw = nncl_host_f32(a->dw);
    for (size_t k = 0; k < s->k; k++)
        for (size_t t = 0; t < Q; t++) {
            float sum = job.slots[t * job.Kw + k];
            for (size_t c = 1; c < chunks; c++)
                sum += job.slots[(c * job.Qp + t) * job.Kw + k];
            dw[k * Q + t] = sum;
        }
    return NNCL_OK;
}
