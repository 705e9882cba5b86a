/* The host's matrix path (src/ops/u8_amx_host.h): its pieces against plain
 * loops here, exactly where the arithmetic is exact. The whole step on it
 * is tested with every device in test_linear_u8_head (the default there on
 * a CPU with AMX; NNCL_U8H_AMX=off and the test rows of tests/meson.build
 * keep the vector loops tested too). Skipped (exit 77) where the CPU or the
 * build has no AMX, or Linux refuses the tile state.
 *
 * What is checked:
 * - the fixed point: every digit is a byte; sum_l d_l 256^(4-l) times the
 *   unit's scale is within half a step (m/Q/2) of the value; units and
 *   inputs past the shape are zero;
 * - the gather: the rows by row, zeros past `in` and past n; the
 *   interleaved copy at the places nncl_u8a_column names;
 * - the forward and the weight gradient: each output within one float
 *   rounding (2^-24 relative, plus the double combination's 2^-52) of the
 *   exact integer sum of the bytes and the quantized values, computed here
 *   in int64 from the digits, on awkward shapes (in 100, 64, 1, 200; rows
 *   not a multiple of 16 or 64). */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nncl/device.h"
#include "nncl_config.h"
#include "ops/u8_amx_host.h"
#include "test_util.h"

#if NNCL_HAVE_AMX_KERNELS

/* The value digits d (l = 0 most significant) stand for */
static int64_t value_of(const int8_t *d, size_t stride)
{
    int64_t v = 0;
    for (int l = 0; l < U8A_LIMBS; l++)
        v = v * 256 + d[(size_t)l * stride];
    return v;
}

/* w's quantized value at unit j, input k (wq's layout, u8_amx_host.h) */
static int64_t wq_at(const int8_t *wq, size_t j, size_t k)
{
    return value_of(wq + (k / 64) * U8A_LIMBS * U8A_TILE + (k % 64) / 4 * 64 + j * 4 + k % 4, U8A_TILE);
}

static int64_t gq_at(const int8_t *gq, size_t j, size_t r)
{
    return value_of(gq + (r / 64) * U8A_LIMBS * U8A_TILE + j * 64 + r % 64, U8A_TILE);
}

static void *aligned(size_t bytes)
{
    void *p = aligned_alloc(64, (bytes + 63) / 64 * 64);
    ck_assert_ptr_nonnull(p);
    memset(p, 0xa5, (bytes + 63) / 64 * 64); /* poisoned: every byte used must be written */
    return p;
}

/* |got - want| within float's rounding of want (and of the double sum) */
static void assert_rounded(const char *what, size_t a, size_t b, float got, double want)
{
    double tol = fabs(want) * (0x1p-24 + 0x1p-50) + 1e-300;
    ck_assert_msg(fabs((double)got - want) <= tol, "%s[%zu][%zu] is %.9g, exact %.17g", what, a, b, (double)got,
                  want);
}

static const size_t INS[] = {100, 64, 1, 200};

START_TEST(quantize_w_is_the_value_to_half_a_step)
{
    uint64_t s = 0x5eed;
    for (size_t t = 0; t < sizeof INS / sizeof INS[0]; t++) {
        const size_t in = INS[t], kp = nncl_u8a_kp(in), units = 10;
        float *w = malloc(units * in * sizeof *w);
        for (size_t i = 0; i < units * in; i++) /* magnitudes over 12 decades, both signs, some zeros */
            w[i] = i % 7 == 3 ? 0.0f : test_rand_float(&s, -1, 1) * powf(10.0f, (float)(i % 13) - 6.0f);
        for (size_t k = 0; k < in; k++) /* unit 4 all zeros */
            w[4 * in + k] = 0.0f;
        int8_t *wq = aligned(U8A_LIMBS * 16 * kp);
        double sw[16];
        nncl_u8a_quantize_w(w, units, in, wq, sw);
        ck_assert(sw[4] == 0.0);
        for (size_t j = 0; j < 16; j++)
            for (size_t k = 0; k < kp; k++) {
                int64_t q = wq_at(wq, j, k);
                if (j >= units || k >= in) {
                    ck_assert_msg(q == 0, "in %zu: unit %zu input %zu past the shape is %lld", in, j, k, (long long)q);
                    continue;
                }
                double m = sw[j] * 127.0 * 4311810305.0, err = fabs((double)q * sw[j] - (double)w[j * in + k]);
                ck_assert_msg(err <= sw[j] * 0.5000001 + 1e-300,
                              "in %zu: w[%zu][%zu] = %.9g quantized to %.17g (unit max %.9g)", in, j, k,
                              (double)w[j * in + k], (double)q * sw[j], m);
            }
        free(w);
        free(wq);
    }
}
END_TEST

/* n random rows of `in` bytes, most of them zero as in a picture */
static uint8_t *random_rows(uint64_t *s, size_t n, size_t in)
{
    uint8_t *x = malloc(n * in);
    for (size_t i = 0; i < n * in; i++)
        x[i] = test_rand_float(s, 0, 1) < 0.7f ? 0 : (uint8_t)(1 + test_rand_u64(s) % 255);
    return x;
}

START_TEST(gather_copies_and_interleaves)
{
    uint64_t s = 0x9a7;
    for (size_t t = 0; t < sizeof INS / sizeof INS[0]; t++) {
        const size_t in = INS[t], kp = nncl_u8a_kp(in), n = 75, n64 = 128, src_rows = 90;
        uint8_t *x = random_rows(&s, src_rows, in);
        const uint8_t *rows[75];
        size_t pick[75];
        for (size_t r = 0; r < n; r++) {
            pick[r] = (r * 37 + 11) % src_rows; /* an index's order */
            rows[r] = x + pick[r] * in;
        }
        uint8_t *xa = aligned(n64 * kp), *xi = aligned(n64 * kp);
        nncl_u8a_gather(rows, n, in, kp, xa, xi);
        for (size_t r = 0; r < n64; r++)
            for (size_t k = 0; k < kp; k++) {
                uint8_t want = r < n && k < in ? x[pick[r] * in + k] : 0;
                ck_assert_msg(xa[r * kp + k] == want, "in %zu: xa[%zu][%zu] is %u, want %u", in, r, k, xa[r * kp + k],
                              want);
                /* tile (r/64, column tile), row (r % 64) / 4, byte n*4 + r % 4 */
                size_t at = nncl_u8a_column(k, 0), ct = at / 256, pos = at % 16;
                uint8_t got = xi[((r / 64) * (kp / 64) * 4 + ct) * U8A_TILE + (r % 64) / 4 * 64 + pos * 4 + r % 4];
                ck_assert_msg(got == want, "in %zu: interleaved row %zu column %zu is %u, want %u", in, r, k, got,
                              want);
            }
        free(x);
        free(xa);
        free(xi);
    }
}
END_TEST

START_TEST(forward_is_the_exact_sum_rounded)
{
    uint64_t s = 0xf00d;
    for (size_t t = 0; t < sizeof INS / sizeof INS[0]; t++) {
        const size_t in = INS[t], kp = nncl_u8a_kp(in), n = 45, n64 = 64, units = 13;
        uint8_t *x = random_rows(&s, n, in);
        for (size_t k = 0; k < in; k++) /* a row of 255s: the largest sums */
            x[7 * in + k] = 255;
        float *w = test_random(&s, units * in, -3, 3);
        int8_t *wq = aligned(U8A_LIMBS * 16 * kp);
        double sw[16];
        nncl_u8a_quantize_w(w, units, in, wq, sw);
        const uint8_t *rows[45];
        for (size_t r = 0; r < n; r++)
            rows[r] = x + r * in;
        uint8_t *xa = aligned(n64 * kp), *xi = aligned(n64 * kp);
        nncl_u8a_gather(rows, n, in, kp, xa, xi);
        int32_t *sums = aligned(U8A_LIMBS * 256 * sizeof(int32_t));
        float *out = aligned(48 * 16 * sizeof(float));
        nncl_u8a_tiles_on();
        nncl_u8a_fwd(xa, 48, kp, wq, sw, sums, out);
        nncl_u8a_tiles_off();
        for (size_t r = 0; r < n; r++)
            for (size_t j = 0; j < 16; j++) {
                int64_t acc = 0;
                for (size_t k = 0; k < in; k++)
                    acc += (int64_t)x[r * in + k] * wq_at(wq, j, k);
                assert_rounded("forward", r, j, out[r * 16 + j], (double)acc * sw[j]);
            }
        free(x);
        free(w);
        free(wq);
        free(xa);
        free(xi);
        free(sums);
        free(out);
    }
}
END_TEST

START_TEST(weight_gradient_is_the_exact_sum_rounded)
{
    uint64_t s = 0x6aad;
    for (size_t t = 0; t < sizeof INS / sizeof INS[0]; t++) {
        const size_t in = INS[t], kp = nncl_u8a_kp(in), n = 150, n64 = 192;
        uint8_t *x = random_rows(&s, n, in);
        const uint8_t *rows[150];
        for (size_t r = 0; r < n; r++)
            rows[r] = x + r * in;
        /* g by unit, n64 lanes (zeros past n, as the step leaves them);
         * unit 2 all zeros, unit 5 over many decades */
        float *g = calloc(16 * n64, sizeof *g);
        for (size_t j = 0; j < 16; j++)
            for (size_t r = 0; r < n; r++)
                g[j * n64 + r] = j == 2 ? 0.0f
                                        : test_rand_float(&s, -1, 1) * (j == 5 ? powf(10.0f, (float)(r % 9) - 8) : 1e-3f);
        int8_t *gq = aligned(U8A_LIMBS * 16 * n64);
        double sg[16];
        nncl_u8a_quantize_g(g, n64, n64, gq, sg);
        ck_assert(sg[2] == 0.0);
        for (size_t j = 0; j < 16; j++)
            for (size_t r = 0; r < n64; r++) {
                double err = fabs((double)gq_at(gq, j, r) * sg[j] - (double)g[j * n64 + r]);
                ck_assert_msg(err <= sg[j] * 0.5000001 + 1e-300, "g[%zu][%zu] = %.9g quantized off by %.3g", j, r,
                              (double)g[j * n64 + r], err);
            }
        uint8_t *xa = aligned(n64 * kp), *xi = aligned(n64 * kp);
        nncl_u8a_gather(rows, n, in, kp, xa, xi);
        int32_t *sums = aligned(U8A_LIMBS * 256 * sizeof(int32_t));
        /* the accumulator starts at 1: the sums are added to it */
        float *acc = malloc(16 * kp * sizeof *acc);
        for (size_t i = 0; i < 16 * kp; i++)
            acc[i] = 1.0f;
        nncl_u8a_tiles_on();
        nncl_u8a_wgrad(xi, n64, kp, gq, sg, sums, acc);
        nncl_u8a_tiles_off();
        for (size_t k = 0; k < in; k++)
            for (size_t j = 0; j < 16; j++) {
                int64_t dot = 0;
                for (size_t r = 0; r < n; r++)
                    dot += gq_at(gq, j, r) * x[r * in + k];
                /* 1 + the sum rounded to float, then the addition rounded */
                double sum = (double)(float)((double)dot * sg[j]);
                float got = acc[nncl_u8a_column(k, j)];
                ck_assert_msg(fabs((double)got - (1.0 + sum)) <= (fabs(sum) * (0x1p-24 + 0x1p-50) + (1.0 + fabs(sum)) * 0x1p-24),
                              "dW^T[%zu][%zu] is %.9g, 1 + exact %.17g", j, k, (double)got, 1.0 + (double)dot * sg[j]);
            }
        free(x);
        free(g);
        free(gq);
        free(xa);
        free(xi);
        free(sums);
        free(acc);
    }
}
END_TEST

int main(void)
{
    if (!nncl_host_amx()) {
        fprintf(stderr, "test_u8_amx: no AMX here (CPU, build or kernel): skipped\n");
        return 77;
    }
    Suite *s = suite_create("u8_amx");
    TCase *tc = tcase_create("u8_amx");
    tcase_add_test(tc, quantize_w_is_the_value_to_half_a_step);
    tcase_add_test(tc, gather_copies_and_interleaves);
    tcase_add_test(tc, forward_is_the_exact_sum_rounded);
    tcase_add_test(tc, weight_gradient_is_the_exact_sum_rounded);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}

#else

int main(void)
{
    fprintf(stderr, "test_u8_amx: built without the AMX kernels: skipped\n");
    return 77;
}

#endif
