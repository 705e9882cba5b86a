/* Tuning one device (src/ops/tune_run.c): the GEMM's search
 * (gemm_tuner.c), then the fused ops' (fused_tuner.c), both winners kept in
 * one tuning cache entry (gemm_tune_cache.c) and put to use. */
#ifndef NNCL_TUNE_RUN_H
#define NNCL_TUNE_RUN_H

#include "nncl/tune.h"
#include "ops/gemm_tune_cache.h"

/* What dev would run without a search: its cache entry when valid, else
 * the capability table; whatever NNCL_TUNE says. */
void nncl_tuned_params_current(const nncl_device_info *info, nncl_tuned_params *out);

/* Put p to use on dev (its program is rebuilt on next use); NNCL_U8_PARAMS still overrides the byte
 * kernels' shape. */
void nncl_tuned_params_apply(nncl_device *dev, const nncl_tuned_params *p);

/* Seconds per call of call(ctx), which runs one product or op and waits
 * for it: one call to warm up (a driver may compile on a first launch),
 * then calls until min_time has passed. Both tuners time this way. */
typedef nncl_status (*nncl_tune_call_fn)(void *ctx);
nncl_status nncl_tune_time_calls(nncl_tune_call_fn call, void *ctx, double min_time, double *seconds);

/* How many candidates' programs a search builds together after its first,
 * which it builds and checks alone: where that build took longer than its
 * check, the driver compiles at the build (a GPU's does; PoCL compiles at
 * the first launch, inside the check, and its builds are cheap and run one
 * at a time), so the rest are built in batches as large as the cores this
 * process may use (nncl_host_workers: at most 16), a thread each, every
 * one of a batch then checked; else one at a time. */
int nncl_tune_builds_together(double first_build_seconds, double first_check_seconds);
/* (NNCL_TUNE_BUILDS=<n>, 1 to 16, sets it whatever the times: the tests.) */

/* A search's candidates, as the batches above build and check them. */
typedef struct nncl_tune_builder {
    void *ctx;
    /* build candidates [first, first + m) together (m <= NNCL_TUNE_MAX_BATCH) */
    nncl_status (*build)(void *ctx, int first, int m);
    /* check candidate k after its batch's build; st is the search's status
     * so far: when it is a failure, only release what k holds */
    nncl_status (*check)(void *ctx, int k, nncl_status st);
    /* what candidate k's build and check took */
    void (*seconds)(void *ctx, int k, double *build_s, double *check_s);
} nncl_tune_builder;

enum { NNCL_TUNE_MAX_BATCH = 16 };

/* Build and check candidates 0.. of n in batches (the first alone, then as
 * nncl_tune_builds_together says), while the quick search's budget_s
 * seconds from t0 last (0: no limit; the first two always), keeping the
 * batches' size and wall time in part. Returns how many were built (each
 * then checked); *status the search's status. */
int nncl_tune_build_in_batches(int n, double budget_s, double t0, nncl_tune_part *part, const nncl_tune_builder *b,
                               nncl_status *status);

/* Append "what: why" to the report's rejections, while there is room. */
void nncl_tune_note_rejection(nncl_tune_report *rep, const char *what, const char *why);

nncl_status nncl_tune_device_run(nncl_device *dev, nncl_tune_mode mode, nncl_tune_progress_fn progress, void *ctx,
                                 nncl_tune_report *report);

#endif
