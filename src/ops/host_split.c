/* nncl_host_split2 and nncl_host_for2 (host_split.h says why). A thread is
 * started per call: at the convolutions' and pooling's sizes (milliseconds
 * per op) its tens of microseconds do not show, and nothing stays running
 * between ops. */
#include "ops/host_split.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
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

/* The cores the split may use: NNCL_HOST_THREADS, else the machine's,
 * lowered by nncl_cpu_threads_limit whenever it is called. */
static atomic_int limit_threads;

static int cores(void)
{
    static int n; /* racy but idempotent: every thread computes the same value */
    static bool from_env;
    if (!n) {
        const char *env = getenv("NNCL_HOST_THREADS");
        from_env = env && *env;
        long c = from_env ? strtol(env, NULL, 10) : sysconf(_SC_NPROCESSORS_ONLN);
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
}

void nncl_host_split2(void (*fn)(void *arg, int part), void *arg)
{
    pthread_once(&blas_once, blas_single_threaded);
    if (cores() < 2) {
        fn(arg, 0);
        fn(arg, 1);
    } else {
        split_job job = {fn, arg};
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
