/* The host linear_u8_head's loops for AVX2 with FMA (u8_head_host_kernels.inc),
 * built with -mavx2 -mfma and called only where the CPU has them. */
#define U8K_VW 8
#define U8K_NAME(x) x##_avx2
#include "u8_head_host_kernels.inc"
