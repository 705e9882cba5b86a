/* common.cl: definitions shared by every kernel file (concatenated first).
 * OpenCL C 1.2, fp32 only, no extension required. */

/* Activation codes: the same numbers as nncl_act in include/nncl/ops.h. */
#define ACT_IDENTITY 0
#define ACT_RELU 1
#define ACT_LEAKY_RELU 2
#define ACT_SIGMOID 3
#define ACT_TANH 4
