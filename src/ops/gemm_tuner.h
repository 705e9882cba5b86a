/* The GEMM tuner (src/ops/gemm_tuner.c, the candidates gemm_candidates.c, the
 * check gemm_check.c, the programs gemm_program.c): a table of candidate parameter sets,
 * filtered by the device's capabilities; each candidate built as its own
 * small program (cl/common.cl + cl/gemm.cl with its -D defines), checked
 * against the host oracle on awkward shapes in all four transpose forms,
 * and only then timed on the training shapes and 1024^3 (and a large square
 * for local-memory sets), interleaved and best-of-rounds. */
#ifndef NNCL_TUNER_H
#define NNCL_TUNER_H

#include "nncl/tune.h"
#include "ops/gemm_cl.h"
#include "ops/gemm_impl.h"

typedef struct nncl_gemm_candidate {
    nncl_gemm_params p;
    /* Defines appended after the parameters' own; NULL for every real
     * candidate. The tests use it to build a deliberately broken one
     * ("-DTM=4" under a launch geometry for TM=12 leaves rows unwritten). */
    const char *extra;
} nncl_gemm_candidate;

enum { NNCL_TUNE_MAX_CANDIDATES = 40 };

/* The candidates the tuner may choose for this device in this mode
 * (table order, the most promising first); returns how many. */
int nncl_gemm_candidates(const nncl_device_info *info, nncl_tune_mode mode, nncl_gemm_candidate *out, int max);

/* Check kernels ks, built with p, against the host oracle (gemm_check.c):
 * awkward shapes (1, primes, more than a tile, padded leading dimensions,
 * offsets, beta, bias, every activation) in all four transpose forms, C
 * poisoned with NaN and nothing outside it written. *ok false with the
 * first disagreement in why; the status is for failures of the device. */
nncl_status nncl_gemm_check_kernels(nncl_device *dev, const nncl_gemm_params *p, const nncl_gemm_kernels *ks, bool *ok,
                                    char *why, size_t why_len);

/* Build c on dev and check it against the oracle. *ok false with the
 * reason in why when it fails to build or to agree; the status is for
 * failures of the device itself (out of memory, a lost device). */
nncl_status nncl_gemm_candidate_check(nncl_device *dev, const nncl_gemm_candidate *c, bool *ok, char *why,
                                      size_t why_len);

/* Search cands[0..n) (cands[0] is the "old" set, the one reported against)
 * within about budget_s seconds of building (0: no limit), and put the
 * fastest checked set in *winner. Where some candidate has local-memory
 * tiles they are also timed on a large square (2048^3; NNCL_GEMM_LARGE
 * sets its side, "off" none), and the fastest there, checked, goes to
 * *large_winner when it takes at most 97% of *winner's time there (else
 * min_mnk 0) and the square would not cut it into K slices:
 * products of at least half that square's m*n*k then take it. old_large
 * (NULL or min_mnk 0: none) is the large set in use, a candidate too.
 * Stores nothing. */
nncl_status nncl_gemm_tune_search(nncl_device *dev, const nncl_gemm_candidate *cands, int n,
                                  const nncl_gemm_large *old_large, nncl_tune_mode mode, double budget_s,
                                  nncl_tune_progress_fn progress, void *ctx, nncl_gemm_params *winner,
                                  nncl_gemm_large *large_winner, nncl_tune_report *report);

/* The search on an opened OpenCL device: `old` (what it runs without this
 * search) against the table's candidates for it. Stores nothing. */
nncl_status nncl_gemm_tune_device(nncl_device *dev, nncl_tune_mode mode, const nncl_gemm_params *old,
                                  const nncl_gemm_large *old_large, double budget_s, nncl_tune_progress_fn progress,
                                  void *ctx, nncl_gemm_params *winner, nncl_gemm_large *large_winner,
                                  nncl_tune_report *report);

#endif
