/* The host's sparse byte-input loops for AVX2 with FMA
 * (u8_sparse_host_kernels.inc), built with -mavx2 -mfma and called only
 * where the CPU has them. */
#define U8S_VW 8
#define U8S_NAME(x) x##_avx2
#include "u8_sparse_host_kernels.inc"
