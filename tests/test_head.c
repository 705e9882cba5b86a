/* head_xent, the fused narrow output layer: every device against the host
 * twin, the host twin against the same step composed from the separate host
 * ops (gemm, softmax_xent, colsum, act_bwd), its gradients against central
 * differences in double, NaN and bad labels, determinism, and refusals.
 *
 * Tolerances (the device sums rows in float, 128-row chunks then the chunks;
 * the host twin sums in double), with grad_scale = 1/rows so that
 * sum_r |dz_r| <= 2:
 *   dW: atol 4e-6 * max|a|, rtol 1e-4;  db: atol 4e-6, rtol 1e-4
 *   da: atol 1e-6 * classes * max|W| / rows, rtol 1e-4 (one row's sum of
 *       classes products, times f')
 *   loss sum: atol 1e-4, rtol 1e-5 (rows of positive losses, float chunks)
 *   correct: the predicted class can flip where two logits tie to within
 *       the float/double difference: at most 1 row in 500 may differ. */
#include <stdio.h>

#include "nncl/net.h"
#include "nncl/train.h"
#include "test_util.h"

typedef struct head_case {
    size_t rows, in, classes;
    nncl_act act;
    float slope;
    const float *a, *w, *b;
    const int32_t *labels;
    bool want_da;
} head_case;

typedef struct head_out {
    float *dw, *db, *da, acc[2], da_sum[NNCL_HEAD_MAX];
} head_out;

static void head_out_free(head_out *o)
{
    free(o->dw);
    free(o->db);
    free(o->da);
}

static nncl_buffer *ints(nncl_device *dev, const int32_t *x, size_t n)
{
    nncl_buffer *b;
    ck_assert_ok(nncl_buffer_alloc(dev, n * sizeof(int32_t), &b));
    ck_assert_ok(nncl_buffer_write(b, 0, x, n * sizeof(int32_t)));
    return b;
}

static float *download(nncl_buffer *b, size_t n)
{
    float *x = malloc(n * sizeof(float));
    ck_assert_ok(nncl_buffer_read(b, 0, x, n * sizeof(float)));
    return x;
}

static head_out run_head(nncl_device *dev, const head_case *c)
{
    size_t n = c->rows * c->in, nw = c->classes * c->in;
    nncl_buffer *a = test_upload(dev, c->a, n), *w = test_upload(dev, c->w, nw);
    nncl_buffer *b = test_upload(dev, c->b, c->classes), *lab = ints(dev, c->labels, c->rows);
    nncl_buffer *dw = test_poisoned(dev, nw), *db = test_poisoned(dev, c->classes);
    nncl_buffer *da = test_poisoned(dev, n), *da_sum = test_poisoned(dev, c->in);
    float acc0[2] = {1.5f, 2.0f};
    nncl_buffer *acc = test_upload(dev, acc0, 2);
    size_t scratch_len = nncl_head_xent_scratch_len(c->rows, c->in, c->classes);
    ck_assert_uint_gt(scratch_len, 0);
    nncl_buffer *scratch = test_poisoned(dev, scratch_len);
    nncl_head_xent_args args = {
        .a = nncl_view_of(a, 0), .w = nncl_view_of(w, 0), .b = nncl_view_of(b, 0),
        .labels = nncl_view_of(lab, 0), .dw = nncl_view_of(dw, 0), .db = nncl_view_of(db, 0),
        .da = c->want_da ? nncl_view_of(da, 0) : (nncl_view){0},
        .da_sum = c->want_da ? nncl_view_of(da_sum, 0) : (nncl_view){0}, .acc = nncl_view_of(acc, 0),
        .scratch = nncl_view_of(scratch, 0), .rows = c->rows, .in = c->in, .classes = c->classes,
        .act = c->act, .act_param = c->slope, .grad_scale = 1.0f / (float)c->rows,
    };
    ck_assert_ok(nncl_head_xent(dev, &args));
    head_out o = {download(dw, nw), download(db, c->classes), download(da, n), {0, 0}, {0}};
    float *ds = download(da_sum, c->in);
    memcpy(o.da_sum, ds, c->in * sizeof(float));
    free(ds);
    float *accv = download(acc, 2);
    o.acc[0] = accv[0] - 1.5f;
    o.acc[1] = accv[1] - 2.0f;
    free(accv);
    nncl_buffer *all[] = {a, w, b, lab, dw, db, da, da_sum, acc, scratch};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        nncl_buffer_free(all[i]);
    return o;
}

static void check_close(const char *what, const char *part, const float *got, const float *ref, size_t n,
                        float atol, float rtol)
{
    for (size_t i = 0; i < n; i++)
        if (!test_close(got[i], ref[i], atol, rtol))
            ck_abort_msg("%s: %s[%zu] is %.9g, reference %.9g (atol %g, rtol %g)", what, part, i,
                         (double)got[i], (double)ref[i], (double)atol, (double)rtol);
}

static float max_abs(const float *x, size_t n)
{
    float m = 0.0f;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i]) && fabsf(x[i]) > m)
            m = fabsf(x[i]);
    return m;
}

static void compare(const char *what, const head_case *c, const head_out *got, const head_out *ref)
{
    float amax = max_abs(c->a, c->rows * c->in), wmax = max_abs(c->w, c->classes * c->in);
    check_close(what, "dW", got->dw, ref->dw, c->classes * c->in, 4e-6f * amax, 1e-4f);
    check_close(what, "db", got->db, ref->db, c->classes, 4e-6f, 1e-4f);
    if (c->want_da) {
        check_close(what, "da", got->da, ref->da, c->rows * c->in,
                    1e-6f * (float)c->classes * wmax / (float)c->rows, 1e-4f);
        check_close(what, "da_sum", got->da_sum, ref->da_sum, c->in, 4e-6f * (float)c->classes * wmax, 1e-4f);
    } else {
        for (size_t j = 0; j < c->in; j++)
            ck_assert_msg(isnan(got->da_sum[j]), "%s: da_sum[%zu] written without da", what, j);
        for (size_t i = 0; i < c->rows * c->in; i++)
            ck_assert_msg(isnan(got->da[i]), "%s: da[%zu] written without da", what, i);
    }
    ck_assert_msg(test_close(got->acc[0], ref->acc[0], 1e-4f, 1e-5f), "%s: loss sum %.9g, reference %.9g",
                  what, (double)got->acc[0], (double)ref->acc[0]);
    ck_assert_msg(fabsf(got->acc[1] - ref->acc[1]) <= (float)(c->rows / 500), "%s: correct %g, reference %g",
                  what, (double)got->acc[1], (double)ref->acc[1]);
}

/* Inputs for a case: a = f(z) for random z, so a is what the layer below
 * can produce (relu zeros included). */
static void make_case(head_case *c, uint64_t *s, size_t rows, size_t in, size_t classes, nncl_act act)
{
    float *z = test_random(s, rows * in, -3.0f, 3.0f);
    for (size_t i = 0; i < rows * in; i++) {
        float x = z[i];
        switch (act) {
        case NNCL_ACT_RELU: z[i] = x < 0 ? 0 : x; break;
        case NNCL_ACT_LEAKY_RELU: z[i] = x < 0 ? 0.1f * x : x; break;
        case NNCL_ACT_SIGMOID: z[i] = 1.0f / (1.0f + expf(-x)); break;
        case NNCL_ACT_TANH: z[i] = tanhf(x); break;
        default: break;
        }
    }
    int32_t *lab = malloc(rows * sizeof(int32_t));
    for (size_t r = 0; r < rows; r++)
        lab[r] = (int32_t)(test_rand_u64(s) % classes);
    *c = (head_case){rows, in, classes, act, 0.1f, z, test_random(s, classes * in, -1.0f, 1.0f),
                     test_random(s, classes, -0.5f, 0.5f), lab, true};
}

static void free_case(head_case *c)
{
    free((void *)c->a);
    free((void *)c->w);
    free((void *)c->b);
    free((void *)c->labels);
}

static const size_t shapes[][2] = {{1, 2}, {3, 7}, {10, 10}, {16, 16}, {16, 3}, {7, 16}, {2, 1}};
static const size_t row_counts[] = {1, 7, 129, 1000, 3001};
#define N_SHAPES (sizeof shapes / sizeof shapes[0])
#define N_ROWS (sizeof row_counts / sizeof row_counts[0])

START_TEST(head_xent_matches_host)
{
    nncl_device_list *list = test_devices();
    nncl_device *host = test_host_device();
    /* Every OpenCL device against host, which is the last in the list: host
     * itself is left out, since it would compare the host twin with itself.
     * With no OpenCL device the loop is empty; NNCL_REQUIRE_OPENCL=1 makes
     * test_devices() fail the test instead. */
    for (int d = 0; d < list->count - 1; d++) {
        nncl_device *dev = test_open(d);
        uint64_t s = 0x4ead + (uint64_t)d;
        for (size_t si = 0; si < N_SHAPES; si++)
            for (size_t ri = 0; ri < N_ROWS; ri++) {
                /* Small (the simulator runs a chunk's rows one by one):
                 * several chunks only for one shape */
                if (test_small() && row_counts[ri] > (si == 1 ? 1000 : 129))
                    continue;
                head_case c;
                nncl_act act = (nncl_act)((si + ri) % 5);
                make_case(&c, &s, row_counts[ri], shapes[si][0], shapes[si][1], act);
                c.want_da = (si + ri) % 4 != 3;
                char what[300];
                snprintf(what, sizeof what, "%s: head_xent rows=%zu in=%zu classes=%zu act=%d da=%d",
                         list->items[d].name, c.rows, c.in, c.classes, (int)act, (int)c.want_da);
                head_out got = run_head(dev, &c), ref = run_head(host, &c);
                compare(what, &c, &got, &ref);
                head_out_free(&got);
                head_out_free(&ref);
                free_case(&c);
            }
        nncl_device_close(dev);
    }
    nncl_device_close(host);
}
END_TEST

/* A NaN input spoils its own row of da and, through the sums, dW, db and the
 * loss; a label out of range does the same and never counts as correct. */
START_TEST(head_xent_propagates_nan_and_bad_labels)
{
    nncl_device_list *list = test_devices();
    nncl_device *host = test_host_device();
    for (int d = 0; d < list->count; d++) {
        nncl_device *dev = test_open(d);
        uint64_t s = 0xbad + (uint64_t)d;
        for (int kind = 0; kind < 3; kind++) {
            head_case c;
            make_case(&c, &s, 300, 10, 10, NNCL_ACT_RELU);
            float *a = (float *)c.a;
            int32_t *lab = (int32_t *)c.labels;
            if (kind == 0)
                a[5 * 10 + 3] = NAN;
            else if (kind == 1)
                lab[7] = 10;
            else
                lab[7] = -1;
            char what[400];
            snprintf(what, sizeof what, "%s: head_xent with %s", list->items[d].name,
                     kind == 0 ? "a NaN input" : "a label out of range");
            head_out got = run_head(dev, &c), ref = run_head(host, &c);
            compare(what, &c, &got, &ref);
            ck_assert_msg(isnan(got.acc[0]), "%s: the loss is not NaN", what);
            ck_assert_msg(isnan(got.dw[0]) && isnan(got.db[0]), "%s: dW and db are not NaN", what);
            size_t bad = kind == 0 ? 5 : 7;
            for (size_t r = 0; r < c.rows; r++)
                for (size_t j = 0; j < c.in; j++) {
                    float v = got.da[r * c.in + j];
                    if (r == bad)
                        ck_assert_msg(isnan(v), "%s: da[%zu][%zu] = %g, not NaN", what, r, j, (double)v);
                    else
                        ck_assert_msg(!isnan(v), "%s: NaN leaked into da row %zu", what, r);
                }
            head_out_free(&got);
            head_out_free(&ref);
            free_case(&c);
        }
        nncl_device_close(dev);
    }
    nncl_device_close(host);
}
END_TEST

START_TEST(head_xent_is_deterministic)
{
    nncl_device_list *list = test_devices();
    for (int d = 0; d < list->count; d++) {
        nncl_device *dev = test_open(d);
        uint64_t s = 0xd37 + (uint64_t)d;
        head_case c;
        make_case(&c, &s, test_small() ? 1000 : 5000, 10, 10, NNCL_ACT_RELU);
        head_out x = run_head(dev, &c), y = run_head(dev, &c);
        ck_assert_msg(memcmp(x.dw, y.dw, c.classes * c.in * sizeof(float)) == 0 &&
                          memcmp(x.db, y.db, c.classes * sizeof(float)) == 0 &&
                          memcmp(x.da, y.da, c.rows * c.in * sizeof(float)) == 0 &&
                          memcmp(x.acc, y.acc, sizeof x.acc) == 0,
                      "%s: two runs of head_xent gave different bits", list->items[d].name);
        head_out_free(&x);
        head_out_free(&y);
        free_case(&c);
        nncl_device_close(dev);
    }
}
END_TEST

/* The host twin against the unfused step, composed from host ops that
 * tests/test_ops.c and tests/test_grad.c check separately. */
START_TEST(head_xent_host_matches_composition)
{
    nncl_device *h = test_host_device();
    uint64_t s = 0xc0;
    for (size_t si = 0; si < N_SHAPES; si++) {
        head_case c;
        nncl_act act = (nncl_act)(si % 5);
        make_case(&c, &s, 257, shapes[si][0], shapes[si][1], act);
        size_t R = c.rows, I = c.in, C = c.classes;
        head_out ref = run_head(h, &c);

        nncl_buffer *a = test_upload(h, c.a, R * I), *w = test_upload(h, c.w, C * I);
        nncl_buffer *b = test_upload(h, c.b, C), *lab = ints(h, c.labels, R);
        nncl_buffer *z = test_poisoned(h, R * C), *dw = test_poisoned(h, C * I), *db = test_poisoned(h, C);
        nncl_buffer *da = test_poisoned(h, R * I), *scr = test_poisoned(h, 2 * R);
        float zero[2] = {0, 0};
        nncl_buffer *acc = test_upload(h, zero, 2);
        nncl_gemm_args fwd = {.trans_b = true, .m = R, .n = C, .k = I, .alpha = 1, .a = nncl_view_of(a, 0),
                              .lda = I, .b = nncl_view_of(w, 0), .ldb = I, .c = nncl_view_of(z, 0), .ldc = C,
                              .bias = nncl_view_of(b, 0)};
        ck_assert_ok(nncl_gemm(h, &fwd));
        nncl_softmax_xent_args sx = {nncl_view_of(z, 0), nncl_view_of(lab, 0), nncl_view_of(z, 0),
                                     nncl_view_of(acc, 0), R, C, 1.0f / (float)R, nncl_view_of(scr, 0)};
        ck_assert_ok(nncl_softmax_xent(h, &sx));
        nncl_gemm_args gw = {.trans_a = true, .m = C, .n = I, .k = R, .alpha = 1, .a = nncl_view_of(z, 0),
                             .lda = C, .b = nncl_view_of(a, 0), .ldb = I, .c = nncl_view_of(dw, 0), .ldc = I};
        ck_assert_ok(nncl_gemm(h, &gw));
        nncl_colsum_args cs = {nncl_view_of(z, 0), C, nncl_view_of(db, 0), R, C, 1.0f, 0.0f};
        ck_assert_ok(nncl_colsum(h, &cs));
        nncl_gemm_args gx = {.m = R, .n = I, .k = C, .alpha = 1, .a = nncl_view_of(z, 0), .lda = C,
                             .b = nncl_view_of(w, 0), .ldb = I, .c = nncl_view_of(da, 0), .ldc = I};
        ck_assert_ok(nncl_gemm(h, &gx));
        nncl_act_bwd_args ab = {nncl_view_of(a, 0), nncl_view_of(da, 0), nncl_view_of(da, 0), R * I, act, c.slope};
        ck_assert_ok(nncl_act_bwd(h, &ab));
        nncl_buffer *ds = test_poisoned(h, I);
        nncl_colsum_args dsum = {nncl_view_of(da, 0), I, nncl_view_of(ds, 0), R, I, 1.0f, 0.0f};
        ck_assert_ok(nncl_colsum(h, &dsum));
        head_out comp = {download(dw, C * I), download(db, C), download(da, R * I), {0, 0}, {0}};
        float *dsv = download(ds, I);
        memcpy(comp.da_sum, dsv, I * sizeof(float));
        free(dsv);
        nncl_buffer_free(ds);
        float *accv = download(acc, 2);
        memcpy(comp.acc, accv, sizeof comp.acc);
        free(accv);
        char what[200];
        snprintf(what, sizeof what, "host head_xent vs composed ops, in=%zu classes=%zu act=%d", I, C, (int)act);
        compare(what, &c, &ref, &comp);
        nncl_buffer *all[] = {a, w, b, lab, z, dw, db, da, scr, acc};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
            nncl_buffer_free(all[i]);
        head_out_free(&ref);
        head_out_free(&comp);
        free_case(&c);
    }
    nncl_device_close(h);
}
END_TEST

/* ---- gradients by central differences, in double ------------------------------
 * L(zp, W, b) = mean over rows of xent(f(zp) W^T + b). head_xent with
 * grad_scale 1/rows gives dL/dW, dL/db and dL/dzp (da). h = 1e-6; the
 * analytic float results must agree to 1e-4 relative + 1e-6 absolute. */

static double ref_f(nncl_act act, double x)
{
    switch (act) {
    case NNCL_ACT_RELU: return x < 0 ? 0 : x;
    case NNCL_ACT_LEAKY_RELU: return x < 0 ? 0.1 * x : x;
    case NNCL_ACT_SIGMOID: return 1.0 / (1.0 + exp(-x));
    case NNCL_ACT_TANH: return tanh(x);
    default: return x;
    }
}

static double ref_loss(const double *zp, const double *W, const double *b, const int32_t *lab, size_t R,
                       size_t I, size_t C, nncl_act act)
{
    double total = 0;
    for (size_t r = 0; r < R; r++) {
        double z[NNCL_HEAD_MAX], m = -INFINITY, s = 0;
        for (size_t c = 0; c < C; c++) {
            z[c] = b[c];
            for (size_t j = 0; j < I; j++)
                z[c] += ref_f(act, zp[r * I + j]) * W[c * I + j];
            m = z[c] > m ? z[c] : m;
        }
        for (size_t c = 0; c < C; c++)
            s += exp(z[c] - m);
        total += log(s) + m - z[lab[r]];
    }
    return total / (double)R;
}

enum { R = 5, I = 4, C = 3 };     /* rows, inputs, classes of the checks */

typedef struct fd_point {
    double *zp, *W, *b;
    const int32_t *lab;
    nncl_act act;
} fd_point;

/* Central differences of the loss at p in each of v[0..n), against the
 * analytic gradient. */
static void check_fd(const fd_point *p, double *v, const float *analytic, size_t n, const char *name)
{
    const double H = 1e-6;
    for (size_t i = 0; i < n; i++) {
        double keep = v[i];
        v[i] = keep + H;
        double up = ref_loss(p->zp, p->W, p->b, p->lab, R, I, C, p->act);
        v[i] = keep - H;
        double down = ref_loss(p->zp, p->W, p->b, p->lab, R, I, C, p->act);
        v[i] = keep;
        double fd = (up - down) / (2 * H);
        ck_assert_msg(fabs(analytic[i] - fd) <= 1e-6 + 1e-4 * fabs(fd), "act %d: %s[%zu] %.9g, differences %.9g",
                      (int)p->act, name, i, (double)analytic[i], fd);
    }
}

START_TEST(head_xent_gradients_by_finite_differences)
{
    nncl_device *h = test_host_device();
    uint64_t s = 0xfd;
    for (int act = 0; act < 5; act++) {
        double zp[R * I], W[C * I], b[C];
        float a[R * I], wf[C * I], bf[C];
        int32_t lab[R];
        for (size_t i = 0; i < R * I; i++) {
            /* away from relu's kink, where the difference quotient is not the derivative */
            double x = test_rand_float(&s, 0.2f, 2.0f) * (test_rand_u64(&s) & 1 ? 1 : -1);
            zp[i] = x;
            a[i] = (float)ref_f((nncl_act)act, x);
        }
        for (size_t i = 0; i < C * I; i++)
            wf[i] = (float)(W[i] = test_rand_float(&s, -1.0f, 1.0f));
        for (size_t c = 0; c < C; c++)
            bf[c] = (float)(b[c] = test_rand_float(&s, -0.5f, 0.5f));
        for (size_t r = 0; r < R; r++)
            lab[r] = (int32_t)(test_rand_u64(&s) % C);
        /* test_rand_float returns a float, so W and b hold exactly wf and bf:
         * they are perturbed below around the same point the op sees. */
        head_case c = {R, I, C, (nncl_act)act, 0.1f, a, wf, bf, lab, true};
        head_out g = run_head(h, &c);
        fd_point pt = {zp, W, b, lab, (nncl_act)act};
        check_fd(&pt, W, g.dw, C * I, "dW");
        check_fd(&pt, b, g.db, C, "db");
        /* da is taken from f(z) in float: f' carries float rounding too */
        check_fd(&pt, zp, g.da, R * I, "da");
        head_out_free(&g);
    }
    nncl_device_close(h);
}
END_TEST

START_TEST(head_xent_refuses_bad_arguments)
{
    nncl_device *h = test_host_device();
    nncl_buffer *buf = test_poisoned(h, 4096);
    nncl_view v = nncl_view_of(buf, 0);
    nncl_head_xent_args a = {.a = v, .w = v, .b = v, .labels = v, .dw = v, .db = v, .da = v, .acc = v,
                             .scratch = v, .rows = 10, .in = 10, .classes = 10, .act = NNCL_ACT_RELU,
                             .grad_scale = 0.1f};
    ck_assert_ok(nncl_head_xent(h, &a));
    nncl_head_xent_args bad = a;
    bad.in = 17;
    ck_assert_int_eq(nncl_head_xent(h, &bad), NNCL_E_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(nncl_last_error(), "at most 16"));
    bad = a;
    bad.classes = 0;
    ck_assert_int_eq(nncl_head_xent(h, &bad), NNCL_E_INVALID);
    bad = a;
    bad.rows = 1000;            /* a needs 10,000 floats: more than the buffer */
    ck_assert_int_eq(nncl_head_xent(h, &bad), NNCL_E_INVALID);
    ck_assert_ptr_nonnull(strstr(nncl_last_error(), "head_xent: a"));
    bad = a;
    bad.act = (nncl_act)9;
    ck_assert_int_eq(nncl_head_xent(h, &bad), NNCL_E_INVALID);
    ck_assert_uint_eq(nncl_head_xent_scratch_len(10, 17, 10), 0);
    /* chunks of rows, each dW + db + da_sum + loss + correct */
    size_t len = nncl_head_xent_scratch_len(300, 10, 10);
    ck_assert(len > 0 && len % (100 + 10 + 10 + 2) == 0);
    bad = a;
    bad.da = (nncl_view){0};            /* da_sum without da */
    bad.da_sum = v;
    ck_assert_int_eq(nncl_head_xent(h, &bad), NNCL_E_INVALID);
    nncl_buffer_free(buf);
    nncl_device_close(h);
}
END_TEST

/* ---- in the network -----------------------------------------------------------
 * A training step (nncl_net_forward_backward) runs a narrow output layer and
 * its loss as head_xent (the step plan's rule); with one hidden layer on
 * byte data and a CPU OpenCL device the whole network as one
 * linear_u8_head. nncl_net_forward then nncl_net_loss run the separate ops.
 * Both must give one step: compare the parameters after an SGD step with
 * learning rate 1 (params - grads) and the accumulated loss, on every device,
 * for byte inputs with one hidden layer (linear_u8_head on PoCL), as a whole
 * batch and as a batch of rows 37..236 (read through the order list), and a
 * network with two hidden layers (head_xent), each also with the tutorial's
 * quirks (gradients over 420 rows, scalar bias gradients); the profile
 * shows that the fused op ran. Tolerance: 1e-5 absolute on parameters of
 * order 1 (the two paths sum 300 rows in different orders). */

static void net_step(nncl_device *dev, const nncl_net_config *cfg, const nncl_dataset *ds, size_t first,
                     size_t rows, bool quirks, bool train, float *params, double acc[2])
{
    nncl_net *net;
    ck_assert_ok(nncl_net_create(dev, cfg, ds->rows, &net));
    ck_assert_ok(nncl_net_init(net, NNCL_INIT_XAVIER, 0.0f, 11));
    if (quirks)
        nncl_net_set_tutorial_quirks(net, 420, true);
    float shift[32], scale[32];
    for (size_t j = 0; j < ds->cols; j++) {
        shift[j] = 0.0f;
        scale[j] = 1.0f / 255.0f;
    }
    ck_assert_ok(nncl_net_set_transform(net, shift, scale));
    nncl_device_data dd;
    ck_assert_ok(nncl_device_data_upload(dev, ds, &dd));
    ck_assert_ok(nncl_net_load_batch(net, &dd, first, rows));
    if (train) {
        ck_assert_ok(nncl_net_forward_backward(net, rows, 1, 1));
    } else {
        ck_assert_ok(nncl_net_forward(net, rows, true, 1, 1));
        ck_assert_ok(nncl_net_loss(net, rows, true, 1, 1));
    }
    nncl_optim_config sgd = {.kind = NNCL_OPTIM_SGD};
    ck_assert_ok(nncl_net_optim_step(net, &sgd, 1.0f, 1));
    ck_assert_ok(nncl_net_get_params(net, params));
    ck_assert_ok(nncl_net_acc_read(net, &acc[0], &acc[1]));
    nncl_device_data_free(&dd);
    nncl_net_free(net);
}

/* Calls of op on dev so far (profiling must be on). */
static unsigned long op_calls(const nncl_device *dev, const char *op)
{
    nncl_op_stat stats[64];
    int n = nncl_device_profile(dev, stats, 64);
    for (int i = 0; i < n && i < 64; i++)
        if (strcmp(stats[i].op, op) == 0)
            return stats[i].calls;
    return 0;
}

START_TEST(head_xent_in_the_network_matches_separate_ops)
{
    nncl_device_list *list = test_devices();
    enum { ROWS = 300, COLS = 20 };
    uint8_t x[ROWS * COLS];
    int32_t labels[ROWS];
    uint64_t s = 0x7e7;
    for (size_t i = 0; i < ROWS * COLS; i++)
        x[i] = test_rand_u64(&s) % 3 ? 0 : (uint8_t)(test_rand_u64(&s) & 255);
    for (size_t r = 0; r < ROWS; r++)
        labels[r] = (int32_t)(test_rand_u64(&s) % 5);
    nncl_dataset ds = {.rows = ROWS, .cols = COLS, .x_u8 = x, .labels = labels, .task = NNCL_TASK_CLASSIFY,
                       .num_classes = 5};
    nncl_net_config cfgs[2] = {
        {.layers = 2, .sizes = {COLS, 8, 5}, .act = NNCL_ACT_RELU, .task = NNCL_TASK_CLASSIFY},
        {.layers = 3, .sizes = {COLS, 12, 16, 5}, .act = NNCL_ACT_TANH, .task = NNCL_TASK_CLASSIFY},
    };
    for (int d = 0; d < list->count; d++) {
        nncl_device *dev = test_open(d);
        nncl_device_set_profile(dev, true);
        /* The fused path each network takes: the whole step on a CPU OpenCL
         * device and on the host for byte data with one hidden layer, else
         * the head. */
        const nncl_device_info *info = &list->items[d];
        bool whole = info->type == NNCL_DEVICE_CPU || info->backend == NNCL_BACKEND_HOST;
        /* (network, first row, rows, tutorial quirks) */
        const size_t runs[5][4] = {
            {0, 0, ROWS, 0}, {0, 37, 200, 0}, {0, 0, ROWS, 1}, {1, 0, ROWS, 0}, {1, 0, ROWS, 1},
        };
        for (int r = 0; r < 5; r++) {
            const int k = (int)runs[r][0];
            size_t n = 0;
            for (int l = 1; l <= cfgs[k].layers; l++)
                n += cfgs[k].sizes[l] * (cfgs[k].sizes[l - 1] + 1);
            float *fused = malloc(n * sizeof(float)), *plain = malloc(n * sizeof(float));
            double acc_f[2], acc_p[2];
            const char *op = k == 0 && whole ? "linear_u8_head" : "head_xent";
            unsigned long calls = op_calls(dev, op);
            net_step(dev, &cfgs[k], &ds, runs[r][1], runs[r][2], runs[r][3], true, fused, acc_f);
            ck_assert_msg(op_calls(dev, op) == calls + 1, "%s: network %d did not run %s", info->name, k, op);
            calls = op_calls(dev, op);
            net_step(dev, &cfgs[k], &ds, runs[r][1], runs[r][2], runs[r][3], false, plain, acc_p);
            ck_assert_msg(op_calls(dev, op) == calls, "%s: network %d ran %s without training", info->name, k,
                          op);
            char what[512];
            snprintf(what, sizeof what, "%s: network %d on rows %zu..%zu%s, fused vs separate ops",
                     list->items[d].name, k, runs[r][1], runs[r][1] + runs[r][2] - 1,
                     runs[r][3] ? " with the tutorial's quirks" : "");
            check_close(what, "params after the step", fused, plain, n, 1e-5f, 0.0f);
            ck_assert_msg(fabs(acc_f[0] - acc_p[0]) <= 1e-4 * fabs(acc_p[0]) && acc_f[1] == acc_p[1],
                          "%s: accumulator (%g, %g) vs (%g, %g)", what, acc_f[0], acc_f[1], acc_p[0], acc_p[1]);
            free(fused);
            free(plain);
        }
        nncl_device_close(dev);
    }
}
END_TEST

/* Regression has one target per row: a network with several regression
 * outputs (a model file could say so) is refused, not evaluated into a
 * one-value-per-row buffer; and a batch of labels is not read as targets. */
START_TEST(network_refuses_regression_with_several_outputs)
{
    nncl_device *host = test_host_device();
    nncl_net_config cfg = {.layers = 2, .sizes = {3, 4, 2}, .act = NNCL_ACT_RELU, .task = NNCL_TASK_REGRESS};
    nncl_net *net = NULL;
    ck_assert_int_eq(nncl_net_create(host, &cfg, 8, &net), NNCL_E_INVALID);
    ck_assert_ptr_null(net);
    ck_assert_msg(strstr(nncl_last_error(), "regression has 1 output"), "message: %s", nncl_last_error());
    cfg.sizes[2] = 1;
    ck_assert_ok(nncl_net_create(host, &cfg, 8, &net));
    /* and a regression network refuses a batch of class labels */
    float x[8 * 3] = {0};
    int32_t labels[8] = {0, 1, 0, 1, 0, 1, 0, 1};
    nncl_dataset ds = {.rows = 8, .cols = 3, .x_f32 = x, .labels = labels, .task = NNCL_TASK_CLASSIFY,
                       .num_classes = 2};
    nncl_device_data dd;
    ck_assert_ok(nncl_device_data_upload(host, &ds, &dd));
    ck_assert_int_eq(nncl_net_load_batch(net, &dd, 0, 8), NNCL_E_INVALID);
    ck_assert_msg(strstr(nncl_last_error(), "the data is for classification"), "message: %s", nncl_last_error());
    nncl_device_data_free(&dd);
    nncl_net_free(net);
    nncl_device_close(host);
}
END_TEST

/* The training loop moves nothing it need not: after the first step, more
 * steps (whole batch or mini-batches at any offset) allocate no buffer and
 * transfer nothing between host and device, on every path (the whole step
 * fused, the head fused, separate ops); and nncl_train reads the device once
 * per epoch (the loss and accuracy), besides what its divergence watch reads and writes once per epoch (the shuffled
 * order). */
START_TEST(training_steps_allocate_and_transfer_nothing)
{
    nncl_device_list *list = test_devices();
    enum { ROWS = 300, COLS = 20, EPOCHS = 3 };
    uint8_t x[ROWS * COLS];
    int32_t labels[ROWS];
    uint64_t s = 0x5eed;
    for (size_t i = 0; i < ROWS * COLS; i++)
        x[i] = (uint8_t)(test_rand_u64(&s) & 255);
    for (size_t r = 0; r < ROWS; r++)
        labels[r] = (int32_t)(r % 5);
    nncl_dataset ds = {.rows = ROWS, .cols = COLS, .x_u8 = x, .labels = labels, .task = NNCL_TASK_CLASSIFY,
                       .num_classes = 5};
    const nncl_net_config cfgs[3] = {
        {.layers = 2, .sizes = {COLS, 8, 5}, .act = NNCL_ACT_RELU, .task = NNCL_TASK_CLASSIFY},
        {.layers = 3, .sizes = {COLS, 12, 16, 5}, .act = NNCL_ACT_TANH, .task = NNCL_TASK_CLASSIFY},
        {.layers = 2, .sizes = {COLS, 40, 5}, .act = NNCL_ACT_RELU, .task = NNCL_TASK_CLASSIFY},
    };
    const size_t batches[2] = {ROWS, 64};
    nncl_optim_config adam = {.kind = NNCL_OPTIM_ADAM, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f};
    for (int d = 0; d < list->count; d++) {
        nncl_device *dev = test_open(d);
        nncl_device_data dd;
        ck_assert_ok(nncl_device_data_upload(dev, &ds, &dd));
        for (int k = 0; k < 3; k++)
            for (int b = 0; b < 2; b++) {
                /* Small (the simulator): one network (head_xent on a
                 * GPU) on mini-batches */
                if (test_small() && (k != 1 || b != 1))
                    continue;
                const size_t batch = batches[b], steps = ROWS / batch;
                nncl_net *net;
                ck_assert_ok(nncl_net_create(dev, &cfgs[k], batch, &net));
                ck_assert_ok(nncl_net_init(net, NNCL_INIT_XAVIER, 0.0f, 5));
                ck_assert_ok(nncl_net_train_step(net, &dd, 0, batch, &adam, 1e-3f, 1, 1));
                nncl_transfer_stats before, after;
                nncl_device_transfers(dev, &before);
                for (unsigned long t = 2; t < 12; t++)
                    ck_assert_ok(nncl_net_train_step(net, &dd, (t % steps) * batch, batch, &adam, 1e-3f, 1, t));
                ck_assert_ok(nncl_device_finish(dev));
                nncl_device_transfers(dev, &after);
                ck_assert_msg(after.allocs == before.allocs && after.writes == before.writes &&
                                  after.reads == before.reads,
                              "%s: network %d, batch %zu: 10 steps made %lu allocations, %lu writes, %lu reads",
                              list->items[d].name, k, batch, after.allocs - before.allocs,
                              after.writes - before.writes, after.reads - before.reads);
                /* the loop: one read (loss, accuracy) and one order list per epoch */
                nncl_train_config tc = {.batch = batch, .epochs = EPOCHS, .seed = 3, .shuffle = true,
                                        .schedule = {.kind = NNCL_SCHEDULE_CONSTANT, .lr = 1e-3f},
                                        .optim = adam};
                nncl_train_result res;
                nncl_device_transfers(dev, &before);
                ck_assert_ok(nncl_train(net, &tc, &dd, NULL, NULL, &res));
                nncl_device_transfers(dev, &after);
                /* and, for the divergence watch, the parameters once at the
                 * start and the loss at most every DIVERGE_POLL_SECONDS (0.25) */
                unsigned long polls = after.reads - before.reads - (EPOCHS + 1);
                ck_assert_msg(after.allocs == before.allocs && after.reads - before.reads >= EPOCHS + 1 &&
                                  polls <= (unsigned long)(res.seconds / 0.25) + 1 &&
                                  after.writes - before.writes == EPOCHS,
                              "%s: network %d, batch %zu: %d epochs made %lu allocations, %lu writes, %lu reads",
                              list->items[d].name, k, batch, EPOCHS, after.allocs - before.allocs,
                              after.writes - before.writes, after.reads - before.reads);
                nncl_net_free(net);
            }
        nncl_device_data_free(&dd);
        nncl_device_close(dev);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("head");
    TCase *tc = tcase_create("head_xent");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, head_xent_refuses_bad_arguments);
    tcase_add_test(tc, head_xent_gradients_by_finite_differences);
    tcase_add_test(tc, head_xent_host_matches_composition);
    tcase_add_test(tc, head_xent_matches_host);
    tcase_add_test(tc, head_xent_propagates_nan_and_bad_labels);
    tcase_add_test(tc, head_xent_is_deterministic);
    tcase_add_test(tc, head_xent_in_the_network_matches_separate_ops);
    tcase_add_test(tc, network_refuses_regression_with_several_outputs);
    tcase_add_test(tc, training_steps_allocate_and_transfer_nothing);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
