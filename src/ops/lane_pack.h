/* lane_pack8: AVX2's stand-in for AVX-512's compress. For a mask m of 8
 * lanes, nibble k of lane_pack8[m] is the lane of m's k-th set bit (0 past
 * the last): shifted out per lane (vpsrlvd by 0, 4, ..., 28, masked to 4
 * bits) it is the permutation (vpermd) that packs the set lanes to the
 * front. Included by the byte-listing loops of u8_head_host_kernels.inc and
 * u8_sparse_host_kernels.inc (each copy 1 KB). */
#ifndef NNCL_LANE_PACK_H
#define NNCL_LANE_PACK_H

#include <stdint.h>

/* lane k's part of m's entry: k in nibble popcount(m below k), if k is set */
#define LANE_PACK_1(m, k) \
    ((m) >> (k) & 1 ? (uint32_t)(k) << 4 * __builtin_popcount((unsigned)(m) & ((1u << (k)) - 1)) : 0u)
#define LANE_PACK(m) \
    (LANE_PACK_1(m, 0) | LANE_PACK_1(m, 1) | LANE_PACK_1(m, 2) | LANE_PACK_1(m, 3) | LANE_PACK_1(m, 4) | \
     LANE_PACK_1(m, 5) | LANE_PACK_1(m, 6) | LANE_PACK_1(m, 7))
#define LANE_PACK_4(m) LANE_PACK(m), LANE_PACK((m) + 1), LANE_PACK((m) + 2), LANE_PACK((m) + 3)
#define LANE_PACK_16(m) LANE_PACK_4(m), LANE_PACK_4((m) + 4), LANE_PACK_4((m) + 8), LANE_PACK_4((m) + 12)
#define LANE_PACK_64(m) LANE_PACK_16(m), LANE_PACK_16((m) + 16), LANE_PACK_16((m) + 32), LANE_PACK_16((m) + 48)

static const uint32_t lane_pack8[256] = {LANE_PACK_64(0u), LANE_PACK_64(64u), LANE_PACK_64(128u),
                                         LANE_PACK_64(192u)};

#endif
