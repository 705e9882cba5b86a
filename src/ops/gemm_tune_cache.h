/* The tuning cache: one small text file per device under
 * $XDG_CACHE_HOME/nncl (default ~/.cache/nncl), tune-<hash of the device's
 * name, vendor and platform>.txt, holding the parameters the tuners chose:
 * the GEMM's (gemm_tuner.c) and the fused ops' (fused_tuner.c). The entry repeats its whole key (device, vendor, platform, driver
 * version, hash of the kernel source it was measured with) and ends with a
 * checksum of everything before it: an entry for another driver or source
 * is stale, an entry that does not parse or add up is corrupt, and both are
 * ignored (the capability table applies), never trusted. Written to a
 * temporary name and renamed (util/atomic_file.c), so a reader never sees
 * half of one, even when the writer is killed. */
#ifndef NNCL_TUNE_CACHE_H
#define NNCL_TUNE_CACHE_H

#include <stdint.h>

#include "nncl/tune.h"
#include "ops/gemm_impl.h"
#include "ops/kernel_params.h"

/* Everything an entry holds. */
typedef struct nncl_tuned_params {
    nncl_gemm_params gemm;
    nncl_gemm_large large;      /* min_mnk 0: none (gemm serves every product) */
    nncl_fused_params fused;
} nncl_tuned_params;

/* The entry's file for a device; false when there is no cache folder
 * (neither XDG_CACHE_HOME nor HOME). */
bool nncl_tune_cache_path(const nncl_device_info *info, char *out, size_t len);

/* The hash of the kernel source the candidates are built from (cl/common.cl,
 * gemm.cl and the fused ops' files, or their NNCL_KERNEL_PATH copies): an
 * edit to any of them makes the entry stale. */
nncl_status nncl_tune_source_hash(uint64_t *hash);

/* Read the entry. *ti says what was found (DEFAULT: none, TUNED, STALE,
 * CORRUPT with a note); *p is set only when TUNED. Fails only for lack of
 * memory or source: a bad entry is a state, not an error. */
nncl_status nncl_tune_cache_load(const nncl_device_info *info, nncl_tuned_params *p, nncl_tuning_info *ti);
nncl_status nncl_tune_cache_load_hash(const nncl_device_info *info, uint64_t source_hash, nncl_tuned_params *p,
                                      nncl_tuning_info *ti);

/* Write the entry (mode: "quick" or "full"; the report's new GFLOP/s are
 * kept for people reading the file). */
nncl_status nncl_tune_cache_store(const nncl_device_info *info, const nncl_tuned_params *p, const char *mode,
                                  const nncl_tune_report *rep);
/* Write an entry that says the device computes wrong results with every
 * set the search tried, the defaults included (why: the search's message):
 * read back as NNCL_TUNING_WRONG, for this driver and kernel source. */
nncl_status nncl_tune_cache_store_wrong(const nncl_device_info *info, const char *mode, const char *why);
nncl_status nncl_tune_cache_store_hash(const nncl_device_info *info, uint64_t source_hash,
                                       const nncl_tuned_params *p, const char *mode, const nncl_tune_report *rep);

#endif
