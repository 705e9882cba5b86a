/* head_xent: a narrow output layer with softmax cross-entropy, forward and
 * backward in one pass over the rows. Kernels: cl/head.cl (head_xent over
 * chunks of rows, then head_xent_sum adding the chunks in order). The host
 * twin is a plain loop in double, rows in order (in two halves, added at
 * the end): the oracle. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "device/opencl_impl.h"
#include "ops/host_split.h"
#include "ops/op_util.h"

/* Rows per work-item on OpenCL: enough to keep per-chunk overhead (loading
 * W, writing the sums) small, few enough that 41,000 rows give a few hundred
 * work-items. The chunking fixes the order of the sums, so it is a constant. */
enum { HEAD_CHUNK_ROWS = 256 };

static size_t head_chunks(size_t rows) { return (rows + HEAD_CHUNK_ROWS - 1) / HEAD_CHUNK_ROWS; }

/* Floats of one chunk's sums: dW, db, da_sum, loss, correct (cl/head.cl). */
static size_t head_part_len(size_t in, size_t classes) { return classes * in + classes + in + 2; }

size_t nncl_head_xent_scratch_len(size_t rows, size_t in, size_t classes)
{
    if (in == 0 || classes == 0 || in > NNCL_HEAD_MAX || classes > NNCL_HEAD_MAX)
        return 0;
    size_t chunks = head_chunks(rows ? rows : 1);
    return chunks * head_part_len(in, classes);
}

nncl_status nncl_check_head_xent(const nncl_device *dev, const nncl_head_xent_args *a)
{
    if (a->rows == 0 || a->in == 0 || a->classes == 0)
        return nncl_fail(NNCL_E_INVALID, "head_xent: rows, in and classes must be >= 1 (got %zu, %zu, %zu)",
                         a->rows, a->in, a->classes);
    if (a->in > NNCL_HEAD_MAX || a->classes > NNCL_HEAD_MAX)
        return nncl_fail(NNCL_E_UNSUPPORTED, "head_xent: in (%zu) and classes (%zu) must be at most %d", a->in,
                         a->classes, NNCL_HEAD_MAX);
    if (a->rows > INT32_MAX / NNCL_HEAD_MAX)
        return nncl_fail(NNCL_E_UNSUPPORTED, "head_xent: %zu rows is too many", a->rows);
    nncl_status st = nncl_act_check(a->act, a->act_param, "head_xent");
    size_t n = a->rows * a->in, nw = a->classes * a->in;
    if (st == NNCL_OK)
        st = nncl_view_check(dev, a->a, sizeof(float), n, "head_xent: a");
    if (st == NNCL_OK)
        st = nncl_view_check(dev, a->w, sizeof(float), nw, "head_xent: w");
    if (st == NNCL_OK)
        st = nncl_view_check(dev, a->b, sizeof(float), a->classes, "head_xent: b");
    if (st == NNCL_OK)
        st = nncl_view_check(dev, a->labels, sizeof(int32_t), a->rows, "head_xent: labels");
    if (st == NNCL_OK)
        st = nncl_view_check_out(dev, a->dw, sizeof(float), nw, "head_xent: dw");
    if (st == NNCL_OK)
        st = nncl_view_check_out(dev, a->db, sizeof(float), a->classes, "head_xent: db");
    if (st == NNCL_OK && a->da.buf)
        st = nncl_view_check_out(dev, a->da, sizeof(float), n, "head_xent: da");
    if (st == NNCL_OK && a->da_sum.buf && !a->da.buf)
        st = nncl_fail(NNCL_E_INVALID, "head_xent: da_sum needs da");
    if (st == NNCL_OK && a->da_sum.buf)
        st = nncl_view_check_out(dev, a->da_sum, sizeof(float), a->in, "head_xent: da_sum");
    if (st == NNCL_OK)
        st = nncl_view_check_out(dev, a->acc, sizeof(float), 2, "head_xent: acc");
    if (st == NNCL_OK)
        st = nncl_view_check_out(dev, a->scratch, sizeof(float),
                             nncl_head_xent_scratch_len(a->rows, a->in, a->classes),
                             "head_xent: scratch (float[nncl_head_xent_scratch_len(rows, in, classes)])");
    return st;
}

void nncl_host_head_row(const float *x, size_t in, size_t classes, const float *W, const float *b, int32_t t,
                        float grad_scale, nncl_act act, float act_param, double *dz, float *g, double *loss,
                        double *correct)
{
    /* z[c] = b[c] + x[0] W[c,0] + x[1] W[c,1] + ..., added in that order.
     * With j outside and the classes inside, the classes' sums run side by
     * side (the same additions in the same order: the same bits); one class
     * at a time made each a chain of dependent adds, most of the host's
     * head time at the tutorial's 41,000 rows. */
    double z[NNCL_HEAD_MAX] = {0}; /* classes >= 1 (checked); zeroed for the compiler */
    for (size_t c = 0; c < classes; c++)
        z[c] = b[c];
    for (size_t j = 0; j < in; j++) {
        double xj = x[j];
        for (size_t c = 0; c < classes; c++)
            z[c] += xj * W[c * in + j];
    }
    /* softmax_xent's row: m skips NaN (the sum turns NaN instead); the
     * predicted class is the first maximum, NaN counting as maximal. */
    bool valid = t >= 0 && (size_t)t < classes;
    double m = z[0], best = z[0];
    size_t arg = 0;
    for (size_t c = 1; c < classes; c++) {
        m = z[c] > m ? z[c] : m;
        if (!isnan(best) && (z[c] > best || isnan(z[c]))) {
            best = z[c];
            arg = c;
        }
    }
    double e[NNCL_HEAD_MAX], s = 0.0;
    for (size_t c = 0; c < classes; c++) {
        e[c] = exp(z[c] - m);
        s += e[c];
    }
    *loss += valid ? log(s) - (z[t] - m) : NAN;
    *correct += valid && arg == (size_t)t ? 1.0 : 0.0;
    for (size_t c = 0; c < classes; c++)
        dz[c] = valid ? (e[c] / s - (c == (size_t)t ? 1.0 : 0.0)) * grad_scale : NAN;
    if (!g)
        return;
    /* g[j] = f'(x[j]) (dz[0] W[0,j] + dz[1] W[1,j] + ...), in that order, the
     * j side by side as above */
    double gj[NNCL_HEAD_MAX] = {0};
    for (size_t c = 0; c < classes; c++)
        for (size_t j = 0; j < in; j++)
            gj[j] += dz[c] * W[c * in + j];
    for (size_t j = 0; j < in; j++)
        g[j] = (float)gj[j] * nncl_act_derivative(act, act_param, x[j]);
}

/* The sums of one half of the rows, in double, rows in order. */
typedef struct head_half {
    const nncl_head_xent_args *a;
    double dw[2][NNCL_HEAD_MAX * NNCL_HEAD_MAX], db[2][NNCL_HEAD_MAX], da_sum[2][NNCL_HEAD_MAX];
    double loss[2], correct[2];
} head_half;

static void host_head_part(void *arg, int part)
{
    head_half *h = arg;
    const nncl_head_xent_args *a = h->a;
    const size_t I = a->in, C = a->classes;
    const float *x = nncl_host_f32(a->a), *W = nncl_host_f32(a->w), *b = nncl_host_f32(a->b);
    const int32_t *labels = nncl_host_i32(a->labels);
    float *da = a->da.buf ? nncl_host_f32(a->da) : NULL;
    double *dw = h->dw[part], *db = h->db[part], *da_sum = h->da_sum[part], loss = 0, correct = 0;
    size_t lo, hi;
    nncl_host_half(a->rows, part, &lo, &hi);
    for (size_t r = lo; r < hi; r++) {
        const float *xr = x + r * I;
        double dz[NNCL_HEAD_MAX];
        nncl_host_head_row(xr, I, C, W, b, labels[r], a->grad_scale, a->act, a->act_param, dz,
                           da ? da + r * I : NULL, &loss, &correct);
        for (size_t c = 0; c < C; c++) {
            db[c] += dz[c];
            for (size_t j = 0; j < I; j++)
                dw[c * I + j] += dz[c] * xr[j];
        }
        for (size_t j = 0; da && j < I; j++)
            da_sum[j] += da[r * I + j];
    }
    /* Stored once: the two halves' running sums in one cache line would
     * have the cores fighting over it every row. */
    h->loss[part] = loss;
    h->correct[part] = correct;
}

/* The rows in two halves, one per core (the tutorial's 41,000-row batch
 * spent a quarter of its host step here on one core), each summed in
 * double in row order, then half 0 + half 1: the same order on any number
 * of cores. */
enum { HOST_HEAD_SPLIT_MIN = 4096 };

nncl_status nncl_host_head_xent(nncl_device *dev, const nncl_head_xent_args *a)
{
    (void)dev;
    const size_t I = a->in, C = a->classes;
    head_half sums = {.a = a}; /* 4.6 KB: on the stack, not allocated every step */
    head_half *h = &sums;
    if (a->rows >= HOST_HEAD_SPLIT_MIN) {
        nncl_host_split2(host_head_part, h);
    } else {
        host_head_part(h, 0);
        host_head_part(h, 1);
    }
    float *dwo = nncl_host_f32(a->dw), *dbo = nncl_host_f32(a->db), *acc = nncl_host_f32(a->acc);
    for (size_t e = 0; e < C * I; e++)
        dwo[e] = (float)(h->dw[0][e] + h->dw[1][e]);
    for (size_t c = 0; c < C; c++)
        dbo[c] = (float)(h->db[0][c] + h->db[1][c]);
    if (a->da_sum.buf)
        for (size_t j = 0; j < I; j++)
            nncl_host_f32(a->da_sum)[j] = (float)(h->da_sum[0][j] + h->da_sum[1][j]);
    acc[0] += (float)(h->loss[0] + h->loss[1]);
    acc[1] += (float)(h->correct[0] + h->correct[1]);
    return NNCL_OK;
}

nncl_status nncl_cl_head_xent(nncl_device *dev, const nncl_head_xent_args *a)
{
    size_t chunks = head_chunks(a->rows);
    bool has_da = a->da.buf != NULL;
    nncl_view da = has_da ? a->da : a->a;       /* never written without has_da */
    /* A CPU runs a work-group on one core: one chunk per group spreads a few
     * hundred chunks evenly over the cores (groups of 64 left some idle). */
    size_t one = 1;
    const size_t *local = dev->info.type == NNCL_DEVICE_CPU ? &one : NULL;
    nncl_status st = nncl_cl_launch(
        dev, "head_xent", 1, &chunks, local,
        NNCL_CL_ARGS(nncl_arg_int((int)a->rows), nncl_arg_int((int)a->in), nncl_arg_int((int)a->classes),
                     nncl_arg_buf(a->a.buf), nncl_arg_ulong(a->a.off), nncl_arg_buf(a->w.buf),
                     nncl_arg_ulong(a->w.off), nncl_arg_buf(a->b.buf), nncl_arg_ulong(a->b.off),
                     nncl_arg_buf(a->labels.buf), nncl_arg_ulong(a->labels.off), nncl_arg_buf(da.buf),
                     nncl_arg_ulong(da.off), nncl_arg_int(has_da), nncl_arg_buf(a->scratch.buf),
                     nncl_arg_ulong(a->scratch.off), nncl_arg_int(HEAD_CHUNK_ROWS), nncl_arg_int((int)a->act),
                     nncl_arg_float(a->act_param), nncl_arg_float(a->grad_scale)));
    if (st != NNCL_OK)
        return st;
    size_t P = head_part_len(a->in, a->classes);
    bool has_da_sum = a->da_sum.buf != NULL;
    nncl_view da_sum = has_da_sum ? a->da_sum : a->db;      /* never written without has_da_sum */
    return nncl_cl_launch(dev, "head_xent_sum", 1, &P, NULL,
                          NNCL_CL_ARGS(nncl_arg_buf(a->scratch.buf), nncl_arg_ulong(a->scratch.off),
                                       nncl_arg_int((int)chunks), nncl_arg_int((int)a->in),
                                       nncl_arg_int((int)a->classes), nncl_arg_buf(a->dw.buf),
                                       nncl_arg_ulong(a->dw.off), nncl_arg_buf(a->db.buf),
                                       nncl_arg_ulong(a->db.off), nncl_arg_buf(da_sum.buf),
                                       nncl_arg_ulong(da_sum.off), nncl_arg_int(has_da_sum),
                                       nncl_arg_buf(a->acc.buf), nncl_arg_ulong(a->acc.off)));
}
