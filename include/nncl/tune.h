/* nncl/tune.h: kernel parameters tuned per device.
 *
 * The GEMM kernel's shape (vector width, register block, local-memory tiles)
 * and the fused ops' (the byte-input kernels' register block, the optimiser
 * step's vector width) are sets of -D defines. Without tuning, a capability
 * table picks them from the device's properties (native vector width, kind
 * of local memory). The tuner searches a table of candidates on the device
 * at hand: each candidate is compiled, checked against the host oracle on
 * awkward shapes, and only then timed on the training shapes (and 1024^3 for
 * the GEMM); the winner is kept in a cache under $XDG_CACHE_HOME/nncl, keyed
 * by device, driver and kernel source.
 *
 * NNCL_TUNE: "auto" (unset): use a cache entry; without one, a quick search
 * on the device's first use. "cached": use an entry, never search. "off":
 * neither (the capability table only; what the tests use). */
#ifndef NNCL_TUNE_H
#define NNCL_TUNE_H

#include "nncl/device.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum nncl_tune_mode {
    NNCL_TUNE_QUICK = 0,        /* a handful of candidates, about 20 s on a CPU */
    NNCL_TUNE_FULL = 1,         /* every candidate the device can run */
} nncl_tune_mode;

/* What a device runs with now, as `--device list` shows it. */
typedef enum nncl_tuning_state {
    NNCL_TUNING_NONE = 0,       /* nothing to tune (host backend) */
    NNCL_TUNING_DEFAULT,        /* no cache entry: the capability table */
    NNCL_TUNING_TUNED,          /* a valid cache entry */
    NNCL_TUNING_STALE,          /* an entry for another driver or kernel source: ignored */
    NNCL_TUNING_CORRUPT,        /* an unreadable entry: ignored */
    NNCL_TUNING_OFF,            /* NNCL_TUNE=off */
    NNCL_TUNING_WRONG,          /* the last search found wrong results with every
                                 * set, the defaults included: not trained on
                                 * (note says why, when since when) */
} nncl_tuning_state;

const char *nncl_tuning_state_name(nncl_tuning_state s);

typedef struct nncl_tuning_info {
    nncl_tuning_state state;
    char params[256];           /* the GEMM defines in use ("VW=16 TM=12 ...") */
    char large_params[320];     /* the large products' set and where it starts
                                 * ("TSM=128 ... from m*n*k 4294967296"), "" if none */
    char fused_params[128];     /* the fused ops' ("U8_VW=8 U8_DM=2 ... OPTIM_VW=16") */
    char path[4096];            /* the cache entry's file ("" without a cache) */
    char note[1024];            /* why an entry was ignored, or (WRONG) what was wrong */
    char when[32];              /* when the entry was written (UTC), if tuned or wrong */
    char mode[8];               /* "quick" or "full", if tuned or wrong */
} nncl_tuning_info;

/* Settle an opened device's kernel parameters as they are, its tuning
 * cache entry's or the capability table's, with no first-use search and no
 * refusal of a device found to compute wrong results: what `nncl check`
 * checks. Nothing to do on host or once the device's program is built. */
nncl_status nncl_device_tune_as_found(nncl_device *dev);

/* The tuning a device would run with, from its description alone (reads
 * the cache; compiles nothing). */
nncl_status nncl_tuning_lookup(const nncl_device_info *info, nncl_tuning_info *out);

/* Progress: `done` of `total` steps, and what is being done. */
typedef void (*nncl_tune_progress_fn)(void *ctx, int done, int total, const char *what);

enum { NNCL_TUNE_MAX_SHAPES = 8, NNCL_TUNE_MAX_OPS = 8 };

/* A GEMM shape's GFLOP/s with the old and the new parameters (0: not
 * timed: an old set that failed its check). The last row, on devices with a
 * large-products set to choose, is the large square, run by that set. */
typedef struct nncl_tune_shape {
    char what[24];
    size_t m, n, k;
    bool ta, tb;
    bool training;              /* a training shape (else a square) */
    double old_gflops, new_gflops;
} nncl_tune_shape;

enum { NNCL_TUNE_MAX_TRIED = 48 };

/* One GEMM candidate the search built, in the order built: the seconds its
 * program took to build and its check against the oracle to run, and if it
 * passed, its best GFLOP/s over the rounds on each shape of the report's
 * `shapes` (0: not timed there; the large square is timed on local-memory
 * sets only). */
typedef struct nncl_tune_tried {
    char params[256];
    double build_seconds, check_seconds;
    /* What the device's compiler made of its gemm_nn, the kernel of the large
     * square (0: not known): the registers a work-item holds and the bytes
     * it spills (where the build log says: cl_nv_compiler_options), its
     * private memory (CL_KERNEL_PRIVATE_MEM_SIZE: NVIDIA counts spills
     * there) and the largest work-group it can be launched with
     * (CL_KERNEL_WORK_GROUP_SIZE, which registers limit on a GPU). */
    int registers, spill_bytes;
    unsigned long long private_bytes;
    size_t max_work_group;
    bool ok;                    /* built and passed its check: timed */
    char why[160];              /* why not, if not */
    double gflops[NNCL_TUNE_MAX_SHAPES];
} nncl_tune_tried;

/* One part of the search (the GEMM's, the fused ops'): the candidates it
 * considered and built (the quick search builds while its budget lasts,
 * the old set always), the seconds spent building them and checking them
 * against the oracle, and the part's seconds in all (timing included). */
typedef struct nncl_tune_part {
    int considered, built;
    double build_seconds, check_seconds, seconds;
    double build_budget;        /* seconds of building the mode allows (0: no limit) */
    int builds_at_once;         /* the most programs built together (on as many threads) */
    double build_wall_seconds;  /* the builds' own time, together: at most build_seconds */
} nncl_tune_part;

/* A fused op's call at a training shape, in microseconds. */
typedef struct nncl_tune_op {
    char what[40];
    double old_us, new_us;
} nncl_tune_op;

typedef struct nncl_tune_report {
    char old_params[256], new_params[256];
    /* A set apart for products of at least *_large_mnk = m*n*k (devices
     * whose GEMM uses local memory: GPUs); "" and 0 where there is none, and
     * then the set above serves every product. */
    char old_large[256], new_large[256];
    unsigned long long old_large_mnk, new_large_mnk;
    char old_fused[128], new_fused[128];
    int candidates;             /* considered, GEMM and fused ops */
    int rejected;               /* failed to build or to match the oracle */
    int timed;
    int n_shapes;
    nncl_tune_shape shapes[NNCL_TUNE_MAX_SHAPES];
    int n_ops;
    nncl_tune_op ops[NNCL_TUNE_MAX_OPS];
    nncl_tune_part gemm, fused;
    int n_tried;                /* GEMM candidates built (at most NNCL_TUNE_MAX_TRIED kept) */
    nncl_tune_tried tried[NNCL_TUNE_MAX_TRIED];
    double seconds;
    char cache_path[4096];      /* where the winner was written ("" if nowhere) */
    char rejections[1024];      /* the first rejections' reasons, one a line */
    bool current_wrong;         /* the search failed because the parameters in
                                 * use before it (the capability table's, or
                                 * the cache's) failed their check and no set
                                 * that passed could take their place: the
                                 * device computes wrong results with them */
} nncl_tune_report;

/* Search the GEMM's and the fused ops' parameters on an opened OpenCL
 * device, store the winners in the cache and make the device use them (its
 * program is rebuilt on next use). The old and new speeds come from the
 * same process, interleaved. */
nncl_status nncl_device_tune(nncl_device *dev, nncl_tune_mode mode, nncl_tune_progress_fn progress, void *ctx,
                             nncl_tune_report *report);

#ifdef __cplusplus
}
#endif
#endif
