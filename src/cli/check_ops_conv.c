/* `nncl check`: the convolution, pooling and batch-norm ops on the device
 * against their host twins (im2col, col2im, conv2d_fwd, conv2d_bwd,
 * pool2d_fwd, pool2d_bwd, batchnorm_fwd, batchnorm_bwd), as check_ops.c
 * does for the others. Shapes are drawn awkward:
 * primes, 1x1 filters, strides of 1 to 3, same, valid and explicit padding,
 * one image or one channel. Each tolerance is stated beside its op; eps is
 * float's machine epsilon. */
#include <float.h>
#include <math.h>
#include <stdio.h>

#include "cli/check.h"

/* A random convolution: n 1..9 (1..3 quick), c 1..6, k 1..9, square
 * filters 1..5, images from the filter's size to 23 (13 quick), stride
 * 1..3, and same, valid or explicit (< filter) padding. */
static nncl_conv2d_shape random_conv(check_ctx *c)
{
    for (;;) {
        size_t n = check_awkward(&c->rng, 1, c->quick ? 3 : 9), ch = check_awkward(&c->rng, 1, 6);
        size_t k = check_awkward(&c->rng, 1, 9), f = check_awkward(&c->rng, 1, 5);
        size_t h = check_awkward(&c->rng, f, c->quick ? 13 : 23), w = check_awkward(&c->rng, f, c->quick ? 13 : 23);
        size_t stride = 1 + nncl_rng_below(&c->rng, 3);
        int pad_kind = (int)nncl_rng_below(&c->rng, 3);
        int padding = pad_kind == 0 ? NNCL_PAD_SAME : pad_kind == 1 ? NNCL_PAD_VALID
                                                                    : (int)nncl_rng_below(&c->rng, f);
        nncl_conv2d_shape s;
        if (nncl_conv2d_shape_make(n, ch, h, w, k, f, f, stride, padding, &s) == NNCL_OK)
            return s;
        nncl_clear_error();
    }
}

static void describe_conv(check_row *r, const nncl_conv2d_shape *s, const char *extra)
{
    snprintf(r->shape, sizeof r->shape, "%zux%zux%zux%zu k%zu %zux%zu s%zu p%zu%s", s->n, s->c, s->h, s->w, s->k,
             s->kh, s->kw, s->stride_h, s->pad_h, extra);
}

static size_t x_len(const nncl_conv2d_shape *s) { return s->n * s->c * s->h * s->w; }
static size_t col_len(const nncl_conv2d_shape *s) { return s->n * s->oh * s->ow * s->c * s->kh * s->kw; }
static size_t y_len(const nncl_conv2d_shape *s) { return s->n * s->k * s->oh * s->ow; }
static size_t w_len(const nncl_conv2d_shape *s) { return s->k * s->c * s->kh * s->kw; }

/* ---- im2col: exact (a copy); col2im: at most kh*kw float additions in the
 * same order on both sides, within 8 eps kh kw max|col| --------------------------- */

nncl_status check_op_im2col(check_ctx *c, check_row *r)
{
    nncl_conv2d_shape s = random_conv(c);
    describe_conv(r, &s, "");
    float *x = check_random(c, x_len(&s), -1, 1);
    if (c->nomem)
        return check_nomem();
    check_side sd[2];
    float *out[2];
    check_sides_open(c, sd);
    for (int d = 0; d < 2; d++) {
        nncl_im2col_args a = {s, check_side_put(&sd[d], x, x_len(&s), 4),
                              check_side_put(&sd[d], NULL, col_len(&s), 4)};
        CHECK_RUN(&sd[d], im2col, a);
        out[d] = check_side_floats(c, &sd[d], a.col, col_len(&s));
    }
    if (check_sides_ok(r, &sd[0], &sd[1]))
        check_compare(c, r, "col", out[0], out[1], col_len(&s), 0, 0);
    return check_done(c, sd);
}

nncl_status check_op_col2im(check_ctx *c, check_row *r)
{
    nncl_conv2d_shape s = random_conv(c);
    describe_conv(r, &s, "");
    float *col = check_random(c, col_len(&s), -1, 1);
    if (c->nomem)
        return check_nomem();
    check_side sd[2];
    float *out[2];
    check_sides_open(c, sd);
    for (int d = 0; d < 2; d++) {
        nncl_col2im_args a = {s, check_side_put(&sd[d], col, col_len(&s), 4),
                              check_side_put(&sd[d], NULL, x_len(&s), 4)};
        CHECK_RUN(&sd[d], col2im, a);
        out[d] = check_side_floats(c, &sd[d], a.x, x_len(&s));
    }
    if (check_sides_ok(r, &sd[0], &sd[1]))
        check_compare(c, r, "x", out[0], out[1], x_len(&s), 8.0 * FLT_EPSILON * s.kh * s.kw, 0);
    return check_done(c, sd);
}

/* ---- conv2d_fwd: gemm's bound with K = c kh kw taps,
 * 8 eps (taps max|x| max|w| + max|b|), plus 2e-6 relative for sigmoid/tanh --------- */

nncl_status check_op_conv2d_fwd(check_ctx *c, check_row *r)
{
    nncl_conv2d_shape s = random_conv(c);
    bool bias = nncl_rng_below(&c->rng, 2);
    nncl_act act = (nncl_act)nncl_rng_below(&c->rng, 5);
    char extra[40];
    snprintf(extra, sizeof extra, " %s%s", check_act_name(act), bias ? " bias" : "");
    describe_conv(r, &s, extra);
    size_t scratch = nncl_conv2d_scratch_len(&s);
    float *x = check_random(c, x_len(&s), -1, 1), *w = check_random(c, w_len(&s), -1, 1);
    float *b = check_random(c, s.k, -0.5f, 0.5f);
    if (c->nomem)
        return check_nomem();
    double taps = (double)(s.c * s.kh * s.kw);
    double atol = 8.0 * FLT_EPSILON * (taps * check_max_abs(x, x_len(&s)) * check_max_abs(w, w_len(&s)) + (bias ? 0.5 : 0));
    bool t = act == NNCL_ACT_SIGMOID || act == NNCL_ACT_TANH;
    check_side sd[2];
    check_sides_open(c, sd);
    for (int pass = 0; pass < check_act_passes(act); pass++) { /* check.h: relu hides what it clamps */
        float *out[2];
        for (int d = 0; d < 2; d++) {
            nncl_conv2d_fwd_args a = {
                .s = s, .x = check_side_put(&sd[d], x, x_len(&s), 4), .w = check_side_put(&sd[d], w, w_len(&s), 4),
                .b = bias ? check_side_put(&sd[d], b, s.k, 4) : (nncl_view){0},
                .y = check_side_put(&sd[d], NULL, y_len(&s), 4), .act = check_act_of_pass(act, pass),
                .act_param = 0.1f, .scratch = check_side_put(&sd[d], NULL, scratch, 4),
            };
            CHECK_RUN(&sd[d], conv2d_fwd, a);
            out[d] = check_side_floats(c, &sd[d], a.y, y_len(&s));
        }
        char part[32];
        if (check_sides_ok(r, &sd[0], &sd[1]))
            check_compare(c, r, check_part_of_pass(part, sizeof part, "y", pass), out[0], out[1], y_len(&s), atol,
                          t ? 2e-6 : 0);
    }
    return check_done(c, sd);
}

/* ---- conv2d_bwd: the same bound for each sum: dw and db over n oh ow terms
 * (8 eps rows max|dy| max|x|, 8 eps rows max|dy|), dx over k kh kw terms
 * (8 eps k kh kw max|dy| max|w|) ------------------------------------------------------ */

nncl_status check_op_conv2d_bwd(check_ctx *c, check_row *r)
{
    nncl_conv2d_shape s = random_conv(c);
    bool with_dx = nncl_rng_below(&c->rng, 4) != 0;
    describe_conv(r, &s, with_dx ? "" : " no dx");
    size_t scratch = nncl_conv2d_scratch_len(&s);
    float *x = check_random(c, x_len(&s), -1, 1), *w = check_random(c, w_len(&s), -1, 1);
    float *dy = check_random(c, y_len(&s), -1, 1);
    if (c->nomem)
        return check_nomem();
    check_side sd[2];
    float *dx[2], *dw[2], *db[2];
    check_sides_open(c, sd);
    for (int d = 0; d < 2; d++) {
        nncl_conv2d_bwd_args a = {
            .s = s, .x = check_side_put(&sd[d], x, x_len(&s), 4), .w = check_side_put(&sd[d], w, w_len(&s), 4),
            .dy = check_side_put(&sd[d], dy, y_len(&s), 4),
            .dx = with_dx ? check_side_put(&sd[d], NULL, x_len(&s), 4) : (nncl_view){0},
            .dw = check_side_put(&sd[d], NULL, w_len(&s), 4), .db = check_side_put(&sd[d], NULL, s.k, 4),
            .scratch = check_side_put(&sd[d], NULL, scratch, 4),
        };
        CHECK_RUN(&sd[d], conv2d_bwd, a);
        dx[d] = with_dx ? check_side_floats(c, &sd[d], a.dx, x_len(&s)) : NULL;
        dw[d] = check_side_floats(c, &sd[d], a.dw, w_len(&s));
        db[d] = check_side_floats(c, &sd[d], a.db, s.k);
    }
    double rows = (double)(s.n * s.oh * s.ow), mdy = check_max_abs(dy, y_len(&s));
    if (check_sides_ok(r, &sd[0], &sd[1])) {
        check_compare(c, r, "dw", dw[0], dw[1], w_len(&s), 8.0 * FLT_EPSILON * rows * mdy * check_max_abs(x, x_len(&s)), 0);
        check_compare(c, r, "db", db[0], db[1], s.k, 8.0 * FLT_EPSILON * rows * mdy, 0);
        if (with_dx)
            check_compare(c, r, "dx", dx[0], dx[1], x_len(&s),
                          8.0 * FLT_EPSILON * (double)(s.k * s.kh * s.kw) * mdy * check_max_abs(w, w_len(&s)), 0);
    }
    return check_done(c, sd);
}

/* ---- pool2d_fwd, pool2d_bwd, max and average ---------------------------------------
 * max: y and idx exact (the same comparisons), dx a float sum of at most
 * ceil(window/stride)^2 values against double: 2 eps per term of max|dy|;
 * avg: float sums against double, 2 eps per term of the largest input (4). */

static nncl_pool2d_shape random_pool(check_ctx *c)
{
    size_t win = check_awkward(&c->rng, 1, 4);
    size_t stride = nncl_rng_below(&c->rng, 3) ? 0 : check_awkward(&c->rng, 1, 4);
    nncl_pool2d_shape s;
    nncl_status st = nncl_pool2d_shape_make(check_awkward(&c->rng, 1, c->quick ? 3 : 9),
                                            check_awkward(&c->rng, 1, 7), check_awkward(&c->rng, win, 29),
                                            check_awkward(&c->rng, win, 29), win, stride, &s);
    (void)st;  /* cannot fail: every size >= 1 and the window fits */
    return s;
}

static void describe_pool(check_row *r, const nncl_pool2d_shape *s, const char *extra)
{
    snprintf(r->shape, sizeof r->shape, "%zux%zux%zux%zu win%zu s%zu%s", s->n, s->c, s->h, s->w, s->window,
             s->stride, extra);
}

nncl_status check_op_pool2d_fwd(check_ctx *c, check_row *r)
{
    nncl_pool2d_shape s = random_pool(c);
    describe_pool(r, &s, ", max and avg");
    size_t nx = s.n * s.c * s.h * s.w, ny = s.n * s.c * s.oh * s.ow;
    float *x = check_random(c, nx, -4, 4);
    if (c->nomem)
        return check_nomem();
    for (size_t i = 0; i < nx; i += 11)
        x[i] = x[i + 1 < nx ? i + 1 : i];     /* ties: the first maximum must win */
    check_side sd[2];
    check_sides_open(c, sd);
    for (int kind = 0; kind < 2; kind++) {
        float *y[2], *idx[2];
        for (int d = 0; d < 2; d++) {
            nncl_pool2d_fwd_args a = {(nncl_pool)kind, s, check_side_put(&sd[d], x, nx, 4),
                                      check_side_put(&sd[d], NULL, ny, 4),
                                      kind == NNCL_POOL_MAX ? check_side_put(&sd[d], NULL, ny, 4) : (nncl_view){0}};
            CHECK_RUN(&sd[d], pool2d_fwd, a);
            y[d] = check_side_floats(c, &sd[d], a.y, ny);
            idx[d] = kind == NNCL_POOL_MAX ? check_side_ints(c, &sd[d], a.idx, ny) : NULL;
        }
        if (!check_sides_ok(r, &sd[0], &sd[1]))
            break;
        if (kind == NNCL_POOL_MAX) {
            check_compare(c, r, "max y", y[0], y[1], ny, 0, 0);
            check_compare(c, r, "max idx", idx[0], idx[1], ny, 0, 0);
        } else {
            check_compare(c, r, "avg y", y[0], y[1], ny, 2.0 * FLT_EPSILON * 4.0 * (double)(s.window * s.window), 0);
        }
    }
    return check_done(c, sd);
}

nncl_status check_op_pool2d_bwd(check_ctx *c, check_row *r)
{
    nncl_pool2d_shape s = random_pool(c);
    describe_pool(r, &s, ", max and avg");
    size_t nx = s.n * s.c * s.h * s.w, ny = s.n * s.c * s.oh * s.ow;
    float *dy = check_random(c, ny, -1, 1);
    int32_t *idx = check_alloc(c, ny * sizeof *idx);
    if (c->nomem)
        return check_nomem();
    /* idx as a forward pass gives it: a position inside each window */
    for (size_t p = 0, o = 0; p < s.n * s.c; p++)
        for (size_t i = 0; i < s.oh; i++)
            for (size_t j = 0; j < s.ow; j++, o++)
                idx[o] = (int32_t)((i * s.stride + nncl_rng_below(&c->rng, s.window)) * s.w + j * s.stride +
                                   nncl_rng_below(&c->rng, s.window));
    size_t per = (s.window + s.stride - 1) / s.stride;
    check_side sd[2];
    check_sides_open(c, sd);
    for (int kind = 0; kind < 2; kind++) {
        float *dx[2];
        for (int d = 0; d < 2; d++) {
            nncl_pool2d_bwd_args a = {(nncl_pool)kind, s, check_side_put(&sd[d], dy, ny, 4),
                                      check_side_put(&sd[d], idx, ny, 4), check_side_put(&sd[d], NULL, nx, 4)};
            CHECK_RUN(&sd[d], pool2d_bwd, a);
            dx[d] = check_side_floats(c, &sd[d], a.dx, nx);
        }
        if (!check_sides_ok(r, &sd[0], &sd[1]))
            break;
        check_compare(c, r, kind == NNCL_POOL_MAX ? "max dx" : "avg dx", dx[0], dx[1], nx,
                      2.0 * FLT_EPSILON * (double)(per * per), 0);
    }
    return check_done(c, sd);
}

/* ---- batchnorm_fwd, batchnorm_bwd -----------------------------------------------------
 * The device sums each channel's M values in float (lanes of at least 64,
 * then a tree: at most d = ceil(M/64) + 8 additions deep), the host in
 * double. Bounds, from the case's own values:
 *   mean: (d+1) eps max|x|; invstd: (d/2 + 8) eps relative (the variance's
 *   sum, sqrt and division); y: max|gamma| times the mean's error times
 *   max invstd, plus the invstd's relative error on max|gamma xhat|, plus
 *   2 eps (max|y| + max|beta|); running statistics: (d+8) eps (the old
 *   value and the new). Eval: 8 eps (max|y| + 2 max|beta|) (no sums).
 *   bwd: dbeta (d eps) and dgamma ((d+2) eps) times the largest channel sum
 *   of |dy| and |dy xhat|; dx: those errors through gamma invstd / M, plus
 *   6 eps of its terms' magnitudes. */

static double bn_depth(size_t m) { return (double)((m + 63) / 64) + 8.0; }

/* A channel count, image size and batch, awkward; half the rows dense (hw = 1). */
static void random_bn(check_ctx *c, size_t *n, size_t *ch, size_t *hw)
{
    *n = check_awkward(&c->rng, 1, c->quick ? 9 : 67);
    *ch = check_awkward(&c->rng, 1, c->quick ? 7 : 37);
    *hw = nncl_rng_below(&c->rng, 2) ? 1 : check_awkward(&c->rng, 1, c->quick ? 49 : 197);
}

static double max_abs_d(const float *x, size_t n) { return (double)check_max_abs(x, n); }

nncl_status check_op_batchnorm_fwd(check_ctx *c, check_row *r)
{
    size_t n, ch, hw;
    random_bn(c, &n, &ch, &hw);
    size_t total = n * ch * hw, M = n * hw;
    snprintf(r->shape, sizeof r->shape, "n=%zu c=%zu hw=%zu, train and eval", n, ch, hw);
    float *x = check_random(c, total, -1, 3), *gamma = check_random(c, ch, 0.5f, 1.5f);
    float *beta = check_random(c, ch, -0.5f, 0.5f), *rm = check_random(c, ch, -1, 1);
    float *rv = check_random(c, ch, 0.5f, 2);
    if (c->nomem)
        return check_nomem();
    check_side sd[2];
    check_sides_open(c, sd);
    float *y[2][2], *save[2], *rmo[2], *rvo[2];
    for (int d = 0; d < 2; d++)
        for (int train = 1; train >= 0; train--) {
            nncl_batchnorm_fwd_args a = {
                .n = n, .c = ch, .hw = hw, .x = check_side_put(&sd[d], x, total, 4),
                .y = check_side_put(&sd[d], NULL, total, 4), .gamma = check_side_put(&sd[d], gamma, ch, 4),
                .beta = check_side_put(&sd[d], beta, ch, 4), .run_mean = check_side_put(&sd[d], rm, ch, 4),
                .run_var = check_side_put(&sd[d], rv, ch, 4),
                .save = train ? check_side_put(&sd[d], NULL, 2 * ch, 4) : (nncl_view){0},
                .train = train, .momentum = 0.1f, .eps = 1e-5f,
            };
            CHECK_RUN(&sd[d], batchnorm_fwd, a);
            y[d][train] = check_side_floats(c, &sd[d], a.y, total);
            if (train) {
                save[d] = check_side_floats(c, &sd[d], a.save, 2 * ch);
                rmo[d] = check_side_floats(c, &sd[d], a.run_mean, ch);
                rvo[d] = check_side_floats(c, &sd[d], a.run_var, ch);
            }
        }
    if (!check_sides_ok(r, &sd[0], &sd[1]))
        return check_done(c, sd);
    const double eps = FLT_EPSILON, dep = bn_depth(M), mx = max_abs_d(x, total), mg = max_abs_d(gamma, ch);
    const double mb = max_abs_d(beta, ch), inv = max_abs_d(save[1] + ch, ch);
    double my = max_abs_d(y[1][1], total);
    double tol_y = mg * (dep + 1) * eps * mx * inv + (dep / 2 + 10) * eps * (my + mb) + 2 * eps * (my + mb);
    check_compare(c, r, "train y", y[0][1], y[1][1], total, tol_y, 0);
    check_compare(c, r, "mean", save[0], save[1], ch, (dep + 1) * eps * mx, 0);
    check_compare(c, r, "invstd", save[0] + ch, save[1] + ch, ch, 0, (dep / 2 + 8) * eps);
    check_compare(c, r, "run_mean", rmo[0], rmo[1], ch, (dep + 8) * eps * (mx + max_abs_d(rm, ch)), 0);
    check_compare(c, r, "run_var", rvo[0], rvo[1], ch,
                  (dep + 8) * eps * (max_abs_d(rv, ch) + max_abs_d(rvo[1], ch)), 0);
    my = max_abs_d(y[1][0], total);
    check_compare(c, r, "eval y", y[0][0], y[1][0], total, 8 * eps * (my + 2 * mb), 0);
    return check_done(c, sd);
}

nncl_status check_op_batchnorm_bwd(check_ctx *c, check_row *r)
{
    size_t n, ch, hw;
    random_bn(c, &n, &ch, &hw);
    bool with_dx = nncl_rng_below(&c->rng, 4) != 0;
    size_t total = n * ch * hw, M = n * hw;
    snprintf(r->shape, sizeof r->shape, "n=%zu c=%zu hw=%zu%s", n, ch, hw, with_dx ? "" : " no dx");
    float *x = check_random(c, total, -1, 3), *dy = check_random(c, total, -1, 1);
    float *gamma = check_random(c, ch, 0.5f, 1.5f), *save = check_random(c, 2 * ch, 0, 2);
    if (c->nomem)
        return check_nomem();
    for (size_t k = 0; k < ch; k++)
        save[ch + k] = 0.5f + save[ch + k];     /* invstd in [0.5, 2.5) */
    check_side sd[2];
    check_sides_open(c, sd);
    float *dx[2], *dg[2], *db[2];
    for (int d = 0; d < 2; d++) {
        nncl_batchnorm_bwd_args a = {
            .n = n, .c = ch, .hw = hw, .x = check_side_put(&sd[d], x, total, 4),
            .dy = check_side_put(&sd[d], dy, total, 4), .gamma = check_side_put(&sd[d], gamma, ch, 4),
            .save = check_side_put(&sd[d], save, 2 * ch, 4),
            .dx = with_dx ? check_side_put(&sd[d], NULL, total, 4) : (nncl_view){0},
            .dgamma = check_side_put(&sd[d], NULL, ch, 4), .dbeta = check_side_put(&sd[d], NULL, ch, 4),
        };
        CHECK_RUN(&sd[d], batchnorm_bwd, a);
        dx[d] = with_dx ? check_side_floats(c, &sd[d], a.dx, total) : NULL;
        dg[d] = check_side_floats(c, &sd[d], a.dgamma, ch);
        db[d] = check_side_floats(c, &sd[d], a.dbeta, ch);
    }
    if (!check_sides_ok(r, &sd[0], &sd[1]))
        return check_done(c, sd);
    /* the largest channel sums of |dy| and |dy xhat|, and max |xhat| */
    double s0 = 0, s1 = 0, X = 0;
    for (size_t k = 0; k < ch; k++) {
        double a0 = 0, a1 = 0;
        for (size_t i = 0; i < n; i++)
            for (size_t p = 0; p < hw; p++) {
                size_t t = (i * ch + k) * hw + p;
                double xh = fabs(((double)x[t] - save[k]) * save[ch + k]);
                a0 += fabs(dy[t]), a1 += fabs(dy[t]) * xh, X = xh > X ? xh : X;
            }
        s0 = a0 > s0 ? a0 : s0, s1 = a1 > s1 ? a1 : s1;
    }
    const double eps = FLT_EPSILON, dep = bn_depth(M);
    double e_db = dep * eps * s0, e_dg = (dep + 2) * eps * s1;
    check_compare(c, r, "dbeta", db[0], db[1], ch, e_db, 0);
    check_compare(c, r, "dgamma", dg[0], dg[1], ch, e_dg, 0);
    if (with_dx) {
        double K = max_abs_d(gamma, ch) * max_abs_d(save + ch, ch) / (double)M;
        double terms = (double)M * max_abs_d(dy, total) + max_abs_d(db[1], ch) + X * max_abs_d(dg[1], ch);
        check_compare(c, r, "dx", dx[0], dx[1], total, K * (e_db + X * e_dg) + 6 * eps * K * terms, 0);
    }
    return check_done(c, sd);
}
