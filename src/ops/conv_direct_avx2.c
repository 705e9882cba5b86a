/* The direct convolution's blocks for AVX2 with FMA: 16 registers of 8
 * floats, so up to 12 accumulators beside a tap's weights and a broadcast
 * (conv_direct_kernels.inc). Built with -mavx2 -mfma (src/ops/meson.build)
 * and called only when NNCL_CONV_DIRECT=avx2 asks for them on a CPU that has
 * them (nncl_conv_direct_isa says why they are not the default). */
#define CD_VW 8
#define CD_MAX_ACC 12
#define CD_NAME(x) x##_avx2
/* X(vectors of filters, output rows, output columns) */
#define CD_FWD_SHAPES(X) X(1, 1, 12) X(1, 2, 6) X(1, 3, 4) X(2, 1, 6) X(2, 2, 3) X(3, 1, 4) X(4, 1, 2)
/* X(vectors of filters, taps) */
#define CD_DW_SHAPES(X) X(1, 12) X(1, 9) X(2, 6) X(2, 5) X(3, 4) X(4, 2)
#include "conv_direct_kernels.inc"
