/* The CPU's FP32 multiply-add peak, measured rather than computed from a
 * clock: the clock a VM reports (/proc/cpuinfo) is often the base clock,
 * while the cores run at their boost (or below it, under AVX-512's
 * frequency licence), so cores x MHz x lanes made `nncl bench` print GEMMs
 * at 136% of "peak".
 *
 * Each thread runs CHAINS independent chains of vector multiply-adds,
 *     a_j <- a_j * m + c        (j = 0 .. CHAINS-1),
 * enough chains to cover an FMA's latency on every port (4 cycles x 2
 * ports on recent x86 cores needs 8 in flight), with no memory traffic, so
 * the loop runs at the cores' multiply-add throughput. The peak is every
 * thread's multiply-adds x lanes x 2 over the wall time of all of them,
 * the best of five rounds of about 10 ms (on a shared machine one round
 * in a few is slowed by other work). */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "nncl/device.h"
#include "util/clock.h"

enum { CHAINS = 12 };

/* The chains live in registers; a sanitizer's checks of the arrays that
 * hold them would keep them in memory and measure its own loads (an
 * AddressSanitizer build measured 8.5 GFLOP/s here, against 490). */
#if defined(__GNUC__)
#define CHAINS_FN __attribute__((no_sanitize("address", "undefined")))
#else
#define CHAINS_FN
#endif

/* Twelve chains as twelve variables (an array is left in memory where a
 * compiler does not unroll its loop, as GCC's sanitizer builds do not). */
#define FMA_LOOP(VEC, SET1, FMA, ADD, REDUCE)                                                  \
    VEC a0 = SET1(1.000f), a1 = SET1(1.001f), a2 = SET1(1.002f), a3 = SET1(1.003f);            \
    VEC a4 = SET1(1.004f), a5 = SET1(1.005f), a6 = SET1(1.006f), a7 = SET1(1.007f);            \
    VEC a8 = SET1(1.008f), a9 = SET1(1.009f), a10 = SET1(1.010f), a11 = SET1(1.011f);          \
    const VEC m = SET1(0.999999f), c = SET1(1e-7f);                                            \
    for (long i = 0; i < iters; i++) {                                                         \
        a0 = FMA(a0, m, c), a1 = FMA(a1, m, c), a2 = FMA(a2, m, c), a3 = FMA(a3, m, c);        \
        a4 = FMA(a4, m, c), a5 = FMA(a5, m, c), a6 = FMA(a6, m, c), a7 = FMA(a7, m, c);        \
        a8 = FMA(a8, m, c), a9 = FMA(a9, m, c), a10 = FMA(a10, m, c), a11 = FMA(a11, m, c);    \
    }                                                                                          \
    VEC s = ADD(ADD(ADD(a0, a1), ADD(a2, a3)), ADD(ADD(a4, a5), ADD(a6, a7)));                 \
    s = ADD(s, ADD(ADD(a8, a9), ADD(a10, a11)));                                               \
    return REDUCE(s);

/* The widest vectors the CPU has, their lanes and their chains. */
typedef struct isa {
    const char *name;
    int lanes;
    float (*run)(long iters);
} isa;

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

CHAINS_FN __attribute__((target("avx512f"))) static float chains_avx512(long iters)
{
    FMA_LOOP(__m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps, _mm512_reduce_add_ps)
}

__attribute__((target("avx2,fma"))) static float first_of_256(__m256 v) { return _mm_cvtss_f32(_mm256_castps256_ps128(v)); }

CHAINS_FN __attribute__((target("avx2,fma"))) static float chains_avx2(long iters)
{
    FMA_LOOP(__m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps, first_of_256)
}

/* Without FMA: a multiply and an add, two flops a lane as well. */
static __m128 mul_add_128(__m128 a, __m128 m, __m128 c) { return _mm_add_ps(_mm_mul_ps(a, m), c); }

CHAINS_FN static float chains_sse(long iters)
{
    FMA_LOOP(__m128, _mm_set1_ps, mul_add_128, _mm_add_ps, _mm_cvtss_f32)
}

static isa pick_isa(void)
{
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
        return (isa){"AVX-512", 16, chains_avx512};
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return (isa){"AVX2", 8, chains_avx2};
    return (isa){"SSE", 4, chains_sse};
}
#else
/* Scalar chains: what the compiler makes of them is the peak we can see. */
static float add_scalar(float a, float b) { return a + b; }
static float mul_add_scalar(float a, float m, float c) { return a * m + c; }
static float same(float s) { return s; }
static float set1_scalar(float v) { return v; }

CHAINS_FN static float chains_scalar(long iters)
{
    FMA_LOOP(float, set1_scalar, mul_add_scalar, add_scalar, same)
}

static isa pick_isa(void) { return (isa){"scalar", 1, chains_scalar}; }
#endif

typedef struct worker {
    isa how;
    long iters;
    volatile float sink;        /* keeps the chains' result alive */
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    w->sink = w->how.run(w->iters);
    return NULL;
}

/* Seconds for up to `threads` threads (this one among them) to run `iters`
 * each; *ran says how many did (a thread that cannot be started leaves
 * fewer). Starting a thread takes microseconds of a round's 20 ms. */
static void round_seconds(isa how, int threads, long iters, double *seconds, int *ran)
{
    enum { MOST = 256 };
    pthread_t tids[MOST];
    worker ws[MOST];
    double t0 = nncl_seconds_now();
    int started = 0;
    for (; started < threads - 1; started++) {
        ws[started + 1] = (worker){how, iters, 0};
        if (pthread_create(&tids[started], NULL, work, &ws[started + 1]) != 0)
            break;
    }
    ws[0] = (worker){how, iters, 0};
    work(&ws[0]);
    for (int t = 0; t < started; t++)
        pthread_join(tids[t], NULL);
    *seconds = nncl_seconds_now() - t0;
    *ran = started + 1;
}

nncl_status nncl_cpu_fma_peak(int threads, nncl_cpu_peak *out)
{
    memset(out, 0, sizeof *out);
    if (threads < 1 || threads > 256)
        return nncl_fail(NNCL_E_INVALID, "measuring the FP32 peak on %d threads (1 to 256)", threads);
    isa how = pick_isa();
    /* calibrate on one short round, then rounds of about 10 ms */
    long iters = 1 << 17;
    double sec = 0;
    int ran = 0;
    round_seconds(how, threads, iters, &sec, &ran);
    if (sec > 0 && sec < 0.01)
        iters = (long)((double)iters * 0.01 / sec);
    double best = 0;
    int best_ran = 0;
    for (int r = 0; r < 5; r++) {
        round_seconds(how, threads, iters, &sec, &ran);
        double flops = (double)ran * (double)iters * CHAINS * how.lanes * 2.0;
        if (sec > 0 && flops / sec > best) {
            best = flops / sec;
            best_ran = ran;
        }
    }
    out->gflops = best * 1e-9;
    out->threads = best_ran;
    snprintf(out->isa, sizeof out->isa, "%s", how.name);
    return NNCL_OK;
}
