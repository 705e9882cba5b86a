/* Exact, fast parsing of numbers in CSV cells (src/data internal). */
#ifndef NNCL_DATA_NUMPARSE_H
#define NNCL_DATA_NUMPARSE_H

#include <stddef.h>
#include <stdint.h>

enum {
    NNCL_NUM_OK = 0,
    NNCL_NUM_EMPTY,     /* nothing but spaces */
    NNCL_NUM_BAD,       /* not a decimal number */
    NNCL_NUM_RANGE,     /* a number, but not a finite float/double, or > 255 for bytes */
};

/* s[0..n) with optional spaces/tabs around it: [+-]digits[.digits][(e|E)[+-]digits]
 * (digits on at least one side of the point). Correctly rounded: a fast
 * exact path for short decimals, strtof/strtod otherwise. Never reads
 * outside s[0..n). */
int nncl_parse_f32(const char *s, size_t n, float *out);
int nncl_parse_f64(const char *s, size_t n, double *out);

/* A plain unsigned integer 0..255 (spaces around allowed). */
static inline int nncl_parse_u8(const char *s, size_t n, uint8_t *out)
{
    size_t i = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\t')) i++;
    while (n > i && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    if (i == n) return NNCL_NUM_EMPTY;
    if (s[i] == '+') i++;
    if (i == n) return NNCL_NUM_BAD;
    unsigned v = 0;
    for (; i < n; i++) {
        unsigned d = (unsigned)(unsigned char)s[i] - '0';
        if (d > 9) return NNCL_NUM_BAD;
        v = v * 10 + d;
        if (v > 255) {
            /* still tell "not a number" apart from "too big" */
            for (i++; i < n; i++)
                if ((unsigned)(unsigned char)s[i] - '0' > 9) return NNCL_NUM_BAD;
            return NNCL_NUM_RANGE;
        }
    }
    *out = (uint8_t)v;
    return NNCL_NUM_OK;
}

#endif
