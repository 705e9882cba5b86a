/* linear_u8.cl: a dense layer whose input is the dataset's bytes.
 * Host twins: nncl_host_linear_u8_fwd / _wgrad in src/ops/linear_u8.c.
 * With x'[i,j] = ((float)x[i,j] - shift[j]) * scale[j]:
 *   linear_u8_fwd:   y[i,o]  = act(sum_j x'[i,j] W[o,j] + b[o])
 *   linear_u8_wgrad: dW[o,j] = sum_i g[i,o] x'[i,j]
 * Full-batch training reads all of x twice per step, so reading bytes rather
 * than floats cuts the memory traffic by four; mini-batches read their rows
 * through an index list (has_index), so nothing is gathered at all. Row i of
 * the batch is x row index[i] (or i); an index outside [0, x_rows) gives NaN.
 * The shapes follow gemm.cl's CPU path: explicit vectors of U8_VW floats
 * inside one work-item, no local memory. */

/* The x row that batch row i reads, or -1 when its index is out of range. */
INLINE long batch_row(const int i, const int has_index, __global const int *index, const ulong i_off,
                      const int x_rows)
{
    if (!has_index)
        return i;
    const int s = index[i_off + i];
    return s >= 0 && s < x_rows ? s : -1;
}

/* U8_VW: floats per vector (8 or 16: AVX2's register holds 8, AVX-512's 16);
 * fwd: U8_DM rows by U8_DN outputs per work-item; wgrad: U8_TM outputs over
 * U8_WCOLS = 2 U8_VW columns. From the build options (the device's
 * nncl_u8_params, src/ops/kernel_params.c), which the dispatchers size their
 * launches with. */
#if !defined(U8_VW) || !defined(U8_DM) || !defined(U8_DN) || !defined(U8_TM)
#error "U8_VW, U8_DM, U8_DN and U8_TM come from the build options (src/ops/kernel_params.c)"
#endif
#define U8_WCOLS (2 * U8_VW)
#if U8_VW == 16
typedef float16 floatu;
typedef uchar16 ucharu;
#define vloadu vload16
#define vstoreu vstore16
#define convert_floatu convert_float16
#define hsumu hsum16
#elif U8_VW == 8
typedef float8 floatu;
typedef uchar8 ucharu;
#define vloadu vload8
#define vstoreu vstore8
#define convert_floatu convert_float8
#define hsumu hsum8
#elif U8_VW == 4
typedef float4 floatu;
typedef uchar4 ucharu;
#define vloadu vload4
#define vstoreu vstore4
#define convert_floatu convert_float4
#define hsumu hsum4
#else
#error "U8_VW must be 4, 8 or 16"
#endif

/* The fwd's dot products for U8_DM rows and U8_DN outputs, dot form along j:
 * acc[r][c] (U8_VW lanes) += x'[r][p..p+VW-1] * W[c][p..p+VW-1], summed over
 * the lanes; res[r][c] = x'_r . W_c. Scale is folded into the weights (as
 * they load, or by the caller: prescaled) and shift into the bytes as they
 * load. xr[r] and wr[c] point at row r's bytes and output c's weights (the
 * caller clamps them at the edges). */
ALWAYS_INLINE void u8_dot_block(__global const uchar *xr[U8_DM], __global const float *wr[U8_DN],
                                __global const float *shift, __global const float *scale, const int in,
                                const bool prescaled, float res[U8_DM][U8_DN])
{
    floatu acc[U8_DM][U8_DN];
#pragma unroll
    for (int r = 0; r < U8_DM; ++r)
#pragma unroll
        for (int c = 0; c < U8_DN; ++c)
            acc[r][c] = (floatu)0.0f;
    int p = 0;
    for (; p + U8_VW <= in; p += U8_VW) {
        const floatu sh = vloadu(0, shift + p), sc = prescaled ? (floatu)1.0f : vloadu(0, scale + p);
        floatu w[U8_DN], xv[U8_DM];
#pragma unroll
        for (int c = 0; c < U8_DN; ++c)
            w[c] = prescaled ? vloadu(0, wr[c] + p) : vloadu(0, wr[c] + p) * sc;
#pragma unroll
        for (int r = 0; r < U8_DM; ++r)
            xv[r] = convert_floatu(vloadu(0, xr[r] + p)) - sh;
#pragma unroll
        for (int r = 0; r < U8_DM; ++r)
#pragma unroll
            for (int c = 0; c < U8_DN; ++c)
                acc[r][c] = fma(xv[r], w[c], acc[r][c]);
    }
#pragma unroll
    for (int r = 0; r < U8_DM; ++r)
#pragma unroll
        for (int c = 0; c < U8_DN; ++c)
            res[r][c] = hsumu(acc[r][c]);
    for (; p < in; ++p) /* the tail of j, scalar */
#pragma unroll
        for (int r = 0; r < U8_DM; ++r)
#pragma unroll
            for (int c = 0; c < U8_DN; ++c)
                res[r][c] = fma(((float)xr[r][p] - shift[p]) * (prescaled ? 1.0f : scale[p]), wr[c][p],
                                res[r][c]);
}

/* fwd: work-item (o, i) computes rows i*U8_DM.. and outputs o*U8_DN..;
 * rows and outputs past the edge are clamped for loading and not stored. */
__kernel void linear_u8_fwd(const int rows, const int in, const int out,
                            __global const uchar *x, const ulong x_off,
                            const int has_index, __global const int *index, const ulong i_off,
                            const int x_rows,
                            __global const float *shift, const ulong sh_off,
                            __global const float *scale, const ulong sc_off,
                            __global const float *W, const ulong w_off,
                            __global const float *b, const ulong b_off,
                            __global float *y, const ulong y_off, const int ldy,
                            const int act, const float act_param)
{
    const int o0 = (int)get_global_id(0) * U8_DN;
    const int i0 = (int)get_global_id(1) * U8_DM;
    if (i0 >= rows || o0 >= out)
        return;
    __global const uchar *xr[U8_DM];
    __global const float *wr[U8_DN];
    bool bad[U8_DM];
#pragma unroll
    for (int r = 0; r < U8_DM; ++r) {
        const long s = batch_row(min(i0 + r, rows - 1), has_index, index, i_off, x_rows);
        bad[r] = s < 0;
        xr[r] = x + x_off + (size_t)(s < 0 ? 0 : s) * in;
    }
#pragma unroll
    for (int c = 0; c < U8_DN; ++c)
        wr[c] = W + w_off + (size_t)min(o0 + c, out - 1) * in;
    float res[U8_DM][U8_DN];
    u8_dot_block(xr, wr, shift + sh_off, scale + sc_off, in, false, res);
    const int nr = min(U8_DM, rows - i0), nc = min(U8_DN, out - o0);
#pragma unroll 1
    for (int r = 0; r < nr; ++r)
#pragma unroll 1
        for (int c = 0; c < nc; ++c) {
            float v = bad[r] ? NAN : res[r][c] + b[b_off + o0 + c];
            y[y_off + (size_t)(i0 + r) * ldy + o0 + c] = act_forward(act, act_param, v);
        }
}

/* wgrad for one block of U8_WCOLS = 2 U8_VW columns j0.. (fewer at the
 * edge), row form: for every row i of the chunk,
 *   acc[r][v] (U8_VW lanes) += g[i][o0+r] * (x[i][j0 + VW v ..] - shift[..])
 * for outputs o0..o0+U8_TM-1, and dW[o0+r][j] = scale[j] * acc (the scale
 * is constant down a column, so it multiplies the sum once instead of every
 * byte). A block of exactly U8_VW columns has its own one-vector loop; any
 * other partial block loads clamped bytes lane by lane. Columns and outputs
 * past the edge are not stored. gp points at row i_begin's gradients, dw at
 * this chunk's out x in partial sums, which are overwritten or, with
 * accumulate, added to. */
/* One row's share of a wgrad block: acc[r][v] += g[oc[r]] * x_v for the
 * work-item's U8_TM units and the block's two vectors of columns. */
ALWAYS_INLINE void wgrad_row(floatu acc[U8_TM][2], __global const float *gp, const int oc[U8_TM], const floatu x0,
                             const floatu x1)
{
#pragma unroll
    for (int r = 0; r < U8_TM; ++r) {
        const floatu gv = (floatu)gp[oc[r]];
        acc[r][0] = fma(gv, x0, acc[r][0]);
        acc[r][1] = fma(gv, x1, acc[r][1]);
    }
}

INLINE void wgrad_block(const int j0, const int o0, const int i_begin, const int i_end, const int in,
                        const int out, __global const uchar *x, const int has_index,
                        __global const int *index, const ulong i_off, const int x_rows,
                        __global const float *shift, __global const float *scale, __global const float *gp,
                        const int ldg, __global float *dw, const int accumulate)
{
    const int cols = min(U8_WCOLS, in - j0);
    floatu sh[2];
#pragma unroll
    for (int v = 0; v < 2; ++v)
#pragma unroll
        for (int l = 0; l < U8_VW; ++l)
            sh[v][l] = shift[j0 + min(U8_VW * v + l, cols - 1)];
    int oc[U8_TM];
#pragma unroll
    for (int r = 0; r < U8_TM; ++r)
        oc[r] = min(o0 + r, out - 1);
    floatu acc[U8_TM][2];
#pragma unroll
    for (int r = 0; r < U8_TM; ++r)
        acc[r][0] = acc[r][1] = (floatu)0.0f;
    /* Four loops rather than one with a variable second load: a vector load
     * at a run-time offset made the common full-block loop slower, and the
     * full batch's rows need no index (its per-row checks cost as many
     * instructions as the FMAs). */
    if (cols == U8_WCOLS && !has_index) {
        /* the full batch: rows in order, every one valid */
        __global const uchar *xp = x + (size_t)i_begin * in + j0;
        for (int i = i_begin; i < i_end; ++i) {
            const floatu x0 = convert_floatu(vloadu(0, xp)) - sh[0];
            const floatu x1 = convert_floatu(vloadu(1, xp)) - sh[1];
            wgrad_row(acc, gp, oc, x0, x1);
            gp += ldg;
            xp += in;
        }
    } else if (cols == U8_WCOLS) {
        for (int i = i_begin; i < i_end; ++i) {
            const long s = batch_row(i, has_index, index, i_off, x_rows);
            __global const uchar *xp = x + (size_t)(s < 0 ? 0 : s) * in + j0;
            floatu x0 = convert_floatu(vloadu(0, xp)) - sh[0];
            floatu x1 = convert_floatu(vloadu(1, xp)) - sh[1];
            if (s < 0)
                x0 = x1 = (floatu)NAN;
            wgrad_row(acc, gp, oc, x0, x1);
            gp += ldg;
        }
    } else if (cols == U8_VW) {
        for (int i = i_begin; i < i_end; ++i) {
            const long s = batch_row(i, has_index, index, i_off, x_rows);
            __global const uchar *xp = x + (size_t)(s < 0 ? 0 : s) * in + j0;
            floatu x0 = convert_floatu(vloadu(0, xp)) - sh[0];
            if (s < 0)
                x0 = (floatu)NAN;
#pragma unroll
            for (int r = 0; r < U8_TM; ++r)
                acc[r][0] = fma((floatu)gp[oc[r]], x0, acc[r][0]);
            gp += ldg;
        }
    } else {
        for (int i = i_begin; i < i_end; ++i) {
            const long s = batch_row(i, has_index, index, i_off, x_rows);
            __global const uchar *xp = x + (size_t)(s < 0 ? 0 : s) * in + j0;
            floatu xv[2];
#pragma unroll
            for (int v = 0; v < 2; ++v)
#pragma unroll
                for (int l = 0; l < U8_VW; ++l)
                    xv[v][l] = (float)xp[min(U8_VW * v + l, cols - 1)];
            xv[0] = s < 0 ? (floatu)NAN : xv[0] - sh[0];
            xv[1] = s < 0 ? (floatu)NAN : xv[1] - sh[1];
            wgrad_row(acc, gp, oc, xv[0], xv[1]);
            gp += ldg;
        }
    }
    const int nr = min(U8_TM, out - o0);
    float res[U8_TM][U8_WCOLS];
#pragma unroll
    for (int r = 0; r < U8_TM; ++r) {
        vstoreu(acc[r][0], 0, &res[r][0]);
        vstoreu(acc[r][1], 0, &res[r][U8_VW]);
    }
#pragma unroll 1
    for (int r = 0; r < nr; ++r)
#pragma unroll 1
        for (int col = 0; col < cols; ++col) {
            __global float *d = dw + (size_t)(o0 + r) * in + j0 + col;
            const float v = res[r][col] * scale[j0 + col];
            *d = accumulate ? *d + v : v;
        }
}

/* wgrad: work-item (b, t, c) takes outputs t*U8_TM.. over the rows of chunk
 * c, for `blocks` consecutive U8_WCOLS-column blocks starting at block
 * b*blocks. Each block reads a strip of every row, 784 bytes apart: fetched
 * from memory in that order, every row costs a full miss that the hardware
 * prefetchers do not hide, and the kernel ran at a third of the FMA peak.
 * So the work-item first touches its rows' bytes in address order (one byte
 * per 64-byte line, volatile so that the loads stay), which streams them
 * into the cache at full bandwidth, and then runs its blocks one after the
 * other over the cached rows. The dispatcher makes `blocks` as large as the
 * parallelism allows (a chunk of 512+ rows fits a CPU's L2). */
__kernel void linear_u8_wgrad(const int rows, const int in, const int out,
                              __global const uchar *x, const ulong x_off,
                              const int has_index, __global const int *index, const ulong i_off,
                              const int x_rows,
                              __global const float *shift, const ulong sh_off,
                              __global const float *scale, const ulong sc_off,
                              __global const float *g, const ulong g_off, const int ldg,
                              __global float *dw, const ulong dw_off, const int chunk_rows,
                              const int blocks)
{
    const int j_begin = (int)get_global_id(0) * blocks * U8_WCOLS;
    const int o0 = (int)get_global_id(1) * U8_TM;
    /* Chunk c of the rows writes its partial sums to dw + c * out * in. */
    const int chunk = (int)get_global_id(2);
    const int i_begin = chunk * chunk_rows, i_end = min(rows, i_begin + chunk_rows);
    if (j_begin >= in || o0 >= out || i_begin >= rows)
        return;
    const int j_end = min(in, j_begin + blocks * U8_WCOLS);
    for (int i = i_begin; i < i_end; ++i) {
        const long s = batch_row(i, has_index, index, i_off, x_rows);
        if (s < 0)
            continue;
        __global volatile const uchar *xp = x + x_off + (size_t)s * in;
        for (int j = j_begin; j < j_end; j += 64)
            (void)xp[j];
        (void)xp[j_end - 1];
    }
    for (int j0 = j_begin; j0 < j_end; j0 += U8_WCOLS)
        wgrad_block(j0, o0, i_begin, i_end, in, out, x + x_off, has_index, index, i_off, x_rows,
                    shift + sh_off, scale + sc_off, g + g_off + (size_t)i_begin * ldg, ldg,
                    dw + dw_off + (ulong)chunk * (ulong)out * (ulong)in, 0);
}

/* dw[e] = sum over chunks c of part[c * n + e], c in order 0, 1, ...: the
 * fixed-order second stage of a chunked linear_u8_wgrad. */
__kernel void linear_u8_wgrad_sum(__global const float *part, const ulong p_off, const int chunks,
                                  const ulong n, __global float *dw, const ulong dw_off)
{
    const size_t e = get_global_id(0);
    if (e >= n)
        return;
    float s = 0.0f;
    for (int c = 0; c < chunks; ++c)
        s += part[p_off + (size_t)c * n + e];
    dw[dw_off + e] = s;
}
