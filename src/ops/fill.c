/* fill: y[i] = value for i < n. The trivial op that proves a device runs
 * kernels end to end. Kernel: cl/fill.cl. */
#include "device/opencl_impl.h"

nncl_status nncl_check_fill(const nncl_device *dev, const nncl_fill_args *a)
{
    return nncl_view_check_out(dev, a->y, sizeof(float), a->n, "fill: y");
}

nncl_status nncl_host_fill(nncl_device *dev, const nncl_fill_args *a)
{
    (void)dev;
    float *y = nncl_host_f32(a->y);
    for (size_t i = 0; i < a->n; i++)
        y[i] = a->value;
    return NNCL_OK;
}

nncl_status nncl_cl_fill(nncl_device *dev, const nncl_fill_args *a)
{
    if (a->n == 0)
        return NNCL_OK;
    size_t global = a->n;
    return nncl_cl_launch(dev, "fill", 1, &global, NULL,
                          NNCL_CL_ARGS(nncl_arg_buf(a->y.buf), nncl_arg_ulong(a->y.off),
                                       nncl_arg_ulong(a->n), nncl_arg_float(a->value)));
}
