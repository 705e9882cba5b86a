/* linear_u8_head on the host device: the tutorial's whole step from the
 * dataset's bytes, in float, as cl/linear_u8.cl computes it. Before it the
 * host trained such a network through a float copy of the batch and
 * OpenBLAS, which packs all 41,000 x 784 floats for every product: 2.6x
 * PoCL's time for the tutorial on an AVX2 EPYC.
 *
 * The rows go in up to U8H_HOST_CHUNKS chunks, which the workers (two, or
 * as many as the cores and the scratch allow) take as they become free
 * (nncl_host_for): on a shared machine a core that the
 * scheduler holds back leaves its chunks to the other, where fixed halves
 * made the whole step wait for the slower one. A chunk walks its rows in
 * blocks of U8H_HOST_BLOCK, whose bytes stay in the core's cache for the
 * block's three passes: the hidden layer (2 rows x 5 units at a time,
 * u8_head_host_kernels.inc), the head (head_xent's row in float, a row
 * per vector lane) and the block's share of dW1 (5 units x two vectors of
 * columns, summed over the block's rows). Each chunk keeps its own sums,
 * added in chunk order at the end. The chunks and blocks depend on the
 * number of rows only, never on which worker ran them, so the bits do not
 * depend on the cores. nncl_host_linear_u8_head_reference
 * (linear_u8_head.c), the three host twins composed in double, stays the
 * oracle the tests compare every device with, this one included.
 *
 * The sparse path: a picture's bytes are mostly zeros (MNIST's 81%), and a
 * zero byte adds nothing to h or to dW1. A block whose bytes are at most a
 * third nonzero (and every shift 0) is listed first, row by row, as the
 * columns of its nonzero bytes; the hidden layer is then one multiply-add
 * of a row of W1^T (every unit, U8H_SW lanes) per listed byte, and dW1^T
 * gets one per listed byte and row of g. On an AVX-512 Xeon the tutorial's
 * step went from 12.9 ms on the dense loops to 7.5 ms (the op alone, 41,000
 * rows, two cores). Which path a block takes depends on its bytes alone; a
 * chunk keeps the two paths' dW1 sums apart (dense by unit, sparse by
 * column) and the end adds them in chunk order, so the bits still do not
 * depend on the cores. As in u8_sparse_host.c, a weight that is inf or NaN
 * meets only the nonzero bytes on this path (0 * inf is skipped, not
 * NaN). When x is a sealed buffer (a dataset's rows, which never change)
 * every row is listed once and the lists are kept with the buffer
 * (u8h_kept_lists below): the full-batch tutorial no longer lists the same
 * 41,000 rows every step. */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "device/backend.h"
#include "nncl_config.h"
#include "ops/host_split.h"
#include "ops/op_util.h"
#include "ops/u8_amx_host.h"
#include "ops/u8_head_host.h"
#include "ops/u8_sparse_host.h"

#define U8K_VW 4
#define U8K_NAME(x) x##_generic
#include "u8_head_host_kernels.inc"

/* A block's g rows are GW wide: the weight gradient reads U8H_TM units at
 * a time, up to the hidden units rounded up (zeros past them). */
enum { M = NNCL_HEAD_MAX, GW = (M + U8H_TM - 1) / U8H_TM * U8H_TM };

typedef struct u8h_isa {
    u8h_fwd_fn *fwd;
    u8h_wgrad_fn *wgrad;
    u8h_head_fn *head;
    u8h_sfwd_fn *sfwd;
    u8h_swgrad_fn *swgrad;
    u8h_list_fn *list;
} u8h_isa;

/* The widest set the CPU has; NNCL_U8H_HOST=generic asks for the plain
 * 4-float loops (the tests run them on every machine), =avx2 for the AVX2
 * loops on an AVX-512 machine (an A/B of the two there). */
static u8h_isa pick_isa(void)
{
    const char *env = getenv("NNCL_U8H_HOST");
    const u8h_isa generic = {nncl_u8h_fwd_generic,  nncl_u8h_wgrad_generic,  nncl_u8h_head_generic,
                             nncl_u8h_sfwd_generic, nncl_u8h_swgrad_generic, nncl_u8h_list_generic};
    if (env && strcmp(env, "generic") == 0)
        return generic;
#if NNCL_HAVE_X86_KERNELS
    bool avx2_only = env && strcmp(env, "avx2") == 0;
    if (__builtin_cpu_supports("avx512f") && !avx2_only)
        return (u8h_isa){nncl_u8h_fwd_avx512,  nncl_u8h_wgrad_avx512,  nncl_u8h_head_avx512,
                         nncl_u8h_sfwd_avx512, nncl_u8h_swgrad_avx512, nncl_u8h_list_avx512};
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return (u8h_isa){nncl_u8h_fwd_avx2,  nncl_u8h_wgrad_avx2,  nncl_u8h_head_avx2,
                         nncl_u8h_sfwd_avx2, nncl_u8h_swgrad_avx2, nncl_u8h_list_avx2};
#endif
    return generic;
}

/* What every chunk shares (read-only) and what each sums. */
typedef struct u8h_job {
    const nncl_linear_u8_head_args *a;
    u8h_isa isa;
    size_t hp;          /* hidden rounded up to U8H_TM (dw1's rows) */
    size_t chunk_rows;  /* rows per chunk (the last may have fewer) */
    const float *w1s;   /* W1 with the input scale folded in, H x in */
    const float *shift; /* NULL when every shift is 0 */
    float *dw1;         /* chunk c's sum of g^T (x - shift) at c*hp*in, hp x in */
    bool sparse;        /* the sparse path may be taken (no shift, in small enough) */
    const float *wt;    /* the sparse path's W1 scaled and transposed, in x U8H_SW */
    float *dwt;         /* chunk c's sparse sums of x^T g at c*in*U8H_SW, in x U8H_SW */
    int workers;        /* the process's (nncl_host_workers) */
    uint32_t *list;     /* worker w's list of a block's nonzero bytes at w*list_cap */
    size_t list_cap;
    const struct u8h_kept_lists *kept; /* a sealed x's lists (then no list above), or NULL */
    bool matrix;        /* the matrix path (u8_amx_host.h) is taken */
    size_t kp;          /* its rows' length, in rounded up to U8A_KB */
    const int8_t *wq;   /* W1 scaled and quantized, sw its units' scales */
    double sw[16];
    uint8_t *work;      /* worker w's part at w*nncl_u8a_worker_bytes(in) */
    float *ms;          /* chunk c's dW1^T sums at c*16*kp, in the tiles' order */
    struct u8h_chunk_sums {
        double db1[M], dw2[M * M], db2[M], loss, correct;
        bool dense, sparse, matrix; /* which of dw1, dwt and ms the chunk wrote */
    } sums[U8H_HOST_CHUNKS];
} u8h_job;

/* Rows per chunk, from the number of rows alone: an even number of chunks
 * (the two workers' shares match when both run freely), at most
 * U8H_HOST_CHUNKS, each of at least U8H_HOST_MIN_CHUNK rows but for two
 * halves of a small batch; a chunk of more than one block is rounded up to
 * whole blocks (which can leave fewer chunks, the last one short). */
static size_t u8h_chunk_rows(size_t rows)
{
    size_t k = rows / U8H_HOST_MIN_CHUNK;
    k = k > U8H_HOST_CHUNKS ? U8H_HOST_CHUNKS : k < 2 ? 2 : k / 2 * 2;
    size_t c = (rows + k - 1) / k;
    if (c > U8H_HOST_BLOCK)
        c = (c + U8H_HOST_BLOCK - 1) / U8H_HOST_BLOCK * U8H_HOST_BLOCK;
    return c ? c : 1;
}

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

/* Rows asked for ahead of the one being listed: the bytes of 41,000 rows
 * come from memory every step, and the hardware's prefetcher stops at each
 * 4 KB page (5 MNIST rows); asking 8 rows ahead made the tutorial's step
 * 1.13x faster on an AVX-512 Xeon. */
enum { U8H_AHEAD = 8 };

static void prefetch_row(const uint8_t *row, size_t in)
{
    for (size_t off = 0; off < in; off += 64)
        __builtin_prefetch(row + off);
}

/* Lists a block's nonzero bytes row by row (row r's len[r] entries at
 * ent[r], one after the other in col), or returns false as soon as they
 * pass 1/U8H_SPARSE_DIV of the block's bytes, where the dense loops cost
 * less than the list. */
static bool list_block(u8h_list_fn *list, const uint8_t *const *xr, size_t n, size_t in, uint32_t *col,
                       const uint32_t **ent, uint32_t *len)
{
    const size_t most = n * in / U8H_SPARSE_DIV;
    size_t count = 0;
    for (size_t r = 0; r < n; r++) {
        if (r + U8H_AHEAD < n)
            prefetch_row(xr[r + U8H_AHEAD], in);
        ent[r] = col + count;
        len[r] = (uint32_t)list(xr[r], in, col + count);
        count += len[r];
        if (count > most)
            return false;
    }
    return true;
}

/* ---- a sealed dataset's lists, kept with its buffer ---------------------- */

/* Every row's entries, listed once for a sealed x (nncl_buffer_seal: its
 * bytes never change) and kept with its buffer (nncl_buffer_keep), which
 * frees them with it. The tutorial's step reads the same 41,000 rows every
 * step, and listing them again was a fifth of it on a Zen 4 EPYC. A block
 * then takes the same path, with the same entries in the same order, as if
 * listed: the same bits. The lists take up to 4/3 of the bytes' memory, so
 * they are made only once the calls have read as many rows as x holds (the
 * second step of full-batch training): a single pass over the data would
 * pay for them and never use them. */
typedef struct u8h_kept_lists {
    size_t off, in;       /* the rows listed: every whole row of `in` bytes from byte `off` */
    u8h_list_fn *list;    /* the entries' form (the instruction set's) */
    size_t rows_seen;     /* rows the calls read before the lists were made */
    bool tried;           /* listed, or found too dense or the memory missing */
    uint64_t *start;      /* row i's entries at [start[i], start[i+1]); NULL: none kept */
    uint32_t *entries;
} u8h_kept_lists;

static void kept_lists_free(void *p)
{
    u8h_kept_lists *k = p;
    free(k->start);
    free(k->entries);
    free(k);
}

/* Lists x's rows into k, or leaves k->start NULL when their bytes are more
 * than 1/U8H_SPARSE_DIV nonzero (the blocks would mostly take the dense
 * loops; and so the lists take at most 4/3 of the bytes' memory) or the
 * memory is not there (the blocks are then listed as they come, as for an
 * unsealed x). */
static void list_rows(const uint8_t *x, size_t rows, u8h_kept_lists *k)
{
    const size_t in = k->in;
    size_t nonzero = 0;
    for (size_t i = 0; i < rows * in; i++)
        nonzero += x[i] != 0;
    if (nonzero > rows * in / U8H_SPARSE_DIV)
        return;
    /* `in` entries more: a row's listing may write that far past its count */
    k->start = malloc((rows + 1) * sizeof *k->start);
    k->entries = malloc((nonzero + in) * sizeof *k->entries);
    if (!k->start || !k->entries) {
        free(k->start);
        free(k->entries);
        k->start = NULL;
        k->entries = NULL;
        return;
    }
    uint64_t count = 0;
    for (size_t i = 0; i < rows; i++) {
        k->start[i] = count;
        count += k->list(x + i * in, in, k->entries + count);
    }
    k->start[rows] = count;
}

/* The kept lists of a's x for this list function, made now if the calls
 * have read x's rows once; NULL when x is not sealed or there are none.
 * Only calls that read x's rows in their own order (no index: full-batch
 * training, the same rows every step, one after the other) count towards
 * them and make them. Shuffled batches read rows at random, where a row's
 * entries cost a fetch from memory as its bytes did: lists made for them
 * gave nothing measurable and cost their making (15-20 ms for MNIST, 17%
 * of a four-epoch 784-10-10 run's training) and their memory. A call
 * through an index still reads lists that are there. */
static const u8h_kept_lists *kept_lists(const nncl_linear_u8_head_args *a, u8h_list_fn *list)
{
    nncl_buffer *xb = a->x.buf;
    if (!xb->sealed)
        return NULL;
    const size_t rows = (xb->size - a->x.off) / a->in;
    u8h_kept_lists *k = xb->kept_free == kept_lists_free ? xb->kept : NULL;
    const bool same_rows = k && k->off == a->x.off && k->in == a->in;
    if (same_rows && k->list == list && k->tried)
        return k->start ? k : NULL;
    if (a->index.buf)
        return NULL;
    if (!(same_rows && k->list == list)) {
        u8h_kept_lists *fresh = calloc(1, sizeof *fresh);
        if (!fresh)
            return NULL;
        *fresh = (u8h_kept_lists){
            .off = a->x.off, .in = a->in, .list = list, .rows_seen = same_rows ? k->rows_seen : 0};
        nncl_buffer_keep(xb, fresh, kept_lists_free); /* frees k */
        k = fresh;
    }
    if (!k->tried && k->rows_seen < rows) {
        k->rows_seen += a->rows;
        return NULL;
    }
    if (!k->tried) {
        list_rows(nncl_host_u8(a->x), rows, k);
        k->tried = true;
    }
    return k->start ? k : NULL;
}

/* A block's rows from the kept lists, with list_block's decision: false
 * when they pass 1/U8H_SPARSE_DIV of the block's bytes. */
static bool kept_block(const u8h_kept_lists *k, const int32_t *ix, size_t first, size_t n, const uint32_t **ent,
                       uint32_t *len)
{
    size_t count = 0;
    for (size_t r = 0; r < n; r++) {
        size_t row = ix ? (size_t)ix[first + r] : first + r;
        ent[r] = k->entries + k->start[row];
        len[r] = (uint32_t)(k->start[row + 1] - k->start[row]);
        count += len[r];
        if (r < U8H_ENT_AHEAD) /* sfwd asks for the rest as it goes */
            for (uint32_t b = 0; b < len[r]; b += 16)
                __builtin_prefetch(ent[r] + b);
    }
    return count <= n * k->in / U8H_SPARSE_DIV;
}

/* The head over a block's n rows (h and g transposed, U8H_HOST_BLOCK
 * lanes): its gradients, and g = dL/d(pre-activation); the block's sums in
 * float, added to the chunk's in double. */
static void block_head(const u8h_job *j, const u8h_head_in *head, const float *ht, const int32_t *labels, size_t n,
                       float *gt, struct u8h_chunk_sums *cs)
{
    const size_t H = head->hidden, C = head->classes;
    u8h_head_sums bs;
    j->isa.head(head, ht, U8H_HOST_BLOCK, labels, n, gt, U8H_HOST_BLOCK, &bs);
    for (size_t c = 0; c < C; c++) {
        cs->db2[c] += bs.db2[c];
        for (size_t o = 0; o < H; o++)
            cs->dw2[c * H + o] += bs.dw2[c * H + o];
    }
    for (size_t o = 0; o < H; o++)
        cs->db1[o] += bs.db1[o];
    cs->loss += bs.loss;
    cs->correct += bs.correct;
}

static u8h_head_in head_of(const nncl_linear_u8_head_args *a)
{
    return (u8h_head_in){.hidden = a->hidden,
                         .classes = a->classes,
                         .w2 = nncl_host_f32(a->w2),
                         .b2 = nncl_host_f32(a->b2),
                         .grad_scale = a->grad_scale,
                         .act = a->act,
                         .slope = a->act_param};
}

static void run_chunk(void *arg, size_t chunk, int worker)
{
    u8h_job *j = arg;
    const nncl_linear_u8_head_args *a = j->a;
    const size_t I = a->in, H = a->hidden;
    const uint8_t *x = nncl_host_u8(a->x);
    const int32_t *ix = a->index.buf ? nncl_host_i32(a->index) : NULL;
    const int32_t *labels = nncl_host_i32(a->labels);
    const float *b1 = nncl_host_f32(a->b1);
    const u8h_head_in head = head_of(a);
    struct u8h_chunk_sums *cs = &j->sums[chunk];
    float *dw1 = j->dw1 + chunk * j->hp * I, *dwt = j->dwt ? j->dwt + chunk * I * U8H_SW : NULL;
    memset(cs, 0, sizeof *cs);
    size_t lo = chunk * j->chunk_rows, hi = lo + j->chunk_rows < a->rows ? lo + j->chunk_rows : a->rows;
    /* the worker's list: which worker lists a block changes no result */
    uint32_t *col = j->list ? j->list + (size_t)worker * j->list_cap : NULL;

    /* h and g transposed, [unit][row]: the head takes a row per lane; g's
     * padding units (H to hp) stay zero, so their rows of dw1 get nothing.
     * The sparse path's h and g by row, [row][U8H_SW], its units past H
     * zero likewise. */
    const uint8_t *xr[U8H_HOST_BLOCK];
    const uint32_t *ent[U8H_HOST_BLOCK];
    uint32_t len[U8H_HOST_BLOCK];
    float ht[M][U8H_HOST_BLOCK], gt[GW][U8H_HOST_BLOCK], byrow[U8H_HOST_BLOCK][U8H_SW];
    memset(gt, 0, sizeof gt);
    for (size_t blk = lo; blk < hi; blk += U8H_HOST_BLOCK) {
        size_t n = hi - blk < U8H_HOST_BLOCK ? hi - blk : U8H_HOST_BLOCK;
        for (size_t r = 0; r < n; r++)
            xr[r] = x + (ix ? (size_t)ix[blk + r] : blk + r) * I;
        const bool sparse = j->sparse && (j->kept ? kept_block(j->kept, ix, blk, n, ent, len)
                                                  : list_block(j->isa.list, xr, n, I, col, ent, len));

        /* hidden layer, transposed: unit o of row r at ht[o][r] */
        if (sparse) {
            j->isa.sfwd(ent, len, xr, n, j->kept != NULL, j->wt, &byrow[0][0]);
            for (size_t o = 0; o < H; o++) {
                for (size_t r = 0; r < n; r++)
                    ht[o][r] = byrow[r][o] + b1[o];
                nncl_act_apply_n(a->act, a->act_param, ht[o], n);
            }
        } else {
            dense_block(j->isa.fwd, xr, n, j->w1s, j->shift, b1, I, H, a->act, a->act_param, &ht[0][0], 1,
                        U8H_HOST_BLOCK);
        }
        if (n < U8H_HOST_BLOCK) /* the last block: its lanes past n read zeros */
            for (size_t o = 0; o < H; o++)
                memset(&ht[o][n], 0, (U8H_HOST_BLOCK - n) * sizeof(float));

        /* the head: its gradients, and g = dL/d(pre-activation) */
        block_head(j, &head, &ht[0][0], labels + blk, n, &gt[0][0], cs);

        /* dW1's share of the block, from its bytes while they are cached */
        if (sparse) {
            if (!cs->sparse)
                memset(dwt, 0, I * U8H_SW * sizeof *dwt);
            cs->sparse = true;
            for (size_t r = 0; r < n; r++)
                for (size_t o = 0; o < U8H_SW; o++)
                    byrow[r][o] = o < H ? gt[o][r] : 0.0f;
            j->isa.swgrad(ent, len, xr, n, &byrow[0][0], dwt);
        } else {
            if (!cs->dense)
                memset(dw1, 0, j->hp * I * sizeof *dw1);
            cs->dense = true;
            for (size_t o0 = 0; o0 < H; o0 += U8H_TM)
                j->isa.wgrad(xr, n, &gt[o0][0], U8H_HOST_BLOCK, j->shift, I, dw1 + o0 * I);
        }
    }
}

static bool all_finite(const float *v, size_t n)
{
    bool ok = true;
    for (size_t i = 0; i < n; i++)
        ok &= isfinite(v[i]) != 0;
    return ok;
}

#if NNCL_HAVE_AMX_KERNELS
/* The matrix path's chunk (u8_amx_host.h): super-blocks of U8A_SB rows,
 * their bytes copied once into rows of kp bytes and interleaved for dW1
 * (zeros past `in`, and whole rows of zeros up to a multiple of 64). Per
 * block of U8H_HOST_BLOCK rows, the hidden layer on the tiles, then the
 * head, its g kept for the super-block; then the super-block's dW1^T on
 * the tiles. A super-block whose g is not finite (a bad label's NaN, an
 * overflow) takes the dense loops for dW1 instead, so that NaN and inf
 * reach it as there. Which worker runs a chunk changes no bit, as in
 * run_chunk. */
static void run_chunk_matrix(void *arg, size_t chunk, int worker)
{
    u8h_job *j = arg;
    const nncl_linear_u8_head_args *a = j->a;
    const size_t I = a->in, H = a->hidden, kp = j->kp;
    const uint8_t *x = nncl_host_u8(a->x);
    const int32_t *ix = a->index.buf ? nncl_host_i32(a->index) : NULL;
    const int32_t *labels = nncl_host_i32(a->labels);
    const float *b1 = nncl_host_f32(a->b1);
    const u8h_head_in head = head_of(a);
    struct u8h_chunk_sums *cs = &j->sums[chunk];
    memset(cs, 0, sizeof *cs);
    float *dw1 = j->dw1 + chunk * j->hp * I, *ms = j->ms + chunk * 16 * kp;
    uint8_t *xa = j->work + (size_t)worker * nncl_u8a_worker_bytes(I), *xi = xa + U8A_SB * kp;
    float *gs = (float *)(xi + U8A_SB * kp); /* g by unit, U8A_SB lanes */
    int8_t *gq = (int8_t *)(gs + 16 * U8A_SB);
    int32_t *sums = (int32_t *)(gq + U8A_LIMBS * 16 * U8A_SB);
    const size_t lo = chunk * j->chunk_rows, hi = lo + j->chunk_rows < a->rows ? lo + j->chunk_rows : a->rows;

    const uint8_t *xr[U8A_SB];
    float ht[M][U8H_HOST_BLOCK], gt[GW][U8H_HOST_BLOCK], byrow[U8H_HOST_BLOCK][16];
    memset(gt, 0, sizeof gt);
    nncl_u8a_tiles_on();
    for (size_t sb = lo; sb < hi; sb += U8A_SB) {
        const size_t n = hi - sb < U8A_SB ? hi - sb : U8A_SB, n64 = (n + 63) / 64 * 64;
        for (size_t r = 0; r < n; r++)
            xr[r] = x + (ix ? (size_t)ix[sb + r] : sb + r) * I;
        nncl_u8a_gather(xr, n, I, kp, xa, xi);

        for (size_t blk = 0; blk < n; blk += U8H_HOST_BLOCK) {
            const size_t nb = n - blk < U8H_HOST_BLOCK ? n - blk : U8H_HOST_BLOCK;
            nncl_u8a_fwd(xa + blk * kp, (nb + 15) / 16 * 16, kp, j->wq, j->sw, sums, &byrow[0][0]);
            for (size_t o = 0; o < H; o++) {
                for (size_t r = 0; r < nb; r++)
                    ht[o][r] = byrow[r][o] + b1[o];
                nncl_act_apply_n(a->act, a->act_param, ht[o], nb);
                memset(&ht[o][nb], 0, (U8H_HOST_BLOCK - nb) * sizeof(float));
            }
            block_head(j, &head, &ht[0][0], labels + sb + blk, nb, &gt[0][0], cs);
            for (size_t o = 0; o < 16; o++)
                memcpy(gs + o * U8A_SB + blk, gt[o], nb * sizeof(float));
        }
        for (size_t o = 0; o < 16; o++)
            memset(gs + o * U8A_SB + n, 0, (n64 - n) * sizeof(float));

        bool finite = true;
        for (size_t o = 0; o < H; o++)
            finite &= all_finite(gs + o * U8A_SB, n);
        if (finite) {
            double sg[16];
            nncl_u8a_quantize_g(gs, U8A_SB, n64, gq, sg);
            if (!cs->matrix)
                memset(ms, 0, 16 * kp * sizeof *ms);
            cs->matrix = true;
            nncl_u8a_wgrad(xi, n64, kp, gq, sg, sums, ms);
        } else {
            if (!cs->dense)
                memset(dw1, 0, j->hp * I * sizeof *dw1);
            cs->dense = true;
            for (size_t o0 = 0; o0 < H; o0 += U8H_TM)
                j->isa.wgrad(xr, n, gs + o0 * U8A_SB, U8A_SB, NULL, I, dw1 + o0 * I);
        }
    }
    nncl_u8a_tiles_off();
}
#endif

nncl_status nncl_host_linear_u8_head(nncl_device *dev, const nncl_linear_u8_head_args *a)
{
    const size_t I = a->in, H = a->hidden, C = a->classes;
    u8h_job job = {.a = a,
                   .isa = pick_isa(),
                   .hp = (H + U8H_TM - 1) / U8H_TM * U8H_TM,
                   .chunk_rows = u8h_chunk_rows(a->rows)};
    const size_t chunks = (a->rows + job.chunk_rows - 1) / job.chunk_rows;
    job.workers = nncl_host_workers();
    /* W1 scaled, and the chunks' dW1 sums, in the op's scratch (its length
     * counts them: nncl_u8h_host_scratch_floats) */
    float *buf = nncl_host_f32(a->scratch);
    float *w1s = buf;
    job.w1s = w1s;
    job.shift = nonzero_shift(nncl_host_f32(a->shift), I);
    job.dw1 = buf + H * I;
    const float *W1 = nncl_host_f32(a->w1), *scale = nncl_host_f32(a->scale);
    for (size_t o = 0; o < H; o++)
        for (size_t i = 0; i < I; i++)
            w1s[o * I + i] = W1[o * I + i] * scale[i];
    /* the sparse path's part of the scratch, after the dense path's: W1
     * transposed and the chunks' dW1^T (the workers' lists are in the
     * device's buffer, below). A shifted input
     * has few zeros to skip (x - shift), so it stays dense;
     * NNCL_U8H_SPARSE=off keeps every block dense (an A/B of the two, and
     * the tests' run of the dense loops on unshifted bytes). */
    const char *sparse_env = getenv("NNCL_U8H_SPARSE");
    job.sparse = job.shift == NULL && I <= U8H_SPARSE_MAX_IN && !(sparse_env && strcmp(sparse_env, "off") == 0);
    if (job.sparse) {
        /* rows of U8H_SW floats on cache lines of their own (a row split
         * over two lines costs two accesses per listed byte) */
        float *wt = buf + (H + U8H_HOST_CHUNKS * job.hp) * I;
        wt += (64 - (uintptr_t)wt % 64) % 64 / sizeof *wt;
        job.wt = wt;
        job.dwt = wt + I * U8H_SW;
        for (size_t i = 0; i < I; i++)
            for (size_t o = 0; o < U8H_SW; o++)
                wt[i * U8H_SW + o] = o < H ? w1s[o * I + i] : 0.0f;
    }

    /* the matrix path (u8_amx_host.h) where the CPU has AMX: unshifted
     * bytes, W1 finite (its fixed point needs a largest weight), and
     * neither the dense loops nor a set of vector loops asked for
     * (NNCL_U8H_HOST=avx512 is the AVX-512 loops on an AMX machine). */
    const char *isa_env = getenv("NNCL_U8H_HOST");
    job.matrix = job.shift == NULL && I <= U8A_MAX_IN && !(sparse_env && strcmp(sparse_env, "off") == 0) &&
                 !(isa_env && strcmp(isa_env, "amx") != 0) && nncl_host_amx() && all_finite(w1s, H * I);
#if !NNCL_HAVE_AMX_KERNELS
    job.matrix = false;
#endif
    /* the workers' parts, in the host device's kept buffer: each worker's
     * list (sparse path; not needed when the matrix path is taken), then
     * the matrix path's quantized W1, each worker's rows and tiles, and the
     * chunks' dW1^T sums in the tiles' order */
    if (job.sparse && !job.matrix)
        job.kept = kept_lists(a, job.isa.list);
    const bool lists = job.sparse && !job.matrix && !job.kept;
    uint8_t *work;
    nncl_status st =
        nncl_host_workspace(dev, nncl_u8h_host_work_bytes(I, (size_t)job.workers, lists, job.matrix), (void **)&work);
    if (st != NNCL_OK)
        return st;
    if (lists) {
        job.list_cap = nncl_u8h_list_cap(I);
        job.list = (uint32_t *)work;
    }
    void (*run)(void *, size_t, int) = run_chunk;
#if NNCL_HAVE_AMX_KERNELS
    if (job.matrix) {
        uint8_t *base = work;
        job.kp = nncl_u8a_kp(I);
        int8_t *wq = (int8_t *)base;
        job.wq = wq;
        job.work = base + U8A_LIMBS * 16 * job.kp;
        job.ms = (float *)(job.work + (size_t)job.workers * nncl_u8a_worker_bytes(I));
        nncl_u8a_quantize_w(w1s, H, I, wq, job.sw);
        run = run_chunk_matrix;
    }
#endif

    /* a small batch on one core: starting the other costs more than it
     * saves (the same chunks, one after the other: the same bits) */
    if (a->rows * I * H >= (size_t)1 << 18) {
        nncl_host_for(chunks, job.workers, run, &job);
    } else {
        for (size_t c = 0; c < chunks; c++)
            run(&job, c, 0);
    }

    /* dW1 = scale * (chunk 0 + chunk 1 + ...), a chunk's dense sums before
     * its sparse ones; the other sums likewise in chunk order */
    float *dw1 = nncl_host_f32(a->dw1);
    const size_t stride = job.hp * I;
    for (size_t i = 0; i < I; i++) {
        float s[U8H_SW] = {0};
        for (size_t c = 0; c < chunks; c++) {
            if (job.sums[c].dense)
                for (size_t o = 0; o < H; o++)
                    s[o] += job.dw1[c * stride + o * I + i];
            if (job.sums[c].sparse)
                for (size_t o = 0; o < U8H_SW; o++)
                    s[o] += job.dwt[(c * I + i) * U8H_SW + o];
            if (job.sums[c].matrix)
                for (size_t o = 0; o < H; o++)
                    s[o] += job.ms[c * 16 * job.kp + nncl_u8a_column(i, o)];
        }
        for (size_t o = 0; o < H; o++)
            dw1[o * I + i] = s[o] * scale[i];
    }
    double db1[M] = {0}, dw2[M * M] = {0}, db2[M] = {0}, loss = 0.0, correct = 0.0;
    for (size_t c = 0; c < chunks; c++) {
        const struct u8h_chunk_sums *cs = &job.sums[c];
        for (size_t o = 0; o < H; o++)
            db1[o] += cs->db1[o];
        for (size_t e = 0; e < C * H; e++)
            dw2[e] += cs->dw2[e];
        for (size_t k = 0; k < C; k++)
            db2[k] += cs->db2[k];
        loss += cs->loss;
        correct += cs->correct;
    }
    float *db1f = nncl_host_f32(a->db1), *dw2f = nncl_host_f32(a->dw2), *db2f = nncl_host_f32(a->db2);
    for (size_t o = 0; o < H; o++)
        db1f[o] = (float)db1[o];
    for (size_t e = 0; e < C * H; e++)
        dw2f[e] = (float)dw2[e];
    for (size_t k = 0; k < C; k++)
        db2f[k] = (float)db2[k];
    float *acc = nncl_host_f32(a->acc);
    acc[0] += (float)loss;
    acc[1] += (float)correct;
    return NNCL_OK;
}

/* ---- linear_u8_fwd --------------------------------------------------------- */

/* The byte-input layer's forward on the host for fewer than U8S_MIN_UNITS
 * outputs (wider ones read the nonzero bytes, u8_sparse_host.c), where it
 * serves the fused step's network for evaluation: the same loops as the
 * step's hidden layer
 * (W with the scale folded in, 2 rows x 5 units at a time, the next rows
 * prefetched), in float, on two cores for a large batch. The double loops
 * it replaced (nncl_host_linear_u8_fwd_reference, linear_u8.c) were 7% of
 * the tutorial's run; they stay the oracle the tests compare it with. */
typedef struct u8f_job {
    const nncl_linear_u8_fwd_args *a;
    u8h_fwd_fn *fwd;
    const float *ws;    /* W scaled, out x in */
    const float *shift; /* NULL when every shift is 0 */
    size_t item_rows;   /* rows per item of work, at most U8H_HOST_BLOCK */
} u8f_job;

static void fwd_block(void *arg, size_t block, int worker)
{
    (void)worker;
    const u8f_job *j = arg;
    const nncl_linear_u8_fwd_args *a = j->a;
    const size_t I = a->in, O = a->out;
    const uint8_t *x = nncl_host_u8(a->x);
    const int32_t *ix = a->index.buf ? nncl_host_i32(a->index) : NULL;
    const float *b = nncl_host_f32(a->b);
    float *y = nncl_host_f32(a->y);
    const size_t blk = block * j->item_rows;
    const size_t n = a->rows - blk < j->item_rows ? a->rows - blk : j->item_rows;
    const uint8_t *xr[U8H_HOST_BLOCK];
    for (size_t r = 0; r < n; r++)
        xr[r] = x + (ix ? (size_t)ix[blk + r] : blk + r) * I;
    dense_block(j->fwd, xr, n, j->ws, j->shift, b, I, O, a->act, a->act_param, y + blk * a->ldy, a->ldy, 1);
}

nncl_status nncl_host_linear_u8_fwd(nncl_device *dev, const nncl_linear_u8_fwd_args *a)
{
    if (a->out >= U8S_MIN_UNITS)
        return nncl_u8s_linear_fwd(dev, a);
    const size_t I = a->in, O = a->out;
    float *ws;
    nncl_status st = nncl_host_workspace(dev, O * I * sizeof *ws, (void **)&ws);
    if (st != NNCL_OK)
        return st;
    const float *W = nncl_host_f32(a->w), *scale = nncl_host_f32(a->scale);
    for (size_t o = 0; o < O; o++)
        for (size_t i = 0; i < I; i++)
            ws[o * I + i] = W[o * I + i] * scale[i];
    u8f_job job = {.a = a, .fwd = pick_isa().fwd, .ws = ws, .shift = nonzero_shift(nncl_host_f32(a->shift), I)};
    /* blocks taken by the workers as they become free (a row's outputs
     * do not depend on which), two halves of a batch of two blocks or
     * fewer; a small batch on one core */
    job.item_rows = a->rows > 2 * U8H_HOST_BLOCK ? U8H_HOST_BLOCK : a->rows > 1 ? (a->rows + 1) / 2 : 1;
    const size_t blocks = (a->rows + job.item_rows - 1) / job.item_rows;
    if (a->rows * I * O >= (size_t)1 << 18) {
        nncl_host_for(blocks, NNCL_HOST_MAX_WORKERS, fwd_block, &job);
    } else {
        for (size_t k = 0; k < blocks; k++)
            fwd_block(&job, k, 0);
    }
    return NNCL_OK;
}
