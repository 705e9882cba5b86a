/* The oracles of conv2d_fwd and conv2d_bwd: the formulas of ops.h as nested
 * loops summed in double, sharing no code with the im2col + gemm path they
 * judge. Slow; for tests and `nncl check` only. */
#include <string.h>

#include "ops/conv_impl.h"
#include "ops/op_util.h"

/* The input pixel (n, c, i*SH - PH + a, j*SW - PW + e) as an index into x,
 * or -1 in the padding. */
static long tap(const nncl_conv2d_shape *s, size_t n, size_t c, size_t i, size_t j, size_t a, size_t e)
{
    long y = (long)(i * s->stride_h + a) - (long)s->pad_h, z = (long)(j * s->stride_w + e) - (long)s->pad_w;
    if (y < 0 || z < 0 || y >= (long)s->h || z >= (long)s->w)
        return -1;
    return (long)(((n * s->c + c) * s->h + (size_t)y) * s->w + (size_t)z);
}

void nncl_conv2d_reference_fwd(const nncl_conv2d_shape *s, const float *x, const float *w, const float *b,
                               nncl_act act, float act_param, float *y)
{
    for (size_t n = 0; n < s->n; n++)
        for (size_t k = 0; k < s->k; k++)
            for (size_t i = 0; i < s->oh; i++)
                for (size_t j = 0; j < s->ow; j++) {
                    double sum = 0;
                    for (size_t c = 0; c < s->c; c++)
                        for (size_t a = 0; a < s->kh; a++)
                            for (size_t e = 0; e < s->kw; e++) {
                                long t = tap(s, n, c, i, j, a, e);
                                if (t >= 0)
                                    sum += (double)w[((k * s->c + c) * s->kh + a) * s->kw + e] * (double)x[t];
                            }
                    float v = (float)sum + (b ? b[k] : 0.0f);
                    y[((n * s->k + k) * s->oh + i) * s->ow + j] = nncl_act_apply(act, act_param, v);
                }
}

void nncl_conv2d_reference_bwd(const nncl_conv2d_shape *s, const float *x, const float *w, const float *dy,
                               double *dx, double *dw, double *db)
{
    if (dx)
        memset(dx, 0, nncl_conv2d_x_len(s) * sizeof *dx);
    if (dw)
        memset(dw, 0, nncl_conv2d_w_len(s) * sizeof *dw);
    if (db)
        memset(db, 0, s->k * sizeof *db);
    for (size_t n = 0; n < s->n; n++)
        for (size_t k = 0; k < s->k; k++)
            for (size_t i = 0; i < s->oh; i++)
                for (size_t j = 0; j < s->ow; j++) {
                    double g = dy[((n * s->k + k) * s->oh + i) * s->ow + j];
                    if (db)
                        db[k] += g;
                    for (size_t c = 0; c < s->c; c++)
                        for (size_t a = 0; a < s->kh; a++)
                            for (size_t e = 0; e < s->kw; e++) {
                                long t = tap(s, n, c, i, j, a, e);
                                if (t < 0)
                                    continue;
                                size_t wi = ((k * s->c + c) * s->kh + a) * s->kw + e;
                                if (dw)
                                    dw[wi] += g * x[t];
                                if (dx)
                                    dx[t] += g * w[wi];
                            }
                }
}
