/* Opening data files: clear messages for missing files and directories, and
 * gzip detection by magic bytes. */
#include "data/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <libdeflate.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

nncl_status nncl_data_open(const char *path, nncl_data_file *f)
{
    memset(f, 0, sizeof *f);
    f->fd = -1;
    if (!path || !*path) return nncl_fail(NNCL_E_INVALID, "no file name given");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return nncl_fail(NNCL_E_IO, "%s: cannot open: %s", path, strerror(e));
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return nncl_fail(NNCL_E_IO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return nncl_fail(NNCL_E_IO, "%s: is a directory, expected a file", path);
    }
    f->fd = fd;
    f->regular = S_ISREG(st.st_mode);
    f->size = f->regular ? (uint64_t)st.st_size : 0;
    /* gzip magic 1f 8b. Peek with pread on regular files; others are only
     * sniffed via read and then handled by zlib, which also passes raw data
     * through (gzdopen's transparent mode) so nothing is lost. */
    unsigned char m[2];
    ssize_t got;
    if (f->regular) {
        do got = pread(fd, m, 2, 0); while (got < 0 && errno == EINTR);
        if (got < 0) {
            int e = errno;
            close(fd);
            f->fd = -1;
            return nncl_fail(NNCL_E_IO, "%s: cannot read: %s", path, strerror(e));
        }
        f->gzip = got == 2 && m[0] == 0x1f && m[1] == 0x8b;
    } else {
        f->gzip = true; /* a pipe: let zlib decide (it reads raw data as is) */
    }
    return NNCL_OK;
}

void nncl_data_close(nncl_data_file *f)
{
    if (f->fd >= 0) close(f->fd);
    f->fd = -1;
}

nncl_status nncl_data_read_full(const char *path, int fd, void *buf, size_t n, size_t *got_out)
{
    size_t got = 0;
    while (got < n) {
        size_t want = n - got;
        if (want > ((size_t)1 << 30)) want = (size_t)1 << 30;
        ssize_t r = read(fd, (char *)buf + got, want);
        if (r < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            return nncl_fail(NNCL_E_IO, "%s: read error: %s", path, strerror(e));
        }
        if (r == 0) break;
        got += (size_t)r;
    }
    *got_out = got;
    return NNCL_OK;
}

nncl_status nncl_gz_read(const char *path, gzFile gz, void *buf, size_t n, size_t *got_out)
{
    size_t got = 0;
    while (got < n) {
        size_t want = n - got;
        if (want > ((size_t)1 << 30)) want = (size_t)1 << 30;
        int r = gzread(gz, (char *)buf + got, (unsigned)want);
        if (r < 0) {
            int err;
            const char *msg = gzerror(gz, &err);
            if (err == Z_ERRNO)
                return nncl_fail(NNCL_E_IO, "%s: read error: %s", path, strerror(errno));
            return nncl_fail(NNCL_E_FORMAT, "%s: corrupt gzip data: %s", path, msg ? msg : "?");
        }
        if (r == 0) break;
        got += (size_t)r;
    }
    /* A short read may hide an error (truncated stream, bad CRC). */
    if (got < n) {
        int err;
        const char *msg = gzerror(gz, &err);
        if (err != Z_OK && err != Z_STREAM_END)
            return nncl_fail(NNCL_E_FORMAT, "%s: corrupt gzip data: %s", path, msg ? msg : "?");
    }
    *got_out = got;
    return NNCL_OK;
}

nncl_status nncl_gz_open(const char *path, nncl_data_file *f, gzFile *out)
{
    int fd2 = dup(f->fd);
    if (fd2 < 0) return nncl_fail(NNCL_E_IO, "%s: cannot read: %s", path, strerror(errno));
    gzFile gz = gzdopen(fd2, "rb");
    if (!gz) {
        close(fd2);
        return nncl_fail(NNCL_E_NOMEM, "%s: cannot start gzip decompression", path);
    }
    gzbuffer(gz, 1 << 18);
    *out = gz;
    return NNCL_OK;
}

/* pread until n bytes or an error (false). */
static bool pread_full(int fd, void *buf, size_t n, uint64_t at)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, (char *)buf + got, n - got, (off_t)(at + got));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        got += (size_t)r;
    }
    return true;
}

bool nncl_gz_whole_fits(uint64_t file_size, size_t isize, size_t max_out)
{
    /* Both buffers are held at once: together within max_out. Deflate
     * expands at most 1032:1 (a 258-byte match costs at least 2 bits), so a
     * trailer that claims more lies, and must not size an allocation. */
    if (file_size > SIZE_MAX / 2) return false;
    size_t in_len = (size_t)file_size;
    return isize > 0 && isize <= max_out && in_len <= max_out - isize && isize / 1032 <= in_len;
}

bool nncl_gz_inflate_whole(const nncl_data_file *f, size_t max_out, uint8_t **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    /* The smallest member is 20 bytes (10 header, 2 empty block, 8 trailer). */
    if (!f->regular || !f->gzip || f->size < 20 || f->size > SIZE_MAX / 2) return false;
    /* The trailer's ISIZE: the inflated size mod 2^32 (a larger file does
     * not fit the space it gives, and falls back). */
    uint8_t t[4];
    if (!pread_full(f->fd, t, 4, f->size - 4)) return false;
    size_t isize = (size_t)t[0] | (size_t)t[1] << 8 | (size_t)t[2] << 16 | (size_t)t[3] << 24;
    size_t in_len = (size_t)f->size;
    if (!nncl_gz_whole_fits(f->size, isize, max_out)) return false;
    uint8_t *in = malloc(in_len), *o = malloc(isize);
    struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
    bool ok = in && o && d && pread_full(f->fd, in, in_len, 0);
    size_t in_used = 0, out_used = 0;
    ok = ok && libdeflate_gzip_decompress_ex(d, in, in_len, o, isize, &in_used, &out_used) == LIBDEFLATE_SUCCESS &&
         in_used == in_len && out_used == isize;
    libdeflate_free_decompressor(d);
    free(in);
    if (!ok) {
        free(o);
        return false;
    }
    *out = o;
    *len = isize;
    return true;
}
