/* The matrix path's loops (u8_amx_host.h says what and why), built with
 * -mamx-tile -mamx-int8 and AVX-512 and called only where
 * nncl_host_amx() (src/device/host_amx.c) said yes.
 *
 * Tiles: 8 registers of 16 rows x 64 bytes. C0..C4 (tiles 0-4) hold the
 * five digits' int32 sums of a 16 x 16 output block; tile 5 the A operand
 * (16 rows of 64 unsigned or signed bytes), tile 6 the B operand (16 rows
 * of 4 inputs x 16 outputs), and tile 7 takes turns with the one that
 * changes with the digit, so that a load need not wait for the multiply
 * reading the previous digit. TDPBUSD (bytes unsigned x signed) serves the
 * forward, the data rows as A; TDPBSUD (signed x unsigned) the weight
 * gradient, g's digits as A and the bytes as B. */
#include <immintrin.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "ops/u8_amx_host.h"

_Static_assert(U8A_LIMBS == 5, "the tile loops below name five digit tiles");

/* The tile configuration (Intel SDM, LDTILECFG): palette 1, then each
 * tile's bytes per row and rows. */
typedef struct tile_config {
    uint8_t palette, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} tile_config;

/* A constant: GCC 12 takes LDTILECFG's operand as unread and drops the
 * stores that would build it on the stack (the tiles then stay
 * unconfigured, and the first tile load faults). */
static const tile_config config = {
    .palette = 1,
    .colsb = {64, 64, 64, 64, 64, 64, 64, 64},
    .rows = {16, 16, 16, 16, 16, 16, 16, 16},
};

void nncl_u8a_tiles_on(void) { _tile_loadconfig(&config); }

void nncl_u8a_tiles_off(void) { _tile_release(); }

/* Q = 127 (256^4 + 256^3 + 256^2 + 256 + 1): the largest value whose
 * balanced base-256 digits are all in [-128, 127]. */
static const double Q = 127.0 * 4311810305.0;

/* q's digits, most significant first: d = ((q + 128) mod 256) - 128, then
 * q = (q - d) / 256, exactly; |q| <= Q leaves the last in range. */
static inline void digits(int64_t q, int8_t d[U8A_LIMBS])
{
    for (int l = U8A_LIMBS - 1; l >= 0; l--) {
        int64_t low = ((q + 128) & 255) - 128;
        d[l] = (int8_t)low;
        q = (q - low) / 256;
    }
}

/* Per unit: the scale m / Q and the factor Q / m that takes a value to its
 * integer (0 for a unit of zeros). */
static void unit_scale(double m, double *scale, double *to_int)
{
    *scale = m > 0 ? m / Q : 0.0;
    *to_int = m > 0 ? Q / m : 0.0;
}

void nncl_u8a_quantize_w(const float *w, size_t units, size_t in, int8_t *wq, double sw[16])
{
    const size_t kp = nncl_u8a_kp(in);
    double to_int[16];
    for (size_t j = 0; j < 16; j++) {
        double m = 0;
        for (size_t k = 0; j < units && k < in; k++)
            m = fmax(m, fabs((double)w[j * in + k]));
        unit_scale(m, &sw[j], &to_int[j]);
    }
    memset(wq, 0, U8A_LIMBS * kp * 16);
    /* tile (k/64, l), row (k % 64) / 4, byte j*4 + k % 4 */
    for (size_t j = 0; j < units; j++)
        for (size_t k = 0; k < in; k++) {
            int8_t d[U8A_LIMBS];
            digits(llrint((double)w[j * in + k] * to_int[j]), d);
            for (int l = 0; l < U8A_LIMBS; l++)
                wq[((k / 64) * U8A_LIMBS + (size_t)l) * U8A_TILE + (k % 64) / 4 * 64 + j * 4 + k % 4] = d[l];
        }
}

/* A 16 x 16 block of sums: out[r*16 + c] (+)= scale * sum_l
 * sums[l][r][c] 256^(4 - l), the scale by column (the forward's units) or
 * by row (the weight gradient's): Horner's rule in double (each digit sum
 * is an exact int32, the running value exact to 2^53). */
static void combine(const int32_t *sums, const double scale[16], bool by_row, bool add, float *out)
{
    for (size_t r = 0; r < 16; r++)
        for (size_t h = 0; h < 16; h += 8) {
            __m512d v = _mm512_setzero_pd();
            for (int l = 0; l < U8A_LIMBS; l++) {
                __m256i d = _mm256_loadu_si256((const __m256i *)(sums + (size_t)l * 256 + r * 16 + h));
                v = _mm512_fmadd_pd(v, _mm512_set1_pd(256.0), _mm512_cvtepi32_pd(d)); /* v * 256 is exact */
            }
            __m512d sc = by_row ? _mm512_set1_pd(scale[r]) : _mm512_loadu_pd(scale + h);
            __m256 f = _mm512_cvtpd_ps(_mm512_mul_pd(v, sc));
            if (add)
                f = _mm256_add_ps(_mm256_loadu_ps(out + r * 16 + h), f);
            _mm256_storeu_ps(out + r * 16 + h, f);
        }
}

/* The five digit tiles' sums stored, 256 int32 each */
static void store_sums(int32_t *sums)
{
    _tile_stored(0, sums + 0 * 256, 64);
    _tile_stored(1, sums + 1 * 256, 64);
    _tile_stored(2, sums + 2 * 256, 64);
    _tile_stored(3, sums + 3 * 256, 64);
    _tile_stored(4, sums + 4 * 256, 64);
}

static void zero_sums(void)
{
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
    _tile_zero(4);
}

void nncl_u8a_fwd(const uint8_t *xa, size_t rows16, size_t kp, const int8_t *wq, const double sw[16], int32_t *sums,
                  float *out)
{
    for (size_t r0 = 0; r0 < rows16; r0 += 16) {
        zero_sums();
        for (size_t k = 0; k < kp / U8A_KB; k++) {
            const int8_t *b = wq + k * U8A_LIMBS * U8A_TILE;
            _tile_loadd(5, xa + r0 * kp + k * U8A_KB, (long)kp);
            _tile_loadd(6, b + 0 * U8A_TILE, 64);
            _tile_loadd(7, b + 1 * U8A_TILE, 64);
            _tile_dpbusd(0, 5, 6);
            _tile_loadd(6, b + 2 * U8A_TILE, 64);
            _tile_dpbusd(1, 5, 7);
            _tile_loadd(7, b + 3 * U8A_TILE, 64);
            _tile_dpbusd(2, 5, 6);
            _tile_loadd(6, b + 4 * U8A_TILE, 64);
            _tile_dpbusd(3, 5, 7);
            _tile_dpbusd(4, 5, 6);
        }
        store_sums(sums);
        combine(sums, sw, false, false, out + r0 * 16);
    }
}

/* Four rows' 64 bytes from column 64c on, interleaved: byte i of output
 * t's dword n is row i's byte at 64c + 16(n / 4) + 4t + n % 4 (the
 * unpacks work within 128-bit lanes, hence the order of the columns). The
 * rows' last 64 bytes are read through a mask: nothing past `in` is read,
 * and the padding comes in as zeros. */
void nncl_u8a_gather(const uint8_t *const *rows, size_t n, size_t in, size_t kp, uint8_t *xa, uint8_t *xi)
{
    const size_t nc = kp / 64, n64 = (n + 63) / 64 * 64;
    const __mmask64 tail = in % 64 ? ((__mmask64)1 << (in % 64)) - 1 : ~(__mmask64)0;
    for (size_t g = 0; g < n64 / 4; g++) {
        /* rows asked for ahead: they come in the index's order, which the
         * hardware prefetcher cannot guess */
        for (size_t r = 4 * g + 24; r < 4 * g + 28 && r < n; r++)
            for (size_t off = 0; off < in; off += 64)
                __builtin_prefetch(rows[r] + off);
        const uint8_t *src[4];
        for (size_t i = 0; i < 4; i++)
            src[i] = 4 * g + i < n ? rows[4 * g + i] : NULL;
        uint8_t *dst = xi + (g / 16) * nc * 4 * U8A_TILE + (g % 16) * 64;
        for (size_t c = 0; c < nc; c++) {
            const __mmask64 m = c + 1 < nc ? ~(__mmask64)0 : tail;
            __m512i r[4];
            for (size_t i = 0; i < 4; i++) {
                r[i] = src[i] ? _mm512_maskz_loadu_epi8(m, src[i] + c * 64) : _mm512_setzero_si512();
                _mm512_storeu_si512(xa + (4 * g + i) * kp + c * 64, r[i]);
            }
            __m512i lo01 = _mm512_unpacklo_epi8(r[0], r[1]), hi01 = _mm512_unpackhi_epi8(r[0], r[1]);
            __m512i lo23 = _mm512_unpacklo_epi8(r[2], r[3]), hi23 = _mm512_unpackhi_epi8(r[2], r[3]);
            uint8_t *d = dst + c * 4 * U8A_TILE;
            _mm512_storeu_si512(d + 0 * U8A_TILE, _mm512_unpacklo_epi16(lo01, lo23));
            _mm512_storeu_si512(d + 1 * U8A_TILE, _mm512_unpackhi_epi16(lo01, lo23));
            _mm512_storeu_si512(d + 2 * U8A_TILE, _mm512_unpacklo_epi16(hi01, hi23));
            _mm512_storeu_si512(d + 3 * U8A_TILE, _mm512_unpackhi_epi16(hi01, hi23));
        }
    }
}

/* Eight lanes at a time in int64: the digits as in digits(), each
 * stored as 8 bytes of its tile's row j. */
void nncl_u8a_quantize_g(const float *g, size_t ld, size_t rows64, int8_t *gq, double sg[16])
{
    const __m512i c128 = _mm512_set1_epi64(128), c255 = _mm512_set1_epi64(255);
    for (size_t j = 0; j < 16; j++) {
        const float *gj = g + j * ld;
        __m512 m = _mm512_setzero_ps();
        for (size_t r = 0; r < rows64; r += 16)
            m = _mm512_max_ps(m, _mm512_abs_ps(_mm512_loadu_ps(gj + r)));
        double to_int;
        unit_scale((double)_mm512_reduce_max_ps(m), &sg[j], &to_int);
        const __m512d f = _mm512_set1_pd(to_int);
        /* tile (r/64, l), row j, byte r % 64 */
        for (size_t r = 0; r < rows64; r += 8) {
            __m512i q = _mm512_cvtpd_epi64(_mm512_mul_pd(_mm512_cvtps_pd(_mm256_loadu_ps(gj + r)), f));
            int8_t *dst = gq + (r / 64) * U8A_LIMBS * U8A_TILE + j * 64 + r % 64;
            for (int l = U8A_LIMBS - 1; l >= 0; l--) {
                __m512i low = _mm512_sub_epi64(_mm512_and_si512(_mm512_add_epi64(q, c128), c255), c128);
                _mm_storel_epi64((__m128i *)(dst + (size_t)l * U8A_TILE), _mm512_cvtepi64_epi8(low));
                q = _mm512_srai_epi64(_mm512_sub_epi64(q, low), 8);
            }
        }
    }
}

void nncl_u8a_wgrad(const uint8_t *xi, size_t rows64, size_t kp, const int8_t *gq, const double sg[16],
                    int32_t *sums, float *acc)
{
    const size_t nc = kp / 64;
    for (size_t ct = 0; ct < nc * 4; ct++) {
        zero_sums();
        for (size_t k = 0; k < rows64 / 64; k++) {
            const int8_t *a = gq + k * U8A_LIMBS * U8A_TILE;
            _tile_loadd(6, xi + (k * nc * 4 + ct) * U8A_TILE, 64);
            _tile_loadd(5, a + 0 * U8A_TILE, 64);
            _tile_loadd(7, a + 1 * U8A_TILE, 64);
            _tile_dpbsud(0, 5, 6);
            _tile_loadd(5, a + 2 * U8A_TILE, 64);
            _tile_dpbsud(1, 7, 6);
            _tile_loadd(7, a + 3 * U8A_TILE, 64);
            _tile_dpbsud(2, 5, 6);
            _tile_loadd(5, a + 4 * U8A_TILE, 64);
            _tile_dpbsud(3, 7, 6);
            _tile_dpbsud(4, 5, 6);
        }
        store_sums(sums);
        /* a row of the sums is a unit: its scale is by row */
        combine(sums, sg, true, true, acc + ct * 256);
    }
}
