/* linear_u8_head on the host device: the tutorial's whole step from the
 * dataset's bytes, in float, as cl/linear_u8.cl computes it. Before it the
 * host trained such a network through a float copy of the batch and
 * OpenBLAS, which packs all 41,000 x 784 floats for every product: 2.6x
 * PoCL's time for the tutorial on an AVX2 EPYC.
 *
 * The rows go in two halves, one per core (nncl_host_split2); a half walks
 * its rows in blocks of U8H_HOST_BLOCK, whose bytes stay in the core's cache
 * for the block's three passes: the hidden layer (2 rows x 5 units at a time,
 * u8_head_host_kernels.inc), the head (head_xent's row in float, a row
 * per vector lane) and the block's share of dW1 (5 units x two vectors of
 * columns, summed over the block's rows). Each half keeps its own sums; the
 * second half's are added to the first's at the end. The halves and blocks
 * depend on the number of rows only, so the bits do not depend on the
 * cores. nncl_host_linear_u8_head_reference (linear_u8_head.c), the three
 * host twins composed in double, stays the oracle the tests compare every
 * device with, this one included. */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "device/backend.h"
#include "nncl_config.h"
#include "ops/host_split.h"
#include "ops/op_util.h"
#include "ops/u8_head_host.h"

#define U8K_VW 4
#define U8K_NAME(x) x##_generic
#include "u8_head_host_kernels.inc"

/* Rows per block: 128 MNIST rows are 100 KB of bytes, in L2 beside W1.
 * A block's g rows are GW wide: the weight gradient reads U8H_TM units at
 * a time, up to the hidden units rounded up (zeros past them). */
enum { U8H_HOST_BLOCK = 128, M = NNCL_HEAD_MAX, GW = (M + U8H_TM - 1) / U8H_TM * U8H_TM };

typedef struct u8h_isa {
    u8h_fwd_fn *fwd;
    u8h_wgrad_fn *wgrad;
    u8h_head_fn *head;
} u8h_isa;

/* The widest set the CPU has; NNCL_U8H_HOST=generic asks for the plain
 * 4-float loops (the tests run them on every machine). */
static u8h_isa pick_isa(void)
{
    const char *env = getenv("NNCL_U8H_HOST");
    if (env && strcmp(env, "generic") == 0)
        return (u8h_isa){nncl_u8h_fwd_generic, nncl_u8h_wgrad_generic, nncl_u8h_head_generic};
#if NNCL_HAVE_X86_KERNELS
    if (__builtin_cpu_supports("avx512f"))
        return (u8h_isa){nncl_u8h_fwd_avx512, nncl_u8h_wgrad_avx512, nncl_u8h_head_avx512};
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return (u8h_isa){nncl_u8h_fwd_avx2, nncl_u8h_wgrad_avx2, nncl_u8h_head_avx2};
#endif
    return (u8h_isa){nncl_u8h_fwd_generic, nncl_u8h_wgrad_generic, nncl_u8h_head_generic};
}

/* What both halves share (read-only) and what each sums. */
typedef struct u8h_job {
    const nncl_linear_u8_head_args *a;
    u8h_isa isa;
    size_t hp;                  /* hidden rounded up to U8H_TM (dw1's rows) */
    const float *w1s;           /* W1 with the input scale folded in, H x in */
    const float *shift;         /* NULL when every shift is 0 */
    float *dw1[2];              /* each half's sum of g^T (x - shift), hp x in */
    double db1[2][M], dw2[2][M * M], db2[2][M], loss[2], correct[2];
} u8h_job;

/* The shift, or NULL when it is all zeros (the inner loops then skip it). */
static const float *nonzero_shift(const float *shift, size_t in)
{
    for (size_t i = 0; i < in; i++)
        if (shift[i] != 0.0f)
            return shift;
    return NULL;
}

/* One block's dense layer from its n rows of bytes: y at out[r*rs + o*us]
 * = f(b[o] + sum_j (x_r[j] - shift[j]) ws[o*in + j]) for o < units, 2 rows
 * x 5 units at a time. Units outside, so a unit block's weights stay in
 * L1; the first unit block brings the rows in. */
static void dense_block(u8h_fwd_fn *fwd, const uint8_t *const *xr, size_t n, const float *ws, const float *shift,
                        const float *b, size_t in, size_t units, nncl_act act, float slope, float *out, size_t rs,
                        size_t us)
{
    float res[U8H_HOST_BLOCK * U8H_DN];
    for (size_t o0 = 0; o0 < units; o0 += U8H_DN) {
        const float *wr[U8H_DN];
        for (int c = 0; c < U8H_DN; c++)
            wr[c] = ws + (o0 + c < units ? o0 + c : units - 1) * in;
        fwd(xr, n, wr, shift, in, o0 == 0, res);
        size_t cols = units - o0 < U8H_DN ? units - o0 : U8H_DN;
        for (size_t c = 0; c < cols; c++)
            for (size_t r = 0; r < n; r++)
                out[r * rs + (o0 + c) * us] = res[r * U8H_DN + c] + b[o0 + c];
        /* the activation over runs of contiguous outputs, not a switch per
         * element (which cost 9% of the tutorial's step) */
        if (rs == 1)
            for (size_t c = 0; c < cols; c++)
                nncl_act_apply_n(act, slope, out + (o0 + c) * us, n);
        else if (us == 1)
            for (size_t r = 0; r < n; r++)
                nncl_act_apply_n(act, slope, out + r * rs + o0, cols);
        else
            for (size_t r = 0; r < n; r++)
                for (size_t c = 0; c < cols; c++)
                    nncl_act_apply_n(act, slope, out + r * rs + (o0 + c) * us, 1);
    }
}

static void half_rows(void *arg, int part)
{
    u8h_job *j = arg;
    const nncl_linear_u8_head_args *a = j->a;
    const size_t I = a->in, H = a->hidden, C = a->classes;
    const uint8_t *x = nncl_host_u8(a->x);
    const int32_t *ix = a->index.buf ? nncl_host_i32(a->index) : NULL;
    const int32_t *labels = nncl_host_i32(a->labels);
    const float *b1 = nncl_host_f32(a->b1);
    const u8h_head_in head = {.hidden = H,
                              .classes = C,
                              .w2 = nncl_host_f32(a->w2),
                              .b2 = nncl_host_f32(a->b2),
                              .grad_scale = a->grad_scale,
                              .act = a->act,
                              .slope = a->act_param};
    float *dw1 = j->dw1[part];
    double *db1 = j->db1[part], *dw2 = j->dw2[part], *db2 = j->db2[part];
    double loss = 0.0, correct = 0.0;
    size_t lo, hi;
    nncl_host_half(a->rows, part, &lo, &hi);

    /* h and g transposed, [unit][row]: the head takes a row per lane; g's
     * padding units (H to hp) stay zero, so their rows of dw1 get nothing */
    const uint8_t *xr[U8H_HOST_BLOCK];
    float ht[M][U8H_HOST_BLOCK], gt[GW][U8H_HOST_BLOCK];
    memset(gt, 0, sizeof gt);
    for (size_t blk = lo; blk < hi; blk += U8H_HOST_BLOCK) {
        size_t n = hi - blk < U8H_HOST_BLOCK ? hi - blk : U8H_HOST_BLOCK;
        for (size_t r = 0; r < n; r++)
            xr[r] = x + (ix ? (size_t)ix[blk + r] : blk + r) * I;

        /* hidden layer, transposed: unit o of row r at ht[o][r] */
        dense_block(j->isa.fwd, xr, n, j->w1s, j->shift, b1, I, H, a->act, a->act_param, &ht[0][0], 1,
                    U8H_HOST_BLOCK);
        if (n < U8H_HOST_BLOCK) /* the last block: its lanes past n read zeros */
            for (size_t o = 0; o < H; o++)
                memset(&ht[o][n], 0, (U8H_HOST_BLOCK - n) * sizeof(float));

        /* the head: its gradients, and g = dL/d(pre-activation); the block's
         * sums in float, added to the half's in double */
        u8h_head_sums bs;
        j->isa.head(&head, &ht[0][0], U8H_HOST_BLOCK, labels + blk, n, &gt[0][0], U8H_HOST_BLOCK, &bs);
        for (size_t c = 0; c < C; c++) {
            db2[c] += bs.db2[c];
            for (size_t o = 0; o < H; o++)
                dw2[c * H + o] += bs.dw2[c * H + o];
        }
        for (size_t o = 0; o < H; o++)
            db1[o] += bs.db1[o];
        loss += bs.loss;
        correct += bs.correct;

        /* dW1's share of the block, from its bytes while they are cached */
        for (size_t o0 = 0; o0 < H; o0 += U8H_TM)
            j->isa.wgrad(xr, n, &gt[o0][0], U8H_HOST_BLOCK, j->shift, I, dw1 + o0 * I);
    }
    j->loss[part] = loss;
    j->correct[part] = correct;
}

nncl_status nncl_host_linear_u8_head(nncl_device *dev, const nncl_linear_u8_head_args *a)
{
    (void)dev;
    const size_t I = a->in, H = a->hidden, C = a->classes;
    u8h_job job = {.a = a, .isa = pick_isa(), .hp = (H + U8H_TM - 1) / U8H_TM * U8H_TM};
    /* W1 scaled, and the two halves' dW1 sums, in the op's scratch (its
     * length counts them: nncl_u8h_host_scratch_floats) */
    float *buf = nncl_host_f32(a->scratch);
    float *w1s = buf;
    job.w1s = w1s;
    job.shift = nonzero_shift(nncl_host_f32(a->shift), I);
    job.dw1[0] = buf + H * I;
    job.dw1[1] = job.dw1[0] + job.hp * I;
    memset(job.dw1[0], 0, 2 * job.hp * I * sizeof(float));
    const float *W1 = nncl_host_f32(a->w1), *scale = nncl_host_f32(a->scale);
    for (size_t o = 0; o < H; o++)
        for (size_t i = 0; i < I; i++)
            w1s[o * I + i] = W1[o * I + i] * scale[i];

    /* a small batch on one core: starting the other costs more than it
     * saves (the same halves, one after the other: the same bits) */
    if (a->rows * I * H >= (size_t)1 << 18) {
        nncl_host_split2(half_rows, &job);
    } else {
        half_rows(&job, 0);
        half_rows(&job, 1);
    }

    /* dW1 = scale * (half 0 + half 1), the other sums likewise in order */
    float *dw1 = nncl_host_f32(a->dw1);
    for (size_t o = 0; o < H; o++)
        for (size_t i = 0; i < I; i++)
            dw1[o * I + i] = (job.dw1[0][o * I + i] + job.dw1[1][o * I + i]) * scale[i];
    float *db1 = nncl_host_f32(a->db1), *dw2 = nncl_host_f32(a->dw2), *db2 = nncl_host_f32(a->db2);
    for (size_t o = 0; o < H; o++)
        db1[o] = (float)(job.db1[0][o] + job.db1[1][o]);
    for (size_t e = 0; e < C * H; e++)
        dw2[e] = (float)(job.dw2[0][e] + job.dw2[1][e]);
    for (size_t c = 0; c < C; c++)
        db2[c] = (float)(job.db2[0][c] + job.db2[1][c]);
    float *acc = nncl_host_f32(a->acc);
    acc[0] += (float)(job.loss[0] + job.loss[1]);
    acc[1] += (float)(job.correct[0] + job.correct[1]);
    return NNCL_OK;
}

/* ---- linear_u8_fwd --------------------------------------------------------- */

/* The byte-input layer's forward on the host, where it serves the fused
 * step's network for evaluation: the same loops as the step's hidden layer
 * (W with the scale folded in, 2 rows x 5 units at a time, the next rows
 * prefetched), in float, on two cores for a large batch. The double loops
 * it replaced (nncl_host_linear_u8_fwd_reference, linear_u8.c) were 7% of
 * the tutorial's run; they stay the oracle the tests compare it with. */
typedef struct u8f_job {
    const nncl_linear_u8_fwd_args *a;
    u8h_fwd_fn *fwd;
    const float *ws;    /* W scaled, out x in */
    const float *shift; /* NULL when every shift is 0 */
} u8f_job;

static void fwd_rows(void *arg, int part)
{
    const u8f_job *j = arg;
    const nncl_linear_u8_fwd_args *a = j->a;
    const size_t I = a->in, O = a->out;
    const uint8_t *x = nncl_host_u8(a->x);
    const int32_t *ix = a->index.buf ? nncl_host_i32(a->index) : NULL;
    const float *b = nncl_host_f32(a->b);
    float *y = nncl_host_f32(a->y);
    size_t lo, hi;
    nncl_host_half(a->rows, part, &lo, &hi);
    const uint8_t *xr[U8H_HOST_BLOCK];
    for (size_t blk = lo; blk < hi; blk += U8H_HOST_BLOCK) {
        size_t n = hi - blk < U8H_HOST_BLOCK ? hi - blk : U8H_HOST_BLOCK;
        for (size_t r = 0; r < n; r++)
            xr[r] = x + (ix ? (size_t)ix[blk + r] : blk + r) * I;
        dense_block(j->fwd, xr, n, j->ws, j->shift, b, I, O, a->act, a->act_param, y + blk * a->ldy, a->ldy, 1);
    }
}

nncl_status nncl_host_linear_u8_fwd(nncl_device *dev, const nncl_linear_u8_fwd_args *a)
{
    (void)dev;
    const size_t I = a->in, O = a->out;
    float *ws = malloc(O * I * sizeof *ws);
    if (!ws)
        return nncl_fail(NNCL_E_NOMEM, "linear_u8_fwd: %zu floats for the scaled weights", O * I);
    const float *W = nncl_host_f32(a->w), *scale = nncl_host_f32(a->scale);
    for (size_t o = 0; o < O; o++)
        for (size_t i = 0; i < I; i++)
            ws[o * I + i] = W[o * I + i] * scale[i];
    u8f_job job = {.a = a, .fwd = pick_isa().fwd, .ws = ws, .shift = nonzero_shift(nncl_host_f32(a->shift), I)};
    if (a->rows * I * O >= (size_t)1 << 18) {
        nncl_host_split2(fwd_rows, &job);
    } else {
        fwd_rows(&job, 0);
        fwd_rows(&job, 1);
    }
    free(ws);
    return NNCL_OK;
}
