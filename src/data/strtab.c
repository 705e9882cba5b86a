/* FNV-1a hashed, linearly probed string table. */
#include "data/strtab.h"

#include <stdlib.h>
#include <string.h>

static uint64_t hash(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}


long nncl_strtab_find(const nncl_strtab *t, const char *s, size_t len)
{
    if (t->nslots == 0) return -1;
    size_t mask = t->nslots - 1;
    for (size_t i = (size_t)hash(s, len) & mask;; i = (i + 1) & mask) {
        uint32_t v = t->slots[i];
        if (v == 0) return -1;
        if (t->lens[v - 1] == len && memcmp(t->keys[v - 1], s, len) == 0) return (long)(v - 1);
    }
}

static int grow(nncl_strtab *t)
{
    size_t ns = t->nslots ? t->nslots * 2 : 64;
    uint32_t *slots = calloc(ns, sizeof *slots);
    if (!slots) return -1;
    for (size_t k = 0; k < t->n; k++) {
        size_t i = (size_t)hash(t->keys[k], t->lens[k]) & (ns - 1);
        while (slots[i]) i = (i + 1) & (ns - 1);
        slots[i] = (uint32_t)(k + 1);
    }
    free(t->slots);
    t->slots = slots;
    t->nslots = ns;
    return 0;
}

long nncl_strtab_add(nncl_strtab *t, const char *s, size_t len)
{
    long found = nncl_strtab_find(t, s, len);
    if (found >= 0) return found;
    if (t->n >= UINT32_MAX - 1) return -1;
    if ((t->n + 1) * 2 > t->nslots && grow(t)) return -1;
    if (t->n == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 16;
        char **k = realloc(t->keys, nc * sizeof *k);
        if (!k) return -1;
        t->keys = k;
        size_t *l = realloc(t->lens, nc * sizeof *l);
        if (!l) return -1;
        t->lens = l;
        t->cap = nc;
    }
    char *key = malloc(len + 1);
    if (!key) return -1;
    memcpy(key, s, len);
    key[len] = '\0';
    size_t mask = t->nslots - 1;
    size_t i = (size_t)hash(s, len) & mask;
    while (t->slots[i]) i = (i + 1) & mask;
    t->keys[t->n] = key;
    t->lens[t->n] = len;
    t->slots[i] = (uint32_t)(t->n + 1);
    return (long)t->n++;
}

void nncl_strtab_free(nncl_strtab *t)
{
    for (size_t i = 0; i < t->n; i++) free(t->keys[i]);
    free(t->keys);
    free(t->lens);
    free(t->slots);
    memset(t, 0, sizeof *t);
}
