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
