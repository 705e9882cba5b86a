/* nncl_csv_read: streams a CSV file (raw or gzip-compressed, a regular file,
 * a pipe or a device) into the parser. Nothing is mapped or read whole: the
 * parser pulls the bytes through a window of a few MiB, so the peak memory is
 * the result plus the window, and a file without line breaks is refused
 * after one line's limit. */
#include "nncl/data.h"
#include "data/csv_internal.h"
#include "data/fileio.h"

#include <fcntl.h>
#include <string.h>

typedef struct stream {
    const char *path;
    int fd;
    gzFile gz;  /* NULL: read fd as it is */
} stream;

static nncl_status stream_read(void *ctx, char *buf, size_t cap, size_t *got)
{
    stream *s = ctx;
    return s->gz ? nncl_gz_read(s->path, s->gz, buf, cap, got)
                 : nncl_data_read_full(s->path, s->fd, buf, cap, got);
}

nncl_status nncl_csv_read(const char *path, const nncl_csv_options *opt, nncl_dataset *out)
{
    if (!out) return nncl_fail(NNCL_E_INVALID, "nncl_csv_read: NULL output");
    memset(out, 0, sizeof *out);
    nncl_data_file f;
    nncl_status st = nncl_data_open(path, &f);
    if (st) return st;
    stream s = {path, f.fd, NULL};
    /* A pipe or a device is read through zlib too: it passes raw bytes
     * through as they are and decompresses gzip (nncl_data_open). */
    if (f.gzip && (st = nncl_gz_open(path, &f, &s.gz))) {
        nncl_data_close(&f);
        return st;
    }
    if (!s.gz) posix_fadvise(f.fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    nncl_csv_source src = {
        .read = stream_read,
        .ctx = &s,
        .size = s.gz ? 0 : f.size,
        .compressed = f.regular && f.gzip,
    };
    st = nncl_csv_parse_stream(path, &src, opt, out);
    if (s.gz) {
        int rc = gzclose(s.gz);
        if (!st && rc != Z_OK) {
            nncl_dataset_free(out);
            st = nncl_fail(NNCL_E_FORMAT, "%s: corrupt gzip data: %s", path,
                           rc == Z_BUF_ERROR ? "unexpected end of file" : zError(rc));
        }
    }
    nncl_data_close(&f);
    return st;
}
