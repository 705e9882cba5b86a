/* fma_chains.cl: the FP32 multiply-add peak's kernel (nncl_device_fma_peak).
 * Item i runs sixteen independent chains
 *     a_j <- fma(a_j, m, c),   a_j(0) = 1 + (16 (i mod 4096) + j) 2^-20,
 * for `iters` steps and writes out[i] = a_0 + a_1 + ... + a_15, in order.
 * Sixteen chains cover a multiply-add's latency (4 cycles on GPUs and on
 * x86 cores, two pipes on the latter); nothing is read, so the loop runs
 * at the device's multiply-add throughput. fma is one rounding: the host
 * twin (nncl_host_fma_chains in src/ops/fma_chains.c) gives the same bits. */
#define FMA_CHAIN_STEP(a) a = fma(a, m, c)

__kernel void fma_chains(__global float *out, const ulong out_off, const ulong n, const int iters, const float m,
                         const float c)
{
    size_t i = get_global_id(0);
    if (i >= n)
        return;
    const float base = 1.0f + (float)(16 * (uint)(i % 4096)) * 0x1p-20f;
    float a0 = base, a1 = base + 0x1p-20f, a2 = base + 0x2p-20f, a3 = base + 0x3p-20f;
    float a4 = base + 0x4p-20f, a5 = base + 0x5p-20f, a6 = base + 0x6p-20f, a7 = base + 0x7p-20f;
    float a8 = base + 0x8p-20f, a9 = base + 0x9p-20f, a10 = base + 0xap-20f, a11 = base + 0xbp-20f;
    float a12 = base + 0xcp-20f, a13 = base + 0xdp-20f, a14 = base + 0xep-20f, a15 = base + 0xfp-20f;
    for (int t = 0; t < iters; t++) {
        FMA_CHAIN_STEP(a0), FMA_CHAIN_STEP(a1), FMA_CHAIN_STEP(a2), FMA_CHAIN_STEP(a3);
        FMA_CHAIN_STEP(a4), FMA_CHAIN_STEP(a5), FMA_CHAIN_STEP(a6), FMA_CHAIN_STEP(a7);
        FMA_CHAIN_STEP(a8), FMA_CHAIN_STEP(a9), FMA_CHAIN_STEP(a10), FMA_CHAIN_STEP(a11);
        FMA_CHAIN_STEP(a12), FMA_CHAIN_STEP(a13), FMA_CHAIN_STEP(a14), FMA_CHAIN_STEP(a15);
    }
    out[out_off + i] = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11 + a12 + a13 + a14 + a15;
}
