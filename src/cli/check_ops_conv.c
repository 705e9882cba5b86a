/* `nncl check`: the convolution and pooling ops on the device against their
 * host twins (im2col, col2im, conv2d_fwd, conv2d_bwd, pool2d_fwd,
 * pool2d_bwd), as check_ops.c does for the others. Shapes are drawn awkward:
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
    check_side sd[2];
    float *out[2];
    check_sides_open(c, sd);
    for (int d = 0; d < 2; d++) {
        nncl_conv2d_fwd_args a = {
            .s = s, .x = check_side_put(&sd[d], x, x_len(&s), 4), .w = check_side_put(&sd[d], w, w_len(&s), 4),
            .b = bias ? check_side_put(&sd[d], b, s.k, 4) : (nncl_view){0},
            .y = check_side_put(&sd[d], NULL, y_len(&s), 4), .act = act, .act_param = 0.1f,
            .scratch = check_side_put(&sd[d], NULL, scratch, 4),
        };
        CHECK_RUN(&sd[d], conv2d_fwd, a);
        out[d] = check_side_floats(c, &sd[d], a.y, y_len(&s));
    }
    double taps = (double)(s.c * s.kh * s.kw);
    double atol = 8.0 * FLT_EPSILON * (taps * check_max_abs(x, x_len(&s)) * check_max_abs(w, w_len(&s)) + (bias ? 0.5 : 0));
    bool t = act == NNCL_ACT_SIGMOID || act == NNCL_ACT_TANH;
    if (check_sides_ok(r, &sd[0], &sd[1]))
        check_compare(c, r, "y", out[0], out[1], y_len(&s), atol, t ? 2e-6 : 0);
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
