/* The host optim_step's loops for AVX-512 (optim_host_loops.inc), built with
 * -mavx512f alone (no FMA contraction: the bits of the plain loop) and called
 * only where the CPU has it. */
#define OPT_NAME(x) x##_avx512
#include "optim_host_loops.inc"
