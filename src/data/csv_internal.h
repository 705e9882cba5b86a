/* The CSV parser's entry points (src/data internal). */
#ifndef NNCL_DATA_CSV_INTERNAL_H
#define NNCL_DATA_CSV_INTERNAL_H

#include "nncl/data.h"
#include "data/strtab.h"

/* Where a streamed CSV's bytes come from. */
typedef struct nncl_csv_source {
    /* Fills buf[0..cap) with the next bytes; fewer (*got < cap) only at the
     * end of the input. */
    nncl_status (*read)(void *ctx, char *buf, size_t cap, size_t *got);
    void *ctx;
    uint64_t size;      /* the input's length when known (a regular file), else 0 */
    bool compressed;    /* gzip: offsets in messages are in the decompressed bytes */
} nncl_csv_source;

/* Parses the bytes src gives, read in a window of about
 * NNCL_CSV_MAX_LINE + a few MiB (more for very wide rows). */
nncl_status nncl_csv_parse_stream(const char *name, const nncl_csv_source *src,
                                  const nncl_csv_options *opt, nncl_dataset *out);

#endif
