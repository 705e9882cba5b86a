/* A string -> index hash table with keys in insertion order (src/data internal). */
#ifndef NNCL_DATA_STRTAB_H
#define NNCL_DATA_STRTAB_H

#include <stddef.h>
#include <stdint.h>

typedef struct nncl_strtab {
    char **keys;        /* keys[i] is the i-th distinct string added (NUL-terminated) */
    size_t *lens;       /* their lengths (keys may hold NUL bytes) */
    size_t n, cap;
    uint32_t *slots;    /* open addressing: index + 1, 0 = empty */
    size_t nslots;      /* a power of two */
} nncl_strtab;

/* Index of s[0..len), or -1. */
long nncl_strtab_find(const nncl_strtab *t, const char *s, size_t len);
/* Index of s[0..len), adding it if new; -1 when out of memory. */
long nncl_strtab_add(nncl_strtab *t, const char *s, size_t len);
void nncl_strtab_free(nncl_strtab *t);

#endif
