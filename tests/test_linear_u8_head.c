/* linear_u8_head, a whole training step of a byte-input network with one
 * narrow hidden layer: every device (the host device's float step of
 * src/ops/u8_head_host.c included) against the reference twin, which is
 * checked against the same step composed from the separate host ops
 * (linear_u8_fwd, head_xent, linear_u8_wgrad); the host step's gradients
 * against central differences in double, NaN from bad labels and bad indices, determinism, refusals and the
 * scratch size.
 *
 * Tolerances, device against the reference (linear_u8_head_matches_host). The
 * device sums in float: each hidden unit's pre-activation over `in` inputs,
 * then the rows within 16-row lanes, 256-row blocks, chunks and the chunks in
 * order; the host twin sums in double and rounds once. A single rtol cannot
 * cover both parts, since the forward's rounding reaches every output
 * amplified differently. So each case gets a per-element bound, computed in
 * double from the case's own values (u8h_tolerance below). Every float sum
 * of n terms is taken to be off by at most 6 sqrt(n) u sum|terms| (u =
 * 2^-24: the probabilistic bound of Higham & Mary 2019 with lambda = 6, which
 * fails with probability < 1e-7 per sum and holds for any order of the
 * additions, so for any chunking; the worst case n u would leave a
 * 784-input case nothing to test). The bound is the sum of
 *   rows:    6 sqrt(rows + 1) u times the element's sum over rows of |term|
 *            (e.g. |g x'| for dW1), the row sums' own rounding;
 *   forward: s = x'W1^T + b1 (in + 1 terms) off by 6 sqrt(in + 3) u S,
 *            S = sum |terms|, plus 4 ulp of f; every f here is 1-Lipschitz,
 *            so h is off by as much. That is carried to first order, worst
 *            case (errors of one sign, in every row), through the logits
 *            (sum_o |W2| dh, plus hidden + 2 roundings), the softmax
 *            (|dp_c| <= 2 p_c max|dz|), dz W2 (classes + 1 roundings) and
 *            f'(h) (|f''| <= 2 for tanh, 1 for sigmoid) into each element;
 *   kinks:   where relu or leaky relu sees |s| within that forward bound,
 *            device and host may take different sides: f' may differ by
 *            1 (relu) or 1 - slope (leaky) in that row;
 *   and 2 u |ref| for the final roundings.
 * The loss sum gets the same treatment (2 max|dz| per row, 8 u for exp and
 * log); the correct count may differ by the number of rows whose two
 * largest logits are closer than twice the logits' bound. On PoCL the worst
 * |device - host| is 2% of its bound; the bound is 0.1% to 1% of the value
 * for most elements (all of them counted with NNCL_TEST_VERBOSE=1), more
 * where the rows' terms cancel.
 *
 * The host twin against the composed host ops: both sum in double and round
 * once to float, in the same order: atol 1e-6 * max|part|, rtol 1e-6; the
 * correct count exactly.
 *
 * Finite differences: the mean loss is computed here in double from the
 * definition (not read from the op's float accumulator), with central
 * differences of step 1e-6 (truncation ~1e-12, cancellation ~1e-10); the
 * twin's float gradients (h and g rounded to float, relative error ~1e-7)
 * must agree to 1e-6 + 1e-4 * |difference|. The twin's loss must match the
 * double loss to 1e-6 relative. */
#include <stddef.h>
#include <stdio.h>

#include "device/backend.h"
#include "ops/u8_head_host.h"
#include "test_util.h"

enum { M = NNCL_HEAD_MAX };

static const double U = 0x1p-24; /* float's unit roundoff */

/* ---- cases ---------------------------------------------------------------- */

typedef struct u8h_case {
    size_t rows, in, hidden, classes;
    size_t x_rows;              /* rows of x: more than rows with an index */
    nncl_act act;
    float slope;                /* of leaky relu */
    unsigned char *x;           /* x_rows * in */
    int32_t *index;             /* rows, or NULL */
    float *shift, *scale;       /* in */
    float *w1, *b1, *w2, *b2;
    int32_t *labels;            /* rows */
    size_t off;                 /* element offset of every view in its buffer */
} u8h_case;

typedef struct u8h_out {
    float *dw1, *db1, *dw2, *db2;
    float acc[2];               /* what the op added to acc */
} u8h_out;

static void out_free(u8h_out *o)
{
    free(o->dw1);
    free(o->db1);
    free(o->dw2);
    free(o->db2);
}

static void free_case(u8h_case *c)
{
    free(c->x);
    free(c->index);
    free(c->shift);
    free(c->scale);
    free(c->w1);
    free(c->b1);
    free(c->w2);
    free(c->b2);
    free(c->labels);
}

/* Bytes that look like digits: blank borders (a column of zeros), ink more
 * likely towards the middle, half of the ink saturated at 255. */
static unsigned char *image_bytes(uint64_t *s, size_t rows, size_t in)
{
    unsigned char *x = malloc(rows * in);
    for (size_t j = 0; j < in; j++) {
        bool border = in >= 8 && (j < in / 8 || j >= in - in / 8);
        double sn = sin(3.14159265358979 * ((double)j + 0.5) / (double)in);
        float p = border ? 0.0f : 0.05f + 0.5f * (float)(sn * sn);
        for (size_t i = 0; i < rows; i++) {
            unsigned char v = 0;
            if (test_rand_float(s, 0, 1) < p)
                v = test_rand_u64(s) & 1 ? 255 : (unsigned char)(1 + test_rand_u64(s) % 254);
            x[i * in + j] = v;
        }
    }
    return x;
}

/* The two transforms nncl uses: bytes / 255, or standardized columns (shift
 * the mean, scale 1/std, a constant column scale 1) as for float data. A
 * sparse column standardizes to values of 30 and more. */
static void transform(u8h_case *c, bool standardize)
{
    size_t I = c->in, N = c->x_rows;
    c->shift = malloc(I * sizeof(float));
    c->scale = malloc(I * sizeof(float));
    for (size_t j = 0; j < I; j++) {
        if (!standardize) {
            c->shift[j] = 0.0f;
            c->scale[j] = 1.0f / 255.0f;
            continue;
        }
        double mean = 0, var = 0;
        for (size_t i = 0; i < N; i++)
            mean += c->x[i * I + j];
        mean /= (double)N;
        for (size_t i = 0; i < N; i++)
            var += (c->x[i * I + j] - mean) * (c->x[i * I + j] - mean);
        double sd = sqrt(var / (double)N);
        c->shift[j] = (float)mean;
        c->scale[j] = sd > 1e-6 * fabs(mean) && sd > 1e-30 ? (float)(1.0 / sd) : 1.0f;
    }
}

static void make_case(u8h_case *c, uint64_t *s, size_t rows, size_t in, size_t hidden, size_t classes,
                      nncl_act act, bool indexed, bool standardize, size_t off)
{
    /* With an index the batch reads a shuffle, with repeats, of a larger x,
     * its first and last rows included. */
    size_t x_rows = indexed ? rows + rows / 2 + 3 : rows;
    *c = (u8h_case){rows, in, hidden, classes, x_rows, act, 0.1f, .off = off};
    c->x = image_bytes(s, x_rows, in);
    if (indexed) {
        c->index = malloc(rows * sizeof(int32_t));
        for (size_t i = 0; i < rows; i++)
            c->index[i] = (int32_t)(test_rand_u64(s) % x_rows);
        c->index[0] = (int32_t)(x_rows - 1);
        if (rows > 1)
            c->index[rows - 1] = 0;
    }
    transform(c, standardize);
    float a1 = sqrtf(6.0f / (float)(in + hidden)); /* Xavier */
    c->w1 = test_random(s, hidden * in, -a1, a1);
    c->b1 = test_random(s, hidden, -0.1f, 0.1f);
    c->w2 = test_random(s, classes * hidden, -1.0f, 1.0f);
    c->b2 = test_random(s, classes, -0.5f, 0.5f);
    c->labels = malloc(rows * sizeof(int32_t));
    for (size_t i = 0; i < rows; i++)
        c->labels[i] = (int32_t)(test_rand_u64(s) % classes);
}

static const unsigned char *row_of(const u8h_case *c, size_t i)
{
    return c->x + (c->index ? (size_t)c->index[i] : i) * c->in;
}

/* x'[i, j] in float, as the op computes it. */
static float xprime(const u8h_case *c, const unsigned char *xr, size_t j)
{
    return ((float)xr[j] - c->shift[j]) * c->scale[j];
}

/* ---- running the op ------------------------------------------------------- */

/* n elements of `elem` bytes at element offset off of a new buffer; the bytes
 * before them are 0xff (NaN as floats, -1 as int32). */
static nncl_buffer *put(nncl_device *dev, const void *data, size_t elem, size_t n, size_t off)
{
    size_t bytes = (n + off) * elem;
    unsigned char *tmp = malloc(bytes);
    memset(tmp, 0xff, off * elem);
    memcpy(tmp + off * elem, data, n * elem);
    nncl_buffer *b;
    ck_assert_ok(nncl_buffer_alloc(dev, bytes, &b));
    ck_assert_ok(nncl_buffer_write(b, 0, tmp, bytes));
    free(tmp);
    return b;
}

static float *download(nncl_buffer *b, size_t n, size_t off)
{
    float *x = malloc(n * sizeof(float));
    ck_assert_ok(nncl_buffer_read(b, off * sizeof(float), x, n * sizeof(float)));
    return x;
}

/* The buffers of one call and its arguments, outputs poisoned with NaN. */
typedef struct u8h_bufs {
    nncl_buffer *all[15];
    nncl_linear_u8_head_args args;
} u8h_bufs;

static void setup(nncl_device *dev, const u8h_case *c, u8h_bufs *b)
{
    size_t R = c->rows, I = c->in, H = c->hidden, C = c->classes, off = c->off;
    float acc0[2] = {1.5f, 2.0f}; /* the op adds to these */
    size_t scratch_len = nncl_linear_u8_head_scratch_len(R, I, H, C);
    ck_assert_uint_gt(scratch_len, 0);
    int32_t none = 0;
    nncl_buffer **a = b->all;
    a[0] = put(dev, c->x, 1, c->x_rows * I, off);
    a[1] = c->index ? put(dev, c->index, sizeof(int32_t), R, off) : put(dev, &none, sizeof none, 1, 0);
    a[2] = put(dev, c->shift, sizeof(float), I, off);
    a[3] = put(dev, c->scale, sizeof(float), I, off);
    a[4] = put(dev, c->w1, sizeof(float), H * I, off);
    a[5] = put(dev, c->b1, sizeof(float), H, off);
    a[6] = put(dev, c->w2, sizeof(float), C * H, off);
    a[7] = put(dev, c->b2, sizeof(float), C, off);
    a[8] = put(dev, c->labels, sizeof(int32_t), R, off);
    a[9] = test_poisoned(dev, H * I + off);
    a[10] = test_poisoned(dev, H + off);
    a[11] = test_poisoned(dev, C * H + off);
    a[12] = test_poisoned(dev, C + off);
    a[13] = put(dev, acc0, sizeof(float), 2, off);
    a[14] = test_poisoned(dev, scratch_len + off);
    b->args = (nncl_linear_u8_head_args){
        .x = nncl_view_of(a[0], off), .index = c->index ? nncl_view_of(a[1], off) : (nncl_view){0},
        .x_rows = c->x_rows, .shift = nncl_view_of(a[2], off), .scale = nncl_view_of(a[3], off),
        .w1 = nncl_view_of(a[4], off), .b1 = nncl_view_of(a[5], off), .w2 = nncl_view_of(a[6], off),
        .b2 = nncl_view_of(a[7], off), .labels = nncl_view_of(a[8], off), .dw1 = nncl_view_of(a[9], off),
        .db1 = nncl_view_of(a[10], off), .dw2 = nncl_view_of(a[11], off), .db2 = nncl_view_of(a[12], off),
        .acc = nncl_view_of(a[13], off), .scratch = nncl_view_of(a[14], off), .rows = R, .in = I, .hidden = H,
        .classes = C, .act = c->act, .act_param = c->slope, .grad_scale = 1.0f / (float)R,
    };
}

static void teardown(u8h_bufs *b)
{
    for (size_t i = 0; i < sizeof b->all / sizeof b->all[0]; i++)
        nncl_buffer_free(b->all[i]);
}

static u8h_out fetch(const u8h_case *c, const u8h_bufs *b)
{
    size_t I = c->in, H = c->hidden, C = c->classes, off = c->off;
    u8h_out o = {download(b->all[9], H * I, off), download(b->all[10], H, off), download(b->all[11], C * H, off),
                 download(b->all[12], C, off), {0, 0}};
    float *acc = download(b->all[13], 2, off);
    o.acc[0] = acc[0] - 1.5f;
    o.acc[1] = acc[1] - 2.0f;
    free(acc);
    return o;
}

/* Runs the op; the outputs whatever its status. */
static nncl_status run_status(nncl_device *dev, const u8h_case *c, u8h_out *o)
{
    u8h_bufs b;
    setup(dev, c, &b);
    nncl_status st = nncl_linear_u8_head(dev, &b.args);
    const char *err = st == NNCL_OK ? "" : nncl_last_error();
    char keep[4096];
    snprintf(keep, sizeof keep, "%s", err);
    *o = fetch(c, &b);
    teardown(&b);
    if (st != NNCL_OK) /* the reads above may have replaced the message */
        nncl_fail(st, "%s", keep);
    return st;
}

static u8h_out run(nncl_device *dev, const u8h_case *c)
{
    u8h_out o;
    ck_assert_ok(run_status(dev, c, &o));
    return o;
}

/* The oracle: the three host twins composed, in double, on host buffers
 * (the host device itself runs the float step of src/ops/u8_head_host.c). */
static u8h_out run_reference(nncl_device *host, const u8h_case *c)
{
    u8h_bufs b;
    setup(host, c, &b);
    ck_assert_ok(nncl_check_linear_u8_head(host, &b.args));
    ck_assert_ok(nncl_host_linear_u8_head_reference(&b.args));
    u8h_out o = fetch(c, &b);
    teardown(&b);
    return o;
}

/* ---- the device tolerance (see the header) ------------------------------- */

static double act_f(nncl_act act, double slope, double z)
{
    switch (act) {
    case NNCL_ACT_RELU: return z < 0 ? 0 : z;
    case NNCL_ACT_LEAKY_RELU: return z < 0 ? slope * z : z;
    case NNCL_ACT_SIGMOID: return 1.0 / (1.0 + exp(-z));
    case NNCL_ACT_TANH: return tanh(z);
    default: return z;
    }
}

/* f'(z) from y = f(z) */
static double act_fprime(nncl_act act, double slope, double y)
{
    switch (act) {
    case NNCL_ACT_RELU: return y > 0 ? 1 : 0;
    case NNCL_ACT_LEAKY_RELU: return y > 0 ? 1 : slope;
    case NNCL_ACT_SIGMOID: return y * (1 - y);
    case NNCL_ACT_TANH: return 1 - y * y;
    default: return 1;
    }
}

/* |d f'(y) / dy|: how far an error in y moves f' (0 off the kinks of the
 * piecewise linear ones). */
static double act_fprime_slope(nncl_act act, double y)
{
    switch (act) {
    case NNCL_ACT_SIGMOID: return fabs(1 - 2 * y);
    case NNCL_ACT_TANH: return 2 * fabs(y);
    default: return 0;
    }
}

typedef struct u8h_tol {
    double *dw1, *db1, *dw2, *db2;
    double loss;
    size_t flips;               /* rows whose predicted class may differ */
} u8h_tol;

static void tol_free(u8h_tol *t)
{
    free(t->dw1);
    free(t->db1);
    free(t->dw2);
    free(t->db2);
}

/* Per-element bounds on |device - host| for case c, labels in range. */
static u8h_tol u8h_tolerance(const u8h_case *c)
{
    const size_t R = c->rows, I = c->in, H = c->hidden, C = c->classes;
    const double gs = (double)(1.0f / (float)R), lambda = 6.0, eps_rows = lambda * sqrt((double)R + 1.0) * U;
    const double ds_rel = lambda * sqrt((double)I + 3.0) * U;
    const bool kinked = c->act == NNCL_ACT_RELU || c->act == NNCL_ACT_LEAKY_RELU;
    const double kink_jump = c->act == NNCL_ACT_RELU ? 1.0 : fabs(1.0 - c->slope);
    u8h_tol t = {calloc(H * I, sizeof(double)), calloc(H, sizeof(double)), calloc(C * H, sizeof(double)),
                 calloc(C, sizeof(double)), 0, 0};
    /* sums of |terms| of each element, for the rows' rounding */
    double *m1 = calloc(H * I, sizeof(double)), mb1[M] = {0}, m2[M * M] = {0}, mb2[M] = {0}, mloss = 0;
    double *xp = malloc(I * sizeof(double));
    for (size_t i = 0; i < R; i++) {
        const unsigned char *xr = row_of(c, i);
        for (size_t j = 0; j < I; j++)
            xp[j] = xprime(c, xr, j);
        double h[M], dh[M];
        bool kink[M];
        for (size_t o = 0; o < H; o++) {
            double s = c->b1[o], S = fabs(c->b1[o]);
            for (size_t j = 0; j < I; j++) {
                double p = xp[j] * c->w1[o * I + j];
                s += p;
                S += fabs(p);
            }
            double ds = ds_rel * S;
            h[o] = act_f(c->act, c->slope, s);
            dh[o] = ds + 4 * U * (fabs(h[o]) + 1);
            kink[o] = kinked && fabs(s) <= ds;
        }
        double z[M], dz[M], zmax = -INFINITY, dzmax = 0;
        for (size_t k = 0; k < C; k++) {
            double s = c->b2[k], S = fabs(c->b2[k]), e = 0;
            for (size_t o = 0; o < H; o++) {
                s += h[o] * c->w2[k * H + o];
                S += fabs(h[o] * c->w2[k * H + o]);
                e += fabs(c->w2[k * H + o]) * dh[o];
            }
            z[k] = s;
            dz[k] = e + (double)(H + 2) * U * S;
            zmax = s > zmax ? s : zmax;
            dzmax = dz[k] > dzmax ? dz[k] : dzmax;
        }
        double se = 0, best = -INFINITY, second = -INFINITY;
        for (size_t k = 0; k < C; k++) {
            se += exp(z[k] - zmax);
            if (z[k] > best) {
                second = best;
                best = z[k];
            } else if (z[k] > second) {
                second = z[k];
            }
        }
        size_t lab = (size_t)c->labels[i];
        double loss = log(se) - (z[lab] - zmax);
        t.loss += 2 * dzmax + 8 * U * (log(se) + fabs(z[lab] - zmax) + 1);
        mloss += loss;
        if (C > 1 && best - second <= 2 * dzmax + 8 * U * (fabs(best) + 1))
            t.flips++;
        double d[M], dd[M];
        for (size_t k = 0; k < C; k++) {
            double p = exp(z[k] - zmax) / se, y = k == lab ? 1.0 : 0.0;
            d[k] = (p - y) * gs;
            dd[k] = gs * (2 * p * dzmax + 8 * U * (p + y));
            for (size_t o = 0; o < H; o++) {
                t.dw2[k * H + o] += dd[k] * fabs(h[o]) + fabs(d[k]) * dh[o];
                m2[k * H + o] += fabs(d[k] * h[o]);
            }
            t.db2[k] += dd[k];
            mb2[k] += fabs(d[k]);
        }
        for (size_t o = 0; o < H; o++) {
            double gp = 0, dgp = 0, G = 0;
            for (size_t k = 0; k < C; k++) {
                gp += d[k] * c->w2[k * H + o];
                dgp += dd[k] * fabs(c->w2[k * H + o]);
                G += fabs(d[k] * c->w2[k * H + o]);
            }
            dgp += (double)(C + 1) * U * G;
            double fp = act_fprime(c->act, c->slope, h[o]);
            double dfp = kink[o] ? kink_jump : act_fprime_slope(c->act, h[o]) * dh[o];
            double g = gp * fp, dg = dgp * (fabs(fp) + dfp) + fabs(gp) * dfp + U * fabs(g);
            t.db1[o] += dg;
            mb1[o] += fabs(g);
            for (size_t j = 0; j < I; j++) {
                t.dw1[o * I + j] += dg * fabs(xp[j]);
                m1[o * I + j] += fabs(g * xp[j]);
            }
        }
    }
    for (size_t e = 0; e < H * I; e++)
        t.dw1[e] += eps_rows * m1[e];
    for (size_t o = 0; o < H; o++)
        t.db1[o] += eps_rows * mb1[o];
    for (size_t e = 0; e < C * H; e++)
        t.dw2[e] += eps_rows * m2[e];
    for (size_t k = 0; k < C; k++)
        t.db2[k] += eps_rows * mb2[k];
    t.loss += eps_rows * mloss + 2 * U * (mloss + 1.5); /* and acc's own rounding */
    free(m1);
    free(xp);
    return t;
}

/* For the report with NNCL_TEST_VERBOSE=1: the largest |got - ref| /
 * tolerance seen, and how tight the tolerance is, tolerance / |ref| counted
 * by decade (1e-8 and below, ..., 1e2 and above). */
static double worst_ratio;
static size_t decades[11];

static void check_part(const char *what, const char *part, const float *got, const float *ref,
                       const double *tol, size_t n, size_t cols)
{
    for (size_t e = 0; e < n; e++) {
        double bound = tol[e] + 2 * U * fabs(ref[e]);
        if (isnan(ref[e]) ? !isnan(got[e]) : !(fabs((double)got[e] - ref[e]) <= bound))
            ck_abort_msg("%s: %s[%zu][%zu] is %.9g, host %.9g (|diff| %.3g, tolerance %.3g)", what, part, e / cols,
                         e % cols, (double)got[e], (double)ref[e], fabs((double)got[e] - ref[e]), bound);
        double r = fabs((double)got[e] - ref[e]) / bound;
        worst_ratio = r > worst_ratio ? r : worst_ratio;
        if (ref[e] != 0) {
            double l = floor(log10(bound / fabs(ref[e]))) + 8;
            decades[l < 0 ? 0 : l > 10 ? 10 : (size_t)l]++;
        }
    }
}

static void compare(const char *what, const u8h_case *c, const u8h_out *got, const u8h_out *ref)
{
    u8h_tol t = u8h_tolerance(c);
    size_t I = c->in, H = c->hidden, C = c->classes;
    check_part(what, "dW1", got->dw1, ref->dw1, t.dw1, H * I, I);
    check_part(what, "db1", got->db1, ref->db1, t.db1, H, H);
    check_part(what, "dW2", got->dw2, ref->dw2, t.dw2, C * H, H);
    check_part(what, "db2", got->db2, ref->db2, t.db2, C, C);
    ck_assert_msg(fabs((double)got->acc[0] - ref->acc[0]) <= t.loss, "%s: loss sum %.9g, host %.9g (tolerance %.3g)",
                  what, (double)got->acc[0], (double)ref->acc[0], t.loss);
    ck_assert_msg(fabs((double)got->acc[1] - ref->acc[1]) <= (double)t.flips,
                  "%s: correct %g, host %g (%zu rows near a tie)", what, (double)got->acc[1], (double)ref->acc[1],
                  t.flips);
    tol_free(&t);
}

/* ---- every device against the host twin ------------------------------------ */

/* in, hidden, classes. The byte kernels' column blocks are 8, 16 or 32
 * wide (NNCL_U8_PARAMS, meson.build's u8-shape tests): 40 and 12 end in a
 * block of one vector for the 8- and 4-float shapes, 784 for the 16-float
 * one; the rest end in a partial vector. */
static const size_t shapes[][3] = {{1, 1, 2},   {7, 3, 5},    {784, 10, 10}, {20, 16, 16},
                                   {33, 16, 3}, {129, 5, 16}, {40, 6, 4},    {12, 3, 2}};
static const size_t row_counts[] = {1, 7, 129, 1000, 3001};
#define N_SHAPES (sizeof shapes / sizeof shapes[0])
#define N_ROWS (sizeof row_counts / sizeof row_counts[0])

static void describe(char *buf, size_t n, const char *dev, const u8h_case *c, const char *extra)
{
    snprintf(buf, n, "%s: linear_u8_head rows=%zu in=%zu hidden=%zu classes=%zu act=%d index=%s x_rows=%zu off=%zu%s",
             dev, c->rows, c->in, c->hidden, c->classes, (int)c->act, c->index ? "yes" : "no", c->x_rows, c->off,
             extra);
}

static void match_one(nncl_device *dev, nncl_device *host, const char *name, const u8h_case *c, bool standardize)
{
    char what[400];
    describe(what, sizeof what, name, c, standardize ? " standardized" : " /255");
    u8h_out got = run(dev, c), ref = run_reference(host, c);
    compare(what, c, &got, &ref);
    out_free(&got);
    out_free(&ref);
}

START_TEST(linear_u8_head_matches_host)
{
    nncl_device_list *list = test_devices();
    nncl_device *host = test_host_device();
    /* Every device against the reference, the host device (its float step,
     * last in the list) included. NNCL_REQUIRE_OPENCL=1 makes
     * test_devices() fail the test where no OpenCL device exists. */
    for (int d = 0; d < list->count; d++) {
        nncl_device *dev = test_open(d);
        uint64_t s = 0x58ead + (uint64_t)d;
        for (size_t si = 0; si < N_SHAPES; si++)
            for (size_t ri = 0; ri < N_ROWS; ri++) {
                /* (act, index) pairs follow k = si + ri: all ten appear */
                size_t k = si + ri;
                /* Small (the simulator runs a chunk's rows one by one):
                 * several chunks only for one shape */
                if (test_small() && row_counts[ri] > (si == 1 ? 1000 : 129))
                    continue;
                bool standardize = (si + ri / 2) % 2;
                u8h_case c;
                make_case(&c, &s, row_counts[ri], shapes[si][0], shapes[si][1], shapes[si][2], (nncl_act)(k % 5),
                          k % 2, standardize, k % 3);
                match_one(dev, host, list->items[d].name, &c, standardize);
                free_case(&c);
            }
        /* The full-batch shape, where a chunk is 656 rows (three blocks);
         * and chunks of 272 rows (two blocks) through the lane-by-lane
         * weight-gradient path (33 inputs) and a second block of units
         * (16 hidden). */
        if (test_small()) {
            nncl_device_close(dev);
            continue;
        }
        u8h_case big;
        make_case(&big, &s, 41000, 784, 10, 10, NNCL_ACT_RELU, true, false, 1);
        match_one(dev, host, list->items[d].name, &big, false);
        free_case(&big);
        make_case(&big, &s, 17000, 33, 16, 3, NNCL_ACT_TANH, false, true, 2);
        match_one(dev, host, list->items[d].name, &big, true);
        free_case(&big);
        nncl_device_close(dev);
    }
    nncl_device_close(host);
    if (getenv("NNCL_TEST_VERBOSE")) {
        fprintf(stderr, "linear_u8_head_matches_host: worst |device - host| / tolerance %.3g\n"
                        "tolerance / |host| by decade from 1e-8:", worst_ratio);
        for (size_t k = 0; k < 11; k++)
            fprintf(stderr, " %zu", decades[k]);
        fprintf(stderr, "\n");
    }
}
END_TEST

/* The host step decides block by block (128 rows) whether to list a
 * block's nonzero bytes (at most a third of them) or run its dense loops:
 * here the batch's first 200 rows are mostly ink, the rest as usual, so the
 * first chunk (384 rows: 5,000 make 13 chunks of three blocks) sums blocks
 * of both kinds; with an index, through the x rows those batch rows read.
 * Against the reference, as every device. */
START_TEST(linear_u8_head_host_mixes_sparse_and_dense_blocks)
{
    /* the vector loops, where the CPU would otherwise take its tiles */
    setenv("NNCL_U8H_AMX", "off", 1);
    nncl_device *host = test_host_device();
    uint64_t s = 0xb10c;
    for (int indexed = 0; indexed < 2; indexed++) {
        u8h_case c;
        make_case(&c, &s, 5000, 784, 10, 10, indexed ? NNCL_ACT_RELU : NNCL_ACT_SIGMOID, indexed, false, 1);
        for (size_t i = 0; i < 200; i++) {
            unsigned char *row = c.x + (indexed ? (size_t)c.index[i] : i) * c.in;
            for (size_t j = 0; j < c.in; j++)
                if (test_rand_float(&s, 0, 1) < 0.8f)
                    row[j] = (unsigned char)(1 + test_rand_u64(&s) % 255);
        }
        match_one(host, host, "host", &c, false);
        free_case(&c);
    }
    nncl_device_close(host);
    unsetenv("NNCL_U8H_AMX");
}
END_TEST

/* The host step's matrix path (src/ops/u8_amx_host.h, taken where the CPU
 * has AMX) walks a chunk in super-blocks of U8A_SB rows: 9,000 rows make
 * chunks of 640, a super-block of 512 and one of 128; 100 inputs end in a
 * part of a tile (kp 128); 1,030 rows of 784 are the tutorial's shape with
 * a last block of 6 rows. Both with an index, against the reference. On
 * other CPUs this runs the vector loops on the same cases. */
START_TEST(linear_u8_head_host_matrix_super_blocks)
{
    nncl_device *host = test_host_device();
    uint64_t s = 0x5b;
    u8h_case c;
    make_case(&c, &s, 9000, 100, 16, 3, NNCL_ACT_TANH, true, false, 1);
    match_one(host, host, "host", &c, false);
    free_case(&c);
    make_case(&c, &s, 1030, 784, 10, 10, NNCL_ACT_RELU, true, false, 0);
    match_one(host, host, "host", &c, false);
    free_case(&c);
    nncl_device_close(host);
}
END_TEST

/* ---- the host twin against the composed host ops ---------------------------- */

static void check_tight(const char *what, const char *part, const float *got, const float *ref, size_t n)
{
    float m = 0;
    for (size_t i = 0; i < n; i++)
        m = fabsf(ref[i]) > m ? fabsf(ref[i]) : m;
    for (size_t i = 0; i < n; i++)
        if (!test_close(got[i], ref[i], 1e-6f * m, 1e-6f))
            ck_abort_msg("%s: %s[%zu] is %.9g, composed ops %.9g", what, part, i, (double)got[i], (double)ref[i]);
}

/* linear_u8_fwd (the hidden layer) -> head_xent (dW2, db2, acc, da = g,
 * da_sum = db1) -> linear_u8_wgrad (dW1 from g), all on the host. */
static u8h_out compose(nncl_device *h, const u8h_case *c)
{
    size_t R = c->rows, I = c->in, H = c->hidden, C = c->classes;
    u8h_bufs b;
    setup(h, c, &b);
    const nncl_linear_u8_head_args *a = &b.args;
    nncl_buffer *y = test_poisoned(h, R * H), *g = test_poisoned(h, R * H);
    nncl_buffer *hs = test_poisoned(h, nncl_head_xent_scratch_len(R, H, C));
    nncl_linear_u8_fwd_args fwd = {.x = a->x, .index = a->index, .x_rows = a->x_rows, .shift = a->shift,
                                   .scale = a->scale, .w = a->w1, .b = a->b1, .y = nncl_view_of(y, 0), .rows = R,
                                   .in = I, .out = H, .ldy = H, .act = c->act, .act_param = c->slope};
    /* the double twin, not the host device's float forward */
    ck_assert_ok(nncl_host_linear_u8_fwd_reference(h, &fwd));
    nncl_head_xent_args head = {.a = nncl_view_of(y, 0), .w = a->w2, .b = a->b2, .labels = a->labels,
                                .dw = a->dw2, .db = a->db2, .da = nncl_view_of(g, 0), .da_sum = a->db1,
                                .acc = a->acc, .scratch = nncl_view_of(hs, 0), .rows = R, .in = H, .classes = C,
                                .act = c->act, .act_param = c->slope, .grad_scale = a->grad_scale};
    ck_assert_ok(nncl_head_xent(h, &head));
    nncl_linear_u8_wgrad_args wg = {.x = a->x, .index = a->index, .x_rows = a->x_rows, .shift = a->shift,
                                    .scale = a->scale, .g = nncl_view_of(g, 0), .dw = a->dw1, .rows = R, .in = I,
                                    .out = H, .ldg = H};
    ck_assert_ok(nncl_host_linear_u8_wgrad_reference(h, &wg));
    u8h_out o = fetch(c, &b);
    nncl_buffer_free(y);
    nncl_buffer_free(g);
    nncl_buffer_free(hs);
    teardown(&b);
    return o;
}

START_TEST(linear_u8_head_host_matches_composition)
{
    nncl_device *h = test_host_device();
    uint64_t s = 0xc0c0;
    static const size_t rows[] = {1, 257, 1000};
    for (size_t si = 0; si < N_SHAPES; si++)
        for (size_t ri = 0; ri < 3; ri++) {
            size_t k = si + ri;
            u8h_case c;
            make_case(&c, &s, rows[ri], shapes[si][0], shapes[si][1], shapes[si][2], (nncl_act)(k % 5), k % 2,
                      (k / 2) % 2 == 0, k % 3);
            u8h_out twin = run_reference(h, &c), comp = compose(h, &c);
            char what[400];
            describe(what, sizeof what, "host", &c, ": twin vs composed ops");
            check_tight(what, "dW1", twin.dw1, comp.dw1, c.hidden * c.in);
            check_tight(what, "db1", twin.db1, comp.db1, c.hidden);
            check_tight(what, "dW2", twin.dw2, comp.dw2, c.classes * c.hidden);
            check_tight(what, "db2", twin.db2, comp.db2, c.classes);
            ck_assert_msg(test_close(twin.acc[0], comp.acc[0], 1e-6f, 1e-6f), "%s: loss %.9g, composed %.9g", what,
                          (double)twin.acc[0], (double)comp.acc[0]);
            ck_assert_msg(twin.acc[1] == comp.acc[1], "%s: correct %g, composed %g", what, (double)twin.acc[1],
                          (double)comp.acc[1]);
            out_free(&twin);
            out_free(&comp);
            free_case(&c);
        }
    nncl_device_close(h);
}
END_TEST

/* ---- gradients by central differences, in double ---------------------------- */

enum { FR = 6, FI = 5, FH = 4, FC = 3 }; /* rows, in, hidden, classes of the checks */

typedef struct fd_params {
    double w1[FH * FI], b1[FH], w2[FC * FH], b2[FC];
} fd_params;

/* The mean loss from the definition, in double, with x' in float as the op
 * computes it. */
static double fd_loss(const u8h_case *c, const fd_params *p)
{
    double total = 0;
    for (size_t i = 0; i < FR; i++) {
        const unsigned char *xr = row_of(c, i);
        double h[FH], z[FC], m = -INFINITY, se = 0;
        for (size_t o = 0; o < FH; o++) {
            double s = p->b1[o];
            for (size_t j = 0; j < FI; j++)
                s += (double)xprime(c, xr, j) * p->w1[o * FI + j];
            h[o] = act_f(c->act, c->slope, s);
        }
        for (size_t k = 0; k < FC; k++) {
            z[k] = p->b2[k];
            for (size_t o = 0; o < FH; o++)
                z[k] += h[o] * p->w2[k * FH + o];
            m = z[k] > m ? z[k] : m;
        }
        for (size_t k = 0; k < FC; k++)
            se += exp(z[k] - m);
        total += log(se) + m - z[c->labels[i]];
    }
    return total / FR;
}

static void check_fd(const u8h_case *c, fd_params *p, double *v, const float *analytic, size_t n, const char *name)
{
    const double step = 1e-6;
    for (size_t i = 0; i < n; i++) {
        double keep = v[i];
        v[i] = keep + step;
        double up = fd_loss(c, p);
        v[i] = keep - step;
        double down = fd_loss(c, p);
        v[i] = keep;
        double fd = (up - down) / (2 * step);
        ck_assert_msg(fabs(analytic[i] - fd) <= 1e-6 + 1e-4 * fabs(fd), "act %d: %s[%zu] is %.9g, differences %.9g",
                      (int)c->act, name, i, (double)analytic[i], fd);
    }
}

/* The smallest |pre-activation| of the case: relu's kink must be further
 * from every row than the step of the differences. */
static double min_abs_preact(const u8h_case *c)
{
    double m = INFINITY;
    for (size_t i = 0; i < FR; i++)
        for (size_t o = 0; o < FH; o++) {
            double s = c->b1[o];
            for (size_t j = 0; j < FI; j++)
                s += (double)xprime(c, row_of(c, i), j) * c->w1[o * FI + j];
            m = fabs(s) < m ? fabs(s) : m;
        }
    return m;
}

START_TEST(linear_u8_head_gradients_by_finite_differences)
{
    nncl_device *h = test_host_device();
    uint64_t s = 0xfd;
    for (int act = 0; act < 5; act++) {
        u8h_case c;
        make_case(&c, &s, FR, FI, FH, FC, (nncl_act)act, true, true, 0);
        /* weights of the size of a trained layer's, so that f is not linear */
        for (size_t e = 0; e < FH * FI; e++)
            c.w1[e] = test_rand_float(&s, -0.5f, 0.5f);
        for (int tries = 0; min_abs_preact(&c) < 0.05; tries++) {
            ck_assert_int_lt(tries, 1000);
            c.b1[tries % FH] += 0.037f;
        }
        u8h_out g = run(h, &c);
        fd_params p;
        for (size_t e = 0; e < FH * FI; e++)
            p.w1[e] = c.w1[e];
        for (size_t e = 0; e < FH; e++)
            p.b1[e] = c.b1[e];
        for (size_t e = 0; e < FC * FH; e++)
            p.w2[e] = c.w2[e];
        for (size_t e = 0; e < FC; e++)
            p.b2[e] = c.b2[e];
        double loss = fd_loss(&c, &p);
        ck_assert_msg(fabs(g.acc[0] / FR - loss) <= 1e-6 * (1 + fabs(loss)), "act %d: loss %.9g, double %.9g", act,
                      (double)g.acc[0] / FR, loss);
        check_fd(&c, &p, p.w1, g.dw1, FH * FI, "dW1");
        check_fd(&c, &p, p.b1, g.db1, FH, "db1");
        check_fd(&c, &p, p.w2, g.dw2, FC * FH, "dW2");
        check_fd(&c, &p, p.b2, g.db2, FC, "db2");
        out_free(&g);
        free_case(&c);
    }
    nncl_device_close(h);
}
END_TEST

/* ---- NaN: labels and indices out of range ---------------------------------- */

static void assert_all_nan(const char *what, const char *part, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(isnan(x[i]), "%s: %s[%zu] is %g, not NaN", what, part, i, (double)x[i]);
}

static void assert_outputs_nan(const char *what, const u8h_case *c, const u8h_out *o)
{
    ck_assert_msg(isnan(o->acc[0]), "%s: the loss is %g, not NaN", what, (double)o->acc[0]);
    assert_all_nan(what, "dW1", o->dw1, c->hidden * c->in);
    assert_all_nan(what, "db1", o->db1, c->hidden);
    assert_all_nan(what, "dW2", o->dw2, c->classes * c->hidden);
    assert_all_nan(what, "db2", o->db2, c->classes);
}

/* A row whose largest logit leads the next by more than 0.1, so that every
 * device predicts its class: the bad label goes there. */
static size_t confident_row(u8h_case *c, size_t *pred)
{
    for (size_t i = 0; i < c->rows; i++) {
        double h[M], best = -INFINITY, second = -INFINITY;
        size_t arg = 0;
        for (size_t o = 0; o < c->hidden; o++) {
            double s = c->b1[o];
            for (size_t j = 0; j < c->in; j++)
                s += (double)xprime(c, row_of(c, i), j) * c->w1[o * c->in + j];
            h[o] = act_f(c->act, c->slope, s);
        }
        for (size_t k = 0; k < c->classes; k++) {
            double z = c->b2[k];
            for (size_t o = 0; o < c->hidden; o++)
                z += h[o] * c->w2[k * c->hidden + o];
            if (z > best) {
                second = best;
                best = z;
                arg = k;
            } else if (z > second) {
                second = z;
            }
        }
        if (best - second > 0.1) {
            *pred = arg;
            return i;
        }
    }
    ck_abort_msg("no confident row");
    return 0;
}

START_TEST(linear_u8_head_propagates_nan_and_bad_labels)
{
    nncl_device_list *list = test_devices();
    for (int d = 0; d < list->count; d++) {
        nncl_device *dev = test_open(d);
        bool host = list->items[d].backend == NNCL_BACKEND_HOST;
        uint64_t s = 0xbad + (uint64_t)d;
        u8h_case c;
        make_case(&c, &s, 300, 50, 10, 10, NNCL_ACT_RELU, true, true, 1);
        size_t pred, r = confident_row(&c, &pred);
        c.labels[r] = (int32_t)pred;
        u8h_out good = run(dev, &c);
        char what[400];
        for (int kind = 0; kind < 2; kind++) {
            c.labels[r] = kind == 0 ? -1 : (int32_t)c.classes;
            snprintf(what, sizeof what, "%s: linear_u8_head with label[%zu] = %d", list->items[d].name, r,
                     (int)c.labels[r]);
            u8h_out bad = run(dev, &c);
            assert_outputs_nan(what, &c, &bad);
            /* the row was correct with its own label: now it is not */
            ck_assert_msg(bad.acc[1] == good.acc[1] - 1, "%s: correct %g, %g with a good label", what,
                          (double)bad.acc[1], (double)good.acc[1]);
            out_free(&bad);
        }
        c.labels[r] = (int32_t)pred;
        for (int kind = 0; kind < 2; kind++) {
            int32_t keep = c.index[7];
            c.index[7] = kind == 0 ? -1 : (int32_t)c.x_rows;
            snprintf(what, sizeof what, "%s: linear_u8_head with index[7] = %d", list->items[d].name,
                     (int)c.index[7]);
            u8h_out bad;
            nncl_status st = run_status(dev, &c, &bad);
            if (host) {
                /* host buffers can be read: the check refuses the call */
                ck_assert_msg(st == NNCL_E_INVALID, "%s: status %s", what, nncl_status_name(st));
                char want[64];
                snprintf(want, sizeof want, "linear_u8_head: index[7] = %d", (int)c.index[7]);
                ck_assert_msg(strstr(nncl_last_error(), want), "%s: message '%s'", what, nncl_last_error());
                ck_assert_msg(bad.acc[0] == 0 && bad.acc[1] == 0, "%s: acc changed by a refused call", what);
            } else {
                ck_assert_msg(st == NNCL_OK, "%s: %s: %s", what, nncl_status_name(st), nncl_last_error());
                assert_outputs_nan(what, &c, &bad);
            }
            out_free(&bad);
            c.index[7] = keep;
        }
        out_free(&good);
        free_case(&c);
        nncl_device_close(dev);
    }
}
END_TEST

/* A NaN logit counts as the maximum, the first one as in head_xent: with
 * W2's row 3 NaN every row's logit 3 is NaN, so every row predicts class 3
 * and the correct count is the rows labelled 3; the loss is NaN. Each row
 * is a vector lane on the host (u8_head_host_kernels.inc), so rows in every
 * lane of a partial last block are covered by 300 rows. */
START_TEST(linear_u8_head_takes_nan_logit_as_maximum)
{
    nncl_device_list *list = test_devices();
    for (int d = 0; d < list->count; d++) {
        nncl_device *dev = test_open(d);
        uint64_t s = 0x3a3 + (uint64_t)d;
        u8h_case c;
        make_case(&c, &s, 300, 50, 10, 10, NNCL_ACT_RELU, true, true, 1);
        size_t H = c.hidden, threes = 0;
        for (size_t o = 0; o < H; o++)
            c.w2[3 * H + o] = NAN;
        for (size_t r = 0; r < c.rows; r++)
            threes += c.labels[r] == 3;
        ck_assert_msg(threes > 0 && threes < c.rows, "the case needs rows labelled 3 and others");
        u8h_out o = run(dev, &c);
        ck_assert_msg(o.acc[1] == (float)threes, "%s: correct %g, wanted the %zu rows labelled 3",
                      list->items[d].name, (double)o.acc[1], threes);
        ck_assert_msg(isnan(o.acc[0]), "%s: loss %g, wanted NaN", list->items[d].name, (double)o.acc[0]);
        out_free(&o);
        free_case(&c);
        nncl_device_close(dev);
    }
}
END_TEST

/* ---- determinism ------------------------------------------------------------ */

static bool same_bits(const u8h_case *c, const u8h_out *x, const u8h_out *y)
{
    size_t I = c->in, H = c->hidden, C = c->classes;
    return memcmp(x->dw1, y->dw1, H * I * sizeof(float)) == 0 && memcmp(x->db1, y->db1, H * sizeof(float)) == 0 &&
           memcmp(x->dw2, y->dw2, C * H * sizeof(float)) == 0 && memcmp(x->db2, y->db2, C * sizeof(float)) == 0 &&
           memcmp(x->acc, y->acc, sizeof x->acc) == 0;
}

START_TEST(linear_u8_head_is_deterministic)
{
    nncl_device_list *list = test_devices();
    for (int d = 0; d < list->count; d++) {
        nncl_device *dev = test_open(d);
        uint64_t s = 0xd37 + (uint64_t)d;
        u8h_case cases[2];
        make_case(&cases[0], &s, 3001, 784, 10, 10, NNCL_ACT_RELU, true, true, 0);
        make_case(&cases[1], &s, 3001, 33, 16, 3, NNCL_ACT_TANH, false, false, 2);
        for (int k = 0; k < 2; k++) {
            u8h_out x = run(dev, &cases[k]), y = run(dev, &cases[k]);
            ck_assert_msg(same_bits(&cases[k], &x, &y), "%s: two runs of linear_u8_head (in=%zu) gave different bits",
                          list->items[d].name, cases[k].in);
            out_free(&x);
            out_free(&y);
            free_case(&cases[k]);
        }
        nncl_device_close(dev);
    }
}
END_TEST

/* ---- a sealed x: the host keeps each row's list ------------------------------ */

/* The op `calls` times on c with x's buffer sealed, acc reset before each;
 * the outputs of the last call. On the host device a call without an index
 * after such calls have read as many rows as x holds lists every row of x
 * and keeps the lists with the buffer; the later calls read them, with an
 * index or without. */
static u8h_out run_sealed(nncl_device *dev, const u8h_case *c, int calls)
{
    u8h_bufs b;
    setup(dev, c, &b);
    ck_assert_ok(nncl_buffer_seal(b.all[0]));
    const float acc0[2] = {1.5f, 2.0f};
    if (c->index) {
        /* only calls without an index make the lists (x_rows <= 2 rows
         * here: the third makes them); the indexed ones below read them */
        nncl_linear_u8_head_args in_order = b.args;
        in_order.index = (nncl_view){0};
        in_order.rows = c->rows < c->x_rows ? c->rows : c->x_rows;
        for (int k = 0; k < 3; k++)
            ck_assert_ok(nncl_linear_u8_head(dev, &in_order));
    }
    for (int k = 0; k < calls; k++) {
        ck_assert_ok(nncl_buffer_write(b.all[13], c->off * sizeof(float), acc0, sizeof acc0));
        ck_assert_ok(nncl_linear_u8_head(dev, &b.args));
    }
    u8h_out o = fetch(c, &b);
    teardown(&b);
    return o;
}

/* NNCL_U8H_HOST=name, or unset for NULL (the widest loops the CPU has) */
static void set_loops(const char *name)
{
    if (name)
        setenv("NNCL_U8H_HOST", name, 1);
    else
        unsetenv("NNCL_U8H_HOST");
}

/* A sealed x's kept lists give the bits of listing each block as it comes
 * (the same entries in the same order, the same choice of path per block),
 * on the call that makes them and the later ones (run_sealed), for every
 * set of loops the host has (their
 * entries differ: the kept ones are replaced when the loops change): blocks
 * of both kinds through an index with repeats, a view that starts one byte
 * into its buffer, 37 inputs (a vector tail), a last short block, and bytes
 * too dense to list (none kept). */
START_TEST(linear_u8_head_host_sealed_x_keeps_its_lists)
{
    setenv("NNCL_U8H_AMX", "off", 1);
    nncl_device *host = test_host_device();
    uint64_t s = 0x5ea1;
    u8h_case cases[4];
    make_case(&cases[0], &s, 1500, 784, 10, 10, NNCL_ACT_RELU, true, false, 1);
    for (size_t i = 0; i < 200; i++) { /* the batch's first rows mostly ink: dense blocks */
        unsigned char *row = cases[0].x + (size_t)cases[0].index[i] * cases[0].in;
        for (size_t j = 0; j < cases[0].in; j++)
            if (test_rand_float(&s, 0, 1) < 0.8f)
                row[j] = (unsigned char)(1 + test_rand_u64(&s) % 255);
    }
    make_case(&cases[1], &s, 700, 37, 16, 3, NNCL_ACT_TANH, false, false, 0);
    make_case(&cases[2], &s, 130, 784, 10, 10, NNCL_ACT_SIGMOID, false, false, 3);
    make_case(&cases[3], &s, 260, 50, 4, 5, NNCL_ACT_RELU, true, false, 0);
    for (size_t i = 0; i < cases[3].x_rows * cases[3].in; i++)
        cases[3].x[i] = (unsigned char)(1 + i % 200);
    const char *loops[] = {"generic", "avx2", NULL};
    for (int l = 0; l < 3; l++) {
        set_loops(loops[l]);
        for (int k = 0; k < 4; k++) {
            u8h_out open = run(host, &cases[k]), first = run_sealed(host, &cases[k], 3),
                    later = run_sealed(host, &cases[k], 5);
            ck_assert_msg(same_bits(&cases[k], &open, &first) && same_bits(&cases[k], &open, &later),
                          "case %d (in=%zu, rows=%zu), %s loops: a sealed x gave other bits than an open one", k,
                          cases[k].in, cases[k].rows, loops[l] ? loops[l] : "the widest");
            out_free(&open);
            out_free(&first);
            out_free(&later);
        }
    }
    unsetenv("NNCL_U8H_HOST");
    /* one sealed buffer under three sets of loops in turn: its lists are
     * replaced (from the second call on, every call makes them), never
     * read in another form */
    u8h_bufs b;
    setup(host, &cases[1], &b);
    ck_assert_ok(nncl_buffer_seal(b.all[0]));
    u8h_out want[3];
    for (int l = 0; l < 3; l++) {
        set_loops(loops[l]);
        want[l] = run(host, &cases[1]);
    }
    for (int k = 0; k < 6; k++) {
        set_loops(loops[k % 3]);
        const float acc0[2] = {1.5f, 2.0f};
        ck_assert_ok(nncl_buffer_write(b.all[13], cases[1].off * sizeof(float), acc0, sizeof acc0));
        ck_assert_ok(nncl_linear_u8_head(host, &b.args));
        u8h_out got = fetch(&cases[1], &b);
        ck_assert_msg(same_bits(&cases[1], &got, &want[k % 3]), "call %d: kept lists of other loops were read", k);
        out_free(&got);
    }
    teardown(&b);
    for (int l = 0; l < 3; l++)
        out_free(&want[l]);
    unsetenv("NNCL_U8H_HOST");
    for (int k = 0; k < 4; k++)
        free_case(&cases[k]);
    nncl_device_close(host);
    unsetenv("NNCL_U8H_AMX");
}
END_TEST

/* ---- refusals ----------------------------------------------------------------- */

static void expect_refusal(nncl_device *dev, const nncl_linear_u8_head_args *a, nncl_status want, const char *why,
                           const char *msg)
{
    nncl_status st = nncl_linear_u8_head(dev, a);
    ck_assert_msg(st == want, "%s: status %s, wanted %s", why, nncl_status_name(st), nncl_status_name(want));
    ck_assert_msg(strstr(nncl_last_error(), msg), "%s: message '%s' does not name '%s'", why, nncl_last_error(),
                  msg);
}

START_TEST(linear_u8_head_refuses_bad_arguments)
{
    nncl_device_list *list = test_devices();
    for (int d = 0; d < list->count; d++) {
        nncl_device *dev = test_open(d);
        uint64_t s = 0x4ef + (uint64_t)d;
        u8h_case c;
        make_case(&c, &s, 10, 10, 10, 10, NNCL_ACT_RELU, true, false, 1);
        u8h_bufs b;
        setup(dev, &c, &b);
        const nncl_linear_u8_head_args a = b.args;
        ck_assert_ok(nncl_linear_u8_head(dev, &a));
        float acc_once[2];
        ck_assert_ok(nncl_buffer_read(b.all[13], c.off * sizeof(float), acc_once, sizeof acc_once));
        const char *op = "linear_u8_head";
        nncl_linear_u8_head_args bad = a;
        bad.hidden = 0;
        expect_refusal(dev, &bad, NNCL_E_INVALID, "hidden 0", op);
        bad = a;
        bad.hidden = 17;
        expect_refusal(dev, &bad, NNCL_E_UNSUPPORTED, "hidden 17", "at most 16");
        bad = a;
        bad.classes = 0;
        expect_refusal(dev, &bad, NNCL_E_INVALID, "classes 0", op);
        bad = a;
        bad.classes = 17;
        expect_refusal(dev, &bad, NNCL_E_UNSUPPORTED, "classes 17", "at most 16");
        bad = a;
        bad.rows = 0;
        expect_refusal(dev, &bad, NNCL_E_INVALID, "rows 0", op);
        bad = a;
        bad.in = (size_t)INT32_MAX / 8;
        expect_refusal(dev, &bad, NNCL_E_UNSUPPORTED, "in 2^28", op);
        bad = a;
        bad.act = (nncl_act)9;
        expect_refusal(dev, &bad, NNCL_E_INVALID, "activation 9", "linear_u8_head: unknown activation");
        bad = a;
        bad.act = NNCL_ACT_LEAKY_RELU;
        bad.act_param = 0.0f;
        expect_refusal(dev, &bad, NNCL_E_INVALID, "leaky relu slope 0", op);
        bad = a;
        bad.x_rows = c.x_rows + 100; /* more rows than x's buffer holds */
        expect_refusal(dev, &bad, NNCL_E_INVALID, "x_rows past x", "linear_u8_head: x");
        /* scratch one float short */
        size_t len = nncl_linear_u8_head_scratch_len(c.rows, c.in, c.hidden, c.classes);
        nncl_buffer *short_scratch = test_poisoned(dev, len - 1);
        bad = a;
        bad.scratch = nncl_view_of(short_scratch, 0);
        expect_refusal(dev, &bad, NNCL_E_INVALID, "scratch_len - 1", "linear_u8_head: scratch");
        bad.scratch = nncl_view_of(b.all[14], 2); /* len floats of a buffer of len + 1 at offset 2 */
        expect_refusal(dev, &bad, NNCL_E_INVALID, "scratch past its buffer", "linear_u8_head: scratch");
        nncl_buffer_free(short_scratch);
        /* each view missing in turn (the index may be missing) */
        static const struct {
            size_t off;
            const char *name;
        } views[] = {
#define VIEW(f) {offsetof(nncl_linear_u8_head_args, f), #f}
            VIEW(x), VIEW(shift), VIEW(scale), VIEW(w1), VIEW(b1),
            VIEW(w2), VIEW(b2), VIEW(labels), VIEW(dw1), VIEW(db1),
            VIEW(dw2), VIEW(db2), VIEW(acc), VIEW(scratch),
#undef VIEW
        };
        for (size_t v = 0; v < sizeof views / sizeof views[0]; v++) {
            bad = a;
            memset((char *)&bad + views[v].off, 0, sizeof(nncl_view));
            char why[64], msg[64];
            snprintf(why, sizeof why, "no %s", views[v].name);
            snprintf(msg, sizeof msg, "linear_u8_head: %s", views[v].name);
            expect_refusal(dev, &bad, NNCL_E_INVALID, why, msg);
        }
        /* refused calls leave the accumulator alone */
        float acc[2];
        ck_assert_ok(nncl_buffer_read(b.all[13], c.off * sizeof(float), acc, sizeof acc));
        ck_assert_msg(memcmp(acc, acc_once, sizeof acc) == 0, "%s: acc changed by refused calls",
                      list->items[d].name);
        teardown(&b);
        free_case(&c);
        nncl_device_close(dev);
    }
}
END_TEST

/* ---- scratch size ---------------------------------------------------------------- */

/* 0 where the op refuses the sizes; otherwise at least one chunk's sums, and
 * never more for fewer rows: a network allocates scratch once, for its
 * largest batch, and runs smaller batches (the last, partial one) in it. */

START_TEST(linear_u8_head_scratch_len)
{
    ck_assert_uint_eq(nncl_linear_u8_head_scratch_len(100, 784, 0, 10), 0);
    ck_assert_uint_eq(nncl_linear_u8_head_scratch_len(100, 784, 10, 0), 0);
    ck_assert_uint_eq(nncl_linear_u8_head_scratch_len(100, 784, 17, 10), 0);
    ck_assert_uint_eq(nncl_linear_u8_head_scratch_len(100, 784, 10, 17), 0);
    ck_assert_uint_eq(nncl_linear_u8_head_scratch_len(100, 0, 10, 10), 0);
    static const size_t dims[][3] = {{1, 1, 1}, {1, 16, 16}, {784, 10, 10}, {784, 16, 16}, {33, 16, 3}};
    for (size_t k = 0; k < sizeof dims / sizeof dims[0]; k++) {
        size_t I = dims[k][0], H = dims[k][1], C = dims[k][2];
        /* at least one chunk's sums: dW1, db1, dW2, db2, loss, correct */
        size_t sums = H * I + H + C * H + C + 2, prev = 0;
        for (size_t rows = 1; rows <= 100000; rows++) {
            size_t len = nncl_linear_u8_head_scratch_len(rows, I, H, C);
            ck_assert_msg(len >= sums, "rows=%zu in=%zu hidden=%zu classes=%zu: scratch %zu < %zu", rows, I, H, C,
                          len, sums);
            ck_assert_msg(len >= nncl_u8h_host_scratch_floats(I, H),
                          "rows=%zu in=%zu hidden=%zu: scratch %zu below the host step's %zu", rows, I, H, len,
                          nncl_u8h_host_scratch_floats(I, H));
            ck_assert_msg(len >= prev, "rows=%zu in=%zu hidden=%zu classes=%zu: scratch %zu < %zu for fewer rows",
                          rows, I, H, C, len, prev);
            prev = len;
        }
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("linear_u8_head");
    TCase *tc = tcase_create("linear_u8_head");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, linear_u8_head_scratch_len);
    tcase_add_test(tc, linear_u8_head_refuses_bad_arguments);
    tcase_add_test(tc, linear_u8_head_gradients_by_finite_differences);
    tcase_add_test(tc, linear_u8_head_host_matches_composition);
    tcase_add_test(tc, linear_u8_head_host_mixes_sparse_and_dense_blocks);
    tcase_add_test(tc, linear_u8_head_host_matrix_super_blocks);
    tcase_add_test(tc, linear_u8_head_matches_host);
    tcase_add_test(tc, linear_u8_head_propagates_nan_and_bad_labels);
    tcase_add_test(tc, linear_u8_head_takes_nan_logit_as_maximum);
    tcase_add_test(tc, linear_u8_head_is_deterministic);
    tcase_add_test(tc, linear_u8_head_host_sealed_x_keeps_its_lists);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
