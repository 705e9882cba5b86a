/* FNV-1a, 64 bit: cache keys and checksums, not a defence against attack. */
#ifndef NNCL_FNV1A_H
#define NNCL_FNV1A_H

#include <stddef.h>
#include <stdint.h>

#define NNCL_FNV_SEED 0xcbf29ce484222325ULL

static inline uint64_t nncl_fnv1a(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

#endif
