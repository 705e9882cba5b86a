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

/* The output columns j whose tap column e lands inside a row of width W:
 * z = j*SW + e - PW in [0, W) for j in [*lo, *hi), lo <= hi <= OW. */
INLINE void conv_tap_span(const int W, const int OW, const int SW, const int PW, const int e, int *lo, int *hi)
{
    const int z0 = e - PW;
    const int h = W - z0 > 0 ? min(OW, (W - z0 + SW - 1) / SW) : 0;
    *lo = min(z0 >= 0 ? 0 : (SW - 1 - z0) / SW, h);
    *hi = h;
}

/* im2col's col, the form for CPU devices (nncl_conv_cpu_form): one
 * work-item per tap q (dimension 1) and image b (dimension 0), writing
 * col[q, b*OH*OW ...], the tap's OH x OW plane for that image, row by row:
 * zeros left and right of the span of j that lands inside the image, a copy
 * of the image row (SW = 1: contiguous) in between. On PoCL im2col's
 * work-item per (n, c, i, j), with its divisions and KH*KW strided stores,
 * took a quarter of the convolutions' time, and so did a work-item per
 * output row (OW = 14 floats per 4 divisions); the copies vectorise only
 * with restrict (without it PoCL's LLVM kept them scalar, for fear of
 * aliasing). Neighbouring work-items write planes OH*OW floats apart,
 * which a GPU would not coalesce: GPUs keep im2col. */
__kernel void im2col_rows(__global const float *restrict x, const ulong x_off, __global float *restrict col,
                          const ulong col_off, const int N, const int C, const int H, const int W, const int KH,
                          const int KW, const int SH, const int SW, const int PH, const int PW, const int OH,
                          const int OW)
{
    const int b = (int)get_global_id(0), q = (int)get_global_id(1);
    if (b >= N || q >= C * KH * KW)
        return;
    const int e = q % KW, ca = q / KW, a = ca % KH, c = ca / KH;
    __global float *out = col + col_off + (uint)q * (uint)(N * OH * OW) + (uint)(b * OH * OW);
    __global const float *plane = x + x_off + (uint)(b * C + c) * H * W + e - PW;
    int lo, hi;
    conv_tap_span(W, OW, SW, PW, e, &lo, &hi);
    for (int i = 0; i < OH; i++, out += OW) {
        const int y = i * SH - PH + a;
        const bool in = y >= 0 && y < H;
        const int l = in ? lo : 0, h = in ? hi : 0;
        __global const float *src = plane + (in ? y : 0) * W;
        for (int j = 0; j < l; j++)
            out[j] = 0.0f;
        if (SW == 1)
            for (int j = l; j < h; j++)
                out[j] = src[j];
        else
            for (int j = l; j < h; j++)
                out[j] = src[j * SW];
        for (int j = h; j < OW; j++)
            out[j] = 0.0f;
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

/* col2im's x, the form for CPU devices: one work-item per image row
 * (dimension 0 = (n*C + c)*H + y), which zeroes the row and then adds to it,
 * tap row a ascending (output row i = (y + PH - a)/SH when that divides),
 * tap column e ascending, the span of col's row i that lands in it. Each
 * pixel thus sums its terms in col2im's order (i descending is a ascending,
 * j descending is e ascending), from 0: the same bits. The row is the
 * work-item's own, so the read-modify-writes race with nothing. */
__kernel void col2im_rows(__global const float *restrict col, const ulong col_off, __global float *restrict x,
                          const ulong x_off,
                          const int N, const int C, const int H, const int W, const int KH, const int KW,
                          const int SH, const int SW, const int PH, const int PW, const int OH, const int OW)
{
    const int t = (int)get_global_id(0);
    if (t >= N * C * H)
        return;
    const int plane = t / H, y = t - plane * H, c = plane % C, n = plane / C;
    __global float *dst = x + x_off + (uint)t * W;
    for (int z = 0; z < W; z++)
        dst[z] = 0.0f;
    const uint R = N * OH * OW;
    for (int a = 0; a < KH; a++) {
        const int yi = y + PH - a, i = yi / SH;
        if (yi < 0 || i * SH != yi || i >= OH)
            continue;
        for (int e = 0; e < KW; e++) {
            __global const float *in = col + col_off + (uint)((c * KH + a) * KW + e) * R + (uint)(n * OH + i) * OW;
            int lo, hi;
            conv_tap_span(W, OW, SW, PW, e, &lo, &hi);
            __global float *d = dst + e - PW;
            if (SW == 1)
                for (int j = lo; j < hi; j++)
                    d[j] += in[j];
            else
                for (int j = lo; j < hi; j++)
                    d[j * SW] += in[j];
        }
    }
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

/* swap_outer's y, the form for CPU devices: one work-item per row (b, a),
 * dimension 0 = b*A + a, a loop over its P contiguous floats (a
 * vectorisable copy with the bias and activation, and no division per
 * element: swap_outer's per-element work-items took 12% of a step there). */
__kernel void swap_outer_rows(__global const float *restrict x, const ulong x_off, __global float *restrict y,
                              const ulong y_off,
                              __global const float *bias, const ulong bias_off, const int has_bias, const int A,
                              const int B, const int P, const int act, const float act_param)
{
    const uint ba = get_global_id(0);
    if (ba >= (uint)(A * B))
        return;
    const uint b = ba / A, a = ba % A;
    __global const float *src = x + x_off + (a * B + b) * P;
    __global float *dst = y + y_off + ba * P;
    if (!has_bias) {
        for (int p = 0; p < P; p++)
            dst[p] = act_forward(act, act_param, src[p]);
        return;
    }
    const float add = bias[bias_off + a];
    for (int p = 0; p < P; p++)
        dst[p] = act_forward(act, act_param, src[p] + add);
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
