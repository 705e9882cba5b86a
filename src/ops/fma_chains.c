/* fma_chains: the kernel of the FP32 multiply-add peak (nncl_device_fma_peak
 * times it on OpenCL devices). Kernel: cl/fma_chains.cl; the math is stated
 * there and in include/nncl/ops.h. */
#include <math.h>

#include "device/opencl_impl.h"

nncl_status nncl_check_fma_chains(const nncl_device *dev, const nncl_fma_chains_args *a)
{
    if (a->iters < 0)
        return nncl_fail(NNCL_E_INVALID, "fma_chains: iters %d (expected >= 0)", a->iters);
    if (!(fabsf(a->m) < 1) || !isfinite(a->c))
        return nncl_fail(NNCL_E_INVALID, "fma_chains: m %g, c %g (expected |m| < 1 and a finite c: bounded chains)",
                         (double)a->m, (double)a->c);
    return nncl_view_check_out(dev, a->out, sizeof(float), a->n, "fma_chains: out");
}

nncl_status nncl_host_fma_chains(nncl_device *dev, const nncl_fma_chains_args *a)
{
    (void)dev;
    float *out = nncl_host_f32(a->out);
    for (size_t i = 0; i < a->n; i++) {
        const float base = 1.0f + (float)(16 * (unsigned)(i % 4096)) * 0x1p-20f;
        float ch[16];
        for (int j = 0; j < 16; j++)
            ch[j] = base + (float)j * 0x1p-20f;
        for (int t = 0; t < a->iters; t++)
            for (int j = 0; j < 16; j++)
                ch[j] = fmaf(ch[j], a->m, a->c);
        float s = ch[0];
        for (int j = 1; j < 16; j++)
            s += ch[j];
        out[i] = s;
    }
    return NNCL_OK;
}

nncl_status nncl_cl_fma_chains(nncl_device *dev, const nncl_fma_chains_args *a)
{
    if (a->n == 0)
        return NNCL_OK;
    /* work-groups of 256 where the device takes them (a GPU's scheduler
     * fills its compute units with them); the tail item returns at once */
    size_t local = dev->info.max_work_group_size >= 256 ? 256 : 0;
    size_t global = local ? (a->n + local - 1) / local * local : a->n;
    return nncl_cl_launch(dev, "fma_chains", 1, &global, local ? &local : NULL,
                          NNCL_CL_ARGS(nncl_arg_buf(a->out.buf), nncl_arg_ulong(a->out.off), nncl_arg_ulong(a->n),
                                       nncl_arg_int(a->iters), nncl_arg_float(a->m), nncl_arg_float(a->c)));
}
