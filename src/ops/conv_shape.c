/* The geometry of a convolution and of a pooling: making a shape from the
 * usual parameters (same, valid or explicit padding), the scratch it needs,
 * and the checks every convolution op shares. */
#include <stdint.h>

#include "ops/conv_impl.h"
#include "ops/op_util.h"

nncl_status nncl_conv2d_shape_make(size_t n, size_t c, size_t h, size_t w, size_t k, size_t kh, size_t kw,
                                   size_t stride, int padding, nncl_conv2d_shape *s)
{
    if (!s)
        return nncl_fail(NNCL_E_INVALID, "conv2d: no shape to fill");
    if (!n || !c || !h || !w || !k || !kh || !kw || !stride)
        return nncl_fail(NNCL_E_INVALID, "conv2d: sizes and stride must be >= 1 (input %zux%zux%zux%zu, "
                         "%zu filters of %zux%zu, stride %zu)", n, c, h, w, k, kh, kw, stride);
    if (padding < NNCL_PAD_SAME)
        return nncl_fail(NNCL_E_INVALID, "conv2d: padding %d is neither same (-1) nor a count >= 0", padding);
    *s = (nncl_conv2d_shape){.n = n, .c = c, .h = h, .w = w, .k = k, .kh = kh, .kw = kw,
                             .stride_h = stride, .stride_w = stride};
    size_t in[2] = {h, w}, ker[2] = {kh, kw}, pad[2], out[2];
    for (int d = 0; d < 2; d++) {
        if (padding == NNCL_PAD_SAME) {
            /* out = ceil(in / stride); the zeros needed to reach it are split
             * with the odd one after (TensorFlow's "SAME"). */
            out[d] = (in[d] + stride - 1) / stride;
            size_t span = (out[d] - 1) * stride + ker[d];
            pad[d] = span > in[d] ? (span - in[d]) / 2 : 0;
        } else {
            pad[d] = (size_t)padding;
            if (in[d] + 2 * pad[d] < ker[d])
                return nncl_fail(NNCL_E_INVALID, "conv2d: a %zux%zu filter does not fit a %zux%zu input "
                                 "padded by %zu", kh, kw, h, w, pad[d]);
            out[d] = (in[d] + 2 * pad[d] - ker[d]) / stride + 1;
        }
    }
    s->pad_h = pad[0];
    s->pad_w = pad[1];
    s->oh = out[0];
    s->ow = out[1];
    return nncl_check_conv2d_shape(s, true, "conv2d");
}

size_t nncl_conv2d_scratch_len(const nncl_conv2d_shape *s)
{
    size_t rows = 0, q = 0, col = 0, y = 0;
    if (!s || nncl_size_mul(s->n, s->oh * s->ow, &rows, "conv2d") != NNCL_OK ||
        nncl_size_mul(s->c, s->kh * s->kw, &q, "conv2d") != NNCL_OK ||
        nncl_size_mul(rows, q, &col, "conv2d") != NNCL_OK || nncl_size_mul(rows, s->k, &y, "conv2d") != NNCL_OK ||
        col > SIZE_MAX - y) {
        nncl_clear_error();
        return 0;
    }
    return col + y;
}

nncl_status nncl_check_conv2d_shape(const nncl_conv2d_shape *s, bool need_k, const char *op)
{
    if (!s->n || !s->c || !s->h || !s->w || (need_k && !s->k) || !s->kh || !s->kw || !s->oh || !s->ow)
        return nncl_fail(NNCL_E_INVALID, "%s: sizes must be >= 1 (input %zux%zux%zux%zu, %zu filters of "
                         "%zux%zu, output %zux%zu)", op, s->n, s->c, s->h, s->w, s->k, s->kh, s->kw, s->oh, s->ow);
    if (!s->stride_h || !s->stride_w)
        return nncl_fail(NNCL_E_INVALID, "%s: strides must be >= 1", op);
    const size_t dims[] = {s->n, s->c, s->h, s->w, s->k, s->kh, s->kw, s->stride_h, s->stride_w, s->pad_h,
                           s->pad_w, s->oh, s->ow};
    for (size_t i = 0; i < sizeof dims / sizeof dims[0]; i++)
        if (dims[i] > 65535 && (i > 0 || dims[i] > INT32_MAX))
            return nncl_fail(NNCL_E_UNSUPPORTED, "%s: size %zu is too large (the batch may be up to 2^31 - 1, "
                             "every other size up to 65535)", op, dims[i]);
    /* Every window overlaps the input: the first does when the padding is
     * less than the filter, the last when it starts inside the input. */
    if (s->pad_h >= s->kh || s->pad_w >= s->kw)
        return nncl_fail(NNCL_E_INVALID, "%s: padding %zux%zu must be less than the %zux%zu filter", op,
                         s->pad_h, s->pad_w, s->kh, s->kw);
    /* The kernels divide within an image through float (cl/conv.cl). */
    if (s->h * s->w >= (1u << 20) || s->oh * s->ow >= (1u << 20))
        return nncl_fail(NNCL_E_UNSUPPORTED, "%s: images and outputs are limited to 2^20 pixels (1024 x 1024); "
                         "got %zux%zu -> %zux%zu", op, s->h, s->w, s->oh, s->ow);
    if ((s->oh - 1) * s->stride_h >= s->h + s->pad_h || (s->ow - 1) * s->stride_w >= s->w + s->pad_w)
        return nncl_fail(NNCL_E_INVALID, "%s: an output of %zux%zu with stride %zux%zu reads past the %zux%zu "
                         "input padded by %zux%zu", op, s->oh, s->ow, s->stride_h, s->stride_w, s->h, s->w,
                         s->pad_h, s->pad_w);
    /* Kernels index dimensions with ints, and gemm needs every matrix below
     * 2^31 elements: the input, the patch matrix, the output, the filters. */
    size_t k = need_k ? s->k : 1;
    const size_t counts[4][4] = {{s->n, s->c, s->h, s->w}, {s->n, s->oh * s->ow, s->c, s->kh * s->kw},
                                 {s->n, s->oh * s->ow, k, 1}, {k, s->c, s->kh, s->kw}};
    for (int i = 0; i < 4; i++) {
        size_t total = 1;
        for (int j = 0; j < 4; j++)
            if (counts[i][j] > INT32_MAX || nncl_size_mul(total, counts[i][j], &total, op) != NNCL_OK ||
                total > INT32_MAX) {
                nncl_clear_error();
                return nncl_fail(NNCL_E_UNSUPPORTED, "%s: a tensor of input %zux%zux%zux%zu, %zu filters of "
                                 "%zux%zu, output %zux%zu has 2^31 elements or more (use a smaller batch)",
                                 op, s->n, s->c, s->h, s->w, s->k, s->kh, s->kw, s->oh, s->ow);
            }
    }
    return NNCL_OK;
}

nncl_status nncl_pool2d_shape_make(size_t n, size_t c, size_t h, size_t w, size_t window, size_t stride,
                                   nncl_pool2d_shape *s)
{
    if (!s)
        return nncl_fail(NNCL_E_INVALID, "pool2d: no shape to fill");
    if (!stride)
        stride = window;
    if (!n || !c || !h || !w || !window)
        return nncl_fail(NNCL_E_INVALID, "pool2d: sizes and window must be >= 1 (input %zux%zux%zux%zu, "
                         "window %zu)", n, c, h, w, window);
    if (window > h || window > w)
        return nncl_fail(NNCL_E_INVALID, "pool2d: a %zux%zu window is larger than the %zux%zu input", window,
                         window, h, w);
    *s = (nncl_pool2d_shape){.n = n, .c = c, .h = h, .w = w, .window = window, .stride = stride,
                             .oh = (h - window) / stride + 1, .ow = (w - window) / stride + 1};
    return NNCL_OK;
}
