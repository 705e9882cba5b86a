/* Helpers for the data tests: a scratch directory and small files in it. */
#ifndef NNCL_TEST_DATA_UTIL_H
#define NNCL_TEST_DATA_UTIL_H

#define _XOPEN_SOURCE 700
#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "nncl/data.h"

/* Run a suite and turn its failures into the process's exit status. */
static inline int test_run_suite(Suite *s)
{
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

static char tu_dir[256];

static inline void tu_setup(void)
{
    const char *t = getenv("TMPDIR");
    snprintf(tu_dir, sizeof tu_dir, "%s/nncl-data-test-XXXXXX", t && *t ? t : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(tu_dir));
}

static inline int tu_rm(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    return remove(p);
}

static inline void tu_teardown(void)
{
    if (tu_dir[0]) nftw(tu_dir, tu_rm, 16, FTW_DEPTH | FTW_PHYS);
    tu_dir[0] = '\0';
}

/* The path of name inside the scratch directory (static buffer, 4 in rotation). */
static inline const char *tu_path(const char *name)
{
    static char buf[4][1024];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tu_dir, name);
    return buf[k];
}

static inline const char *tu_write(const char *name, const void *data, size_t n)
{
    const char *p = tu_path(name);
    FILE *f = fopen(p, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, n, f), n);
    fclose(f);
    return p;
}

static inline const char *tu_write_str(const char *name, const char *s)
{
    return tu_write(name, s, strlen(s));
}

static inline const char *tu_write_gz(const char *name, const void *data, size_t n)
{
    const char *p = tu_path(name);
    gzFile g = gzopen(p, "wb");
    ck_assert_ptr_nonnull(g);
    ck_assert_int_eq(gzwrite(g, data, (unsigned)n), (int)n);
    gzclose(g);
    return p;
}

/* The file's whole contents (malloc'd). */
static inline char *tu_read(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)len + 1);
    ck_assert_uint_eq(fread(b, 1, (size_t)len, f), (size_t)len);
    b[len] = '\0';
    fclose(f);
    if (n) *n = (size_t)len;
    return b;
}

/* The last error contains each of the given strings. */
#define ck_error_has(...)                                                         \
    do {                                                                          \
        const char *want_[] = {__VA_ARGS__};                                      \
        for (size_t i_ = 0; i_ < sizeof want_ / sizeof want_[0]; i_++)            \
            ck_assert_msg(strstr(nncl_last_error(), want_[i_]) != NULL,           \
                          "message \"%s\" lacks \"%s\"", nncl_last_error(), want_[i_]); \
    } while (0)

#endif
