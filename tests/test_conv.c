/* The convolution and pooling ops: every device against the oracles, the
 * host twins against hand-computed cases, and the backward passes against
 * finite differences in double.
 *
 * conv2d_fwd and conv2d_bwd run on every device (host included: its path is
 * im2col + OpenBLAS) and are compared with the direct double-precision loops
 * of src/ops/conv_reference.c, which share no code with them. im2col,
 * col2im and the pooling ops are compared with their host twins. Outputs
 * start as NaN poison, views sit at nonzero offsets with poison after them
 * (a stray write shows up), and each tolerance is stated beside its test;
 * eps is float's machine epsilon. Shapes are awkward on purpose: primes,
 * 1x1 and even filters, stride 2, same/valid/explicit padding, N = 1,
 * C = 1, K = 1. */
#include <float.h>
#include <stdio.h>

#include "nncl_config.h"
#include "ops/conv_direct.h"
#include "ops/conv_impl.h"
#include "test_util.h"
#include "test_views.h"

/* ---- views at an offset inside poisoned buffers ------------------------------ */


static float max_abs(const float *x, size_t n)
{
    float m = 0;
    for (size_t i = 0; i < n; i++)
        if (fabsf(x[i]) > m)
            m = fabsf(x[i]);
    return m;
}


static void check_close_d(const char *what, const float *got, const double *ref, size_t n, double atol)
{
    for (size_t i = 0; i < n; i++)
        if (!(fabs(got[i] - ref[i]) <= atol))
            ck_abort_msg("%s: element %zu is %.9g, the oracle says %.12g (atol %g)", what, i, (double)got[i],
                         ref[i], atol);
}

/* ---- the shapes ---------------------------------------------------------------- */

typedef struct conv_case {
    size_t n, c, h, w, k, f, stride;
    int padding;
    size_t cut; /* if nonzero: oh and ow at most this (a valid shape that leaves input unread) */
} conv_case;

static const conv_case conv_cases[] = {
    {1, 1, 5, 5, 1, 1, 1, NNCL_PAD_VALID, 0},      /* everything 1: a 1x1 filter is a scaling */
    {2, 3, 7, 11, 5, 3, 1, NNCL_PAD_SAME, 0},
    {3, 2, 13, 7, 4, 5, 2, NNCL_PAD_SAME, 0},      /* stride 2, same: ceil(in / 2) */
    {1, 5, 8, 8, 3, 4, 1, NNCL_PAD_SAME, 0},       /* an even filter: the odd zero goes after */
    {2, 1, 17, 13, 7, 3, 2, NNCL_PAD_VALID, 0},
    {1, 3, 6, 9, 2, 2, 2, 1, 0},                   /* explicit padding */
    {5, 4, 11, 11, 6, 1, 2, NNCL_PAD_VALID, 0},    /* 1x1, stride 2 */
    {3, 1, 3, 3, 1, 3, 1, NNCL_PAD_VALID, 0},      /* the filter covers the image: 1x1 output */
    {2, 16, 14, 14, 32, 5, 1, NNCL_PAD_SAME, 0},   /* the CNN's second layer, batch 2 */
    {3, 1, 28, 28, 8, 5, 1, NNCL_PAD_SAME, 0},     /* its first layer */
    {3, 2, 9, 37, 70, 3, 1, NNCL_PAD_SAME, 0},     /* 70 filters (5 blocks of 16), rows wider than a block */
    {2, 4, 10, 6, 17, 3, 1, 2, 0},                 /* explicit padding 2, stride 1: an output larger than x */
    {2, 3, 9, 8, 6, 3, 1, NNCL_PAD_VALID, 0},      /* valid at stride 1 with 27 taps: dx's border is kh-1 */
    {2, 17, 5, 7, 9, 1, 1, NNCL_PAD_VALID, 0},     /* 1x1 over 17 channels: a direct-form 1x1 */
    {2, 16, 12, 12, 8, 5, 1, NNCL_PAD_VALID, 1},   /* cut to 1x1: most of x never read */
    {1, 16, 14, 14, 32, 5, 1, NNCL_PAD_SAME, 3},   /* cut to 3x3 */
};
enum { N_CONV_CASES = sizeof conv_cases / sizeof conv_cases[0] };

static nncl_conv2d_shape make_shape(const conv_case *k)
{
    nncl_conv2d_shape s;
    ck_assert_ok(nncl_conv2d_shape_make(k->n, k->c, k->h, k->w, k->k, k->f, k->f, k->stride, k->padding, &s));
    if (k->cut) {
        s.oh = s.oh < k->cut ? s.oh : k->cut;
        s.ow = s.ow < k->cut ? s.ow : k->cut;
        ck_assert_ok(nncl_check_conv2d_shape(&s, true, "a cut-short shape"));
    }
    return s;
}

static void describe(char *buf, size_t len, const char *dev, const char *op, const nncl_conv2d_shape *s)
{
    snprintf(buf, len, "%s: %s %zux%zux%zux%zu, %zu filters %zux%zu, stride %zu, pad %zu,%zu -> %zux%zu", dev, op,
             s->n, s->c, s->h, s->w, s->k, s->kh, s->kw, s->stride_h, s->pad_h, s->pad_w, s->oh, s->ow);
}

/* ---- the shape arithmetic, by hand ------------------------------------------------- */

START_TEST(shapes_by_hand)
{
    nncl_conv2d_shape s;
    /* same, stride 1, odd filter: pad (f - 1) / 2, output = input */
    ck_assert_ok(nncl_conv2d_shape_make(2, 1, 28, 28, 16, 5, 5, 1, NNCL_PAD_SAME, &s));
    ck_assert(s.oh == 28 && s.ow == 28 && s.pad_h == 2 && s.pad_w == 2);
    /* same, even filter: 3 zeros, 1 before and 2 after */
    ck_assert_ok(nncl_conv2d_shape_make(1, 1, 8, 8, 1, 4, 4, 1, NNCL_PAD_SAME, &s));
    ck_assert(s.oh == 8 && s.pad_h == 1);
    /* same, stride 2 on 13: ceil(13/2) = 7, (7-1)*2 + 5 - 13 = 4 zeros, 2 before */
    ck_assert_ok(nncl_conv2d_shape_make(1, 1, 13, 13, 1, 5, 5, 2, NNCL_PAD_SAME, &s));
    ck_assert(s.oh == 7 && s.pad_h == 2);
    /* valid: (in - f) / stride + 1, floor */
    ck_assert_ok(nncl_conv2d_shape_make(1, 1, 28, 27, 1, 3, 3, 2, NNCL_PAD_VALID, &s));
    ck_assert(s.oh == 13 && s.ow == 13 && s.pad_h == 0);
    /* explicit 1 */
    ck_assert_ok(nncl_conv2d_shape_make(1, 1, 6, 9, 1, 2, 2, 2, 1, &s));
    ck_assert(s.oh == 4 && s.ow == 5 && s.pad_w == 1);
    /* refused: a filter larger than the input, a zero size, padding >= filter */
    ck_assert_int_eq(nncl_conv2d_shape_make(1, 1, 3, 3, 1, 5, 5, 1, NNCL_PAD_VALID, &s), NNCL_E_INVALID);
    ck_assert_int_eq(nncl_conv2d_shape_make(1, 0, 3, 3, 1, 1, 1, 1, NNCL_PAD_VALID, &s), NNCL_E_INVALID);
    ck_assert_int_eq(nncl_conv2d_shape_make(1, 1, 8, 8, 1, 3, 3, 1, 3, &s), NNCL_E_INVALID);
    ck_assert_int_eq(nncl_conv2d_shape_make(1, 1, 8, 8, 1, 3, 3, 1, -2, &s), NNCL_E_INVALID);
    /* pooling: floor, stride = window by default */
    nncl_pool2d_shape p;
    ck_assert_ok(nncl_pool2d_shape_make(1, 1, 7, 5, 2, 0, &p));
    ck_assert(p.oh == 3 && p.ow == 2 && p.stride == 2);
    ck_assert_ok(nncl_pool2d_shape_make(1, 1, 7, 7, 3, 2, &p));
    ck_assert(p.oh == 3 && p.ow == 3);
    ck_assert_int_eq(nncl_pool2d_shape_make(1, 1, 1, 7, 2, 0, &p), NNCL_E_INVALID);
    nncl_clear_error();
}
END_TEST

/* A 1x1x3x3 image, one 2x2 filter, valid: the sums by hand. */
START_TEST(conv_by_hand)
{
    nncl_device *h = test_host_device();
    const float x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, w[4] = {1, 0, -1, 2}, b[1] = {0.5f};
    nncl_conv2d_shape s;
    ck_assert_ok(nncl_conv2d_shape_make(1, 1, 3, 3, 1, 2, 2, 1, NNCL_PAD_VALID, &s));
    /* y[i, j] = x[i, j] - x[i+1, j] + 2 x[i+1, j+1] + 0.5 */
    const float want[4] = {1 - 4 + 10 + 0.5f, 2 - 5 + 12 + 0.5f, 4 - 7 + 16 + 0.5f, 5 - 8 + 18 + 0.5f};
    tview xv = tv_new(h, x, 9, 1), wv = tv_new(h, w, 4, 2), bv = tv_new(h, b, 1, 3), yv = tv_new(h, NULL, 4, 1);
    tview sv = tv_new(h, NULL, nncl_conv2d_scratch_len(&s), 0);
    nncl_conv2d_fwd_args a = {.s = s, .x = V(xv), .w = V(wv), .b = V(bv), .y = V(yv), .scratch = V(sv)};
    ck_assert_ok(nncl_conv2d_fwd(h, &a));
    float *y = tv_read(yv, "conv by hand"), ref[4];
    check_close("conv by hand", y, want, 4, 0, 0);
    nncl_conv2d_reference_fwd(&s, x, w, b, NNCL_ACT_IDENTITY, 0, ref);
    check_close("conv reference by hand", ref, want, 4, 0, 0);
    free(y);
    tv_free(xv), tv_free(wv), tv_free(bv), tv_free(yv), tv_free(sv);
    nncl_device_close(h);
}
END_TEST

/* A 1x1x5x5 plane, 2x2 max and average pooling: floor drops the last row
 * and column; a tie picks the first maximum; a NaN wins. */
START_TEST(pool_by_hand)
{
    nncl_device *h = test_host_device();
    const float x[25] = {1, 3, 2, 2, 9,  /* row 0 */
                         0, 3, 2, 1, 9,  /* row 1: 3 ties with row 0's 3 */
                         5, 4, NAN, 7, 9, 6, 8, 1, 1, 9, 9, 9, 9, 9, 9};
    nncl_pool2d_shape s;
    ck_assert_ok(nncl_pool2d_shape_make(1, 1, 5, 5, 2, 0, &s));
    tview xv = tv_new(h, x, 25, 0), yv = tv_new(h, NULL, 4, 1), iv = tv_new(h, NULL, 4, 2);
    nncl_pool2d_fwd_args a = {NNCL_POOL_MAX, s, V(xv), V(yv), V(iv)};
    ck_assert_ok(nncl_pool2d_fwd(h, &a));
    float *y = tv_read(yv, "max"), *idxf = tv_read(iv, "idx");
    int32_t idx[4];
    memcpy(idx, idxf, sizeof idx);
    ck_assert(y[0] == 3 && y[1] == 2 && y[2] == 8 && isnan(y[3]));
    ck_assert(idx[0] == 1 && idx[1] == 2 && idx[2] == 16 && idx[3] == 12);
    /* backward: dy lands on the argmax; everything else, row/col 4 included, is 0 */
    const float dy[4] = {1, 2, 3, 4};
    tview dyv = tv_new(h, dy, 4, 3), dxv = tv_new(h, NULL, 25, 1);
    nncl_pool2d_bwd_args b = {NNCL_POOL_MAX, s, V(dyv), V(iv), V(dxv)};
    ck_assert_ok(nncl_pool2d_bwd(h, &b));
    float *dx = tv_read(dxv, "max dx");
    float want[25] = {0};
    want[1] = 1, want[2] = 2, want[16] = 3, want[12] = 4;
    check_close("max dx by hand", dx, want, 25, 0, 0);
    free(dx);
    /* average: (1+3+0+3)/4, (2+2+2+1)/4, (5+4+6+8)/4; dx = dy/4 over each window */
    a.kind = NNCL_POOL_AVG;
    a.idx = (nncl_view){0};
    ck_assert_ok(nncl_pool2d_fwd(h, &a));
    free(y);
    y = tv_read(yv, "avg");
    ck_assert(y[0] == 1.75f && y[1] == 1.75f && y[2] == 5.75f && isnan(y[3]));
    b.kind = NNCL_POOL_AVG;
    ck_assert_ok(nncl_pool2d_bwd(h, &b));
    dx = tv_read(dxv, "avg dx");
    for (int r = 0; r < 5; r++)
        for (int q = 0; q < 5; q++)
            want[r * 5 + q] = r < 4 && q < 4 ? dy[(r / 2) * 2 + q / 2] / 4 : 0;
    check_close("avg dx by hand", dx, want, 25, 0, 0);
    free(y), free(idxf), free(dx);
    tv_free(xv), tv_free(yv), tv_free(iv), tv_free(dyv), tv_free(dxv);
    nncl_device_close(h);
}
END_TEST

/* ---- conv2d on every device against the double-precision loops ------------------------
 * fwd: |y - ref| <= 8 eps (taps max|x| max|w| + max|b|), taps = c kh kw: the
 * forward error bound of a float dot product in any order (and of the
 * bias add), plus 2e-6 relative for the ulps of exp/tanh in sigmoid/tanh.
 * bwd: the same bound for each sum: dw and db over n oh ow terms, dx over
 * k kh kw terms (the taps that read a pixel). */

/* Every case runs in each of these modes. On a CPU conv2d works through
 * the batch in chunks of images (src/ops/conv2d.c), so a batch of several
 * chunks is always tested (one image each). The host backend sums a
 * stride-1 layer of 16 taps or more directly in register blocks
 * (src/ops/conv_direct.c), with AVX-512's blocks where the CPU has them:
 * its AVX2 blocks and the im2col + GEMM form (every other shape's) run too.
 * OpenCL devices ignore NNCL_CONV_DIRECT. */
typedef struct conv_mode {
    const char *what, *chunk_floats, *direct;
} conv_mode;
static const conv_mode conv_modes[] = {
    {"", NULL, NULL},
    {" (one image per chunk)", "1", NULL},
    {" (the direct form's AVX2 blocks)", NULL, "avx2"},
    {" (im2col + GEMM)", NULL, "off"},
};
enum { N_MODES = sizeof conv_modes / sizeof conv_modes[0] };

static void set_env(const char *name, const char *value)
{
    if (value)
        setenv(name, value, 1);
    else
        unsetenv(name);
}

static const conv_mode *set_mode(int m)
{
    set_env("NNCL_CONV_CHUNK_FLOATS", conv_modes[m].chunk_floats);
    set_env("NNCL_CONV_DIRECT", conv_modes[m].direct);
    return &conv_modes[m];
}

START_TEST(conv2d_fwd_matches_reference)
{
    nncl_device_list *list = test_devices();
    for (int d = 0; d < list->count; d++) {
        nncl_device *dev = test_open(d);
        uint64_t seed = 100 + (uint64_t)d;
        for (int ci = 0; ci < N_MODES * N_CONV_CASES; ci++) {
            const conv_mode *mode = set_mode(ci / N_CONV_CASES);
            nncl_conv2d_shape s = make_shape(&conv_cases[ci % N_CONV_CASES]);
            /* v shifts with the mode, so each case meets each option in some mode */
            int v = ci + ci / N_CONV_CASES;
            nncl_act act = (nncl_act)(v % 5);
            bool bias = v % 2 == 1;
            size_t nx = nncl_conv2d_x_len(&s), nw = nncl_conv2d_w_len(&s), ny = nncl_conv2d_y_len(&s);
            float *x = test_random(&seed, nx, -1, 1), *w = test_random(&seed, nw, -1, 1);
            float *b = test_random(&seed, s.k, -0.5f, 0.5f), *ref = malloc(ny * 4);
            nncl_conv2d_reference_fwd(&s, x, w, bias ? b : NULL, act, 0.1f, ref);
            tview xv = tv_new(dev, x, nx, 3), wv = tv_new(dev, w, nw, 1), bv = tv_new(dev, b, s.k, 2);
            tview yv = tv_new(dev, NULL, ny, 7), sv = tv_new(dev, NULL, nncl_conv2d_scratch_len(&s), 4);
            nncl_conv2d_fwd_args a = {.s = s, .x = V(xv), .w = V(wv), .b = bias ? V(bv) : (nncl_view){0},
                                      .y = V(yv), .act = act, .act_param = 0.1f, .scratch = V(sv)};
            ck_assert_ok(nncl_conv2d_fwd(dev, &a));
            char what[600], op[96];
            snprintf(op, sizeof op, "conv2d_fwd%s", mode->what);
            describe(what, sizeof what, list->items[d].name, op, &s);
            float *y = tv_read(yv, what);
            double taps = (double)(s.c * s.kh * s.kw);
            double atol = 8.0 * FLT_EPSILON * (taps * max_abs(x, nx) * max_abs(w, nw) + (bias ? 0.5 : 0));
            bool t = act == NNCL_ACT_SIGMOID || act == NNCL_ACT_TANH;
            check_close(what, y, ref, ny, atol, t ? 2e-6 : 0);
            free(x), free(w), free(b), free(ref), free(y);
            tv_free(xv), tv_free(wv), tv_free(bv), tv_free(yv), tv_free(sv);
        }
        set_mode(0);
        nncl_device_close(dev);
    }
}
END_TEST

START_TEST(conv2d_bwd_matches_reference)
{
    nncl_device_list *list = test_devices();
    for (int d = 0; d < list->count; d++) {
        nncl_device *dev = test_open(d);
        uint64_t seed = 200 + (uint64_t)d;
        for (int ci = 0; ci < N_MODES * N_CONV_CASES; ci++) {
            const conv_mode *mode = set_mode(ci / N_CONV_CASES);
            nncl_conv2d_shape s = make_shape(&conv_cases[ci % N_CONV_CASES]);
            int v = ci + ci / N_CONV_CASES; /* as in the forward test */
            bool with_dx = v % 3 != 2, with_db = v % 4 != 3;
            size_t nx = nncl_conv2d_x_len(&s), nw = nncl_conv2d_w_len(&s), ny = nncl_conv2d_y_len(&s);
            float *x = test_random(&seed, nx, -1, 1), *w = test_random(&seed, nw, -1, 1);
            float *dy = test_random(&seed, ny, -1, 1);
            double *rdx = malloc(nx * 8), *rdw = malloc(nw * 8), *rdb = malloc(s.k * 8);
            nncl_conv2d_reference_bwd(&s, x, w, dy, rdx, rdw, rdb);
            tview xv = tv_new(dev, x, nx, 1), wv = tv_new(dev, w, nw, 2), dyv = tv_new(dev, dy, ny, 3);
            tview dxv = tv_new(dev, NULL, nx, 4), dwv = tv_new(dev, NULL, nw, 5), dbv = tv_new(dev, NULL, s.k, 6);
            tview sv = tv_new(dev, NULL, nncl_conv2d_scratch_len(&s), 7);
            nncl_conv2d_bwd_args a = {.s = s, .x = V(xv), .w = V(wv), .dy = V(dyv),
                                      .dx = with_dx ? V(dxv) : (nncl_view){0}, .dw = V(dwv),
                                      .db = with_db ? V(dbv) : (nncl_view){0}, .scratch = V(sv)};
            ck_assert_ok(nncl_conv2d_bwd(dev, &a));
            char what[600], part[640], op[96];
            snprintf(op, sizeof op, "conv2d_bwd%s", mode->what);
            describe(what, sizeof what, list->items[d].name, op, &s);
            double rows = (double)(s.n * s.oh * s.ow), mdy = max_abs(dy, ny);
            snprintf(part, sizeof part, "%s dw", what);
            float *dw = tv_read(dwv, part);
            check_close_d(part, dw, rdw, nw, 8.0 * FLT_EPSILON * rows * mdy * max_abs(x, nx));
            snprintf(part, sizeof part, "%s db", what);
            float *db = tv_read(dbv, part);
            if (with_db)
                check_close_d(part, db, rdb, s.k, 8.0 * FLT_EPSILON * rows * mdy);
            else
                for (size_t i = 0; i < s.k; i++)
                    ck_assert_msg(isnan(db[i]), "%s: written without being asked for", part);
            snprintf(part, sizeof part, "%s dx", what);
            float *dx = tv_read(dxv, part);
            if (with_dx)
                check_close_d(part, dx, rdx, nx, 8.0 * FLT_EPSILON * (double)(s.k * s.kh * s.kw) * mdy * max_abs(w, nw));
            else
                for (size_t i = 0; i < nx; i++)
                    ck_assert_msg(isnan(dx[i]), "%s: written without being asked for", part);
            free(x), free(w), free(dy), free(rdx), free(rdw), free(rdb), free(dw), free(db), free(dx);
            tv_free(xv), tv_free(wv), tv_free(dyv), tv_free(dxv), tv_free(dwv), tv_free(dbv), tv_free(sv);
        }
        set_mode(0);
        nncl_device_close(dev);
    }
}
END_TEST

/* ---- the direct form's two instruction sets: the same bits ----------------------------
 * Each output's sum runs over its taps (dW's over its pixels) in order in
 * one lane, whatever the block (src/ops/conv_direct.c), so AVX2's blocks
 * must give AVX-512's results exactly: forward (bias, relu) and backward
 * (dx, dW, db) on every case the direct form takes. Skipped where the CPU
 * lacks AVX-512 (or the build has no x86 blocks): there both are AVX2's. */

/* Forward then backward on the host, the outputs concatenated: y, dx, dw, db. */
static float *host_conv_outputs(nncl_device *h, const nncl_conv2d_shape *s, const float *x, const float *w,
                                const float *b, const float *dy, size_t *len)
{
    size_t nx = nncl_conv2d_x_len(s), nw = nncl_conv2d_w_len(s), ny = nncl_conv2d_y_len(s);
    tview xv = tv_new(h, x, nx, 1), wv = tv_new(h, w, nw, 2), bv = tv_new(h, b, s->k, 3), dyv = tv_new(h, dy, ny, 4);
    tview yv = tv_new(h, NULL, ny, 5), dxv = tv_new(h, NULL, nx, 6), dwv = tv_new(h, NULL, nw, 7);
    tview dbv = tv_new(h, NULL, s->k, 8), sv = tv_new(h, NULL, nncl_conv2d_scratch_len(s), 9);
    nncl_conv2d_fwd_args fa = {.s = *s, .x = V(xv), .w = V(wv), .b = V(bv), .y = V(yv), .act = NNCL_ACT_RELU,
                               .scratch = V(sv)};
    nncl_conv2d_bwd_args ba = {.s = *s, .x = V(xv), .w = V(wv), .dy = V(dyv), .dx = V(dxv), .dw = V(dwv),
                               .db = V(dbv), .scratch = V(sv)};
    ck_assert_ok(nncl_conv2d_fwd(h, &fa));
    ck_assert_ok(nncl_conv2d_bwd(h, &ba));
    tview parts[4] = {yv, dxv, dwv, dbv};
    *len = ny + nx + nw + s->k;
    float *all = malloc(*len * sizeof *all);
    size_t at = 0;
    for (int i = 0; i < 4; i++) {
        float *part = tv_read(parts[i], "direct form outputs");
        memcpy(all + at, part, parts[i].n * sizeof *part);
        at += parts[i].n;
        free(part);
    }
    tv_free(xv), tv_free(wv), tv_free(bv), tv_free(dyv), tv_free(yv), tv_free(dxv), tv_free(dwv), tv_free(dbv),
        tv_free(sv);
    return all;
}

START_TEST(direct_isas_same_bits)
{
#if NNCL_HAVE_X86_KERNELS
    if (!__builtin_cpu_supports("avx512f")) {
        fprintf(stderr, "direct_isas_same_bits: skipped, the CPU has no AVX-512\n");
        return;
    }
    nncl_device *h = test_host_device();
    uint64_t seed = 300;
    int taken = 0;
    for (int ci = 0; ci < N_CONV_CASES; ci++) {
        nncl_conv2d_shape s = make_shape(&conv_cases[ci]);
        set_mode(0);
        if (nncl_conv_direct_isa(&s) != &cd_isa_avx512)
            continue; /* not a direct-form shape */
        setenv("NNCL_CONV_DIRECT", "avx2", 1);
        ck_assert(nncl_conv_direct_isa(&s) == &cd_isa_avx2);
        taken++;
        size_t nx = nncl_conv2d_x_len(&s), nw = nncl_conv2d_w_len(&s), ny = nncl_conv2d_y_len(&s), n512, n2;
        float *x = test_random(&seed, nx, -1, 1), *w = test_random(&seed, nw, -1, 1);
        float *b = test_random(&seed, s.k, -0.5f, 0.5f), *dy = test_random(&seed, ny, -1, 1);
        set_mode(0);
        float *r512 = host_conv_outputs(h, &s, x, w, b, dy, &n512);
        setenv("NNCL_CONV_DIRECT", "avx2", 1);
        float *r2 = host_conv_outputs(h, &s, x, w, b, dy, &n2);
        char what[600];
        describe(what, sizeof what, "host", "AVX2 against AVX-512 blocks", &s);
        for (size_t i = 0; i < n512; i++)
            ck_assert_msg(memcmp(&r512[i], &r2[i], sizeof *r2) == 0, "%s: output %zu (of y, dx, dw, db) is %.9g, not %.9g",
                          what, i, (double)r2[i], (double)r512[i]);
        free(x), free(w), free(b), free(dy), free(r512), free(r2);
    }
    set_mode(0);
    ck_assert_msg(taken >= 4, "only %d cases took the direct form", taken);
    nncl_device_close(h);
#else
    fprintf(stderr, "direct_isas_same_bits: skipped, a build without the x86 blocks\n");
#endif
}
END_TEST

/* ---- im2col and col2im: every device against the host twins (im2col exact, a
 * copy; col2im within 8 eps kh kw max|col|, the same float additions), and
 * col2im as im2col's adjoint on host: <im2col(x), c> = <x, col2im(c)> in double. */

START_TEST(im2col_col2im_match_host)
{
    nncl_device_list *list = test_devices();
    nncl_device *host = test_host_device();
    for (int d = 0; d < list->count; d++) {
        nncl_device *dev = test_open(d);
        uint64_t seed = 300 + (uint64_t)d;
        for (int ci = 0; ci < N_CONV_CASES; ci++) {
            nncl_conv2d_shape s = make_shape(&conv_cases[ci]);
            size_t nx = nncl_conv2d_x_len(&s), ncol = nncl_conv2d_col_len(&s);
            float *x = test_random(&seed, nx, -1, 1), *c = test_random(&seed, ncol, -1, 1);
            float *out[2][2];
            nncl_device *sides[2] = {dev, host};
            char what[600];
            describe(what, sizeof what, list->items[d].name, "im2col/col2im", &s);
            for (int k = 0; k < 2; k++) {
                tview xv = tv_new(sides[k], x, nx, 2 + k), colv = tv_new(sides[k], NULL, ncol, 1);
                nncl_im2col_args im = {s, V(xv), V(colv)};
                ck_assert_ok(nncl_im2col(sides[k], &im));
                out[k][0] = tv_read(colv, what);
                tview cv = tv_new(sides[k], c, ncol, 3), dxv = tv_new(sides[k], NULL, nx, 1);
                nncl_col2im_args ci2 = {s, V(cv), V(dxv)};
                ck_assert_ok(nncl_col2im(sides[k], &ci2));
                out[k][1] = tv_read(dxv, what);
                tv_free(xv), tv_free(colv), tv_free(cv), tv_free(dxv);
            }
            check_close(what, out[0][0], out[1][0], ncol, 0, 0);
            check_close(what, out[0][1], out[1][1], nx, 8.0 * FLT_EPSILON * s.kh * s.kw, 0);
            /* the adjoint identity, each side summed in double */
            double lhs = 0, rhs = 0, mag = 0;
            for (size_t i = 0; i < ncol; i++)
                lhs += (double)out[1][0][i] * c[i], mag += fabs((double)out[1][0][i] * c[i]);
            for (size_t i = 0; i < nx; i++)
                rhs += (double)x[i] * out[1][1][i];
            ck_assert_msg(fabs(lhs - rhs) <= 8.0 * FLT_EPSILON * mag + 1e-12, "%s: <im2col x, c> = %.12g but "
                          "<x, col2im c> = %.12g", what, lhs, rhs);
            free(x), free(c), free(out[0][0]), free(out[0][1]), free(out[1][0]), free(out[1][1]);
        }
        nncl_device_close(dev);
    }
    nncl_device_close(host);
}
END_TEST

/* ---- pooling on every device against the host twins -------------------------------
 * max: y, idx and dx exact (the same comparisons; dx adds the dy of the
 * windows that chose a pixel, at most ceil(window/stride)^2 of them, in the
 * same order, so only a float-vs-double sum of those: 2 eps per term);
 * avg: float sums against the twin's double: 2 eps window^2 max|x|. */

typedef struct pool_case {
    size_t n, c, h, w, window, stride;
} pool_case;

static const pool_case pool_cases[] = {
    {1, 1, 5, 5, 2, 0}, {2, 3, 7, 9, 2, 0},  {1, 1, 28, 28, 2, 0}, {3, 2, 13, 11, 3, 0},
    {2, 5, 9, 9, 3, 2}, {1, 1, 6, 7, 1, 0},  {4, 3, 4, 4, 4, 0},   {2, 2, 10, 11, 2, 1},
};

START_TEST(pool_matches_host)
{
    nncl_device_list *list = test_devices();
    nncl_device *host = test_host_device();
    for (int d = 0; d < list->count; d++) {
        nncl_device *dev = test_open(d);
        uint64_t seed = 400 + (uint64_t)d;
        for (size_t pi = 0; pi < sizeof pool_cases / sizeof pool_cases[0]; pi++) {
            const pool_case *pc = &pool_cases[pi];
            nncl_pool2d_shape s;
            ck_assert_ok(nncl_pool2d_shape_make(pc->n, pc->c, pc->h, pc->w, pc->window, pc->stride, &s));
            size_t nx = s.n * s.c * s.h * s.w, ny = s.n * s.c * s.oh * s.ow;
            float *x = test_random(&seed, nx, -4, 4), *dy = test_random(&seed, ny, -1, 1);
            for (size_t i = 0; i + 1 < nx; i += 7)
                x[i + 1] = x[i];                /* ties */
            if (nx > 20)
                x[17] = NAN;
            for (int kind = 0; kind < 2; kind++) {
                float *y[2], *idx[2], *dx[2];
                nncl_device *sides[2] = {dev, host};
                char what[600];
                snprintf(what, sizeof what, "%s: %s pool %zux%zux%zux%zu window %zu stride %zu", list->items[d].name,
                         kind ? "avg" : "max", s.n, s.c, s.h, s.w, s.window, s.stride);
                for (int k = 0; k < 2; k++) {
                    tview xv = tv_new(sides[k], x, nx, 1 + k), yv = tv_new(sides[k], NULL, ny, 2);
                    tview iv = tv_new(sides[k], NULL, ny, 3), dyv = tv_new(sides[k], dy, ny, 1);
                    tview dxv = tv_new(sides[k], NULL, nx, 4);
                    nncl_pool2d_fwd_args f = {(nncl_pool)kind, s, V(xv), V(yv),
                                              kind == NNCL_POOL_MAX ? V(iv) : (nncl_view){0}};
                    ck_assert_ok(nncl_pool2d_fwd(sides[k], &f));
                    /* max's backward from the forward's idx on the host, so both sides route the same */
                    nncl_pool2d_bwd_args b = {(nncl_pool)kind, s, V(dyv), V(iv), V(dxv)};
                    if (kind == NNCL_POOL_MAX && k == 0) {
                        float *hidx = tv_read(iv, what);
                        ck_assert_ok(nncl_buffer_write(iv.buf, iv.off * 4, hidx, ny * 4));
                        free(hidx);
                    }
                    ck_assert_ok(nncl_pool2d_bwd(sides[k], &b));
                    y[k] = tv_read(yv, what);
                    idx[k] = tv_read(iv, what);
                    dx[k] = tv_read(dxv, what);
                    tv_free(xv), tv_free(yv), tv_free(iv), tv_free(dyv), tv_free(dxv);
                }
                size_t per = (s.window + s.stride - 1) / s.stride;
                if (kind == NNCL_POOL_MAX) {
                    check_close(what, y[0], y[1], ny, 0, 0);
                    ck_assert_msg(memcmp(idx[0], idx[1], ny * 4) == 0, "%s: idx differs", what);
                    check_close(what, dx[0], dx[1], nx, 2.0 * FLT_EPSILON * (double)(per * per), 0);
                } else {
                    check_close(what, y[0], y[1], ny, 2.0 * FLT_EPSILON * (double)(s.window * s.window) * 4, 0);
                    check_close(what, dx[0], dx[1], nx, 2.0 * FLT_EPSILON * (double)(per * per), 0);
                }
                for (int k = 0; k < 2; k++)
                    free(y[k]), free(idx[k]), free(dx[k]);
            }
            free(x), free(dy);
        }
        nncl_device_close(dev);
    }
    nncl_device_close(host);
}
END_TEST

/* ---- gradients by finite differences, in double, on host ------------------------------
 * L = sum r * avgpool(maxpool(conv(x, w, b))), everything in double for the
 * differences (h = 1e-6): (1) conv_reference's backward against central
 * differences of a double convolution (the formulas; to 1e-7), (2) the chain
 * of the float host ops, conv2d_bwd(pool2d_bwd max(pool2d_bwd avg(r))),
 * against central differences of L (the code; float sums of O(1) terms:
 * 1e-4 relative + 2e-5). */

static const double H = 1e-6;

typedef struct chain {
    nncl_conv2d_shape s;
    nncl_pool2d_shape mp, ap;
    const double *r;            /* the loss weights, [n, k, ap.oh, ap.ow] */
} chain;

static void conv_d(const nncl_conv2d_shape *s, const double *x, const double *w, const double *b, double *y)
{
    for (size_t n = 0; n < s->n; n++)
        for (size_t k = 0; k < s->k; k++)
            for (size_t i = 0; i < s->oh; i++)
                for (size_t j = 0; j < s->ow; j++) {
                    double sum = b[k];
                    for (size_t c = 0; c < s->c; c++)
                        for (size_t a = 0; a < s->kh; a++)
                            for (size_t e = 0; e < s->kw; e++) {
                                long yy = (long)(i * s->stride_h + a) - (long)s->pad_h;
                                long zz = (long)(j * s->stride_w + e) - (long)s->pad_w;
                                if (yy >= 0 && zz >= 0 && yy < (long)s->h && zz < (long)s->w)
                                    sum += w[((k * s->c + c) * s->kh + a) * s->kw + e] *
                                           x[((n * s->c + c) * s->h + (size_t)yy) * s->w + (size_t)zz];
                            }
                    y[((n * s->k + k) * s->oh + i) * s->ow + j] = sum;
                }
}

static void pool_d(const nncl_pool2d_shape *s, bool max, const double *x, double *y)
{
    for (size_t p = 0; p < s->n * s->c; p++)
        for (size_t i = 0; i < s->oh; i++)
            for (size_t j = 0; j < s->ow; j++) {
                double acc = max ? -INFINITY : 0;
                for (size_t a = 0; a < s->window; a++)
                    for (size_t e = 0; e < s->window; e++) {
                        double v = x[(p * s->h + i * s->stride + a) * s->w + j * s->stride + e];
                        acc = max ? (v > acc ? v : acc) : acc + v;
                    }
                y[(p * s->oh + i) * s->ow + j] = max ? acc : acc / (double)(s->window * s->window);
            }
}

static double chain_loss(const chain *ch, const double *x, const double *w, const double *b)
{
    double *y = malloc(nncl_conv2d_y_len(&ch->s) * 8);
    double *m = malloc(ch->mp.n * ch->mp.c * ch->mp.oh * ch->mp.ow * 8);
    size_t na = ch->ap.n * ch->ap.c * ch->ap.oh * ch->ap.ow;
    double *a = malloc(na * 8);
    conv_d(&ch->s, x, w, b, y);
    pool_d(&ch->mp, true, y, m);
    pool_d(&ch->ap, false, m, a);
    double L = 0;
    for (size_t i = 0; i < na; i++)
        L += ch->r[i] * a[i];
    free(y), free(m), free(a);
    return L;
}

/* Central difference of chain_loss in p[i] (p is one of x, w, b). */
static double chain_fd(const chain *ch, double *x, double *w, double *b, double *p, size_t i)
{
    double keep = p[i];
    p[i] = keep + H;
    double lp = chain_loss(ch, x, w, b);
    p[i] = keep - H;
    double lm = chain_loss(ch, x, w, b);
    p[i] = keep;
    return (lp - lm) / (2 * H);
}

static double *to_double(const float *x, size_t n)
{
    double *d = malloc(n * 8);
    for (size_t i = 0; i < n; i++)
        d[i] = x[i];
    return d;
}

START_TEST(conv_pool_gradients_by_finite_differences)
{
    nncl_device *h = test_host_device();
    /* same padding stride 1, and valid stride 2 with an even filter */
    static const conv_case cases[] = {{2, 2, 9, 9, 3, 3, 1, NNCL_PAD_SAME, 0}, {2, 3, 11, 13, 2, 2, 2, NNCL_PAD_VALID, 0}};
    uint64_t seed = 500;
    for (size_t ci = 0; ci < 2; ci++) {
        chain ch;
        ch.s = make_shape(&cases[ci]);
        const nncl_conv2d_shape *s = &ch.s;
        ck_assert_ok(nncl_pool2d_shape_make(s->n, s->k, s->oh, s->ow, 2, 0, &ch.mp));
        ck_assert_ok(nncl_pool2d_shape_make(s->n, s->k, ch.mp.oh, ch.mp.ow, 2, 0, &ch.ap));
        size_t nx = nncl_conv2d_x_len(s), nw = nncl_conv2d_w_len(s), ny = nncl_conv2d_y_len(s);
        size_t nm = s->n * s->k * ch.mp.oh * ch.mp.ow, na = s->n * s->k * ch.ap.oh * ch.ap.ow;
        float *x = test_random(&seed, nx, -1, 1), *w = test_random(&seed, nw, -1, 1);
        float *b = test_random(&seed, s->k, -0.5f, 0.5f), *r = test_random(&seed, na, -1, 1);
        double *xd = to_double(x, nx), *wd = to_double(w, nw), *bd = to_double(b, s->k), *rd = to_double(r, na);
        ch.r = rd;

        /* (1) the reference backward of the convolution alone: loss sum g * conv(x) */
        float *g = test_random(&seed, ny, -1, 1);
        double *gd = to_double(g, ny), *rdx = malloc(nx * 8), *rdw = malloc(nw * 8), *rdb = malloc(s->k * 8);
        nncl_conv2d_reference_bwd(s, x, w, g, rdx, rdw, rdb);
        double *yp = malloc(ny * 8), *ym = malloc(ny * 8);
        struct { double *p; size_t n; const double *an; const char *name; } parts1[] = {
            {xd, nx, rdx, "x"}, {wd, nw, rdw, "w"}, {bd, s->k, rdb, "b"}};
        for (int pi = 0; pi < 3; pi++)
            for (size_t i = 0; i < parts1[pi].n; i++) {
                double keep = parts1[pi].p[i], lp = 0, lm = 0;
                parts1[pi].p[i] = keep + H;
                conv_d(s, xd, wd, bd, yp);
                parts1[pi].p[i] = keep - H;
                conv_d(s, xd, wd, bd, ym);
                parts1[pi].p[i] = keep;
                for (size_t k = 0; k < ny; k++)
                    lp += gd[k] * yp[k], lm += gd[k] * ym[k];
                double fd = (lp - lm) / (2 * H);
                if (fabs(fd - parts1[pi].an[i]) > 1e-7 * (1 + fabs(fd)))
                    ck_abort_msg("conv reference d%s[%zu] = %.12g, differences %.12g", parts1[pi].name, i,
                                 parts1[pi].an[i], fd);
            }

        /* (2) the float host ops, forward then backward through the chain */
        nncl_buffer *xb = test_upload(h, x, nx), *wb = test_upload(h, w, nw), *bb = test_upload(h, b, s->k);
        nncl_buffer *yb = test_poisoned(h, ny), *mb = test_poisoned(h, nm), *ab = test_poisoned(h, na);
        nncl_buffer *ib = test_poisoned(h, nm), *rb = test_upload(h, r, na), *dmb = test_poisoned(h, nm);
        nncl_buffer *dyb = test_poisoned(h, ny), *dxb = test_poisoned(h, nx), *dwb = test_poisoned(h, nw);
        nncl_buffer *dbb = test_poisoned(h, s->k), *sb = test_poisoned(h, nncl_conv2d_scratch_len(s));
#define VW0(b) nncl_view_of((b), 0)
        nncl_conv2d_fwd_args cf = {.s = *s, .x = VW0(xb), .w = VW0(wb), .b = VW0(bb), .y = VW0(yb),
                                   .scratch = VW0(sb)};
        ck_assert_ok(nncl_conv2d_fwd(h, &cf));
        nncl_pool2d_fwd_args mf = {NNCL_POOL_MAX, ch.mp, VW0(yb), VW0(mb), VW0(ib)};
        ck_assert_ok(nncl_pool2d_fwd(h, &mf));
        nncl_pool2d_fwd_args af = {NNCL_POOL_AVG, ch.ap, VW0(mb), VW0(ab), {0}};
        ck_assert_ok(nncl_pool2d_fwd(h, &af));
        nncl_pool2d_bwd_args abw = {NNCL_POOL_AVG, ch.ap, VW0(rb), {0}, VW0(dmb)};
        ck_assert_ok(nncl_pool2d_bwd(h, &abw));
        nncl_pool2d_bwd_args mbw = {NNCL_POOL_MAX, ch.mp, VW0(dmb), VW0(ib), VW0(dyb)};
        ck_assert_ok(nncl_pool2d_bwd(h, &mbw));
        nncl_conv2d_bwd_args cb = {.s = *s, .x = VW0(xb), .w = VW0(wb), .dy = VW0(dyb), .dx = VW0(dxb),
                                   .dw = VW0(dwb), .db = VW0(dbb), .scratch = VW0(sb)};
        ck_assert_ok(nncl_conv2d_bwd(h, &cb));
#undef VW0
        float *dx = malloc(nx * 4), *dw = malloc(nw * 4), *db = malloc(s->k * 4), *a = malloc(na * 4);
        ck_assert_ok(nncl_buffer_read(dxb, 0, dx, nx * 4));
        ck_assert_ok(nncl_buffer_read(dwb, 0, dw, nw * 4));
        ck_assert_ok(nncl_buffer_read(dbb, 0, db, s->k * 4));
        ck_assert_ok(nncl_buffer_read(ab, 0, a, na * 4));
        double L = chain_loss(&ch, xd, wd, bd), Lf = 0;
        for (size_t i = 0; i < na; i++)
            Lf += rd[i] * a[i];
        ck_assert_msg(fabs(L - Lf) <= 1e-5 * (1 + fabs(L)), "chain loss %.9g, double %.12g", Lf, L);
        struct { double *p; size_t n; const float *an; const char *name; } parts2[] = {
            {xd, nx, dx, "x"}, {wd, nw, dw, "w"}, {bd, s->k, db, "b"}};
        for (int pi = 0; pi < 3; pi++)
            for (size_t i = 0; i < parts2[pi].n; i++) {
                double fd = chain_fd(&ch, xd, wd, bd, parts2[pi].p, i);
                if (fabs(fd - parts2[pi].an[i]) > 2e-5 + 1e-4 * fabs(fd))
                    ck_abort_msg("conv+maxpool+avgpool case %zu: d%s[%zu] = %.9g, differences %.9g", ci,
                                 parts2[pi].name, i, (double)parts2[pi].an[i], fd);
            }
        nncl_buffer *all[] = {xb, wb, bb, yb, mb, ab, ib, rb, dmb, dyb, dxb, dwb, dbb, sb};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
            nncl_buffer_free(all[i]);
        free(x), free(w), free(b), free(r), free(xd), free(wd), free(bd), free(rd), free(g), free(gd);
        free(rdx), free(rdw), free(rdb), free(yp), free(ym), free(dx), free(dw), free(db), free(a);
    }
    nncl_device_close(h);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("conv");
    TCase *t = tcase_create("conv");
    tcase_set_timeout(t, 300);
    tcase_add_test(t, shapes_by_hand);
    tcase_add_test(t, conv_by_hand);
    tcase_add_test(t, pool_by_hand);
    tcase_add_test(t, conv2d_fwd_matches_reference);
    tcase_add_test(t, conv2d_bwd_matches_reference);
    tcase_add_test(t, direct_isas_same_bits);
    tcase_add_test(t, im2col_col2im_match_host);
    tcase_add_test(t, pool_matches_host);
    tcase_add_test(t, conv_pool_gradients_by_finite_differences);
    suite_add_tcase(s, t);
    return test_run_suite(s);
}
