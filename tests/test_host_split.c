/* The host backend's two-core split (src/ops/host_split.c): every part and
 * item runs exactly once, on the persistent helper thread, on the caller
 * when it takes part 1 back before the helper took it, or, when the helper
 * is busy, on a thread of its own: call after call, with part 0 of random
 * lengths (both ends of the race for part 1), with splits nested inside
 * parts, from two threads at once, and in a forked child (which has no
 * helper until it starts one). */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ops/host_split.h"
#include "test_util.h"

typedef struct parts {
    atomic_int ran[2];
    pthread_t who[2];
    int nest;      /* split again inside each part, this many levels deep */
    unsigned spin; /* part 0 first spins this many loops */
    bool wait;     /* part 0 waits (up to 2 s) until part 1 has started */
} parts;

static void record(void *arg, int part)
{
    parts *p = arg;
    p->who[part] = pthread_self(); /* before ran: a waiting part 0 reads it after */
    atomic_fetch_add(&p->ran[part], 1);
    if (part == 0) {
        for (volatile unsigned i = 0; i < p->spin; i++)
            ;
        for (int i = 0; p->wait && i < 200000 && !atomic_load(&p->ran[1]); i++)
            usleep(10);
    }
    if (p->nest > 0) {
        parts inner = {.nest = p->nest - 1};
        nncl_host_split2(record, &inner);
        ck_assert_int_eq(atomic_load(&inner.ran[0]), 1);
        ck_assert_int_eq(atomic_load(&inner.ran[1]), 1);
    }
}

static void split_once(int nest)
{
    parts p = {.nest = nest};
    nncl_host_split2(record, &p);
    ck_assert_int_eq(atomic_load(&p.ran[0]), 1);
    ck_assert_int_eq(atomic_load(&p.ran[1]), 1);
    ck_assert(pthread_equal(p.who[0], pthread_self()));
}

START_TEST(every_part_once_call_after_call)
{
    for (int i = 0; i < 2000; i++)
        split_once(0);
    /* part 0 from nothing to about 20 us: the helper takes part 1 in some
     * splits, the caller takes it back in others; once either way */
    unsigned helped = 0;
    for (unsigned i = 0; i < 4000; i++) {
        parts p = {.spin = (i * 2654435761u) % 20000};
        nncl_host_split2(record, &p);
        ck_assert_int_eq(atomic_load(&p.ran[0]), 1);
        ck_assert_int_eq(atomic_load(&p.ran[1]), 1);
        helped += !pthread_equal(p.who[1], pthread_self());
    }
    /* part 1 on another thread, where the process has two cores, and the
     * same thread split after split: the helper, not a thread per split */
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) >= 2 && !getenv("NNCL_HOST_THREADS")) {
        ck_assert_msg(helped > 0, "in 4,000 splits the helper never took part 1");
        parts p = {.wait = true}, q = {.wait = true};
        nncl_host_split2(record, &p);
        nncl_host_split2(record, &q);
        ck_assert(!pthread_equal(p.who[1], pthread_self()));
        ck_assert_msg(pthread_equal(p.who[1], q.who[1]), "part 1 of two splits in a row ran on two threads");
    }
}
END_TEST

START_TEST(nested_splits)
{
    for (int i = 0; i < 200; i++)
        split_once(3);
}
END_TEST

static void *splitter(void *unused)
{
    (void)unused;
    for (int i = 0; i < 1000; i++)
        split_once(i % 3 == 0);
    return NULL;
}

START_TEST(two_threads_at_once)
{
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, splitter, NULL), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
}
END_TEST

/* Run in the child: splits, and nonzero exit if a part went missing. */
static int child_splits(void)
{
    for (int i = 0; i < 100; i++) {
        parts p = {0};
        nncl_host_split2(record, &p);
        if (atomic_load(&p.ran[0]) != 1 || atomic_load(&p.ran[1]) != 1)
            return 1;
    }
    return 0;
}

START_TEST(split_after_fork)
{
    split_once(0); /* the parent's helper exists before the fork */
    pid_t pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0)
        _exit(child_splits());
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the forked child's splits failed or hung");
    split_once(0);
}
END_TEST

typedef struct items {
    atomic_int count[1000];
} items;

static void count_item(void *arg, size_t item, int worker)
{
    (void)worker;
    atomic_fetch_add(&((items *)arg)->count[item], 1);
}

START_TEST(for2_every_item_once)
{
    static items it;
    for (size_t n = 0; n <= 1000; n += 97) {
        for (size_t i = 0; i < 1000; i++)
            atomic_store(&it.count[i], 0);
        nncl_host_for2(n, count_item, &it);
        for (size_t i = 0; i < 1000; i++)
            ck_assert_int_eq(atomic_load(&it.count[i]), i < n ? 1 : 0);
    }
}
END_TEST

/* nncl_host_range: every index in exactly one call, each call's range
 * non-empty; on two cores or fewer the two halves, on more workers (the
 * host-split-6 row) as many parts as workers, none shorter than the grain
 * but where two parts are all there are. */
typedef struct ranges {
    atomic_int count[1000];
    atomic_int calls;
    atomic_size_t shortest;
} ranges;

static void count_range(void *arg, size_t lo, size_t hi)
{
    ranges *r = arg;
    ck_assert(lo < hi && hi <= 1000);
    for (size_t i = lo; i < hi; i++)
        atomic_fetch_add(&r->count[i], 1);
    atomic_fetch_add(&r->calls, 1);
    size_t was = atomic_load(&r->shortest);
    while (hi - lo < was && !atomic_compare_exchange_weak(&r->shortest, &was, hi - lo))
        ;
}

START_TEST(range_every_index_once)
{
    static ranges r;
    static const size_t grains[] = {1, 7, 100, 5000};
    int workers = nncl_host_workers();
    for (size_t n = 2; n <= 1000; n += 199)
        for (size_t g = 0; g < sizeof grains / sizeof grains[0]; g++) {
            for (size_t i = 0; i < 1000; i++)
                atomic_store(&r.count[i], 0);
            atomic_store(&r.calls, 0);
            atomic_store(&r.shortest, (size_t)-1);
            nncl_host_range(n, grains[g], count_range, &r);
            for (size_t i = 0; i < 1000; i++)
                ck_assert_int_eq(atomic_load(&r.count[i]), i < n ? 1 : 0);
            int calls = atomic_load(&r.calls);
            size_t most = n / grains[g];
            int want = workers <= 2 ? 2 : (int)(most < (size_t)workers ? (most > 2 ? most : 2) : (size_t)workers);
            ck_assert_msg(calls == want, "n %zu grain %zu, %d workers: %d parts, %d expected", n, grains[g],
                          workers, calls, want);
            if (calls > 2)
                ck_assert_uint_ge(atomic_load(&r.shortest), grains[g]);
        }
}
END_TEST

/* nncl_host_for on as many workers as the process has (the suite's
 * host-split-6 row runs this file with NNCL_HOST_THREADS=6, on any machine:
 * then the pool of helpers takes part): every item once, worker numbers
 * below nncl_host_workers() and distinct at any moment, call after call,
 * with calls nested inside items (they take the two-worker path), from two
 * threads at once, and in a forked child. */
typedef struct many {
    atomic_int count[1000];
    atomic_int busy[NNCL_HOST_MAX_WORKERS]; /* items in progress per worker number */
    atomic_int bad, seen_workers;
    int nest;
} many;

static void many_item(void *arg, size_t item, int worker)
{
    many *m = arg;
    if (worker < 0 || worker >= nncl_host_workers() || atomic_fetch_add(&m->busy[worker], 1) != 0)
        atomic_fetch_add(&m->bad, 1); /* out of range, or two items at once on one worker number */
    atomic_fetch_or(&m->seen_workers, 1 << worker);
    atomic_fetch_add(&m->count[item], 1);
    for (volatile int i = 0; i < 2000; i++)
        ;
    if (m->nest) {
        static _Thread_local many inner; /* one per thread: items run concurrently */
        memset(&inner, 0, sizeof inner);
        nncl_host_for(37, NNCL_HOST_MAX_WORKERS, many_item, &inner);
        for (size_t i = 0; i < 37; i++)
            if (atomic_load(&inner.count[i]) != 1)
                atomic_fetch_add(&m->bad, 1);
    }
    atomic_fetch_sub(&m->busy[worker], 1);
}

static int many_rounds(int nest)
{
    static _Thread_local many m;
    int seen = 0;
    for (size_t n = 0; n <= 1000; n += 61) {
        memset(&m, 0, sizeof m);
        m.nest = nest;
        nncl_host_for(n, NNCL_HOST_MAX_WORKERS, many_item, &m);
        for (size_t i = 0; i < 1000; i++)
            if (atomic_load(&m.count[i]) != (i < n ? 1 : 0))
                return -1;
        if (atomic_load(&m.bad))
            return -1;
        seen |= atomic_load(&m.seen_workers);
    }
    return seen;
}

static void *many_thread(void *arg)
{
    *(int *)arg = many_rounds(0);
    return NULL;
}

START_TEST(for_every_item_once_on_every_worker)
{
    int seen = many_rounds(0);
    ck_assert_msg(seen > 0, "an item ran twice, not at all, or on a bad worker number");
    /* a worker number the pool never hands out stays unseen */
    ck_assert_msg(seen < (1 << nncl_host_workers()), "worker numbers %#x past %d workers", seen, nncl_host_workers());
    ck_assert_msg(many_rounds(1) > 0, "nested calls");
    int a = 0, b = 0;
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, many_thread, &a), 0);
    many_thread(&b);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    ck_assert_msg(a > 0 && b > 0, "two threads at once");
    pid_t pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0)
        _exit(many_rounds(0) > 0 ? 0 : 1);
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "a forked child's calls failed or hung");
    ck_assert_msg(many_rounds(0) > 0, "after the fork");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("host_split");
    TCase *t = tcase_create("split");
    tcase_set_timeout(t, 120);
    tcase_add_test(t, every_part_once_call_after_call);
    tcase_add_test(t, nested_splits);
    tcase_add_test(t, two_threads_at_once);
    tcase_add_test(t, split_after_fork);
    tcase_add_test(t, for2_every_item_once);
    tcase_add_test(t, range_every_index_once);
    tcase_add_test(t, for_every_item_once_on_every_worker);
    suite_add_tcase(s, t);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? 1 : 0;
}
