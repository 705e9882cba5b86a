/* Opening data files (src/data internal). */
#ifndef NNCL_DATA_FILEIO_H
#define NNCL_DATA_FILEIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

#include "nncl/status.h"

typedef struct nncl_data_file {
    int fd;
    bool regular;   /* a regular file (size is valid) */
    bool gzip;      /* starts with the gzip magic bytes 1f 8b */
    uint64_t size;
} nncl_data_file;

/* Opens path; NNCL_E_IO naming the path for a missing file or a directory. */
nncl_status nncl_data_open(const char *path, nncl_data_file *f);
void nncl_data_close(nncl_data_file *f);

/* Reads up to n bytes (fewer only at end of file); *got says how many. */
nncl_status nncl_data_read_full(const char *path, int fd, void *buf, size_t n, size_t *got);

/* A gzFile on a dup of f->fd (close it with gzclose). */
nncl_status nncl_gz_open(const char *path, nncl_data_file *f, gzFile *gz);
/* Like nncl_data_read_full; corrupt data is NNCL_E_FORMAT with zlib's text. */
nncl_status nncl_gz_read(const char *path, gzFile gz, void *buf, size_t n, size_t *got);

/* A regular gzip file inflated in one go by libdeflate (twice zlib's speed
 * on MNIST: tools/inflate_time), for a reader that holds the whole output anyway: true,
 * with *out (malloc'd) and *len, only when the file is one gzip member that
 * inflates, CRC checked, to exactly the size its trailer states, and the
 * file and that size together are at most max_out bytes. Otherwise (a pipe, concatenated members, trailing bytes,
 * corrupt data, too big, out of memory) false, and no error: the caller
 * streams the file through zlib, whose checks and messages are the
 * reference. */
bool nncl_gz_inflate_whole(const nncl_data_file *f, size_t max_out, uint8_t **out, size_t *len);

/* Whether a gzip file of file_size bytes whose trailer says isize may be
 * inflated whole: both buffers within max_out, and isize no more than
 * deflate's 1032:1 could give (a trailer is data, and may lie). */
bool nncl_gz_whole_fits(uint64_t file_size, size_t isize, size_t max_out);

#endif
