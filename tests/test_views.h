/* Views for the op tests: a tensor at an offset inside a NaN-poisoned
 * buffer, read back with a check that nothing outside it was written, and an
 * element-wise comparison with the oracle. Shared by test_conv and
 * test_batchnorm. */
#ifndef NNCL_TEST_VIEWS_H
#define NNCL_TEST_VIEWS_H

#include <stdint.h>

#include "test_util.h"

enum { PAD = 5 };

typedef struct tview {
    nncl_buffer *buf;
    size_t off, n;
} tview;

/* off + n + PAD elements of 4 bytes, all NaN poison, data (if any) at off. */
static inline tview tv_new(nncl_device *dev, const void *data, size_t n, size_t off)
{
    tview t = {test_poisoned(dev, off + n + PAD), off, n};
    if (data && n)
        ck_assert_ok(nncl_buffer_write(t.buf, off * 4, data, n * 4));
    return t;
}
static inline nncl_view V(tview t) { return nncl_view_of(t.buf, t.off); }

/* The n elements at the view; fails if any element outside it changed. */
static inline float *tv_read(tview t, const char *what)
{
    size_t total = t.off + t.n + PAD;
    uint32_t *all = malloc(total * 4);
    ck_assert_ok(nncl_buffer_read(t.buf, 0, all, total * 4));
    for (size_t i = 0; i < total; i++)
        if ((i < t.off || i >= t.off + t.n) && all[i] != 0x7fc00000u)
            ck_abort_msg("%s: element %zu outside the view (offset %zu, %zu elements) was overwritten", what, i,
                         t.off, t.n);
    float *out = malloc(t.n * 4 + 4);
    memcpy(out, all + t.off, t.n * 4);
    free(all);
    return out;
}
static inline void tv_free(tview t) { nncl_buffer_free(t.buf); }

static inline void check_close(const char *what, const float *got, const float *ref, size_t n, double atol, double rtol)
{
    for (size_t i = 0; i < n; i++)
        if (!test_close(got[i], ref[i], (float)atol, (float)rtol))
            ck_abort_msg("%s: element %zu is %.9g, the oracle says %.9g (atol %g, rtol %g)", what, i,
                         (double)got[i], (double)ref[i], atol, rtol);
}

#endif
