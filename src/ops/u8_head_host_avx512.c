/* The host linear_u8_head's loops for AVX-512 (u8_head_host_kernels.inc),
 * built with -mavx512f -mfma and called only where the CPU has it. */
#define U8K_VW 16
#define U8K_NAME(x) x##_avx512
#include "u8_head_host_kernels.inc"
