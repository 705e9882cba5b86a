/* Opening data files: clear messages for missing files and directories, and
 * gzip detection by magic bytes. */
#include "data/fileio.h"

#include <errno.h>
#include <fcntl.h>
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
