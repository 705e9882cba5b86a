/* nncl_csv_read: maps (or decompresses) a CSV file and hands it to the parser. */
#include "nncl/data.h"
#include "data/csv_internal.h"
#include "data/fileio.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

typedef struct mapping { char *base; size_t len, page, dropped; } mapping;

/* Drops the mapped pages below upto: they are clean file pages, so they come
 * back from the file if touched again. */
static void drop_pages(void *ctx, size_t upto)
{
    mapping *m = ctx;
    size_t end = upto / m->page * m->page;
    if (end > m->dropped) {
        madvise(m->base + m->dropped, end - m->dropped, MADV_DONTNEED);
        m->dropped = end;
    }
}

/* The whole (decompressed) stream in a malloc'd buffer. */
static nncl_status slurp_gz(const char *path, nncl_data_file *f, char **buf, size_t *len)
{
    gzFile gz;
    nncl_status st = nncl_gz_open(path, f, &gz);
    if (st) return st;
    size_t cap = f->regular && f->size < ((size_t)1 << 40) ? (size_t)f->size * 4 + 65536 : 1 << 20;
    size_t n = 0;
    char *b = malloc(cap);
    while (b) {
        size_t got;
        if ((st = nncl_gz_read(path, gz, b + n, cap - n, &got))) break;
        n += got;
        if (n < cap) break;
        char *nb = realloc(b, cap * 2);
        if (!nb) { free(b); b = NULL; break; }
        b = nb;
        cap *= 2;
    }
    int rc = gzclose(gz);
    if (!b) return nncl_fail(NNCL_E_NOMEM, "%s: out of memory decompressing", path);
    if (!st && rc != Z_OK)
        st = nncl_fail(NNCL_E_FORMAT, "%s: corrupt gzip data: %s", path,
                       rc == Z_BUF_ERROR ? "unexpected end of file" : zError(rc));
    if (st) { free(b); return st; }
    *buf = b;
    *len = n;
    return NNCL_OK;
}

nncl_status nncl_csv_read(const char *path, const nncl_csv_options *opt, nncl_dataset *out)
{
    if (!out) return nncl_fail(NNCL_E_INVALID, "nncl_csv_read: NULL output");
    memset(out, 0, sizeof *out);
    nncl_data_file f;
    nncl_status st = nncl_data_open(path, &f);
    if (st) return st;
    if (f.gzip) {
        char *buf = NULL;
        size_t len = 0;
        st = slurp_gz(path, &f, &buf, &len);
        nncl_data_close(&f);
        if (st) return st;
        st = nncl_csv_parse_buffer(path, buf, len, opt, NULL, NULL, out);
        free(buf);
        return st;
    }
    if (f.size == 0) {
        nncl_data_close(&f);
        return nncl_csv_parse_buffer(path, "", 0, opt, NULL, NULL, out);
    }
    if (f.size > SIZE_MAX / 2) {
        nncl_data_close(&f);
        return nncl_fail(NNCL_E_IO, "%s: too large to read (%llu bytes)", path,
                         (unsigned long long)f.size);
    }
    mapping m = { NULL, (size_t)f.size, (size_t)sysconf(_SC_PAGESIZE), 0 };
    void *base = mmap(NULL, m.len, PROT_READ, MAP_PRIVATE, f.fd, 0);
    if (base == MAP_FAILED) {
        int e = errno;
        nncl_data_close(&f);
        return nncl_fail(NNCL_E_IO, "%s: cannot map the file: %s", path, strerror(e));
    }
    nncl_data_close(&f);
    m.base = base;
    madvise(base, m.len, MADV_SEQUENTIAL);
    st = nncl_csv_parse_buffer(path, base, m.len, opt, drop_pages, &m, out);
    munmap(base, m.len);
    return st;
}
