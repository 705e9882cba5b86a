/* batchnorm_fwd and batchnorm_bwd: every device against the host twins,
 * the twins (and every device) against a hand-computed case, the running
 * statistics and eval mode against the formulas in double, and the
 * backward pass against central differences of a double forward pass.
 *
 * Outputs start as NaN poison, views sit at nonzero offsets with poison
 * after them (a stray write shows up), what an op must not touch (save and
 * the running statistics in eval, dx when not asked for) is checked to be
 * untouched, and each tolerance is stated beside its test; eps is float's
 * machine epsilon. Shapes are awkward on purpose: M = 1, n = 1 (M = hw),
 * c = 1, dense features (hw = 1), primes, many channels, and the second
 * layer of a CNN at batch 128. */
#include <float.h>
#include <stdio.h>

#include "test_util.h"
#include "test_views.h"

/* ---- views at an offset inside poisoned buffers ------------------------------ */


static double max_abs(const float *x, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        if (fabs((double)x[i]) > m)
            m = fabs((double)x[i]);
    return m;
}


static void check_close_d(const char *what, const float *got, const double *ref, size_t n, double atol,
                          double rtol)
{
    for (size_t i = 0; i < n; i++)
        if (!(fabs(got[i] - ref[i]) <= atol + rtol * fabs(ref[i])))
            ck_abort_msg("%s: element %zu is %.9g, the oracle says %.12g (atol %g, rtol %g)", what, i,
                         (double)got[i], ref[i], atol, rtol);
}

static void check_untouched(const char *what, const float *got, const float *before, size_t n)
{
    if (memcmp(got, before, n * 4) != 0)
        ck_abort_msg("%s: changed although the op must not write it", what);
}

static void check_all_nan(const char *what, const float *got, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(isnan(got[i]), "%s: element %zu written without being asked for", what, i);
}

/* ---- the shapes ---------------------------------------------------------------- */

typedef struct bn_case {
    size_t n, c, hw;
} bn_case;

static const bn_case cases[] = {
    {1, 1, 1},          /* M = 1: var = 0, y = beta, dx = 0; the running var takes var as is */
    {1, 2, 1},          /* M = 1, two channels */
    {1, 3, 17},         /* n = 1: M = hw */
    {9, 1, 5},          /* c = 1 */
    {6, 3, 1},          /* dense features */
    {200, 3, 1},        /* dense, M above a work-group of lanes */
    {5, 7, 13},         /* primes */
    {2, 300, 3},        /* many channels */
    {3, 4, 97},         /* hw above 64 and not a multiple of the lanes */
    {128, 16, 196},     /* the CNN's second layer at batch 128: M = 25088 */
};
enum { N_CASES = sizeof cases / sizeof cases[0] };

static size_t case_len(const bn_case *k) { return k->n * k->c * k->hw; }

static void describe(char *buf, size_t len, const char *dev, const char *op, const bn_case *k)
{
    snprintf(buf, len, "%s: %s n=%zu c=%zu hw=%zu", dev, op, k->n, k->c, k->hw);
}

/* The inputs of one case: x in [-1, 3) (a mean away from 0), gamma in
 * [0.5, 1.5), beta in [-0.5, 0.5), running statistics, dy in [-1, 1). */
typedef struct bn_in {
    float *x, *gamma, *beta, *rm, *rv, *dy;
} bn_in;

static bn_in inputs(uint64_t *seed, const bn_case *k)
{
    size_t t = case_len(k);
    bn_in in = {test_random(seed, t, -1, 3), test_random(seed, k->c, 0.5f, 1.5f),
                test_random(seed, k->c, -0.5f, 0.5f), test_random(seed, k->c, -1, 1),
                test_random(seed, k->c, 0.5f, 2), test_random(seed, t, -1, 1)};
    return in;
}

static void inputs_free(bn_in *in)
{
    free(in->x), free(in->gamma), free(in->beta), free(in->rm), free(in->rv), free(in->dy);
}

/* ---- running the ops on one device ---------------------------------------------------- */

typedef struct fwd_out {
    float *y, *save, *rm, *rv;
} fwd_out;

static void fwd_out_free(fwd_out *o) { free(o->y), free(o->save), free(o->rm), free(o->rv); }

/* batchnorm_fwd on dev at awkward offsets; in eval, save (poison) and the
 * running statistics must come back untouched. */
static fwd_out run_fwd(nncl_device *dev, const bn_case *k, const bn_in *in, bool train, float momentum, float eps,
                       const char *what)
{
    size_t t = case_len(k);
    tview xv = tv_new(dev, in->x, t, 3), yv = tv_new(dev, NULL, t, 1), gv = tv_new(dev, in->gamma, k->c, 2);
    tview bv = tv_new(dev, in->beta, k->c, 5), mv = tv_new(dev, in->rm, k->c, 1), vv = tv_new(dev, in->rv, k->c, 4);
    tview sv = tv_new(dev, NULL, 2 * k->c, 7);
    nncl_batchnorm_fwd_args a = {.n = k->n, .c = k->c, .hw = k->hw, .x = V(xv), .y = V(yv), .gamma = V(gv),
                                 .beta = V(bv), .run_mean = V(mv), .run_var = V(vv), .save = V(sv),
                                 .train = train, .momentum = momentum, .eps = eps};
    ck_assert_ok(nncl_batchnorm_fwd(dev, &a));
    fwd_out o = {tv_read(yv, what), tv_read(sv, what), tv_read(mv, what), tv_read(vv, what)};
    if (!train) {
        check_all_nan(what, o.save, 2 * k->c);
        check_untouched(what, o.rm, in->rm, k->c);
        check_untouched(what, o.rv, in->rv, k->c);
    }
    tv_free(xv), tv_free(yv), tv_free(gv), tv_free(bv), tv_free(mv), tv_free(vv), tv_free(sv);
    return o;
}

typedef struct bwd_out {
    float *dx, *dgamma, *dbeta;
} bwd_out;

static void bwd_out_free(bwd_out *o) { free(o->dx), free(o->dgamma), free(o->dbeta); }

/* batchnorm_bwd on dev from save; without dx, dx's poison must stay. */
static bwd_out run_bwd(nncl_device *dev, const bn_case *k, const float *x, const float *dy, const float *gamma,
                       const float *save, bool with_dx, const char *what)
{
    size_t t = case_len(k);
    tview xv = tv_new(dev, x, t, 2), dyv = tv_new(dev, dy, t, 5), gv = tv_new(dev, gamma, k->c, 1);
    tview sv = tv_new(dev, save, 2 * k->c, 3), dxv = tv_new(dev, NULL, t, 4), dgv = tv_new(dev, NULL, k->c, 6);
    tview dbv = tv_new(dev, NULL, k->c, 1);
    nncl_batchnorm_bwd_args a = {.n = k->n, .c = k->c, .hw = k->hw, .x = V(xv), .dy = V(dyv), .gamma = V(gv),
                                 .save = V(sv), .dx = with_dx ? V(dxv) : (nncl_view){0}, .dgamma = V(dgv),
                                 .dbeta = V(dbv)};
    ck_assert_ok(nncl_batchnorm_bwd(dev, &a));
    bwd_out o = {tv_read(dxv, what), tv_read(dgv, what), tv_read(dbv, what)};
    if (!with_dx)
        check_all_nan(what, o.dx, t);
    tv_free(xv), tv_free(dyv), tv_free(gv), tv_free(sv), tv_free(dxv), tv_free(dgv), tv_free(dbv);
    return o;
}

/* ---- the host twin (and every device) on a 2x2x2 case by hand -------------------------
 * x[n=2, c=2, hw=2]: channel 0 holds {1, 1, 3, 3} (mean 2, var 1, xhat
 * {-1, -1, 1, 1}), channel 1 {0, 4, 0, 4} (mean 2, var 4, invstd 1/2, xhat
 * {-1, 1, -1, 1}); gamma {2, 0.5}, beta {0.5, -1}, eps 0, momentum 1/2.
 * Every value below is exact in float but the running variance (4/3 and
 * 16/3 in it), held to 2 ulp; devices get 4 ulp (OpenCL's sqrt and division
 * are not correctly rounded). */
START_TEST(by_hand)
{
    static const bn_case k = {2, 2, 2};
    float x[8] = {1, 1, 0, 4, 3, 3, 0, 4}, gamma[2] = {2, 0.5f}, beta[2] = {0.5f, -1};
    float rm[2] = {1, 2}, rv[2] = {4, 0.25f};
    /* y = 2 xhat + 0.5 and 0.5 xhat - 1 */
    const float want_y[8] = {-1.5f, -1.5f, -1.5f, -0.5f, 2.5f, 2.5f, -1.5f, -0.5f};
    const float want_save[4] = {2, 2, 1, 0.5f};
    /* run_mean = rm/2 + mean/2; run_var = rv/2 + (var 4/3)/2 */
    const float want_rm[2] = {1.5f, 2}, want_rv[2] = {(float)(2 + 2.0 / 3), (float)(0.125 + 8.0 / 3)};
    /* eval, from rm, rv: (x - 1)/2 * 2 + 0.5 and (x - 2)/0.5 * 0.5 - 1 */
    const float want_eval[8] = {0.5f, 0.5f, -3, 1, 2.5f, 2.5f, -3, 1};
    /* dy: channel 0 {1, 2, 3, 6}: dbeta 12, dgamma 6,
     *   dx = 2 * 1/4 * (4 dy - 12 - 6 xhat) = {-1, 1, -3, 3};
     * channel 1 {1, -1, 2, 0}: dbeta 2, dgamma -4,
     *   dx = 0.5 * 0.5/4 * (4 dy - 2 + 4 xhat) = {-1, -1, 1, 1} / 8 */
    float dy[8] = {1, 2, 1, -1, 3, 6, 2, 0};
    const float want_dx[8] = {-1, 1, -0.125f, -0.125f, -3, 3, 0.125f, 0.125f};
    const float want_dg[2] = {6, -4}, want_db[2] = {12, 2};
    bn_in in = {x, gamma, beta, rm, rv, dy};
    nncl_device_list *list = test_devices();
    for (int d = 0; d < list->count; d++) {
        nncl_device *dev = test_open(d);
        bool host = list->items[d].backend == NNCL_BACKEND_HOST;
        double r = host ? 0 : 4 * FLT_EPSILON;
        char what[600];
        describe(what, sizeof what, list->items[d].name, "batchnorm by hand", &k);
        fwd_out f = run_fwd(dev, &k, &in, true, 0.5f, 0, what);
        check_close(what, f.y, want_y, 8, 0, r);
        check_close(what, f.save, want_save, 4, 0, r);
        check_close(what, f.rm, want_rm, 2, 0, r);
        check_close(what, f.rv, want_rv, 2, 0, 2 * FLT_EPSILON + r);
        fwd_out e = run_fwd(dev, &k, &in, false, 0.5f, 0, what);
        check_close(what, e.y, want_eval, 8, 0, r);
        bwd_out b = run_bwd(dev, &k, x, dy, gamma, want_save, true, what);
        check_close(what, b.dx, want_dx, 8, 0, r);
        check_close(what, b.dgamma, want_dg, 2, 0, r);
        check_close(what, b.dbeta, want_db, 2, 0, r);
        fwd_out_free(&f), fwd_out_free(&e), bwd_out_free(&b);
        nncl_device_close(dev);
    }
}
END_TEST

/* ---- the checks of the arguments ------------------------------------------------------ */

START_TEST(arguments_checked)
{
    nncl_device *h = test_host_device();
    tview xv = tv_new(h, NULL, 12, 0), yv = tv_new(h, NULL, 12, 0), pv = tv_new(h, NULL, 3, 0);
    tview sv = tv_new(h, NULL, 6, 0);
    nncl_batchnorm_fwd_args ok = {.n = 2, .c = 3, .hw = 2, .x = V(xv), .y = V(yv), .gamma = V(pv), .beta = V(pv),
                                  .run_mean = V(pv), .run_var = V(pv), .save = V(sv), .train = true,
                                  .momentum = 0.1f, .eps = 1e-5f};
    nncl_batchnorm_fwd_args a = ok;
    a.c = 0;
    ck_assert_int_eq(nncl_batchnorm_fwd(h, &a), NNCL_E_INVALID);
    a = ok, a.eps = -1e-5f;
    ck_assert_int_eq(nncl_batchnorm_fwd(h, &a), NNCL_E_INVALID);
    a = ok, a.eps = NAN;
    ck_assert_int_eq(nncl_batchnorm_fwd(h, &a), NNCL_E_INVALID);
    a = ok, a.momentum = 1.5f;
    ck_assert_int_eq(nncl_batchnorm_fwd(h, &a), NNCL_E_INVALID);
    a = ok, a.save = (nncl_view){0};
    ck_assert_int_eq(nncl_batchnorm_fwd(h, &a), NNCL_E_INVALID);      /* training needs save */
    a = ok, a.save = nncl_view_of(sv.buf, 1 + PAD);
    ck_assert_int_eq(nncl_batchnorm_fwd(h, &a), NNCL_E_INVALID);      /* save is 2c */
    a = ok, a.hw = 3;
    ck_assert_int_eq(nncl_batchnorm_fwd(h, &a), NNCL_E_INVALID);      /* x too short */
    a = ok, a.train = false, a.save = (nncl_view){0};
    ck_assert_ok(nncl_batchnorm_fwd(h, &a));                          /* eval needs no save */
    nncl_batchnorm_bwd_args b = {.n = 2, .c = 3, .hw = 2, .x = V(xv), .dy = V(yv), .gamma = V(pv),
                                 .save = V(sv), .dx = {0}, .dgamma = V(pv), .dbeta = V(pv)};
    ck_assert_ok(nncl_batchnorm_bwd(h, &b));
    b.dbeta = (nncl_view){0};
    ck_assert_int_eq(nncl_batchnorm_bwd(h, &b), NNCL_E_INVALID);
    b.dbeta = V(pv), b.dx = nncl_view_of(yv.buf, 6);
    ck_assert_int_eq(nncl_batchnorm_bwd(h, &b), NNCL_E_INVALID);      /* dx too short */
    nncl_clear_error();
    tv_free(xv), tv_free(yv), tv_free(pv), tv_free(sv);
    nncl_device_close(h);
}
END_TEST

/* ---- every device against the host twins ----------------------------------------------
 * The device sums each channel's M values in float, lanes of at least 64 and
 * then a tree: at most d = ceil(M/64) + 8 additions deep; the twin sums in
 * double. Bounds from the case's own values (as `nncl check`):
 *   mean: (d+1) eps max|x|;  invstd: (d/2 + 8) eps relative (the variance's
 *   sum, the sqrt and the division);  y (training): max|gamma| times the
 *   mean's error times max invstd, plus invstd's relative error and 2 eps
 *   on max|gamma xhat| <= max|y| + max|beta|;  running statistics: (d+8) eps
 *   of the old and new values;  y (eval, no sums): 8 eps (max|y| + 2 max|beta|).
 *   bwd (from the same save): dbeta d eps, dgamma (d+2) eps, times the
 *   largest channel sum of |dy| and |dy xhat|; dx: those errors through
 *   gamma invstd / M, plus 6 eps of the magnitudes of its terms. */

static double depth(const bn_case *k) { return (double)((k->n * k->hw + 63) / 64) + 8.0; }

START_TEST(fwd_matches_host)
{
    nncl_device_list *list = test_devices();
    nncl_device *host = test_host_device();
    for (int d = 0; d < list->count; d++) {
        nncl_device *dev = test_open(d);
        uint64_t seed = 100 + (uint64_t)d;
        for (int ci = 0; ci < N_CASES; ci++) {
            const bn_case *k = &cases[ci];
            size_t t = case_len(k);
            if (test_too_big(t))
                continue;
            bn_in in = inputs(&seed, k);
            char what[600];
            describe(what, sizeof what, list->items[d].name, "batchnorm_fwd training", k);
            fwd_out got = run_fwd(dev, k, &in, true, 0.1f, 1e-5f, what);
            fwd_out ref = run_fwd(host, k, &in, true, 0.1f, 1e-5f, what);
            const double e = FLT_EPSILON, dep = depth(k), mx = max_abs(in.x, t), mg = max_abs(in.gamma, k->c);
            const double mb = max_abs(in.beta, k->c), inv = max_abs(ref.save + k->c, k->c);
            double my = max_abs(ref.y, t);
            check_close(what, got.y, ref.y, t, mg * (dep + 1) * e * mx * inv + (dep / 2 + 12) * e * (my + mb), 0);
            check_close(what, got.save, ref.save, k->c, (dep + 1) * e * mx, 0);
            check_close(what, got.save + k->c, ref.save + k->c, k->c, 0, (dep / 2 + 8) * e);
            check_close(what, got.rm, ref.rm, k->c, (dep + 8) * e * (mx + max_abs(in.rm, k->c)), 0);
            check_close(what, got.rv, ref.rv, k->c, (dep + 8) * e * (max_abs(in.rv, k->c) + max_abs(ref.rv, k->c)), 0);
            /* the same bits a second time */
            fwd_out again = run_fwd(dev, k, &in, true, 0.1f, 1e-5f, what);
            ck_assert_msg(memcmp(again.y, got.y, t * 4) == 0 && memcmp(again.save, got.save, 8 * k->c) == 0,
                          "%s: a second run gave other bits", what);
            describe(what, sizeof what, list->items[d].name, "batchnorm_fwd eval", k);
            fwd_out ge = run_fwd(dev, k, &in, false, 0.1f, 1e-5f, what);
            fwd_out re = run_fwd(host, k, &in, false, 0.1f, 1e-5f, what);
            check_close(what, ge.y, re.y, t, 8 * e * (max_abs(re.y, t) + 2 * mb), 0);
            fwd_out_free(&got), fwd_out_free(&ref), fwd_out_free(&again), fwd_out_free(&ge), fwd_out_free(&re);
            inputs_free(&in);
        }
        nncl_device_close(dev);
    }
    nncl_device_close(host);
}
END_TEST

START_TEST(bwd_matches_host)
{
    nncl_device_list *list = test_devices();
    nncl_device *host = test_host_device();
    for (int d = 0; d < list->count; d++) {
        nncl_device *dev = test_open(d);
        uint64_t seed = 200 + (uint64_t)d;
        for (int ci = 0; ci < N_CASES; ci++) {
            const bn_case *k = &cases[ci];
            size_t t = case_len(k);
            if (test_too_big(t))
                continue;
            bool with_dx = ci % 4 != 3;
            bn_in in = inputs(&seed, k);
            char what[600];
            describe(what, sizeof what, list->items[d].name, with_dx ? "batchnorm_bwd" : "batchnorm_bwd no dx", k);
            /* both sides from the host's save, so only the backward differs */
            fwd_out f = run_fwd(host, k, &in, true, 0.1f, 1e-5f, what);
            bwd_out got = run_bwd(dev, k, in.x, in.dy, in.gamma, f.save, with_dx, what);
            bwd_out ref = run_bwd(host, k, in.x, in.dy, in.gamma, f.save, with_dx, what);
            double s0 = 0, s1 = 0, X = 0;
            for (size_t c = 0; c < k->c; c++) {
                double a0 = 0, a1 = 0;
                for (size_t i = 0; i < k->n; i++)
                    for (size_t p = 0; p < k->hw; p++) {
                        size_t at = (i * k->c + c) * k->hw + p;
                        double xh = fabs(((double)in.x[at] - f.save[c]) * f.save[k->c + c]);
                        a0 += fabs(in.dy[at]), a1 += fabs(in.dy[at]) * xh, X = xh > X ? xh : X;
                    }
                s0 = a0 > s0 ? a0 : s0, s1 = a1 > s1 ? a1 : s1;
            }
            const double e = FLT_EPSILON, dep = depth(k), M = (double)(k->n * k->hw);
            double e_db = dep * e * s0, e_dg = (dep + 2) * e * s1;
            check_close(what, got.dbeta, ref.dbeta, k->c, e_db, 0);
            check_close(what, got.dgamma, ref.dgamma, k->c, e_dg, 0);
            if (with_dx) {
                double K = max_abs(in.gamma, k->c) * max_abs(f.save + k->c, k->c) / M;
                double terms = M * max_abs(in.dy, t) + max_abs(ref.dbeta, k->c) + X * max_abs(ref.dgamma, k->c);
                check_close(what, got.dx, ref.dx, t, K * (e_db + X * e_dg) + 6 * e * K * terms, 0);
            }
            bwd_out again = run_bwd(dev, k, in.x, in.dy, in.gamma, f.save, with_dx, what);
            ck_assert_msg(memcmp(again.dgamma, got.dgamma, 4 * k->c) == 0 &&
                          memcmp(again.dbeta, got.dbeta, 4 * k->c) == 0 &&
                          (!with_dx || memcmp(again.dx, got.dx, 4 * t) == 0),
                          "%s: a second run gave other bits", what);
            fwd_out_free(&f), bwd_out_free(&got), bwd_out_free(&ref), bwd_out_free(&again);
            inputs_free(&in);
        }
        nncl_device_close(dev);
    }
    nncl_device_close(host);
}
END_TEST

/* ---- the formulas in double ------------------------------------------------------------- */

/* Training statistics of every channel in double, two passes. */
static void stats_d(const bn_case *k, const double *x, double *mean, double *var)
{
    double M = (double)(k->n * k->hw);
    for (size_t c = 0; c < k->c; c++) {
        double s = 0, q = 0;
        for (size_t i = 0; i < k->n; i++)
            for (size_t p = 0; p < k->hw; p++)
                s += x[(i * k->c + c) * k->hw + p];
        mean[c] = s / M;
        for (size_t i = 0; i < k->n; i++)
            for (size_t p = 0; p < k->hw; p++) {
                double v = x[(i * k->c + c) * k->hw + p] - mean[c];
                q += v * v;
            }
        var[c] = q / M;
    }
}

/* y = gamma (x - mean) / sqrt(var + eps) + beta in double, per channel. */
static void apply_d(const bn_case *k, const double *x, const double *gamma, const double *beta,
                    const double *mean, const double *var, double eps, double *y)
{
    for (size_t i = 0; i < k->n; i++)
        for (size_t c = 0; c < k->c; c++)
            for (size_t p = 0; p < k->hw; p++) {
                size_t at = (i * k->c + c) * k->hw + p;
                y[at] = gamma[c] * (x[at] - mean[c]) / sqrt(var[c] + eps) + beta[c];
            }
}

static double *to_double(const float *x, size_t n)
{
    double *d = malloc((n ? n : 1) * 8);
    for (size_t i = 0; i < n; i++)
        d[i] = x[i];
    return d;
}

/* ---- running statistics over three training steps, and eval, against the formulas ----
 * run_mean <- (1 - m) run_mean + m mean, run_var <- (1 - m) run_var + m var
 * M/(M - 1) (var when M = 1), computed here in double from the inputs, three
 * steps with a new batch each; then eval from the result,
 * y = gamma (x - run_mean) / sqrt(run_var + eps) + beta. Tolerances: the
 * device's sums as above, 3 steps of them: 3 (d+8) eps of the magnitudes;
 * eval against double: 8 eps (max|y| + 2 max|beta|) plus the effect of
 * run_var's rounding (2 eps relative, halved by the sqrt, on max|y - beta|). */
START_TEST(running_stats_and_eval)
{
    nncl_device_list *list = test_devices();
    for (int d = 0; d < list->count; d++) {
        nncl_device *dev = test_open(d);
        uint64_t seed = 300 + (uint64_t)d;
        for (int ci = 0; ci < N_CASES; ci++) {
            const bn_case *k = &cases[ci];
            size_t t = case_len(k), C = k->c;
            if (test_too_big(t))
                continue;
            const float m = 0.1f, eps = 1e-5f;
            bn_in in = inputs(&seed, k);
            double *rm = to_double(in.rm, C), *rv = to_double(in.rv, C), *mean = malloc(C * 8), *var = malloc(C * 8);
            double M = (double)(k->n * k->hw), mx = 0;
            char what[600];
            describe(what, sizeof what, list->items[d].name, "batchnorm_fwd running statistics", k);
            for (int step = 0; step < 3; step++) {
                free(in.x);
                in.x = test_random(&seed, t, -1 + step, 3 + step);
                mx = max_abs(in.x, t) > mx ? max_abs(in.x, t) : mx;
                fwd_out f = run_fwd(dev, k, &in, true, m, eps, what);
                double *xd = to_double(in.x, t);
                stats_d(k, xd, mean, var);
                for (size_t c = 0; c < C; c++) {
                    rm[c] = (1 - (double)m) * rm[c] + (double)m * mean[c];
                    rv[c] = (1 - (double)m) * rv[c] + (double)m * (M > 1 ? var[c] * M / (M - 1) : var[c]);
                }
                memcpy(in.rm, f.rm, C * 4), memcpy(in.rv, f.rv, C * 4);
                free(xd);
                fwd_out_free(&f);
            }
            const double e = FLT_EPSILON, dep = depth(k);
            double mrv = 0;
            for (size_t c = 0; c < C; c++)
                mrv = rv[c] > mrv ? rv[c] : mrv;
            check_close_d(what, in.rm, rm, C, 3 * (dep + 8) * e * (mx + 1), 0);
            check_close_d(what, in.rv, rv, C, 3 * (dep + 8) * e * (2 + mrv), 0);
            /* eval from the running statistics the device left */
            describe(what, sizeof what, list->items[d].name, "batchnorm_fwd eval", k);
            fwd_out ev = run_fwd(dev, k, &in, false, m, eps, what);
            double *xd = to_double(in.x, t), *gd = to_double(in.gamma, C), *bd = to_double(in.beta, C);
            double *rmd = to_double(in.rm, C), *rvd = to_double(in.rv, C), *yd = malloc(t * 8);
            apply_d(k, xd, gd, bd, rmd, rvd, eps, yd);
            double my = 0;
            for (size_t i = 0; i < t; i++)
                my = fabs(yd[i]) > my ? fabs(yd[i]) : my;
            double mb = max_abs(in.beta, C);
            check_close_d(what, ev.y, yd, t, 8 * e * (my + 2 * mb) + e * (my + mb), 0);
            free(xd), free(gd), free(bd), free(rmd), free(rvd), free(yd), free(rm), free(rv), free(mean), free(var);
            fwd_out_free(&ev);
            inputs_free(&in);
        }
        nncl_device_close(dev);
    }
}
END_TEST

/* ---- the backward pass by central differences in double --------------------------------
 * L = sum w * y with y the training forward (statistics of the batch) and w
 * random: dL/dx, dL/dgamma, dL/dbeta by central differences (h = 1e-6) of
 * the forward in double, against batchnorm_bwd with dy = w from the
 * device's own forward (its save). Float results of O(1) terms: within
 * 2e-5 + 1e-4 |fd|, as the convolution's check. */

static const double H = 1e-6;

static double loss_d(const bn_case *k, const double *x, const double *gamma, const double *beta, double eps,
                     const double *w)
{
    size_t t = case_len(k);
    double *mean = malloc(k->c * 8), *var = malloc(k->c * 8), *y = malloc(t * 8), L = 0;
    stats_d(k, x, mean, var);
    apply_d(k, x, gamma, beta, mean, var, eps, y);
    for (size_t i = 0; i < t; i++)
        L += w[i] * y[i];
    free(mean), free(var), free(y);
    return L;
}

START_TEST(gradients_by_finite_differences)
{
    static const bn_case fd_cases[] = {{3, 2, 5}, {4, 3, 1}, {1, 2, 7}, {2, 1, 3}, {7, 2, 2}};
    nncl_device_list *list = test_devices();
    for (int d = 0; d < list->count; d++) {
        nncl_device *dev = test_open(d);
        uint64_t seed = 400 + (uint64_t)d;
        for (size_t ci = 0; ci < sizeof fd_cases / sizeof fd_cases[0]; ci++) {
            const bn_case *k = &fd_cases[ci];
            size_t t = case_len(k), C = k->c;
            const float eps = 1e-5f;
            bn_in in = inputs(&seed, k);
            char what[600];
            describe(what, sizeof what, list->items[d].name, "batchnorm gradients", k);
            fwd_out f = run_fwd(dev, k, &in, true, 0.1f, eps, what);
            bwd_out b = run_bwd(dev, k, in.x, in.dy, in.gamma, f.save, true, what);
            double *xd = to_double(in.x, t), *gd = to_double(in.gamma, C), *bd = to_double(in.beta, C);
            double *wd = to_double(in.dy, t);
            struct { double *p; size_t n; const float *an; const char *name; } parts[] = {
                {xd, t, b.dx, "dx"}, {gd, C, b.dgamma, "dgamma"}, {bd, C, b.dbeta, "dbeta"}};
            for (int pi = 0; pi < 3; pi++)
                for (size_t i = 0; i < parts[pi].n; i++) {
                    double keep = parts[pi].p[i];
                    parts[pi].p[i] = keep + H;
                    double lp = loss_d(k, xd, gd, bd, eps, wd);
                    parts[pi].p[i] = keep - H;
                    double lm = loss_d(k, xd, gd, bd, eps, wd);
                    parts[pi].p[i] = keep;
                    double fd = (lp - lm) / (2 * H);
                    if (!(fabs(fd - parts[pi].an[i]) <= 2e-5 + 1e-4 * fabs(fd)))
                        ck_abort_msg("%s: %s[%zu] = %.9g, differences %.9g", what, parts[pi].name, i,
                                     (double)parts[pi].an[i], fd);
                }
            free(xd), free(gd), free(bd), free(wd);
            fwd_out_free(&f), bwd_out_free(&b);
            inputs_free(&in);
        }
        nncl_device_close(dev);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("batchnorm");
    TCase *t = tcase_create("batchnorm");
    tcase_set_timeout(t, 300);
    tcase_add_test(t, by_hand);
    tcase_add_test(t, arguments_checked);
    tcase_add_test(t, fwd_matches_host);
    tcase_add_test(t, bwd_matches_host);
    tcase_add_test(t, running_stats_and_eval);
    tcase_add_test(t, gradients_by_finite_differences);
    suite_add_tcase(s, t);
    return test_run_suite(s);
}
