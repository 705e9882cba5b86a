/* Private to the library (and its tests): the shape checks shared by the
 * convolution ops, and the double-precision oracles the tests compare every
 * device's conv2d_fwd and conv2d_bwd with (src/ops/conv_reference.c). */
#ifndef NNCL_CONV_IMPL_H
#define NNCL_CONV_IMPL_H

#include "device/backend.h"

/* Sizes >= 1, every window overlapping the input (pad < kernel, the last
 * window starting inside it), and every count the kernels index below 2^31.
 * With `need_k`, k too (im2col and col2im do not use it). `op` names the op. */
nncl_status nncl_check_conv2d_shape(const nncl_conv2d_shape *s, bool need_k, const char *op);

/* Whether conv2d, im2col and col2im run their CPU form on this OpenCL
 * device: the batch in chunks of images that fit the cache, and the
 * data-moving kernels with a row per work-item (cl/conv.cl, *_rows). GPUs
 * and accelerators get one chunk and a pixel per work-item (coalesced).
 * NNCL_CONV_FORM=cpu or gpu overrides it (the tests run both forms on
 * every device, Oclgrind included). */
bool nncl_conv_cpu_form(const nncl_device *dev);

/* Element counts: the input, the patch matrix, the output, the filters. */
static inline size_t nncl_conv2d_x_len(const nncl_conv2d_shape *s) { return s->n * s->c * s->h * s->w; }
static inline size_t nncl_conv2d_col_len(const nncl_conv2d_shape *s)
{
    return s->n * s->oh * s->ow * s->c * s->kh * s->kw;
}
static inline size_t nncl_conv2d_y_len(const nncl_conv2d_shape *s) { return s->n * s->k * s->oh * s->ow; }
static inline size_t nncl_conv2d_w_len(const nncl_conv2d_shape *s) { return s->k * s->c * s->kh * s->kw; }

/* The convolution straight from its formula, 7 nested loops summed in
 * double: y = act(conv(x, w) + b) (b may be NULL). */
void nncl_conv2d_reference_fwd(const nncl_conv2d_shape *s, const float *x, const float *w, const float *b,
                               nncl_act act, float act_param, float *y);
/* Its gradients, in double: dw and db (may be NULL) by their sums, dx (may be
 * NULL) by scattering each dy[n, k, i, j] w[k, ...] onto the pixels it read. */
void nncl_conv2d_reference_bwd(const nncl_conv2d_shape *s, const float *x, const float *w, const float *dy,
                               double *dx, double *dw, double *db);

#endif
