/* nncl_host_split2 and nncl_host_for2 (host_split.h says why). Part 1 runs
 * on one helper thread, started on first use and kept, asleep between
 * parts; a thread started per call cost about 47 us here (pthread_create +
 * join, 2026-12-02), and a small network's step makes half a dozen splits
 * (its products, the optimiser, the activation's backward, the gather) of
 * 0.1-0.5 ms each. Part 1 is only offered to the helper: a caller done
 * with part 0 before the helper took it (asleep, or held back by a busy
 * machine) takes it back and runs it itself instead of waiting. A caller
 * that finds the helper busy (another thread's split, or a split inside a
 * part) starts a thread of its own, as before. */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include "ops/host_split.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "nncl/device.h"

#include "nncl_config.h"

#if NNCL_HAVE_CBLAS
#include <cblas.h>
#endif

typedef struct split_job {
    void (*fn)(void *arg, int part);
    void *arg;
} split_job;

static void *run_part1(void *p)
{
    split_job *j = p;
    j->fn(j->arg, 1);
    return NULL;
}

/* The helper. A caller writes `job`, then offers it: `offer` = the job's
 * ticket (never 0). The helper takes it by swapping the ticket for 0,
 * runs part 1 and sets `finished` to the ticket; the caller, done with
 * part 0, takes it back by the same swap if the helper has not, and then
 * runs part 1 itself; else it waits for `finished`. Whoever swaps first
 * owns part 1, so it runs exactly once. Each side first spins up to
 * HELPER_SPIN_NS on the other's word (the next split often follows at
 * once), then sleeps on a condition variable under `lock` (the words are
 * re-checked under it, so no wake-up is lost). `in_use` is held by the one
 * caller whose job is on offer or running (a trylock: never waited on). A
 * part must not fork (the child would wait for a helper it does not
 * have). */
enum { HELPER_SPIN_NS = 100000 }; /* 0.1 ms: a step's ops between two splits mostly take less */

static struct {
    pthread_mutex_t lock, in_use;
    pthread_cond_t wake, done;
    split_job job;
    atomic_ulong offer, finished;
    unsigned long tickets; /* the last ticket given (under in_use) */
    bool started;
} helper = {.lock = PTHREAD_MUTEX_INITIALIZER,
            .in_use = PTHREAD_MUTEX_INITIALIZER,
            .wake = PTHREAD_COND_INITIALIZER,
            .done = PTHREAD_COND_INITIALIZER};

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Whether a wait_for(word, value, until_equal) must go on waiting. */
static bool waiting(atomic_ulong *word, unsigned long value, bool until_equal)
{
    return (atomic_load_explicit(word, memory_order_acquire) == value) != until_equal;
}

/* Returns once *word equals value (until_equal) or differs from it (not):
 * a spin of up to HELPER_SPIN_NS (the clock read every 64 pauses), then
 * sleep on cond. */
static void wait_for(atomic_ulong *word, unsigned long value, bool until_equal, pthread_cond_t *cond)
{
    long long until = 0;
    for (unsigned i = 0; waiting(word, value, until_equal); i++) {
        cpu_relax();
        if (i % 64 == 0) {
            long long t = now_ns();
            if (!until)
                until = t + HELPER_SPIN_NS;
            else if (t > until)
                break;
        }
    }
    if (!waiting(word, value, until_equal))
        return;
    pthread_mutex_lock(&helper.lock);
    while (waiting(word, value, until_equal))
        pthread_cond_wait(cond, &helper.lock);
    pthread_mutex_unlock(&helper.lock);
}

static void publish(atomic_ulong *word, unsigned long value, pthread_cond_t *cond)
{
    atomic_store_explicit(word, value, memory_order_release);
    pthread_mutex_lock(&helper.lock);
    pthread_cond_signal(cond);
    pthread_mutex_unlock(&helper.lock);
}

/* Swaps ticket for 0 in `offer`: true for the one side that gets part 1. */
static bool take(unsigned long ticket)
{
    unsigned long expected = ticket;
    return atomic_compare_exchange_strong_explicit(&helper.offer, &expected, 0, memory_order_acq_rel,
                                                   memory_order_acquire);
}

static void *helper_main(void *unused)
{
    (void)unused;
    for (;;) {
        wait_for(&helper.offer, 0, false, &helper.wake);
        unsigned long ticket = atomic_load_explicit(&helper.offer, memory_order_acquire);
        if (!ticket || !take(ticket))
            continue; /* taken back by its caller */
        split_job job = helper.job;
        job.fn(job.arg, 1);
        publish(&helper.finished, ticket, &helper.done);
    }
    return NULL;
}

/* A forked child has no helper thread (only the forking thread survives a
 * fork): it starts its own on first use. */
static void helper_forget(void)
{
    pthread_mutex_init(&helper.lock, NULL);
    pthread_mutex_init(&helper.in_use, NULL);
    pthread_cond_init(&helper.wake, NULL);
    pthread_cond_init(&helper.done, NULL);
    atomic_store(&helper.offer, 0);
    atomic_store(&helper.finished, 0);
    helper.tickets = 0;
    helper.started = false;
}

/* Starts a thread kept for the process (detached) running fn; false when
 * it cannot be started. */
static bool start_detached(void *(*fn)(void *))
{
    pthread_t t;
    pthread_attr_t attr;
    bool ok = pthread_attr_init(&attr) == 0;
    ok = ok && pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) == 0;
    ok = ok && pthread_create(&t, &attr, fn, NULL) == 0;
    pthread_attr_destroy(&attr);
    return ok;
}

/* Runs fn(arg, 0) here and fn(arg, 1) on the helper, or here too when the
 * helper has not taken it by the time part 0 is done; false (nothing run)
 * when the helper is busy or cannot be started. */
static bool run_on_helper(const split_job *job)
{
    if (pthread_mutex_trylock(&helper.in_use) != 0)
        return false;
    pthread_mutex_lock(&helper.lock);
    if (!helper.started) /* tried again on the next split if it fails */
        helper.started = start_detached(helper_main);
    pthread_mutex_unlock(&helper.lock);
    if (!helper.started) {
        pthread_mutex_unlock(&helper.in_use);
        return false;
    }
    unsigned long ticket = ++helper.tickets ? helper.tickets : ++helper.tickets; /* never 0 */
    helper.job = *job;
    publish(&helper.offer, ticket, &helper.wake);
    job->fn(job->arg, 0);
    if (take(ticket))
        job->fn(job->arg, 1);
    else
        wait_for(&helper.finished, ticket, true, &helper.done);
    pthread_mutex_unlock(&helper.in_use);
    return true;
}

/* The CPUs this process may run on (taskset, cgroup cpusets), else the
 * machine's online count: with one allowed, a split must not spin two
 * threads against each other on it. */
static long allowed_cpus(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return CPU_COUNT(&set);
    return sysconf(_SC_NPROCESSORS_ONLN);
}

/* The cores the split may use: NNCL_HOST_THREADS, else allowed_cpus(),
 * lowered by nncl_cpu_threads_limit whenever it is called. */
static atomic_int limit_threads;

static int cores(void)
{
    static int n; /* racy but idempotent: every thread computes the same value */
    static bool from_env;
    if (!n) {
        const char *env = getenv("NNCL_HOST_THREADS");
        from_env = env && *env;
        long c = from_env ? strtol(env, NULL, 10) : allowed_cpus();
        n = c < 1 ? 1 : c > 1024 ? 1024 : (int)c;
    }
    int lim = atomic_load(&limit_threads);
    return !from_env && lim > 0 && lim < n ? lim : n;
}

nncl_status nncl_cpu_threads_limit(int threads)
{
    if (threads < 1)
        return nncl_fail(NNCL_E_INVALID, "a limit of %d CPU threads: at least 1 expected", threads);
    atomic_store(&limit_threads, threads);
    char text[16];
    snprintf(text, sizeof text, "%d", threads);
    setenv("POCL_MAX_PTHREAD_COUNT", text, 0);
    return NNCL_OK;
}

/* OpenBLAS runs single-threaded for the whole process, set once on the
 * host backend's first product and never restored: nncl cuts its own work
 * in two (below), and OpenBLAS's pool would only spin against it (after a
 * threaded call its idle workers wait busily on the cores nncl's workers
 * need) and round differently (the bits must not depend on the number of
 * cores). Once, not around each call: a save and restore per call races
 * between two threads using host devices at the same time. With one thread
 * OpenBLAS runs a GEMM on the calling thread and never enters its thread
 * server, so two parts' calls do not share it. */
static pthread_once_t blas_once = PTHREAD_ONCE_INIT;

static void blas_single_threaded(void)
{
#if NNCL_HAVE_CBLAS
    openblas_set_num_threads(1);
#endif
    pthread_atfork(NULL, NULL, helper_forget);
}

void nncl_host_split2(void (*fn)(void *arg, int part), void *arg)
{
    pthread_once(&blas_once, blas_single_threaded);
    if (cores() < 2) {
        fn(arg, 0);
        fn(arg, 1);
    } else {
        split_job job = {fn, arg};
        if (run_on_helper(&job))
            return;
        pthread_t t;
        bool started = pthread_create(&t, NULL, run_part1, &job) == 0;
        fn(arg, 0);
        if (started)
            pthread_join(t, NULL);
        else
            fn(arg, 1);
    }
}

void nncl_host_single(void (*fn)(void *arg, int part), void *arg)
{
    pthread_once(&blas_once, blas_single_threaded);
    fn(arg, 0);
}

typedef struct for_job {
    void (*fn)(void *arg, size_t item, int worker);
    void *arg;
    size_t items;
    atomic_size_t next;
} for_job;

static void for_worker(void *p, int worker)
{
    for_job *j = p;
    /* A single item stays on worker 0: callers may give worker 1 scratch
     * only when there are two items or more (conv2d with a batch of one). */
    if (j->items < 2 && worker)
        return;
    for (size_t i; (i = atomic_fetch_add(&j->next, 1)) < j->items;)
        j->fn(j->arg, i, worker);
}

void nncl_host_for2(size_t items, void (*fn)(void *arg, size_t item, int worker), void *arg)
{
    for_job job = {fn, arg, items, 0};
    nncl_host_split2(for_worker, &job); /* one item: worker 1 finds none */
}

/* ---- nncl_host_for: more than two workers ------------------------------ */

/* The pool: helper threads kept for the process, started as a call first
 * needs them. A call puts its job on offer (a new ticket, `job` set); a
 * helper that sees the ticket joins while the job is open and has room,
 * taking the next worker number, and runs items until none is left. The
 * caller runs items as worker 0 too; when none is left it closes the job
 * (no more joins) and waits for the helpers inside it to finish their
 * items. A helper that wakes late finds the job closed, or a newer ticket:
 * it never touches a finished call's job (which lives on that call's
 * stack). `in_use` is held by the one call whose job is on offer (a
 * trylock: a second thread, or a call from inside an item, takes the
 * two-worker path instead). Helpers spin up to HELPER_SPIN_NS on the
 * ticket before they sleep, as the split's helper does. */
static struct {
    pthread_mutex_t lock, in_use;
    pthread_cond_t wake, done;
    atomic_ulong ticket; /* the last job offered (written under lock) */
    for_job *job;        /* the open job, NULL once closed (under lock) */
    int joined, want;    /* workers in the job (the caller is 0), its limit */
    int running;         /* helpers inside the job */
    int helpers;         /* helper threads started */
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER,
          .in_use = PTHREAD_MUTEX_INITIALIZER,
          .wake = PTHREAD_COND_INITIALIZER,
          .done = PTHREAD_COND_INITIALIZER};

static void run_items_of(for_job *j, int worker)
{
    for (size_t i; (i = atomic_fetch_add(&j->next, 1)) < j->items;)
        j->fn(j->arg, i, worker);
}

static void *pool_main(void *unused)
{
    (void)unused;
    unsigned long seen = 0;
    for (;;) {
        /* a new ticket: spin a little, then sleep for it */
        long long until = now_ns() + HELPER_SPIN_NS;
        for (unsigned i = 0; atomic_load_explicit(&pool.ticket, memory_order_acquire) == seen; i++) {
            cpu_relax();
            if (i % 64 == 0 && now_ns() > until)
                break;
        }
        pthread_mutex_lock(&pool.lock);
        while (atomic_load_explicit(&pool.ticket, memory_order_relaxed) == seen)
            pthread_cond_wait(&pool.wake, &pool.lock);
        seen = atomic_load_explicit(&pool.ticket, memory_order_relaxed);
        if (!pool.job || pool.joined >= pool.want) {
            pthread_mutex_unlock(&pool.lock);
            continue;
        }
        for_job *j = pool.job;
        int worker = pool.joined++;
        pool.running++;
        pthread_mutex_unlock(&pool.lock);
        run_items_of(j, worker);
        pthread_mutex_lock(&pool.lock);
        if (--pool.running == 0)
            pthread_cond_signal(&pool.done);
        pthread_mutex_unlock(&pool.lock);
    }
    return NULL;
}

/* After a fork the child has none of the pool's threads. */
static void pool_forget(void)
{
    pthread_mutex_init(&pool.lock, NULL);
    pthread_mutex_init(&pool.in_use, NULL);
    pthread_cond_init(&pool.wake, NULL);
    pthread_cond_init(&pool.done, NULL);
    atomic_store(&pool.ticket, 0);
    pool.job = NULL;
    pool.joined = pool.want = pool.running = pool.helpers = 0;
}

static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

static void pool_at_fork(void) { pthread_atfork(NULL, NULL, pool_forget); }

int nncl_host_workers(void)
{
    int n = cores();
    return n > NNCL_HOST_MAX_WORKERS ? NNCL_HOST_MAX_WORKERS : n;
}

/* Runs the job on the pool with up to `want` workers; false (nothing run)
 * when the pool is in use or no helper could be started. */
static bool run_on_pool(for_job *job, int want)
{
    if (pthread_mutex_trylock(&pool.in_use) != 0)
        return false;
    pthread_once(&pool_once, pool_at_fork);
    pthread_mutex_lock(&pool.lock);
    while (pool.helpers < want - 1 && start_detached(pool_main)) /* tried again on the next call if one fails */
        pool.helpers++;
    if (pool.helpers == 0) {
        pthread_mutex_unlock(&pool.lock);
        pthread_mutex_unlock(&pool.in_use);
        return false;
    }
    pool.job = job;
    pool.joined = 1;
    pool.want = want;
    pool.running = 0;
    atomic_store_explicit(&pool.ticket, atomic_load_explicit(&pool.ticket, memory_order_relaxed) + 1,
                          memory_order_release);
    for (int w = 1; w < want; w++) /* the helpers the job can use, not every one */
        pthread_cond_signal(&pool.wake);
    pthread_mutex_unlock(&pool.lock);

    run_items_of(job, 0);

    pthread_mutex_lock(&pool.lock);
    pool.job = NULL; /* closed: a helper waking now stays out */
    while (pool.running > 0)
        pthread_cond_wait(&pool.done, &pool.lock);
    pthread_mutex_unlock(&pool.lock);
    pthread_mutex_unlock(&pool.in_use);
    return true;
}

typedef struct range_job {
    void (*fn)(void *arg, size_t lo, size_t hi);
    void *arg;
    size_t n, parts;
} range_job;

static void range_part(void *p, size_t part, int worker)
{
    (void)worker;
    const range_job *j = p;
    size_t lo, hi;
    nncl_host_part(j->n, part, j->parts, &lo, &hi);
    if (hi > lo)
        j->fn(j->arg, lo, hi);
}

static void range_half(void *p, int part) { range_part(p, (size_t)part, part); }

void nncl_host_range(size_t n, size_t grain, void (*fn)(void *arg, size_t lo, size_t hi), void *arg)
{
    int workers = nncl_host_workers();
    range_job job = {fn, arg, n, 2};
    if (workers > 2) {
        size_t most = grain ? n / grain : n;
        job.parts = most < (size_t)workers ? most : (size_t)workers;
        job.parts = job.parts > 2 ? job.parts : 2;
    }
    if (job.parts > 2)
        nncl_host_for(job.parts, (int)job.parts, range_part, &job);
    else
        nncl_host_split2(range_half, &job);
}

void nncl_host_for(size_t items, int workers, void (*fn)(void *arg, size_t item, int worker), void *arg)
{
    int n = nncl_host_workers();
    n = workers < n ? workers : n;
    if ((size_t)n > items)
        n = items > 1 ? (int)items : 1;
    if (n <= 2) {
        if (n == 2)
            nncl_host_for2(items, fn, arg);
        else
            for (size_t i = 0; i < items; i++)
                fn(arg, i, 0);
        return;
    }
    pthread_once(&blas_once, blas_single_threaded);
    for_job job = {fn, arg, items, 0};
    if (!run_on_pool(&job, n))
        nncl_host_for2(items, fn, arg);
}
