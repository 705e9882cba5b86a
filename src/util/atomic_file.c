/* Atomic file replacement and whole-file reads. */
#include "util/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* fsync the folder holding path, so that the rename itself survives a crash. */
static void sync_dir(const char *path)
{
    char *copy = strdup(path);
    if (!copy)
        return;
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(copy);
}

/* What a failed write left: the file as it was (the new bytes went to a
 * temporary, removed), or nothing where there was none. */
static const char *kept(const char *path)
{
    return access(path, F_OK) == 0 ? "; the file as it was is kept" : "";
}

nncl_status nncl_write_file_atomic(const char *path, const void *data, size_t len)
{
    char tmp[4200];
    if (snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid()) >= (int)sizeof tmp)
        return nncl_fail(NNCL_E_INVALID, "%s: path too long", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return nncl_fail(NNCL_E_IO, "%s: cannot write (creating %s: %s)%s", path, tmp, strerror(errno), kept(path));
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = errno;
            close(fd);
            unlink(tmp);
            return nncl_fail(NNCL_E_IO, "%s: cannot write: %s%s", path, strerror(e), kept(path));
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        int e = errno;
        unlink(tmp);
        return nncl_fail(NNCL_E_IO, "%s: cannot write (flushing: %s)%s", path, strerror(e), kept(path));
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return nncl_fail(NNCL_E_IO, "%s: cannot rename into place: %s%s", path, strerror(e), kept(path));
    }
    sync_dir(path);
    return NNCL_OK;
}

nncl_status nncl_read_file(const char *path, size_t max_bytes, char **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    struct stat sb;
    if (stat(path, &sb) != 0)
        return nncl_fail(NNCL_E_IO, "%s: %s", path, strerror(errno));
    if (S_ISDIR(sb.st_mode))
        return nncl_fail(NNCL_E_IO, "%s: is a directory, expected a file", path);
    if ((uint64_t)sb.st_size > max_bytes)
        return nncl_fail(NNCL_E_FORMAT, "%s: %lld bytes, more than the %zu expected", path,
                         (long long)sb.st_size, max_bytes);
    FILE *f = fopen(path, "rb");
    if (!f)
        return nncl_fail(NNCL_E_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t size = (size_t)sb.st_size;
    char *buf = malloc(size + 1);
    if (!buf) {
        fclose(f);
        return nncl_fail(NNCL_E_NOMEM, "%s: out of memory reading %zu bytes", path, size);
    }
    size_t got = fread(buf, 1, size, f);
    fclose(f);
    if (got != size) {
        free(buf);
        return nncl_fail(NNCL_E_IO, "%s: read %zu of %zu bytes", path, got, size);
    }
    buf[size] = '\0';
    *data = buf;
    *len = size;
    return NNCL_OK;
}
