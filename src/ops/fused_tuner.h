/* The fused ops' tuner (src/ops/fused_tuner.c): the byte-input kernels'
 * register block (U8_VW, U8_DM, U8_DN, U8_TM: linear_u8_fwd, linear_u8_wgrad
 * and linear_u8_head) and the optimiser step's vector width (OPTIM_VW), each
 * searched over a table of candidates filtered by the device's
 * capabilities. A candidate is its own program (the fused ops' kernel files
 * with its -D defines), put in the device's place while it is checked and
 * timed, so the ops' own dispatchers run it: every candidate is checked
 * against the host device on awkward shapes before it is timed on the
 * training shapes, interleaved and best-of-rounds, and the winner must beat
 * the old set in a last round. */
#ifndef NNCL_FUSED_TUNER_H
#define NNCL_FUSED_TUNER_H

#include "nncl/tune.h"
#include "ops/kernel_params.h"

enum { NNCL_TUNE_MAX_CANDIDATES_FUSED = 24 };

/* The candidates for this device in this mode, the old set first (the
 * byte kernels' shapes with old's optimiser width, then the optimiser's
 * widths with old's shape); returns how many. */
int nncl_fused_candidates(const nncl_device_info *info, nncl_tune_mode mode, const nncl_fused_params *old,
                          nncl_fused_params *out, int max);

/* Build c (with extra defines appended, NULL for every real candidate: the
 * tests pass a broken one) on dev and check it against the host device.
 * *ok false with the reason in why when it fails to build or to agree; the
 * status is for failures of a device itself. */
nncl_status nncl_fused_candidate_check(nncl_device *dev, const nncl_fused_params *c, const char *extra, bool *ok,
                                       char *why, size_t why_len);

/* A candidate: its parameters, and defines appended after them (NULL for
 * every real candidate; the tests build broken ones this way). */
typedef struct nncl_fused_candidate {
    nncl_fused_params p;
    const char *extra;
} nncl_fused_candidate;

/* Search cands[0..n) (cands[0] the old set, the one reported against)
 * within about budget_s seconds of building (0: no limit); the winner in
 * *winner. Fills the report's fused fields and adds to its counts; stores
 * nothing. */
nncl_status nncl_fused_tune_search(nncl_device *dev, const nncl_fused_candidate *cands, int n, nncl_tune_mode mode,
                                   double budget_s, nncl_tune_progress_fn progress, void *ctx,
                                   nncl_fused_params *winner, nncl_tune_report *report);

/* The search on an opened OpenCL device: old (what it runs without this
 * search) against the table, within about budget_s seconds of building
 * (0: no limit). Fills the report's fused fields and adds to its counts;
 * stores nothing. */
nncl_status nncl_fused_tune_device(nncl_device *dev, nncl_tune_mode mode, const nncl_fused_params *old,
                                   double budget_s, nncl_tune_progress_fn progress, void *ctx,
                                   nncl_fused_params *winner, nncl_tune_report *report);

#endif
