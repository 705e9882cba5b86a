/* `nncl check`: the pieces shared by its checks (src/cli/check_*.c).
 *
 * A check is one row of the table: it runs something on the device under
 * test and on an oracle (the host backend, a double-precision computation,
 * or a second run), compares the results against a stated tolerance, and
 * records the worst error, what was run and how long it took. A
 * disagreement, or an error on the device, is a result (the row fails),
 * not a failure of the check itself: a check returns a non-OK status only
 * when it could not run at all (host memory). */
#ifndef NNCL_CLI_CHECK_H
#define NNCL_CLI_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "nncl/net.h"

/* Host memory for one row, freed all at once after it (check_alloc). */
typedef struct check_mem check_mem;

typedef struct check_ctx {
    nncl_device *dev;           /* the device under test */
    nncl_device *host;          /* the host backend: the oracle */
    nncl_rng rng;               /* seeded from the run's seed and the row's name */
    bool quick;                 /* --quick: smaller shapes */
    bool inject;                /* NNCL_CHECK_INJECT names this row: perturb one device value */
    check_mem *mem;
    bool nomem;                 /* a check_alloc failed */
} check_ctx;

typedef struct check_row {
    const char *check;          /* "gemm", "grad", "train", "determinism" */
    char shape[80];             /* what was run */
    /* The output with the worst error relative to its tolerance: */
    char part[32];              /* its name */
    double max_abs, max_rel;    /* its largest |device - oracle|, and relative to |oracle| */
    double atol, rtol;          /* its tolerance, |d| <= atol + rtol |oracle| (both 0: exact) */
    double worst;               /* its largest |d| / tolerance (<= 1 passes) */
    size_t bad;                 /* values outside their tolerance, over all outputs */
    bool error;                 /* a call on the device failed */
    bool compared;              /* at least one output was compared */
    char detail[320];           /* the first disagreement, or the error */
    double seconds;
} check_row;

/* ---- rows' host memory --------------------------------------------------- */

/* Zeroed memory that lives until check_mem_free; NULL (and c->nomem) when
 * out of memory. */
void *check_alloc(check_ctx *c, size_t bytes);
void check_mem_free(check_ctx *c);
nncl_status check_nomem(void);

/* ---- random inputs ------------------------------------------------------- */

/* A size in [lo, hi] that kernels find awkward: lo itself (often 1), a
 * prime, one off a power of two (a tile edge), or any. */
size_t check_awkward(nncl_rng *r, size_t lo, size_t hi);
/* An awkward size up to `full`, or up to `quick` with --quick. */
size_t check_size_up_to(check_ctx *c, size_t full, size_t quick);
/* The largest finite |x[i]| (0 for none, or x NULL). */
float check_max_abs(const float *x, size_t n);

float check_uniform(nncl_rng *r, float lo, float hi);
const char *check_act_name(nncl_act act);
/* relu hides what it clamps: where every output of a small draw is clamped
 * to 0 on both sides, kernels that get their sums wrong pass (a 7x1x1 gemm
 * with a bias did, on kernels that dropped the products). So a row that
 * draws relu runs its op a second time without the activation and compares
 * that too: passes 0 .. check_act_passes(act) - 1, pass p with
 * check_act_of_pass(act, p), its part named check_part_of_pass ("y", then
 * "y before relu"). */
static inline int check_act_passes(nncl_act act) { return act == NNCL_ACT_RELU ? 2 : 1; }
static inline nncl_act check_act_of_pass(nncl_act act, int pass) { return pass ? NNCL_ACT_IDENTITY : act; }
const char *check_part_of_pass(char *buf, size_t len, const char *part, int pass);
/* f(z) in float, as a layer's forward pass gives it (slope: leaky relu's). */
float check_act(nncl_act act, float slope, float z);
float *check_random(check_ctx *c, size_t n, float lo, float hi);
int32_t *check_random_ints(check_ctx *c, size_t n, uint64_t below);
uint8_t *check_random_bytes(check_ctx *c, size_t n);
/* The same seed for a name on every device: shapes depend on (seed, name). */
uint64_t check_seed_for(uint64_t seed, const char *name);

/* ---- one side of a comparison: buffers on one device --------------------- */

/* Buffers made on one device for one row, freed together. Every view sits
 * at element offset `off` inside a buffer whose other bytes are 0xff (NaN
 * as float, -1 as int32), and outputs start that way, so an element an op
 * never writes shows up as NaN. The status is sticky: after the first
 * failure every call does nothing, and err keeps that failure's message. */
typedef struct check_side {
    nncl_device *dev;
    size_t off;
    nncl_buffer *bufs[32];
    int n;
    nncl_status st;
    char err[256];
} check_side;

void check_side_init(check_side *s, nncl_device *dev, size_t off);
/* A view of n elements of esz bytes holding data (NULL: 0xff poison). */
nncl_view check_side_put(check_side *s, const void *data, size_t n, size_t esz);
/* Record the status of an op run on this side (keeping the first failure). */
void check_side_ran(check_side *s, nncl_status st, const char *op);
/* n floats (or int32 read as floats) at v, in the row's memory; NULL if the
 * side has failed. */
float *check_side_floats(check_ctx *c, check_side *s, nncl_view v, size_t n);
float *check_side_ints(check_ctx *c, check_side *s, nncl_view v, size_t n);
void check_side_free(check_side *s);
/* Run both sides' results through: a failed side makes the row an error.
 * Returns true when both sides ran. */
bool check_sides_ok(check_row *r, const check_side *dev, const check_side *host);

/* ---- comparing ----------------------------------------------------------- */

/* Compare n device values with the oracle's: |got - ref| <= atol + rtol |ref|,
 * NaN equal to NaN, an infinity to the same infinity. When the row is to
 * be perturbed (c->inject), its first compared value is changed first. */
void check_compare(check_ctx *c, check_row *r, const char *part, const float *got, const float *ref, size_t n,
                   double atol, double rtol);
/* The same for doubles (losses, gradients from finite differences). */
void check_compare_d(check_ctx *c, check_row *r, const char *part, const double *got, const double *ref,
                     size_t n, double atol, double rtol);
/* Bit for bit (determinism). */
void check_compare_bits(check_ctx *c, check_row *r, const char *part, const void *got, const void *ref,
                        size_t bytes);
/* Record an error on the device (a failed call) with its message. */
void check_row_error(check_row *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool check_row_passed(const check_row *r);

/* ---- the checks ---------------------------------------------------------- */

typedef nncl_status (*check_fn)(check_ctx *c, check_row *r);

/* Every op against its host twin: check_op_<op> for each op of NNCL_OPS
 * (check_ops.c, and check_ops_fused.c for the byte-input and fused ops),
 * gathered from the list into one table, so a new op without a check does
 * not build. */
#define CHECK_DECLARE_OP(name) nncl_status check_op_##name(check_ctx *c, check_row *r);
NNCL_OPS(CHECK_DECLARE_OP)
#undef CHECK_DECLARE_OP

/* The large products' set, on a device that has one (tuned apart on
 * GPUs): one product it runs, against the host. */
bool check_gemm_large_wanted(const nncl_device *dev);
nncl_status check_gemm_large(check_ctx *c, check_row *r);

typedef struct check_op {
    const char *name;
    check_fn run;
} check_op;
extern const check_op check_ops[];
extern const size_t check_ops_count;

/* Run an op on one side of a comparison, unless that side has failed. */
#define CHECK_RUN(side, op, args)                                              \
    do {                                                                       \
        if ((side)->st == NNCL_OK)                                             \
            check_side_ran((side), nncl_##op((side)->dev, &(args)), #op);      \
    } while (0)

/* The two sides of an op's comparison: [0] the device under test (views at
 * a nonzero offset), [1] host. */
void check_sides_open(check_ctx *c, check_side s[2]);
void check_sides_free(check_side s[2]);
/* A row's end: free both sides' buffers; the error if memory ran out. */
nncl_status check_done(check_ctx *c, check_side s[2]);

/* The network's backward pass on the device against central differences of
 * a double-precision forward pass on the host. */
nncl_status check_grad(check_ctx *c, check_row *r);

/* A short training run: its losses on the device against host's, and two
 * runs on one device bit for bit. The host's run is made once and kept. */
typedef struct check_train_run {
    bool done;
    nncl_status st;
    char err[256];
    double *losses;             /* per epoch: train loss, then the final validation loss */
    size_t n_losses;
    float *params;
    size_t n_params;
} check_train_run;

void check_train_run_free(check_train_run *run);
/* One run of the short training on dev (seed: the check's seed). */
nncl_status check_train_once(nncl_device *dev, uint64_t seed, bool quick, bool cnn, check_train_run *out);
/* Rows "train" (against `reference`, host's run) and "determinism" (run
 * against a second run on the same device). */
nncl_status check_train_vs_host(check_ctx *c, check_row *r, const check_train_run *run,
                                const check_train_run *reference);
nncl_status check_determinism(check_ctx *c, check_row *r, const check_train_run *first,
                              const check_train_run *second);
/* The training's shape, for the table. */
void check_train_describe(bool quick, bool cnn, char *buf, size_t n);

#endif
