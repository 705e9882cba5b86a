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

/* The cores the split may use: NNCL_HOST_THREADS, else what
 * nncl_cpu_threads_limit set, else the machine's. */
static atomic_int limit_threads;

static int cores(void)
{
    static int n; /* racy but idempotent: every thread computes the same value */
    if (!n) {
        const char *env = getenv("NNCL_HOST_THREADS");
        long c = env && *env ? strtol(env, NULL, 10) : sysconf(_SC_NPROCESSORS_ONLN);
        int lim = atomic_load(&limit_threads);
        if (!(env && *env) && lim > 0 && lim < c)
            c = lim;
        n = c < 1 ? 1 : (int)c;
    }
    return n;
}

nncl_status nncl_cpu_threads_limit(int threads)
{
    if (threads < 1)
        return nncl_fail(NNCL_E_INVALID, "a limit of %d CPU threads: at least 1 expected", threads);
    atomic_store(&limit_threads, threads);
    char text[16];
    snprintf(text, sizeof text, "%d", threads);
    setenv("POCL_MAX_PTHREAD_COUNT", text, 0);
#if NNCL_HAVE_CBLAS
    /* OpenBLAS read its environment when it loaded, before main: a limit
     * set there stands; otherwise it took every core, and this lowers it. */
    if (!getenv("OPENBLAS_NUM_THREADS") && !getenv("OMP_NUM_THREADS") && threads < openblas_get_num_threads())
        openblas_set_num_threads(threads);
#endif
    return NNCL_OK;
}

void nncl_host_split2(void (*fn)(void *arg, int part), void *arg)
{
#if NNCL_HAVE_CBLAS
    /* With one thread OpenBLAS runs a GEMM on the calling thread and never
     * enters its thread server, so the two parts' calls do not share it
     * (its buffer allocation is locked in the pthread build). Set also when
     * the parts run one after the other: OpenBLAS's threaded GEMM can round
     * differently, and the bits must not depend on the number of cores. */
    int blas_threads = openblas_get_num_threads();
    openblas_set_num_threads(1);
#endif
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
#if NNCL_HAVE_CBLAS
    openblas_set_num_threads(blas_threads);
#endif
}

void nncl_host_single(void (*fn)(void *arg, int part), void *arg)
{
#if NNCL_HAVE_CBLAS
    int blas_threads = openblas_get_num_threads();
    openblas_set_num_threads(1);
#endif
    fn(arg, 0);
#if NNCL_HAVE_CBLAS
    openblas_set_num_threads(blas_threads);
#endif
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
