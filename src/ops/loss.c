/* softmax_xent and mse: the losses, their gradients, and the sum of per-row
 * losses into acc. Kernels: cl/loss.cl (one work-item per row, then
 * loss_reduce, one work-group summing the per-row values in a fixed order).
 * The host twin sums in double, in row order: it is the oracle. */
#include <math.h>
#include <stdio.h>

#include "device/opencl_impl.h"
#include "ops/op_util.h"

/* The views every loss shares: acc float[2] and scratch float[2 * rows]. */
static nncl_status check_acc(const nncl_device *dev, nncl_view acc, nncl_view scratch, size_t rows,
                             const char *op)
{
    if (!acc.buf)
        return NNCL_OK;
    char what[64];
    snprintf(what, sizeof what, "%s: acc", op);
    nncl_status st = nncl_view_check_out(dev, acc, sizeof(float), 2, what);
    if (st != NNCL_OK)
        return st;
    size_t n = 0;
    st = nncl_size_mul(rows, 2, &n, op);
    if (st != NNCL_OK)
        return st;
    snprintf(what, sizeof what, "%s: scratch (float[2 * rows], needed with acc)", op);
    return nncl_view_check_out(dev, scratch, sizeof(float), n, what);
}

/* acc[0] += sum_r x[r], acc[1] += sum_r x[rows + r] on an OpenCL device. */
static nncl_status cl_loss_reduce(nncl_device *dev, nncl_view x, size_t rows, nncl_view acc)
{
    size_t local = nncl_reduce_group(dev), global = local;
    return nncl_cl_launch(dev, "loss_reduce", 1, &global, &local,
                          NNCL_CL_ARGS(nncl_arg_buf(x.buf), nncl_arg_ulong(x.off),
                                       nncl_arg_ulong(rows), nncl_arg_buf(acc.buf),
                                       nncl_arg_ulong(acc.off)));
}

/* ---- softmax_xent ------------------------------------------------------------ */

nncl_status nncl_check_softmax_xent(const nncl_device *dev, const nncl_softmax_xent_args *a)
{
    if (a->classes == 0)
        return nncl_fail(NNCL_E_INVALID, "softmax_xent: classes must be >= 1");
    size_t n = 0;
    nncl_status st = nncl_size_mul(a->rows, a->classes, &n, "softmax_xent");
    if (st == NNCL_OK)
        st = nncl_view_check(dev, a->z, sizeof(float), n, "softmax_xent: z");
    if (st == NNCL_OK)
        st = nncl_view_check(dev, a->labels, sizeof(int32_t), a->rows, "softmax_xent: labels");
    if (st == NNCL_OK && a->dz.buf)
        st = nncl_view_check_out(dev, a->dz, sizeof(float), n, "softmax_xent: dz");
    if (st == NNCL_OK)
        st = check_acc(dev, a->acc, a->scratch, a->rows, "softmax_xent");
    return st;
}

nncl_status nncl_host_softmax_xent(nncl_device *dev, const nncl_softmax_xent_args *a)
{
    (void)dev;
    const float *z = nncl_host_f32(a->z);
    const int32_t *labels = nncl_host_i32(a->labels);
    float *dz = a->dz.buf ? nncl_host_f32(a->dz) : NULL;
    size_t C = a->classes;
    double loss_sum = 0.0, correct_sum = 0.0;
    for (size_t r = 0; r < a->rows; r++) {
        const float *zr = z + r * C;
        int32_t t = labels[r];
        bool valid = t >= 0 && (size_t)t < C;
        float zt = valid ? zr[t] : NAN;
        /* m = max (NaN skipped: it turns s into NaN below); arg = first
         * maximum with NaN counting as maximal. */
        float m = zr[0], best = zr[0];
        size_t arg = 0;
        for (size_t j = 1; j < C; j++) {
            float v = zr[j];
            m = v > m ? v : m;
            if (!isnan(best) && (v > best || isnan(v))) {
                best = v;
                arg = j;
            }
        }
        float s = 0.0f;
        if (dz) {
            float *dr = dz + r * C;         /* holds exp(z_j - m) until s is known */
            for (size_t j = 0; j < C; j++) {
                float e = expf(zr[j] - m);
                s += e;
                dr[j] = e;
            }
            for (size_t j = 0; j < C; j++) {
                float g = dr[j] / s - (j == (size_t)t ? 1.0f : 0.0f);
                dr[j] = valid ? g * a->grad_scale : NAN;
            }
        } else {
            for (size_t j = 0; j < C; j++)
                s += expf(zr[j] - m);
        }
        loss_sum += logf(s) - (zt - m);
        correct_sum += valid && arg == (size_t)t ? 1.0 : 0.0;
    }
    if (a->acc.buf) {
        float *acc = nncl_host_f32(a->acc);
        acc[0] += (float)loss_sum;
        acc[1] += (float)correct_sum;
    }
    return NNCL_OK;
}

/* softmax_xent and mse share a kernel signature: the outputs x (rows x
 * cols), what they are scored against (labels or targets), the optional
 * gradient and the optional per-row sums, reduced into acc. */
static nncl_status cl_row_loss(nncl_device *dev, const char *kernel, nncl_view x, nncl_view against,
                               nncl_view grad, nncl_view acc, nncl_view scratch, size_t rows, size_t cols,
                               float grad_scale)
{
    if (rows == 0)
        return NNCL_OK;
    bool has_grad = grad.buf != NULL, has_acc = acc.buf != NULL;
    /* Absent views are passed as x's buffer, never touched (the flags say so). */
    nncl_view g = has_grad ? grad : x, part = has_acc ? scratch : x;
    size_t global = rows;
    nncl_status st = nncl_cl_launch(
        dev, kernel, 1, &global, NULL,
        NNCL_CL_ARGS(nncl_arg_buf(x.buf), nncl_arg_ulong(x.off), nncl_arg_buf(against.buf),
                     nncl_arg_ulong(against.off), nncl_arg_buf(g.buf), nncl_arg_ulong(g.off),
                     nncl_arg_int(has_grad), nncl_arg_buf(part.buf), nncl_arg_ulong(part.off),
                     nncl_arg_int(has_acc), nncl_arg_ulong(rows), nncl_arg_ulong(cols),
                     nncl_arg_float(grad_scale)));
    if (st == NNCL_OK && has_acc)
        st = cl_loss_reduce(dev, scratch, rows, acc);
    return st;
}

nncl_status nncl_cl_softmax_xent(nncl_device *dev, const nncl_softmax_xent_args *a)
{
    return cl_row_loss(dev, "softmax_xent", a->z, a->labels, a->dz, a->acc, a->scratch, a->rows, a->classes,
                       a->grad_scale);
}

/* ---- mse ------------------------------------------------------------------------ */

nncl_status nncl_check_mse(const nncl_device *dev, const nncl_mse_args *a)
{
    if (a->outputs == 0)
        return nncl_fail(NNCL_E_INVALID, "mse: outputs must be >= 1");
    size_t n = 0;
    nncl_status st = nncl_size_mul(a->rows, a->outputs, &n, "mse");
    if (st == NNCL_OK)
        st = nncl_view_check(dev, a->y, sizeof(float), n, "mse: y");
    if (st == NNCL_OK)
        st = nncl_view_check(dev, a->t, sizeof(float), n, "mse: t");
    if (st == NNCL_OK && a->dy.buf)
        st = nncl_view_check_out(dev, a->dy, sizeof(float), n, "mse: dy");
    if (st == NNCL_OK)
        st = check_acc(dev, a->acc, a->scratch, a->rows, "mse");
    return st;
}

nncl_status nncl_host_mse(nncl_device *dev, const nncl_mse_args *a)
{
    (void)dev;
    const float *y = nncl_host_f32(a->y), *t = nncl_host_f32(a->t);
    float *dy = a->dy.buf ? nncl_host_f32(a->dy) : NULL;
    size_t O = a->outputs;
    float k = 2.0f / (float)O;
    double loss_sum = 0.0, abs_sum = 0.0;
    for (size_t r = 0; r < a->rows; r++) {
        float sq = 0.0f, ab = 0.0f;
        for (size_t j = 0; j < O; j++) {
            float d = y[r * O + j] - t[r * O + j];
            sq += d * d;
            ab += fabsf(d);
            if (dy)
                dy[r * O + j] = d * k * a->grad_scale;
        }
        loss_sum += sq / (float)O;
        abs_sum += ab / (float)O;
    }
    if (a->acc.buf) {
        float *acc = nncl_host_f32(a->acc);
        acc[0] += (float)loss_sum;
        acc[1] += (float)abs_sum;
    }
    return NNCL_OK;
}

nncl_status nncl_cl_mse(nncl_device *dev, const nncl_mse_args *a)
{
    return cl_row_loss(dev, "mse", a->y, a->t, a->dy, a->acc, a->scratch, a->rows, a->outputs, a->grad_scale);
}
