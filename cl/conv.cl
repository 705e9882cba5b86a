/* conv.cl: the pieces of a convolution as im2col + GEMM (src/ops/conv2d.c
 * puts them together with gemm.cl's kernels).
 * Host twins: nncl_host_im2col / nncl_host_col2im in src/ops/im2col.c,
 * swap_outer_host / rowsum_host in src/ops/conv2d.c.
 *
 * Images are NCHW. The patch matrix col has one row per filter tap
 * q = (c*KH + a)*KW + e and one column per output position
 * r = (n*OH + i)*OW + j, R = N*OH*OW columns: neighbouring output columns j
 * are neighbouring addresses in col and read neighbouring pixels of x, so
 * both im2col and col2im stream through memory (coalesced on a GPU,
 * vectorisable across work-items on PoCL). The checker keeps every tensor
 * below 2^31 elements, so flat indices are uints (32-bit division is the
 * cheaper one). */

/* floor(a / b) for a < 2^20, b >= 1, through float division: exact there
 * (a + 0.5 is exact, and the quotient's error of at most 2.5 ulp is below
 * its distance 0.5/b from an integer), and vectorisable, where an integer
 * division is not (col2im's). The checker keeps images and outputs below 2^20
 * pixels. */
INLINE int conv_div(const int a, const int b)
{
    return (int)(((float)a + 0.5f) / (float)b);
}

/* col[q, r] = x[n, c, i*SH - PH + a, j*SW - PW + e], 0 in the padding.
 * One work-item per (n, c, i, j), j fastest, writes that channel's KH*KW
 * taps of column r: for each tap, neighbouring work-items write neighbouring
 * addresses and read neighbouring pixels. (A loop-free work-item per element,
 * dimensions (i*OW + j, n, q), measured 2-4 times as slow on PoCL: 54-104 ms
 * against 21-27 ms for the 16->32 5x5 layer at batch 128.) */
__kernel void im2col(__global const float *x, const ulong x_off, __global float *col, const ulong col_off,
                     const int N, const int C, const int H, const int W, const int KH, const int KW,
                     const int SH, const int SW, const int PH, const int PW, const int OH, const int OW)
{
    const uint t = get_global_id(0);
    if (t >= (uint)(N * C * OH * OW))
        return;
    const uint j = t % OW, t1 = t / OW;
    const uint i = t1 % OH, t2 = t1 / OH;
    const uint c = t2 % C, n = t2 / C;
    const uint R = N * OH * OW, r = (n * OH + i) * OW + j;
    __global float *out = col + col_off + c * KH * KW * R + r;
    __global const float *plane = x + x_off + (n * C + c) * H * W;
    const int y0 = (int)(i * SH) - PH, z0 = (int)(j * SW) - PW;
    for (int a = 0; a < KH; a++) {
        const int y = y0 + a;
        const bool row_in = y >= 0 && y < H;
        for (int e = 0; e < KW; e++) {
            const int z = z0 + e;
            out[(a * KW + e) * R] = row_in && z >= 0 && z < W ? plane[y * W + z] : 0.0f;
        }
    }
}

/* x[n, c, y, z] = sum of col[q, r] over the taps (i, j, a, e) that read
 * (y, z): i*SH - PH + a = y, j*SW - PW + e = z. One work-item per pixel
 * (dimension 0 the pixel within its plane, 1 the plane n*C + c), a fixed
 * order, no atomics: i from the largest output row whose window reaches
 * (y, z) down while the window still holds it (a = y + PH - i*SH < KH),
 * then j likewise. Walking i and j rather than a and e needs no division
 * per tap: with one, col2im took 5 times as long on PoCL. */
__kernel void col2im(__global const float *col, const ulong col_off, __global float *x, const ulong x_off,
                     const int N, const int C, const int H, const int W, const int KH, const int KW,
                     const int SH, const int SW, const int PH, const int PW, const int OH, const int OW)
{
    const int s_ = (int)get_global_id(0), plane = (int)get_global_id(1);
    if (s_ >= H * W || plane >= N * C)
        return;
    const int y = conv_div(s_, W), z = s_ - y * W;
    const int c = plane % C, n = plane / C;
    const uint R = N * OH * OW;
    __global const float *base = col + col_off + (uint)c * KH * KW * R + (uint)n * OH * OW;
    const int yp = y + PH, zp = z + PW;
    const int i_hi = min(OH - 1, conv_div(yp, SH)), j_hi = min(OW - 1, conv_div(zp, SW));
    float s = 0.0f;
    for (int i = i_hi; i >= 0 && yp - i * SH < KH; i--) {
        const int a = yp - i * SH;
        for (int j = j_hi; j >= 0 && zp - j * SW < KW; j--)
            s += base[(a * KW + zp - j * SW) * R + i * OW + j];
    }
    x[x_off + (uint)plane * H * W + s_] = s;
}

/* y[b, a, p] = f(x[a, b, p] + bias[a]) for a < A, b < B, p < P (f = act; no
 * bias when has_bias is 0): the GEMM's [K, N, P] output to NCHW [N, K, P]
 * with the bias and activation, and (A = N, B = K, identity) dy back to
 * [K, N, P]. Dimension 0 runs over p: contiguous on both sides. */
__kernel void swap_outer(__global const float *x, const ulong x_off, __global float *y, const ulong y_off,
                         __global const float *bias, const ulong bias_off, const int has_bias, const int A,
                         const int B, const int P, const int act, const float act_param)
{
    const int p = (int)get_global_id(0);
    const uint ba = get_global_id(1);
    if (p >= P || ba >= (uint)(A * B))
        return;
    const uint b = ba / A, a = ba % A;
    float v = x[x_off + (a * B + b) * P + p];
    if (has_bias)
        v += bias[bias_off + a];
    y[y_off + ba * P + p] = act_forward(act, act_param, v);
}

/* y[i] = sum_t x[i, t] for t < cols (row stride ldx): the bias gradient from
 * dy as [K, N*P]. One work-group of L lanes (a power of two <=
 * REDUCE_GROUP_MAX) per row; lane l sums t = l, l + L, ..., then a tree
 * halves the lanes: a fixed order, the same bits every run. */
__kernel void rowsum(__global const float *x, const ulong x_off, const int ldx, __global float *y,
                     const ulong y_off, const int cols)
{
    __local float part[REDUCE_GROUP_MAX];
    const uint l = get_local_id(0), L = get_local_size(0), row = get_group_id(1);
    __global const float *xr = x + x_off + (ulong)row * ldx;
    float s = 0.0f;
    for (int t = (int)l; t < cols; t += (int)L)
        s += xr[t];
    part[l] = s;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint h = L / 2; h > 0; h /= 2) {
        if (l < h)
            part[l] += part[l + h];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (l == 0)
        y[y_off + row] = part[0];
}
