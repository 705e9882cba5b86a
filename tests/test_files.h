/* Helpers shared by the tests of nncl's binary files (checkpoint.bin,
 * snapshots.bin): a scratch folder, whole files read and written, and
 * little-endian fields read and patched in place. */
#ifndef NNCL_TEST_FILES_H
#define NNCL_TEST_FILES_H

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- a scratch folder --------------------------------------------------------------
 * Made and removed by an unchecked fixture, so in the parent process: a
 * failing test (a forked child) leaves nothing behind. */

static char test_tmpdir[256];

/* $TMPDIR/NAME_XXXXXX (or /tmp), made afresh. */
static inline void test_tmpdir_make(const char *name)
{
    snprintf(test_tmpdir, sizeof test_tmpdir, "%s/%s_XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", name);
    if (!mkdtemp(test_tmpdir)) {
        perror("mkdtemp");
        abort();
    }
}

/* The folder with its files and empty subfolders. */
static inline void test_tmpdir_remove(void)
{
    DIR *d = opendir(test_tmpdir);
    if (d) {
        struct dirent *e;
        char p[600];
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            snprintf(p, sizeof p, "%s/%s", test_tmpdir, e->d_name);
            if (unlink(p) != 0)
                rmdir(p);
        }
        closedir(d);
    }
    rmdir(test_tmpdir);
}

static inline void test_path_in(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", test_tmpdir, name);
}

/* ---- whole files ---------------------------------------------------------------- */

static inline void test_write_file(const char *path, const unsigned char *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot create %s: %s", path, strerror(errno));
    ck_assert_msg(n == 0 || fwrite(p, 1, n, f) == n, "cannot write %s", path);
    ck_assert_msg(fclose(f) == 0, "cannot close %s", path);
}

/* The file's bytes, malloc'd (at least 1 byte, so an empty file is not NULL). */
static inline unsigned char *test_read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s: %s", path, strerror(errno));
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *p = malloc(len > 0 ? (size_t)len : 1);
    ck_assert_msg(fread(p, 1, (size_t)len, f) == (size_t)len, "cannot read %s", path);
    fclose(f);
    *n = (size_t)len;
    return p;
}

/* ---- little-endian fields, written here independently of src/util/le_bytes.h ---- */

static inline uint32_t test_get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t test_get64(const unsigned char *p) { return test_get32(p) | (uint64_t)test_get32(p + 4) << 32; }
static inline float test_getf(const unsigned char *p)
{
    uint32_t v = test_get32(p);
    float f;
    memcpy(&f, &v, 4);
    return f;
}
static inline void test_put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}
static inline void test_put64(unsigned char *p, uint64_t v)
{
    test_put32(p, (uint32_t)v);
    test_put32(p + 4, (uint32_t)(v >> 32));
}
static inline void test_putf(unsigned char *p, float f)
{
    uint32_t v;
    memcpy(&v, &f, 4);
    test_put32(p, v);
}
static inline void test_putd(unsigned char *p, double d)
{
    uint64_t v;
    memcpy(&v, &d, 8);
    test_put64(p, v);
}

/* Bit for bit (so NaN equals the same NaN, and 0 is not -0). */
static inline int test_same_f(float a, float b) { return memcmp(&a, &b, sizeof a) == 0; }
static inline int test_same_d(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

#endif
