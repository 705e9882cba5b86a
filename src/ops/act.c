/* act_fwd, act_bwd: elementwise activations and their backward passes,
 * y = f(x) and dx = dy * f'(y) with f' read from the forward output.
 * Kernels: cl/activation.cl. NaN propagates through both: relu(NaN) is NaN,
 * and a NaN in y or dy gives a NaN in dx. */
#include <math.h>

#include "device/opencl_impl.h"
#include "ops/op_util.h"

static nncl_status check_act(nncl_act act, float param, const char *op)
{
    switch (act) {
    case NNCL_ACT_IDENTITY:
    case NNCL_ACT_RELU:
    case NNCL_ACT_SIGMOID:
    case NNCL_ACT_TANH:
        return NNCL_OK;
    case NNCL_ACT_LEAKY_RELU:
        /* The backward pass reads the slope off the sign of y: it must be > 0. */
        if (!(param > 0.0f) || isinf(param))
            return nncl_fail(NNCL_E_INVALID, "%s: leaky relu slope %g must be positive and finite",
                             op, (double)param);
        return NNCL_OK;
    }
    return nncl_fail(NNCL_E_INVALID, "%s: unknown activation %d", op, (int)act);
}

/* ---- y = f(x): nncl_act_apply (op_util.h) ---------------------------------- */

/* f'(z) from y = f(z); a NaN y gives NaN (identity included). */
static float act_derivative(nncl_act act, float a, float y)
{
    switch (act) {
    case NNCL_ACT_RELU: return y > 0.0f ? 1.0f : (y <= 0.0f ? 0.0f : y);
    case NNCL_ACT_LEAKY_RELU: return y > 0.0f ? 1.0f : (y <= 0.0f ? a : y);
    case NNCL_ACT_SIGMOID: return y * (1.0f - y);
    case NNCL_ACT_TANH: return 1.0f - y * y;
    default: return isnan(y) ? y : 1.0f;
    }
}

nncl_status nncl_check_act_fwd(const nncl_device *dev, const nncl_act_fwd_args *a)
{
    nncl_status st = check_act(a->act, a->act_param, "act_fwd");
    if (st == NNCL_OK)
        st = nncl_view_check(dev, a->x, sizeof(float), a->n, "act_fwd: x");
    if (st == NNCL_OK)
        st = nncl_view_check(dev, a->y, sizeof(float), a->n, "act_fwd: y");
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
    nncl_status st = check_act(a->act, a->act_param, "act_bwd");
    if (st == NNCL_OK)
        st = nncl_view_check(dev, a->y, sizeof(float), a->n, "act_bwd: y");
    if (st == NNCL_OK)
        st = nncl_view_check(dev, a->dy, sizeof(float), a->n, "act_bwd: dy");
    if (st == NNCL_OK)
        st = nncl_view_check(dev, a->dx, sizeof(float), a->n, "act_bwd: dx");
    return st;
}

nncl_status nncl_host_act_bwd(nncl_device *dev, const nncl_act_bwd_args *a)
{
    (void)dev;
    const float *y = nncl_host_f32(a->y), *dy = nncl_host_f32(a->dy);
    float *dx = nncl_host_f32(a->dx);
    for (size_t i = 0; i < a->n; i++)
        dx[i] = dy[i] * act_derivative(a->act, a->act_param, y[i]);
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
