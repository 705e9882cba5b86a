/* The fuzz input as a file, for the readers that read files only: written
 * to a per-process path under /tmp named after `what`. With a `repair`
 * (the checkpoint and snapshot targets), the first byte is a switch: its
 * low bit asks for the checksums to be mended first, so that mutations
 * reach the checks behind them; the rest of the input is the file. NULL
 * when it cannot be written. The error is cleared for the load after. */
#ifndef NNCL_FUZZ_FILE_H
#define NNCL_FUZZ_FILE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nncl/status.h"

static const char *fuzz_input_file(const char *what, const uint8_t *data, size_t size,
                                   void (*repair)(unsigned char *b, size_t size))
{
    static char path[96];
    if (!path[0]) snprintf(path, sizeof path, "/tmp/nncl-fuzz-%s-%d", what, (int)getpid());
    if (repair) {
        if (size < 1) return NULL;
        data++, size--;
    }
    unsigned char *b = malloc(size ? size : 1);
    if (!b) return NULL;
    memcpy(b, data, size);
    if (repair && (data[-1] & 1)) repair(b, size);
    FILE *f = fopen(path, "wb");
    bool ok = f && fwrite(b, 1, size, f) == size;
    ok = f && fclose(f) == 0 && ok;
    free(b);
    nncl_clear_error();
    return ok ? path : NULL;
}

#endif
