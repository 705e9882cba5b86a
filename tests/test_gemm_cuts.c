/* What the host GEMM's cut into parts of C rests on (src/ops/gemm.c): with
 * OpenBLAS single-threaded, a part of C of at least 2^21 multiply-adds and
 * 16 rows (columns) comes out bit for bit as the same rows (columns) of the
 * whole product, so the host's bits do not depend on how many workers cut
 * it. Checked here on this machine's OpenBLAS, every transpose, the cut by
 * rows and by columns, 2 to 16 parts as host_gemm_parts allows them: a
 * build of OpenBLAS that rounded a part differently (its small-matrix
 * kernels, taken below some size) would fail here before it changed a
 * user's results. Without OpenBLAS the host runs the plain loop: skipped. */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nncl_config.h"

#if NNCL_HAVE_CBLAS
#include <cblas.h>

static float next_uniform(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (float)((*s >> 40) * (1.0 / 16777216.0)) * 2.0f - 1.0f;
}

static void sgemm(bool ta, bool tb, size_t m, size_t n, size_t k, const float *A, size_t lda, const float *B,
                  size_t ldb, float *C, size_t ldc)
{
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)m, (int)n,
                (int)k, 1.0f, A, (int)lda, B, (int)ldb, 0.0f, C, (int)ldc);
}

START_TEST(parts_of_c_are_the_whole_bit_for_bit)
{
    openblas_set_num_threads(1);
    /* training shapes (784-128-10 and 784-512 at batches 128 and 256, a
     * conv's patch product), tall and wide, primes and odd sizes */
    static const size_t shapes[][3] = {{128, 784, 128}, {256, 784, 512}, {512, 784, 256}, {128, 256, 784},
                                       {300, 300, 300}, {257, 129, 513}, {2048, 100, 300}, {64, 4096, 64},
                                       {4096, 33, 129}, {37, 1000, 300}, {1501, 33, 250}, {41, 4999, 160}};
    int checked = 0;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int t = 0; t < 4; t++) {
            bool ta = t & 1, tb = t >> 1;
            size_t m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
            size_t lda = ta ? m : k, ldb = tb ? k : n;
            float *A = malloc(m * k * sizeof *A), *B = malloc(k * n * sizeof *B);
            float *whole = malloc(m * n * sizeof *whole), *cut = malloc(m * n * sizeof *cut);
            ck_assert(A && B && whole && cut);
            uint64_t seed = 17 + s * 4 + (uint64_t)t;
            for (size_t i = 0; i < m * k; i++)
                A[i] = next_uniform(&seed);
            for (size_t i = 0; i < k * n; i++)
                B[i] = next_uniform(&seed);
            sgemm(ta, tb, m, n, k, A, lda, B, ldb, whole, n);
            bool by_rows = m >= n;
            size_t lines = by_rows ? m : n;
            double mnk = (double)m * (double)n * (double)k;
            for (size_t parts = 2; parts <= 16; parts++) {
                if (parts > 2 && (mnk / (double)parts < (1 << 21) || lines / parts < 16))
                    break;
                memset(cut, 0xff, m * n * sizeof *cut);
                for (size_t p = 0; p < parts; p++) {
                    size_t lo = (lines * p + parts - 1) / parts, hi = (lines * (p + 1) + parts - 1) / parts;
                    if (by_rows)
                        sgemm(ta, tb, hi - lo, n, k, A + (ta ? lo : lo * lda), lda, B, ldb, cut + lo * n, n);
                    else
                        sgemm(ta, tb, m, hi - lo, k, A, lda, B + (tb ? lo * ldb : lo), ldb, cut + lo, n);
                }
                ck_assert_msg(memcmp(whole, cut, m * n * sizeof *cut) == 0,
                              "%zux%zux%zu, transposes %d%d, cut by %s into %zu parts: not the whole's bits", m, n,
                              k, ta, tb, by_rows ? "rows" : "columns", parts);
                checked++;
            }
            free(A), free(B), free(whole), free(cut);
        }
    ck_assert_int_gt(checked, 100);
}
END_TEST
#endif

int main(void)
{
#if NNCL_HAVE_CBLAS
    Suite *s = suite_create("gemm_cuts");
    TCase *t = tcase_create("cuts");
    tcase_set_timeout(t, 300);
    tcase_add_test(t, parts_of_c_are_the_whole_bit_for_bit);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
#else
    return 77;
#endif
}
