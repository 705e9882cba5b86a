/* dropout: y = x * keep / (1 - p) with keep drawn from Philox-4x32-10, keyed
 * by the seed, counted by (element / 4, step). The mask is recomputed, never
 * stored: the backward pass is the same call on dy. Kernel: cl/dropout.cl;
 * the generator is cl/philox.cl, compiled here as C too, so the host and
 * every device draw identical masks. */
#include <math.h>

#include "cl/philox.cl"
#include "device/opencl_impl.h"

/* 1 / (1 - p) in double, rounded once. */
static float keep_scale(float p) { return (float)(1.0 / (1.0 - (double)p)); }

nncl_status nncl_check_dropout(const nncl_device *dev, const nncl_dropout_args *a)
{
    if (!(a->p >= 0.0f && a->p < 1.0f))
        return nncl_fail(NNCL_E_INVALID, "dropout: p = %g must lie in [0, 1)", (double)a->p);
    nncl_status st = nncl_view_check(dev, a->x, sizeof(float), a->n, "dropout: x");
    if (st == NNCL_OK)
        st = nncl_view_check_out(dev, a->y, sizeof(float), a->n, "dropout: y");
    return st;
}

nncl_status nncl_host_dropout(nncl_device *dev, const nncl_dropout_args *a)
{
    (void)dev;
    const float *x = nncl_host_f32(a->x);
    float *y = nncl_host_f32(a->y);
    float scale = keep_scale(a->p);
    uint32_t r[4];
    for (size_t i = 0; i < a->n; i++) {
        uint64_t b = i / 4;
        if (i % 4 == 0)
            philox4x32_10((uint32_t)b, (uint32_t)(b >> 32), (uint32_t)a->step,
                          (uint32_t)(a->step >> 32), (uint32_t)a->seed, (uint32_t)(a->seed >> 32), r);
        y[i] = x[i] * (philox_uniform(r[i % 4]) >= a->p ? scale : 0.0f);
    }
    return NNCL_OK;
}

nncl_status nncl_cl_dropout(nncl_device *dev, const nncl_dropout_args *a)
{
    if (a->n == 0)
        return NNCL_OK;
    size_t global = (a->n + 3) / 4;
    return nncl_cl_launch(
        dev, "dropout", 1, &global, NULL,
        NNCL_CL_ARGS(nncl_arg_buf(a->x.buf), nncl_arg_ulong(a->x.off), nncl_arg_buf(a->y.buf),
                     nncl_arg_ulong(a->y.off), nncl_arg_ulong(a->n), nncl_arg_float(a->p),
                     nncl_arg_float(keep_scale(a->p)), nncl_arg_uint((uint32_t)a->seed),
                     nncl_arg_uint((uint32_t)(a->seed >> 32)), nncl_arg_uint((uint32_t)a->step),
                     nncl_arg_uint((uint32_t)(a->step >> 32))));
}
