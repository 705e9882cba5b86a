/* A gzip file inflated by zlib as nncl streams it (gzread into one buffer)
 * and whole by libdeflate (nncl_gz_inflate_whole, the IDX reader's fast
 * way), alternating, ROUNDS times each: the ratio is measured in one
 * invocation, on this machine.
 * usage: inflate_time FILE.gz [ROUNDS] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "data/fileio.h"
#include "util/clock.h"

/* Into a fresh buffer, as the IDX reader's (whose first touch costs page
 * faults, as libdeflate's does); *out is the caller's to free. */
static double zlib_once(const char *path, size_t cap, uint8_t **out, size_t *got)
{
    double t0 = nncl_seconds_now();
    uint8_t *buf = *out = malloc(cap);
    gzFile g = gzopen(path, "rb");
    if (!g || !buf) return -1;
    gzbuffer(g, 1 << 18);   /* as nncl_gz_open */
    size_t n = 0;
    int r;
    while (n < cap && (r = gzread(g, buf + n, (unsigned)(cap - n > (1u << 30) ? 1u << 30 : cap - n))) > 0)
        n += (size_t)r;
    gzclose(g);
    *got = n;
    return nncl_seconds_now() - t0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: inflate_time FILE.gz [ROUNDS]\n");
        return 2;
    }
    int rounds = argc > 2 ? atoi(argv[2]) : 5;
    nncl_data_file f;
    if (nncl_data_open(argv[1], &f) != NNCL_OK) {
        fprintf(stderr, "%s\n", nncl_last_error());
        return 1;
    }
    uint8_t *whole;
    size_t len;
    if (!nncl_gz_inflate_whole(&f, SIZE_MAX, &whole, &len)) {
        fprintf(stderr, "%s: not one plain gzip member (the fast way does not take it)\n", argv[1]);
        return 1;
    }
    free(whole);
    double best_z = 1e9, best_d = 1e9;
    for (int i = 0; i < rounds; i++) {
        size_t got = 0;
        uint8_t *buf;
        double z = zlib_once(argv[1], len + 1, &buf, &got);
        if (z < 0 || got != len) {
            fprintf(stderr, "%s: zlib read %zu bytes, libdeflate %zu\n", argv[1], got, len);
            return 1;
        }
        double t0 = nncl_seconds_now();
        if (!nncl_gz_inflate_whole(&f, SIZE_MAX, &whole, &len)) return 1;
        double d = nncl_seconds_now() - t0;
        if (memcmp(whole, buf, len) != 0) {
            fprintf(stderr, "%s: the two outputs differ\n", argv[1]);
            return 1;
        }
        free(whole);
        free(buf);
        best_z = z < best_z ? z : best_z;
        best_d = d < best_d ? d : best_d;
        printf("round %d: zlib %.4f s, libdeflate %.4f s\n", i + 1, z, d);
    }
    printf("%s: %zu bytes; best of %d: zlib %.4f s, libdeflate %.4f s (%.2fx)\n", argv[1], len, rounds, best_z,
           best_d, best_z / best_d);
    nncl_data_close(&f);
    return 0;
}
