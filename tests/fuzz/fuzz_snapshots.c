/* libFuzzer target for the snapshots file reader (nncl_snapshots_load). The
 * first byte's low bit asks for the checksums (the header's and each
 * record's, at the lengths the header gives) to be made right before the
 * rest is written to a per-process path, so that mutations reach the checks
 * behind them; the replay does the same. */
#include "nncl/snapshot.h"
#include "fuzz_file.h"
#include "util/crc32_buf.h"
#include "util/le_bytes.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void repair(unsigned char *b, size_t size)
{
    if (size < 32) return;
    size_t hb = le_get_u32(b + 8), rb = le_get_u32(b + 20);
    if (hb < 32 || hb > size) return;
    unsigned char *p = b + hb - 4;
    le_put_u32(&p, nncl_crc32(b, hb - 4));
    if (rb < 8) return;
    for (size_t pos = hb; size - pos >= rb; pos += rb) {
        p = b + pos + rb - 4;
        le_put_u32(&p, nncl_crc32(b + pos, rb - 4));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_input_file("snapshots", data, size, repair);
    if (!path) return 0;
    nncl_snapshots s;
    nncl_status st = nncl_snapshots_load(path, &s);
    if (st != NNCL_OK) {
        /* failures leave it empty and say why */
        if (s.info || s.scale || s.q || s.count) abort();
        if (!nncl_last_error()[0]) abort();
        return 0;
    }
    if (s.layers < 1 || s.layers > NNCL_MAX_LAYERS || !s.info || !s.scale || !s.q) abort();
    size_t n = 0;
    for (int l = 0; l < s.layers; l++) n += s.sizes[l + 1] * (s.sizes[l] + 1);
    if (n != s.n_params) abort();
    /* touch every element: the sizes must be what the header said; a scale
     * is max|w| / 127 of finite weights, a finite number */
    float *params = malloc((n ? n : 1) * sizeof *params);
    if (!params) abort();
    volatile float sum = 0;
    for (size_t k = 0; k < s.count; k++) {
        if (k > 0 && s.info[k].step <= s.info[k - 1].step) abort();
        for (int t = 0; t < 2 * s.layers; t++)
            if (!(s.scale[k * 2 * (size_t)s.layers + (size_t)t] >= 0) ||
                !isfinite(s.scale[k * 2 * (size_t)s.layers + (size_t)t])) abort();
        nncl_snapshots_params(&s, k, params);
        for (size_t i = 0; i < n; i++) sum += params[i];
    }
    (void)sum;
    free(params);
    nncl_snapshots_free(&s);
    return 0;
}
