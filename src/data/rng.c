/* splitmix64: the small, portable PRNG behind splits and shuffles.
 * Reference: G. Steele, D. Lea, C. Flood, "Fast splittable pseudorandom
 * number generators", OOPSLA 2014; constants as in Vigna's splitmix64.c. */
#include "nncl/data.h"

void nncl_rng_seed(nncl_rng *r, uint64_t seed) { r->state = seed; }

uint64_t nncl_rng_next(nncl_rng *r)
{
    uint64_t z = (r->state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t nncl_rng_below(nncl_rng *r, uint64_t n)
{
    if (n <= 1) return 0;
    /* Reject the lowest (2^64 mod n) values so every residue is equally likely. */
    uint64_t threshold = (0 - n) % n;
    for (;;) {
        uint64_t x = nncl_rng_next(r);
        if (x >= threshold) return x % n;
    }
}

float nncl_rng_float(nncl_rng *r)
{
    return (float)(nncl_rng_next(r) >> 40) * (1.0f / 16777216.0f);
}

void nncl_rng_shuffle(nncl_rng *r, size_t *idx, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)nncl_rng_below(r, i);
        size_t t = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = t;
    }
}
