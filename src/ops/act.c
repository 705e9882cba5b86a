/* act_fwd, act_bwd: elementwise activations and their backward passes,
 * y = f(x) and dx = dy * f'(y) with f' read from the forward output.
 * Kernels: cl/activation.cl. NaN propagates through both: relu(NaN) is NaN,
 * and a NaN in y or dy gives a NaN in dx. */
#include <math.h>

#include "device/opencl_impl.h"
#include "ops/op_util.h"
#include "ops/host_split.h"

/* ---- y = f(x): nncl_act_apply; f'(z) from y: nncl_act_derivative (op_util.h) ---- */

nncl_status nncl_check_act_fwd(const nncl_device *dev, const nncl_act_fwd_args *a)
{
    nncl_status st = nncl_act_check(a->act, a->act_param, "act_fwd");
    if (st == NNCL_OK)
        st = nncl_view_check(dev, a->x, sizeof(float), a->n, "act_fwd: x");
    if (st == NNCL_OK)
        st = nncl_view_check_out(dev, a->y, sizeof(float), a->n, "act_fwd: y");
    return st;
}

nncl_status nncl_host_act_fwd(nncl_device *dev, const nncl_act_fwd_args *a)
{
    (void)dev;
    const float *x = nncl_host_f32(a->x);
    float *y = nncl_host_f32(a->y);
    for (size_t i = 0; i < a->n; i++)
        y[i] = nncl_act_apply(a->act, a->act_param, x[i]);
    return NNCL_OK;
}

nncl_status nncl_cl_act_fwd(nncl_device *dev, const nncl_act_fwd_args *a)
{
    if (a->n == 0)
        return NNCL_OK;
    size_t global = a->n;
    return nncl_cl_launch(dev, "act_fwd", 1, &global, NULL,
                          NNCL_CL_ARGS(nncl_arg_buf(a->x.buf), nncl_arg_ulong(a->x.off),
                                       nncl_arg_buf(a->y.buf), nncl_arg_ulong(a->y.off),
                                       nncl_arg_ulong(a->n), nncl_arg_int((int)a->act),
                                       nncl_arg_float(a->act_param)));
}

/* ---- dx = dy * f'(y) -------------------------------------------------------- */

nncl_status nncl_check_act_bwd(const nncl_device *dev, const nncl_act_bwd_args *a)
{
    nncl_status st = nncl_act_check(a->act, a->act_param, "act_bwd");
    if (st == NNCL_OK)
        st = nncl_view_check(dev, a->y, sizeof(float), a->n, "act_bwd: y");
    if (st == NNCL_OK)
        st = nncl_view_check(dev, a->dy, sizeof(float), a->n, "act_bwd: dy");
    if (st == NNCL_OK)
        st = nncl_view_check_out(dev, a->dx, sizeof(float), a->n, "act_bwd: dx");
    return st;
}

/* ReLU's backward on the host: a part of the range per worker (nncl_host_range),
 * the derivative of nncl_act_derivative written as selects so the loop
 * vectorises. Below ACT_SPLIT_MIN floats (a few microseconds of work) the
 * split's own cost, about 1 us, is not worth it. */
enum { ACT_SPLIT_MIN = 1 << 14 };

static void relu_bwd_range(const nncl_act_bwd_args *a, size_t lo, size_t hi)
{
    const float *y = nncl_host_f32(a->y), *dy = nncl_host_f32(a->dy);
    float *dx = nncl_host_f32(a->dx);
    for (size_t i = lo; i < hi; i++) {
        float v = y[i], d = v > 0.0f ? 1.0f : (v <= 0.0f ? 0.0f : v);
        dx[i] = dy[i] * d;
    }
}

static void relu_bwd_part(void *arg, size_t lo, size_t hi) { relu_bwd_range(arg, lo, hi); }

nncl_status nncl_host_act_bwd(nncl_device *dev, const nncl_act_bwd_args *a)
{
    (void)dev;
    const float *y = nncl_host_f32(a->y), *dy = nncl_host_f32(a->dy);
    float *dx = nncl_host_f32(a->dx);
    if (a->act == NNCL_ACT_RELU && a->n >= ACT_SPLIT_MIN) {
        nncl_host_range(a->n, ACT_SPLIT_MIN / 2, relu_bwd_part, (void *)a);
        return NNCL_OK;
    }
    if (a->act == NNCL_ACT_RELU) {
        relu_bwd_range(a, 0, a->n); /* below ACT_SPLIT_MIN: on this thread */
        return NNCL_OK;
    }
    for (size_t i = 0; i < a->n; i++)
        dx[i] = dy[i] * nncl_act_derivative(a->act, a->act_param, y[i]);
    return NNCL_OK;
}

nncl_status nncl_cl_act_bwd(nncl_device *dev, const nncl_act_bwd_args *a)
{
    if (a->n == 0)
        return NNCL_OK;
    size_t global = a->n;
    return nncl_cl_launch(dev, "act_bwd", 1, &global, NULL,
                          NNCL_CL_ARGS(nncl_arg_buf(a->y.buf), nncl_arg_ulong(a->y.off),
                                       nncl_arg_buf(a->dy.buf), nncl_arg_ulong(a->dy.off),
                                       nncl_arg_buf(a->dx.buf), nncl_arg_ulong(a->dx.off),
                                       nncl_arg_ulong(a->n), nncl_arg_int((int)a->act),
                                       nncl_arg_float(a->act_param)));
}
