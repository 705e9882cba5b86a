/* dropout.cl: inverted dropout with a recomputed mask.
 * Host twin: nncl_host_dropout in src/ops/dropout.c; generator: philox.cl.
 * Work-item b handles elements i = 4b .. 4b+3 with one Philox call:
 *   (r0, r1, r2, r3) = Philox-4x32-10(counter (b lo, b hi, step lo, step hi),
 *                                     key (seed lo, seed hi))
 *   keep(i) = uniform(r[i % 4]) >= p,  uniform(r) = (r >> 8) / 2^24
 *   y[i] = x[i] * (keep(i) ? scale : 0),  scale = (float)(1 / (1 - p)) in double
 * x and y may alias. */
__kernel void dropout(__global const float *x, const ulong x_off, __global float *y,
                      const ulong y_off, const ulong n, const float p, const float scale,
                      const uint seed_lo, const uint seed_hi, const uint step_lo,
                      const uint step_hi)
{
    ulong b = get_global_id(0);
    ulong i0 = b * 4;
    if (i0 >= n)
        return;
    uint r[4];
    philox4x32_10((uint)b, (uint)(b >> 32), step_lo, step_hi, seed_lo, seed_hi, r);
    for (int k = 0; k < 4; k++) {
        ulong i = i0 + k;
        if (i < n)
            y[y_off + i] = x[x_off + i] * (philox_uniform(r[k]) >= p ? scale : 0.0f);
    }
}
