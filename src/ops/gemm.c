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
        st = nncl_check_matrix(dev, a->c, a->m, a->n, a->ldc, "gemm: C");
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

/* The host GEMM on both cores without OpenBLAS's own threads. After a
 * threaded call OpenBLAS's workers spin, waiting for the next one, on the
 * cores the convolutions' two workers (host_split.c) and the rest of the
 * step need: a CNN step ran 1.45x faster with OPENBLAS_NUM_THREADS=1. So
 * OpenBLAS always runs single-threaded here: a large product is cut into
 * two halves of C (the rows or the columns, whichever dimension is larger),
 * each one single-threaded call on its own core (nncl_host_split2); a small
 * one, where starting a thread costs more than it saves, runs on the
 * calling thread alone. A half of C is the same sums in the same order as
 * the whole (OpenBLAS cuts K the same way), and the cut depends on the
 * shape alone: the bits do not depend on the number of cores. */
enum { HOST_GEMM_SPLIT_MIN = 1 << 21 };     /* m*n*k: ~4 MFLOP, ~100 us on one core */

typedef struct host_gemm_job {
    const nncl_gemm_args *g;
    const float *A, *B;
    float *C;
    const float *bias;
    bool by_rows;
} host_gemm_job;

/* C[i, j] = act(C[i, j] + bias[j]) for i < m, j < n (bias may be NULL: + 0),
 * on each half of C right after its product, while it is in the cache; the
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

static void host_gemm_half(void *arg, int part)
{
    const host_gemm_job *j = arg;
    nncl_gemm_args h = *j->g;
    const float *A = j->A, *B = j->B, *bias = j->bias;
    float *C = j->C;
    size_t lo, hi;
    if (j->by_rows) {
        nncl_host_half(h.m, part, &lo, &hi);
        h.m = hi - lo;
        A += h.trans_a ? lo : lo * h.lda;
        C += lo * h.ldc;
    } else {
        nncl_host_half(h.n, part, &lo, &hi);
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

static void host_gemm_whole(void *arg, int part)
{
    const host_gemm_job *j = arg;
    if (part != 0)
        return;
    nncl_host_sgemm(j->g, j->A, j->B, j->C);
    if (has_epilogue(j->g, j->bias))
        bias_act(j->C, j->g->m, j->g->n, j->g->ldc, j->bias, j->g->act, j->g->act_param);
}

nncl_status nncl_host_gemm(nncl_device *dev, const nncl_gemm_args *g)
{
    (void)dev;
    const float *A = nncl_host_f32(g->a), *B = nncl_host_f32(g->b);
    float *C = nncl_host_f32(g->c);
    const float *bias = g->bias.buf ? nncl_host_f32(g->bias) : NULL;
#if NNCL_HAVE_CBLAS
    /* BLAS does not read C when beta is 0, as our contract requires. */
    host_gemm_job job = {.g = g, .A = A, .B = B, .C = C, .bias = bias, .by_rows = g->m >= g->n};
    if ((double)g->m * (double)g->n * (double)g->k >= HOST_GEMM_SPLIT_MIN && (g->m > 1 || g->n > 1))
        nncl_host_split2(host_gemm_half, &job);
    else
        nncl_host_single(host_gemm_whole, &job);
#else
    nncl_gemm_reference(g, A, B, C, bias);
#endif
    return NNCL_OK;
}

/* ---- the OpenCL dispatcher ----------------------------------------------------------- */

nncl_status nncl_cl_gemm(nncl_device *dev, const nncl_gemm_args *g)
{
    static const char *names[2][2] = {{"gemm_nn", "gemm_nt"}, {"gemm_tn", "gemm_tt"}};
    /* The launch geometry depends on the parameters the program is built
     * with, settled (tuning cache, first-use search) when it is built. */
    nncl_status st = nncl_cl_program_ensure(dev, NULL);
    if (st != NNCL_OK)
        return st;
    const nncl_gemm_params *p = nncl_gemm_params_on(dev);
    size_t global[2], local[2];
    nncl_gemm_ndrange(p, g->trans_a, g->trans_b, g->m, g->n, global, local);
    bool has_bias = g->bias.buf != NULL;
    /* A bias-free call still passes a valid buffer (never read) to the kernel. */
    nncl_buffer *bias = has_bias ? g->bias.buf : g->c.buf;
    return nncl_cl_launch(dev, names[g->trans_a][g->trans_b], 2, global, local,
                          NNCL_CL_ARGS(nncl_arg_int((int)g->m), nncl_arg_int((int)g->n), nncl_arg_int((int)g->k),
                                       nncl_arg_float(g->alpha), nncl_arg_float(g->beta),
                                       nncl_arg_buf(g->a.buf), nncl_arg_ulong(g->a.off), nncl_arg_int((int)g->lda),
                                       nncl_arg_buf(g->b.buf), nncl_arg_ulong(g->b.off), nncl_arg_int((int)g->ldb),
                                       nncl_arg_buf(g->c.buf), nncl_arg_ulong(g->c.off), nncl_arg_int((int)g->ldc),
                                       nncl_arg_buf(bias), nncl_arg_ulong(has_bias ? g->bias.off : 0),
                                       nncl_arg_int(has_bias), nncl_arg_int((int)g->act),
                                       nncl_arg_float(g->act_param)));
}
