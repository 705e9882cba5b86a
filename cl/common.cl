/* common.cl: definitions shared by every kernel file (concatenated first).
 * OpenCL C 1.2, fp32 only, no extension required. */

/* Activation codes: the same numbers as nncl_act in include/nncl/ops.h. */
#define ACT_IDENTITY 0
#define ACT_RELU 1
#define ACT_LEAKY_RELU 2
#define ACT_SIGMOID 3
#define ACT_TANH 4

/* Helper functions: "static inline" so that no compiler expects an external
 * definition (C99 inline rules); OpenCL C 1.1 does not allow "static". */
#if defined(__OPENCL_C_VERSION__) && __OPENCL_C_VERSION__ >= 120
#define INLINE static inline
#else
#define INLINE inline
#endif

/* For a helper whose callers pass constants that must fold away (a flag
 * choosing between two inner loops): with two call sites PoCL's LLVM kept
 * one out-of-line copy, and the flag tested at run time made the inner
 * loop 2.5 times slower. */
#define ALWAYS_INLINE __attribute__((always_inline)) INLINE

/* Sum of the lanes of a vector, as a fixed tree (halves, then halves of
 * those): the same order everywhere it is used, so the same bits. */
INLINE float hsum4(const float4 v)
{
    const float2 h2 = v.lo + v.hi;
    return h2.x + h2.y;
}

INLINE float hsum8(const float8 v) { return hsum4(v.lo + v.hi); }

INLINE float hsum16(const float16 v) { return hsum8(v.lo + v.hi); }
