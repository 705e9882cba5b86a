/* `nncl check`: each op on the device against its host twin, on fresh random
 * inputs of awkward shapes (drawn from the run's seed and the op's name, so
 * `--seed` repeats them). Outputs start as NaN poison with poisoned padding
 * after them and device views at a nonzero offset, so an element written
 * out of place or never written shows up. The tolerances are the unit
 * tests' (tests/test_ops.c, test_gemm.c, test_head.c), stated beside each
 * op; the byte-input and fused ops are in check_ops_fused.c. */
#include <float.h>
#include <math.h>
#include <stdio.h>

#include "cli/check.h"
#include "ops/kernel_params.h"

static bool transcendental(nncl_act act)
{
    return act == NNCL_ACT_SIGMOID || act == NNCL_ACT_TANH;
}

/* ---- fill: exact ------------------------------------------------------------ */

nncl_status check_op_fill(check_ctx *c, check_row *r)
{
    size_t n = check_size_up_to(c, 100003, 4099);
    float value = check_uniform(&c->rng, -10, 10);
    snprintf(r->shape, sizeof r->shape, "n=%zu", n);
    check_side s[2];
    float *out[2];
    check_sides_open(c, s);
    for (int k = 0; k < 2; k++) {
        nncl_fill_args a = {check_side_put(&s[k], NULL, n, 4), n, value};
        CHECK_RUN(&s[k], fill, a);
        out[k] = check_side_floats(c, &s[k], a.y, n);
    }
    if (check_sides_ok(r, &s[0], &s[1]))
        check_compare(c, r, "y", out[0], out[1], n, 0, 0);
    return check_done(c, s);
}

/* ---- fma_chains: exact (every step one rounding) ------------------------------- */

nncl_status check_op_fma_chains(check_ctx *c, check_row *r)
{
    size_t n = check_size_up_to(c, 20011, 1001);
    int iters = (int)check_uniform(&c->rng, 0, 300);
    float m = check_uniform(&c->rng, -0.999f, 0.999f), add = check_uniform(&c->rng, -2, 2);
    snprintf(r->shape, sizeof r->shape, "n=%zu iters=%d", n, iters);
    check_side s[2];
    float *out[2];
    check_sides_open(c, s);
    for (int k = 0; k < 2; k++) {
        nncl_fma_chains_args a = {check_side_put(&s[k], NULL, n, 4), n, iters, m, add};
        CHECK_RUN(&s[k], fma_chains, a);
        out[k] = check_side_floats(c, &s[k], a.out, n);
    }
    if (check_sides_ok(r, &s[0], &s[1]))
        check_compare(c, r, "out", out[0], out[1], n, 0, 0);
    return check_done(c, s);
}

/* ---- gemm ---------------------------------------------------------------------
 * |c - ref| <= 8 eps (K max|a| max|b| |alpha| + |beta| max|C0| + max|bias|): the
 * forward error bound of a K-term float dot product in any summation order;
 * plus 2e-6 relative for the ulps of exp and tanh in a sigmoid or tanh
 * epilogue (both 1-Lipschitz, so the bound carries through them). */

static nncl_status gemm_row(check_ctx *c, check_row *r, size_t m, size_t n, size_t k)
{
    bool ta = nncl_rng_below(&c->rng, 2), tb = nncl_rng_below(&c->rng, 2), bias = nncl_rng_below(&c->rng, 2);
    nncl_act act = (nncl_act)nncl_rng_below(&c->rng, 5);
    static const float alphas[] = {1.0f, -0.75f, 2.0f}, betas[] = {0.0f, 0.0f, 0.5f};
    float alpha = alphas[nncl_rng_below(&c->rng, 3)], beta = betas[nncl_rng_below(&c->rng, 3)];
    size_t pad = nncl_rng_below(&c->rng, 3);
    size_t a_rows = ta ? k : m, a_cols = ta ? m : k, b_rows = tb ? n : k, b_cols = tb ? k : n;
    size_t lda = a_cols + pad, ldb = b_cols + pad, ldc = n + pad;
    size_t a_n = a_rows * lda, b_n = b_rows * ldb, c_n = m * ldc;
    snprintf(r->shape, sizeof r->shape, "%zux%zux%zu %c%c %s%s%s", m, n, k, ta ? 'T' : 'N', tb ? 'T' : 'N',
             check_act_name((nncl_act)act), bias ? " bias" : "", beta != 0 ? " beta" : "");
    float *A = check_random(c, a_n, -1, 1), *B = check_random(c, b_n, -1, 1);
    float *C0 = check_random(c, c_n, -1, 1), *bv = check_random(c, n, -0.5f, 0.5f);
    if (c->nomem)
        return check_nomem();
    double atol = 8.0 * FLT_EPSILON *
                  ((double)k * check_max_abs(A, a_n) * check_max_abs(B, b_n) * fabs(alpha) + fabs(beta) * check_max_abs(C0, c_n) +
                   (bias ? check_max_abs(bv, n) : 0.0));
    check_side s[2];
    check_sides_open(c, s);
    for (int pass = 0; pass < check_act_passes(act); pass++) { /* check.h: relu hides what it clamps */
        float *out[2];
        for (int d = 0; d < 2; d++) {
            nncl_gemm_args g = {
                .trans_a = ta, .trans_b = tb, .m = m, .n = n, .k = k, .alpha = alpha, .beta = beta,
                .a = check_side_put(&s[d], A, a_n, 4), .lda = lda, .b = check_side_put(&s[d], B, b_n, 4), .ldb = ldb,
                .c = check_side_put(&s[d], beta != 0 ? C0 : NULL, c_n, 4), .ldc = ldc,
                .bias = bias ? check_side_put(&s[d], bv, n, 4) : (nncl_view){0},
                .act = check_act_of_pass(act, pass), .act_param = 0.1f,
            };
            CHECK_RUN(&s[d], gemm, g);
            out[d] = check_side_floats(c, &s[d], g.c, c_n);
        }
        char part[32];
        if (check_sides_ok(r, &s[0], &s[1]))
            check_compare(c, r, check_part_of_pass(part, sizeof part, "C", pass), out[0], out[1], c_n, atol,
                          transcendental(act) ? 2e-6 : 0);
    }
    return check_done(c, s);
}

nncl_status check_op_gemm(check_ctx *c, check_row *r)
{
    size_t m = check_size_up_to(c, 512, 67), n = check_size_up_to(c, 512, 67), k = check_size_up_to(c, 1000, 67);
    return gemm_row(c, r, m, n, k);
}

/* gemm-large: a product the device's large-products set runs (on a GPU that
 * tuned one: from about 1625^3 on), each side its cube root plus an awkward
 * 1..67, with the same draws and bound as gemm. Only where such a set is
 * in use (check_gemm_large_wanted): nothing else ever runs it. */
bool check_gemm_large_wanted(const nncl_device *dev) { return nncl_gemm_large_from(dev) > 0; }

nncl_status check_gemm_large(check_ctx *c, check_row *r)
{
    uint64_t from = nncl_gemm_large_from(c->dev);
    size_t side = (size_t)ceil(cbrt((double)from));
    while ((uint64_t)side * side * side < from)
        side++;
    for (int tries = 0; tries < 8; tries++) {
        size_t m = side + check_awkward(&c->rng, 1, 67), n = side + check_awkward(&c->rng, 1, 67);
        size_t k = side + check_awkward(&c->rng, 1, 67);
        nncl_gemm_args g = {.m = m, .n = n, .k = k};
        if (nncl_gemm_is_large(c->dev, &g))
            return gemm_row(c, r, m, n, k);
    }
    /* every draw cut into K slices (a device of many compute units and a
     * small set's threshold): the square at the threshold says which */
    snprintf(r->shape, sizeof r->shape, "from m*n*k %llu", (unsigned long long)from);
    check_row_error(r, "no product from m*n*k %llu up runs the large set uncut here", (unsigned long long)from);
    return NNCL_OK;
}

/* ---- act_fwd, act_bwd, every activation ------------------------------------------
 * fwd: identity, relu, leaky relu exact; sigmoid and tanh within the ulps of
 * exp and tanh (OpenCL allows 3-5): rtol 2e-6, atol 1e-30.
 * bwd: a product and y(1 - y) or 1 - y^2, maybe fused: rtol 1e-6, atol 1e-7. */

static void sprinkle_specials(float *x, size_t n)
{
    static const float sp[] = {NAN, INFINITY, -INFINITY, 0.0f, -0.0f, 100.0f, -100.0f, 1e-30f};
    for (size_t k = 0; k < sizeof sp / sizeof sp[0] && k * 7 < n; k++)
        x[k * 7] = sp[k];
}

nncl_status check_op_act_fwd(check_ctx *c, check_row *r)
{
    size_t n = check_size_up_to(c, 10007, 1000);
    snprintf(r->shape, sizeof r->shape, "n=%zu, 5 activations, NaN/Inf", n);
    float *x = check_random(c, n, -8, 8);
    if (c->nomem)
        return check_nomem();
    sprinkle_specials(x, n);
    check_side s[2];
    check_sides_open(c, s);
    for (int act = 0; act <= NNCL_ACT_TANH; act++) {
        float *out[2];
        for (int d = 0; d < 2; d++) {
            nncl_act_fwd_args a = {check_side_put(&s[d], x, n, 4), check_side_put(&s[d], NULL, n, 4), n,
                                   (nncl_act)act, 0.01f};
            CHECK_RUN(&s[d], act_fwd, a);
            out[d] = check_side_floats(c, &s[d], a.y, n);
        }
        bool t = transcendental((nncl_act)act);
        if (check_sides_ok(r, &s[0], &s[1]))
            check_compare(c, r, check_act_name((nncl_act)act), out[0], out[1], n, t ? 1e-30 : 0, t ? 2e-6 : 0);
    }
    return check_done(c, s);
}

nncl_status check_op_act_bwd(check_ctx *c, check_row *r)
{
    size_t n = check_size_up_to(c, 10007, 1000);
    snprintf(r->shape, sizeof r->shape, "n=%zu, 5 activations", n);
    float *z = check_random(c, n, -4, 4), *dy = check_random(c, n, -1, 1), *y = check_alloc(c, n * sizeof *y);
    if (c->nomem)
        return check_nomem();
    for (size_t i = 0; i < n; i += 5)
        z[i] = 0.0f;                /* exact zeros: relu's kink */
    check_side s[2];
    check_sides_open(c, s);
    for (int act = 0; act <= NNCL_ACT_TANH; act++) {
        for (size_t i = 0; i < n; i++)
            y[i] = check_act((nncl_act)act, 0.1f, z[i]);
        float *out[2];
        for (int d = 0; d < 2; d++) {
            nncl_act_bwd_args a = {check_side_put(&s[d], y, n, 4), check_side_put(&s[d], dy, n, 4),
                                   check_side_put(&s[d], NULL, n, 4), n, (nncl_act)act, 0.1f};
            CHECK_RUN(&s[d], act_bwd, a);
            out[d] = check_side_floats(c, &s[d], a.dx, n);
        }
        if (check_sides_ok(r, &s[0], &s[1]))
            check_compare(c, r, check_act_name((nncl_act)act), out[0], out[1], n, 1e-7, 1e-6);
    }
    return check_done(c, s);
}

/* ---- softmax_xent ------------------------------------------------------------------
 * dz: atol 1e-6 * grad_scale, rtol 1e-5 (the ulps of exp and division).
 * The loss sum (device: a float tree; host: double): atol 1e-6, rtol 1e-5.
 * The correct count: exact (the same logits on both sides). */

nncl_status check_op_softmax_xent(check_ctx *c, check_row *r)
{
    size_t rows = check_size_up_to(c, 1000, 129), classes = check_size_up_to(c, 1000, 37), n = rows * classes;
    snprintf(r->shape, sizeof r->shape, "%zu rows x %zu classes", rows, classes);
    float *z = check_random(c, n, -10, 10), scale = 1.0f / (float)rows, acc0[2] = {1.5f, 2.0f};
    int32_t *labels = check_random_ints(c, rows, classes);
    if (c->nomem)
        return check_nomem();
    check_side s[2];
    float *dz[2], *acc[2];
    check_sides_open(c, s);
    for (int d = 0; d < 2; d++) {
        nncl_softmax_xent_args a = {
            .z = check_side_put(&s[d], z, n, 4), .labels = check_side_put(&s[d], labels, rows, 4),
            .dz = check_side_put(&s[d], NULL, n, 4), .acc = check_side_put(&s[d], acc0, 2, 4), .rows = rows,
            .classes = classes, .grad_scale = scale, .scratch = check_side_put(&s[d], NULL, 2 * rows, 4),
        };
        CHECK_RUN(&s[d], softmax_xent, a);
        dz[d] = check_side_floats(c, &s[d], a.dz, n);
        acc[d] = check_side_floats(c, &s[d], a.acc, 2);
    }
    if (check_sides_ok(r, &s[0], &s[1])) {
        check_compare(c, r, "dz", dz[0], dz[1], n, 1e-6 * scale, 1e-5);
        check_compare(c, r, "loss sum", acc[0], acc[1], 1, 1e-6, 1e-5);
        check_compare(c, r, "correct", acc[0] + 1, acc[1] + 1, 1, 0, 0);
    }
    return check_done(c, s);
}

/* ---- mse -----------------------------------------------------------------------------
 * dy = (y - t) 2/outputs * scale, the same roundings on both sides: rtol 1e-6.
 * The sums (an FMA may fuse; another order): atol 1e-6, rtol 1e-5. */

nncl_status check_op_mse(check_ctx *c, check_row *r)
{
    size_t rows = check_size_up_to(c, 1000, 129), outs = check_size_up_to(c, 37, 11), n = rows * outs;
    snprintf(r->shape, sizeof r->shape, "%zu rows x %zu outputs", rows, outs);
    float *y = check_random(c, n, -3, 3), *t = check_random(c, n, -3, 3), acc0[2] = {0.25f, -1.0f};
    if (c->nomem)
        return check_nomem();
    check_side s[2];
    float *dy[2], *acc[2];
    check_sides_open(c, s);
    for (int d = 0; d < 2; d++) {
        nncl_mse_args a = {.y = check_side_put(&s[d], y, n, 4), .t = check_side_put(&s[d], t, n, 4),
                           .dy = check_side_put(&s[d], NULL, n, 4), .acc = check_side_put(&s[d], acc0, 2, 4),
                           .rows = rows, .outputs = outs, .grad_scale = 1.0f / (float)rows,
                           .scratch = check_side_put(&s[d], NULL, 2 * rows, 4)};
        CHECK_RUN(&s[d], mse, a);
        dy[d] = check_side_floats(c, &s[d], a.dy, n);
        acc[d] = check_side_floats(c, &s[d], a.acc, 2);
    }
    if (check_sides_ok(r, &s[0], &s[1])) {
        check_compare(c, r, "dy", dy[0], dy[1], n, 0, 1e-6);
        check_compare(c, r, "sums", acc[0], acc[1], 2, 1e-6, 1e-5);
    }
    return check_done(c, s);
}

/* ---- colsum ---------------------------------------------------------------------------
 * The device sums a tree of float partials, the host in double:
 * atol 1e-5 (|alpha| max_j sum_i |x_ij| + |beta| max|y|). */

nncl_status check_op_colsum(check_ctx *c, check_row *r)
{
    static const float ab[][2] = {{1.0f, 0.0f}, {0.5f, 1.0f}, {-2.0f, 0.25f}};
    size_t rows = check_size_up_to(c, 5000, 300), cols = check_size_up_to(c, 300, 41);
    size_t ldx = cols + nncl_rng_below(&c->rng, 3), nx = (rows - 1) * ldx + cols;
    const float *albe = ab[nncl_rng_below(&c->rng, 3)];
    float alpha = albe[0], beta = albe[1];
    snprintf(r->shape, sizeof r->shape, "%zux%zu ldx=%zu alpha=%g beta=%g", rows, cols, ldx, (double)alpha,
             (double)beta);
    float *x = check_random(c, nx, -1, 1), *y0 = check_random(c, cols, -1, 1);
    if (c->nomem)
        return check_nomem();
    double mag = 0;
    for (size_t j = 0; j < cols; j++) {
        double m = 0;
        for (size_t i = 0; i < rows; i++)
            m += fabs(x[i * ldx + j]);
        mag = fmax(mag, fabs(alpha) * m + fabs(beta * y0[j]));
    }
    check_side s[2];
    float *out[2];
    check_sides_open(c, s);
    for (int d = 0; d < 2; d++) {
        nncl_colsum_args a = {check_side_put(&s[d], x, nx, 4), ldx,
                              check_side_put(&s[d], beta != 0 ? y0 : NULL, cols, 4), rows, cols, alpha, beta};
        CHECK_RUN(&s[d], colsum, a);
        out[d] = check_side_floats(c, &s[d], a.y, cols);
    }
    if (check_sides_ok(r, &s[0], &s[1]))
        check_compare(c, r, "y", out[0], out[1], cols, 1e-5 * mag, 0);
    return check_done(c, s);
}

/* ---- argmax_rows: exact, with ties, NaN and infinities ---------------------------------- */

nncl_status check_op_argmax_rows(check_ctx *c, check_row *r)
{
    size_t rows = check_size_up_to(c, 1000, 129), cols = check_size_up_to(c, 1000, 64), n = rows * cols;
    snprintf(r->shape, sizeof r->shape, "%zux%zu, ties, NaN/Inf", rows, cols);
    float *x = check_random(c, n, 0, 4);
    if (c->nomem)
        return check_nomem();
    for (size_t i = 0; i < n; i++)
        x[i] = floorf(x[i]);        /* many ties */
    if (n > 20) {
        x[11] = NAN;
        x[13] = INFINITY;
        x[17] = -INFINITY;
    }
    check_side s[2];
    float *out[2];
    check_sides_open(c, s);
    for (int d = 0; d < 2; d++) {
        nncl_argmax_rows_args a = {check_side_put(&s[d], x, n, 4), check_side_put(&s[d], NULL, rows, 4), rows,
                                   cols};
        CHECK_RUN(&s[d], argmax_rows, a);
        out[d] = check_side_ints(c, &s[d], a.idx, rows);
    }
    if (check_sides_ok(r, &s[0], &s[1]))
        check_compare(c, r, "idx", out[0], out[1], rows, 0, 0);
    return check_done(c, s);
}

/* ---- optim_step: three steps of every optimiser, state carried on each side ------------
 * m: rtol 1e-6 + atol 1e-6 (mu m + g may fuse and cancel); v: rtol 1e-5 +
 * atol 1e-10; w: rtol 1e-6 + atol 1e-7 (sqrt's 3 ulp and a division). */

nncl_status check_op_optim_step(check_ctx *c, check_row *r)
{
    static const char *const kinds[] = {"sgd", "momentum", "adam", "adamw"};
    size_t n = check_size_up_to(c, 10007, 1000);
    snprintf(r->shape, sizeof r->shape, "n=%zu, sgd/momentum/adam/adamw, 3 steps", n);
    float *w = check_random(c, n, -1, 1), *zero = check_alloc(c, n * sizeof *zero);
    if (c->nomem)
        return check_nomem();
    check_side s[2];
    check_sides_open(c, s);
    for (int kind = 0; kind <= NNCL_OPTIM_ADAMW; kind++) {
        bool variant = nncl_rng_below(&c->rng, 2);     /* weight decay and nesterov */
        nncl_view wv[2], mv[2], vv[2];
        for (int d = 0; d < 2; d++) {
            wv[d] = check_side_put(&s[d], w, n, 4);
            mv[d] = check_side_put(&s[d], zero, n, 4);
            vv[d] = check_side_put(&s[d], zero, n, 4);
        }
        for (unsigned long t = 1; t <= 3; t++) {
            float *g = check_random(c, n, -1, 1), *res[3][2];
            if (!g)
                break;
            for (int d = 0; d < 2; d++) {
                nncl_optim_step_args a = {.kind = (nncl_optim)kind, .w = wv[d], .grad = check_side_put(&s[d], g, n, 4),
                                          .m = kind != NNCL_OPTIM_SGD ? mv[d] : (nncl_view){0},
                                          .v = kind >= NNCL_OPTIM_ADAM ? vv[d] : (nncl_view){0}, .n = n,
                                          .lr = 0.01f, .weight_decay = variant ? 0.1f : 0.0f, .momentum = 0.9f,
                                          .nesterov = variant, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f,
                                          .step = t};
                CHECK_RUN(&s[d], optim_step, a);
                res[0][d] = check_side_floats(c, &s[d], wv[d], n);
                res[1][d] = check_side_floats(c, &s[d], mv[d], n);
                res[2][d] = check_side_floats(c, &s[d], vv[d], n);
            }
            if (!check_sides_ok(r, &s[0], &s[1]))
                break;
            char part[3][32];
            snprintf(part[0], sizeof part[0], "w %s step %lu", kinds[kind], t);
            snprintf(part[1], sizeof part[1], "m %s step %lu", kinds[kind], t);
            snprintf(part[2], sizeof part[2], "v %s step %lu", kinds[kind], t);
            check_compare(c, r, part[0], res[0][0], res[0][1], n, 1e-7, 1e-6);
            check_compare(c, r, part[1], res[1][0], res[1][1], n, 1e-6, 1e-6);
            check_compare(c, r, part[2], res[2][0], res[2][1], n, 1e-10, 1e-5);
        }
        /* free this optimiser's buffers before the next one's */
        check_sides_free(s);
    }
    return check_done(c, s);
}

/* ---- gather: exact (a subtraction and a multiplication on both sides) ---------------------- */

nncl_status check_op_gather(check_ctx *c, check_row *r)
{
    size_t data_rows = check_size_up_to(c, 300, 50), cols = check_size_up_to(c, 784, 50), rows = check_size_up_to(c, 300, 40);
    size_t outs = 1 + nncl_rng_below(&c->rng, 3), nd = data_rows * cols;
    bool u8 = nncl_rng_below(&c->rng, 2);
    snprintf(r->shape, sizeof r->shape, "%zu of %zu rows x %zu %s, %zu targets", rows, data_rows, cols,
             u8 ? "u8" : "f32", outs);
    uint8_t *bytes = check_random_bytes(c, nd);
    float *fdata = check_random(c, nd, -5, 5), *shift = check_random(c, cols, 0, 100);
    float *scale = check_random(c, cols, 0.001f, 0.1f), *targets = check_random(c, data_rows * outs, -10, 10);
    int32_t *labels = check_random_ints(c, data_rows, 10), *index = check_random_ints(c, rows, data_rows);
    if (c->nomem)
        return check_nomem();
    index[rows - 1] = (int32_t)data_rows - 1;
    check_side s[2];
    float *res[3][2];
    check_sides_open(c, s);
    for (int d = 0; d < 2; d++) {
        nncl_gather_args a = {
            .data = u8 ? check_side_put(&s[d], bytes, nd, 1) : check_side_put(&s[d], fdata, nd, 4), .u8 = u8,
            .data_rows = data_rows, .cols = cols, .index = check_side_put(&s[d], index, rows, 4), .rows = rows,
            .shift = check_side_put(&s[d], shift, cols, 4), .scale = check_side_put(&s[d], scale, cols, 4),
            .x = check_side_put(&s[d], NULL, rows * cols, 4), .labels = check_side_put(&s[d], labels, data_rows, 4),
            .labels_out = check_side_put(&s[d], NULL, rows, 4),
            .targets = check_side_put(&s[d], targets, data_rows * outs, 4),
            .targets_out = check_side_put(&s[d], NULL, rows * outs, 4), .outputs = outs, .t_shift = 0.5f,
            .t_scale = 0.25f,
        };
        CHECK_RUN(&s[d], gather, a);
        res[0][d] = check_side_floats(c, &s[d], a.x, rows * cols);
        res[1][d] = check_side_ints(c, &s[d], a.labels_out, rows);
        res[2][d] = check_side_floats(c, &s[d], a.targets_out, rows * outs);
    }
    if (check_sides_ok(r, &s[0], &s[1])) {
        check_compare(c, r, "x", res[0][0], res[0][1], rows * cols, 0, 0);
        check_compare(c, r, "labels", res[1][0], res[1][1], rows, 0, 0);
        check_compare(c, r, "targets", res[2][0], res[2][1], rows * outs, 0, 0);
    }
    return check_done(c, s);
}

/* ---- dropout: exact (the same Philox bits on every device) -------------------------------- */

nncl_status check_op_dropout(check_ctx *c, check_row *r)
{
    static const float ps[] = {0.0f, 0.1f, 0.5f, 0.9f};
    size_t n = check_size_up_to(c, 100003, 4099);
    float p = ps[nncl_rng_below(&c->rng, 4)];
    uint64_t seed = nncl_rng_next(&c->rng), step = nncl_rng_next(&c->rng) >> 20;
    snprintf(r->shape, sizeof r->shape, "n=%zu p=%g", n, (double)p);
    float *x = check_random(c, n, 0.5f, 1.5f);
    if (c->nomem)
        return check_nomem();
    check_side s[2];
    float *out[2];
    check_sides_open(c, s);
    for (int d = 0; d < 2; d++) {
        nncl_dropout_args a = {check_side_put(&s[d], x, n, 4), check_side_put(&s[d], NULL, n, 4), n, p, seed, step};
        CHECK_RUN(&s[d], dropout, a);
        out[d] = check_side_floats(c, &s[d], a.y, n);
    }
    if (check_sides_ok(r, &s[0], &s[1]))
        check_compare(c, r, "y", out[0], out[1], n, 0, 0);
    return check_done(c, s);
}

/* ---- the table: one row per op, in the order of NNCL_OPS -------------------------------- */

#define CHECK_OP_ROW(name) {#name, check_op_##name},
const check_op check_ops[] = {NNCL_OPS(CHECK_OP_ROW)};
#undef CHECK_OP_ROW
const size_t check_ops_count = sizeof check_ops / sizeof check_ops[0];
