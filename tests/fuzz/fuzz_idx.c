/* libFuzzer target for the IDX reader. The first byte picks images or labels
 * and memory or file; through a file the data may be gzip (by magic bytes). */
#include "nncl/data.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    uint8_t sel = data[0];
    int dims = (sel & 1) ? 3 : 1;
    uint8_t *out = NULL;
    size_t count = 0;
    int h = 0, w = 0;
    nncl_status st;
    if (sel & 2) {
        if (!path[0]) snprintf(path, sizeof path, "/tmp/nncl-fuzz-idx-%d", (int)getpid());
        FILE *f = fopen(path, "wb");
        if (!f) return 0;
        fwrite(data + 1, 1, size - 1, f);
        fclose(f);
        st = dims == 3 ? nncl_idx_load_images(path, &out, &count, &h, &w)
                       : nncl_idx_load_labels(path, &out, &count);
    } else {
        st = nncl_idx_parse_mem("fuzz.idx", data + 1, size - 1, dims, &out, &count, &h, &w);
    }
    if (st == NNCL_OK) {
        if (!out || count == 0) abort();
        if (dims == 3 && (h <= 0 || w <= 0)) abort();
        /* touch every byte: the size must be what the header said */
        size_t n = count * (dims == 3 ? (size_t)h * (size_t)w : 1);
        volatile uint8_t sum = 0;
        for (size_t i = 0; i < n; i++) sum ^= out[i];
        (void)sum;
    } else if (out || !nncl_last_error()[0]) {
        abort();
    }
    free(out);
    return 0;
}
