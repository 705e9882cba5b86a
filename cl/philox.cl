/* philox.cl: the Philox-4x32-10 counter-based generator (Salmon et al.,
 * "Parallel random numbers: as easy as 1, 2, 3", SC 2011; the Random123
 * constants). This one file is compiled twice: as OpenCL C in the kernel
 * program, and as C11 by src/ops/dropout.c, so host and device draw the
 * same bits by construction.
 *
 * Ten rounds of, with counter (c0, c1, c2, c3) and key (k0, k1):
 *   hi0:lo0 = M0 * c0,  hi1:lo1 = M1 * c2      (32 x 32 -> 64 bits)
 *   (c0, c1, c2, c3) = (hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0)
 *   (k0, k1) += (W0, W1)                          (between rounds) */
#ifdef __OPENCL_VERSION__
#define PHILOX_U32 uint
#define PHILOX_FN
#define PHILOX_MULHI(a, b) mul_hi((a), (b))
#define PHILOX_OUT __private
#else
#include <stdint.h>
#define PHILOX_U32 uint32_t
#define PHILOX_FN static inline
#define PHILOX_MULHI(a, b) ((uint32_t)(((uint64_t)(a) * (uint64_t)(b)) >> 32))
#define PHILOX_OUT
#endif

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

/* out[0..3] = Philox-4x32-10(counter c, key k). */
PHILOX_FN void philox4x32_10(PHILOX_U32 c0, PHILOX_U32 c1, PHILOX_U32 c2, PHILOX_U32 c3,
                             PHILOX_U32 k0, PHILOX_U32 k1, PHILOX_OUT PHILOX_U32 *out)
{
    for (int round = 0; round < 10; round++) {
        PHILOX_U32 hi0 = PHILOX_MULHI(PHILOX_M0, c0), lo0 = PHILOX_M0 * c0;
        PHILOX_U32 hi1 = PHILOX_MULHI(PHILOX_M1, c2), lo1 = PHILOX_M1 * c2;
        c0 = hi1 ^ c1 ^ k0;
        c1 = lo1;
        c2 = hi0 ^ c3 ^ k1;
        c3 = lo0;
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
}

/* A uniform float in [0, 1) from the top 24 bits of r: exact in fp32. */
PHILOX_FN float philox_uniform(PHILOX_U32 r)
{
    return (float)(r >> 8) * (1.0f / 16777216.0f);
}
