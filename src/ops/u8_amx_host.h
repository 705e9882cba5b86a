/* The host linear_u8_head's matrix path: Intel's AMX tiles multiplying the
 * dataset's bytes as they are (u8_amx_host.c; u8_head_host.c says where it
 * is taken).
 *
 * Why: the tutorial's step reads 41,000 rows of 784 bytes twice (the hidden
 * layer, then dW1), and the vector loops spend one multiply-add of 16 lanes
 * per nonzero byte. An AMX tile multiply (TDPBUSD) sums 16 x 16 x 64 byte
 * products in int32 in about 16 cycles (5.3 ns each in a throwaway loop
 * here, one after another): 1,024 products a cycle, where the vectors give
 * 16 to 32.
 *
 * The tiles multiply integers only, so the float operand is written in
 * fixed point: per hidden unit j, a float v (a weight of W1 with the input
 * scale folded in, or a row's g) is q = round(v Q / m_j), m_j the unit's
 * largest |v| and Q = 127 (256^4 + ... + 1), just under 2^39, and q is split
 * into U8A_LIMBS signed base-256 digits, q = sum_l d_l 256^(4 - l) with
 * d_l in [-128, 127]. Each digit's products are summed exactly in int32
 * (at most 255 x 128 x U8A_MAX_IN per sum), and the digits' sums combined
 * in double and scaled by m_j / Q: the result is the exact sum of the bytes
 * times the quantized v, rounded once. The quantization moves each v by at
 * most m_j / 2^40, so a sum over a row is off by at most
 * 2^-40 m_j sum(bytes): below float's own rounding of the products unless
 * the row's bytes meet only weights some 10^5 times smaller than the unit's
 * largest. A non-finite v (NaN, inf) cannot be written so: the caller keeps
 * the vector loops then (u8_head_host.c). Private to the library. */
#ifndef NNCL_U8_AMX_HOST_H
#define NNCL_U8_AMX_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* U8A_LIMBS digits per value; rows U8A_SB at a time for dW1 (a super-block:
 * the combining of the digits' sums, 52 tiles of 16 x 16 for 784 inputs, is
 * paid once per super-block); inputs up to U8A_MAX_IN wide (the sums'
 * int32 range, and the combined sums' double range). Every tile is 16 rows
 * of 64 bytes: U8A_KB bytes of a row per tile. */
enum { U8A_LIMBS = 5, U8A_SB = 512, U8A_MAX_IN = 8192, U8A_KB = 64, U8A_TILE = 16 * 64 };

/* Bytes of scratch the matrix path needs, each part a multiple of 64 bytes
 * (from a 64-byte aligned start, every tile is aligned): the shared
 * quantized W1 (U8A_LIMBS tiles per 64 inputs) and scales; per
 * worker a super-block's bytes twice (by row, and interleaved for
 * dW1), its g by unit in float and quantized, and one set of digit sums;
 * per chunk its dW1 sums in the tiles' order (floats). */
static inline size_t nncl_u8a_kp(size_t in) { return (in + U8A_KB - 1) / U8A_KB * U8A_KB; }
static inline size_t nncl_u8a_worker_bytes(size_t in)
{
    return 2 * (size_t)U8A_SB * nncl_u8a_kp(in) + 16 * U8A_SB * sizeof(float) + U8A_LIMBS * 16 * U8A_SB +
           U8A_LIMBS * 256 * sizeof(int32_t);
}
static inline size_t nncl_u8a_scratch_bytes(size_t in, size_t chunks, size_t workers)
{
    size_t kp = nncl_u8a_kp(in);
    return U8A_LIMBS * 16 * kp + workers * nncl_u8a_worker_bytes(in) + chunks * 16 * kp * sizeof(float);
}

/* The rest runs only where nncl_host_amx() (nncl/device.h,
 * src/device/host_amx.c) said yes. */

/* Loads the tile configuration on the calling thread (16 rows x 64 bytes,
 * every tile) / releases its tiles. A worker brackets its chunk with them. */
void nncl_u8a_tiles_on(void);
void nncl_u8a_tiles_off(void);

/* W (units <= 16 rows of `in` floats, finite) quantized per unit into wq
 * (U8A_LIMBS tiles per 64 inputs, the B operand's layout: 4 inputs of 16
 * units per 64-byte row; inputs past `in` and units past `units` zero);
 * sw[j] = m_j / Q (0 for a zero unit). */
void nncl_u8a_quantize_w(const float *w, size_t units, size_t in, int8_t *wq, double sw[16]);

/* out[r*16 + j] = sw[j] * sum_k xa[r*kp + k] * q[j][k] for r < rows16 (a
 * multiple of 16), j < 16: the rows' pre-activations from their bytes,
 * rows kp bytes apart (zero past `in`). sums: U8A_LIMBS * 256 int32 of
 * room. */
void nncl_u8a_fwd(const uint8_t *xa, size_t rows16, size_t kp, const int8_t *wq, const double sw[16], int32_t *sums,
                  float *out);

/* The n rows (row pointers, `in` bytes each) copied into xa, kp bytes a
 * row, zeros past `in` and in whole rows up to n rounded up to 64 (rows64);
 * and interleaved into xi for the weight gradient: tile (k, c, t) holds
 * rows [64k, 64k + 64) of the 16 columns 64c + 16(n / 4) + 4t + n % 4,
 * n < 16, as 16 rows of 4 data rows by 16 columns (the B operand's
 * layout). */
void nncl_u8a_gather(const uint8_t *const *rows, size_t n, size_t in, size_t kp, uint8_t *xa, uint8_t *xi);

/* g (16 units x ld floats, rows64 of them, finite) quantized per unit into
 * gq (U8A_LIMBS tiles per 64 rows, the A operand's: a unit per row);
 * sg[j] = m_j / Q. */
void nncl_u8a_quantize_g(const float *g, size_t ld, size_t rows64, int8_t *gq, double sg[16]);

/* acc[((c*4 + t)*16 + j)*16 + n] += sg[j] * sum over the rows64 rows of
 * g[j][row] * byte[row][column (c, t, n) as above]: the super-block's share
 * of dW1^T, in the tiles' order (nncl_u8a_column says where column i is). */
void nncl_u8a_wgrad(const uint8_t *xi, size_t rows64, size_t kp, const int8_t *gq, const double sg[16],
                    int32_t *sums, float *acc);

/* Where column i's sums for unit j are in nncl_u8a_wgrad's acc. */
static inline size_t nncl_u8a_column(size_t i, size_t j)
{
    size_t c = i / 64, w = i % 64, t = w % 16 / 4, n = w / 16 * 4 + w % 4;
    return ((c * 4 + t) * 16 + j) * 16 + n;
}

#endif
