/* Gradients by finite differences, in double precision, on the host.
 *
 * For every backward pass the test holds a tiny double-precision reference
 * of the forward formula. Two checks per op: (1) the reference's analytic
 * derivative agrees with central differences of the reference forward
 * (h = 1e-6 in double), so the formulas themselves are right; (2) the float
 * host twins agree with that reference, so the code computes the formulas.
 * Then a dense layer, y = act(x W^T + b) into softmax_xent (mean over the
 * batch), composed from the host ops (the matrix products are plain loops
 * here), is checked end to end: dW, db, dx against central differences of
 * the double-precision loss. Last, the network's backward on every device,
 * in float (see network_gradients_by_finite_differences). */
#include <stdio.h>

#include "nncl/net.h"
#include "test_util.h"

static const double H = 1e-6;

static nncl_buffer *up(nncl_device *h, const float *x, size_t n) { return test_upload(h, x, n); }
static void down(nncl_buffer *b, float *out, size_t n)
{
    ck_assert_ok(nncl_buffer_read(b, 0, out, n * sizeof(float)));
}

/* ---- double-precision references -------------------------------------------------- */

static const float SLOPE = 0.05f;

static double ref_act(int act, double x)
{
    switch (act) {
    case NNCL_ACT_RELU: return x < 0 ? 0 : x;
    case NNCL_ACT_LEAKY_RELU: return x < 0 ? SLOPE * x : x;
    case NNCL_ACT_SIGMOID: return 1.0 / (1.0 + exp(-x));
    case NNCL_ACT_TANH: return tanh(x);
    default: return x;
    }
}

/* The derivative written as a function of the output y = f(x). */
static double ref_dact(int act, double y)
{
    switch (act) {
    case NNCL_ACT_RELU: return y > 0 ? 1 : 0;
    case NNCL_ACT_LEAKY_RELU: return y > 0 ? 1 : SLOPE;
    case NNCL_ACT_SIGMOID: return y * (1 - y);
    case NNCL_ACT_TANH: return 1 - y * y;
    default: return 1;
    }
}

/* Mean softmax cross-entropy over rows of z (rows x C). */
static double ref_xent(const double *z, const int32_t *lab, size_t rows, size_t C)
{
    double total = 0;
    for (size_t r = 0; r < rows; r++) {
        const double *zr = z + r * C;
        double m = zr[0], s = 0;
        for (size_t j = 1; j < C; j++)
            m = zr[j] > m ? zr[j] : m;
        for (size_t j = 0; j < C; j++)
            s += exp(zr[j] - m);
        total += log(s) + m - zr[lab[r]];
    }
    return total / rows;
}

/* Mean over rows of (1/O) sum_j (y - t)^2. */
static double ref_mse(const double *y, const double *t, size_t rows, size_t O)
{
    double total = 0;
    for (size_t i = 0; i < rows * O; i++)
        total += (y[i] - t[i]) * (y[i] - t[i]);
    return total / O / rows;
}

static const char *const act_names[] = {"identity", "relu", "leaky_relu", "sigmoid", "tanh"};

/* ---- activations ---------------------------------------------------------------------- */

START_TEST(activation_derivatives)
{
    nncl_device *h = test_host_device();
    enum { N = 401 };
    float x[N], dy[N], y[N], dx[N];
    uint64_t s = 11;
    for (int i = 0; i < N; i++) {
        x[i] = -6.0f + 12.0f * i / (N - 1) + 1e-3f;      /* a grid that misses 0 */
        dy[i] = test_rand_float(&s, -1.0f, 1.0f);
    }
    for (int act = 0; act <= NNCL_ACT_TANH; act++) {
        /* (1) the reference derivative against central differences */
        for (int i = 0; i < N; i++) {
            double fd = (ref_act(act, x[i] + H) - ref_act(act, x[i] - H)) / (2 * H);
            double an = ref_dact(act, ref_act(act, x[i]));
            if (fabs(fd - an) > 1e-7)
                ck_abort_msg("%s: f'(%g) = %.12g, differences say %.12g", act_names[act], (double)x[i],
                             an, fd);
        }
        /* (2) the float host twins against the reference */
        nncl_buffer *xb = up(h, x, N), *yb = test_poisoned(h, N), *db = up(h, dy, N), *dxb = test_poisoned(h, N);
        nncl_act_fwd_args f = {nncl_view_of(xb, 0), nncl_view_of(yb, 0), N, (nncl_act)act, SLOPE};
        ck_assert_ok(nncl_act_fwd(h, &f));
        nncl_act_bwd_args b = {nncl_view_of(yb, 0), nncl_view_of(db, 0), nncl_view_of(dxb, 0), N,
                               (nncl_act)act, SLOPE};
        ck_assert_ok(nncl_act_bwd(h, &b));
        down(yb, y, N);
        down(dxb, dx, N);
        for (int i = 0; i < N; i++) {
            double ry = ref_act(act, x[i]), rdx = dy[i] * ref_dact(act, ry);
            /* float against double: a few ulp of the value (and of 1 for the
             * derivative's 1 - y^2, y(1 - y)) */
            if (fabs(y[i] - ry) > 4e-7 * fabs(ry) + 1e-30)
                ck_abort_msg("%s: f(%g) = %.9g, reference %.12g", act_names[act], (double)x[i],
                             (double)y[i], ry);
            if (fabs(dx[i] - rdx) > 4e-7 * fabs(dy[i]) + 1e-30)
                ck_abort_msg("%s: dx at x = %g is %.9g, reference %.12g", act_names[act],
                             (double)x[i], (double)dx[i], rdx);
        }
        nncl_buffer_free(xb);
        nncl_buffer_free(yb);
        nncl_buffer_free(db);
        nncl_buffer_free(dxb);
    }
    nncl_device_close(h);
}
END_TEST

/* ---- losses ---------------------------------------------------------------------------- */

START_TEST(softmax_xent_gradient)
{
    nncl_device *h = test_host_device();
    static const size_t shapes[][2] = {{1, 1}, {1, 3}, {4, 10}, {3, 129}};
    uint64_t s = 12;
    for (size_t k = 0; k < 4; k++) {
        size_t R = shapes[k][0], C = shapes[k][1], n = R * C;
        float *z = test_random(&s, n, -5.0f, 5.0f), *dz = malloc(n * sizeof(float)), acc[2] = {0, 0};
        int32_t *lab = malloc(R * sizeof(int32_t));
        for (size_t r = 0; r < R; r++)
            lab[r] = (int32_t)(test_rand_u64(&s) % C);
        nncl_buffer *zb = up(h, z, n), *db = test_poisoned(h, n), *ab = up(h, acc, 2),
                    *sb = test_poisoned(h, 2 * R), *lb;
        ck_assert_ok(nncl_buffer_alloc(h, R * sizeof(int32_t), &lb));
        ck_assert_ok(nncl_buffer_write(lb, 0, lab, R * sizeof(int32_t)));
        nncl_softmax_xent_args a = {nncl_view_of(zb, 0), nncl_view_of(lb, 0), nncl_view_of(db, 0),
                                    nncl_view_of(ab, 0), R, C, 1.0f / R, nncl_view_of(sb, 0)};
        ck_assert_ok(nncl_softmax_xent(h, &a));
        down(db, dz, n);
        down(ab, acc, 2);
        double *zd = malloc(n * sizeof(double));
        for (size_t i = 0; i < n; i++)
            zd[i] = z[i];
        double L = ref_xent(zd, lab, R, C);
        ck_assert_msg(fabs(acc[0] / R - L) <= 1e-6 * fabs(L) + 1e-6, "loss %.9g, reference %.12g",
                      (double)acc[0] / R, L);
        for (size_t i = 0; i < n; i++) {
            double keep = zd[i];
            zd[i] = keep + H;
            double lp = ref_xent(zd, lab, R, C);
            zd[i] = keep - H;
            double lm = ref_xent(zd, lab, R, C);
            zd[i] = keep;
            double fd = (lp - lm) / (2 * H);
            if (fabs(dz[i] - fd) > 1e-6)
                ck_abort_msg("softmax_xent %zux%zu: dz[%zu] = %.9g, differences %.9g", R, C, i,
                             (double)dz[i], fd);
        }
        free(z);
        free(dz);
        free(zd);
        free(lab);
        nncl_buffer *all[] = {zb, db, ab, sb, lb};
        for (int i = 0; i < 5; i++)
            nncl_buffer_free(all[i]);
    }
    nncl_device_close(h);
}
END_TEST

START_TEST(mse_gradient)
{
    nncl_device *h = test_host_device();
    static const size_t shapes[][2] = {{1, 1}, {3, 1}, {4, 7}};
    uint64_t s = 13;
    for (size_t k = 0; k < 3; k++) {
        size_t R = shapes[k][0], O = shapes[k][1], n = R * O;
        float *y = test_random(&s, n, -2.0f, 2.0f), *t = test_random(&s, n, -2.0f, 2.0f);
        float *dy = malloc(n * sizeof(float)), acc[2] = {0, 0};
        nncl_buffer *yb = up(h, y, n), *tb = up(h, t, n), *db = test_poisoned(h, n), *ab = up(h, acc, 2),
                    *sb = test_poisoned(h, 2 * R);
        nncl_mse_args a = {nncl_view_of(yb, 0), nncl_view_of(tb, 0), nncl_view_of(db, 0),
                           nncl_view_of(ab, 0), R, O, 1.0f / R, nncl_view_of(sb, 0)};
        ck_assert_ok(nncl_mse(h, &a));
        down(db, dy, n);
        down(ab, acc, 2);
        double *yd = malloc(n * sizeof(double)), *td = malloc(n * sizeof(double));
        double mae = 0;
        for (size_t i = 0; i < n; i++) {
            yd[i] = y[i];
            td[i] = t[i];
            mae += fabs(yd[i] - td[i]) / O;
        }
        double L = ref_mse(yd, td, R, O);
        ck_assert_msg(fabs(acc[0] / R - L) <= 1e-6 * L + 1e-7, "mse %.9g, reference %.12g", (double)acc[0] / R, L);
        ck_assert_msg(fabs(acc[1] - mae) <= 1e-6 * mae + 1e-7, "mae %.9g, reference %.12g", (double)acc[1], mae);
        for (size_t i = 0; i < n; i++) {
            double keep = yd[i];
            yd[i] = keep + H;
            double lp = ref_mse(yd, td, R, O);
            yd[i] = keep - H;
            double lm = ref_mse(yd, td, R, O);
            yd[i] = keep;
            double fd = (lp - lm) / (2 * H);
            if (fabs(dy[i] - fd) > 1e-6)
                ck_abort_msg("mse %zux%zu: dy[%zu] = %.9g, differences %.9g", R, O, i, (double)dy[i], fd);
        }
        free(y);
        free(t);
        free(dy);
        free(yd);
        free(td);
        nncl_buffer *all[] = {yb, tb, db, ab, sb};
        for (int i = 0; i < 5; i++)
            nncl_buffer_free(all[i]);
    }
    nncl_device_close(h);
}
END_TEST

/* ---- a dense layer into softmax_xent --------------------------------------------------- */

enum { B = 5, I = 7, O = 4 };

/* Mean cross-entropy of act(x W^T + b), all in double. */
static double dense_loss(int act, const double *x, const double *W, const double *bias,
                         const int32_t *lab)
{
    double y[B * O];
    for (int r = 0; r < B; r++)
        for (int o = 0; o < O; o++) {
            double z = bias[o];
            for (int i = 0; i < I; i++)
                z += x[r * I + i] * W[o * I + i];
            y[r * O + o] = ref_act(act, z);
        }
    return ref_xent(y, lab, B, O);
}

/* Central differences of dense_loss in parameter p[idx]; p is one of x, W, bias. */
static double dense_fd(int act, double *x, double *W, double *bias, const int32_t *lab, double *p,
                       size_t idx)
{
    double keep = p[idx];
    p[idx] = keep + H;
    double lp = dense_loss(act, x, W, bias, lab);
    p[idx] = keep - H;
    double lm = dense_loss(act, x, W, bias, lab);
    p[idx] = keep;
    return (lp - lm) / (2 * H);
}

static void check_grad(const char *what, int act, const float *got, const double *fd, size_t n)
{
    /* float forward and backward against double differences: the gradients
     * here are O(0.1); float rounding through two layers of sums gives ~1e-7
     * relative, differences with h = 1e-6 are good to ~1e-9. */
    for (size_t i = 0; i < n; i++)
        if (fabs(got[i] - fd[i]) > 2e-6 + 1e-4 * fabs(fd[i]))
            ck_abort_msg("dense %s: %s[%zu] = %.9g, differences %.9g", act_names[act], what, i,
                         (double)got[i], fd[i]);
}

START_TEST(dense_layer_gradients)
{
    nncl_device *h = test_host_device();
    uint64_t s = 14;
    for (int act = 0; act <= NNCL_ACT_TANH; act++) {
        float *x = test_random(&s, B * I, -1.0f, 1.0f), *W = test_random(&s, O * I, -1.0f, 1.0f);
        float *bias = test_random(&s, O, -0.5f, 0.5f);
        int32_t lab[B];
        for (int r = 0; r < B; r++)
            lab[r] = (int32_t)(test_rand_u64(&s) % O);
        /* forward: z = x W^T + b (loops), y = act(z), loss = softmax_xent(y) */
        float z[B * O];
        for (int r = 0; r < B; r++)
            for (int o = 0; o < O; o++) {
                float acc = bias[o];
                for (int i = 0; i < I; i++)
                    acc += x[r * I + i] * W[o * I + i];
                z[r * O + o] = acc;
            }
        nncl_buffer *zb = up(h, z, B * O), *yb = test_poisoned(h, B * O), *dyb = test_poisoned(h, B * O);
        nncl_buffer *dzb = test_poisoned(h, B * O), *dbb = test_poisoned(h, O), *lb;
        ck_assert_ok(nncl_buffer_alloc(h, sizeof lab, &lb));
        ck_assert_ok(nncl_buffer_write(lb, 0, lab, sizeof lab));
        nncl_act_fwd_args f = {nncl_view_of(zb, 0), nncl_view_of(yb, 0), B * O, (nncl_act)act, SLOPE};
        ck_assert_ok(nncl_act_fwd(h, &f));
        nncl_softmax_xent_args sx = {.z = nncl_view_of(yb, 0), .labels = nncl_view_of(lb, 0),
                                     .dz = nncl_view_of(dyb, 0), .rows = B, .classes = O,
                                     .grad_scale = 1.0f / B};
        ck_assert_ok(nncl_softmax_xent(h, &sx));
        /* backward: dz = act_bwd(y, dy), db = colsum(dz), dW = dz^T x, dx = dz W */
        nncl_act_bwd_args bw = {nncl_view_of(yb, 0), nncl_view_of(dyb, 0), nncl_view_of(dzb, 0), B * O,
                                (nncl_act)act, SLOPE};
        ck_assert_ok(nncl_act_bwd(h, &bw));
        nncl_colsum_args cs = {nncl_view_of(dzb, 0), O, nncl_view_of(dbb, 0), B, O, 1.0f, 0.0f};
        ck_assert_ok(nncl_colsum(h, &cs));
        float dz[B * O], db[O], dW[O * I], dx[B * I];
        down(dzb, dz, B * O);
        down(dbb, db, O);
        for (int o = 0; o < O; o++)
            for (int i = 0; i < I; i++) {
                float acc = 0;
                for (int r = 0; r < B; r++)
                    acc += dz[r * O + o] * x[r * I + i];
                dW[o * I + i] = acc;
            }
        for (int r = 0; r < B; r++)
            for (int i = 0; i < I; i++) {
                float acc = 0;
                for (int o = 0; o < O; o++)
                    acc += dz[r * O + o] * W[o * I + i];
                dx[r * I + i] = acc;
            }
        /* finite differences of the double loss */
        double xd[B * I], Wd[O * I], bd[O], fdW[O * I], fdb[O], fdx[B * I];
        for (int i = 0; i < B * I; i++)
            xd[i] = x[i];
        for (int i = 0; i < O * I; i++)
            Wd[i] = W[i];
        for (int i = 0; i < O; i++)
            bd[i] = bias[i];
        for (int i = 0; i < O * I; i++)
            fdW[i] = dense_fd(act, xd, Wd, bd, lab, Wd, i);
        for (int i = 0; i < O; i++)
            fdb[i] = dense_fd(act, xd, Wd, bd, lab, bd, i);
        for (int i = 0; i < B * I; i++)
            fdx[i] = dense_fd(act, xd, Wd, bd, lab, xd, i);
        check_grad("dW", act, dW, fdW, O * I);
        check_grad("db", act, db, fdb, O);
        check_grad("dx", act, dx, fdx, B * I);
        free(x);
        free(W);
        free(bias);
        nncl_buffer *all[] = {zb, yb, dyb, dzb, dbb, lb};
        for (int i = 0; i < 6; i++)
            nncl_buffer_free(all[i]);
    }
    nncl_device_close(h);
}
END_TEST

/* ---- the network, end to end --------------------------------------------------
 * The network's own training step (whichever plan the device gets: separate
 * ops, head_xent, linear_u8_head) against central differences of its own
 * mean loss, on every device, for dense networks and for layer lists with
 * convolutions (same and valid padding, stride 2), both poolings, dropout
 * (the loss forward uses the step's seed and step, so the same mask), batch
 * normalisation after a convolution and after a dense layer (training
 * statistics in both forwards) and a narrow dense head fused over
 * convolutions. The loss is the network's float forward (so the
 * differences are in float: step 1e-2 on weights of order 0.3, smooth
 * activations); the gradient is read with SGD at learning rate 1 (p - lr g).
 * Tolerance: |g - fd| <= 3e-4 + 3e-2 |fd| (float rounding of a loss of
 * order 1 over 2e-2 is ~1e-5; truncation ~1e-4). */
typedef struct net_case {
    const char *name;
    nncl_net_config cfg;
    bool bytes;                 /* image-like bytes (the u8 paths on OpenCL) */
} net_case;

static double net_mean_loss(nncl_net *net, const nncl_device_data *dd, size_t rows)
{
    double s0, s1;
    ck_assert_ok(nncl_net_acc_reset(net));
    ck_assert_ok(nncl_net_load_batch(net, dd, 0, rows));
    ck_assert_ok(nncl_net_forward(net, rows, true, 1, 1));
    ck_assert_ok(nncl_net_loss(net, rows, false, 1, 1));
    ck_assert_ok(nncl_net_acc_read(net, &s0, &s1));
    return s0 / (double)rows;
}

static void net_gradient(nncl_net *net, const nncl_device_data *dd, size_t rows, const float *p0, float *g,
                         size_t n)
{
    ck_assert_ok(nncl_net_set_params(net, p0));
    ck_assert_ok(nncl_net_load_batch(net, dd, 0, rows));
    ck_assert_ok(nncl_net_forward_backward(net, rows, 1, 1));
    nncl_optim_config sgd = {.kind = NNCL_OPTIM_SGD};
    ck_assert_ok(nncl_net_optim_step(net, &sgd, 1.0f, 1));
    float *p1 = malloc(n * sizeof(float));
    ck_assert_ok(nncl_net_get_params(net, p1));
    for (size_t i = 0; i < n; i++)
        g[i] = p0[i] - p1[i];
    free(p1);
}

START_TEST(network_gradients_by_finite_differences)
{
    enum { ROWS = 23, COLS = 16 };
#define SPEC_CONV(k, s, st, pad) {.kind = NNCL_LAYER_CONV2D, .units = (k), .kernel = (s), .stride = (st), .padding = (pad)}
#define SPEC_DENSE(n) {.kind = NNCL_LAYER_DENSE, .units = (n)}
    const net_case cases[] = {
        {"bytes, two hidden layers (head fused)",
         {.layers = 3, .sizes = {COLS, 20, 6, 4}, .act = NNCL_ACT_TANH, .task = NNCL_TASK_CLASSIFY}, true},
        {"floats, one wide hidden layer (separate ops)",
         {.layers = 2, .sizes = {COLS, 20, 4}, .act = NNCL_ACT_SIGMOID, .task = NNCL_TASK_CLASSIFY}, false},
        {"bytes, one narrow hidden layer (the whole step fused)",
         {.layers = 2, .sizes = {COLS, 5, 3}, .act = NNCL_ACT_TANH, .task = NNCL_TASK_CLASSIFY}, true},
        {"floats, regression, two hidden layers",
         {.layers = 3, .sizes = {COLS, 9, 5, 1}, .act = NNCL_ACT_TANH, .task = NNCL_TASK_REGRESS}, false},
        {"conv 3x3 same, avgpool, dense",
         {.n_specs = 3, .in_c = 1, .in_h = 4, .in_w = 4, .act = NNCL_ACT_TANH, .task = NNCL_TASK_CLASSIFY,
          .specs = {SPEC_CONV(3, 3, 1, -1), {.kind = NNCL_LAYER_AVGPOOL, .kernel = 2}, SPEC_DENSE(4)}}, false},
        {"conv 3x3 valid on 4 channels, maxpool, dense",
         {.n_specs = 3, .in_c = 4, .in_h = 2, .in_w = 2, .act = NNCL_ACT_TANH, .task = NNCL_TASK_CLASSIFY,
          .specs = {SPEC_CONV(3, 1, 1, 0), {.kind = NNCL_LAYER_MAXPOOL, .kernel = 2}, SPEC_DENSE(3)}}, false},
        {"conv 2x2 stride 2, flatten, dropout, a narrow head fused",
         {.n_specs = 5, .in_c = 1, .in_h = 4, .in_w = 4, .act = NNCL_ACT_TANH, .task = NNCL_TASK_CLASSIFY,
          .specs = {SPEC_CONV(3, 2, 2, -1), {.kind = NNCL_LAYER_FLATTEN}, {.kind = NNCL_LAYER_DROPOUT, .rate = 0.3f},
                    SPEC_DENSE(5), SPEC_DENSE(3)}}, false},
        /* average pooling: a step of 1e-2 through batch normalisation can
         * change which value a 2x2 max picks, a kink the differences see */
        {"conv, batchnorm, avgpool, dense, batchnorm, dense",
         {.n_specs = 6, .in_c = 1, .in_h = 4, .in_w = 4, .act = NNCL_ACT_TANH, .task = NNCL_TASK_CLASSIFY,
          .specs = {SPEC_CONV(3, 3, 1, -1), {.kind = NNCL_LAYER_BATCHNORM}, {.kind = NNCL_LAYER_AVGPOOL, .kernel = 2},
                    SPEC_DENSE(6), {.kind = NNCL_LAYER_BATCHNORM}, SPEC_DENSE(3)}}, false},
        {"conv 3x3 regression",
         {.n_specs = 2, .in_c = 1, .in_h = 4, .in_w = 4, .act = NNCL_ACT_SIGMOID, .task = NNCL_TASK_REGRESS,
          .specs = {SPEC_CONV(2, 3, 1, -1), SPEC_DENSE(1)}}, false},
    };
    nncl_device_list *list = test_devices();
    uint8_t xb[ROWS * COLS];
    float xf[ROWS * COLS], targets[ROWS];
    int32_t labels[ROWS];
    uint64_t seed = 0x9e7;
    for (size_t i = 0; i < ROWS * COLS; i++) {
        xb[i] = test_rand_u64(&seed) % 3 ? 0 : (uint8_t)(test_rand_u64(&seed) & 255);
        xf[i] = test_rand_float(&seed, -1.0f, 1.0f);
    }
    for (size_t r = 0; r < ROWS; r++)
        targets[r] = test_rand_float(&seed, -1.0f, 1.0f);
    for (int d = 0; d < list->count; d++) {
        nncl_device *dev = test_open(d);
        for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
            net_case resolved = cases[k];
            const net_case *c = &resolved;
            ck_assert_ok(nncl_net_config_resolve(&resolved.cfg));
            /* Small (the simulator): the byte networks, whose first layer
             * reads through linear_u8 and whose head is head_xent or
             * linear_u8_head; their head_exp16 was wrong on Oclgrind (see
             * cl/head.cl), which this case caught. */
            if (test_small() && !c->bytes)
                continue;
            const int L = c->cfg.layers;
            bool classify = c->cfg.task == NNCL_TASK_CLASSIFY;
            for (size_t r = 0; r < ROWS; r++)
                labels[r] = (int32_t)(r % c->cfg.sizes[L]);
            nncl_dataset ds = {.rows = ROWS, .cols = COLS, .x_u8 = c->bytes ? xb : NULL,
                               .x_f32 = c->bytes ? NULL : xf, .labels = classify ? labels : NULL,
                               .targets = classify ? NULL : targets, .task = c->cfg.task,
                               .num_classes = classify ? (int)c->cfg.sizes[L] : 0};
            nncl_net *net;
            ck_assert_ok(nncl_net_create(dev, &c->cfg, ROWS, &net));
            ck_assert_ok(nncl_net_init(net, NNCL_INIT_XAVIER, 0.0f, 3 + k));
            float shift[COLS], scale[COLS];
            for (size_t j = 0; j < COLS; j++) {
                shift[j] = c->bytes ? 30.0f : 0.0f;
                scale[j] = c->bytes ? 1.0f / 80.0f : 1.0f;
            }
            ck_assert_ok(nncl_net_set_transform(net, shift, scale));
            nncl_device_data dd;
            ck_assert_ok(nncl_device_data_upload(dev, &ds, &dd));
            size_t n = nncl_net_param_count(net);
            float *p0 = malloc(n * sizeof(float)), *g = malloc(n * sizeof(float)), *p = malloc(n * sizeof(float));
            ck_assert_ok(nncl_net_get_params(net, p0));
            net_gradient(net, &dd, ROWS, p0, g, n);
            /* every 7th trained parameter and the last: weights and biases
             * of every layer (the running statistics after them are not
             * trained: a training forward moves them) */
            size_t trained = nncl_net_trained_count(net);
            for (size_t i = 0; i < trained; i += (i + 7 < trained ? 7 : (i + 1 < trained ? trained - 1 - i : 1))) {
                const float eps = 1e-2f;
                memcpy(p, p0, n * sizeof(float));
                p[i] = p0[i] + eps;
                ck_assert_ok(nncl_net_set_params(net, p));
                double up_loss = net_mean_loss(net, &dd, ROWS);
                p[i] = p0[i] - eps;
                ck_assert_ok(nncl_net_set_params(net, p));
                double down_loss = net_mean_loss(net, &dd, ROWS);
                double fd = (up_loss - down_loss) / (2.0 * (double)eps);
                ck_assert_msg(fabs(g[i] - fd) <= 3e-4 + 3e-2 * fabs(fd),
                              "%s: %s: parameter %zu of %zu: gradient %.6g, finite difference %.6g",
                              list->items[d].name, c->name, i, n, (double)g[i], fd);
            }
            free(p0);
            free(g);
            free(p);
            nncl_device_data_free(&dd);
            nncl_net_free(net);
        }
        nncl_device_close(dev);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("grad");
    TCase *t = tcase_create("host");
    tcase_add_test(t, activation_derivatives);
    tcase_add_test(t, softmax_xent_gradient);
    tcase_add_test(t, mse_gradient);
    tcase_add_test(t, dense_layer_gradients);
    suite_add_tcase(s, t);
    /* Its own case, so that CK_RUN_CASE=network runs it alone: on every
     * device, where the others are the host's. */
    TCase *n = tcase_create("network");
    tcase_add_test(n, network_gradients_by_finite_differences);
    suite_add_tcase(s, n);
    return test_run_suite(s);
}
