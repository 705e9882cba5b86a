/* Standard base64 (RFC 4648, with padding), for bytes embedded in JSON. */
#ifndef NNCL_BASE64_H
#define NNCL_BASE64_H

#include <stddef.h>

/* The 64 digits in order: code i is BASE64_DIGITS[i]. */
extern const char BASE64_DIGITS[65];

/* Encode n bytes into out, which must hold base64_len(n) + 1 chars (NUL-terminated). */
size_t base64_len(size_t n);
void base64_encode(const unsigned char *in, size_t n, char *out);

#endif
