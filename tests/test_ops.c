/* Every op on every device against its host twin, and the host twins
 * against hand-computed cases.
 *
 * Each device case runs the op on the device under test and on the host
 * device with the same fresh random inputs; outputs start poisoned with NaN,
 * views sit at nonzero offsets with poisoned padding after them (an element
 * written out of place shows up), and results are compared with the per-op
 * tolerances stated beside each test. NaN matches NaN, Inf matches Inf of the
 * same sign (test_close). */
#include <stdio.h>

#include "test_util.h"

/* ---- views at an offset inside poisoned buffers ----------------------------- */

#define PAD 5

typedef struct tview {
    nncl_buffer *buf;
    size_t off, n, esz;
} tview;

/* A buffer of off + n + PAD elements of esz bytes, every byte pattern NaN
 * (for floats; 0x7fc00000 as int32), with data (if any) written at off. */
static tview tv_new(nncl_device *dev, const void *data, size_t n, size_t esz, size_t off)
{
    tview t = {NULL, off, n, esz};
    size_t total = (off + n + PAD) * esz, words = (total + 3) / 4;
    t.buf = test_poisoned(dev, words);
    if (data && n)
        ck_assert_ok(nncl_buffer_write(t.buf, off * esz, data, n * esz));
    return t;
}
static tview tv_f32(nncl_device *dev, const float *data, size_t n, size_t off)
{
    return tv_new(dev, data, n, sizeof(float), off);
}
static tview tv_i32(nncl_device *dev, const int32_t *data, size_t n, size_t off)
{
    return tv_new(dev, data, n, sizeof(int32_t), off);
}
static nncl_view V(tview t) { return nncl_view_of(t.buf, t.off); }

/* The n elements at the view, freshly allocated; fails if anything in the
 * buffer before or after them is no longer the poison. */
static void *tv_read(tview t, const char *what)
{
    size_t total = nncl_buffer_size(t.buf);
    unsigned char *all = malloc(total);
    ck_assert_ok(nncl_buffer_read(t.buf, 0, all, total));
    const uint32_t poison = 0x7fc00000u;
    for (size_t b = 0; b < total; b++) {
        if (b >= t.off * t.esz && b < (t.off + t.n) * t.esz)
            continue;
        if (all[b] != ((const unsigned char *)&poison)[b % 4])
            ck_abort_msg("%s: byte %zu outside the view (offset %zu, %zu elements) was overwritten",
                         what, b, t.off, t.n);
    }
    void *out = malloc(t.n * t.esz + 1);
    memcpy(out, all + t.off * t.esz, t.n * t.esz);
    free(all);
    return out;
}
static void tv_free(tview t) { nncl_buffer_free(t.buf); }

/* Compare n floats: |got - ref| <= atol + rtol * |ref|, NaN == NaN. */
static void check_close(const char *what, const float *got, const float *ref, size_t n, float atol,
                        float rtol)
{
    /* ck_assert in a loop is slow (each one reports progress to the parent). */
    for (size_t i = 0; i < n; i++)
        if (!test_close(got[i], ref[i], atol, rtol))
            ck_abort_msg("%s: element %zu is %.9g, host twin says %.9g (atol %g, rtol %g)", what, i,
                         (double)got[i], (double)ref[i], (double)atol, (double)rtol);
}

static void check_bits(const char *what, const void *got, const void *ref, size_t bytes)
{
    if (memcmp(got, ref, bytes) != 0) {
        size_t i = 0;
        while (((const unsigned char *)got)[i] == ((const unsigned char *)ref)[i])
            i++;
        ck_abort_msg("%s: bits differ from the reference at byte %zu", what, i);
    }
}

static uint64_t seed_for(const char *name, int d)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = name; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return h + (uint64_t)d;
}

static const char *const act_names[] = {"identity", "relu", "leaky_relu", "sigmoid", "tanh"};

/* Inputs with the special values sprinkled in at fixed places. */
static void sprinkle_specials(float *x, size_t n)
{
    static const float sp[] = {NAN, INFINITY, -INFINITY, 0.0f, -0.0f, 100.0f, -100.0f, 1e-30f};
    for (size_t k = 0; k < sizeof sp / sizeof sp[0] && k * 7 < n; k++)
        x[k * 7] = sp[k];
}

/* ---- act_fwd / act_bwd ------------------------------------------------------------
 * Tolerances: identity, relu, leaky relu are exact (the same single
 * multiply or select on both sides). Sigmoid and tanh differ by the ulps of
 * exp/tanh and division (OpenCL allows 3-5 ulp): rtol 2e-6, atol 1e-30.
 * act_bwd is a product and y(1-y) or 1-y^2 (a device may fuse into an FMA):
 * rtol 1e-6, atol 1e-7 (dy is within [-1, 1]). */

START_TEST(act_fwd_matches_host)
{
    nncl_device_list *list = test_devices();
    nncl_device *host = test_host_device();
    static const size_t sizes[] = {1, 7, 64, 129, 1000, 4099};
    for (int d = 0; d < list->count; d++) {
        nncl_device *dev = test_open(d);
        uint64_t s = seed_for("act_fwd", d);
        for (int act = 0; act <= NNCL_ACT_TANH; act++)
            for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
                size_t n = sizes[k], off = 1 + k;
                if (test_too_big(n))
                    continue;
                float *x = test_random(&s, n, -8.0f, 8.0f);
                sprinkle_specials(x, n);
                for (int inplace = 0; inplace < 2; inplace++) {
                    tview xd = tv_f32(dev, x, n, off), yd = inplace ? xd : tv_f32(dev, NULL, n, off + 2);
                    tview xh = tv_f32(host, x, n, 0), yh = inplace ? xh : tv_f32(host, NULL, n, 0);
                    nncl_act_fwd_args a = {V(xd), V(yd), n, (nncl_act)act, 0.01f};
                    ck_assert_ok(nncl_act_fwd(dev, &a));
                    nncl_act_fwd_args b = {V(xh), V(yh), n, (nncl_act)act, 0.01f};
                    ck_assert_ok(nncl_act_fwd(host, &b));
                    char what[400];
                    snprintf(what, sizeof what, "%s: act_fwd %s n=%zu%s", list->items[d].name,
                             act_names[act], n, inplace ? " in place" : "");
                    float *got = tv_read(yd, what), *ref = tv_read(yh, what);
                    bool transcendental = act == NNCL_ACT_SIGMOID || act == NNCL_ACT_TANH;
                    check_close(what, got, ref, n, transcendental ? 1e-30f : 0.0f,
                                transcendental ? 2e-6f : 0.0f);
                    /* NaN in, NaN out, for every activation (relu included). */
                    ck_assert_msg(isnan(got[0]), "%s: f(NaN) = %g", what, (double)got[0]);
                    free(got);
                    free(ref);
                    tv_free(xd);
                    tv_free(xh);
                    if (!inplace) {
                        tv_free(yd);
                        tv_free(yh);
                    }
                }
                free(x);
            }
        nncl_device_close(dev);
    }
    nncl_device_close(host);
}
END_TEST

START_TEST(act_bwd_matches_host)
{
    nncl_device_list *list = test_devices();
    nncl_device *host = test_host_device();
    static const size_t sizes[] = {1, 7, 129, 1000, 4099};
    for (int d = 0; d < list->count; d++) {
        nncl_device *dev = test_open(d);
        uint64_t s = seed_for("act_bwd", d);
        for (int act = 0; act <= NNCL_ACT_TANH; act++)
            for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
                size_t n = sizes[k], off = 2 + k;
                if (test_too_big(n))
                    continue;
                /* y as a forward pass would give it: from z through the host twin. */
                float *z = test_random(&s, n, -4.0f, 4.0f), *dy = test_random(&s, n, -1.0f, 1.0f);
                for (size_t i = 0; i < n; i += 5)
                    z[i] = 0.0f;                    /* exact zeros: relu's kink */
                tview zh = tv_f32(host, z, n, 0);
                nncl_act_fwd_args f = {V(zh), V(zh), n, (nncl_act)act, 0.1f};
                ck_assert_ok(nncl_act_fwd(host, &f));
                float *y = tv_read(zh, "y");
                if (n > 3) {
                    y[1] = NAN;                     /* NaN in y or dy gives NaN in dx */
                    dy[3] = NAN;
                }
                for (int inplace = 0; inplace < 2; inplace++) {
                    tview yd = tv_f32(dev, y, n, off), dyd = tv_f32(dev, dy, n, off + 1);
                    tview dxd = inplace ? dyd : tv_f32(dev, NULL, n, 1);
                    tview yh = tv_f32(host, y, n, 0), dyh = tv_f32(host, dy, n, 0);
                    tview dxh = inplace ? dyh : tv_f32(host, NULL, n, 0);
                    nncl_act_bwd_args a = {V(yd), V(dyd), V(dxd), n, (nncl_act)act, 0.1f};
                    ck_assert_ok(nncl_act_bwd(dev, &a));
                    nncl_act_bwd_args b = {V(yh), V(dyh), V(dxh), n, (nncl_act)act, 0.1f};
                    ck_assert_ok(nncl_act_bwd(host, &b));
                    char what[400];
                    snprintf(what, sizeof what, "%s: act_bwd %s n=%zu%s", list->items[d].name,
                             act_names[act], n, inplace ? " in place" : "");
                    float *got = tv_read(dxd, what), *ref = tv_read(dxh, what);
                    check_close(what, got, ref, n, 1e-7f, 1e-6f);
                    if (n > 3)
                        ck_assert_msg(isnan(got[1]) && isnan(got[3]), "%s: NaN did not propagate", what);
                    free(got);
                    free(ref);
                    tv_free(yd);
                    tv_free(dyd);
                    tv_free(yh);
                    tv_free(dyh);
                    if (!inplace) {
                        tv_free(dxd);
                        tv_free(dxh);
                    }
                }
                free(y);
                free(z);
                free(dy);
                tv_free(zh);
            }
        nncl_device_close(dev);
    }
    nncl_device_close(host);
}
END_TEST

/* ---- softmax_xent ---------------------------------------------------------------------
 * Tolerances: dz = (p - onehot) * scale where p carries the ulps of exp and
 * division: atol 1e-6 * scale, rtol 1e-5. acc[0], a sum of positive losses
 * in another order (device: float tree; host: double): rtol 1e-5 + atol 1e-6.
 * acc[1] counts correct rows: exact. */

typedef struct loss_out {
    float *grad, acc[2];
} loss_out;

static loss_out run_softmax(nncl_device *dev, const float *z, const int32_t *labels, size_t rows,
                            size_t classes, float scale, bool want_dz, bool want_acc, bool inplace,
                            size_t off, const char *what)
{
    size_t n = rows * classes;
    tview zv = tv_f32(dev, z, n, off), lv = tv_i32(dev, labels, rows, off + 1);
    tview dzv = inplace ? zv : tv_f32(dev, NULL, n, off + 2);
    float acc0[2] = {1.5f, 2.0f};
    tview accv = tv_f32(dev, acc0, 2, off + 3), scr = tv_f32(dev, NULL, 2 * rows, off + 4);
    nncl_softmax_xent_args a = {.z = V(zv), .labels = V(lv), .rows = rows, .classes = classes,
                                .grad_scale = scale};
    if (want_dz)
        a.dz = V(dzv);
    if (want_acc) {
        a.acc = V(accv);
        a.scratch = V(scr);
    }
    ck_assert_ok(nncl_softmax_xent(dev, &a));
    loss_out out = {NULL, {0, 0}};
    if (want_dz)
        out.grad = tv_read(dzv, what);
    float *acc = tv_read(accv, what);
    memcpy(out.acc, acc, sizeof out.acc);
    free(acc);
    if (!want_acc)
        ck_assert_msg(out.acc[0] == 1.5f && out.acc[1] == 2.0f, "%s: acc changed without acc", what);
    tv_free(zv);
    tv_free(lv);
    if (!inplace)
        tv_free(dzv);
    tv_free(accv);
    tv_free(scr);
    return out;
}

START_TEST(softmax_xent_matches_host)
{
    nncl_device_list *list = test_devices();
    nncl_device *host = test_host_device();
    static const size_t class_counts[] = {1, 3, 10, 129, 1000};
    static const size_t row_counts[] = {1, 7, 129, 1000};
    for (int d = 0; d < list->count; d++) {
        nncl_device *dev = test_open(d);
        uint64_t s = seed_for("softmax_xent", d);
        for (size_t ci = 0; ci < 5; ci++)
            for (size_t ri = 0; ri < 4; ri++) {
                size_t C = class_counts[ci], R = row_counts[ri], n = R * C;
                if (test_too_big(n))
                    continue;
                float *z = test_random(&s, n, -10.0f, 10.0f);
                int32_t *lab = malloc(R * sizeof(int32_t));
                for (size_t r = 0; r < R; r++)
                    lab[r] = (int32_t)(test_rand_u64(&s) % C);
                float scale = 1.0f / (float)R;
                for (int mode = 0; mode < 3; mode++) {     /* dz + acc, dz only in place, acc only */
                    bool want_dz = mode < 2, want_acc = mode != 1, inplace = mode == 1;
                    char what[400];
                    snprintf(what, sizeof what, "%s: softmax_xent rows=%zu classes=%zu mode %d",
                             list->items[d].name, R, C, mode);
                    loss_out got = run_softmax(dev, z, lab, R, C, scale, want_dz, want_acc, inplace,
                                               1 + ri, what);
                    loss_out ref = run_softmax(host, z, lab, R, C, scale, want_dz, want_acc, inplace,
                                               0, what);
                    if (want_dz)
                        check_close(what, got.grad, ref.grad, n, 1e-6f * scale, 1e-5f);
                    ck_assert_msg(test_close(got.acc[0], ref.acc[0], 1e-6f, 1e-5f),
                                  "%s: loss sum %.9g, host %.9g", what, (double)got.acc[0],
                                  (double)ref.acc[0]);
                    ck_assert_msg(got.acc[1] == ref.acc[1], "%s: correct %g, host %g", what,
                                  (double)got.acc[1], (double)ref.acc[1]);
                    free(got.grad);
                    free(ref.grad);
                }
                free(z);
                free(lab);
            }
        nncl_device_close(dev);
    }
    nncl_device_close(host);
}
END_TEST

/* A NaN logit spoils its own row only; +Inf and a label out of range too. */
START_TEST(softmax_xent_propagates_nan_per_row)
{
    nncl_device_list *list = test_devices();
    for (int d = 0; d < list->count; d++) {
        nncl_device *dev = test_open(d);
        enum { R = 5, C = 4 };
        float z[R * C] = {1, 2, 3, 4, 1, NAN, 0, 0, 0, INFINITY, 1, 2, 1, 2, 3, 4, -INFINITY, 0, 1, 2};
        int32_t lab[R] = {3, 0, 1, 4, 0};
        char what[400];
        snprintf(what, sizeof what, "%s: softmax_xent NaN", list->items[d].name);
        loss_out o = run_softmax(dev, z, lab, R, C, 1.0f, true, true, false, 2, what);
        for (int r = 0; r < R; r++)
            for (int j = 0; j < C; j++) {
                bool bad = r == 1 || r == 2 || r == 3;
                float g = o.grad[r * C + j];
                ck_assert_msg(bad ? isnan(g) : isfinite(g), "%s: dz[%d,%d] = %g", what, r, j, (double)g);
            }
        ck_assert_msg(isnan(o.acc[0]), "%s: loss sum %g should be NaN", what, (double)o.acc[0]);
        /* Row 0 (argmax 3 == 3) is right; row 4's argmax is 3, label 0. */
        /* Row 2's argmax is its +Inf at the label: counted correct, loss NaN. */
        ck_assert_msg(o.acc[1] == 2.0f + 2.0f, "%s: correct %g", what, (double)o.acc[1]);
        float z4[C] = {-INFINITY, 0, 1, 2};
        int32_t l4 = 0;
        loss_out o4 = run_softmax(dev, z4, &l4, 1, C, 1.0f, true, true, false, 0, what);
        ck_assert_msg(isinf(o4.acc[0]) && o4.acc[0] > 0, "%s: -Inf logit at the label: loss %g", what,
                      (double)o4.acc[0]);
        free(o.grad);
        free(o4.grad);
        nncl_device_close(dev);
    }
}
END_TEST

/* ---- mse ----------------------------------------------------------------------------
 * Tolerances: dy = (y - t) * (2/outputs) * scale, the same roundings on both
 * sides: rtol 1e-6. acc: per-row sums of squares (an FMA may fuse) then a
 * sum in another order: rtol 1e-5 + atol 1e-6. */

static loss_out run_mse(nncl_device *dev, const float *y, const float *t, size_t rows, size_t outs,
                        float scale, bool want_dy, bool want_acc, bool inplace, size_t off,
                        const char *what)
{
    size_t n = rows * outs;
    tview yv = tv_f32(dev, y, n, off), tvv = tv_f32(dev, t, n, off + 1);
    tview dyv = inplace ? yv : tv_f32(dev, NULL, n, off + 2);
    float acc0[2] = {0.25f, -1.0f};
    tview accv = tv_f32(dev, acc0, 2, off), scr = tv_f32(dev, NULL, 2 * rows, off + 3);
    nncl_mse_args a = {.y = V(yv), .t = V(tvv), .rows = rows, .outputs = outs, .grad_scale = scale};
    if (want_dy)
        a.dy = V(dyv);
    if (want_acc) {
        a.acc = V(accv);
        a.scratch = V(scr);
    }
    ck_assert_ok(nncl_mse(dev, &a));
    loss_out out = {NULL, {0, 0}};
    if (want_dy)
        out.grad = tv_read(dyv, what);
    float *acc = tv_read(accv, what);
    memcpy(out.acc, acc, sizeof out.acc);
    free(acc);
    tv_free(yv);
    tv_free(tvv);
    if (!inplace)
        tv_free(dyv);
    tv_free(accv);
    tv_free(scr);
    return out;
}

START_TEST(mse_matches_host)
{
    nncl_device_list *list = test_devices();
    nncl_device *host = test_host_device();
    static const size_t out_counts[] = {1, 3, 10, 129};
    static const size_t row_counts[] = {1, 7, 129, 1000};
    for (int d = 0; d < list->count; d++) {
        nncl_device *dev = test_open(d);
        uint64_t s = seed_for("mse", d);
        for (size_t oi = 0; oi < 4; oi++)
            for (size_t ri = 0; ri < 4; ri++) {
                size_t O = out_counts[oi], R = row_counts[ri], n = R * O;
                if (test_too_big(n))
                    continue;
                float *y = test_random(&s, n, -3.0f, 3.0f), *t = test_random(&s, n, -3.0f, 3.0f);
                float scale = 1.0f / (float)R;
                for (int mode = 0; mode < 3; mode++) {
                    bool want_dy = mode < 2, want_acc = mode != 1, inplace = mode == 1;
                    char what[400];
                    snprintf(what, sizeof what, "%s: mse rows=%zu outputs=%zu mode %d",
                             list->items[d].name, R, O, mode);
                    loss_out got = run_mse(dev, y, t, R, O, scale, want_dy, want_acc, inplace, 3, what);
                    loss_out ref = run_mse(host, y, t, R, O, scale, want_dy, want_acc, inplace, 0, what);
                    if (want_dy)
                        check_close(what, got.grad, ref.grad, n, 0.0f, 1e-6f);
                    check_close(what, got.acc, ref.acc, 2, 1e-6f, 1e-5f);
                    free(got.grad);
                    free(ref.grad);
                }
                free(y);
                free(t);
            }
        /* NaN in one prediction: that gradient and the sums, nothing else. */
        float y[6] = {1, 2, NAN, 4, 5, 6}, t[6] = {0};
        loss_out o = run_mse(dev, y, t, 2, 3, 1.0f, true, true, false, 1, "mse NaN");
        for (int i = 0; i < 6; i++)
            ck_assert(i == 2 ? isnan(o.grad[i]) : isfinite(o.grad[i]));
        ck_assert(isnan(o.acc[0]) && isnan(o.acc[1]));
        free(o.grad);
        nncl_device_close(dev);
    }
    nncl_device_close(host);
}
END_TEST

/* ---- colsum --------------------------------------------------------------------------
 * Tolerance: the device sums in a tree of float partials, the host in
 * double: |got - ref| <= 1e-5 * (|alpha| sum_i |x_ij| + |beta y_j|). */

START_TEST(colsum_matches_host)
{
    nncl_device_list *list = test_devices();
    nncl_device *host = test_host_device();
    static const size_t shapes[][2] = {{1, 1},   {1, 10},   {3, 1},    {7, 3},   {64, 64},
                                       {129, 10}, {128, 784}, {1000, 31}, {60000, 10}, {31, 129}};
    static const float ab[][2] = {{1.0f, 0.0f}, {0.5f, 1.0f}, {-2.0f, 0.25f}};
    for (int d = 0; d < list->count; d++) {
        nncl_device *dev = test_open(d);
        uint64_t s = seed_for("colsum", d);
        for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++)
            for (size_t m = 0; m < 3; m++) {
                size_t R = shapes[k][0], C = shapes[k][1], ldx = C + (k % 2) * 3;
                if (test_too_big(R * ldx))
                    continue;
                size_t nx = (R - 1) * ldx + C;
                float *x = test_random(&s, nx, -1.0f, 1.0f), *y0 = test_random(&s, C, -1.0f, 1.0f);
                float alpha = ab[m][0], beta = ab[m][1];
                char what[400];
                snprintf(what, sizeof what, "%s: colsum %zux%zu ldx=%zu alpha=%g beta=%g",
                         list->items[d].name, R, C, ldx, (double)alpha, (double)beta);
                tview xd = tv_f32(dev, x, nx, 3), xh = tv_f32(host, x, nx, 0);
                /* beta == 0: y is not read, so poison must not leak in. */
                tview yd = tv_f32(dev, beta == 0.0f ? NULL : y0, C, 5);
                tview yh = tv_f32(host, beta == 0.0f ? NULL : y0, C, 0);
                nncl_colsum_args a = {V(xd), ldx, V(yd), R, C, alpha, beta};
                ck_assert_ok(nncl_colsum(dev, &a));
                nncl_colsum_args b = {V(xh), ldx, V(yh), R, C, alpha, beta};
                ck_assert_ok(nncl_colsum(host, &b));
                float *got = tv_read(yd, what), *ref = tv_read(yh, what);
                for (size_t j = 0; j < C; j++) {
                    double mag = 0;
                    for (size_t i = 0; i < R; i++)
                        mag += fabs(x[i * ldx + j]);
                    mag = fabs(alpha) * mag + (beta == 0.0f ? 0 : fabs(beta * y0[j]));
                    if (!(isfinite(got[j]) && fabs(got[j] - ref[j]) <= 1e-5 * mag + 1e-30))
                        ck_abort_msg("%s: y[%zu] = %.9g, host %.9g", what, j, (double)got[j],
                                     (double)ref[j]);
                }
                free(got);
                free(ref);
                free(x);
                free(y0);
                tv_free(xd);
                tv_free(xh);
                tv_free(yd);
                tv_free(yh);
            }
        /* A NaN spoils its own column only. */
        float x[6] = {1, NAN, 3, 4, 5, 6}, ref[3] = {5, NAN, 9};
        tview xd = tv_f32(dev, x, 6, 1), yd = tv_f32(dev, NULL, 3, 2);
        nncl_colsum_args a = {V(xd), 3, V(yd), 2, 3, 1.0f, 0.0f};
        ck_assert_ok(nncl_colsum(dev, &a));
        float *got = tv_read(yd, "colsum NaN");
        check_close("colsum NaN", got, ref, 3, 0, 0);
        free(got);
        tv_free(xd);
        tv_free(yd);
        nncl_device_close(dev);
    }
    nncl_device_close(host);
}
END_TEST

/* ---- argmax_rows: exact ------------------------------------------------------------- */

START_TEST(argmax_rows_matches_host)
{
    nncl_device_list *list = test_devices();
    nncl_device *host = test_host_device();
    static const size_t shapes[][2] = {{1, 1}, {7, 3}, {129, 10}, {1000, 7}, {31, 1000}};
    for (int d = 0; d < list->count; d++) {
        nncl_device *dev = test_open(d);
        uint64_t s = seed_for("argmax", d);
        for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
            size_t R = shapes[k][0], C = shapes[k][1], n = R * C;
            if (test_too_big(n))
                continue;
            float *x = test_random(&s, n, 0.0f, 4.0f);
            for (size_t i = 0; i < n; i++)
                x[i] = floorf(x[i]);                /* many ties */
            if (n > 20) {
                x[11] = NAN;
                x[13] = INFINITY;
                x[17] = -INFINITY;
            }
            char what[400];
            snprintf(what, sizeof what, "%s: argmax_rows %zux%zu", list->items[d].name, R, C);
            tview xd = tv_f32(dev, x, n, 4), id = tv_i32(dev, NULL, R, 1);
            tview xh = tv_f32(host, x, n, 0), ih = tv_i32(host, NULL, R, 0);
            nncl_argmax_rows_args a = {V(xd), V(id), R, C};
            ck_assert_ok(nncl_argmax_rows(dev, &a));
            nncl_argmax_rows_args b = {V(xh), V(ih), R, C};
            ck_assert_ok(nncl_argmax_rows(host, &b));
            int32_t *got = tv_read(id, what), *ref = tv_read(ih, what);
            for (size_t i = 0; i < R; i++)
                if (got[i] != ref[i])
                    ck_abort_msg("%s: row %zu: %d, host %d", what, i, got[i], ref[i]);
            free(got);
            free(ref);
            free(x);
            tv_free(xd);
            tv_free(id);
            tv_free(xh);
            tv_free(ih);
        }
        nncl_device_close(dev);
    }
    nncl_device_close(host);
}
END_TEST

/* ---- optim_step ----------------------------------------------------------------------
 * Three steps of each optimiser, state carried on each side. A device may
 * fuse mu*m + g into an FMA, and mu*m + g can cancel, so state differs by a
 * few ulps of its *terms* (|m| <= 3 here): m rtol 1e-6 + atol 1e-6; v (about
 * 1e-3 g^2) rtol 1e-5 + atol 1e-10. w moves by lr times that, plus sqrt's 3
 * ulp and division in Adam: w rtol 1e-6 + atol 1e-7. */

static const char *const optim_names[] = {"sgd", "momentum", "adam", "adamw"};

START_TEST(optim_step_matches_host)
{
    nncl_device_list *list = test_devices();
    nncl_device *host = test_host_device();
    static const size_t sizes[] = {1, 7, 129, 1000, 4099};
    for (int d = 0; d < list->count; d++) {
        nncl_device *dev = test_open(d);
        uint64_t s = seed_for("optim", d);
        for (int kind = 0; kind <= NNCL_OPTIM_ADAMW; kind++)
            for (int variant = 0; variant < 2; variant++)
                for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
                    size_t n = sizes[k];
                    if (test_too_big(n))
                        continue;
                    float *w = test_random(&s, n, -1.0f, 1.0f);
                    float *zero = calloc(n, sizeof(float));
                    tview wd = tv_f32(dev, w, n, 1), md = tv_f32(dev, zero, n, 2), vd = tv_f32(dev, zero, n, 3);
                    tview wh = tv_f32(host, w, n, 0), mh = tv_f32(host, zero, n, 0), vh = tv_f32(host, zero, n, 0);
                    char what[400];
                    for (unsigned long t = 1; t <= 3; t++) {
                        float *g = test_random(&s, n, -1.0f, 1.0f);
                        tview gd = tv_f32(dev, g, n, 4), gh = tv_f32(host, g, n, 0);
                        nncl_optim_step_args a = {.kind = (nncl_optim)kind, .n = n, .lr = 0.01f,
                                                  .weight_decay = variant ? 0.1f : 0.0f,
                                                  .momentum = 0.9f, .nesterov = variant,
                                                  .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f,
                                                  .step = t};
                        a.w = V(wd), a.grad = V(gd);
                        if (kind != NNCL_OPTIM_SGD)
                            a.m = V(md);
                        if (kind >= NNCL_OPTIM_ADAM)
                            a.v = V(vd);
                        ck_assert_ok(nncl_optim_step(dev, &a));
                        a.w = V(wh), a.grad = V(gh);
                        a.m = kind != NNCL_OPTIM_SGD ? V(mh) : (nncl_view){0};
                        a.v = kind >= NNCL_OPTIM_ADAM ? V(vh) : (nncl_view){0};
                        ck_assert_ok(nncl_optim_step(host, &a));
                        snprintf(what, sizeof what, "%s: %s%s n=%zu step %lu", list->items[d].name,
                                 optim_names[kind], variant ? " (decay, nesterov)" : "", n, t);
                        float *got = tv_read(wd, what), *ref = tv_read(wh, what);
                        check_close(what, got, ref, n, 1e-7f, 1e-6f);
                        free(got);
                        free(ref);
                        got = tv_read(md, what), ref = tv_read(mh, what);
                        check_close(what, got, ref, n, 1e-6f, 1e-6f);
                        free(got);
                        free(ref);
                        got = tv_read(vd, what), ref = tv_read(vh, what);
                        check_close(what, got, ref, n, 1e-10f, 1e-5f);
                        free(got);
                        free(ref);
                        free(g);
                        tv_free(gd);
                        tv_free(gh);
                    }
                    free(w);
                    free(zero);
                    tv_free(wd);
                    tv_free(md);
                    tv_free(vd);
                    tv_free(wh);
                    tv_free(mh);
                    tv_free(vh);
                }
        nncl_device_close(dev);
    }
    nncl_device_close(host);
}
END_TEST

/* ---- gather: exact (a subtraction and a multiplication on both sides) ----------------- */

START_TEST(gather_matches_host)
{
    nncl_device_list *list = test_devices();
    nncl_device *host = test_host_device();
    static const size_t shapes[][2] = {{1, 1}, {7, 3}, {129, 784}, {64, 13}}; /* rows, cols */
    enum { DATA_ROWS = 200 };
    for (int d = 0; d < list->count; d++) {
        nncl_device *dev = test_open(d);
        uint64_t s = seed_for("gather", d);
        for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++)
            for (int u8 = 0; u8 < 2; u8++) {
                size_t R = shapes[k][0], C = shapes[k][1], O = 1 + k % 3;
                if (test_too_big(R * C))
                    continue;
                size_t nd = (size_t)DATA_ROWS * C;
                unsigned char *bytes = malloc(nd);
                float *fdata = test_random(&s, nd, -5.0f, 5.0f);
                for (size_t i = 0; i < nd; i++)
                    bytes[i] = (unsigned char)(test_rand_u64(&s) & 255);
                float *shift = test_random(&s, C, 0.0f, 100.0f), *scale = test_random(&s, C, 0.001f, 0.1f);
                float *targets = test_random(&s, (size_t)DATA_ROWS * O, -10.0f, 10.0f);
                int32_t *labels = malloc(DATA_ROWS * sizeof(int32_t)), *index = malloc(R * sizeof(int32_t));
                for (int i = 0; i < DATA_ROWS; i++)
                    labels[i] = (int32_t)(test_rand_u64(&s) % 10);
                for (size_t r = 0; r < R; r++)
                    index[r] = (int32_t)(test_rand_u64(&s) % DATA_ROWS);
                if (R > 1)
                    index[R - 1] = DATA_ROWS - 1;
                char what[400];
                snprintf(what, sizeof what, "%s: gather %zux%zu %s", list->items[d].name, R, C,
                         u8 ? "u8" : "f32");
                nncl_device *devs[2] = {dev, host};
                void *res[2][3];
                for (int side = 0; side < 2; side++) {
                    nncl_device *dv = devs[side];
                    size_t off = side ? 0 : 3;
                    tview data = u8 ? tv_new(dv, bytes, nd, 1, off) : tv_f32(dv, fdata, nd, off);
                    tview iv = tv_i32(dv, index, R, off + 1), sh = tv_f32(dv, shift, C, off);
                    tview sc = tv_f32(dv, scale, C, off + 2), x = tv_f32(dv, NULL, R * C, off + 1);
                    tview lab = tv_i32(dv, labels, DATA_ROWS, off), lo = tv_i32(dv, NULL, R, off + 2);
                    tview tg = tv_f32(dv, targets, (size_t)DATA_ROWS * O, off + 1);
                    tview to = tv_f32(dv, NULL, R * O, off);
                    nncl_gather_args a = {.data = V(data), .u8 = u8, .data_rows = DATA_ROWS, .cols = C,
                                          .index = V(iv), .rows = R, .shift = V(sh), .scale = V(sc),
                                          .x = V(x), .labels = V(lab), .labels_out = V(lo),
                                          .targets = V(tg), .targets_out = V(to), .outputs = O,
                                          .t_shift = 0.5f, .t_scale = 0.25f};
                    ck_assert_ok(nncl_gather(dv, &a));
                    res[side][0] = tv_read(x, what);
                    res[side][1] = tv_read(lo, what);
                    res[side][2] = tv_read(to, what);
                    tview all[] = {data, iv, sh, sc, x, lab, lo, tg, to};
                    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
                        tv_free(all[i]);
                }
                check_bits(what, res[0][0], res[1][0], R * C * sizeof(float));
                check_bits(what, res[0][1], res[1][1], R * sizeof(int32_t));
                check_bits(what, res[0][2], res[1][2], R * O * sizeof(float));
                /* And the formula itself, on one element. */
                size_t r = R - 1, j = C - 1, src = (size_t)index[r] * C + j;
                float expect = ((u8 ? (float)bytes[src] : fdata[src]) - shift[j]) * scale[j];
                ck_assert_float_eq(((float *)res[1][0])[r * C + j], expect);
                ck_assert_int_eq(((int32_t *)res[1][1])[r], labels[index[r]]);
                for (int side = 0; side < 2; side++)
                    for (int q = 0; q < 3; q++)
                        free(res[side][q]);
                free(bytes);
                free(fdata);
                free(shift);
                free(scale);
                free(targets);
                free(labels);
                free(index);
            }
        nncl_device_close(dev);
    }
    nncl_device_close(host);
}
END_TEST

/* An index out of range: refused by the check on host buffers; written as
 * NaN (label -1) by kernels, which never read outside the data. */
START_TEST(gather_guards_bad_indices)
{
    nncl_device_list *list = test_devices();
    for (int d = 0; d < list->count; d++) {
        nncl_device *dev = test_open(d);
        float data[6] = {1, 2, 3, 4, 5, 6}, shift[2] = {0, 0}, scale[2] = {1, 1};
        int32_t labels[3] = {7, 8, 9}, index[4] = {2, 3, -1, 0};
        tview dv = tv_f32(dev, data, 6, 0), iv = tv_i32(dev, index, 4, 1), sh = tv_f32(dev, shift, 2, 0);
        tview sc = tv_f32(dev, scale, 2, 0), x = tv_f32(dev, NULL, 8, 2), lab = tv_i32(dev, labels, 3, 0);
        tview lo = tv_i32(dev, NULL, 4, 0);
        nncl_gather_args a = {.data = V(dv), .data_rows = 3, .cols = 2, .index = V(iv), .rows = 4,
                              .shift = V(sh), .scale = V(sc), .x = V(x), .labels = V(lab),
                              .labels_out = V(lo)};
        nncl_status st = nncl_gather(dev, &a);
        if (list->items[d].backend == NNCL_BACKEND_HOST) {
            ck_assert_int_eq(st, NNCL_E_INVALID);
            ck_assert_ptr_nonnull(strstr(nncl_last_error(), "index[1] = 3"));
            float *got = tv_read(x, "gather bad index");     /* untouched */
            for (int i = 0; i < 8; i++)
                ck_assert(isnan(got[i]));
            free(got);
        } else {
            ck_assert_ok(st);
            float *got = tv_read(x, "gather bad index");
            int32_t *gl = tv_read(lo, "gather bad index");
            float expect[8] = {5, 6, NAN, NAN, NAN, NAN, 1, 2};
            int32_t el[4] = {9, -1, -1, 7};
            check_close("gather bad index", got, expect, 8, 0, 0);
            for (int i = 0; i < 4; i++)
                ck_assert_int_eq(gl[i], el[i]);
            free(got);
            free(gl);
        }
        tview all[] = {dv, iv, sh, sc, x, lab, lo};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
            tv_free(all[i]);
        nncl_device_close(dev);
    }
}
END_TEST

/* ---- dropout: identical bits on every device ------------------------------------------- */

START_TEST(dropout_matches_host_bit_for_bit)
{
    nncl_device_list *list = test_devices();
    nncl_device *host = test_host_device();
    static const size_t sizes[] = {1, 3, 7, 1000, 4099, 100003};
    static const float ps[] = {0.0f, 0.1f, 0.5f, 0.9f};
    for (int d = 0; d < list->count; d++) {
        nncl_device *dev = test_open(d);
        uint64_t s = seed_for("dropout", d);
        for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++)
            for (size_t pi = 0; pi < 4; pi++) {
                size_t n = sizes[k];
                if (test_too_big(n))
                    continue;
                float p = ps[pi];
                float *x = test_random(&s, n, 0.5f, 1.5f);   /* nonzero: a zero output means dropped */
                uint64_t seed = test_rand_u64(&s), step = k * 1000003ULL + (pi << 40);
                char what[400];
                snprintf(what, sizeof what, "%s: dropout n=%zu p=%g", list->items[d].name, n, (double)p);
                tview xd = tv_f32(dev, x, n, 1 + k), yd = pi % 2 ? xd : tv_f32(dev, NULL, n, 2);
                tview xh = tv_f32(host, x, n, 0), yh = tv_f32(host, NULL, n, 0);
                nncl_dropout_args a = {V(xd), V(yd), n, p, seed, step};
                ck_assert_ok(nncl_dropout(dev, &a));
                nncl_dropout_args b = {V(xh), V(yh), n, p, seed, step};
                ck_assert_ok(nncl_dropout(host, &b));
                float *got = tv_read(yd, what), *ref = tv_read(yh, what);
                check_bits(what, got, ref, n * sizeof(float));
                size_t kept = 0;
                float scale = (float)(1.0 / (1.0 - p));
                for (size_t i = 0; i < n; i++) {
                    if (!(got[i] == 0.0f || got[i] == x[i] * scale))
                        ck_abort_msg("%s: y[%zu] = %g", what, i, (double)got[i]);
                    kept += got[i] != 0.0f;
                }
                if (n >= 1000) {
                    /* Binomial: within 5 standard deviations of n (1 - p). */
                    double mean = n * (1.0 - p), sd = sqrt(n * p * (1.0 - p));
                    ck_assert_msg(fabs((double)kept - mean) <= 5 * sd + 1, "%s: kept %zu of %zu", what,
                                  kept, n);
                }
                free(got);
                free(ref);
                free(x);
                tv_free(xd);
                if (pi % 2 == 0)
                    tv_free(yd);
                tv_free(xh);
                tv_free(yh);
            }
        nncl_device_close(dev);
    }
    nncl_device_close(host);
}
END_TEST

/* The backward pass is the same call on dy: the same elements survive; a
 * different step or seed gives a different mask. */
START_TEST(dropout_mask_is_recomputed)
{
    nncl_device_list *list = test_devices();
    for (int d = 0; d < list->count; d++) {
        nncl_device *dev = test_open(d);
        enum { N = 5000 };
        float *ones = malloc(N * sizeof(float)), *twos = malloc(N * sizeof(float));
        for (int i = 0; i < N; i++)
            ones[i] = 1.0f, twos[i] = 2.0f;
        float *outs[4];
        const uint64_t seeds[4] = {42, 42, 42, 43}, steps[4] = {7, 7, 8, 7};
        for (int c = 0; c < 4; c++) {
            tview x = tv_f32(dev, c == 1 ? twos : ones, N, 0), y = tv_f32(dev, NULL, N, 0);
            nncl_dropout_args a = {V(x), V(y), N, 0.5f, seeds[c], steps[c]};
            ck_assert_ok(nncl_dropout(dev, &a));
            outs[c] = tv_read(y, "dropout");
            tv_free(x);
            tv_free(y);
        }
        int same_step = 0, same_seed = 0;
        for (int i = 0; i < N; i++) {
            if ((outs[0][i] == 0.0f) != (outs[1][i] == 0.0f))
                ck_abort_msg("dropout: element %d: the mask differs between x and 2x", i);
            same_step += (outs[0][i] == 0.0f) == (outs[2][i] == 0.0f);
            same_seed += (outs[0][i] == 0.0f) == (outs[3][i] == 0.0f);
        }
        ck_assert_int_lt(same_step, N * 6 / 10);   /* independent masks agree about half the time */
        ck_assert_int_lt(same_seed, N * 6 / 10);
        for (int c = 0; c < 4; c++)
            free(outs[c]);
        free(ones);
        free(twos);
        nncl_device_close(dev);
    }
}
END_TEST

/* ---- determinism: the same inputs, the same bits -------------------------------------- */

START_TEST(reductions_are_deterministic)
{
    nncl_device_list *list = test_devices();
    for (int d = 0; d < list->count; d++) {
        nncl_device *dev = test_open(d);
        uint64_t s = seed_for("determinism", d);
        size_t R = test_small() ? 1500 : 60000, C = 10;
        float *z = test_random(&s, R * C, -5.0f, 5.0f);
        int32_t *lab = malloc(R * sizeof(int32_t));
        for (size_t r = 0; r < R; r++)
            lab[r] = (int32_t)(test_rand_u64(&s) % C);
        loss_out a = run_softmax(dev, z, lab, R, C, 1.0f / R, true, true, false, 1, "determinism");
        loss_out b = run_softmax(dev, z, lab, R, C, 1.0f / R, true, true, false, 1, "determinism");
        check_bits("softmax_xent dz", a.grad, b.grad, R * C * sizeof(float));
        check_bits("softmax_xent acc", a.acc, b.acc, sizeof a.acc);
        loss_out c = run_mse(dev, z, z + 7, R - 1, C, 1.0f, true, true, false, 0, "determinism");
        loss_out e = run_mse(dev, z, z + 7, R - 1, C, 1.0f, true, true, false, 0, "determinism");
        check_bits("mse acc", c.acc, e.acc, sizeof c.acc);
        float *ys[2];
        for (int k = 0; k < 2; k++) {
            tview x = tv_f32(dev, z, R * C, 0), y = tv_f32(dev, NULL, C, 0);
            nncl_colsum_args ca = {V(x), C, V(y), R, C, 1.0f, 0.0f};
            ck_assert_ok(nncl_colsum(dev, &ca));
            ys[k] = tv_read(y, "colsum");
            tv_free(x);
            tv_free(y);
        }
        check_bits("colsum", ys[0], ys[1], C * sizeof(float));
        free(ys[0]);
        free(ys[1]);
        free(a.grad);
        free(b.grad);
        free(c.grad);
        free(e.grad);
        free(z);
        free(lab);
        nncl_device_close(dev);
    }
}
END_TEST

/* ---- bad arguments: an error with a message, nothing written ---------------------------- */

static void expect_invalid(nncl_status st, const char *needle)
{
    ck_assert_msg(st == NNCL_E_INVALID, "expected NNCL_E_INVALID for '%s', got %s", needle,
                  nncl_status_name(st));
    ck_assert_msg(strstr(nncl_last_error(), needle) != NULL, "message '%s' lacks '%s'",
                  nncl_last_error(), needle);
}

START_TEST(bad_arguments_are_refused)
{
    nncl_device_list *list = test_devices();
    for (int d = 0; d < list->count; d++) {
        nncl_device *dev = test_open(d);
        tview a = tv_f32(dev, NULL, 10, 0), b = tv_f32(dev, NULL, 10, 0), c = tv_f32(dev, NULL, 10, 0);
        int32_t lab[4] = {0, 1, 0, 1};
        tview l = tv_i32(dev, lab, 4, 0);
        nncl_view A = V(a), B = V(b), Cv = V(c);
        size_t cap = 10 + PAD;

        nncl_act_fwd_args f = {A, nncl_view_of(b.buf, 1), cap, NNCL_ACT_RELU, 0};
        expect_invalid(nncl_act_fwd(dev, &f), "act_fwd: y");
        f = (nncl_act_fwd_args){A, B, 4, (nncl_act)9, 0};
        expect_invalid(nncl_act_fwd(dev, &f), "unknown activation");
        f = (nncl_act_fwd_args){A, B, 4, NNCL_ACT_LEAKY_RELU, -0.1f};
        expect_invalid(nncl_act_fwd(dev, &f), "slope");
        nncl_act_bwd_args g = {A, B, nncl_view_of(c.buf, cap), 1, NNCL_ACT_TANH, 0};
        expect_invalid(nncl_act_bwd(dev, &g), "act_bwd: dx");

        nncl_softmax_xent_args sx = {.z = A, .labels = V(l), .dz = B, .rows = 4, .classes = 0};
        expect_invalid(nncl_softmax_xent(dev, &sx), "classes");
        sx.classes = 4;
        expect_invalid(nncl_softmax_xent(dev, &sx), "softmax_xent: z");
        sx.classes = 1;
        sx.rows = 10;
        expect_invalid(nncl_softmax_xent(dev, &sx), "softmax_xent: labels");
        sx.rows = 4;
        sx.acc = Cv;
        expect_invalid(nncl_softmax_xent(dev, &sx), "scratch");
        sx.classes = SIZE_MAX / 2;
        expect_invalid(nncl_softmax_xent(dev, &sx), "overflow");

        nncl_mse_args ms = {.y = A, .t = B, .rows = 2, .outputs = 0};
        expect_invalid(nncl_mse(dev, &ms), "outputs");
        ms.outputs = 8;
        expect_invalid(nncl_mse(dev, &ms), "mse: y");

        nncl_colsum_args cs = {A, 2, B, 3, 3, 1, 0};
        expect_invalid(nncl_colsum(dev, &cs), "ldx");
        cs = (nncl_colsum_args){A, 3, B, 3, 0, 1, 0};
        expect_invalid(nncl_colsum(dev, &cs), "cols");
        cs = (nncl_colsum_args){A, 5, B, 4, 2, 1, 0};   /* needs 3*5+2 = 17 > 15 */
        expect_invalid(nncl_colsum(dev, &cs), "colsum: x");

        nncl_argmax_rows_args am = {A, V(l), 4, 0};
        expect_invalid(nncl_argmax_rows(dev, &am), "cols");
        am.cols = 3;
        am.rows = 6;
        expect_invalid(nncl_argmax_rows(dev, &am), "argmax_rows: x");
        am.cols = 1;
        am.rows = 10;
        expect_invalid(nncl_argmax_rows(dev, &am), "argmax_rows: idx");

        nncl_optim_step_args op = {.kind = NNCL_OPTIM_ADAM, .w = A, .grad = B, .m = Cv, .n = 4,
                                   .lr = 0.1f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f, .step = 1};
        expect_invalid(nncl_optim_step(dev, &op), "optim_step: v");
        op.v = Cv;
        op.step = 0;
        expect_invalid(nncl_optim_step(dev, &op), "step");
        op.step = 1;
        op.beta1 = 1.0f;
        expect_invalid(nncl_optim_step(dev, &op), "betas");
        op = (nncl_optim_step_args){.kind = NNCL_OPTIM_MOMENTUM, .w = A, .grad = B, .n = 4, .lr = 0.1f};
        expect_invalid(nncl_optim_step(dev, &op), "optim_step: m");
        op.kind = NNCL_OPTIM_SGD;
        op.lr = NAN;
        expect_invalid(nncl_optim_step(dev, &op), "learning rate");
        op.kind = (nncl_optim)7;
        expect_invalid(nncl_optim_step(dev, &op), "unknown optimiser");

        nncl_dropout_args dr = {A, B, 4, 1.0f, 1, 1};
        expect_invalid(nncl_dropout(dev, &dr), "p = 1");
        dr.p = -0.1f;
        expect_invalid(nncl_dropout(dev, &dr), "[0, 1)");
        dr.p = NAN;
        expect_invalid(nncl_dropout(dev, &dr), "[0, 1)");
        dr.p = 0.5f;
        dr.n = 11 + PAD;
        expect_invalid(nncl_dropout(dev, &dr), "dropout: x");

        int32_t idx[2] = {0, 1};
        tview iv = tv_i32(dev, idx, 2, 0);
        nncl_gather_args ga = {.data = A, .data_rows = 2, .cols = 0, .index = V(iv), .rows = 2,
                               .shift = B, .scale = B, .x = Cv};
        expect_invalid(nncl_gather(dev, &ga), "cols");
        ga.cols = 3;
        ga.labels = V(l);
        expect_invalid(nncl_gather(dev, &ga), "labels_out");
        ga.labels = (nncl_view){0};
        ga.cols = 8;
        expect_invalid(nncl_gather(dev, &ga), "gather: data");

        /* Nothing was written by any refused call. */
        tview outs[] = {a, b, c};
        for (int k = 0; k < 3; k++) {
            float *got = tv_read(outs[k], "refused calls");
            for (int i = 0; i < 10; i++)
                ck_assert_msg(isnan(got[i]), "a refused call wrote element %d", i);
            free(got);
            tv_free(outs[k]);
        }
        tv_free(l);
        tv_free(iv);
        nncl_device_close(dev);
    }
}
END_TEST

/* ---- host twins against hand-computed cases -------------------------------------------- */

static nncl_buffer *hbuf(nncl_device *h, const float *x, size_t n) { return test_upload(h, x, n); }
static void hread(nncl_buffer *b, float *out, size_t n)
{
    ck_assert_ok(nncl_buffer_read(b, 0, out, n * sizeof(float)));
}

START_TEST(host_softmax_xent_by_hand)
{
    nncl_device *h = test_host_device();
    /* z = [1, 2, 3], label 2: loss = log(e + e^2 + e^3) - 3 = 0.40760596;
     * p = [0.09003057, 0.24472847, 0.66524096], dz = p - [0, 0, 1]. */
    float z[3] = {1, 2, 3}, acc[2] = {0, 0};
    int32_t lab = 2;
    nncl_buffer *zb = hbuf(h, z, 3), *dz = test_poisoned(h, 3), *ab = hbuf(h, acc, 2),
                *sb = test_poisoned(h, 2), *lb;
    ck_assert_ok(nncl_buffer_alloc(h, 4, &lb));
    ck_assert_ok(nncl_buffer_write(lb, 0, &lab, 4));
    nncl_softmax_xent_args a = {nncl_view_of(zb, 0), nncl_view_of(lb, 0), nncl_view_of(dz, 0),
                                nncl_view_of(ab, 0), 1, 3, 1.0f, nncl_view_of(sb, 0)};
    ck_assert_ok(nncl_softmax_xent(h, &a));
    float g[3];
    hread(dz, g, 3);
    hread(ab, acc, 2);
    ck_assert_float_eq_tol(acc[0], 0.40760596f, 1e-6f);
    ck_assert_float_eq(acc[1], 1.0f);
    ck_assert_float_eq_tol(g[0], 0.09003057f, 1e-7f);
    ck_assert_float_eq_tol(g[1], 0.24472847f, 1e-7f);
    ck_assert_float_eq_tol(g[2], 0.66524096f - 1.0f, 1e-7f);
    /* Shifting every logit by 1000 changes nothing (log-sum-exp is stable). */
    float zs[3] = {1001, 1002, 1003};
    ck_assert_ok(nncl_buffer_write(zb, 0, zs, sizeof zs));
    acc[0] = acc[1] = 0;
    ck_assert_ok(nncl_buffer_write(ab, 0, acc, sizeof acc));
    ck_assert_ok(nncl_softmax_xent(h, &a));
    hread(ab, acc, 2);
    hread(dz, g, 3);
    ck_assert_float_eq_tol(acc[0], 0.40760596f, 1e-4f);
    ck_assert_float_eq_tol(g[2], 0.66524096f - 1.0f, 1e-6f);
    /* Label 0 of [3, 1, 3]: argmax is the first 3, so correct; [1, 3, 3] label 2 is not. */
    float zt[6] = {3, 1, 3, 1, 3, 3};
    int32_t labs[2] = {0, 2};
    nncl_buffer *z2 = hbuf(h, zt, 6), *l2, *s2 = test_poisoned(h, 4);
    ck_assert_ok(nncl_buffer_alloc(h, 8, &l2));
    ck_assert_ok(nncl_buffer_write(l2, 0, labs, 8));
    acc[0] = acc[1] = 0;
    ck_assert_ok(nncl_buffer_write(ab, 0, acc, sizeof acc));
    nncl_softmax_xent_args b = {.z = nncl_view_of(z2, 0), .labels = nncl_view_of(l2, 0),
                                .acc = nncl_view_of(ab, 0), .rows = 2, .classes = 3,
                                .scratch = nncl_view_of(s2, 0)};
    ck_assert_ok(nncl_softmax_xent(h, &b));
    hread(ab, acc, 2);
    ck_assert_float_eq(acc[1], 1.0f);
    nncl_buffer *all[] = {zb, dz, ab, sb, lb, z2, l2, s2};
    for (size_t i = 0; i < 8; i++)
        nncl_buffer_free(all[i]);
    nncl_device_close(h);
}
END_TEST

START_TEST(host_mse_colsum_argmax_by_hand)
{
    nncl_device *h = test_host_device();
    /* mse: y = [[1, 2], [3, 5]], t = [[0, 0], [3, 3]]: losses (1+4)/2, (0+4)/2 = 4.5 total;
     * mae (1+2)/2 + (0+2)/2 = 2.5; dy = 2 (y - t) / 2 * 0.5 = [0.5, 1, 0, 1]. */
    float y[4] = {1, 2, 3, 5}, t[4] = {0, 0, 3, 3}, acc[2] = {1, 0}, dy[4];
    nncl_buffer *yb = hbuf(h, y, 4), *tb = hbuf(h, t, 4), *db = test_poisoned(h, 4), *ab = hbuf(h, acc, 2),
                *sb = test_poisoned(h, 4);
    nncl_mse_args m = {nncl_view_of(yb, 0), nncl_view_of(tb, 0), nncl_view_of(db, 0),
                       nncl_view_of(ab, 0), 2, 2, 0.5f, nncl_view_of(sb, 0)};
    ck_assert_ok(nncl_mse(h, &m));
    hread(db, dy, 4);
    hread(ab, acc, 2);
    ck_assert_float_eq(acc[0], 1.0f + 4.5f);
    ck_assert_float_eq(acc[1], 2.5f);
    float edy[4] = {0.5f, 1.0f, 0.0f, 1.0f};
    check_close("mse by hand", dy, edy, 4, 0, 0);

    /* colsum of [[1, 2, 3], [4, 5, 6]] (row stride 4): [5, 7, 9]; alpha 2, beta -1 on [1, 1, 1]. */
    float x[8] = {1, 2, 3, 99, 4, 5, 6}, y3[3] = {1, 1, 1};
    nncl_buffer *xb = hbuf(h, x, 8), *y3b = hbuf(h, y3, 3);
    nncl_colsum_args c = {nncl_view_of(xb, 0), 4, nncl_view_of(y3b, 0), 2, 3, 2.0f, -1.0f};
    ck_assert_ok(nncl_colsum(h, &c));
    hread(y3b, y3, 3);
    ck_assert_float_eq(y3[0], 9.0f);
    ck_assert_float_eq(y3[1], 13.0f);
    ck_assert_float_eq(y3[2], 17.0f);

    /* argmax: ties pick the first; NaN counts as maximal; -Inf rows pick 0. */
    float am[12] = {1, 3, 3, 0, NAN, 5, NAN, 1, -INFINITY, -INFINITY, -INFINITY, -INFINITY};
    nncl_buffer *xm = hbuf(h, am, 12), *ib = test_poisoned(h, 3);
    nncl_argmax_rows_args a = {nncl_view_of(xm, 0), nncl_view_of(ib, 0), 3, 4};
    ck_assert_ok(nncl_argmax_rows(h, &a));
    int32_t idx[3];
    ck_assert_ok(nncl_buffer_read(ib, 0, idx, sizeof idx));
    ck_assert_int_eq(idx[0], 1);
    ck_assert_int_eq(idx[1], 0);    /* row [NaN, 5, NaN, 1]: the first NaN */
    ck_assert_int_eq(idx[2], 0);
    nncl_buffer *all[] = {yb, tb, db, ab, sb, xb, y3b, xm, ib};
    for (size_t i = 0; i < 9; i++)
        nncl_buffer_free(all[i]);
    nncl_device_close(h);
}
END_TEST

/* The host's optimiser step is vectorised and, from 65,536 parameters,
 * cut in two halves on two cores (src/ops/optim.c): bit for bit the plain
 * per-element formulas below, for every kind and variant, at a size past
 * the cut and odd (so the halves differ in length and the vector loops
 * have tails), three steps with the state carried. */
START_TEST(host_optimiser_halves_bit_exact)
{
    nncl_device *h = test_host_device();
    const size_t n = 70001;
    for (int kind = NNCL_OPTIM_SGD; kind <= NNCL_OPTIM_ADAMW; kind++)
        for (int variant = 0; variant < 2; variant++) {
            uint64_t s = 77 + (uint64_t)kind * 2 + (uint64_t)variant;
            float *w = test_random(&s, n, -1, 1), *g = test_random(&s, n, -1, 1);
            float *m = test_random(&s, n, -0.1f, 0.1f), *v = test_random(&s, n, 0, 0.01f);
            nncl_buffer *wb = hbuf(h, w, n), *gb = hbuf(h, g, n), *mb = hbuf(h, m, n), *vb = hbuf(h, v, n);
            float lr = 0.01f, wd = variant ? 0.05f : 0.0f, mu = 0.9f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
            for (unsigned long t = 1; t <= 3; t++) {
                nncl_optim_step_args a = {.kind = (nncl_optim)kind, .w = nncl_view_of(wb, 0),
                                          .grad = nncl_view_of(gb, 0), .m = nncl_view_of(mb, 0),
                                          .v = nncl_view_of(vb, 0), .n = n, .lr = lr, .weight_decay = wd,
                                          .momentum = mu, .nesterov = variant, .beta1 = b1, .beta2 = b2,
                                          .eps = eps, .step = t};
                ck_assert_ok(nncl_optim_step(h, &a));
                /* Adam as src/ops/optim.c states it (PyTorch's form) */
                float step = (float)((double)lr / (1.0 - pow((double)b1, (double)t)));
                float rbc2 = (float)(1.0 / sqrt(1.0 - pow((double)b2, (double)t)));
                float keep = (float)(1.0 - (double)lr * (double)wd);
                for (size_t i = 0; i < n; i++) {
                    float wi = w[i], gi = g[i];
                    if (kind == NNCL_OPTIM_ADAMW)
                        wi = wi * keep;
                    else
                        gi = gi + wd * wi;
                    if (kind == NNCL_OPTIM_SGD) {
                        wi = wi - lr * gi;
                    } else if (kind == NNCL_OPTIM_MOMENTUM) {
                        float mi = mu * m[i] + gi;
                        m[i] = mi;
                        wi = wi - lr * (variant ? gi + mu * mi : mi);
                    } else {
                        float mi = b1 * m[i] + (1.0f - b1) * gi, vi = b2 * v[i] + (1.0f - b2) * gi * gi;
                        m[i] = mi;
                        v[i] = vi;
                        wi = wi - step * (mi / (sqrtf(vi) * rbc2 + eps));
                    }
                    w[i] = wi;
                }
            }
            float *got = malloc(n * sizeof *got);
            hread(wb, got, n);
            for (size_t i = 0; i < n; i++)
                if (memcmp(&got[i], &w[i], sizeof *got) != 0)
                    ck_abort_msg("%s%s, n %zu: w[%zu] = %.9g, the plain loop gives %.9g", optim_names[kind],
                                 variant ? " (decay, nesterov)" : "", n, i, (double)got[i], (double)w[i]);
            free(got);
            nncl_buffer *all[] = {wb, gb, mb, vb};
            for (int i = 0; i < 4; i++)
                nncl_buffer_free(all[i]);
            free(w);
            free(g);
            free(m);
            free(v);
        }
    nncl_device_close(h);
}
END_TEST

START_TEST(host_optimisers_by_hand)
{
    nncl_device *h = test_host_device();
    /* Adam, first step: m = 0.1 g, v = 0.001 g^2, m^ = g, v^ = g^2, so each
     * weight moves by lr * g / (|g| + eps) ~ lr * sign(g). */
    float w[4] = {1, -1, 0.5f, 0}, g[4] = {0.3f, -2.0f, 1e-3f, -0.5f}, zero[4] = {0};
    for (int kind = NNCL_OPTIM_ADAM; kind <= NNCL_OPTIM_ADAMW; kind++) {
        nncl_buffer *wb = hbuf(h, w, 4), *gb = hbuf(h, g, 4), *mb = hbuf(h, zero, 4), *vb = hbuf(h, zero, 4);
        nncl_optim_step_args a = {.kind = (nncl_optim)kind, .w = nncl_view_of(wb, 0),
                                  .grad = nncl_view_of(gb, 0), .m = nncl_view_of(mb, 0),
                                  .v = nncl_view_of(vb, 0), .n = 4, .lr = 0.01f, .beta1 = 0.9f,
                                  .beta2 = 0.999f, .eps = 1e-8f, .step = 1};
        ck_assert_ok(nncl_optim_step(h, &a));
        float out[4], m[4], v[4];
        hread(wb, out, 4);
        hread(mb, m, 4);
        hread(vb, v, 4);
        for (int i = 0; i < 4; i++) {
            float sign = g[i] > 0 ? 1.0f : -1.0f;
            ck_assert_float_eq_tol(out[i], w[i] - 0.01f * sign, 1e-6f);
            ck_assert_float_eq_tol(m[i], 0.1f * g[i], 1e-7f);
            ck_assert_float_eq_tol(v[i], (1.0f - 0.999f) * g[i] * g[i], 1e-9f);
        }
        /* AdamW with decay 0.1: first w *= 1 - lr * 0.1, then the same step. */
        if (kind == NNCL_OPTIM_ADAMW) {
            ck_assert_ok(nncl_buffer_write(wb, 0, w, sizeof w));
            ck_assert_ok(nncl_buffer_write(mb, 0, zero, sizeof zero));
            ck_assert_ok(nncl_buffer_write(vb, 0, zero, sizeof zero));
            a.weight_decay = 0.1f;
            ck_assert_ok(nncl_optim_step(h, &a));
            hread(wb, out, 4);
            for (int i = 0; i < 4; i++)
                ck_assert_float_eq_tol(out[i], w[i] * 0.999f - 0.01f * (g[i] > 0 ? 1 : -1), 1e-6f);
        }
        nncl_buffer_free(wb);
        nncl_buffer_free(gb);
        nncl_buffer_free(mb);
        nncl_buffer_free(vb);
    }
    /* Momentum 0.9, lr 0.1, w = 1, gradients 1 then 2:
     *   step 1: v = 1,            w = 1 - 0.1 * 1    = 0.9
     *   step 2: v = 0.9 + 2 = 2.9, w = 0.9 - 0.1 * 2.9 = 0.61
     * Nesterov: step 1 w = 1 - 0.1 (1 + 0.9) = 0.81; step 2 v = 2.9,
     *   w = 0.81 - 0.1 (2 + 0.9 * 2.9) = 0.349.
     * Plain SGD with weight decay 0.5: g = 1 + 0.5 * 1, w = 1 - 0.1 * 1.5 = 0.85. */
    for (int nesterov = 0; nesterov < 2; nesterov++) {
        float w1 = 1, m1 = 0, g1 = 1;
        nncl_buffer *wb = hbuf(h, &w1, 1), *mb = hbuf(h, &m1, 1), *gb = hbuf(h, &g1, 1);
        nncl_optim_step_args a = {.kind = NNCL_OPTIM_MOMENTUM, .w = nncl_view_of(wb, 0),
                                  .grad = nncl_view_of(gb, 0), .m = nncl_view_of(mb, 0), .n = 1,
                                  .lr = 0.1f, .momentum = 0.9f, .nesterov = nesterov, .step = 1};
        ck_assert_ok(nncl_optim_step(h, &a));
        hread(wb, &w1, 1);
        ck_assert_float_eq_tol(w1, nesterov ? 0.81f : 0.9f, 1e-6f);
        g1 = 2;
        ck_assert_ok(nncl_buffer_write(gb, 0, &g1, 4));
        a.step = 2;
        ck_assert_ok(nncl_optim_step(h, &a));
        hread(wb, &w1, 1);
        hread(mb, &m1, 1);
        ck_assert_float_eq_tol(m1, 2.9f, 1e-6f);
        ck_assert_float_eq_tol(w1, nesterov ? 0.349f : 0.61f, 1e-6f);
        w1 = 1, g1 = 1;
        ck_assert_ok(nncl_buffer_write(wb, 0, &w1, 4));
        ck_assert_ok(nncl_buffer_write(gb, 0, &g1, 4));
        nncl_optim_step_args sgd = {.kind = NNCL_OPTIM_SGD, .w = nncl_view_of(wb, 0),
                                    .grad = nncl_view_of(gb, 0), .n = 1, .lr = 0.1f, .weight_decay = 0.5f};
        ck_assert_ok(nncl_optim_step(h, &sgd));
        hread(wb, &w1, 1);
        ck_assert_float_eq_tol(w1, 0.85f, 1e-7f);
        nncl_buffer_free(wb);
        nncl_buffer_free(mb);
        nncl_buffer_free(gb);
    }
    nncl_device_close(h);
}
END_TEST

/* Known-answer vectors of Philox-4x32-10 from Random123 (kat_vectors). */
#include "cl/philox.cl"

START_TEST(philox_known_answers)
{
    uint32_t r[4];
    philox4x32_10(0, 0, 0, 0, 0, 0, r);
    ck_assert_uint_eq(r[0], 0x6627e8d5u);
    ck_assert_uint_eq(r[1], 0xe169c58du);
    ck_assert_uint_eq(r[2], 0xbc57ac4cu);
    ck_assert_uint_eq(r[3], 0x9b00dbd8u);
    philox4x32_10(~0u, ~0u, ~0u, ~0u, ~0u, ~0u, r);
    ck_assert_uint_eq(r[0], 0x408f276du);
    ck_assert_uint_eq(r[1], 0x41c83b0eu);
    ck_assert_uint_eq(r[2], 0xa20bc7c6u);
    ck_assert_uint_eq(r[3], 0x6d5451fdu);
    philox4x32_10(0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u, 0xa4093822u, 0x299f31d0u, r);
    ck_assert_uint_eq(r[0], 0xd16cfe09u);
    ck_assert_uint_eq(r[1], 0x94fdcceb);
    ck_assert_uint_eq(r[2], 0x5001e420u);
    ck_assert_uint_eq(r[3], 0x24126ea1u);
}
END_TEST

/* ---- fma_chains: bit for bit (one rounding a step), and by hand ---------------------- */

/* Two steps of a <- a/2 + 1 from a = 1 + j 2^-20 (item 0) give
 * 1.5 + (1 + j 2^-20) / 4; the sixteen sum to 28 + 30 2^-20, and with no
 * step to 16 + 120 2^-20; item 4096 starts where item 0 does. */
START_TEST(host_fma_chains_by_hand)
{
    nncl_device *host = test_host_device();
    size_t n = 4097;
    for (int iters = 0; iters <= 2; iters += 2) {
        tview y = tv_f32(host, NULL, n, 0);
        nncl_fma_chains_args a = {V(y), n, iters, 0.5f, 1.0f};
        ck_assert_ok(nncl_fma_chains(host, &a));
        float *got = tv_read(y, "fma_chains by hand");
        double want = iters == 0 ? 16 + 120 * 0x1p-20 : 28 + 30 * 0x1p-20;
        ck_assert_msg(fabs(got[0] - want) <= 1e-6 * want, "iters %d: %.9g, by hand %.9g", iters, (double)got[0], want);
        ck_assert_msg(got[4096] == got[0] && got[1] != got[0], "iters %d: items 1 and 4096", iters);
        free(got);
        tv_free(y);
    }
    /* unbounded chains are refused */
    tview y = tv_f32(host, NULL, 4, 0);
    nncl_fma_chains_args bad = {V(y), 4, 10, 1.0f, 1.0f};
    ck_assert_int_eq(nncl_fma_chains(host, &bad), NNCL_E_INVALID);
    bad.m = 0.5f, bad.iters = -1;
    ck_assert_int_eq(nncl_fma_chains(host, &bad), NNCL_E_INVALID);
    nncl_clear_error();
    tv_free(y);
    nncl_device_close(host);
}
END_TEST

START_TEST(fma_chains_matches_host_bit_for_bit)
{
    nncl_device_list *list = test_devices();
    nncl_device *host = test_host_device();
    static const size_t sizes[] = {1, 255, 257, 1000, 4102};
    static const int iters[] = {0, 1, 37};
    for (int d = 0; d < list->count; d++) {
        nncl_device *dev = test_open(d);
        uint64_t s = seed_for("fma_chains", d);
        for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++)
            for (size_t t = 0; t < sizeof iters / sizeof iters[0]; t++) {
                size_t n = sizes[k];
                /* a simulator (Oclgrind) runs a few hundred items' chains */
                if (test_small() && n > 257)
                    continue;
                float *mc = test_random(&s, 2, -0.99f, 0.99f);
                char what[600];
                snprintf(what, sizeof what, "%s: fma_chains n=%zu iters=%d m=%g c=%g", list->items[d].name, n,
                         iters[t], (double)mc[0], (double)mc[1]);
                tview yd = tv_f32(dev, NULL, n, 3), yh = tv_f32(host, NULL, n, 0);
                nncl_fma_chains_args a = {V(yd), n, iters[t], mc[0], mc[1]}, b = {V(yh), n, iters[t], mc[0], mc[1]};
                ck_assert_ok(nncl_fma_chains(dev, &a));
                ck_assert_ok(nncl_fma_chains(host, &b));
                float *got = tv_read(yd, what), *ref = tv_read(yh, what);
                for (size_t i = 0; i < n; i++)
                    if (memcmp(&got[i], &ref[i], sizeof(float)) != 0)
                        ck_abort_msg("%s: out[%zu] = %a, host %a", what, i, (double)got[i], (double)ref[i]);
                free(got);
                free(ref);
                free(mc);
                tv_free(yd);
                tv_free(yh);
            }
        nncl_device_close(dev);
    }
    nncl_device_close(host);
}
END_TEST

/* `test_ops NAME...` runs only the tests whose names contain one of NAMEs. */
typedef struct named_test {
    const char *name;
    const TTest *const *test;
    int device;
} named_test;

#define T(fn, dev) {#fn, &fn, dev}
static const named_test tests[] = {
    T(host_softmax_xent_by_hand, 0),
    T(host_mse_colsum_argmax_by_hand, 0),
    T(host_optimisers_by_hand, 0),
    T(host_optimiser_halves_bit_exact, 0),
    T(philox_known_answers, 0),
    T(host_fma_chains_by_hand, 0),
    T(act_fwd_matches_host, 1),
    T(act_bwd_matches_host, 1),
    T(softmax_xent_matches_host, 1),
    T(softmax_xent_propagates_nan_per_row, 1),
    T(mse_matches_host, 1),
    T(colsum_matches_host, 1),
    T(argmax_rows_matches_host, 1),
    T(optim_step_matches_host, 1),
    T(gather_matches_host, 1),
    T(gather_guards_bad_indices, 1),
    T(dropout_matches_host_bit_for_bit, 1),
    T(dropout_mask_is_recomputed, 1),
    T(reductions_are_deterministic, 1),
    T(bad_arguments_are_refused, 1),
    T(fma_chains_matches_host_bit_for_bit, 1),
};
#undef T

int main(int argc, char **argv)
{
    Suite *s = suite_create("ops");
    TCase *host = tcase_create("host"), *devices = tcase_create("devices");
    tcase_set_timeout(devices, 300);
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        bool wanted = argc < 2;
        for (int a = 1; a < argc; a++)
            wanted = wanted || strstr(tests[i].name, argv[a]) != NULL;
        if (wanted)
            tcase_add_test(tests[i].device ? devices : host, *tests[i].test);
    }
    suite_add_tcase(s, host);
    suite_add_tcase(s, devices);
    return test_run_suite(s);
}
