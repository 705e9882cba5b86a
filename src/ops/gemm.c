/* gemm: C = act(alpha * op(A) * op(B) + beta * C + bias[j]), row-major.
 * Kernels: cl/gemm.cl (four entry points gemm_nn, gemm_nt, gemm_tn, gemm_tt,
 * shaped by per-device -D parameters from src/ops/kernel_params.c).
 *
 * The host twin uses CBLAS (OpenBLAS) when nncl was built with it, since it
 * is the fallback users train on without OpenCL; nncl_gemm_reference is the
 * plain triple loop, kept as the oracle the tests compare every device with. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "device/opencl_impl.h"
#include "ops/op_util.h"
#include "nncl_config.h"
#include "ops/gemm_cl.h"
#include "ops/gemm_impl.h"
#include "ops/host_split.h"
#include "ops/kernel_params.h"

#if NNCL_HAVE_CBLAS
#include <cblas.h>
#endif

/* ---- shapes and bounds ------------------------------------------------------ */

nncl_status nncl_check_gemm(const nncl_device *dev, const nncl_gemm_args *a)
{
    if (a->m == 0 || a->n == 0 || a->k == 0)
        return nncl_fail(NNCL_E_INVALID, "gemm: M, N and K must be at least 1 (got %zu, %zu, %zu)", a->m, a->n,
                         a->k);
    /* Kernels index with 32-bit ints for sizes and strides. */
    if (a->m > INT32_MAX || a->n > INT32_MAX || a->k > INT32_MAX || a->lda > INT32_MAX || a->ldb > INT32_MAX ||
        a->ldc > INT32_MAX)
        return nncl_fail(NNCL_E_UNSUPPORTED, "gemm: sizes and leading dimensions must be below 2^31");
    nncl_status st = nncl_act_check(a->act, a->act_param, "gemm");
    if (st == NNCL_OK)
        st = nncl_check_matrix(dev, a->a, a->trans_a ? a->k : a->m, a->trans_a ? a->m : a->k, a->lda, "gemm: A");
    if (st == NNCL_OK)
        st = nncl_check_matrix(dev, a->b, a->trans_b ? a->n : a->k, a->trans_b ? a->k : a->n, a->ldb, "gemm: B");
    if (st == NNCL_OK)
        st = nncl_check_matrix_out(dev, a->c, a->m, a->n, a->ldc, "gemm: C");
    if (st == NNCL_OK && a->bias.buf)
        st = nncl_view_check(dev, a->bias, sizeof(float), a->n, "gemm: bias");
    return st;
}

/* ---- the host twin --------------------------------------------------------------- */

/* c_ij = act(alpha * sum_p op(A)_ip op(B)_pj + beta * c_ij + bias_j), the sum
 * in double: the oracle should be more accurate than what it judges. */
void nncl_gemm_reference(const nncl_gemm_args *g, const float *A, const float *B, float *C, const float *bias)
{
    for (size_t i = 0; i < g->m; i++) {
        for (size_t j = 0; j < g->n; j++) {
            double s = 0;
            for (size_t p = 0; p < g->k; p++) {
                float a = g->trans_a ? A[p * g->lda + i] : A[i * g->lda + p];
                float b = g->trans_b ? B[j * g->ldb + p] : B[p * g->ldb + j];
                s += (double)a * (double)b;
            }
            float v = g->alpha * (float)s;
            if (g->beta != 0.0f)
                v += g->beta * C[i * g->ldc + j];
            if (bias)
                v += bias[j];
            C[i * g->ldc + j] = nncl_act_apply(g->act, g->act_param, v);
        }
    }
}

void nncl_host_sgemm(const nncl_gemm_args *g, const float *A, const float *B, float *C)
{
#if NNCL_HAVE_CBLAS
    cblas_sgemm(CblasRowMajor, g->trans_a ? CblasTrans : CblasNoTrans, g->trans_b ? CblasTrans : CblasNoTrans,
                (int)g->m, (int)g->n, (int)g->k, g->alpha, A, (int)g->lda, B, (int)g->ldb, g->beta, C, (int)g->ldc);
#else
    nncl_gemm_args plain = *g;
    plain.act = NNCL_ACT_IDENTITY;
    nncl_gemm_reference(&plain, A, B, C, NULL);
#endif
}

/* The host GEMM on the cores without OpenBLAS's own threads. After a
 * threaded call OpenBLAS's workers spin, waiting for the next one, on the
 * cores the convolutions' workers (host_split.c) and the rest of the step
 * need: a CNN step ran 1.45x faster with OPENBLAS_NUM_THREADS=1. So
 * OpenBLAS always runs single-threaded here: a large product is cut into
 * parts of C (the rows or the columns, whichever dimension is larger), each
 * one single-threaded call, on the host's workers: two halves on two cores
 * (nncl_host_split2), and with more workers (nncl_host_for) as many parts as
 * workers, each at least HOST_GEMM_PART_MIN of m*n*k and HOST_GEMM_PART_LINES
 * rows or columns; a small product, where starting a thread costs more than
 * it saves, runs on the calling thread alone. A part of C is the same sums
 * in the same order as the whole (OpenBLAS cuts K the same way, and a part
 * that large never takes its small-matrix kernels: tests/test_gemm_cuts.c
 * checks it on the machine's OpenBLAS), so the bits do not depend on the
 * number of cores. */
enum {
    HOST_GEMM_SPLIT_MIN = 1 << 21,      /* m*n*k: ~4 MFLOP, ~100 us on one core */
    HOST_GEMM_PART_MIN = 1 << 21,       /* the least m*n*k of a part beyond two */
    HOST_GEMM_PART_LINES = 16,          /* the least rows (columns) of a part beyond two */
};

typedef struct host_gemm_job {
    const nncl_gemm_args *g;
    const float *A, *B;
    float *C;
    const float *bias;
    bool by_rows;
    size_t parts;
} host_gemm_job;

/* C[i, j] = act(C[i, j] + bias[j]) for i < m, j < n (bias may be NULL: + 0),
 * on each part of C right after its product, while it is in the cache; the
 * values are nncl_act_apply's (+ 0.0f included: -0 becomes +0 as before). */
static void bias_act(float *C, size_t m, size_t n, size_t ldc, const float *bias, nncl_act act, float slope)
{
    for (size_t i = 0; i < m; i++) {
        float *restrict row = C + i * ldc;
        for (size_t j = 0; j < n; j++)
            row[j] = row[j] + (bias ? bias[j] : 0.0f);
        nncl_act_apply_n(act, slope, row, n);
    }
}

static bool has_epilogue(const nncl_gemm_args *g, const float *bias)
{
    return bias || g->act != NNCL_ACT_IDENTITY;
}

static void host_gemm_piece(const host_gemm_job *j, size_t part)
{
    nncl_gemm_args h = *j->g;
    const float *A = j->A, *B = j->B, *bias = j->bias;
    float *C = j->C;
    size_t lo, hi;
    if (j->by_rows) {
        nncl_host_part(h.m, part, j->parts, &lo, &hi);
        h.m = hi - lo;
        A += h.trans_a ? lo : lo * h.lda;
        C += lo * h.ldc;
    } else {
        nncl_host_part(h.n, part, j->parts, &lo, &hi);
        h.n = hi - lo;
        B += h.trans_b ? lo * h.ldb : lo;
        C += lo;
        bias = bias ? bias + lo : NULL;
    }
    if (h.m > 0 && h.n > 0) {
        nncl_host_sgemm(&h, A, B, C);
        if (has_epilogue(&h, bias))
            bias_act(C, h.m, h.n, h.ldc, bias, h.act, h.act_param);
    }
}

static void host_gemm_half(void *arg, int part) { host_gemm_piece(arg, (size_t)part); }

static void host_gemm_item(void *arg, size_t item, int worker)
{
    (void)worker;
    host_gemm_piece(arg, item);
}

static void host_gemm_whole(void *arg, int part)
{
    const host_gemm_job *j = arg;
    if (part != 0)
        return;
    nncl_host_sgemm(j->g, j->A, j->B, j->C);
    if (has_epilogue(j->g, j->bias))
        bias_act(j->C, j->g->m, j->g->n, j->g->ldc, j->bias, j->g->act, j->g->act_param);
}

/* Into how many parts the host cuts g for `workers` workers (1: whole). */
static size_t host_gemm_parts(const nncl_gemm_args *g, int workers)
{
    double mnk = (double)g->m * (double)g->n * (double)g->k;
    if (mnk < HOST_GEMM_SPLIT_MIN || (g->m < 2 && g->n < 2))
        return 1;
    size_t lines = g->m >= g->n ? g->m : g->n;
    size_t parts = workers > 2 ? (size_t)workers : 2;
    if (parts > 2 && mnk / (double)parts < HOST_GEMM_PART_MIN)
        parts = (size_t)(mnk / HOST_GEMM_PART_MIN);
    if (parts > 2 && lines / parts < HOST_GEMM_PART_LINES)
        parts = lines / HOST_GEMM_PART_LINES;
    return parts > 2 ? parts : 2;
}

nncl_status nncl_host_gemm(nncl_device *dev, const nncl_gemm_args *g)
{
    (void)dev;
    nncl_host_gemm_on(g, nncl_host_f32(g->a), nncl_host_f32(g->b), nncl_host_f32(g->c),
                      g->bias.buf ? nncl_host_f32(g->bias) : NULL);
    return NNCL_OK;
}

void nncl_host_gemm_on(const nncl_gemm_args *g, const float *A, const float *B, float *C, const float *bias)
{
#if NNCL_HAVE_CBLAS
    /* BLAS does not read C when beta is 0, as our contract requires. */
    host_gemm_job job = {.g = g, .A = A, .B = B, .C = C, .bias = bias, .by_rows = g->m >= g->n};
    job.parts = host_gemm_parts(g, nncl_host_workers());
    if (job.parts > 2)
        nncl_host_for(job.parts, (int)job.parts, host_gemm_item, &job);
    else if (job.parts == 2)
        nncl_host_split2(host_gemm_half, &job);
    else
        nncl_host_single(host_gemm_whole, &job);
#else
    nncl_gemm_reference(g, A, B, C, bias);
#endif
}

/* ---- the OpenCL dispatcher ----------------------------------------------------------- */

const char *const nncl_gemm_kernel_names[NNCL_GEMM_KERNELS] = {
    "gemm_nn",     "gemm_nt",     "gemm_tn",       "gemm_tt",       "gemm_pack_b",
    "gemm_pack_bt", "gemm_pack_a", "gemm_packed_n", "gemm_packed_p", "gemm_split_nn", "gemm_split_nt",
    "gemm_split_tn", "gemm_split_tt", "gemm_split_sum",
};

bool nncl_gemm_has_kernel(const nncl_gemm_params *p, int k)
{
    if (k < NNCL_GEMM_PLAIN)
        return true;
    return p->use_local ? k >= NNCL_GEMM_SPLIT : k < NNCL_GEMM_SPLIT;
}

/* Split K where C has fewer tiles than half the compute units, into slices
 * of at least 2 TSK (each work-group's barriers and epilogue must pay for
 * themselves) and at most GEMM_SPLIT_MAX of them. The H200 of 2026-12-04
 * ran the mini-batch forward pass (128 x 256 x 784, NT: 8 tiles of 64 x
 * 64 for 132 compute units) at 263 GFLOP/s unsplit, 0.4% of its peak. */
enum { GEMM_SPLIT_MAX = 32 };

size_t nncl_gemm_slices(const nncl_device *dev, const nncl_gemm_params *p, const nncl_gemm_args *g, size_t *kc)
{
    size_t tsk = (size_t)p->tsk, most = (g->k + tsk - 1) / tsk, slices = 1;
    *kc = g->k;
    if (!p->use_local)
        return 1;
    const char *force = getenv("NNCL_GEMM_SPLITK");
    if (force && *force) {
        slices = strcmp(force, "off") == 0 ? 1 : (size_t)strtoul(force, NULL, 10);
    } else {
        size_t tiles = ((g->m + (size_t)p->tsm - 1) / (size_t)p->tsm) * ((g->n + (size_t)p->tsn - 1) / (size_t)p->tsn);
        size_t cu = dev->info.compute_units ? dev->info.compute_units : 1;
        if (2 * tiles <= cu)
            slices = cu / tiles;
        most = g->k / (2 * tsk);
        if (most > GEMM_SPLIT_MAX)
            most = GEMM_SPLIT_MAX;
    }
    if (slices > most)
        slices = most;
    if (slices < 2)
        return 1;
    /* whole TSK steps per slice, and no empty slice */
    *kc = (g->k + slices - 1) / slices;
    *kc = (*kc + tsk - 1) / tsk * tsk;
    return (g->k + *kc - 1) / *kc;
}

/* Packing costs one or two more launches and a pass over the inputs.
 * Whether NT products pack is the parameter PK, which the tuner times both
 * ways (the dot form ran 0.78-0.97x OpenBLAS on the AVX-512 machine of
 * 2026-11-30, where packing was never measured).
 * Measured on the AVX2 EPYC (PoCL 3.1, 6x16 blocks), packed against plain:
 *  - NT (the forward pass): the dot form's horizontal sums dominate when K
 *    is short; packed B ran 1.3-2.8x faster from m*n*k = 2^21 up
 *    (512x512x64: 680 -> 240 us).
 *  - NN and TN: plain and packed are even up to m of a few hundred
 *    (128x784x128 NN was faster plain), packed wins by 1.2-1.3x on tall
 *    products (1000^3, 4096x256x256), where each panel serves many row
 *    blocks.
 *  - A transposed: its TM floats per k come from rows lda apart, the same
 *    cache-set trouble as B's; packed with B (the lab's 512x784x256 TN:
 *    150 -> 169 GFLOP/s).
 * And never for a single row block of A: each panel would be read once. */
enum { GEMM_PACK_MIN = 1 << 21, GEMM_PACK_TALL_BLOCKS = 64 };

int nncl_gemm_packing(const nncl_gemm_params *p, const nncl_gemm_args *g)
{
    if (p->use_local || (double)g->m * (double)g->n * (double)g->k < GEMM_PACK_MIN || g->m < 2 * (size_t)p->tm)
        return 0;
    if (g->trans_b ? !p->pk : g->m < GEMM_PACK_TALL_BLOCKS * (size_t)p->tm)
        return 0;
    return NNCL_GEMM_PACK_B | (g->trans_a ? NNCL_GEMM_PACK_A : 0);
}

static size_t round_up(size_t x, size_t to) { return (x + to - 1) / to * to; }

size_t nncl_gemm_panel_floats(const nncl_gemm_params *p, const nncl_gemm_args *g, int packing)
{
    size_t floats = 0;
    if (packing & NNCL_GEMM_PACK_B)
        floats += round_up(g->n, (size_t)p->tnv * (size_t)p->vw) * g->k;
    if (packing & NNCL_GEMM_PACK_A)
        floats += round_up(g->m, (size_t)p->tm) * g->k;
    return floats;
}

int nncl_gemm_form(const nncl_gemm_params *p, const nncl_gemm_args *g)
{
    int packing = nncl_gemm_packing(p, g);
    if (packing)  /* A is packed exactly when it is transposed */
        return packing & NNCL_GEMM_PACK_A ? NNCL_GEMM_PACKED_P : NNCL_GEMM_PACKED_N;
    return (g->trans_a ? 2 : 0) + (g->trans_b ? 1 : 0);
}

typedef struct cl_arg {
    size_t size;
    const void *v;
} cl_arg;

static cl_int enqueue_dims(nncl_device *dev, cl_kernel k, cl_uint dims, const size_t *global, const size_t *local,
                           int nargs, const cl_arg *args)
{
    for (int i = 0; i < nargs; i++) {
        cl_int err = clSetKernelArg(k, (cl_uint)i, args[i].size, args[i].v);
        if (err != CL_SUCCESS)
            return err;
    }
    size_t g[3];
    for (cl_uint d = 0; d < dims; d++)
        g[d] = local ? (global[d] + local[d] - 1) / local[d] * local[d] : global[d];
    return clEnqueueNDRangeKernel(nncl_cl_of(dev)->queue, k, dims, NULL, g, local, 0, NULL, NULL);
}

static cl_int enqueue(nncl_device *dev, cl_kernel k, const size_t global[2], const size_t local[2], int nargs,
                      const cl_arg *args)
{
    return enqueue_dims(dev, k, 2, global, local, nargs, args);
}

/* The local-memory path with K cut into slices (nncl_gemm_slices): the
 * partial products into the device's scratch, then their sum and the
 * epilogue. */
static cl_int enqueue_split(nncl_device *dev, const nncl_gemm_kernels *ks, const nncl_gemm_params *p,
                            const nncl_gemm_args *g, size_t slices, size_t kc, cl_mem P, const char **kernel)
{
    bool has_bias = g->bias.buf != NULL;
    cl_mem A = (cl_mem)g->a.buf->mem, B = (cl_mem)g->b.buf->mem, C = (cl_mem)g->c.buf->mem;
    cl_mem bias = has_bias ? (cl_mem)g->bias.buf->mem : C;
    cl_int m = (cl_int)g->m, n = (cl_int)g->n, kk = (cl_int)g->k, lda = (cl_int)g->lda, ldb = (cl_int)g->ldb,
           ldc = (cl_int)g->ldc, hb = has_bias, act = (cl_int)g->act, ns = (cl_int)slices, ikc = (cl_int)kc;
    cl_ulong oa = g->a.off, ob = g->b.off, oc = g->c.off, obias = has_bias ? g->bias.off : 0;
    cl_float alpha = g->alpha, beta = g->beta, ap = g->act_param;
    int form = NNCL_GEMM_SPLIT + (g->trans_a ? 2 : 0) + (g->trans_b ? 1 : 0);
    size_t global[3], local[3] = {0, 0, 1};
    nncl_gemm_ndrange(p, g->trans_a, g->trans_b, g->m, g->n, global, local);
    global[2] = slices;
    *kernel = nncl_gemm_kernel_names[form];
    cl_arg args[] = {{4, &m},   {4, &n},        {4, &kk},  {sizeof A, &A}, {8, &oa}, {4, &lda},
                     {sizeof B, &B}, {8, &ob}, {4, &ldb}, {4, &ikc},      {sizeof P, &P}};
    cl_int err = enqueue_dims(dev, ks->k[form], 3, global, local, (int)(sizeof args / sizeof args[0]), args);
    if (err != CL_SUCCESS)
        return err;
    *kernel = nncl_gemm_kernel_names[NNCL_GEMM_SPLIT_SUM];
    size_t sum_global[2] = {g->n, g->m}, sum_local[2] = {g->n < 64 ? g->n : 64, 1};
    cl_arg sum[] = {{4, &m},  {4, &n},        {4, &ns},   {sizeof P, &P},       {4, &alpha}, {4, &beta},
                    {sizeof C, &C}, {8, &oc}, {4, &ldc}, {sizeof bias, &bias}, {8, &obias}, {4, &hb},
                    {4, &act}, {4, &ap}};
    return enqueue(dev, ks->k[NNCL_GEMM_SPLIT_SUM], sum_global, sum_local, (int)(sizeof sum / sizeof sum[0]), sum);
}

cl_int nncl_gemm_enqueue(nncl_device *dev, const nncl_gemm_kernels *ks, const nncl_gemm_params *p,
                         const nncl_gemm_args *g, const char **call, const char **kernel)
{
    bool has_bias = g->bias.buf != NULL;
    cl_mem A = (cl_mem)g->a.buf->mem, B = (cl_mem)g->b.buf->mem, C = (cl_mem)g->c.buf->mem;
    /* A bias-free call still passes a valid buffer (never read). */
    cl_mem bias = has_bias ? (cl_mem)g->bias.buf->mem : C;
    cl_int m = (cl_int)g->m, n = (cl_int)g->n, kk = (cl_int)g->k, lda = (cl_int)g->lda, ldb = (cl_int)g->ldb,
           ldc = (cl_int)g->ldc, hb = has_bias, act = (cl_int)g->act, ta = g->trans_a;
    cl_ulong oa = g->a.off, ob = g->b.off, oc = g->c.off, obias = has_bias ? g->bias.off : 0;
    cl_float alpha = g->alpha, beta = g->beta, ap = g->act_param;
    size_t global[2], local[2];
    int packing = nncl_gemm_packing(p, g), form = nncl_gemm_form(p, g);
    *call = "clEnqueueNDRangeKernel";
    cl_mem panels = NULL;
    size_t kc, slices = nncl_gemm_slices(dev, p, g, &kc);
    /* The slices' partial products live in the panel buffer (the local
     * path never packs); without room for them the product runs whole. */
    if (slices > 1 && ks->k[NNCL_GEMM_SPLIT + form] && ks->k[NNCL_GEMM_SPLIT_SUM] &&
        nncl_gemm_panels(dev, slices * g->m * g->n * sizeof(float), &panels) == CL_SUCCESS)
        return enqueue_split(dev, ks, p, g, slices, kc, panels, kernel);
    /* A device that cannot hold the panels (they are as large as A and B)
     * runs the plain kernel instead: slower, never wrong. */
    size_t panel_bytes = nncl_gemm_panel_floats(p, g, packing) * sizeof(float);
    if (packing && nncl_gemm_panels(dev, panel_bytes, &panels) != CL_SUCCESS) {
        packing = 0;
        form = (g->trans_a ? 2 : 0) + (g->trans_b ? 1 : 0);
    }
    if (packing) {
        cl_int err;
        /* B's panels first, then A's: one row of one panel per work-item,
         * 64 rows a group */
        size_t nr = (size_t)p->tnv * (size_t)p->vw;
        size_t pack_local[2] = {g->k < 64 ? g->k : 64, 1};
        size_t pack_global[2] = {g->k, round_up(g->n, nr) / nr};
        cl_ulong a_at = (cl_ulong)(round_up(g->n, nr) * g->k);
        if (g->trans_b) {
            /* PB = 8 rows of a panel per work-item (gemm_pack_bt) */
            size_t bt_global[2] = {(g->k + 7) / 8, pack_global[1]};
            size_t bt_local[2] = {bt_global[0] < 16 ? bt_global[0] : 16, 1};
            *kernel = nncl_gemm_kernel_names[NNCL_GEMM_PACK_BT_KERNEL];
            cl_arg pack_bt[] = {{4, &kk}, {4, &n}, {sizeof B, &B}, {8, &ob}, {4, &ldb}, {sizeof panels, &panels}};
            err = enqueue(dev, ks->k[NNCL_GEMM_PACK_BT_KERNEL], bt_global, bt_local, 6, pack_bt);
        } else {
            *kernel = nncl_gemm_kernel_names[NNCL_GEMM_PACK_B_KERNEL];
            cl_arg pack_b[] = {{4, &kk}, {4, &n}, {sizeof B, &B}, {8, &ob}, {4, &ldb}, {sizeof panels, &panels}};
            err = enqueue(dev, ks->k[NNCL_GEMM_PACK_B_KERNEL], pack_global, pack_local, 6, pack_b);
        }
        if (err != CL_SUCCESS)
            return err;
        B = panels;
        if (packing & NNCL_GEMM_PACK_A) {
            /* A's panels start where B's end: a sub-buffer would need the
             * device's base alignment, so the kernel gets the offset */
            pack_global[1] = round_up(g->m, (size_t)p->tm) / (size_t)p->tm;
            *kernel = nncl_gemm_kernel_names[NNCL_GEMM_PACK_A_KERNEL];
            cl_arg pack_a[] = {{4, &kk}, {4, &m}, {sizeof A, &A}, {8, &oa}, {4, &lda}, {4, &ta},
                               {sizeof panels, &panels}, {8, &a_at}};
            err = enqueue(dev, ks->k[NNCL_GEMM_PACK_A_KERNEL], pack_global, pack_local, 8, pack_a);
            if (err != CL_SUCCESS)
                return err;
            A = panels;
            oa = a_at;
        }
        /* the row form's block and work-group (nncl_gemm_ndrange with transb = N) */
        nncl_gemm_ndrange(p, g->trans_a, false, g->m, g->n, global, local);
        *kernel = nncl_gemm_kernel_names[form];
        cl_arg args[] = {{4, &m},   {4, &n},   {4, &kk}, {4, &alpha}, {4, &beta}, {sizeof A, &A}, {8, &oa},
                         {4, &lda}, {sizeof B, &B}, {sizeof C, &C}, {8, &oc}, {4, &ldc}, {sizeof bias, &bias},
                         {8, &obias}, {4, &hb}, {4, &act}, {4, &ap}};
        return enqueue(dev, ks->k[form], global, local, (int)(sizeof args / sizeof args[0]), args);
    }
    *kernel = nncl_gemm_kernel_names[form];
    nncl_gemm_ndrange(p, g->trans_a, g->trans_b, g->m, g->n, global, local);
    cl_arg args[] = {{4, &m},  {4, &n},   {4, &kk},       {4, &alpha}, {4, &beta}, {sizeof A, &A}, {8, &oa},
                     {4, &lda}, {sizeof B, &B}, {8, &ob}, {4, &ldb},   {sizeof C, &C}, {8, &oc},   {4, &ldc},
                     {sizeof bias, &bias}, {8, &obias}, {4, &hb}, {4, &act}, {4, &ap}};
    return enqueue(dev, ks->k[form], global, local, (int)(sizeof args / sizeof args[0]), args);
}

nncl_status nncl_cl_gemm(nncl_device *dev, const nncl_gemm_args *g)
{
    /* The launch geometry depends on the parameters the program is built
     * with, settled (tuning cache, first-use search) when it is built. */
    nncl_status st = nncl_cl_program_ensure(dev, NULL);
    if (st != NNCL_OK)
        return st;
    const nncl_gemm_params *p;
    const nncl_gemm_kernels *large;
    if ((st = nncl_gemm_set_for(dev, g, &p, &large)) != NNCL_OK)
        return st;
    nncl_gemm_kernels ks = {{NULL}};
    if (large) {
        ks = *large;
    } else {
        /* Only the kernels this product can use (a lookup is a walk over
         * the program's kernels by name): its form, the plain one it falls
         * back to, and the packing or split-K ones. */
        int packing = nncl_gemm_packing(p, g), plain = (g->trans_a ? 2 : 0) + (g->trans_b ? 1 : 0);
        size_t kc;
        bool split = nncl_gemm_slices(dev, p, g, &kc) > 1;
        int want[] = {nncl_gemm_form(p, g), plain,
                      !packing ? -1 : g->trans_b ? NNCL_GEMM_PACK_BT_KERNEL : NNCL_GEMM_PACK_B_KERNEL,
                      packing & NNCL_GEMM_PACK_A ? NNCL_GEMM_PACK_A_KERNEL : -1,
                      split ? NNCL_GEMM_SPLIT + plain : -1, split ? NNCL_GEMM_SPLIT_SUM : -1};
        for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
            if (want[i] >= 0 && !(ks.k[want[i]] = nncl_cl_kernel_named(dev, nncl_gemm_kernel_names[want[i]])))
                return nncl_fail(NNCL_E_DEVICE, "kernel '%s' is not in the program built for %s",
                                 nncl_gemm_kernel_names[want[i]], dev->info.name);
    }
    const char *call, *kernel;
    cl_int err = nncl_gemm_enqueue(dev, &ks, p, g, &call, &kernel);
    if (err != CL_SUCCESS)
        return nncl_cl_fail(err, call, kernel);
    return nncl_cl_sync_if_debug(dev, kernel);
}
