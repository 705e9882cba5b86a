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

/* Append "what: why" to the report's rejections, while there is room. */
void nncl_tune_note_rejection(nncl_tune_report *rep, const char *what, const char *why);

nncl_status nncl_tune_device_run(nncl_device *dev, nncl_tune_mode mode, nncl_tune_progress_fn progress, void *ctx,
                                 nncl_tune_report *report);

#endif
