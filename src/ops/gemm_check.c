/* The GEMM tuner's check of a candidate against the host oracle (see
 * gemm_tuner.h): awkward shapes in all four transpose forms, NaN-poisoned
 * output, nothing written outside C. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device/opencl_impl.h"
#include "ops/gemm_cl.h"
#include "ops/gemm_tuner.h"

/* The kernel that computes g's C with parameters p, for messages. */
static const char *form_name(const nncl_gemm_params *p, const nncl_gemm_args *g)
{
    return nncl_gemm_kernel_names[nncl_gemm_form(p, g)];
}

typedef struct check_case {
    size_t m, n, k, pad, off;
    float alpha, beta;
    bool bias;
    nncl_act act;
} check_case;

/* Shapes awkward for every block: 1, primes, more than one tile of 64 or
 * 128 on each side; padded leading dimensions, view offsets, beta, bias and
 * each activation. */
static const check_case check_cases[] = {
    {1, 1, 1, 0, 0, 1.0f, 0.0f, false, NNCL_ACT_IDENTITY},
    {13, 71, 37, 3, 5, -0.5f, 0.75f, true, NNCL_ACT_RELU},
    {131, 67, 129, 1, 3, 1.0f, 0.0f, true, NNCL_ACT_LEAKY_RELU},
    {67, 131, 7, 0, 0, 1.0f, -1.0f, false, NNCL_ACT_SIGMOID},
    {2, 257, 61, 2, 1, 0.5f, 0.0f, true, NNCL_ACT_TANH},
    {149, 1, 17, 0, 2, 1.0f, 0.0f, true, NNCL_ACT_IDENTITY},
    /* above GEMM_PACK_MIN (gemm.c): B packed into panels when transposed
     * (A too when it is), N a multiple of no panel width; and tall enough
     * that every form packs */
    {133, 97, 211, 2, 3, 1.0f, 0.5f, true, NNCL_ACT_RELU},
    {397, 37, 149, 1, 2, -1.0f, 0.0f, true, NNCL_ACT_TANH},
    /* every leading dimension and offset a multiple of 4, so that the tiles
     * wholly inside take the local path's vector loads (GVW), the edge
     * tiles (M, N and K past whole tiles of 128 and 16) the scalar ones */
    {260, 136, 72, 4, 8, 1.0f, 0.5f, true, NNCL_ACT_RELU},
};

static uint64_t mix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void fill_uniform(float *x, size_t n, uint64_t *s)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (float)((mix(s) >> 40) * (1.0 / 16777216.0)) * 2.0f - 1.0f;
}

static float max_abs(const float *x, size_t n)
{
    float m = 0;
    for (size_t i = 0; i < n; i++)
        m = fabsf(x[i]) > m ? fabsf(x[i]) : m;
    return m;
}

/* One case in one transpose form. *ok false with the first disagreement in
 * why. C starts as NaN where beta is 0 (it must not be read); every element
 * of C's buffer outside the M x N result (padding, offset, a tail) must
 * come back untouched. */
static nncl_status check_one(nncl_device *dev, const nncl_gemm_params *p, const nncl_gemm_kernels *ks,
                             const check_case *c, bool ta, bool tb, uint64_t seed, bool *ok, char *why,
                             size_t why_len)
{
    size_t a_rows = ta ? c->k : c->m, a_cols = ta ? c->m : c->k;
    size_t b_rows = tb ? c->n : c->k, b_cols = tb ? c->k : c->n;
    size_t lda = a_cols + c->pad, ldb = b_cols + c->pad, ldc = c->n + c->pad;
    size_t na = c->off + a_rows * lda, nb = c->off + b_rows * ldb, nc = c->off + c->m * ldc + 37;
    size_t nbias = c->off + c->n;
    float *A = malloc(na * 4), *B = malloc(nb * 4), *C0 = malloc(nc * 4), *ref = malloc(nc * 4),
          *got = malloc(nc * 4), *bias = malloc(nbias * 4);
    nncl_buffer *da = NULL, *db = NULL, *dc = NULL, *dbias = NULL;
    nncl_status st = NNCL_OK;
    if (!A || !B || !C0 || !ref || !got || !bias) {
        st = nncl_fail(NNCL_E_NOMEM, "out of memory checking a candidate");
        goto done;
    }
    fill_uniform(A, na, &seed);
    fill_uniform(B, nb, &seed);
    fill_uniform(bias, nbias, &seed);
    for (size_t i = 0; i < nc; i++)
        C0[i] = NAN; /* outside the result, and the whole of C when beta is 0 */
    if (c->beta != 0.0f)
        for (size_t i = 0; i < c->m; i++)
            fill_uniform(C0 + c->off + i * ldc, c->n, &seed);
    memcpy(ref, C0, nc * 4);
    nncl_gemm_args g = {.trans_a = ta, .trans_b = tb, .m = c->m, .n = c->n, .k = c->k, .alpha = c->alpha,
                        .beta = c->beta, .lda = lda, .ldb = ldb, .ldc = ldc, .act = c->act,
                        .act_param = c->act == NNCL_ACT_LEAKY_RELU ? 0.1f : 0.0f};
    nncl_gemm_reference(&g, A + c->off, B + c->off, ref + c->off, c->bias ? bias + c->off : NULL);

    if ((st = nncl_buffer_alloc(dev, na * 4, &da)) != NNCL_OK || (st = nncl_buffer_alloc(dev, nb * 4, &db)) != NNCL_OK ||
        (st = nncl_buffer_alloc(dev, nc * 4, &dc)) != NNCL_OK ||
        (st = nncl_buffer_alloc(dev, nbias * 4, &dbias)) != NNCL_OK ||
        (st = nncl_buffer_write(da, 0, A, na * 4)) != NNCL_OK || (st = nncl_buffer_write(db, 0, B, nb * 4)) != NNCL_OK ||
        (st = nncl_buffer_write(dc, 0, C0, nc * 4)) != NNCL_OK ||
        (st = nncl_buffer_write(dbias, 0, bias, nbias * 4)) != NNCL_OK)
        goto done;
    g.a = nncl_view_of(da, c->off);
    g.b = nncl_view_of(db, c->off);
    g.c = nncl_view_of(dc, c->off);
    g.bias = c->bias ? nncl_view_of(dbias, c->off) : (nncl_view){0};
    const char *call, *kernel;
    cl_int err = nncl_gemm_enqueue(dev, ks, p, &g, &call, &kernel);
    if (err == CL_SUCCESS)
        err = clFinish(nncl_cl_of(dev)->queue);
    if (err != CL_SUCCESS) {
        /* a launch the device refuses (resources) rejects the candidate */
        snprintf(why, why_len, "%s %zux%zux%zu: launch failed (%s)", form_name(p, &g), c->m, c->n, c->k,
                 nncl_cl_error_name(err));
        *ok = false;
        goto done;
    }
    if ((st = nncl_buffer_read(dc, 0, got, nc * 4)) != NNCL_OK)
        goto done;
    /* |c - ref| <= 8 eps (K max|a| max|b| |alpha| + |beta| max|c| + max|bias|):
     * the forward error bound of a K-term dot product in any order; a
     * skipped or doubled term is off by about max|a||b|, far more. */
    double tol = 8.0 * FLT_EPSILON *
                 ((double)c->k * max_abs(A, na) * max_abs(B, nb) * fabs(c->alpha) + fabs(c->beta) + max_abs(bias, nbias)) +
                 1e-30;
    *ok = true;
    for (size_t i = 0; i < nc && *ok; i++) {
        size_t r = (i - c->off) / ldc, col = (i - c->off) % ldc;
        bool inside = i >= c->off && r < c->m && col < c->n;
        if (!inside) {
            if (!isnan(got[i])) {
                snprintf(why, why_len, "%s %zux%zux%zu: wrote outside C (element %zu)", form_name(p, &g),
                         c->m, c->n, c->k, i);
                *ok = false;
            }
        } else if (!(fabs((double)got[i] - (double)ref[i]) <= tol)) {
            snprintf(why, why_len, "%s %zux%zux%zu: C[%zu][%zu] = %.9g, oracle %.9g", form_name(p, &g), c->m,
                     c->n, c->k, r, col, got[i], ref[i]);
            *ok = false;
        }
    }
done:
    nncl_buffer_free(da);
    nncl_buffer_free(db);
    nncl_buffer_free(dc);
    nncl_buffer_free(dbias);
    free(A), free(B), free(C0), free(ref), free(got), free(bias);
    return st;
}

nncl_status nncl_gemm_check_kernels(nncl_device *dev, const nncl_gemm_params *p, const nncl_gemm_kernels *ks, bool *ok,
                                    char *why, size_t why_len)
{
    *ok = true;
    uint64_t seed = 0x5eed;
    for (size_t i = 0; i < sizeof check_cases / sizeof check_cases[0] && *ok; i++)
        for (int form = 0; form < 4 && *ok; form++) {
            nncl_status st = check_one(dev, p, ks, &check_cases[i], form >> 1, form & 1, seed + i * 4 + (uint64_t)form,
                                       ok, why, why_len);
            if (st != NNCL_OK)
                return st;
        }
    return NNCL_OK;
}
