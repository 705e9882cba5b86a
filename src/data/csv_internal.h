/* The CSV reader's buffer entry point (src/data internal). */
#ifndef NNCL_DATA_CSV_INTERNAL_H
#define NNCL_DATA_CSV_INTERNAL_H

#include "nncl/data.h"
#include "data/strtab.h"

/* Called now and then with the offset below which the buffer is no longer
 * needed (the file reader drops those pages of its mapping). */
typedef void (*nncl_csv_release_fn)(void *ctx, size_t upto);

nncl_status nncl_csv_parse_buffer(const char *name, const char *buf, size_t len,
                                  const nncl_csv_options *opt, nncl_csv_release_fn release,
                                  void *release_ctx, nncl_dataset *out);

#endif
