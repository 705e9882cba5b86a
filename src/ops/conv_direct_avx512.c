/* The direct convolution's blocks for AVX-512: 32 registers of 16 floats,
 * so up to 28 accumulators beside a tap's weights (conv_direct_kernels.inc).
 * Built with -mavx512f -mfma (src/ops/meson.build) and called only where
 * the CPU has them (nncl_conv_direct_isa). */
#define CD_VW 16
#define CD_MAX_ACC 28
#define CD_NAME(x) x##_avx512
/* X(vectors of filters, output rows, output columns): 16 to 64 filters by
 * 7 to 28 pixels (the rows of a 28- or 14-wide image, or halves of them) */
#define CD_FWD_SHAPES(X) X(1, 1, 28) X(1, 2, 14) X(1, 4, 7) X(2, 1, 14) X(2, 2, 7) X(3, 1, 9) X(4, 1, 7)
/* X(vectors of filters, taps): a 5x5 or 3x3 filter's taps whole, or runs
 * of a larger layer's */
#define CD_DW_SHAPES(X) X(1, 28) X(1, 25) X(1, 9) X(2, 14) X(2, 13) X(2, 9) X(3, 9) X(4, 7) X(4, 6)
#include "conv_direct_kernels.inc"
