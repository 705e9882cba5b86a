/* Decimal numbers to float/double with correct rounding.
 *
 * Fast path (Clinger 1990): when the decimal's significant digits form an
 * integer m <= 2^53 and its power of ten e has |e| <= 22, m and 10^|e| are
 * exact doubles and one multiply or divide gives the correctly rounded
 * double. For float, rounding that double again is correct unless the
 * double lies exactly on a midpoint between two floats (then the true value
 * could be on either side): that case, subnormal floats, and everything
 * else go to strtof/strtod, which round correctly. */
#include "data/numparse.h"

#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static const double pow10_tab[23] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

typedef struct decimal {
    const char *start, *end;  /* the trimmed text, sign included */
    bool neg;
    bool exact;               /* m holds every significant digit */
    uint64_t m;
    long exp10;
} decimal;

static int scan(const char *s, size_t n, decimal *d)
{
    const char *p = s, *e = s + n;
    while (p < e && (*p == ' ' || *p == '\t')) p++;
    while (e > p && (e[-1] == ' ' || e[-1] == '\t')) e--;
    if (p == e) return NNCL_NUM_EMPTY;
    d->start = p;
    d->end = e;
    d->neg = false;
    d->exact = true;
    d->m = 0;
    d->exp10 = 0;
    if (*p == '+' || *p == '-') {
        d->neg = *p == '-';
        p++;
    }
    int sig = 0, ndigits = 0;
    long dexp = 0;
    while (p < e && (unsigned)(*p - '0') <= 9) {
        unsigned dig = (unsigned)(*p - '0');
        if (sig < 19) {
            d->m = d->m * 10 + dig;
            if (d->m) sig++;
        } else {
            dexp++;
            if (dig) d->exact = false;
        }
        ndigits++;
        p++;
    }
    if (p < e && *p == '.') {
        p++;
        while (p < e && (unsigned)(*p - '0') <= 9) {
            unsigned dig = (unsigned)(*p - '0');
            if (sig < 19) {
                d->m = d->m * 10 + dig;
                if (d->m) sig++;
                dexp--;
            } else if (dig) {
                d->exact = false;
            }
            ndigits++;
            p++;
        }
    }
    if (ndigits == 0) return NNCL_NUM_BAD;
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        bool eneg = false;
        if (p < e && (*p == '+' || *p == '-')) {
            eneg = *p == '-';
            p++;
        }
        if (p == e || (unsigned)(*p - '0') > 9) return NNCL_NUM_BAD;
        long x = 0;
        while (p < e && (unsigned)(*p - '0') <= 9) {
            if (x < 100000) x = x * 10 + (*p - '0');
            p++;
        }
        dexp += eneg ? -x : x;
    }
    if (p != e) return NNCL_NUM_BAD;
    d->exp10 = dexp;
    return NNCL_NUM_OK;
}

/* The fast path; false when it does not apply. */
static bool fast_double(const decimal *d, double *out)
{
    if (d->m == 0) {
        *out = d->neg ? -0.0 : 0.0;
        return true;
    }
    if (!d->exact || d->m > ((uint64_t)1 << 53) || d->exp10 < -22 || d->exp10 > 22) return false;
    double v = (double)d->m;
    v = d->exp10 < 0 ? v / pow10_tab[-d->exp10] : v * pow10_tab[d->exp10];
    *out = d->neg ? -v : v;
    return true;
}

/* strtod/strtof on a NUL-terminated copy of the text. */
static int slow(const decimal *d, bool f32, double *outd, float *outf)
{
    size_t len = (size_t)(d->end - d->start);
    char small[128];
    char *buf = len < sizeof small ? small : malloc(len + 1);
    if (!buf) return NNCL_NUM_BAD;
    memcpy(buf, d->start, len);
    buf[len] = '\0';
    char *endp;
    int rc = NNCL_NUM_OK;
    if (f32) {
        float v = strtof(buf, &endp);
        if (!isfinite(v)) rc = NNCL_NUM_RANGE;
        *outf = v;
    } else {
        double v = strtod(buf, &endp);
        if (!isfinite(v)) rc = NNCL_NUM_RANGE;
        *outd = v;
    }
    if (endp != buf + len) rc = NNCL_NUM_BAD; /* e.g. a locale with another decimal point */
    if (buf != small) free(buf);
    return rc;
}

int nncl_parse_f64(const char *s, size_t n, double *out)
{
    decimal d;
    int rc = scan(s, n, &d);
    if (rc) return rc;
    if (fast_double(&d, out)) return NNCL_NUM_OK;
    return slow(&d, false, out, NULL);
}

int nncl_parse_f32(const char *s, size_t n, float *out)
{
    decimal d;
    int rc = scan(s, n, &d);
    if (rc) return rc;
    double v;
    if (fast_double(&d, &v)) {
        float f = (float)v;
        if ((double)f == v) {
            *out = f;
            return NNCL_NUM_OK;
        }
        double a = fabs(v);
        if (a >= FLT_MIN && a <= FLT_MAX) {
            uint64_t bits;
            memcpy(&bits, &v, sizeof bits);
            /* The 29 mantissa bits a float drops: exactly half an ulp? */
            if ((bits & 0x1FFFFFFFu) != 0x10000000u) {
                *out = f;
                return NNCL_NUM_OK;
            }
        }
    }
    return slow(&d, true, NULL, out);
}
