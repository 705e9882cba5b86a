/* CRC-32 of a buffer of any size. */
#include "util/crc32_buf.h"

#include <zlib.h>

uint32_t nncl_crc32(const unsigned char *p, size_t n)
{
    /* zlib takes a uInt length, so a buffer of 4 GiB or more goes in pieces. */
    uLong c = crc32(0L, Z_NULL, 0);
    while (n > 0) {
        uInt chunk = n > (1u << 30) ? (1u << 30) : (uInt)n;
        c = crc32(c, p, chunk);
        p += chunk;
        n -= chunk;
    }
    return (uint32_t)c;
}
