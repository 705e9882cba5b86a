/* The host backend's direct convolution (stride 1): the products summed in
 * register blocks straight from zero-bordered input planes, with no patch
 * matrix. conv_direct.c says why and how; the blocks themselves are in
 * conv_direct_kernels.inc, compiled per instruction set. Private to the
 * library (and its tests). */
#ifndef NNCL_CONV_DIRECT_H
#define NNCL_CONV_DIRECT_H

#include <stdbool.h>
#include <stddef.h>

#include "nncl/ops.h"

/* What one forward block reads (conv_direct_kernels.inc states its sum):
 * `taps` taps at offsets off[] into the bordered planes, rows PW floats
 * apart, the weights of tap t at w + t*ldw. */
typedef struct cd_fwd_call {
    const size_t *off;
    size_t taps, PW, ldw;
} cd_fwd_call;

/* What one filter-gradient block reads: the block's TB taps at off[] (the
 * block's own), an image's oh x ow output pixels, rows PW floats apart in
 * the planes, its gradients ldg floats per pixel, the block's dW rows ldw
 * floats apart. */
typedef struct cd_dw_call {
    const size_t *off;
    size_t oh, ow, PW, ldg, ldw;
} cd_dw_call;

typedef struct cd_fwd_kernel {
    int kb, rb, cb; /* vectors of filters, output rows, output columns */
    void (*fn)(const cd_fwd_call *c, const float *in, const float *w, float *out);
} cd_fwd_kernel;

typedef struct cd_dw_kernel {
    int kb, tb; /* vectors of filters, taps */
    void (*fn)(const cd_dw_call *c, const float *in, const float *g, float *dw);
} cd_dw_kernel;

/* One instruction set's blocks. */
typedef struct cd_isa {
    int vw;
    const cd_fwd_kernel *fwd;
    size_t n_fwd;
    const cd_dw_kernel *dw;
    size_t n_dw;
} cd_isa;

extern const cd_isa cd_isa_avx512, cd_isa_avx2;

/* The blocks this machine runs for shape s, or NULL where the direct form
 * does not apply: a stride other than 1, fewer than 16 taps a filter, a
 * CPU without AVX-512, a build for another architecture (conv_direct.c says
 * why for each); then conv2d.c takes im2col and OpenBLAS.
 * NNCL_CONV_DIRECT=off turns the direct form off, =avx2 runs the AVX2
 * blocks (on a CPU with AVX2 and FMA), which are otherwise never chosen;
 * the tests run both on every shape, benchmarks compare them. */
const cd_isa *nncl_conv_direct_isa(const nncl_conv2d_shape *s);

/* The forward and backward passes (conv2d's arguments, checked by then).
 * Backward computes dW, and dx when asked; db is conv2d.c's. `chunk` is the
 * images per dW slot: the slots are summed in order at the end, so the
 * result does not depend on which thread summed which chunk. */
nncl_status nncl_conv_direct_fwd(nncl_device *dev, const cd_isa *isa, const nncl_conv2d_fwd_args *a);
nncl_status nncl_conv_direct_bwd(nncl_device *dev, const cd_isa *isa, const nncl_conv2d_bwd_args *a, size_t chunk);

#endif
