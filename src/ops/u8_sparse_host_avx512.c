/* The host's sparse byte-input loops for AVX-512
 * (u8_sparse_host_kernels.inc), built with -mavx512f -mfma and called only
 * where the CPU has them. */
#define U8S_VW 16
#define U8S_NAME(x) x##_avx512
#include "u8_sparse_host_kernels.inc"
