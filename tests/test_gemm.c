/* GEMM on every device against the plain-loop oracle (nncl_gemm_reference):
 * awkward shapes, all four transpose combinations, leading dimensions larger
 * than needed, view offsets, the bias + activation epilogue, beta, NaN/Inf
 * propagation, NaN-poisoned outputs, and refused out-of-bounds shapes.
 *
 * Tolerance: |c - ref| <= 8 * eps * (K * max|a| * max|b| * |alpha| + |beta c| + |bias|)
 * + 1e-30: the forward error bound of a K-term float dot product in any
 * summation order, gamma_K ~ K eps, scaled by the magnitude of the inputs.
 * A kernel that skips or doubles a term is off by about max|a||b|, orders of
 * magnitude more than this bound for K <= 2048. */
#include <float.h>
#include <stdio.h>

#include "ops/gemm_impl.h"
#include "ops/u8_head_host.h"
#include "test_util.h"

typedef struct gemm_case {
    size_t m, n, k;
    bool ta, tb;
    size_t pad;         /* extra columns in each leading dimension */
    size_t off;         /* element offset of every view */
    float alpha, beta;
    bool bias;
    nncl_act act;
} gemm_case;

static float max_abs(const float *x, size_t n)
{
    float m = 0;
    for (size_t i = 0; i < n; i++)
        if (fabsf(x[i]) > m && isfinite(x[i]))
            m = fabsf(x[i]);
    return m;
}

/* Run one case on dev and compare with the oracle; returns the worst error
 * relative to the bound (must be <= 1). */
static double run_case(nncl_device *dev, const gemm_case *c, uint64_t seed, const char *devname)
{
    size_t a_rows = c->ta ? c->k : c->m, a_cols = c->ta ? c->m : c->k;
    size_t b_rows = c->tb ? c->n : c->k, b_cols = c->tb ? c->k : c->n;
    size_t lda = a_cols + c->pad, ldb = b_cols + c->pad, ldc = c->n + c->pad;
    size_t a_n = c->off + a_rows * lda, b_n = c->off + b_rows * ldb, c_n = c->off + c->m * ldc;
    uint64_t s = seed;
    float *A = test_random(&s, a_n, -1, 1), *B = test_random(&s, b_n, -1, 1);
    float *C0 = test_random(&s, c_n, -1, 1), *bias = test_random(&s, c->off + c->n, -0.5f, 0.5f);
    float *ref = malloc(c_n * sizeof(float)), *got = malloc(c_n * sizeof(float));
    memcpy(ref, C0, c_n * sizeof(float));

    nncl_buffer *ba = test_upload(dev, A, a_n), *bb = test_upload(dev, B, b_n);
    nncl_buffer *bbias = test_upload(dev, bias, c->off + c->n);
    /* beta == 0: C must not be read, so it starts as NaN poison; otherwise it
     * starts as C0 with the padding poisoned (it must stay untouched). */
    nncl_buffer *bc = test_poisoned(dev, c_n);
    if (c->beta != 0.0f) {
        float *init = malloc(c_n * sizeof(float));
        for (size_t i = 0; i < c_n; i++)
            init[i] = NAN;
        for (size_t i = 0; i < c->m; i++)
            for (size_t j = 0; j < c->n; j++)
                init[c->off + i * ldc + j] = C0[c->off + i * ldc + j];
        ck_assert_ok(nncl_buffer_write(bc, 0, init, c_n * sizeof(float)));
        free(init);
    }
    nncl_gemm_args g = {
        .trans_a = c->ta, .trans_b = c->tb, .m = c->m, .n = c->n, .k = c->k, .alpha = c->alpha,
        .beta = c->beta, .a = nncl_view_of(ba, c->off), .lda = lda, .b = nncl_view_of(bb, c->off),
        .ldb = ldb, .c = nncl_view_of(bc, c->off), .ldc = ldc,
        .bias = c->bias ? nncl_view_of(bbias, c->off) : (nncl_view){0}, .act = c->act, .act_param = 0.1f,
    };
    ck_assert_ok(nncl_gemm(dev, &g));
    ck_assert_ok(nncl_buffer_read(bc, 0, got, c_n * sizeof(float)));
    nncl_gemm_reference(&g, A + c->off, B + c->off, ref + c->off, c->bias ? bias + c->off : NULL);

    double bound_base = 8.0 * FLT_EPSILON *
                        ((double)c->k * max_abs(A, a_n) * max_abs(B, b_n) * fabs(c->alpha) +
                         fabs(c->beta) * max_abs(C0, c_n) + (c->bias ? 0.5 : 0.0));
    double worst = 0;
    for (size_t i = 0; i < c_n; i++) {
        size_t r = i < c->off ? (size_t)-1 : (i - c->off) / ldc, col = i < c->off ? 0 : (i - c->off) % ldc;
        bool inside = i >= c->off && r < c->m && col < c->n;
        if (!inside) {
            if (!isnan(got[i]))
                ck_abort_msg("%s: gemm %zux%zux%zu %c%c wrote outside C at element %zu", devname, c->m, c->n,
                             c->k, c->ta ? 'T' : 'N', c->tb ? 'T' : 'N', i);
            continue;
        }
        if (isnan(ref[i]) || isnan(got[i])) {
            if (!(isnan(ref[i]) && isnan(got[i])))
                ck_abort_msg("%s: gemm %zux%zux%zu %c%c: C[%zu,%zu] = %g, expected %g", devname, c->m, c->n, c->k,
                             c->ta ? 'T' : 'N', c->tb ? 'T' : 'N', r, col, got[i], ref[i]);
            continue;
        }
        double err = fabs((double)got[i] - (double)ref[i]) / (bound_base + 1e-30);
        if (err > worst)
            worst = err;
        if (err > 1.0)
            ck_abort_msg("%s: gemm %zux%zux%zu %c%c pad %zu off %zu: C[%zu,%zu] = %.9g, expected %.9g (bound %.3g)",
                         devname, c->m, c->n, c->k, c->ta ? 'T' : 'N', c->tb ? 'T' : 'N', c->pad, c->off, r, col,
                         got[i], ref[i], bound_base);
    }
    nncl_buffer_free(ba);
    nncl_buffer_free(bb);
    nncl_buffer_free(bc);
    nncl_buffer_free(bbias);
    free(A);
    free(B);
    free(C0);
    free(bias);
    free(ref);
    free(got);
    return worst;
}

/* Every device, every transpose pair, awkward sizes. */
START_TEST(gemm_matches_reference_on_awkward_shapes)
{
    static const size_t sizes[][3] = {
        {1, 1, 1}, {1, 7, 3}, {7, 1, 31}, {3, 7, 1}, {31, 64, 7}, {64, 31, 129}, {129, 129, 64},
        {128, 10, 784}, {10, 784, 128}, {1000, 3, 31}, {7, 1000, 129}, {129, 784, 10},
    };
    nncl_device_list *list = test_devices();
    uint64_t seed = 1;
    for (int d = 0; d < list->count; d++) {
        nncl_device *dev = test_open(d);
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
            for (int t = 0; t < 4; t++) {
                size_t m = sizes[s][0], n = sizes[s][1], k = sizes[s][2];
                if (test_too_big(m * k) || test_too_big(k * n) || test_too_big(m * n))
                    continue;
                gemm_case c = {sizes[s][0], sizes[s][1], sizes[s][2], t & 1, (t >> 1) & 1, (s % 3), (s % 2) * 5,
                               1.0f, 0.0f, false, NNCL_ACT_IDENTITY};
                run_case(dev, &c, seed++, list->items[d].name);
            }
        nncl_device_close(dev);
    }
}
END_TEST

/* Larger and square shapes, including the bench's training shapes. */
START_TEST(gemm_matches_reference_on_training_shapes)
{
    static const gemm_case cases[] = {
        {128, 128, 784, false, true, 0, 0, 1, 0, true, NNCL_ACT_RELU},
        {128, 784, 128, false, false, 0, 0, 1, 0, false, NNCL_ACT_IDENTITY},
        {128, 784, 128, true, false, 0, 0, 1, 0, false, NNCL_ACT_IDENTITY},
        {256, 512, 784, false, true, 0, 0, 1, 0, true, NNCL_ACT_TANH},
        {1000, 1000, 1000, false, false, 1, 3, 1, 0, false, NNCL_ACT_IDENTITY},
    };
    nncl_device_list *list = test_devices();
    for (int d = 0; d < list->count; d++) {
        nncl_device *dev = test_open(d);
        for (size_t i = 0; i < sizeof cases / sizeof cases[0] && !test_small(); i++)
            run_case(dev, &cases[i], 100 + i, list->items[d].name);
        nncl_device_close(dev);
    }
}
END_TEST

/* Products of m*n*k >= 2^21 run on a CPU device as gemm_pack_b (and
 * gemm_pack_a) + gemm_packed_{n,p} when B is transposed or A is tall
 * (nncl_gemm_packing in src/ops/gemm.c): every
 * transpose pair, N a multiple of no panel width and N below one panel,
 * padded leading dimensions, an offset, alpha, beta, bias and an
 * activation; one after another, so the device's panel buffer grows and is
 * reused by a smaller product. Every device: elsewhere the plain kernels
 * must give the same answers. */
START_TEST(gemm_packed_form_on_every_transpose)
{
    static const size_t sizes[][3] = {{131, 97, 211}, {12, 1001, 175}, {500, 13, 331}, {64, 2050, 17},
                                      {400, 257, 33}, {131, 97, 211}};
    nncl_device_list *list = test_devices();
    uint64_t seed = 300;
    for (int d = 0; d < list->count; d++) {
        nncl_device *dev = test_open(d);
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0] && !test_small(); s++)
            for (int t = 0; t < 4; t++) {
                gemm_case c = {sizes[s][0], sizes[s][1], sizes[s][2], t & 1, (t >> 1) & 1, 3, 5, -0.5f,
                               t == 2 ? 0.0f : 0.5f, true, t == 3 ? NNCL_ACT_TANH : NNCL_ACT_RELU};
                run_case(dev, &c, seed++, list->items[d].name);
            }
        nncl_device_close(dev);
    }
}
END_TEST

/* The host backend cuts a product of m*n*k >= 2^21 into two halves of C
 * (rows when m >= n, else columns), one per core, and with more workers
 * into as many parts of at least 2^21 (src/ops/gemm.c; the row gemm-host-6
 * runs this with six): every transpose pair, both cuts, a single row or
 * column, padded leading dimensions, an offset, alpha, beta, bias and
 * ReLU, against the oracle. The last two are cut in five and six parts on
 * six workers, of uneven sizes. Host only: it is the host's cut under
 * test, and these sizes would take minutes on a simulated device. */
START_TEST(gemm_host_halves)
{
    static const size_t sizes[][3] = {{3, 5000, 160}, {1500, 7, 250}, {1, 4000, 600}, {2200, 1, 1000},
                                      {1501, 33, 250}, {41, 4999, 160}};
    nncl_device_list *list = test_devices();
    uint64_t seed = 900;
    for (int d = 0; d < list->count; d++) {
        if (list->items[d].backend != NNCL_BACKEND_HOST)
            continue;
        nncl_device *dev = test_open(d);
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
            for (int t = 0; t < 4; t++) {
                ck_assert(sizes[s][0] * sizes[s][1] * sizes[s][2] >= (1u << 21));
                gemm_case c = {sizes[s][0], sizes[s][1], sizes[s][2], t & 1, (t >> 1) & 1, 3, 5,
                               -0.75f, 0.5f, true, NNCL_ACT_RELU};
                run_case(dev, &c, seed++, list->items[d].name);
            }
        nncl_device_close(dev);
    }
}
END_TEST

/* alpha, beta, bias and every activation in the epilogue. */
START_TEST(gemm_epilogue)
{
    nncl_device_list *list = test_devices();
    uint64_t seed = 500;
    for (int d = 0; d < list->count; d++) {
        nncl_device *dev = test_open(d);
        for (int act = NNCL_ACT_IDENTITY; act <= NNCL_ACT_TANH; act++)
            for (int t = 0; t < 4; t++) {
                gemm_case c = {33, 17, 65, t & 1, (t >> 1) & 1, 2, 1, -0.75f, t == 3 ? 0.0f : 0.5f, act != 0,
                               (nncl_act)act};
                run_case(dev, &c, seed++, list->items[d].name);
            }
        nncl_device_close(dev);
    }
}
END_TEST

/* NaN and Inf in A reach exactly the outputs whose row uses them. */
START_TEST(gemm_propagates_nan_and_inf)
{
    nncl_device_list *list = test_devices();
    for (int d = 0; d < list->count; d++) {
        nncl_device *dev = test_open(d);
        enum { M = 9, N = 35, K = 20 };
        uint64_t s = 9;
        float *A = test_random(&s, M * K, -1, 1), *B = test_random(&s, K * N, 0.5f, 1);
        A[2 * K + 3] = NAN;     /* row 2: NaN everywhere */
        A[5 * K + 0] = INFINITY; /* row 5: +Inf times positive B: +Inf */
        nncl_buffer *ba = test_upload(dev, A, M * K), *bb = test_upload(dev, B, K * N), *bc = test_poisoned(dev, M * N);
        for (int act = NNCL_ACT_IDENTITY; act <= NNCL_ACT_RELU; act++) {
            nncl_gemm_args g = {.m = M, .n = N, .k = K, .alpha = 1, .a = nncl_view_of(ba, 0), .lda = K,
                                .b = nncl_view_of(bb, 0), .ldb = N, .c = nncl_view_of(bc, 0), .ldc = N,
                                .act = (nncl_act)act};
            ck_assert_ok(nncl_gemm(dev, &g));
            float C[M * N];
            ck_assert_ok(nncl_buffer_read(bc, 0, C, sizeof C));
            for (int i = 0; i < M; i++)
                for (int j = 0; j < N; j++) {
                    float v = C[i * N + j];
                    if (i == 2)
                        ck_assert_msg(isnan(v), "%s: NaN row lost (act %d): %g", list->items[d].name, act, v);
                    else if (i == 5)
                        ck_assert_msg(isinf(v) && v > 0, "%s: Inf row lost: %g", list->items[d].name, v);
                    else
                        ck_assert_msg(isfinite(v), "%s: finite row became %g", list->items[d].name, v);
                }
        }
        nncl_buffer_free(ba);
        nncl_buffer_free(bb);
        nncl_buffer_free(bc);
        free(A);
        free(B);
        nncl_device_close(dev);
    }
}
END_TEST

/* Shapes that do not fit their buffers are refused with a message. */
START_TEST(gemm_refuses_out_of_bounds)
{
    nncl_device_list *list = test_devices();
    for (int d = 0; d < list->count; d++) {
        nncl_device *dev = test_open(d);
        nncl_buffer *a = test_poisoned(dev, 64), *b = test_poisoned(dev, 64), *c = test_poisoned(dev, 64);
        nncl_gemm_args g = {.m = 8, .n = 8, .k = 8, .alpha = 1, .a = nncl_view_of(a, 0), .lda = 8,
                            .b = nncl_view_of(b, 0), .ldb = 8, .c = nncl_view_of(c, 0), .ldc = 8};
        ck_assert_ok(nncl_gemm(dev, &g));
        nncl_gemm_args bad = g;
        bad.m = 9;
        ck_assert_int_eq(nncl_gemm(dev, &bad), NNCL_E_INVALID);
        ck_assert_ptr_nonnull(strstr(nncl_last_error(), "gemm: A"));
        bad = g;
        bad.c.off = 1;
        ck_assert_int_eq(nncl_gemm(dev, &bad), NNCL_E_INVALID);
        ck_assert_ptr_nonnull(strstr(nncl_last_error(), "gemm: C"));
        bad = g;
        bad.ldb = 4;
        ck_assert_int_eq(nncl_gemm(dev, &bad), NNCL_E_INVALID);
        ck_assert_ptr_nonnull(strstr(nncl_last_error(), "leading dimension"));
        bad = g;
        bad.k = 0;
        ck_assert_int_eq(nncl_gemm(dev, &bad), NNCL_E_INVALID);
        bad = g;
        bad.bias = nncl_view_of(a, 60);
        ck_assert_int_eq(nncl_gemm(dev, &bad), NNCL_E_INVALID);
        ck_assert_ptr_nonnull(strstr(nncl_last_error(), "gemm: bias"));
        bad = g;
        bad.m = (size_t)1 << 40;
        ck_assert_int_eq(nncl_gemm(dev, &bad), NNCL_E_UNSUPPORTED);
        /* the epilogue's activation is checked as act_fwd's is */
        bad = g;
        bad.act = NNCL_ACT_LEAKY_RELU;
        bad.act_param = 0.0f;
        ck_assert_int_eq(nncl_gemm(dev, &bad), NNCL_E_INVALID);
        ck_assert_ptr_nonnull(strstr(nncl_last_error(), "gemm: leaky relu slope"));
        nncl_buffer_free(a);
        nncl_buffer_free(b);
        nncl_buffer_free(c);
        nncl_device_close(dev);
    }
}
END_TEST

/* linear_u8_fwd / _wgrad against their host twins (plain loops in double),
 * with a non-trivial shift and scale, on awkward shapes, outputs poisoned.
 * Tolerance as for gemm, with K = in (fwd) or rows (wgrad). */
static void check_linear_u8_zeros(nncl_device *dev, nncl_device *host, size_t rows, size_t in, size_t out,
                                  nncl_act act, bool indexed, bool shifted, size_t chunks, double zeros,
                                  size_t blank_every, const char *name)
{
    uint64_t s = rows * 7919 + in * 31 + out;
    /* With an index, the batch reads rows (with repeats) of a larger x. */
    size_t x_rows = indexed ? rows + 5 : rows;
    unsigned char *x = malloc(x_rows * in);
    /* a fraction `zeros` of the bytes 0 (a picture's background), the
     * others 1..255 */
    for (size_t i = 0; i < x_rows * in; i++) {
        uint64_t v = test_rand_u64(&s);
        x[i] = (double)(v >> 11) * 0x1p-53 < zeros ? 0 : (unsigned char)(1 + (v & 0xffff) % 255);
    }
    /* every blank_every-th row all zeros (0: none) */
    for (size_t r = 0; blank_every && r < x_rows; r += blank_every)
        memset(x + r * in, 0, in);
    int32_t *ix = malloc(rows * sizeof *ix);
    for (size_t i = 0; i < rows; i++)
        ix[i] = (int32_t)(test_rand_u64(&s) % x_rows);
    /* without a shift the host's loops skip the subtraction (MNIST's case) */
    float *sh = test_random(&s, in, 0, shifted ? 100 : 0), *sc = test_random(&s, in, 0.001f, 0.01f);
    float *w = test_random(&s, out * in, -1, 1), *b = test_random(&s, out, -1, 1);
    float *g = test_random(&s, rows * (out + 3), -1, 1);
    size_t ldy = out + 3;
    /* res[0]: the device under test; res[1]: the oracle, the double loops
     * (the host device's own ops are in float, u8_head_host.c and
     * u8_sparse_host.c, and are tested as a device here) */
    float *res[2][2];
    nncl_device *devs[2] = {dev, host};
    for (int d = 0; d < 2; d++) {
        nncl_buffer *bx, *bix;
        ck_assert_ok(nncl_buffer_alloc(devs[d], x_rows * in + 1, &bx));
        ck_assert_ok(nncl_buffer_write(bx, 1, x, x_rows * in));
        ck_assert_ok(nncl_buffer_alloc(devs[d], (rows + 2) * sizeof(int32_t), &bix));
        ck_assert_ok(nncl_buffer_write(bix, 2 * sizeof(int32_t), ix, rows * sizeof(int32_t)));
        nncl_view index = indexed ? nncl_view_of(bix, 2) : (nncl_view){0};
        nncl_buffer *bsh = test_upload(devs[d], sh, in), *bsc = test_upload(devs[d], sc, in);
        nncl_buffer *bw = test_upload(devs[d], w, out * in), *bb = test_upload(devs[d], b, out);
        nncl_buffer *bg = test_upload(devs[d], g, rows * ldy);
        nncl_buffer *by = test_poisoned(devs[d], rows * ldy), *bdw = test_poisoned(devs[d], out * in);
        /* chunks x out x in floats of room for partial sums (1: none). */
        nncl_buffer *bsc2 = test_poisoned(devs[d], chunks * out * in + 3);
        nncl_linear_u8_fwd_args f = {.x = nncl_view_of(bx, 1), .index = index, .x_rows = x_rows,
                                     .shift = nncl_view_of(bsh, 0), .scale = nncl_view_of(bsc, 0),
                                     .w = nncl_view_of(bw, 0), .b = nncl_view_of(bb, 0), .y = nncl_view_of(by, 0),
                                     .rows = rows, .in = in, .out = out, .ldy = ldy, .act = act, .act_param = 0.1f};
        nncl_linear_u8_wgrad_args wg = {.x = nncl_view_of(bx, 1), .index = index, .x_rows = x_rows,
                                        .shift = nncl_view_of(bsh, 0), .scale = nncl_view_of(bsc, 0),
                                        .g = nncl_view_of(bg, 0), .dw = nncl_view_of(bdw, 0), .rows = rows,
                                        .in = in, .out = out, .ldg = ldy,
                                        .scratch = chunks > 1 ? nncl_view_of(bsc2, 3) : (nncl_view){0},
                                        .scratch_len = chunks > 1 ? chunks * out * in : 0};
        ck_assert_ok(d == 0 ? nncl_linear_u8_fwd(devs[d], &f) : nncl_host_linear_u8_fwd_reference(host, &f));
        ck_assert_ok(d == 0 ? nncl_linear_u8_wgrad(devs[d], &wg) : nncl_host_linear_u8_wgrad_reference(host, &wg));
        res[d][0] = malloc(rows * ldy * sizeof(float));
        res[d][1] = malloc(out * in * sizeof(float));
        ck_assert_ok(nncl_buffer_read(by, 0, res[d][0], rows * ldy * sizeof(float)));
        ck_assert_ok(nncl_buffer_read(bdw, 0, res[d][1], out * in * sizeof(float)));
        nncl_buffer *all[] = {bx, bix, bsh, bsc, bw, bb, bg, by, bdw, bsc2};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
            nncl_buffer_free(all[i]);
    }
    /* |x'| <= 255 * 0.01 = 2.55 here; |w|, |g| <= 1. */
    double fwd_bound = 8.0 * FLT_EPSILON * ((double)in * 2.55 + 1.0);
    double wg_bound = 8.0 * FLT_EPSILON * (double)rows * 2.55;
    for (size_t i = 0; i < rows; i++)
        for (size_t c = 0; c < ldy; c++) {
            float a = res[0][0][i * ldy + c], e = res[1][0][i * ldy + c];
            if (c >= out) {
                if (!isnan(a))
                    ck_abort_msg("%s: linear_u8_fwd wrote padding y[%zu,%zu]", name, i, c);
            } else if (!(fabs((double)a - e) <= fwd_bound)) {
                ck_abort_msg("%s: linear_u8_fwd %zux%zu->%zu: y[%zu,%zu] = %.9g, host %.9g", name, rows, in, out, i, c,
                             a, e);
            }
        }
    for (size_t i = 0; i < out * in; i++)
        if (!(fabs((double)res[0][1][i] - res[1][1][i]) <= wg_bound))
            ck_abort_msg("%s: linear_u8_wgrad %zux%zu->%zu: dw[%zu] = %.9g, host %.9g", name, rows, in, out, i,
                         res[0][1][i], res[1][1][i]);
    for (int d = 0; d < 2; d++) {
        free(res[d][0]);
        free(res[d][1]);
    }
    free(x);
    free(ix);
    free(sh);
    free(sc);
    free(w);
    free(b);
    free(g);
}

static void check_linear_u8(nncl_device *dev, nncl_device *host, size_t rows, size_t in, size_t out,
                            nncl_act act, bool indexed, bool shifted, size_t chunks, const char *name)
{
    check_linear_u8_zeros(dev, host, rows, in, out, act, indexed, shifted, chunks, 1.0 / 256, 0, name);
}

START_TEST(linear_u8_matches_host)
{
    /* rows, in, out; in = 40 and 12 end in one vector's column block for
     * the 8- and 4-float shapes of the byte kernels (NNCL_U8_PARAMS) */
    static const size_t shapes[][3] = {{1, 1, 1},     {3, 7, 1},      {7, 31, 3},     {129, 784, 10},
                                       {64, 33, 11},  {1000, 129, 7}, {31, 784, 129}, {4099, 784, 10},
                                       {37, 40, 6},   {9, 12, 3}};
    nncl_device_list *list = test_devices();
    nncl_device *host = test_open(list->count - 1);
    for (int d = 0; d < list->count; d++) { /* the host's float forward included */
        nncl_device *dev = test_open(d);
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
            for (int indexed = 0; indexed < 2 && !test_too_big(shapes[s][0] * shapes[s][1]); indexed++)
                check_linear_u8(dev, host, shapes[s][0], shapes[s][1], shapes[s][2], (nncl_act)(s % 5),
                                indexed, s % 2 == 0, indexed ? 64 : (s % 3) + 1, list->items[d].name);
        nncl_device_close(dev);
    }
    nncl_device_close(host);
}
END_TEST

/* Mostly zero bytes, as a picture's: the host reads only the nonzero ones
 * (u8_sparse_host.c) for the weight gradient, and for the forward from 32
 * outputs up, in unit blocks of 32 to 128 outputs (partial ones here), in
 * passes of 2,048 rows (4,100 rows: three), in pieces of 64 rows; a shift
 * or a piece more than a third nonzero sends a pass the dense way (the
 * float copy and the host gemm). Every device against the double loops. */
START_TEST(linear_u8_sparse_matches_host)
{
    static const struct {
        size_t rows, in, out;
        double zeros;
        bool shifted;
        size_t blank_every;
    } cases[] = {
        {130, 784, 70, 0.81, false, 0},  /* MNIST's density, a partial unit block */
        {128, 784, 256, 0.81, false, 0}, /* the bare run's layer */
        {65, 9, 33, 0.7, false, 0},      /* in < 8: no whole 8 x 8 block of W */
        {200, 300, 257, 0.9, false, 0},  /* one unit past a block */
        {4100, 100, 40, 0.8, false, 0},  /* three passes, the gradient's added */
        {1, 784, 32, 0.95, false, 0},    /* one row */
        {77, 200, 48, 0.0, false, 0},    /* dense bytes: the dense way */
        {96, 130, 64, 0.6, false, 0},    /* 40% nonzero: over a third, dense */
        {150, 784, 40, 0.81, true, 0},   /* a shift: dense */
        {70, 50, 5, 0.8, false, 0},      /* a narrow gradient, one partial block */
        /* the rows the sample reads (0, 16, ..., 112) blank, the others half
         * nonzero: the listing starts and finds the pieces dense */
        {128, 100, 40, 0.5, false, 16},
    };
    nncl_device_list *list = test_devices();
    nncl_device *host = test_open(list->count - 1);
    for (int d = 0; d < list->count; d++) {
        nncl_device *dev = test_open(d);
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
            for (int indexed = 0; indexed < 2 && !test_too_big(cases[c].rows * cases[c].in); indexed++)
                check_linear_u8_zeros(dev, host, cases[c].rows, cases[c].in, cases[c].out, (nncl_act)(c % 5),
                                      indexed, cases[c].shifted, 1, cases[c].zeros, cases[c].blank_every,
                                      list->items[d].name);
        nncl_device_close(dev);
    }
    nncl_device_close(host);
}
END_TEST

/* An index outside x: NaN rows on OpenCL devices, refused on host. */
START_TEST(linear_u8_bad_index)
{
    nncl_device_list *list = test_devices();
    for (int d = 0; d < list->count; d++) {
        nncl_device *dev = test_open(d);
        unsigned char x[3 * 4] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
        int32_t ix[2] = {1, 3};
        float ones[4] = {1, 1, 1, 1}, zeros[4] = {0};
        nncl_buffer *bx, *bix;
        ck_assert_ok(nncl_buffer_alloc(dev, sizeof x, &bx));
        ck_assert_ok(nncl_buffer_write(bx, 0, x, sizeof x));
        ck_assert_ok(nncl_buffer_alloc(dev, sizeof ix, &bix));
        ck_assert_ok(nncl_buffer_write(bix, 0, ix, sizeof ix));
        nncl_buffer *sh = test_upload(dev, zeros, 4), *sc = test_upload(dev, ones, 4);
        nncl_buffer *w = test_upload(dev, ones, 4), *b = test_upload(dev, zeros, 1), *y = test_poisoned(dev, 2);
        nncl_linear_u8_fwd_args f = {.x = nncl_view_of(bx, 0), .index = nncl_view_of(bix, 0), .x_rows = 3,
                                     .shift = nncl_view_of(sh, 0), .scale = nncl_view_of(sc, 0),
                                     .w = nncl_view_of(w, 0), .b = nncl_view_of(b, 0), .y = nncl_view_of(y, 0),
                                     .rows = 2, .in = 4, .out = 1, .ldy = 1};
        nncl_status st = nncl_linear_u8_fwd(dev, &f);
        /* wgrad over the same rows with g = 1: the bad row makes every dw NaN.
         * x is read as 3 rows of 48 bytes here (zeros past the first 12), so
         * that the kernel's 32- and 16-column loops both meet the bad row. */
        unsigned char xw[3 * 48] = {0};
        memcpy(xw, x, sizeof x);
        float zw[48] = {0}, ow[48];
        for (int j = 0; j < 48; j++)
            ow[j] = 1;
        nncl_buffer *bxw, *shw = test_upload(dev, zw, 48), *scw = test_upload(dev, ow, 48);
        ck_assert_ok(nncl_buffer_alloc(dev, sizeof xw, &bxw));
        ck_assert_ok(nncl_buffer_write(bxw, 0, xw, sizeof xw));
        nncl_buffer *g = test_upload(dev, ones, 2), *dw = test_poisoned(dev, 48);
        nncl_linear_u8_wgrad_args wg = {.x = nncl_view_of(bxw, 0), .index = nncl_view_of(bix, 0), .x_rows = 3,
                                        .shift = nncl_view_of(shw, 0), .scale = nncl_view_of(scw, 0),
                                        .g = nncl_view_of(g, 0), .dw = nncl_view_of(dw, 0), .rows = 2, .in = 48,
                                        .out = 1, .ldg = 1};
        if (list->items[d].backend == NNCL_BACKEND_HOST) {
            ck_assert_int_eq(st, NNCL_E_INVALID);
            ck_assert_ptr_nonnull(strstr(nncl_last_error(), "index[1] = 3"));
            ck_assert_int_eq(nncl_linear_u8_wgrad(dev, &wg), NNCL_E_INVALID);
        } else {
            ck_assert_ok(st);
            float out[2];
            ck_assert_ok(nncl_buffer_read(y, 0, out, sizeof out));
            ck_assert_float_eq(out[0], 5 + 6 + 7 + 8);
            ck_assert(isnan(out[1]));
            ck_assert_ok(nncl_linear_u8_wgrad(dev, &wg));
            float dws[48];
            ck_assert_ok(nncl_buffer_read(dw, 0, dws, sizeof dws));
            for (int j = 0; j < 48; j++)
                ck_assert_msg(isnan(dws[j]), "linear_u8_wgrad: dw[%d] = %g with a bad index", j, dws[j]);
        }
        nncl_buffer *all[] = {bx, bix, sh, sc, w, b, y, bxw, shw, scw, g, dw};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
            nncl_buffer_free(all[i]);
        nncl_device_close(dev);
    }
}
END_TEST

/* gather without x: labels (or targets) only, for the byte path. */
START_TEST(gather_labels_only)
{
    nncl_device_list *list = test_devices();
    for (int d = 0; d < list->count; d++) {
        nncl_device *dev = test_open(d);
        int32_t labels[5] = {10, 11, 12, 13, 14}, ix[3] = {4, 0, 2}, got[3];
        unsigned char data[5 * 2] = {0};
        float z[2] = {0};
        nncl_buffer *bl, *bix, *blo, *bd;
        ck_assert_ok(nncl_buffer_alloc(dev, sizeof labels, &bl));
        ck_assert_ok(nncl_buffer_write(bl, 0, labels, sizeof labels));
        ck_assert_ok(nncl_buffer_alloc(dev, sizeof ix, &bix));
        ck_assert_ok(nncl_buffer_write(bix, 0, ix, sizeof ix));
        ck_assert_ok(nncl_buffer_alloc(dev, sizeof got, &blo));
        ck_assert_ok(nncl_buffer_alloc(dev, sizeof data, &bd));
        nncl_buffer *sz = test_upload(dev, z, 2);
        nncl_gather_args g = {.data = nncl_view_of(bd, 0), .u8 = true, .data_rows = 5, .cols = 2,
                              .index = nncl_view_of(bix, 0), .rows = 3, .shift = nncl_view_of(sz, 0),
                              .scale = nncl_view_of(sz, 0), .labels = nncl_view_of(bl, 0),
                              .labels_out = nncl_view_of(blo, 0)};
        ck_assert_ok(nncl_gather(dev, &g));
        ck_assert_ok(nncl_buffer_read(blo, 0, got, sizeof got));
        ck_assert_int_eq(got[0], 14);
        ck_assert_int_eq(got[1], 10);
        ck_assert_int_eq(got[2], 12);
        g.labels = g.labels_out = (nncl_view){0};
        ck_assert_int_eq(nncl_gather(dev, &g), NNCL_E_INVALID); /* nothing to gather */
        nncl_buffer *all[] = {bl, bix, blo, bd, sz};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
            nncl_buffer_free(all[i]);
        nncl_device_close(dev);
    }
}
END_TEST

/* The oracle itself, on a case worked by hand. */
START_TEST(reference_by_hand)
{
    /* A = [1 2; 3 4], B = [5 6; 7 8]: A B = [19 22; 43 50]; with alpha 2,
     * bias [-40, 0] and relu: [0 44; 46 100]. A^T B = [26 30; 38 44]. */
    float A[4] = {1, 2, 3, 4}, B[4] = {5, 6, 7, 8}, bias[2] = {-40, 0}, C[4];
    nncl_gemm_args g = {.m = 2, .n = 2, .k = 2, .alpha = 2, .lda = 2, .ldb = 2, .ldc = 2, .act = NNCL_ACT_RELU};
    nncl_gemm_reference(&g, A, B, C, bias);
    ck_assert_float_eq(C[0], 0);
    ck_assert_float_eq(C[1], 44);
    ck_assert_float_eq(C[2], 46);
    ck_assert_float_eq(C[3], 100);
    nncl_gemm_args t = {.trans_a = true, .m = 2, .n = 2, .k = 2, .alpha = 1, .lda = 2, .ldb = 2, .ldc = 2};
    nncl_gemm_reference(&t, A, B, C, NULL);
    ck_assert_float_eq(C[0], 26);
    ck_assert_float_eq(C[1], 30);
    ck_assert_float_eq(C[2], 38);
    ck_assert_float_eq(C[3], 44);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("gemm");
    TCase *t = tcase_create("gemm");
    tcase_set_timeout(t, 600);
    tcase_add_test(t, reference_by_hand);
    tcase_add_test(t, gemm_matches_reference_on_awkward_shapes);
    tcase_add_test(t, gemm_matches_reference_on_training_shapes);
    tcase_add_test(t, gemm_packed_form_on_every_transpose);
    tcase_add_test(t, gemm_host_halves);
    tcase_add_test(t, gemm_epilogue);
    tcase_add_test(t, gemm_propagates_nan_and_inf);
    tcase_add_test(t, gemm_refuses_out_of_bounds);
    tcase_add_test(t, gather_labels_only);
    suite_add_tcase(s, t);
    /* its own case: meson.build runs it alone (CK_RUN_CASE) on every shape
     * of the byte kernels */
    TCase *u8 = tcase_create("linear_u8");
    tcase_set_timeout(u8, 300);
    tcase_add_test(u8, linear_u8_matches_host);
    tcase_add_test(u8, linear_u8_sparse_matches_host);
    tcase_add_test(u8, linear_u8_bad_index);
    suite_add_tcase(s, u8);
    return test_run_suite(s);
}
