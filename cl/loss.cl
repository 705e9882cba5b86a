/* loss.cl: softmax + cross-entropy and mean squared error, with their
 * gradients, and the fixed-order sum of per-row values into acc.
 * Host twins: nncl_host_softmax_xent / nncl_host_mse in src/ops/loss.c.
 * One work-item per row; rows are summed by loss_reduce, never by atomics. */

/* For row r of z (rows x classes), t = labels[r]:
 *   m = max_j z_j,  s = sum_j exp(z_j - m)   (j in order 0, 1, ...)
 *   loss = log(s) - (z_t - m),  correct = (first argmax_j z_j, NaN maximal) == t
 *   dz_j = (exp(z_j - m) / s - [j == t]) * grad_scale       (when has_dz)
 *   scratch[r] = loss, scratch[rows + r] = correct            (when has_acc)
 * A label outside [0, classes) gives loss NaN and a NaN row of dz. NaN and
 * Inf are not clamped: a NaN logit makes s, and so the whole row, NaN.
 * dz may alias z: every z_j the row needs is read before dz_j is written. */
__kernel void softmax_xent(__global const float *z, const ulong z_off,
                           __global const int *labels, const ulong l_off,
                           __global float *dz, const ulong dz_off, const int has_dz,
                           __global float *scratch, const ulong s_off, const int has_acc,
                           const ulong rows, const ulong classes, const float grad_scale)
{
    size_t r = get_global_id(0);
    if (r >= rows)
        return;
    __global const float *zr = z + z_off + r * classes;
    int t = labels[l_off + r];
    bool valid = t >= 0 && (ulong)t < classes;
    float zt = valid ? zr[t] : NAN;
    float m = zr[0], best = zr[0];
    ulong arg = 0;
    for (ulong j = 1; j < classes; j++) {
        float v = zr[j];
        m = v > m ? v : m;
        if (!isnan(best) && (v > best || isnan(v))) {
            best = v;
            arg = j;
        }
    }
    float s = 0.0f;
    if (classes <= 16) {
        /* Up to 16 classes (MNIST has 10) fit one float16: the exponentials
         * run as one vector op, not a scalar loop. Padding lanes hold -Inf,
         * whose exponential is 0. s is summed as a fixed tree of lanes. */
        float16 v = (float16)(-INFINITY);
        for (ulong j = 0; j < classes; j++)
            v[j] = zr[j];
        float16 e = exp(v - m);
        s = hsum16(e);
        if (has_dz) {
            float16 g = e / s;
            __global float *dr = dz + dz_off + r * classes;
            for (ulong j = 0; j < classes; j++)
                dr[j] = valid ? (g[j] - (j == (ulong)t ? 1.0f : 0.0f)) * grad_scale : NAN;
        }
    } else if (has_dz) {
        /* dz_j holds exp(z_j - m) until s is known. */
        __global float *dr = dz + dz_off + r * classes;
        for (ulong j = 0; j < classes; j++) {
            float e = exp(zr[j] - m);
            s += e;
            dr[j] = e;
        }
        for (ulong j = 0; j < classes; j++) {
            float g = dr[j] / s - (j == (ulong)t ? 1.0f : 0.0f);
            dr[j] = valid ? g * grad_scale : NAN;
        }
    } else {
        for (ulong j = 0; j < classes; j++)
            s += exp(zr[j] - m);
    }
    if (has_acc) {
        scratch[s_off + r] = log(s) - (zt - m);
        scratch[s_off + rows + r] = valid && arg == (ulong)t ? 1.0f : 0.0f;
    }
}

/* For row r of y and t (rows x outputs), d_j = y_j - t_j (j in order):
 *   loss = (sum_j d_j^2) / outputs,  mae = (sum_j |d_j|) / outputs
 *   dy_j = 2 d_j / outputs * grad_scale     (when has_dy; dy may alias y)
 *   scratch[r] = loss, scratch[rows + r] = mae   (when has_acc) */
__kernel void mse(__global const float *y, const ulong y_off, __global const float *t,
                  const ulong t_off, __global float *dy, const ulong dy_off, const int has_dy,
                  __global float *scratch, const ulong s_off, const int has_acc,
                  const ulong rows, const ulong outputs, const float grad_scale)
{
    size_t r = get_global_id(0);
    if (r >= rows)
        return;
    size_t base = r * outputs;
    float sq = 0.0f, ab = 0.0f;
    float k = 2.0f / (float)outputs;
    for (ulong j = 0; j < outputs; j++) {
        float d = y[y_off + base + j] - t[t_off + base + j];
        sq += d * d;
        ab += fabs(d);
        if (has_dy)
            dy[dy_off + base + j] = d * k * grad_scale;
    }
    if (has_acc) {
        scratch[s_off + r] = sq / (float)outputs;
        scratch[s_off + rows + r] = ab / (float)outputs;
    }
}

/* acc[0] += sum_r x[r], acc[1] += sum_r x[rows + r], in a fixed order: item l
 * of the one work-group (size L, a power of two) sums r = l, l + L, ... in
 * turn, then a tree halves the L partials: part[l] += part[l + h] for
 * h = L/2, L/4, ..., 1. The host twin sums the same values in double. */
#ifndef REDUCE_GROUP_MAX
#error "REDUCE_GROUP_MAX comes from the build options (src/ops/kernel_consts.h)"
#endif
__kernel void loss_reduce(__global const float *x, const ulong x_off, const ulong rows,
                          __global float *acc, const ulong acc_off)
{
    __local float part0[REDUCE_GROUP_MAX], part1[REDUCE_GROUP_MAX];
    size_t l = get_local_id(0), L = get_local_size(0);
    float s0 = 0.0f, s1 = 0.0f;
    for (ulong r = l; r < rows; r += L) {
        s0 += x[x_off + r];
        s1 += x[x_off + rows + r];
    }
    part0[l] = s0;
    part1[l] = s1;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (size_t h = L / 2; h > 0; h /= 2) {
        if (l < h) {
            part0[l] += part0[l + h];
            part1[l] += part1[l + h];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (l == 0) {
        acc[acc_off] += part0[0];
        acc[acc_off + 1] += part1[0];
    }
}
