/* reduce.cl: column sums (the bias gradient) and row argmax.
 * Host twins: nncl_host_colsum / nncl_host_argmax_rows in src/ops/reduce.c. */

/* y[j] = alpha * sum_i x[i, j] + beta * y[j]   (beta == 0: y is not read).
 * Work-groups are COLSUM_TILE columns (dim 0, consecutive addresses) by L row
 * lanes (dim 1, L a power of two <= COLSUM_LANES_MAX). Lane l sums rows
 * i = l, l + L, ... in turn; a tree then halves the lanes (part[l] +=
 * part[l + h], h = L/2, ..., 1): a fixed order, the same bits every run. */
#if !defined(COLSUM_TILE) || !defined(REDUCE_GROUP_MAX)
#error "COLSUM_TILE and REDUCE_GROUP_MAX come from the build options (src/ops/kernel_consts.h)"
#endif
#define COLSUM_LANES_MAX (REDUCE_GROUP_MAX / COLSUM_TILE)
__kernel void colsum(__global const float *x, const ulong x_off, const ulong ldx,
                     __global float *y, const ulong y_off, const ulong rows, const ulong cols,
                     const float alpha, const float beta)
{
    __local float part[COLSUM_LANES_MAX][COLSUM_TILE];
    size_t c = get_local_id(0), l = get_local_id(1), L = get_local_size(1);
    size_t j = get_global_id(0);
    float s = 0.0f;
    if (j < cols)
        for (ulong i = l; i < rows; i += L)
            s += x[x_off + i * ldx + j];
    part[l][c] = s;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (size_t h = L / 2; h > 0; h /= 2) {
        if (l < h)
            part[l][c] += part[l + h][c];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (l == 0 && j < cols) {
        float sum = alpha * part[0][c];
        y[y_off + j] = beta == 0.0f ? sum : sum + beta * y[y_off + j];
    }
}

/* idx[i] = the first j with x[i, j] maximal; NaN counts as maximal, so a row
 * holding NaN points at its first NaN. One work-item per row. */
__kernel void argmax_rows(__global const float *x, const ulong x_off, __global int *idx,
                          const ulong idx_off, const ulong rows, const ulong cols)
{
    size_t i = get_global_id(0);
    if (i >= rows)
        return;
    __global const float *xr = x + x_off + i * cols;
    float best = xr[0];
    ulong arg = 0;
    for (ulong j = 1; j < cols && !isnan(best); j++) {
        float v = xr[j];
        if (v > best || isnan(v)) {
            best = v;
            arg = j;
        }
    }
    idx[idx_off + i] = (int)arg;
}
