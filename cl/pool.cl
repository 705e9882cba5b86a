/* pool.cl: max and average pooling, forward and backward.
 * Host twins: nncl_host_pool2d_fwd / nncl_host_pool2d_bwd in src/ops/pool.c.
 * Square windows of WIN pixels, ST apart, no padding; OH = (H - WIN)/ST + 1.
 * Dimension 1 of the NDRange runs over the planes (n, c), P = N*C of them;
 * dimension 0 over the outputs (forward) or pixels (backward) of a plane. */

#define POOL_MAX 0
#define POOL_AVG 1

/* floor(a / b) for a < 2^20, b >= 1, through float division: exact there
 * (a + 0.5 is exact, and the quotient's error of at most 2.5 ulp is below
 * its distance 0.5/b from an integer), and vectorisable, where an integer
 * division is not: with integer divisions the backward pass took 2-3 times
 * as long on PoCL. The checker keeps a plane below 2^20 pixels. */
INLINE int pool_div(const int a, const int b)
{
    return (int)(((float)a + 0.5f) / (float)b);
}

/* max: y = the first maximum of the window in row-major order, NaN counting
 * as maximal (once a NaN is found it stays); idx = its r*W + q in the plane.
 * avg: y = (sum of the window, row-major) / WIN^2. */
__kernel void pool2d_fwd(__global const float *x, const ulong x_off, __global float *y, const ulong y_off,
                         __global int *idx, const ulong idx_off, const int has_idx, const int kind,
                         const int P, const int H, const int W, const int WIN, const int ST, const int OH,
                         const int OW)
{
    const int o = (int)get_global_id(0);
    const uint p = get_global_id(1);
    if (o >= OH * OW || p >= (uint)P)
        return;
    const int i = pool_div(o, OW), j = o - i * OW;
    __global const float *plane = x + x_off + p * H * W;
    const uint t = p * OH * OW + o;
    const int r0 = i * ST, q0 = j * ST;
    if (kind == POOL_MAX) {
        float best = plane[r0 * W + q0];
        int arg = r0 * W + q0;
        for (int a = 0; a < WIN && !isnan(best); a++)
            for (int e = 0; e < WIN; e++) {
                const int at = (r0 + a) * W + q0 + e;
                const float v = plane[at];
                if (v > best || isnan(v)) {
                    best = v;
                    arg = at;
                    if (isnan(v))
                        break;
                }
            }
        y[y_off + t] = best;
        if (has_idx)
            idx[idx_off + t] = arg;
    } else {
        float s = 0.0f;
        for (int a = 0; a < WIN; a++)
            for (int e = 0; e < WIN; e++)
                s += plane[(r0 + a) * W + q0 + e];
        y[y_off + t] = s / (float)(WIN * WIN);
    }
}

/* pool2d_fwd, the form for CPU devices (src/ops/pool.c): one work-item
 * per output row (dimension 0 = p*OH + i) looping over its OW windows, the
 * same comparisons in the same order (the early exits of pool2d_fwd made
 * selects). PoCL runs pool2d_fwd's work-items one by one (its window loops
 * defeat the vectorisation across work-items), each paying its divisions;
 * here they are paid once per row. (The loop over j stays scalar: a perf
 * profile shows scalar compares, also with the stride 2 as a literal.) */
__kernel void pool2d_fwd_rows(__global const float *restrict x, const ulong x_off, __global float *restrict y,
                              const ulong y_off, __global int *idx, const ulong idx_off, const int has_idx,
                              const int kind, const int P, const int H, const int W, const int WIN, const int ST,
                              const int OH, const int OW)
{
    const int pi = (int)get_global_id(0);
    if (pi >= P * OH)
        return;
    const int p = pi / OH, i = pi - p * OH, r0 = i * ST;
    __global const float *plane = x + x_off + (uint)p * H * W;
    __global float *yr = y + y_off + (uint)pi * OW;
    __global int *ir = idx + idx_off + (uint)pi * OW;
    if (kind == POOL_MAX && WIN == 2) {
        __global const float *a0 = plane + r0 * W, *a1 = a0 + W;
        for (int j = 0; j < OW; j++) {
            const int q = j * ST;
            float best = a0[q];
            int arg = r0 * W + q;
            float v = a0[q + 1];
            bool take = !isnan(best) && (v > best || isnan(v));
            best = take ? v : best;
            arg = take ? r0 * W + q + 1 : arg;
            v = a1[q];
            take = !isnan(best) && (v > best || isnan(v));
            best = take ? v : best;
            arg = take ? (r0 + 1) * W + q : arg;
            v = a1[q + 1];
            take = !isnan(best) && (v > best || isnan(v));
            best = take ? v : best;
            arg = take ? (r0 + 1) * W + q + 1 : arg;
            yr[j] = best;
            if (has_idx)
                ir[j] = arg;
        }
        return;
    }
    for (int j = 0; j < OW; j++) {
        const int q0 = j * ST;
        if (kind == POOL_MAX) {
            float best = plane[r0 * W + q0];
            int arg = r0 * W + q0;
            for (int a = 0; a < WIN; a++)
                for (int e = 0; e < WIN; e++) {
                    const int at = (r0 + a) * W + q0 + e;
                    const float v = plane[at];
                    const bool take = !isnan(best) && (v > best || isnan(v));
                    best = take ? v : best;
                    arg = take ? at : arg;
                }
            yr[j] = best;
            if (has_idx)
                ir[j] = arg;
        } else {
            float s = 0.0f;
            for (int a = 0; a < WIN; a++)
                for (int e = 0; e < WIN; e++)
                    s += plane[(r0 + a) * W + q0 + e];
            yr[j] = s / (float)(WIN * WIN);
        }
    }
}

/* dx[r, q] = the sum over the windows (i, j) holding (r, q), in decreasing i
 * from min(OH - 1, r/ST) while i*ST + WIN > r, then j likewise (no division
 * per window), of: max: dy[i, j] if idx[i, j] == r*W + q; avg: dy[i, j],
 * the sum then divided by WIN^2. Pixels no window holds get 0. */
__kernel void pool2d_bwd(__global const float *dy, const ulong dy_off, __global const int *idx,
                         const ulong idx_off, __global float *dx, const ulong dx_off, const int kind,
                         const int P, const int H, const int W, const int WIN, const int ST, const int OH,
                         const int OW)
{
    const int at_r = (int)get_global_id(0);
    const uint p = get_global_id(1);
    if (at_r >= H * W || p >= (uint)P)
        return;
    const int r = pool_div(at_r, W), q = at_r - r * W;
    const int i_hi = min(OH - 1, pool_div(r, ST)), j_hi = min(OW - 1, pool_div(q, ST));
    __global const float *g = dy + dy_off + p * OH * OW;
    __global const int *ix = idx + idx_off + p * OH * OW;
    float s = 0.0f;
    for (int i = i_hi; i >= 0 && i * ST + WIN > r; i--)
        for (int j = j_hi; j >= 0 && j * ST + WIN > q; j--)
            if (kind == POOL_AVG || ix[i * OW + j] == at_r)
                s += g[i * OW + j];
    dx[dx_off + p * H * W + at_r] = kind == POOL_AVG ? s / (float)(WIN * WIN) : s;
}

/* pool2d_bwd when windows do not overlap (ST >= WIN), as src/ops/pool.c
 * dispatches it: a pixel lies in at most one window, (r/ST, q/ST), so dx is
 * that window's term or 0, with no loop. A loop-free body lets PoCL
 * vectorise across work-items. */
__kernel void pool2d_bwd_disjoint(__global const float *dy, const ulong dy_off, __global const int *idx,
                                  const ulong idx_off, __global float *dx, const ulong dx_off, const int kind,
                                  const int P, const int H, const int W, const int WIN, const int ST,
                                  const int OH, const int OW)
{
    const int at_r = (int)get_global_id(0);
    const uint p = get_global_id(1);
    if (at_r >= H * W || p >= (uint)P)
        return;
    const int r = pool_div(at_r, W), q = at_r - r * W;
    const int i = pool_div(r, ST), j = pool_div(q, ST);
    const bool inside = i < OH && j < OW && r - i * ST < WIN && q - j * ST < WIN;
    const uint at = inside ? p * OH * OW + i * OW + j : 0;
    const bool hit = inside && (kind == POOL_AVG || idx[idx_off + at] == at_r);
    const float g = hit ? dy[dy_off + at] : 0.0f;
    dx[dx_off + p * H * W + at_r] = kind == POOL_AVG ? g / (float)(WIN * WIN) : g;
}

/* pool2d_bwd_disjoint, the form for CPU devices: one work-item per output
 * row i of a plane (dimension 0 = p*OH + i), which owns input rows
 * [i*ST, i*ST + ST) (the last one also the rows below OH*ST): it zeroes
 * them, then writes each window's WIN x WIN pixels, dy[i, j] where
 * pool2d_bwd_disjoint would (max: the pixel idx names; avg: all of them,
 * divided by WIN^2) and 0 elsewhere. The same values, with a division per
 * row instead of per pixel, and contiguous, vectorisable row writes. */
__kernel void pool2d_bwd_rows(__global const float *restrict dy, const ulong dy_off,
                              __global const int *restrict idx, const ulong idx_off, __global float *restrict dx,
                              const ulong dx_off, const int kind, const int P, const int H, const int W,
                              const int WIN, const int ST, const int OH, const int OW)
{
    const int pi = (int)get_global_id(0);
    if (pi >= P * OH)
        return;
    const int p = pi / OH, i = pi - p * OH, r0 = i * ST, r1 = i == OH - 1 ? H : r0 + ST;
    __global float *plane = dx + dx_off + (uint)p * H * W;
    __global const float *g = dy + dy_off + (uint)pi * OW;
    __global const int *ix = idx + idx_off + (uint)pi * OW;
    for (int r = r0; r < r1; r++)
        for (int q = 0; q < W; q++)
            plane[r * W + q] = 0.0f;
    for (int j = 0; j < OW; j++) {
        const int at = kind == POOL_AVG ? -1 : ix[j];
        const float v = g[j];
        for (int a = 0; a < WIN; a++)
            for (int e = 0; e < WIN; e++) {
                const int pos = (r0 + a) * W + j * ST + e;
                plane[pos] = kind == POOL_AVG ? v / (float)(WIN * WIN) : (at == pos ? v : 0.0f);
            }
    }
}
