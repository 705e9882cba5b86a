/* A device's FP32 multiply-add peak, measured (see include/nncl/device.h).
 * On an OpenCL device: the fma_chains op (cl/fma_chains.cl, 16 chains an
 * item, 32 flops a step) on enough items to fill every compute unit,
 * `iters` grown until a launch takes about 10 ms, then the best of six
 * launches (PoCL ran the first few of a process at half speed, as if on
 * one of its two threads, in 2 of 4 processes here: three were not
 * enough): flops = items x iters x 16 x 2 over the launch's wall time
 * (queued and finished: a GPU's launch overhead is microseconds of them).
 * On the host: nncl_cpu_fma_peak on its compute units' threads. */
#include <stdio.h>
#include <string.h>

#include "device/backend.h"
#include "nncl/ops.h"
#include "util/clock.h"

enum { ITEMS_PER_UNIT = 2048, MOST_ITERS = 1 << 24 };

static nncl_status run_chains(nncl_device *dev, nncl_buffer *out, size_t n, int iters, double *seconds)
{
    nncl_fma_chains_args a = {nncl_view_of(out, 0), n, iters, 0.999999f, 1e-6f};
    nncl_status st = nncl_device_finish(dev);
    double t0 = nncl_seconds_now();
    if (st == NNCL_OK)
        st = nncl_fma_chains(dev, &a);
    if (st == NNCL_OK)
        st = nncl_device_finish(dev);
    *seconds = nncl_seconds_now() - t0;
    return st;
}

static nncl_status kernel_peak(nncl_device *dev, nncl_device_peak *out)
{
    unsigned units = dev->info.compute_units ? dev->info.compute_units : 1;
    size_t n = (size_t)units * ITEMS_PER_UNIT;
    nncl_buffer *buf = NULL;
    nncl_status st = nncl_buffer_alloc(dev, n * sizeof(float), &buf);
    if (st != NNCL_OK)
        return st;
    /* the first launch compiles where a driver compiles late (PoCL) */
    double sec = 0;
    int iters = 64;
    st = run_chains(dev, buf, n, iters, &sec);
    while (st == NNCL_OK && iters < MOST_ITERS) {
        if ((st = run_chains(dev, buf, n, iters, &sec)) != NNCL_OK || sec >= 0.01)
            break;
        double grow = sec > 0 ? 0.012 / sec : 16;
        iters = grow > 16 ? iters * 16 : (int)(iters * grow) + 1;
        if (iters > MOST_ITERS)
            iters = MOST_ITERS;
    }
    double best = 0;
    for (int r = 0; st == NNCL_OK && r < 6; r++) {
        if ((st = run_chains(dev, buf, n, iters, &sec)) != NNCL_OK)
            break;
        double flops = (double)n * (double)iters * 16 * 2;
        if (sec > 0 && flops / sec > best)
            best = flops / sec;
    }
    nncl_buffer_free(buf);
    if (st != NNCL_OK)
        return st;
    out->gflops = best * 1e-9;
    out->items = n;
    snprintf(out->how, sizeof out->how, "measured: multiply-add chains, %zu work-items", n);
    return NNCL_OK;
}

nncl_status nncl_device_fma_peak(nncl_device *dev, nncl_device_peak *out)
{
    memset(out, 0, sizeof *out);
    if (dev->info.backend == NNCL_BACKEND_OPENCL)
        return kernel_peak(dev, out);
    return nncl_cpu_peak_of(&dev->info, out);
}

nncl_status nncl_cpu_peak_of(const nncl_device_info *info, nncl_device_peak *out)
{
    memset(out, 0, sizeof *out);
    nncl_cpu_peak p;
    int threads = info->compute_units < 1 ? 1 : info->compute_units > 256 ? 256 : (int)info->compute_units;
    nncl_status st = nncl_cpu_fma_peak(threads, &p);
    if (st != NNCL_OK)
        return st;
    out->gflops = p.gflops;
    out->items = (size_t)p.threads;
    snprintf(out->how, sizeof out->how, "measured: %s multiply-adds on %d thread%s", p.isa, p.threads,
             p.threads > 1 ? "s" : "");
    return NNCL_OK;
}
