/* Helpers shared by the check tests: every device, poison, tolerances. */
#ifndef NNCL_TEST_UTIL_H
#define NNCL_TEST_UTIL_H

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nncl/nncl.h"

/* The device list, fetched once per test process. When NNCL_REQUIRE_OPENCL=1
 * a list without any OpenCL device fails the test instead of quietly testing
 * host alone: CI sets it, so a broken PoCL cannot pass unnoticed. */
static inline nncl_device_list *test_devices(void)
{
    static nncl_device_list list;
    static int loaded;
    if (!loaded) {
        ck_assert_msg(nncl_device_list_get(&list) == NNCL_OK, "device list: %s", nncl_last_error());
        loaded = 1;
    }
    const char *req = getenv("NNCL_REQUIRE_OPENCL");
    if (req && strcmp(req, "1") == 0)
        ck_assert_msg(list.count > 1 && list.items[0].backend == NNCL_BACKEND_OPENCL,
                      "NNCL_REQUIRE_OPENCL=1 but no OpenCL device was found (%s)", list.opencl_note);
    return &list;
}

static inline nncl_device *test_open(int index)
{
    nncl_device_list *list = test_devices();
    nncl_device *dev = NULL;
    ck_assert_msg(nncl_device_open(&list->items[index], &dev) == NNCL_OK, "open %s: %s",
                  list->items[index].name, nncl_last_error());
    return dev;
}

/* The host device: always the last in the list. */
static inline nncl_device *test_host_device(void)
{
    nncl_device_list *list = test_devices();
    return test_open(list->count - 1);
}

/* The devices to train on, as indices into test_devices() written to idx (2
 * at most): the first OpenCL device when there is one, then the host.
 * Returns how many. */
static inline int test_train_devices(int *idx)
{
    nncl_device_list *list = test_devices();
    int n = 0;
    if (list->count > 1 && list->items[0].backend == NNCL_BACKEND_OPENCL)
        idx[n++] = 0;
    idx[n++] = list->count - 1;
    return n;
}

/* NNCL_TEST_SMALL=1: the device tests keep to small shapes, so that they
 * run in minutes under a simulator about 1,000 times slower than PoCL
 * (tools/oclgrind_check.sh). test_too_big(n) says to skip a case one of
 * whose operands has more than n elements. */
static inline bool test_small(void)
{
    const char *v = getenv("NNCL_TEST_SMALL");
    return v && strcmp(v, "1") == 0;
}

static inline bool test_too_big(size_t elements) { return test_small() && elements > 20000; }

/* Run a suite and turn its failures into the process's exit status. */
static inline int test_run_suite(Suite *s)
{
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#define ck_assert_ok(expr)                                                                  \
    do {                                                                                    \
        nncl_status st_ = (expr);                                                           \
        ck_assert_msg(st_ == NNCL_OK, "%s failed: %s: %s", #expr, nncl_status_name(st_),    \
                      nncl_last_error());                                                   \
    } while (0)

/* A buffer of n floats on dev, filled with NaN so an element an op never
 * writes shows up in the comparison. */
static inline nncl_buffer *test_poisoned(nncl_device *dev, size_t n)
{
    nncl_buffer *b;
    ck_assert_ok(nncl_buffer_alloc(dev, n * sizeof(float), &b));
    float *nan = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++)
        nan[i] = NAN;
    ck_assert_ok(nncl_buffer_write(b, 0, nan, n * sizeof(float)));
    free(nan);
    return b;
}

static inline nncl_buffer *test_upload(nncl_device *dev, const float *x, size_t n)
{
    nncl_buffer *b;
    ck_assert_ok(nncl_buffer_alloc(dev, n * sizeof(float), &b));
    ck_assert_ok(nncl_buffer_write(b, 0, x, n * sizeof(float)));
    return b;
}

/* A small deterministic generator for test inputs (splitmix64). */
static inline uint64_t test_rand_u64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in [lo, hi). */
static inline float test_rand_float(uint64_t *s, float lo, float hi)
{
    return lo + (hi - lo) * (float)((test_rand_u64(s) >> 40) * (1.0 / 16777216.0));
}

static inline float *test_random(uint64_t *s, size_t n, float lo, float hi)
{
    float *x = malloc((n ? n : 1) * sizeof(float));
    for (size_t i = 0; i < n; i++)
        x[i] = test_rand_float(s, lo, hi);
    return x;
}

/* Equal within |a - b| <= atol + rtol*|b|, NaN equal to NaN, Inf to Inf of
 * the same sign. */
static inline int test_close(float a, float b, float atol, float rtol)
{
    if (isnan(a) || isnan(b))
        return isnan(a) && isnan(b);
    if (isinf(a) || isinf(b))
        return a == b;
    return fabsf(a - b) <= atol + rtol * fabsf(b);
}

#endif
