/* The gradients' all-reduce (src/dist/sum.c), run under mpirun with 3
 * ranks (tests/meson.build): every rank must get, bit for bit, the sum of
 * all ranks' values added in rank order in double and rounded once, for
 * awkward lengths (1, fewer elements than ranks, not a multiple of the
 * ranks, and past the 2^18-float chunk a collective moves at once). The
 * values span 2^-10 to 2^12 and both signs, so another order of the
 * additions, or float accumulation, would change some of the bits. Each
 * rank computes every rank's values itself, so the expected sums need no
 * communication. CK_FORK=no: the ranks are MPI processes, which check must
 * not fork. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dist/dist.h"

static int rank, size;

/* Rank r's value at i: a fixed pseudo-random float of a wide range. */
static float value(int r, size_t i)
{
    uint32_t h = (uint32_t)(i * 2654435761u) ^ (uint32_t)(r * 40503u + 7u);
    h ^= h >> 15;
    h *= 2246822519u;
    h ^= h >> 13;
    float mant = (float)(h & 0xffffff) / (float)0x1000000 + 0.5f;       /* [0.5, 1.5) */
    int e = (int)((h >> 24) % 23) - 10;                                   /* 2^-10 .. 2^12 */
    return (h & 0x80000000u ? -1.0f : 1.0f) * ldexpf(mant, e);
}

static void check_length(size_t n)
{
    float *buf = malloc((n ? n : 1) * sizeof *buf), *want = malloc((n ? n : 1) * sizeof *want);
    ck_assert_ptr_nonnull(buf);
    ck_assert_ptr_nonnull(want);
    for (size_t i = 0; i < n; i++) {
        buf[i] = value(rank, i);
        double acc = 0;
        for (int r = 0; r < size; r++)
            acc += (double)value(r, i);
        want[i] = (float)acc;
    }
    ck_assert_int_eq(nncl_dist_sum(buf, n), NNCL_OK);
    size_t bad = 0, first = 0;
    for (size_t i = 0; i < n; i++)
        if (memcmp(&buf[i], &want[i], sizeof *buf) != 0 && bad++ == 0)
            first = i;
    ck_assert_msg(bad == 0, "rank %d, n %zu: %zu sums differ from rank order in double, first at %zu: %.9g, want %.9g",
                  rank, n, bad, first, (double)buf[first], (double)want[first]);
    free(buf);
    free(want);
}

START_TEST(sums_in_rank_order)
{
    ck_assert_int_eq(size, 3);
    static const size_t lengths[] = {1, 2, 3, 4, 7, 1000, 203531, (1u << 18) + 1, 2 * (1u << 18) + 5};
    for (size_t k = 0; k < sizeof lengths / sizeof *lengths; k++)
        check_length(lengths[k]);
}
END_TEST

START_TEST(counts_time_and_ranks_here)
{
    double before, after;
    ck_assert_int_eq(nncl_dist_comm_seconds(&before, true), NNCL_OK);
    check_length(4096);
    ck_assert_int_eq(nncl_dist_comm_seconds(&after, false), NNCL_OK);
    ck_assert(after > 0);
    int local = 0;
    bool with0 = false;
    ck_assert_int_eq(nncl_dist_local(&local, &with0), NNCL_OK);
    ck_assert_int_eq(local, size);      /* mpirun started them all on this machine */
    ck_assert(with0);
}
END_TEST

int main(void)
{
    bool active = false;
    if (nncl_dist_init(true, &active) != NNCL_OK || !active)
        return 1;
    nncl_dist_rank(&rank, &size);
    Suite *s = suite_create("dist-sum");
    TCase *tc = tcase_create("sum");
    tcase_add_test(tc, sums_in_rank_order);
    tcase_add_test(tc, counts_time_and_ranks_here);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, rank == 0 ? CK_NORMAL : CK_SILENT);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    nncl_dist_finalize();
    return failed ? 1 : 0;
}
