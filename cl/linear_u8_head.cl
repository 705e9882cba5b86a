/* linear_u8_head.cl: a training step of a byte-input network with one
 * narrow hidden layer, forward and backward in one pass over the rows (the
 * contract is nncl_linear_u8_head_args in include/nncl/ops.h).
 * Host twin: nncl_host_linear_u8_head in src/ops/linear_u8_head.c.
 *
 * Done as three ops (linear_u8_fwd, head_xent, linear_u8_wgrad), a step
 * reads all of x from memory twice, and the second time in 32-byte strips
 * that the prefetchers do not follow. Here one work-item walks a chunk of
 * rows in blocks of U8H_BLOCK: the block's hidden layer (u8_dot_block, which
 * brings its bytes into the cache), its head (head_rows16, 16 rows at a
 * time, g to scratch), then its share of dW1 (wgrad_block) while the bytes
 * are still cached. The chunk's sums go to its own slice of part;
 * linear_u8_head_sum adds the chunks in order 0, 1, ... */

/* Rows per block: NNCL_U8H_BLOCK in src/ops/kernel_consts.h, which also
 * sizes each chunk's room for g, passed as a build option. */
#ifndef U8H_BLOCK
#error "U8H_BLOCK comes from the build options (src/ops/kernel_consts.h)"
#endif

/* Partial sums of chunk k at part + k * stride: dW1 (hidden x in), db1,
 * dW2 (classes x hidden), db2, loss, correct; then room for the g of one
 * block (U8H_BLOCK x hidden), which wgrad_block reads from global memory,
 * and for W1 with the scale folded in (hidden x in), the chunk's own copy
 * in its core's cache. */
__kernel void linear_u8_head(const int rows, const int in, const int hidden, const int classes,
                             __global const uchar *x, const ulong x_off,
                             const int has_index, __global const int *index, const ulong i_off,
                             const int x_rows,
                             __global const float *shift, const ulong sh_off,
                             __global const float *scale, const ulong sc_off,
                             __global const float *W1, const ulong w1_off,
                             __global const float *b1, const ulong b1_off,
                             __global const float *W2, const ulong w2_off,
                             __global const float *b2, const ulong b2_off,
                             __global const int *labels, const ulong l_off,
                             __global float *part, const ulong p_off, const int stride, const int chunk_rows,
                             const int act, const float act_param, const float grad_scale)
{
    const int chunk = (int)get_global_id(0);
    const int i_begin = chunk * chunk_rows, i_end = min(rows, i_begin + chunk_rows);
    if (i_begin >= rows)
        return;
    x += x_off;
    shift += sh_off;
    scale += sc_off;
    W1 += w1_off;
    const int nw1 = hidden * in, nw2 = classes * hidden;
    __global float *out = part + p_off + (size_t)chunk * stride;
    __global float *gbuf = out + nw1 + hidden + nw2 + classes + 2;
    __global float *w1s = gbuf + U8H_BLOCK * hidden;
    for (int e = 0; e < nw1; ++e)
        out[e] = 0.0f;
    for (int o = 0; o < hidden; ++o)
        for (int j = 0; j < in; ++j)
            w1s[o * in + j] = W1[o * in + j] * scale[j];

    const int16 lane = (int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    float w2[HEAD_MAX * HEAD_MAX], bias1[HEAD_MAX], bias2[HEAD_MAX];
    float16 dw2[HEAD_MAX * HEAD_MAX], db1[HEAD_MAX], db2[HEAD_MAX];
    for (int e = 0; e < nw2; ++e) {
        w2[e] = W2[w2_off + e];
        dw2[e] = (float16)0.0f;
    }
    for (int o = 0; o < hidden; ++o) {
        bias1[o] = b1[b1_off + o];
        db1[o] = (float16)0.0f;
    }
    for (int c = 0; c < classes; ++c) {
        bias2[c] = b2[b2_off + c];
        db2[c] = (float16)0.0f;
    }
    float16 loss = (float16)0.0f, correct = (float16)0.0f;
    /* The block's hidden outputs, unit by unit (a1[o * U8H_BLOCK + r]), so
     * that the head loads 16 rows of a unit as one vector. */
    float a1[U8H_BLOCK * HEAD_MAX];

    for (int blk = i_begin; blk < i_end; blk += U8H_BLOCK) {
        const int n = min(U8H_BLOCK, i_end - blk);

        /* a1 = f(x' W1^T + b1), U8_DN units by U8_DM rows at a time. Units
         * outside: W1 is twice the size of L1 for MNIST's 784-10, so going
         * over all of it for each U8_DM rows ran 1.5 times slower. */
        for (int o0 = 0; o0 < hidden; o0 += U8_DN) {
            __global const float *wr[U8_DN];
#pragma unroll
            for (int c = 0; c < U8_DN; ++c)
                wr[c] = w1s + (size_t)min(o0 + c, hidden - 1) * in;
            for (int r0 = 0; r0 < n; r0 += U8_DM) {
                __global const uchar *xr[U8_DM];
                bool bad[U8_DM];
#pragma unroll
                for (int r = 0; r < U8_DM; ++r) {
                    const long s = batch_row(blk + min(r0 + r, n - 1), has_index, index, i_off, x_rows);
                    bad[r] = s < 0;
                    xr[r] = x + (size_t)(s < 0 ? 0 : s) * in;
                }
                float res[U8_DM][U8_DN];
                u8_dot_block(xr, wr, shift, scale, in, true, res);
                const int nr = min(U8_DM, n - r0), nc = min(U8_DN, hidden - o0);
#pragma unroll 1
                for (int r = 0; r < nr; ++r)
#pragma unroll 1
                    for (int c = 0; c < nc; ++c)
                        a1[(o0 + c) * U8H_BLOCK + r0 + r] =
                            act_forward(act, act_param, bad[r] ? NAN : res[r][c] + bias1[o0 + c]);
            }
        }

        /* the head, 16 rows to a float16; g of each row to gbuf. Lanes past
         * the block's rows are zeros (a dead lane's dz is 0, and 0 times a
         * stale a1 could be NaN). */
        for (int s0 = 0; s0 < n; s0 += 16) {
            const int16 live = (int16)s0 + lane < (int16)n;
            float16 xv[HEAD_MAX], g[HEAD_MAX];
            for (int j = 0; j < hidden; ++j)
                xv[j] = select((float16)0.0f, vload16(0, a1 + j * U8H_BLOCK + s0), live);
            int lab[16];
            for (int l = 0; l < 16; ++l)
                lab[l] = labels[l_off + blk + min(s0 + l, n - 1)];
            head_rows16(hidden, classes, w2, bias2, xv, vload16(0, lab), live, dw2, db2, &loss, &correct, 1, g,
                        db1, act, act_param, grad_scale);
            const int nl = min(16, n - s0);
            for (int j = 0; j < hidden; ++j) {
                float gl[16];
                vstore16(g[j], 0, gl);
                for (int l = 0; l < nl; ++l)
                    gbuf[(s0 + l) * hidden + j] = gl[l];
            }
        }

        /* dW1 += g^T x' over the block's rows, whose bytes are cached */
        for (int o0 = 0; o0 < hidden; o0 += U8_TM)
            for (int j0 = 0; j0 < in; j0 += U8_WCOLS)
                wgrad_block(j0, o0, blk, blk + n, in, hidden, x, has_index, index, i_off, x_rows, shift, scale,
                            gbuf, hidden, out, 1);
    }

    __global float *sums = out + nw1;
    for (int o = 0; o < hidden; ++o)
        sums[o] = hsum16(db1[o]);
    for (int e = 0; e < nw2; ++e)
        sums[hidden + e] = hsum16(dw2[e]);
    for (int c = 0; c < classes; ++c)
        sums[hidden + nw2 + c] = hsum16(db2[c]);
    sums[hidden + nw2 + classes] = hsum16(loss);
    sums[hidden + nw2 + classes + 1] = hsum16(correct);
}

/* The fixed-order second stage: element e of the chunks' sums, added over
 * chunks 0, 1, ..., goes to dW1, db1, dW2, db2 (overwritten) or acc (added
 * to). */
__kernel void linear_u8_head_sum(__global const float *part, const ulong p_off, const int chunks,
                                 const int stride, const int in, const int hidden, const int classes,
                                 __global float *dw1, const ulong dw1_off, __global float *db1, const ulong db1_off,
                                 __global float *dw2, const ulong dw2_off, __global float *db2, const ulong db2_off,
                                 __global float *acc, const ulong acc_off)
{
    const int nw1 = hidden * in, nw2 = classes * hidden;
    const int e = (int)get_global_id(0);
    if (e >= nw1 + hidden + nw2 + classes + 2)
        return;
    float s = 0.0f;
    for (int k = 0; k < chunks; ++k)
        s += part[p_off + (size_t)k * stride + e];
    if (e < nw1)
        dw1[dw1_off + e] = s;
    else if (e < nw1 + hidden)
        db1[db1_off + e - nw1] = s;
    else if (e < nw1 + hidden + nw2)
        dw2[dw2_off + e - nw1 - hidden] = s;
    else if (e < nw1 + hidden + nw2 + classes)
        db2[db2_off + e - nw1 - hidden - nw2] = s;
    else
        acc[acc_off + e - nw1 - hidden - nw2 - classes] += s;
}
