#include "util/base64.h"

const char BASE64_DIGITS[65] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t base64_len(size_t n) { return (n + 2) / 3 * 4; }

void base64_encode(const unsigned char *in, size_t n, char *out)
{
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
        *out++ = BASE64_DIGITS[v >> 18];
        *out++ = BASE64_DIGITS[(v >> 12) & 63];
        *out++ = BASE64_DIGITS[(v >> 6) & 63];
        *out++ = BASE64_DIGITS[v & 63];
    }
    if (i < n) {
        unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0);
        *out++ = BASE64_DIGITS[v >> 18];
        *out++ = BASE64_DIGITS[(v >> 12) & 63];
        *out++ = i + 1 < n ? BASE64_DIGITS[(v >> 6) & 63] : '=';
        *out++ = '=';
    }
    *out = '\0';
}
