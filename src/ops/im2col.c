/* im2col and col2im: a convolution's patch matrix and its adjoint.
 * Kernels: cl/conv.cl. conv2d.c builds the convolution from them and gemm. */
#include <stdlib.h>
#include <string.h>

#include "device/opencl_impl.h"
#include "ops/conv_impl.h"
#include "ops/op_util.h"

/* x and col; im2col writes col, col2im writes x (`writes_col`) */
static nncl_status check_pair(const nncl_device *dev, const nncl_conv2d_shape *s, nncl_view x, nncl_view col,
                              const char *op, const char *x_what, const char *col_what, bool writes_col)
{
    nncl_status st = nncl_check_conv2d_shape(s, false, op);
    if (st == NNCL_OK)
        st = (writes_col ? nncl_view_check : nncl_view_check_out)(dev, x, sizeof(float), nncl_conv2d_x_len(s),
                                                                  x_what);
    if (st == NNCL_OK)
        st = (writes_col ? nncl_view_check_out : nncl_view_check)(dev, col, sizeof(float), nncl_conv2d_col_len(s),
                                                                  col_what);
    return st;
}

nncl_status nncl_check_im2col(const nncl_device *dev, const nncl_im2col_args *a)
{
    return check_pair(dev, &a->s, a->x, a->col, "im2col", "im2col: x", "im2col: col", true);
}

nncl_status nncl_check_col2im(const nncl_device *dev, const nncl_col2im_args *a)
{
    return check_pair(dev, &a->s, a->x, a->col, "col2im", "col2im: x", "col2im: col", false);
}

/* ---- host twins: the formulas as loops ------------------------------------------ */

nncl_status nncl_host_im2col(nncl_device *dev, const nncl_im2col_args *a)
{
    (void)dev;
    const nncl_conv2d_shape *s = &a->s;
    const float *x = nncl_host_f32(a->x);
    float *col = nncl_host_f32(a->col);
    size_t R = s->n * s->oh * s->ow;
    for (size_t c = 0; c < s->c; c++)
        for (size_t ka = 0; ka < s->kh; ka++)
            for (size_t ke = 0; ke < s->kw; ke++) {
                float *row = col + ((c * s->kh + ka) * s->kw + ke) * R;
                for (size_t n = 0; n < s->n; n++) {
                    const float *plane = x + (n * s->c + c) * s->h * s->w;
                    for (size_t i = 0; i < s->oh; i++) {
                        /* y = i*SH - PH + a, as unsigned: "negative" wraps to a value >= h */
                        size_t y = i * s->stride_h + ka - s->pad_h;
                        for (size_t j = 0; j < s->ow; j++) {
                            size_t z = j * s->stride_w + ke - s->pad_w;
                            *row++ = y < s->h && z < s->w ? plane[y * s->w + z] : 0.0f;
                        }
                    }
                }
            }
    return NNCL_OK;
}

/* Summed in the kernel's order (i from the largest output row whose window
 * reaches the pixel downwards, then j likewise), in float like the kernel:
 * the two agree to the last bit. */
nncl_status nncl_host_col2im(nncl_device *dev, const nncl_col2im_args *a)
{
    (void)dev;
    const nncl_conv2d_shape *s = &a->s;
    const float *col = nncl_host_f32(a->col);
    float *x = nncl_host_f32(a->x);
    size_t R = s->n * s->oh * s->ow;
    for (size_t n = 0; n < s->n; n++)
        for (size_t c = 0; c < s->c; c++)
            for (size_t y = 0; y < s->h; y++)
                for (size_t z = 0; z < s->w; z++) {
                    size_t yp = y + s->pad_h, zp = z + s->pad_w;
                    size_t i_hi = yp / s->stride_h < s->oh - 1 ? yp / s->stride_h : s->oh - 1;
                    size_t j_hi = zp / s->stride_w < s->ow - 1 ? zp / s->stride_w : s->ow - 1;
                    const float *base = col + c * s->kh * s->kw * R + n * s->oh * s->ow;
                    float sum = 0.0f;
                    /* i + 1 > 0 instead of i >= 0: the counters are unsigned */
                    for (size_t i = i_hi + 1; i > 0 && yp - (i - 1) * s->stride_h < s->kh; i--) {
                        size_t ka = yp - (i - 1) * s->stride_h;
                        for (size_t j = j_hi + 1; j > 0 && zp - (j - 1) * s->stride_w < s->kw; j--)
                            sum += base[(ka * s->kw + zp - (j - 1) * s->stride_w) * R + (i - 1) * s->ow + j - 1];
                    }
                    x[((n * s->c + c) * s->h + y) * s->w + z] = sum;
                }
    return NNCL_OK;
}

/* ---- OpenCL dispatchers ---------------------------------------------------------- */

bool nncl_conv_cpu_form(const nncl_device *dev)
{
    const char *env = getenv("NNCL_CONV_FORM");
    if (env && strcmp(env, "cpu") == 0)
        return true;
    if (env && strcmp(env, "gpu") == 0)
        return false;
    return dev->info.type != NNCL_DEVICE_GPU && dev->info.type != NNCL_DEVICE_ACCELERATOR;
}

#define CONV_SHAPE_ARGS(s)                                                                                    \
    nncl_arg_int((int)(s)->n), nncl_arg_int((int)(s)->c), nncl_arg_int((int)(s)->h), nncl_arg_int((int)(s)->w), \
        nncl_arg_int((int)(s)->kh), nncl_arg_int((int)(s)->kw), nncl_arg_int((int)(s)->stride_h),              \
        nncl_arg_int((int)(s)->stride_w), nncl_arg_int((int)(s)->pad_h), nncl_arg_int((int)(s)->pad_w),        \
        nncl_arg_int((int)(s)->oh), nncl_arg_int((int)(s)->ow)

nncl_status nncl_cl_im2col(nncl_device *dev, const nncl_im2col_args *a)
{
    if (nncl_conv_cpu_form(dev)) {
        size_t global[2] = {a->s.n, a->s.c * a->s.kh * a->s.kw};
        return nncl_cl_launch(dev, "im2col_rows", 2, global, NULL,
                              NNCL_CL_ARGS(nncl_arg_buf(a->x.buf), nncl_arg_ulong(a->x.off),
                                           nncl_arg_buf(a->col.buf), nncl_arg_ulong(a->col.off),
                                           CONV_SHAPE_ARGS(&a->s)));
    }
    size_t global = a->s.n * a->s.c * a->s.oh * a->s.ow;
    return nncl_cl_launch(dev, "im2col", 1, &global, NULL,
                          NNCL_CL_ARGS(nncl_arg_buf(a->x.buf), nncl_arg_ulong(a->x.off), nncl_arg_buf(a->col.buf),
                                       nncl_arg_ulong(a->col.off), CONV_SHAPE_ARGS(&a->s)));
}

nncl_status nncl_cl_col2im(nncl_device *dev, const nncl_col2im_args *a)
{
    if (nncl_conv_cpu_form(dev)) {
        size_t rows = a->s.n * a->s.c * a->s.h;
        return nncl_cl_launch(dev, "col2im_rows", 1, &rows, NULL,
                              NNCL_CL_ARGS(nncl_arg_buf(a->col.buf), nncl_arg_ulong(a->col.off),
                                           nncl_arg_buf(a->x.buf), nncl_arg_ulong(a->x.off),
                                           CONV_SHAPE_ARGS(&a->s)));
    }
    size_t global[2] = {a->s.h * a->s.w, a->s.n * a->s.c};
    return nncl_cl_launch(dev, "col2im", 2, global, NULL,
                          NNCL_CL_ARGS(nncl_arg_buf(a->col.buf), nncl_arg_ulong(a->col.off), nncl_arg_buf(a->x.buf),
                                       nncl_arg_ulong(a->x.off), CONV_SHAPE_ARGS(&a->s)));
}
