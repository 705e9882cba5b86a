/* batchnorm_fwd, batchnorm_bwd: batch normalisation per channel.
 * Kernels: cl/batchnorm.cl. The host twins are the formulas of ops.h as
 * loops over each channel's values in the order m = i*hw + p, the sums in
 * double (the oracle should be the more accurate side); the elementwise
 * steps (y, dx) are the kernels' float expressions. */
#include <math.h>
#include <stdint.h>

#include "device/opencl_impl.h"
#include "ops/op_util.h"

/* Sizes >= 1, n*c*hw below 2^31 (the kernels index in 32 bits). */
static nncl_status check_sizes(size_t n, size_t c, size_t hw, const char *op)
{
    if (!n || !c || !hw)
        return nncl_fail(NNCL_E_INVALID, "%s: sizes must be >= 1 (n %zu, c %zu, hw %zu)", op, n, c, hw);
    if (n > INT32_MAX || c > INT32_MAX || hw > INT32_MAX || n * c > INT32_MAX / hw)
        return nncl_fail(NNCL_E_UNSUPPORTED, "%s: an input of %zu x %zu x %zu is too large (2^31 elements at most)",
                         op, n, c, hw);
    return NNCL_OK;
}

/* Each view of views[] must hold float[lens[]]; names[] name them; the op
 * writes views[first_out] and those after it. */
static nncl_status check_views(const nncl_device *dev, const nncl_view *views, const size_t *lens,
                               const char *const *names, int count, int first_out)
{
    nncl_status st = NNCL_OK;
    for (int i = 0; i < count && st == NNCL_OK; i++)
        st = (i < first_out ? nncl_view_check : nncl_view_check_out)(dev, views[i], sizeof(float), lens[i],
                                                                     names[i]);
    return st;
}

nncl_status nncl_check_batchnorm_fwd(const nncl_device *dev, const nncl_batchnorm_fwd_args *a)
{
    nncl_status st = check_sizes(a->n, a->c, a->hw, "batchnorm_fwd");
    if (st != NNCL_OK)
        return st;
    if (!(a->eps >= 0.0f) || isinf(a->eps))
        return nncl_fail(NNCL_E_INVALID, "batchnorm_fwd: eps %g must be finite and >= 0", (double)a->eps);
    if (!(a->momentum >= 0.0f && a->momentum <= 1.0f))
        return nncl_fail(NNCL_E_INVALID, "batchnorm_fwd: momentum %g must be in [0, 1]", (double)a->momentum);
    size_t total = a->n * a->c * a->hw, c = a->c;
    const nncl_view views[] = {a->x, a->gamma, a->beta, a->y, a->run_mean, a->run_var, a->save};
    const size_t lens[] = {total, c, c, total, c, c, 2 * c};
    const char *const names[] = {"batchnorm_fwd: x", "batchnorm_fwd: gamma", "batchnorm_fwd: beta",
                                 "batchnorm_fwd: y", "batchnorm_fwd: run_mean", "batchnorm_fwd: run_var",
                                 "batchnorm_fwd: save"};
    /* save is written in training only: eval may pass {NULL}; the running
     * statistics are written in training (and held to the same rule in
     * evaluation, where they are read) */
    return check_views(dev, views, lens, names, a->train ? 7 : 6, 3);
}

nncl_status nncl_check_batchnorm_bwd(const nncl_device *dev, const nncl_batchnorm_bwd_args *a)
{
    nncl_status st = check_sizes(a->n, a->c, a->hw, "batchnorm_bwd");
    if (st != NNCL_OK)
        return st;
    size_t total = a->n * a->c * a->hw, c = a->c;
    const nncl_view views[] = {a->x, a->dy, a->gamma, a->save, a->dgamma, a->dbeta, a->dx};
    const size_t lens[] = {total, total, c, 2 * c, c, c, total};
    const char *const names[] = {"batchnorm_bwd: x", "batchnorm_bwd: dy", "batchnorm_bwd: gamma",
                                 "batchnorm_bwd: save", "batchnorm_bwd: dgamma", "batchnorm_bwd: dbeta",
                                 "batchnorm_bwd: dx"};
    return check_views(dev, views, lens, names, a->dx.buf ? 7 : 6, 4);
}

/* ---- host twins ---------------------------------------------------------------------- */

/* x[(i*c + ch)*hw + p] */
static size_t at(size_t i, size_t ch, size_t p, size_t c, size_t hw) { return (i * c + ch) * hw + p; }

/* mean and biased variance of channel ch in double, two passes */
static void channel_stats(const float *x, size_t n, size_t c, size_t hw, size_t ch, double *mean, double *var)
{
    double s = 0, q = 0, M = (double)(n * hw);
    for (size_t i = 0; i < n; i++)
        for (size_t p = 0; p < hw; p++)
            s += x[at(i, ch, p, c, hw)];
    *mean = s / M;
    for (size_t i = 0; i < n; i++)
        for (size_t p = 0; p < hw; p++) {
            double d = x[at(i, ch, p, c, hw)] - *mean;
            q += d * d;
        }
    *var = q / M;
}

/* y = gamma * (x - mean) * invstd + beta over channel ch, as batchnorm_apply */
static void channel_apply(const float *x, float *y, size_t n, size_t c, size_t hw, size_t ch, float gamma,
                          float beta, float mean, float invstd)
{
    for (size_t i = 0; i < n; i++)
        for (size_t p = 0; p < hw; p++) {
            size_t t = at(i, ch, p, c, hw);
            float xhat = (x[t] - mean) * invstd;
            y[t] = gamma * xhat + beta;
        }
}

nncl_status nncl_host_batchnorm_fwd(nncl_device *dev, const nncl_batchnorm_fwd_args *a)
{
    (void)dev;
    const float *x = nncl_host_f32(a->x), *gamma = nncl_host_f32(a->gamma), *beta = nncl_host_f32(a->beta);
    float *y = nncl_host_f32(a->y), *rm = nncl_host_f32(a->run_mean), *rv = nncl_host_f32(a->run_var);
    size_t M = a->n * a->hw;
    for (size_t ch = 0; ch < a->c; ch++) {
        float mean, invstd;
        if (a->train) {
            double mu, var, mom = a->momentum;
            channel_stats(x, a->n, a->c, a->hw, ch, &mu, &var);
            mean = (float)mu;
            invstd = (float)(1.0 / sqrt(var + a->eps));
            float *save = nncl_host_f32(a->save);
            save[ch] = mean;
            save[a->c + ch] = invstd;
            double unbiased = M > 1 ? var * (double)M / (double)(M - 1) : var;
            rm[ch] = (float)((1 - mom) * rm[ch] + mom * mu);
            rv[ch] = (float)((1 - mom) * rv[ch] + mom * unbiased);
        } else {
            mean = rm[ch];
            invstd = (float)(1.0 / sqrt((double)rv[ch] + a->eps));
        }
        channel_apply(x, y, a->n, a->c, a->hw, ch, gamma[ch], beta[ch], mean, invstd);
    }
    return NNCL_OK;
}

nncl_status nncl_host_batchnorm_bwd(nncl_device *dev, const nncl_batchnorm_bwd_args *a)
{
    (void)dev;
    const float *x = nncl_host_f32(a->x), *dy = nncl_host_f32(a->dy), *gamma = nncl_host_f32(a->gamma);
    const float *save = nncl_host_f32(a->save);
    float *dg = nncl_host_f32(a->dgamma), *db = nncl_host_f32(a->dbeta);
    float *dx = a->dx.buf ? nncl_host_f32(a->dx) : NULL;
    size_t n = a->n, c = a->c, hw = a->hw, M = n * hw;
    for (size_t ch = 0; ch < c; ch++) {
        float mean = save[ch], invstd = save[c + ch];
        double s0 = 0, s1 = 0;
        for (size_t i = 0; i < n; i++)
            for (size_t p = 0; p < hw; p++) {
                size_t t = at(i, ch, p, c, hw);
                float xhat = (x[t] - mean) * invstd;
                s0 += dy[t];
                s1 += (double)dy[t] * xhat;
            }
        db[ch] = (float)s0;
        dg[ch] = (float)s1;
        if (!dx)
            continue;
        float k = gamma[ch] * invstd / (float)M;
        for (size_t i = 0; i < n; i++)
            for (size_t p = 0; p < hw; p++) {
                size_t t = at(i, ch, p, c, hw);
                float xhat = (x[t] - mean) * invstd;
                dx[t] = k * ((float)M * dy[t] - db[ch] - xhat * dg[ch]);
            }
    }
    return NNCL_OK;
}

/* ---- OpenCL dispatchers ------------------------------------------------------------------ */

#define BN_VIEW(v) nncl_arg_buf((v).buf), nncl_arg_ulong((v).off)

/* One work-group of nncl_reduce_group(dev) lanes per channel. */
static void per_channel(const nncl_device *dev, size_t c, size_t global[2], size_t local[2])
{
    size_t lanes = nncl_reduce_group(dev);
    global[0] = lanes, global[1] = c;
    local[0] = lanes, local[1] = 1;
}

nncl_status nncl_cl_batchnorm_fwd(nncl_device *dev, const nncl_batchnorm_fwd_args *a)
{
    size_t total = a->n * a->c * a->hw;
    nncl_view mu = a->run_mean, s = a->run_var;
    if (a->train) {
        size_t global[2], local[2];
        per_channel(dev, a->c, global, local);
        nncl_status st = nncl_cl_launch(
            dev, "batchnorm_stats", 2, global, local,
            NNCL_CL_ARGS(BN_VIEW(a->x), BN_VIEW(a->save), BN_VIEW(a->run_mean), BN_VIEW(a->run_var),
                         nncl_arg_uint((unsigned)a->n), nncl_arg_uint((unsigned)a->c),
                         nncl_arg_uint((unsigned)a->hw), nncl_arg_float(a->momentum), nncl_arg_float(a->eps)));
        if (st != NNCL_OK)
            return st;
        mu = a->save;
        s = (nncl_view){a->save.buf, a->save.off + a->c};
    }
    return nncl_cl_launch(dev, "batchnorm_apply", 1, &total, NULL,
                          NNCL_CL_ARGS(BN_VIEW(a->x), BN_VIEW(a->y), BN_VIEW(a->gamma), BN_VIEW(a->beta),
                                       BN_VIEW(mu), BN_VIEW(s), nncl_arg_int(!a->train), nncl_arg_float(a->eps),
                                       nncl_arg_uint((unsigned)a->c), nncl_arg_uint((unsigned)a->hw),
                                       nncl_arg_uint((unsigned)total)));
}

nncl_status nncl_cl_batchnorm_bwd(nncl_device *dev, const nncl_batchnorm_bwd_args *a)
{
    size_t global[2], local[2], total = a->n * a->c * a->hw;
    per_channel(dev, a->c, global, local);
    nncl_status st = nncl_cl_launch(dev, "batchnorm_bwd_stats", 2, global, local,
                                    NNCL_CL_ARGS(BN_VIEW(a->x), BN_VIEW(a->dy), BN_VIEW(a->save),
                                                 BN_VIEW(a->dgamma), BN_VIEW(a->dbeta),
                                                 nncl_arg_uint((unsigned)a->n), nncl_arg_uint((unsigned)a->c),
                                                 nncl_arg_uint((unsigned)a->hw)));
    if (st != NNCL_OK || !a->dx.buf)
        return st;
    return nncl_cl_launch(dev, "batchnorm_bwd_dx", 1, &total, NULL,
                          NNCL_CL_ARGS(BN_VIEW(a->x), BN_VIEW(a->dy), BN_VIEW(a->gamma), BN_VIEW(a->save),
                                       BN_VIEW(a->dgamma), BN_VIEW(a->dbeta), BN_VIEW(a->dx),
                                       nncl_arg_uint((unsigned)a->c), nncl_arg_uint((unsigned)a->hw),
                                       nncl_arg_uint((unsigned)(a->n * a->hw)), nncl_arg_uint((unsigned)total)));
}
