/* batchnorm.cl: batch normalisation per channel, forward and backward.
 * Host twins: nncl_host_batchnorm_fwd / nncl_host_batchnorm_bwd in
 * src/ops/batchnorm.c. x is [N, C, HW] row-major, x[(i*C + ch)*HW + p];
 * channel ch has M = N*HW values, taken in the order m = i*HW + p.
 * The per-channel sums run in one work-group of L lanes per channel (L a
 * power of two <= REDUCE_GROUP_MAX, fixed per device): lane l sums
 * m = l, l + L, ... in turn, then a tree halves the lanes (part[l] +=
 * part[l + h], h = L/2, ..., 1): a fixed order, the same bits every run.
 * Dimension 1 of those launches is the channel; dimension 0 the lanes. */
#ifndef REDUCE_GROUP_MAX
#error "REDUCE_GROUP_MAX comes from the build options (src/ops/kernel_consts.h)"
#endif

/* The walk of lane l over its channel's values m = l, l + L, ... as (i, p),
 * with no division in the loop: a step of L is DI images and DP pixels. */
typedef struct bn_walk {
    uint i, p, di, dp;
} bn_walk;

INLINE bn_walk bn_walk_start(const uint l, const uint L, const uint HW)
{
    bn_walk w = {l / HW, l % HW, L / HW, L % HW};
    return w;
}

INLINE void bn_walk_next(bn_walk *w, const uint HW)
{
    w->p += w->dp;
    w->i += w->di;
    if (w->p >= HW) {
        w->p -= HW;
        w->i++;
    }
}

/* part[0] = the sum of part[0..L) by the tree; every lane sees it after. */
INLINE float bn_tree(__local float *part, const uint l, const uint L)
{
    for (uint h = L / 2; h > 0; h /= 2) {
        if (l < h)
            part[l] += part[l + h];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    return part[0];
}

/* Training statistics of channel ch (one work-group):
 *   mean = (1/M) sum x;  var = (1/M) sum (x - mean)^2   (two passes)
 *   invstd = 1/sqrt(var + eps);  save[ch] = mean, save[C + ch] = invstd
 *   run_mean = (1 - momentum) run_mean + momentum mean
 *   run_var  = (1 - momentum) run_var + momentum var M/(M - 1)  (var when M = 1) */
__kernel void batchnorm_stats(__global const float *x, const ulong x_off, __global float *save,
                              const ulong save_off, __global float *run_mean, const ulong rm_off,
                              __global float *run_var, const ulong rv_off, const uint N, const uint C,
                              const uint HW, const float momentum, const float eps)
{
    __local float part[REDUCE_GROUP_MAX];
    const uint l = get_local_id(0), L = get_local_size(0), ch = get_group_id(1);
    const uint M = N * HW;
    __global const float *xc = x + x_off + (ulong)ch * HW;
    float s = 0.0f;
    for (bn_walk w = bn_walk_start(l, L, HW); w.i < N; bn_walk_next(&w, HW))
        s += xc[w.i * C * HW + w.p];
    part[l] = s;
    barrier(CLK_LOCAL_MEM_FENCE);
    const float mean = bn_tree(part, l, L) / (float)M;
    barrier(CLK_LOCAL_MEM_FENCE);       /* every lane has read part[0] */
    float q = 0.0f;
    for (bn_walk w = bn_walk_start(l, L, HW); w.i < N; bn_walk_next(&w, HW)) {
        const float d = xc[w.i * C * HW + w.p] - mean;
        q += d * d;
    }
    part[l] = q;
    barrier(CLK_LOCAL_MEM_FENCE);
    const float var = bn_tree(part, l, L) / (float)M;
    if (l == 0) {
        save[save_off + ch] = mean;
        save[save_off + C + ch] = 1.0f / sqrt(var + eps);
        const float unbiased = M > 1 ? var * ((float)M / (float)(M - 1)) : var;
        run_mean[rm_off + ch] = (1.0f - momentum) * run_mean[rm_off + ch] + momentum * mean;
        run_var[rv_off + ch] = (1.0f - momentum) * run_var[rv_off + ch] + momentum * unbiased;
    }
}

/* y = gamma * (x - mean) * invstd + beta, elementwise, with
 *   training (is_var = 0): mean = mu[ch], invstd = s[ch]   (mu, s: save, save + C)
 *   eval (is_var = 1):     mean = mu[ch], invstd = 1/sqrt(s[ch] + eps)
 *                          (mu, s: run_mean, run_var) */
__kernel void batchnorm_apply(__global const float *x, const ulong x_off, __global float *y, const ulong y_off,
                              __global const float *gamma, const ulong g_off, __global const float *beta,
                              const ulong b_off, __global const float *mu, const ulong mu_off,
                              __global const float *s, const ulong s_off, const int is_var, const float eps,
                              const uint C, const uint HW, const uint total)
{
    const uint t = get_global_id(0);
    if (t >= total)
        return;
    const uint ch = (t / HW) % C;
    const float sv = s[s_off + ch];
    const float invstd = is_var ? 1.0f / sqrt(sv + eps) : sv;
    const float xhat = (x[x_off + t] - mu[mu_off + ch]) * invstd;
    y[y_off + t] = gamma[g_off + ch] * xhat + beta[b_off + ch];
}

/* The parameter gradients of channel ch (one work-group), from the training
 * forward's save (mean, invstd), with xhat = (x - mean) * invstd:
 *   dbeta = sum dy;  dgamma = sum dy xhat   (two trees side by side) */
__kernel void batchnorm_bwd_stats(__global const float *x, const ulong x_off, __global const float *dy,
                                  const ulong dy_off, __global const float *save, const ulong save_off,
                                  __global float *dgamma, const ulong dg_off, __global float *dbeta,
                                  const ulong db_off, const uint N, const uint C, const uint HW)
{
    __local float part0[REDUCE_GROUP_MAX], part1[REDUCE_GROUP_MAX];
    const uint l = get_local_id(0), L = get_local_size(0), ch = get_group_id(1);
    const float mean = save[save_off + ch], invstd = save[save_off + C + ch];
    __global const float *xc = x + x_off + (ulong)ch * HW;
    __global const float *gc = dy + dy_off + (ulong)ch * HW;
    float s0 = 0.0f, s1 = 0.0f;
    for (bn_walk w = bn_walk_start(l, L, HW); w.i < N; bn_walk_next(&w, HW)) {
        const uint at = w.i * C * HW + w.p;
        const float g = gc[at];
        s0 += g;
        s1 += g * ((xc[at] - mean) * invstd);
    }
    part0[l] = s0;
    part1[l] = s1;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint h = L / 2; h > 0; h /= 2) {
        if (l < h) {
            part0[l] += part0[l + h];
            part1[l] += part1[l + h];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (l == 0) {
        dbeta[db_off + ch] = part0[0];
        dgamma[dg_off + ch] = part1[0];
    }
}

/* dx = gamma invstd / M * (M dy - dbeta - xhat dgamma), elementwise, with
 * xhat = (x - mean) * invstd, mean and invstd from save, dgamma and dbeta
 * from batchnorm_bwd_stats. */
__kernel void batchnorm_bwd_dx(__global const float *x, const ulong x_off, __global const float *dy,
                               const ulong dy_off, __global const float *gamma, const ulong g_off,
                               __global const float *save, const ulong save_off, __global const float *dgamma,
                               const ulong dg_off, __global const float *dbeta, const ulong db_off,
                               __global float *dx, const ulong dx_off, const uint C, const uint HW,
                               const uint M, const uint total)
{
    const uint t = get_global_id(0);
    if (t >= total)
        return;
    const uint ch = (t / HW) % C;
    const float mean = save[save_off + ch], invstd = save[save_off + C + ch];
    const float xhat = (x[x_off + t] - mean) * invstd;
    const float k = gamma[g_off + ch] * invstd / (float)M;
    dx[dx_off + t] = k * ((float)M * dy[dy_off + t] - dbeta[db_off + ch] - xhat * dgamma[dg_off + ch]);
}
