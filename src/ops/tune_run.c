/* Tuning one device (see tune_run.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device/notice.h"
#include "device/opencl_impl.h"
#include "ops/fused_tuner.h"
#include "ops/gemm_tune_cache.h"
#include "ops/gemm_tuner.h"
#include "ops/host_split.h"
#include "ops/kernel_params.h"
#include "ops/tune_run.h"
#include "util/clock.h"

nncl_status nncl_tune_time_calls(nncl_tune_call_fn call, void *ctx, double min_time, double *seconds)
{
    nncl_status st = call(ctx);
    int reps = 0;
    double t0 = nncl_seconds_now(), t = 0;
    while (st == NNCL_OK && t < min_time) {
        st = call(ctx);
        reps++;
        t = nncl_seconds_now() - t0;
    }
    if (st == NNCL_OK)
        *seconds = t / reps;
    return st;
}

void nncl_tune_note_rejection(nncl_tune_report *rep, const char *what, const char *why)
{
    size_t used = strlen(rep->rejections);
    if (used + 2 < sizeof rep->rejections)
        snprintf(rep->rejections + used, sizeof rep->rejections - used, "%s: %s\n", what, why);
}

void nncl_tuned_params_current(const nncl_device_info *info, nncl_tuned_params *out)
{
    nncl_tuning_info ti;
    nncl_tuned_params cached;
    *out = (nncl_tuned_params){0};
    nncl_gemm_params_for(info, &out->gemm);
    nncl_fused_params_for(info, &out->fused);
    if (nncl_tune_cache_load(info, &cached, &ti) == NNCL_OK && ti.state == NNCL_TUNING_TUNED)
        *out = cached;
    nncl_clear_error();
}

void nncl_tuned_params_apply(nncl_device *dev, const nncl_tuned_params *p)
{
    nncl_gemm_params_set(dev, &p->gemm);
    nncl_gemm_large_set(dev, &p->large);
    nncl_fused_params_set(dev, &p->fused);
    nncl_u8_params_override(dev);
    /* Rebuilt on next use (from the program cache when these parameters
     * were built before). */
    nncl_cl_program_release(nncl_cl_of(dev));
}

/* Each search's progress as a share of one bar: the GEMM's first (its
 * candidates take most of the time), then the fused ops'. */
typedef struct phase {
    nncl_tune_progress_fn fn;
    void *ctx;
    int from, span;
} phase;

enum { BAR = 100 };

static void phase_progress(void *arg, int done, int total, const char *what)
{
    const phase *p = arg;
    p->fn(p->ctx, p->from + (total > 0 ? done * p->span / total : 0), BAR, what);
}

/* A search that failed with st: where the device computes wrong results
 * with the sets it would run (rep->current_wrong), the cache keeps that, so
 * that its next use need not search to refuse it and the default device
 * passes it over. st and its message are the caller's either way. */
static nncl_status search_failed(nncl_device *dev, const char *mode, const nncl_tune_report *rep, nncl_status st)
{
    if (!rep->current_wrong)
        return st;
    char why[1024];
    snprintf(why, sizeof why, "%s", nncl_last_error());
    if (nncl_tune_cache_store_wrong(&dev->info, mode, why) != NNCL_OK)
        nncl_notice(NNCL_NOTICE_WARNING, "could not keep in the tuning cache that %s computes wrong results: %s",
                    dev->info.name, nncl_last_error());
    nncl_fail(st, "%s", why);
    return st;
}

int nncl_tune_builds_together(double first_build_seconds, double first_check_seconds)
{
    /* NNCL_TUNE_BUILDS=<n> (1 to 16): n whatever the times say (the tests) */
    const char *v = getenv("NNCL_TUNE_BUILDS");
    if (v && *v) {
        char *end;
        long n = strtol(v, &end, 10);
        if (!*end && n >= 1 && n <= 16)
            return (int)n;
        nncl_notice(NNCL_NOTICE_WARNING, "NNCL_TUNE_BUILDS='%s' is not a number from 1 to 16; ignored", v);
    }
    return first_build_seconds > first_check_seconds ? nncl_host_workers() : 1;
}

int nncl_tune_build_in_batches(int n, double budget_s, double t0, nncl_tune_part *part, const nncl_tune_builder *b,
                               nncl_status *status)
{
    nncl_status st = NNCL_OK;
    int per_batch = 1, i = 0;
    while (i < n && st == NNCL_OK) {
        if (i > 1 && budget_s > 0 && nncl_seconds_now() - t0 > budget_s)
            break;
        int m = n - i < per_batch ? n - i : per_batch;
        double tb = nncl_seconds_now();
        st = b->build(b->ctx, i, m);
        part->build_wall_seconds += nncl_seconds_now() - tb;
        if (m > part->builds_at_once)
            part->builds_at_once = m;
        for (int j = 0; j < m; j++)
            st = b->check(b->ctx, i + j, st);
        i += m;
        if (i == 1) {
            double build_s, check_s;
            b->seconds(b->ctx, 0, &build_s, &check_s);
            per_batch = nncl_tune_builds_together(build_s, check_s);
            per_batch = per_batch > NNCL_TUNE_MAX_BATCH ? NNCL_TUNE_MAX_BATCH : per_batch;
        }
    }
    *status = st;
    return i;
}

nncl_status nncl_tune_device_run(nncl_device *dev, nncl_tune_mode mode, nncl_tune_progress_fn progress, void *ctx,
                                 nncl_tune_report *rep)
{
    if (dev->info.backend != NNCL_BACKEND_OPENCL)
        return nncl_fail(NNCL_E_UNSUPPORTED, "%s: only OpenCL devices are tuned", dev->info.name);
    double t0 = nncl_seconds_now();
    nncl_tuned_params old, won;
    nncl_tuned_params_current(&dev->info, &old);
    /* The quick search (about 20 s on a 2-core CPU, where PoCL takes 2-3 s
     * to build and first run each candidate): the GEMM's candidates are
     * built for at most 6 s, the fused ops' for 4; timing takes the rest. */
    bool quick = mode == NNCL_TUNE_QUICK;
    phase gemm_phase = {progress, ctx, 0, 75}, fused_phase = {progress, ctx, 75, 25};
    const char *mode_name = quick ? "quick" : "full";
    nncl_status st = nncl_gemm_tune_device(dev, mode, &old.gemm, &old.large, quick ? 6.0 : 0.0,
                                           progress ? phase_progress : NULL, &gemm_phase, &won.gemm, &won.large,
                                           rep);
    if (st != NNCL_OK) {
        st = search_failed(dev, mode_name, rep, st);
        nncl_tuned_params_apply(dev, &old);
        return st;
    }
    /* The old GEMM set may have failed its check; the winner passed it, so
     * only the fused ops' own check can make the device wrong now. */
    rep->current_wrong = false;
    /* the fused candidates are built with the GEMM's winner, as they will
     * run (the large set is the GEMM's alone) */
    nncl_gemm_params_set(dev, &won.gemm);
    st = nncl_fused_tune_device(dev, mode, &old.fused, quick ? 4.0 : 0.0, progress ? phase_progress : NULL,
                                &fused_phase, &won.fused, rep);
    if (st != NNCL_OK) {
        /* the GEMM's winner passed its check (the old set may not have) */
        st = search_failed(dev, mode_name, rep, st);
        nncl_tuned_params kept = won;
        kept.fused = old.fused;
        nncl_tuned_params_apply(dev, &kept);
        return st;
    }
    rep->seconds = nncl_seconds_now() - t0;
    st = nncl_tune_cache_store(&dev->info, &won, quick ? "quick" : "full", rep);
    if (st == NNCL_OK)
        nncl_tune_cache_path(&dev->info, rep->cache_path, sizeof rep->cache_path);
    nncl_tuned_params_apply(dev, &won);
    nncl_cl_of(dev)->params_resolved = true;
    return st;
}

nncl_status nncl_device_tune(nncl_device *dev, nncl_tune_mode mode, nncl_tune_progress_fn progress, void *ctx,
                             nncl_tune_report *report)
{
    return nncl_tune_device_run(dev, mode, progress, ctx, report);
}
