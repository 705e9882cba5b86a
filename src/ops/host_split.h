/* nncl_host_split2, nncl_host_for2: the host backend's work on two cores.
 *
 * Why: on the host backend OpenBLAS threads its own GEMMs, but the data
 * movement around them in a convolution (im2col, the reorder, col2im) and
 * the pooling ran on the main thread alone while OpenBLAS's idle worker
 * spun; its thin GEMMs (16-64 rows) also scale poorly over two threads.
 * Two workers, each running whole chunks (im2col, a single-threaded GEMM,
 * the reorder or col2im), keep both cores busy with everything.
 *
 * The work is cut the same way whatever the machine (halves, or fixed
 * chunks), so the results are the same bits with one core or many; with
 * one core (or NNCL_HOST_THREADS=1), or when a thread cannot be started,
 * the parts simply run one after the other on the calling thread. The
 * second part runs on a helper thread kept for the process (host_split.c
 * says why), on the calling thread after the first when the helper has
 * not taken it by then (asleep, or held back on a busy machine), or on a
 * thread of its own when the helper is busy.
 * Private to the library. */
#ifndef NNCL_HOST_SPLIT_H
#define NNCL_HOST_SPLIT_H

#include <stddef.h>

/* Calls fn(arg, 0) and fn(arg, 1), concurrently where the machine has two
 * or more cores (part 0 on the caller's thread, part 1 on the helper, or
 * after part 0 on the caller's when the helper has not started it), and
 * returns when both are done; a part must not wait for the other. OpenBLAS is set to one thread for the process
 * on first use (host_split.c says why) and stays so. Both parts must write
 * disjoint memory. */
void nncl_host_split2(void (*fn)(void *arg, int part), void *arg);

/* Calls fn(arg, 0) alone on the calling thread (OpenBLAS single-threaded
 * as above): for work too small to share. */
void nncl_host_single(void (*fn)(void *arg, int part), void *arg);

/* Calls fn(arg, item, worker) once for every item < items, on two workers
 * (worker 0 the caller, worker 1 the helper, as above) that take the next
 * item as they become free: on a shared machine a worker that the scheduler
 * holds back leaves its items to the other instead of holding up the op.
 * Which worker does an item varies run to run, so fn must make its results
 * depend on the item only (worker picks its scratch). A single item always
 * runs on worker 0. */
void nncl_host_for2(size_t items, void (*fn)(void *arg, size_t item, int worker), void *arg);

/* Calls fn(arg, lo, hi) over [0, n) cut into parts, concurrently, for
 * work where each index is independent (the cut changes no bit): two
 * halves (nncl_host_half) on one or two cores, as nncl_host_split2 runs
 * them; with more workers as many parts as workers, each at least `grain`
 * long (at least two parts). */
void nncl_host_range(size_t n, size_t grain, void (*fn)(void *arg, size_t lo, size_t hi), void *arg);

/* The most workers nncl_host_for runs at once (its worker numbers are
 * below it). */
enum { NNCL_HOST_MAX_WORKERS = 16 };

/* The workers nncl_host_for may use in this process now: the cores
 * (NNCL_HOST_THREADS, else the CPUs this process may run on, lowered by
 * nncl_cpu_threads_limit), at most NNCL_HOST_MAX_WORKERS, at least 1. */
int nncl_host_workers(void);

/* nncl_host_for2 on up to `workers` workers (worker numbers < workers, so
 * a caller gives each that many scratch areas): the caller's thread and
 * helpers kept for the process, each taking the next item as it becomes
 * free, as in nncl_host_for2; never more than nncl_host_workers(). With two
 * workers or fewer (or when the helpers are busy: another thread's call, or
 * a call from inside an item) it is nncl_host_for2, as before. fn must make
 * its results depend on the item only, never on the worker. */
void nncl_host_for(size_t items, int workers, void (*fn)(void *arg, size_t item, int worker), void *arg);

/* [*lo, *hi): part `part` (0 or 1) of the range [0, n): the first half
 * rounded up, then the rest. */
/* Part `part` of [0, n) cut into `parts` (ceil(n part / parts) to
 * ceil(n (part + 1) / parts)): with two parts, nncl_host_half's halves. */
static inline void nncl_host_part(size_t n, size_t part, size_t parts, size_t *lo, size_t *hi)
{
    *lo = (n * part + parts - 1) / parts;
    *hi = (n * (part + 1) + parts - 1) / parts;
}

static inline void nncl_host_half(size_t n, int part, size_t *lo, size_t *hi)
{
    nncl_host_part(n, (size_t)part, 2, lo, hi);
}

#endif
