/* CRC-32 (zlib's) of a buffer of any size, for the binary files' checksums. */
#ifndef NNCL_CRC32_BUF_H
#define NNCL_CRC32_BUF_H

#include <stddef.h>
#include <stdint.h>

uint32_t nncl_crc32(const unsigned char *p, size_t n);

#endif
