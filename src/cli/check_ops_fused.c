/* `nncl check`: the byte-input and fused ops on the device against their
 * host twins (linear_u8_fwd, linear_u8_wgrad, head_xent, linear_u8_head),
 * as check_ops.c does for the others. The host twins sum in double and
 * round once; the devices sum in float, so each tolerance is an error bound
 * of float sums scaled by the case's own values, stated beside each op. */
#include <float.h>
#include <math.h>
#include <stdio.h>

#include "cli/check.h"

static const double U = 0x1p-24;   /* float's unit roundoff */

/* ---- linear_u8_fwd, linear_u8_wgrad ----------------------------------------------
 * Inputs as a dataset's bytes through an optional index (with repeats), a
 * per-feature shift in [0, 100] (or, half the time, 80% zero bytes and no
 * shift) and scale in [0.001, 0.01], so |x'| <= 2.55;
 * |W|, |b|, |g| <= 1. As for gemm: fwd |y - ref| <= 8 eps (in 2.55 + 1),
 * plus 2e-6 relative for a sigmoid or tanh; wgrad 8 eps rows 2.55. */

typedef struct u8_input {
    size_t rows, in, out, x_rows;
    bool indexed;
    uint8_t *x;
    int32_t *index;
    float *shift, *scale;
} u8_input;

static bool u8_input_make(check_ctx *c, u8_input *u, size_t max_rows, size_t max_in, size_t max_out)
{
    u->rows = check_size_up_to(c, max_rows, 40);
    u->in = check_size_up_to(c, max_in, 60);
    u->out = check_size_up_to(c, max_out, 20);
    u->indexed = nncl_rng_below(&c->rng, 2);
    u->x_rows = u->indexed ? u->rows + nncl_rng_below(&c->rng, 7) : u->rows;
    u->x = check_random_bytes(c, u->x_rows * u->in);
    u->index = check_random_ints(c, u->rows, u->x_rows);
    u->shift = check_random(c, u->in, 0, 100);
    u->scale = check_random(c, u->in, 0.001f, 0.01f);
    /* half the time a picture's bytes: 80% zeros and no shift, which the
     * host reads from the nonzero bytes alone (u8_sparse_host.c) */
    if (!c->nomem && nncl_rng_below(&c->rng, 2)) {
        for (size_t i = 0; i < u->x_rows * u->in; i++)
            if (nncl_rng_below(&c->rng, 5) != 0)
                u->x[i] = 0;
        for (size_t j = 0; j < u->in; j++)
            u->shift[j] = 0.0f;
    }
    return !c->nomem;
}

typedef struct u8_views {
    nncl_view x, index, shift, scale;
} u8_views;

static u8_views u8_put(check_side *s, const u8_input *u)
{
    u8_views v = {check_side_put(s, u->x, u->x_rows * u->in, 1),
                  u->indexed ? check_side_put(s, u->index, u->rows, 4) : (nncl_view){0},
                  check_side_put(s, u->shift, u->in, 4), check_side_put(s, u->scale, u->in, 4)};
    return v;
}

nncl_status check_op_linear_u8_fwd(check_ctx *c, check_row *r)
{
    u8_input u;
    if (!u8_input_make(c, &u, 300, 784, 130))
        return check_nomem();
    nncl_act act = (nncl_act)nncl_rng_below(&c->rng, 5);
    size_t ldy = u.out + nncl_rng_below(&c->rng, 3);
    snprintf(r->shape, sizeof r->shape, "%zu rows x %zu -> %zu%s, %s", u.rows, u.in, u.out,
             u.indexed ? " indexed" : "", check_act_name(act));
    float *w = check_random(c, u.out * u.in, -1, 1), *b = check_random(c, u.out, -1, 1);
    if (c->nomem)
        return check_nomem();
    bool smooth = act == NNCL_ACT_SIGMOID || act == NNCL_ACT_TANH;
    check_side s[2];
    check_sides_open(c, s);
    for (int pass = 0; pass < check_act_passes(act); pass++) { /* check.h: relu hides what it clamps */
        float *out[2];
        for (int d = 0; d < 2; d++) {
            u8_views v = u8_put(&s[d], &u);
            nncl_linear_u8_fwd_args a = {.x = v.x, .index = v.index, .x_rows = u.x_rows, .shift = v.shift,
                                         .scale = v.scale, .w = check_side_put(&s[d], w, u.out * u.in, 4),
                                         .b = check_side_put(&s[d], b, u.out, 4),
                                         .y = check_side_put(&s[d], NULL, u.rows * ldy, 4), .rows = u.rows,
                                         .in = u.in, .out = u.out, .ldy = ldy, .act = check_act_of_pass(act, pass),
                                         .act_param = 0.1f};
            CHECK_RUN(&s[d], linear_u8_fwd, a);
            out[d] = check_side_floats(c, &s[d], a.y, u.rows * ldy);
        }
        char part[32];
        if (check_sides_ok(r, &s[0], &s[1]))
            check_compare(c, r, check_part_of_pass(part, sizeof part, "y", pass), out[0], out[1], u.rows * ldy,
                          8.0 * FLT_EPSILON * ((double)u.in * 2.55 + 1.0), smooth ? 2e-6 : 0);
    }
    return check_done(c, s);
}

nncl_status check_op_linear_u8_wgrad(check_ctx *c, check_row *r)
{
    u8_input u;
    if (!u8_input_make(c, &u, 1000, 784, 130))
        return check_nomem();
    size_t ldg = u.out + nncl_rng_below(&c->rng, 3), chunks = 1 + nncl_rng_below(&c->rng, 4);
    snprintf(r->shape, sizeof r->shape, "%zu rows x %zu -> %zu%s, %zu chunks", u.rows, u.in, u.out,
             u.indexed ? " indexed" : "", chunks);
    float *g = check_random(c, u.rows * ldg, -1, 1);
    if (c->nomem)
        return check_nomem();
    check_side s[2];
    float *out[2];
    check_sides_open(c, s);
    for (int d = 0; d < 2; d++) {
        u8_views v = u8_put(&s[d], &u);
        nncl_linear_u8_wgrad_args a = {
            .x = v.x, .index = v.index, .x_rows = u.x_rows, .shift = v.shift, .scale = v.scale,
            .g = check_side_put(&s[d], g, u.rows * ldg, 4), .dw = check_side_put(&s[d], NULL, u.out * u.in, 4),
            .rows = u.rows, .in = u.in, .out = u.out, .ldg = ldg,
            .scratch = chunks > 1 ? check_side_put(&s[d], NULL, chunks * u.out * u.in, 4) : (nncl_view){0},
            .scratch_len = chunks > 1 ? chunks * u.out * u.in : 0,
        };
        CHECK_RUN(&s[d], linear_u8_wgrad, a);
        out[d] = check_side_floats(c, &s[d], a.dw, u.out * u.in);
    }
    if (check_sides_ok(r, &s[0], &s[1]))
        check_compare(c, r, "dW", out[0], out[1], u.out * u.in, 8.0 * FLT_EPSILON * (double)u.rows * 2.55, 0);
    return check_done(c, s);
}

/* ---- head_xent ----------------------------------------------------------------------
 * tests/test_head.c's tolerances (rows summed in float chunks on the device,
 * in double on host; grad_scale = 1/rows, so sum_r |dz_r| <= 2):
 *   dW: atol 4e-6 max|a|, rtol 1e-4;   db: atol 4e-6, rtol 1e-4;
 *   da: atol 1e-6 classes max|W| / rows, rtol 1e-4;
 *   da_sum: atol 4e-6 classes max|W|, rtol 1e-4;
 *   loss sum: atol 1e-4, rtol 1e-5;
 *   correct: a row whose two largest logits tie to within the float/double
 *   difference may flip: 1 + rows/500 rows. */

nncl_status check_op_head_xent(check_ctx *c, check_row *r)
{
    size_t rows = check_size_up_to(c, 3001, 200), in = check_awkward(&c->rng, 1, NNCL_HEAD_MAX);
    size_t classes = check_awkward(&c->rng, 1, NNCL_HEAD_MAX), n = rows * in, nw = classes * in;
    nncl_act act = (nncl_act)nncl_rng_below(&c->rng, 5);
    snprintf(r->shape, sizeof r->shape, "%zu rows, %zu -> %zu classes, %s", rows, in, classes,
             check_act_name(act));
    float *a = check_random(c, n, -3, 3), *w = check_random(c, nw, -1, 1), *b = check_random(c, classes, -0.5f, 0.5f);
    int32_t *labels = check_random_ints(c, rows, classes);
    size_t scratch_len = nncl_head_xent_scratch_len(rows, in, classes);
    float acc0[2] = {1.5f, 2.0f};
    if (c->nomem)
        return check_nomem();
    for (size_t i = 0; i < n; i++)
        a[i] = check_act(act, 0.1f, a[i]);    /* what the layer below can produce */
    check_side s[2];
    float *res[5][2];
    check_sides_open(c, s);
    for (int d = 0; d < 2; d++) {
        nncl_head_xent_args h = {
            .a = check_side_put(&s[d], a, n, 4), .w = check_side_put(&s[d], w, nw, 4),
            .b = check_side_put(&s[d], b, classes, 4), .labels = check_side_put(&s[d], labels, rows, 4),
            .dw = check_side_put(&s[d], NULL, nw, 4), .db = check_side_put(&s[d], NULL, classes, 4),
            .da = check_side_put(&s[d], NULL, n, 4), .da_sum = check_side_put(&s[d], NULL, in, 4),
            .acc = check_side_put(&s[d], acc0, 2, 4), .scratch = check_side_put(&s[d], NULL, scratch_len, 4),
            .rows = rows, .in = in, .classes = classes, .act = act, .act_param = 0.1f,
            .grad_scale = 1.0f / (float)rows,
        };
        CHECK_RUN(&s[d], head_xent, h);
        res[0][d] = check_side_floats(c, &s[d], h.dw, nw);
        res[1][d] = check_side_floats(c, &s[d], h.db, classes);
        res[2][d] = check_side_floats(c, &s[d], h.da, n);
        res[3][d] = check_side_floats(c, &s[d], h.da_sum, in);
        res[4][d] = check_side_floats(c, &s[d], h.acc, 2);
    }
    double amax = check_max_abs(a, n), wmax = check_max_abs(w, nw);
    if (check_sides_ok(r, &s[0], &s[1])) {
        check_compare(c, r, "dW", res[0][0], res[0][1], nw, 4e-6 * amax, 1e-4);
        check_compare(c, r, "db", res[1][0], res[1][1], classes, 4e-6, 1e-4);
        check_compare(c, r, "da", res[2][0], res[2][1], n, 1e-6 * (double)classes * wmax / (double)rows, 1e-4);
        check_compare(c, r, "da_sum", res[3][0], res[3][1], in, 4e-6 * (double)classes * wmax, 1e-4);
        check_compare(c, r, "loss sum", res[4][0], res[4][1], 1, 1e-4, 1e-5);
        check_compare(c, r, "correct", res[4][0] + 1, res[4][1] + 1, 1, 1.0 + (double)(rows / 500), 0);
    }
    return check_done(c, s);
}

/* ---- linear_u8_head ---------------------------------------------------------------
 * A whole training step (bytes -> sigmoid or tanh hidden layer of at most 16
 * units -> at most 16 classes, softmax cross-entropy, every gradient) on
 * inputs x' = x / 255 in [0, 1], |W1| <= 1/sqrt(in), |W2| <= 1, |b| <= 0.5.
 * The bound follows tests/test_linear_u8_head.c, bounding each quantity by
 * the case's largest instead of per element: a float sum of n terms is off
 * by at most 6 sqrt(n) u sum|terms| (Higham & Mary's probabilistic bound,
 * any order of additions), and the forward's error is carried to first
 * order through the logits, the softmax (|dp| <= 2 dz) and f' (|f''| <= 2):
 *   dh = 6 sqrt(in + 3) u S + 4 u     S = max_o |b1_o| + sum_j |W1_oj|
 *   dz = W2r dh + (hidden + 2) u (W2r + B2)   (W2r: largest row sum of |W2|)
 *   dd = 2 dz + 8 u   (dlogits, per row before grad_scale)
 *   dg = W2c (dd + 4 dh) + 2 (classes + 1) u W2c   (W2c: largest column sum)
 *   er = 6 sqrt(rows + 1) u   (the sums over rows, each term at most 1 x its bound)
 *   dW2: dd + dh + er     db2: dd + er     dW1: dg + 2 W2c er     db1: the same
 *   loss sum: rows (2 dz + 8 u L) + er rows L, L = log(classes) + 2 (W2r + B2) + 1
 *   correct: 1 + rows/500 rows may flip (near ties);
 * and 4 u relative for the final roundings. On PoCL the errors are a few
 * percent of these bounds. */

nncl_status check_op_linear_u8_head(check_ctx *c, check_row *r)
{
    size_t rows = check_size_up_to(c, 1000, 100), in = check_size_up_to(c, 300, 40);
    size_t hidden = check_awkward(&c->rng, 1, NNCL_HEAD_MAX), classes = check_awkward(&c->rng, 2, NNCL_HEAD_MAX);
    bool indexed = nncl_rng_below(&c->rng, 2);
    size_t x_rows = indexed ? rows + nncl_rng_below(&c->rng, 7) : rows;
    nncl_act act = nncl_rng_below(&c->rng, 2) ? NNCL_ACT_TANH : NNCL_ACT_SIGMOID;
    snprintf(r->shape, sizeof r->shape, "%zu rows, %zu-%zu-%zu%s, %s", rows, in, hidden, classes,
             indexed ? " indexed" : "", check_act_name(act));
    float w1_max = (float)(1.0 / sqrt((double)in));
    uint8_t *x = check_random_bytes(c, x_rows * in);
    int32_t *index = check_random_ints(c, rows, x_rows), *labels = check_random_ints(c, rows, classes);
    float *shift = check_alloc(c, in * sizeof *shift), *scale = check_alloc(c, in * sizeof *scale);
    float *w1 = check_random(c, hidden * in, -w1_max, w1_max), *b1 = check_random(c, hidden, -0.5f, 0.5f);
    float *w2 = check_random(c, classes * hidden, -1, 1), *b2 = check_random(c, classes, -0.5f, 0.5f);
    size_t scratch_len = nncl_linear_u8_head_scratch_len(rows, in, hidden, classes);
    float acc0[2] = {1.5f, 2.0f};
    if (c->nomem)
        return check_nomem();
    for (size_t j = 0; j < in; j++)
        scale[j] = 1.0f / 255.0f;
    check_side s[2];
    float *res[5][2];
    check_sides_open(c, s);
    for (int d = 0; d < 2; d++) {
        nncl_linear_u8_head_args h = {
            .x = check_side_put(&s[d], x, x_rows * in, 1),
            .index = indexed ? check_side_put(&s[d], index, rows, 4) : (nncl_view){0}, .x_rows = x_rows,
            .shift = check_side_put(&s[d], shift, in, 4), .scale = check_side_put(&s[d], scale, in, 4),
            .w1 = check_side_put(&s[d], w1, hidden * in, 4), .b1 = check_side_put(&s[d], b1, hidden, 4),
            .w2 = check_side_put(&s[d], w2, classes * hidden, 4), .b2 = check_side_put(&s[d], b2, classes, 4),
            .labels = check_side_put(&s[d], labels, rows, 4),
            .dw1 = check_side_put(&s[d], NULL, hidden * in, 4), .db1 = check_side_put(&s[d], NULL, hidden, 4),
            .dw2 = check_side_put(&s[d], NULL, classes * hidden, 4), .db2 = check_side_put(&s[d], NULL, classes, 4),
            .acc = check_side_put(&s[d], acc0, 2, 4), .scratch = check_side_put(&s[d], NULL, scratch_len, 4),
            .rows = rows, .in = in, .hidden = hidden, .classes = classes, .act = act, .act_param = 0.1f,
            .grad_scale = 1.0f / (float)rows,
        };
        CHECK_RUN(&s[d], linear_u8_head, h);
        res[0][d] = check_side_floats(c, &s[d], h.dw1, hidden * in);
        res[1][d] = check_side_floats(c, &s[d], h.db1, hidden);
        res[2][d] = check_side_floats(c, &s[d], h.dw2, classes * hidden);
        res[3][d] = check_side_floats(c, &s[d], h.db2, classes);
        res[4][d] = check_side_floats(c, &s[d], h.acc, 2);
    }
    /* the bound, from the case's values */
    double S = 0, W2r = 0, W2c = 0;
    for (size_t o = 0; o < hidden; o++) {
        double row = fabs(b1[o]), col = 0;
        for (size_t j = 0; j < in; j++)
            row += fabs(w1[o * in + j]);
        for (size_t k = 0; k < classes; k++)
            col += fabs(w2[k * hidden + o]);
        S = fmax(S, row);
        W2c = fmax(W2c, col);
    }
    for (size_t k = 0; k < classes; k++) {
        double row = 0;
        for (size_t o = 0; o < hidden; o++)
            row += fabs(w2[k * hidden + o]);
        W2r = fmax(W2r, row);
    }
    double B2 = check_max_abs(b2, classes), R = (double)rows;
    double dh = 6 * sqrt((double)in + 3) * U * S + 4 * U;
    double dz = W2r * dh + (double)(hidden + 2) * U * (W2r + B2);
    double dd = 2 * dz + 8 * U;
    double dg = W2c * (dd + 4 * dh) + 2.0 * (double)(classes + 1) * U * W2c;
    double er = 6 * sqrt(R + 1) * U;
    double L = log((double)classes) + 2 * (W2r + B2) + 1;
    if (check_sides_ok(r, &s[0], &s[1])) {
        check_compare(c, r, "dW1", res[0][0], res[0][1], hidden * in, dg + 2 * W2c * er, 4 * U);
        check_compare(c, r, "db1", res[1][0], res[1][1], hidden, dg + 2 * W2c * er, 4 * U);
        check_compare(c, r, "dW2", res[2][0], res[2][1], classes * hidden, dd + dh + er, 4 * U);
        check_compare(c, r, "db2", res[3][0], res[3][1], classes, dd + er, 4 * U);
        check_compare(c, r, "loss sum", res[4][0], res[4][1], 1, R * (2 * dz + 8 * U * L) + er * R * L, 4 * U);
        check_compare(c, r, "correct", res[4][0] + 1, res[4][1] + 1, 1, 1.0 + (double)(rows / 500), 0);
    }
    return check_done(c, s);
}
