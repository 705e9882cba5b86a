/* Writing files so that a reader never sees half of one: write a temporary
 * file beside the target, flush it to disk, then rename it over the target. */
#ifndef NNCL_ATOMIC_FILE_H
#define NNCL_ATOMIC_FILE_H

#include <stddef.h>

#include "nncl/status.h"

/* Replace path with the len bytes at data, atomically. */
nncl_status nncl_write_file_atomic(const char *path, const void *data, size_t len);

/* Read a whole file (at most max_bytes) into a malloc'd buffer, NUL-terminated. */
nncl_status nncl_read_file(const char *path, size_t max_bytes, char **data, size_t *len);

#endif
