/* linear_u8_fwd (32 outputs or more) and linear_u8_wgrad on the host
 * device, from the batch's nonzero bytes.
 *
 * Why: a picture's bytes are mostly zeros (MNIST's 81%), and a zero input
 * adds nothing to y = x W^T + b or to dW = g^T x. The host trained the
 * bare 784-256-10 through a float copy of the batch and two OpenBLAS
 * products a step, 81% of its time, for work that is a fifth of that.
 *
 *   forward: y[r, o] = act(b[o] + sum over x[r, j] != 0 of x[r, j] * s[j] W[o, j])
 *   dW:      dW[o, j] = s[j] * sum over x[r, j] != 0 of g[r, o] * x[r, j]
 * (s the input scale; every shift is 0 on this path). A pass of rows lists
 * its nonzero bytes row by row (pieces of U8S_PIECE rows, on both cores).
 * The forward packs W's unit blocks transposed with the scale folded in
 * (wt[j][k], 8 vectors of units a row: the block's 100-400 KB stay in L2)
 * and runs each (unit block, piece) as an item of nncl_host_for; every
 * output is one worker's sum in the row's column order. The gradient turns
 * the list into columns (row order kept) and each unit block sums, column
 * by column, the g rows of the column's entries: dW's element is written
 * once, with no pass that zeroes it first.
 *
 * When a pass's bytes are not sparse (a piece of rows more than a third
 * nonzero, where the lists would cost more than they save), or a shift is
 * nonzero, the pass takes the dense path instead: a float copy of its rows,
 * (x - shift) * scale as gather makes it, and the host gemm, which gives
 * the bits the host gave before it read bytes. Passes of at most
 * U8S_PASS_ROWS rows bound the memory whatever the batch; the gradient's
 * passes add up in order. The paths and the passes depend on the data and
 * the shapes only, never on the cores: the same bits on one core or many.
 *
 * A weight that is inf or NaN meets only nonzero inputs here: where the
 * dense product would give NaN from 0 * inf, this gives the sum of the
 * others (the training's divergence check still sees the NaN through the
 * rows that do read it). */
#include <stdlib.h>
#include <string.h>

#include "device/backend.h"
#include "nncl_config.h"
#include "ops/gemm_impl.h"
#include "ops/host_split.h"
#include "ops/op_util.h"
#include "ops/u8_sparse_host.h"

#define U8S_VW 4
#define U8S_NAME(x) x##_generic
#include "u8_sparse_host_kernels.inc"
#undef UBF
#undef UBW

/* Rows per pass, and per piece of a pass's listing; a piece holds at most
 * a third of its bytes (U8S_DENSE) or the pass goes dense. */
enum { U8S_PASS_ROWS = 2048, U8S_PIECE = 64, U8S_PIECES = U8S_PASS_ROWS / U8S_PIECE, U8S_DENSE = 3 };

typedef struct u8s_isa {
    size_t vw;
    u8s_pack_w_fn *pack_w;
    u8s_fwd_fn *fwd;
    u8s_wgrad_fn *wgrad;
    u8s_nonzero_fn *nonzero;
} u8s_isa;

/* The widest set the CPU has; NNCL_U8H_HOST=generic asks for the plain
 * 4-float loops (as for u8_head_host.c: the tests run them everywhere),
 * =avx2 for the AVX2 loops on an AVX-512 machine. */
static u8s_isa pick_isa(void)
{
    const char *env = getenv("NNCL_U8H_HOST");
    u8s_isa generic = {4, nncl_u8s_pack_w_generic, nncl_u8s_fwd_generic, nncl_u8s_wgrad_generic,
                       nncl_u8s_nonzero_generic};
    if (env && strcmp(env, "generic") == 0)
        return generic;
#if NNCL_HAVE_X86_KERNELS
    bool avx2_only = env && strcmp(env, "avx2") == 0;
    if (__builtin_cpu_supports("avx512f") && !avx2_only)
        return (u8s_isa){16, nncl_u8s_pack_w_avx512, nncl_u8s_fwd_avx512, nncl_u8s_wgrad_avx512,
                         nncl_u8s_nonzero_avx512};
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return (u8s_isa){8, nncl_u8s_pack_w_avx2, nncl_u8s_fwd_avx2, nncl_u8s_wgrad_avx2, nncl_u8s_nonzero_avx2};
#endif
    return generic;
}

/* ---- a pass's nonzero bytes, row by row ------------------------------------ */

typedef struct u8s_list {
    const uint8_t *x;
    const int32_t *ix; /* NULL: rows in order */
    size_t in, lo, n;  /* the batch's rows [lo, lo + n) */
    size_t cap;        /* entries a piece may hold; it has room for in more */
    u8s_nonzero_fn *nonzero;
    size_t *begin, *end; /* row r's entries (r < n) */
    uint32_t *col;
    float *val;
    bool over[U8S_PIECES]; /* piece p held more than cap */
} u8s_list;

static const uint8_t *row_bytes(const u8s_list *l, size_t r)
{
    size_t b = l->lo + r;
    return l->x + (l->ix ? (size_t)l->ix[b] : b) * l->in;
}

static void list_piece(void *arg, size_t p, int worker)
{
    (void)worker;
    u8s_list *l = arg;
    size_t at = p * (l->cap + l->in), limit = at + l->cap;
    size_t hi = (p + 1) * U8S_PIECE < l->n ? (p + 1) * U8S_PIECE : l->n;
    l->over[p] = false;
    for (size_t r = p * U8S_PIECE; r < hi; r++) {
        l->begin[r] = at;
        at += l->nonzero(row_bytes(l, r), l->in, l->col + at, l->val + at);
        l->end[r] = at;
        if (at > limit) {
            l->over[p] = true;
            return;
        }
    }
}

static size_t pieces_of(size_t n) { return (n + U8S_PIECE - 1) / U8S_PIECE; }

/* Items on up to `workers` cores (the scratch areas a caller has) when the
 * work is worth a second one (the threshold of u8_head_host.c), else one
 * after the other on this thread: the same items either way, so the same
 * bits. */
static void run_items(size_t items, size_t work, int workers, void (*fn)(void *, size_t, int), void *arg)
{
    if (work >= (size_t)1 << 18 && items > 1)
        nncl_host_for(items, workers, fn, arg);
    else
        for (size_t i = 0; i < items; i++)
            fn(arg, i, 0);
}

/* Whether U8S_SAMPLE rows spread over the pass look sparse: dense data
 * (Fashion-MNIST's pictures are half nonzero) then skips a listing that
 * would stop two thirds of the way through each piece. A wrong guess
 * costs time only: the listing still checks every piece. */
enum { U8S_SAMPLE = 8 };

static bool looks_sparse(const u8s_list *l)
{
    size_t rows = l->n < U8S_SAMPLE ? l->n : U8S_SAMPLE, nonzero = 0;
    for (size_t k = 0; k < rows; k++) {
        const uint8_t *x = row_bytes(l, k * l->n / rows);
        for (size_t j = 0; j < l->in; j++)
            nonzero += x[j] != 0;
    }
    return nonzero * U8S_DENSE <= rows * l->in;
}

/* Lists rows [lo, lo + n); false when a piece is not sparse. */
static bool list_rows(u8s_list *l, size_t lo, size_t n, size_t out)
{
    l->lo = lo;
    l->n = n;
    if (!looks_sparse(l))
        return false;
    size_t pieces = pieces_of(n);
    run_items(pieces, n * l->in * out, NNCL_HOST_MAX_WORKERS, list_piece, l);
    for (size_t p = 0; p < pieces; p++)
        if (l->over[p])
            return false;
    return true;
}

/* Entries a piece may hold: a third of its bytes (at least one row's
 * worth of room follows it, for the row that overflows). */
static size_t piece_cap(size_t in) { return U8S_PIECE * in / U8S_DENSE; }

static size_t list_entries(size_t pass, size_t in) { return pieces_of(pass) * (piece_cap(in) + in); }

/* A list of x's rows (through the index, if any) but for its arrays, which
 * the op places in its workspace. */
static u8s_list list_of(const u8s_isa *isa, nncl_view x, nncl_view index, size_t in)
{
    return (u8s_list){.x = nncl_host_u8(x), .ix = index.buf ? nncl_host_i32(index) : NULL, .in = in,
                      .cap = piece_cap(in), .nonzero = isa->nonzero};
}

/* ---- the dense path: a float copy of the pass's rows --------------------------- */

typedef struct u8s_copy {
    const u8s_list *l;
    const float *shift, *scale;
    float *xf; /* n x in */
} u8s_copy;

static void copy_piece(void *arg, size_t p, int worker)
{
    (void)worker;
    const u8s_copy *c = arg;
    const size_t I = c->l->in;
    size_t hi = (p + 1) * U8S_PIECE < c->l->n ? (p + 1) * U8S_PIECE : c->l->n;
    for (size_t r = p * U8S_PIECE; r < hi; r++) {
        const uint8_t *restrict x = row_bytes(c->l, r);
        float *restrict row = c->xf + r * I;
        for (size_t j = 0; j < I; j++)
            row[j] = ((float)x[j] - c->shift[j]) * c->scale[j];
    }
}

static void copy_rows(const u8s_list *l, const float *shift, const float *scale, float *xf, size_t out)
{
    u8s_copy c = {l, shift, scale, xf};
    run_items(pieces_of(l->n), l->n * l->in * out, NNCL_HOST_MAX_WORKERS, copy_piece, &c);
}

static bool all_zero(const float *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] != 0.0f)
            return false;
    return true;
}

/* ---- linear_u8_fwd ------------------------------------------------------------ */

typedef struct u8s_fwd_job {
    const nncl_linear_u8_fwd_args *a;
    u8s_isa isa;
    size_t ub;       /* units per block */
    const float *W, *scale;
    float *wt;       /* block k at k * in * ub */
    float *res[NNCL_HOST_MAX_WORKERS]; /* a worker's U8S_PIECE x ub results */
    u8s_list *l;
} u8s_fwd_job;

static void pack_block(void *arg, size_t blk, int worker)
{
    (void)worker;
    const u8s_fwd_job *j = arg;
    const size_t I = j->a->in, O = j->a->out, o0 = blk * j->ub;
    j->isa.pack_w(j->W, j->scale, I, o0, O - o0 < j->ub ? O - o0 : j->ub, j->wt + blk * I * j->ub);
}

/* Item = (unit block, piece), the blocks outer: consecutive items share a
 * block of wt. */
static void fwd_item(void *arg, size_t item, int worker)
{
    const u8s_fwd_job *j = arg;
    const nncl_linear_u8_fwd_args *a = j->a;
    const u8s_list *l = j->l;
    const size_t pieces = pieces_of(l->n), blk = item / pieces, p = item % pieces;
    const size_t o0 = blk * j->ub, units = a->out - o0 < j->ub ? a->out - o0 : j->ub;
    const size_t r0 = p * U8S_PIECE, n = l->n - r0 < U8S_PIECE ? l->n - r0 : U8S_PIECE;
    float *res = j->res[worker];
    j->isa.fwd(l->begin + r0, l->end + r0, l->col, l->val, n, j->wt + blk * a->in * j->ub, res);
    const float *b = nncl_host_f32(a->b) + o0;
    float *y = nncl_host_f32(a->y);
    for (size_t r = 0; r < n; r++) {
        float *yr = y + (l->lo + r0 + r) * a->ldy + o0;
        for (size_t k = 0; k < units; k++)
            yr[k] = res[r * j->ub + k] + b[k];
        nncl_act_apply_n(a->act, a->act_param, yr, units);
    }
}

nncl_status nncl_u8s_linear_fwd(nncl_device *dev, const nncl_linear_u8_fwd_args *a)
{
    const size_t I = a->in, O = a->out;
    u8s_isa isa = pick_isa();
    const size_t ub = U8S_FWD_VECS * isa.vw, blocks = (O + ub - 1) / ub;
    const size_t pass = a->rows < U8S_PASS_ROWS ? a->rows : U8S_PASS_ROWS;
    const float *shift = nncl_host_f32(a->shift), *scale = nncl_host_f32(a->scale);
    const bool sparse_ok = all_zero(shift, I);
    /* one workspace: wt, the list, the workers' results, the float copy */
    const int W = nncl_host_workers() < 2 ? 2 : nncl_host_workers(); /* workers, each its results */
    size_t nwt = blocks * I * ub, nent = list_entries(pass, I), nres = (size_t)W * U8S_PIECE * ub, nxf = pass * I;
    size_t bytes = (nwt + nres + nxf) * sizeof(float) + 2 * pass * sizeof(size_t) +
                   nent * (sizeof(uint32_t) + sizeof(float));
    char *ws;
    nncl_status st = nncl_host_workspace(dev, bytes, (void **)&ws);
    if (st != NNCL_OK)
        return st;
    u8s_list list = list_of(&isa, a->x, a->index, I), *l = &list;
    l->begin = (size_t *)ws; /* the size_t arrays first, for their alignment */
    l->end = l->begin + pass;
    float *wt = (float *)(l->end + pass), *res = wt + nwt, *xf = res + nres;
    l->val = xf + nxf;
    l->col = (uint32_t *)(l->val + nent);
    u8s_fwd_job job = {.a = a, .isa = isa, .ub = ub, .W = nncl_host_f32(a->w), .scale = scale, .wt = wt,
                       .l = l};
    for (int w = 0; w < W; w++)
        job.res[w] = res + (size_t)w * U8S_PIECE * ub;
    bool packed = false;
    for (size_t lo = 0; lo < a->rows; lo += pass) {
        size_t n = a->rows - lo < pass ? a->rows - lo : pass;
        if (sparse_ok && list_rows(l, lo, n, O)) {
            if (!packed)
                run_items(blocks, I * O * 8, NNCL_HOST_MAX_WORKERS, pack_block, &job);
            packed = true;
            run_items(blocks * pieces_of(n), n * I * O, W, fwd_item, &job);
            continue;
        }
        l->lo = lo;
        l->n = n;
        copy_rows(l, shift, scale, xf, O);
        nncl_gemm_args g = {.trans_b = true, .m = n, .n = O, .k = I, .alpha = 1.0f, .lda = I, .ldb = I,
                            .ldc = a->ldy, .act = a->act, .act_param = a->act_param};
        nncl_host_gemm_on(&g, xf, job.W, nncl_host_f32(a->y) + lo * a->ldy, nncl_host_f32(a->b));
    }
    return NNCL_OK;
}

/* ---- linear_u8_wgrad ------------------------------------------------------------ */

/* A pass's entries column by column, in row order: column j's are
 * [cbegin[j], cend[j]). Two halves of the columns, each listed by one
 * item from the whole row list into its own region. */
typedef struct u8s_cols {
    const u8s_list *l;
    size_t *cbegin, *cend; /* in each */
    uint32_t *row;
    float *val;            /* 2 x total entries: half h from h * total */
    size_t total;
    size_t *first[2], *stop[2]; /* half h's run of row r's entries */
} u8s_cols;

/* The first of a row's entries (sorted by column) at column `from` or
 * past it. */
static size_t first_at(const u8s_list *l, size_t r, size_t from)
{
    size_t lo = l->begin[r], hi = l->end[r];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (l->col[mid] < from)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void cols_half(void *arg, size_t h, int worker)
{
    (void)worker;
    u8s_cols *c = arg;
    const u8s_list *l = c->l;
    size_t lo, hi;
    nncl_host_half(l->in, (int)h, &lo, &hi);
    size_t *cnt = c->cend; /* counts first, then the ends */
    for (size_t j = lo; j < hi; j++)
        cnt[j] = 0;
    /* each row's entries of this half: a run, found once (first[r]) */
    size_t *first = c->first[h];
    for (size_t r = 0; r < l->n; r++) {
        first[r] = h ? first_at(l, r, lo) : l->begin[r];
        size_t stop = h ? l->end[r] : first_at(l, r, hi);
        c->stop[h][r] = stop;
        for (size_t e = first[r]; e < stop; e++)
            cnt[l->col[e]]++;
    }
    size_t at = h * c->total;
    for (size_t j = lo; j < hi; j++) {
        c->cbegin[j] = at;
        at += cnt[j];
        c->cend[j] = c->cbegin[j];
    }
    for (size_t r = 0; r < l->n; r++)
        for (size_t e = first[r]; e < c->stop[h][r]; e++) {
            size_t at_j = c->cend[l->col[e]]++;
            c->row[at_j] = (uint32_t)r;
            c->val[at_j] = l->val[e];
        }
}

typedef struct u8s_wg_job {
    const nncl_linear_u8_wgrad_args *a;
    u8s_isa isa;
    size_t ub;
    const u8s_cols *c;
    float *gb[NNCL_HOST_MAX_WORKERS]; /* a worker's pass x ub slice of g */
    bool add;     /* a later pass: add to dw */
} u8s_wg_job;

static void wgrad_block(void *arg, size_t blk, int worker)
{
    const u8s_wg_job *j = arg;
    const nncl_linear_u8_wgrad_args *a = j->a;
    const u8s_list *l = j->c->l;
    const size_t o0 = blk * j->ub, units = a->out - o0 < j->ub ? a->out - o0 : j->ub;
    const float *g = nncl_host_f32(a->g);
    float *gb = j->gb[worker];
    for (size_t r = 0; r < l->n; r++) {
        const float *gr = g + (l->lo + r) * a->ldg + o0;
        float *dst = gb + r * j->ub;
        memcpy(dst, gr, units * sizeof *gr);
        memset(dst + units, 0, (j->ub - units) * sizeof *dst);
    }
    j->isa.wgrad(j->c->cbegin, j->c->cend, j->c->row, j->c->val, a->in, gb, nncl_host_f32(a->scale), units, j->add,
                 nncl_host_f32(a->dw) + o0 * a->in, a->in);
}

nncl_status nncl_host_linear_u8_wgrad(nncl_device *dev, const nncl_linear_u8_wgrad_args *a)
{
    const size_t I = a->in, O = a->out;
    u8s_isa isa = pick_isa();
    const size_t ub = U8S_WG_VECS * isa.vw, blocks = (O + ub - 1) / ub;
    const size_t pass = a->rows < U8S_PASS_ROWS ? a->rows : U8S_PASS_ROWS;
    const float *shift = nncl_host_f32(a->shift), *scale = nncl_host_f32(a->scale);
    const bool sparse_ok = all_zero(shift, I);
    const int W = nncl_host_workers() < 2 ? 2 : nncl_host_workers(); /* workers, each its slice of g */
    size_t nent = list_entries(pass, I), ngb = (size_t)W * pass * ub, nxf = pass * I;
    size_t bytes = (ngb + nxf) * sizeof(float) + (6 * pass + 2 * I) * sizeof(size_t) +
                   3 * nent * (sizeof(uint32_t) + sizeof(float));
    char *ws;
    nncl_status st = nncl_host_workspace(dev, bytes, (void **)&ws);
    if (st != NNCL_OK)
        return st;
    u8s_list list = list_of(&isa, a->x, a->index, I), *l = &list;
    l->begin = (size_t *)ws; /* the size_t arrays first, for their alignment */
    l->end = l->begin + pass;
    u8s_cols c = {.l = l, .cbegin = l->end + pass};
    c.cend = c.cbegin + I;
    for (int h = 0; h < 2; h++) {
        c.first[h] = c.cend + I + 2 * h * pass;
        c.stop[h] = c.first[h] + pass;
    }
    float *gb = (float *)(c.stop[1] + pass), *xf = gb + ngb;
    l->val = xf + nxf;
    c.val = l->val + nent;
    l->col = (uint32_t *)(c.val + 2 * nent);
    c.row = l->col + nent;
    u8s_wg_job job = {.a = a, .isa = isa, .ub = ub, .c = &c};
    for (int w = 0; w < W; w++)
        job.gb[w] = gb + (size_t)w * pass * ub;
    for (size_t lo = 0; lo < a->rows; lo += pass) {
        size_t n = a->rows - lo < pass ? a->rows - lo : pass;
        job.add = lo > 0;
        if (sparse_ok && list_rows(l, lo, n, O)) {
            c.total = 0;
            for (size_t r = 0; r < n; r++)
                c.total += l->end[r] - l->begin[r];
            run_items(2, n * I, 2, cols_half, &c);
            run_items(blocks, n * I * O, W, wgrad_block, &job);
            continue;
        }
        l->lo = lo;
        l->n = n;
        copy_rows(l, shift, scale, xf, O);
        /* dW (+)= g^T x: (out x n) (n x in) */
        nncl_gemm_args g = {.trans_a = true, .m = O, .n = I, .k = n, .alpha = 1.0f, .beta = job.add ? 1.0f : 0.0f,
                            .lda = a->ldg, .ldb = I, .ldc = I};
        nncl_host_gemm_on(&g, nncl_host_f32(a->g) + lo * a->ldg, xf, nncl_host_f32(a->dw), NULL);
    }
    return NNCL_OK;
}
