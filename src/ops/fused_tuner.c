/* The fused ops' tuner (see fused_tuner.h). A candidate's program holds
 * only the fused ops' kernel files; while it is checked or timed it stands
 * in the device's place (nncl_cl_slot_exchange), so what runs is the ops'
 * own dispatchers with the candidate's parameters, as training runs them. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device/backend.h"
#include "nncl/data.h"
#include "device/opencl_impl.h"
#include "ops/fused_tuner.h"
#include "ops/kernel_params.h"
#include "ops/tune_run.h"
#include "util/clock.h"

/* ---- the candidates ---------------------------------------------------------- */

/* The byte kernels' shapes, most promising first for each width. Registers
 * (vectors of the native width; a wider vector takes several): the fwd
 * holds DM x DN accumulators, DN vectors of W and a row of x at a time; the
 * wgrad TM x 2 accumulators and 2 vectors of x. */
typedef struct u8_row {
    int vw, dm, dn, tm;
} u8_row;

static const u8_row u8_table[] = {
    {16, 4, 5, 10},             /* AVX-512, GPUs: the capability table's */
    {16, 3, 6, 12},
    {16, 4, 4, 8},
    {16, 2, 8, 6},
    {16, 5, 4, 14},
    {8, 3, 3, 5},               /* AVX2: the capability table's */
    {8, 2, 5, 5},               /* the table's until the fused ops were tuned */
    {8, 3, 3, 7},
    {8, 4, 3, 7},
    {8, 2, 4, 6},
    {8, 3, 4, 5},
    {8, 2, 6, 3},
    {8, 4, 2, 6},
    {4, 2, 5, 5},               /* 128-bit SIMD */
    {4, 4, 3, 6},
    {4, 3, 3, 4},
};

static const int optim_widths[] = {16, 8, 4};

static int u8_registers(const u8_row *r, unsigned native)
{
    int f = native && (unsigned)r->vw > native ? r->vw / (int)native : 1;
    int fwd = f * (r->dm * r->dn + r->dn + 1), wgrad = f * (2 * r->tm + 2);
    return fwd > wgrad ? fwd : wgrad;
}

static void offer(nncl_fused_params *out, int *n, int max, const nncl_fused_params *p)
{
    for (int i = 0; i < *n; i++)
        if (nncl_fused_params_equal(&out[i], p))
            return;
    if (*n < max && nncl_fused_params_check(p) == NNCL_OK)
        out[(*n)++] = *p;
    nncl_clear_error();
}

int nncl_fused_candidates(const nncl_device_info *info, nncl_tune_mode mode, const nncl_fused_params *old,
                          nncl_fused_params *out, int max)
{
    int n = 0;
    offer(out, &n, max, old);
    unsigned native = info->native_vector_float ? info->native_vector_float : 1;
    int regs = native >= 16 ? 32 : 16;
    /* the quick search: at most 3 shapes and the old optimiser width (its
     * widths differed by less than the noise on both CPUs measured) */
    int shapes = 1, shape_cap = mode == NNCL_TUNE_QUICK ? 3 : max;
    for (size_t i = 0; i < sizeof u8_table / sizeof u8_table[0] && shapes < shape_cap; i++) {
        const u8_row *r = &u8_table[i];
        if (!info->local_mem_dedicated) {
            /* CPUs: vectors from the native width to twice it (the full
             * search: from half of it), in registers (the quick search) */
            unsigned lo = mode == NNCL_TUNE_QUICK ? native : native / 2;
            if ((unsigned)r->vw < lo || (unsigned)r->vw > 2 * native)
                continue;
            if (mode == NNCL_TUNE_QUICK && u8_registers(r, native) > regs)
                continue;
        }
        nncl_fused_params p = *old;
        p.u8 = (nncl_u8_params){.vw = r->vw, .dm = r->dm, .dn = r->dn, .tm = r->tm};
        int before = n;
        offer(out, &n, max, &p);
        shapes += n > before;
    }
    int widths = 1, width_cap = mode == NNCL_TUNE_QUICK ? 1 : max;
    for (size_t i = 0; i < sizeof optim_widths / sizeof optim_widths[0] && widths < width_cap; i++) {
        nncl_fused_params p = *old;
        p.optim.vw = optim_widths[i];
        int before = n;
        offer(out, &n, max, &p);
        widths += n > before;
    }
    return n;
}

/* ---- one candidate's program -------------------------------------------------- */

static const char *const fused_files[] = {"common.cl", "activation.cl", "optim.cl",
                                          "linear_u8.cl", "head.cl", "linear_u8_head.cl"};

typedef struct built {
    nncl_fused_params p;
    const char *extra;
    nncl_cl_program_slot slot;
    bool ok;                    /* built and checked */
    double best[NNCL_TUNE_MAX_OPS]; /* seconds per call, best of the rounds */
    double build_s, check_s;    /* what building and checking it took */
    bool compiled;              /* built, its kernels in slot */
    char why[512];              /* why it is not ok */
} built;


/* Build the programs of bs[0..m) (m <= NNCL_TUNE_MAX_BATCH; each with its p and
 * extra) together (nncl_cl_build_batch: on several threads) into their
 * slots: each b->compiled, or its reason in b->why; b->build_s its own
 * build's seconds. The status is for failures of the device itself. */
static nncl_status build_all(nncl_device *dev, const char *src, size_t src_len, built *bs, int m)
{
    if (m < 1 || m > NNCL_TUNE_MAX_BATCH)
        return nncl_fail(NNCL_E_INVALID, "tuning: a batch of %d programs (1 to %d)", m, NNCL_TUNE_MAX_BATCH);
    nncl_cl_device *cl = nncl_cl_of(dev);
    cl_program progs[NNCL_TUNE_MAX_BATCH] = {0};
    char options[NNCL_TUNE_MAX_BATCH][1400];
    const char *opts[NNCL_TUNE_MAX_BATCH] = {0};
    cl_int errs[NNCL_TUNE_MAX_BATCH];
    double secs[NNCL_TUNE_MAX_BATCH];
    for (int i = 0; i < m; i++) {
        built *b = &bs[i];
        b->compiled = b->ok = false;
        char defines[1024];
        nncl_kernel_options(nncl_gemm_params_on(dev), &b->p, defines, sizeof defines);
        snprintf(options[i], sizeof options[i], "-cl-std=CL1.2 %s%s%s", defines, b->extra ? " " : "",
                 b->extra ? b->extra : "");
        opts[i] = options[i];
        cl_int err;
        progs[i] = clCreateProgramWithSource(cl->context, 1, &src, &src_len, &err);
        if (err != CL_SUCCESS) {
            for (int j = 0; j < i; j++)
                clReleaseProgram(progs[j]);
            return nncl_cl_fail(err, "clCreateProgramWithSource", NULL);
        }
    }
    nncl_cl_build_batch(progs, opts, m, cl->device, errs, secs);
    nncl_status st = NNCL_OK;
    for (int i = 0; i < m; i++) {
        built *b = &bs[i];
        b->build_s = secs[i];
        if (errs[i] != CL_SUCCESS) {
            clReleaseProgram(progs[i]);
            snprintf(b->why, sizeof b->why, "does not build (%s)", nncl_cl_error_name(errs[i]));
            continue;
        }
        if (st != NNCL_OK) {
            clReleaseProgram(progs[i]);
            continue;
        }
        /* the slot owns the program from here, even on failure */
        st = nncl_cl_slot_make(progs[i], &b->slot);
        b->compiled = st == NNCL_OK;
    }
    return st;
}

/* Runs with b's program and parameters in the device's place. */
typedef struct stand_in {
    nncl_device *dev;
    built *b;
    nncl_fused_params saved;
} stand_in;

static stand_in stand_in_begin(nncl_device *dev, built *b)
{
    stand_in s = {dev, b, *nncl_fused_params_on(dev)};
    nncl_cl_slot_exchange(dev, &b->slot);
    nncl_fused_params_set(dev, &b->p);
    return s;
}

static void stand_in_end(stand_in *s)
{
    nncl_cl_slot_exchange(s->dev, &s->b->slot);
    nncl_fused_params_set(s->dev, &s->saved);
}

/* ---- data on both devices ------------------------------------------------------ */

static float uniform(nncl_rng *r, float lo, float hi) { return lo + (hi - lo) * nncl_rng_float(r); }

/* What an array holds. */
typedef enum fill_kind {
    FILL_NAN,                   /* outputs: what must be written is, what must not stays NaN */
    FILL_ZERO,
    FILL_BYTES,                 /* 0..255 */
    FILL_WEIGHTS,               /* U(-0.5, 0.5) */
    FILL_SHIFT,                 /* U(0, 255): a per-column mean */
    FILL_SCALE,                 /* U(0.5, 2) / 255 */
    FILL_SMALL,                 /* U(0, 0.1): Adam's second moment, gradients */
    FILL_INDEX,                 /* int32 in [0, bound) */
} fill_kind;

static void fill(void *data, size_t count, fill_kind kind, size_t bound, nncl_rng *s)
{
    float *f = data;
    for (size_t i = 0; i < count; i++)
        switch (kind) {
        case FILL_NAN: f[i] = NAN; break;
        case FILL_ZERO: f[i] = 0.0f; break;
        case FILL_BYTES: ((unsigned char *)data)[i] = (unsigned char)(nncl_rng_next(s) >> 56); break;
        case FILL_WEIGHTS: f[i] = uniform(s, -0.5f, 0.5f); break;
        case FILL_SHIFT: f[i] = uniform(s, 0.0f, 255.0f); break;
        case FILL_SCALE: f[i] = uniform(s, 0.5f, 2.0f) / 255.0f; break;
        case FILL_SMALL: f[i] = uniform(s, 0.0f, 0.1f); break;
        case FILL_INDEX: ((int *)data)[i] = (int)nncl_rng_below(s, bound); break;
        }
}

/* One array on the host device (the oracle's) and on the tuned one, with
 * the same contents. */
typedef struct twin {
    nncl_buffer *h, *d;
    size_t count;
} twin;

enum { MAX_TWINS = 16 };

typedef struct twins {
    nncl_device *host, *dev;
    twin t[MAX_TWINS];
    int n;
    nncl_rng rng;
    nncl_status st;             /* the first failure; later calls do nothing */
} twins;

static twin *twin_new(twins *tw, size_t count, fill_kind kind, size_t bound)
{
    static twin none; /* handed out after a failure: nothing runs then */
    if (tw->st == NNCL_OK && tw->n == MAX_TWINS)
        tw->st = nncl_fail(NNCL_E_INVALID, "checking a fused-op candidate: more than %d arrays", MAX_TWINS);
    if (tw->st != NNCL_OK)
        return &none;
    twin *t = &tw->t[tw->n++];
    size_t size = kind == FILL_BYTES ? 1 : 4, bytes = (count ? count : 1) * size;
    t->count = count;
    void *data = malloc(bytes);
    if (!data) {
        tw->st = nncl_fail(NNCL_E_NOMEM, "out of memory checking a fused-op candidate");
        return t;
    }
    fill(data, bytes / size, kind, bound, &tw->rng);
    if ((tw->st = nncl_buffer_alloc(tw->host, bytes, &t->h)) == NNCL_OK &&
        (tw->st = nncl_buffer_alloc(tw->dev, bytes, &t->d)) == NNCL_OK &&
        (tw->st = nncl_buffer_write(t->h, 0, data, bytes)) == NNCL_OK)
        tw->st = nncl_buffer_write(t->d, 0, data, bytes);
    free(data);
    return t;
}

static void twins_free(twins *tw)
{
    for (int i = 0; i < tw->n; i++) {
        nncl_buffer_free(tw->t[i].h);
        nncl_buffer_free(tw->t[i].d);
    }
    tw->n = 0;
}

/* The two sides of a twin as views, for the op's arguments on each device. */
static nncl_view side(const twin *t, bool host) { return t ? nncl_view_of(host ? t->h : t->d, 0) : (nncl_view){0}; }

/* The device's floats against the host's: |d - h| <= tol_max max|h| +
 * tol_rel |h| + abs_tol, NaN where the host has NaN (an untouched output).
 * *ok false with the first disagreement in why. */
static nncl_status compare(const twin *t, const char *op, const char *what, double tol_max, double tol_rel,
                           double abs_tol, bool *ok, char *why, size_t why_len)
{
    float *h = malloc(t->count * 4), *d = malloc(t->count * 4);
    nncl_status st = h && d ? NNCL_OK : nncl_fail(NNCL_E_NOMEM, "out of memory checking a fused-op candidate");
    if (st == NNCL_OK)
        st = nncl_buffer_read(t->h, 0, h, t->count * 4);
    if (st == NNCL_OK)
        st = nncl_buffer_read(t->d, 0, d, t->count * 4);
    double most = 0;
    for (size_t i = 0; st == NNCL_OK && i < t->count; i++)
        most = isfinite(h[i]) && fabs(h[i]) > most ? fabs(h[i]) : most;
    for (size_t i = 0; st == NNCL_OK && i < t->count && *ok; i++) {
        bool agree = isnan(h[i]) ? isnan(d[i])
                                 : fabs((double)d[i] - h[i]) <= tol_max * most + tol_rel * fabs(h[i]) + abs_tol;
        if (!agree) {
            snprintf(why, why_len, "%s: %s[%zu] = %.9g, host %.9g", op, what, i, d[i], h[i]);
            *ok = false;
        }
    }
    free(h);
    free(d);
    return st;
}

/* ---- the check ------------------------------------------------------------------ */

/* Shapes awkward for every block: 1, primes, a row count past one 16-row
 * lane, one 256-row block and (wgrad) one 512-row chunk; with and without
 * an index, padded output rows, every activation. */
typedef struct u8_case {
    size_t rows, in, out, pad;
    bool index;
    nncl_act act;
} u8_case;

static const u8_case fwd_cases[] = {
    {1, 1, 1, 0, false, NNCL_ACT_IDENTITY}, {37, 13, 7, 3, true, NNCL_ACT_RELU},
    {67, 50, 33, 1, false, NNCL_ACT_TANH},  {130, 71, 21, 0, true, NNCL_ACT_LEAKY_RELU},
    {19, 200, 11, 2, false, NNCL_ACT_SIGMOID},
};
static const u8_case wgrad_cases[] = {
    {1, 1, 1, 0, false, 0}, {37, 13, 7, 3, true, 0}, {300, 50, 33, 1, false, 0}, {700, 71, 21, 0, true, 0},
    {19, 200, 11, 2, false, 0},
};
/* head: out is the hidden width, pad the classes */
static const u8_case head_cases[] = {
    {1, 5, 3, 2, false, NNCL_ACT_SIGMOID}, {37, 13, 10, 10, true, NNCL_ACT_TANH},
    {300, 71, 16, 7, false, NNCL_ACT_SIGMOID}, {290, 50, 9, 16, true, NNCL_ACT_IDENTITY},
};

/* A float sum of k terms each at most `term` off by 4 k eps term at most:
 * the bound for a result every term of which the check wants counted (a
 * missing or doubled one moves it by about `term`, far more). */
static double sum_tol(size_t k, double term) { return 4.0 * (double)k * 1.1920929e-7 * term; }

typedef struct u8_inputs {
    twin *x, *index, *shift, *scale;
    size_t x_rows;
} u8_inputs;

static u8_inputs u8_inputs_new(twins *tw, const u8_case *c)
{
    u8_inputs u = {0};
    u.x_rows = c->index ? c->rows + 11 : c->rows;
    u.x = twin_new(tw, u.x_rows * c->in, FILL_BYTES, 0);
    u.index = c->index ? twin_new(tw, c->rows, FILL_INDEX, u.x_rows) : NULL;
    u.shift = twin_new(tw, c->in, FILL_SHIFT, 0);
    u.scale = twin_new(tw, c->in, FILL_SCALE, 0);
    return u;
}

/* |x'| = |byte - shift| scale <= 255 * 2/255 */
enum { XMAX = 2 };

static nncl_status check_fwd(twins *tw, const u8_case *c, bool *ok, char *why, size_t why_len)
{
    u8_inputs u = u8_inputs_new(tw, c);
    twin *w = twin_new(tw, c->out * c->in, FILL_WEIGHTS, 0), *b = twin_new(tw, c->out, FILL_WEIGHTS, 0);
    size_t ldy = c->out + c->pad;
    twin *y = twin_new(tw, c->rows * ldy + 5, FILL_NAN, 0);
    for (int side_host = 1; side_host >= 0 && tw->st == NNCL_OK; side_host--) {
        bool h = side_host;
        /* the padding and the tail past the rows stay NaN on both sides */
        nncl_linear_u8_fwd_args a = {.x = side(u.x, h), .index = side(u.index, h), .x_rows = u.x_rows,
                                     .shift = side(u.shift, h), .scale = side(u.scale, h), .w = side(w, h),
                                     .b = side(b, h), .y = side(y, h), .rows = c->rows, .in = c->in,
                                     .out = c->out, .ldy = ldy, .act = c->act,
                                     .act_param = c->act == NNCL_ACT_LEAKY_RELU ? 0.1f : 0.0f};
        tw->st = nncl_linear_u8_fwd(h ? tw->host : tw->dev, &a);
    }
    if (tw->st == NNCL_OK)
        tw->st = nncl_device_finish(tw->dev);
    char op[96];
    snprintf(op, sizeof op, "linear_u8_fwd %zux%zu->%zu", c->rows, c->in, c->out);
    return tw->st != NNCL_OK ? tw->st
                             : compare(y, op, "y", 0, 0, sum_tol(c->in + 1, XMAX * 0.5), ok, why, why_len);
}

static nncl_status check_wgrad(twins *tw, const u8_case *c, bool *ok, char *why, size_t why_len)
{
    u8_inputs u = u8_inputs_new(tw, c);
    size_t ldg = c->out + c->pad, n = c->out * c->in;
    twin *g = twin_new(tw, c->rows * ldg, FILL_WEIGHTS, 0), *dw = twin_new(tw, n, FILL_NAN, 0);
    /* room for 4 chunks of partial sums: the 700-row case sums two */
    twin *scratch = c->rows > 512 ? twin_new(tw, 4 * n, FILL_NAN, 0) : NULL;
    for (int side_host = 1; side_host >= 0 && tw->st == NNCL_OK; side_host--) {
        bool h = side_host;
        nncl_linear_u8_wgrad_args a = {.x = side(u.x, h), .index = side(u.index, h), .x_rows = u.x_rows,
                                       .shift = side(u.shift, h), .scale = side(u.scale, h), .g = side(g, h),
                                       .dw = side(dw, h), .rows = c->rows, .in = c->in, .out = c->out, .ldg = ldg,
                                       .scratch = side(scratch, h), .scratch_len = scratch ? 4 * n : 0};
        tw->st = nncl_linear_u8_wgrad(h ? tw->host : tw->dev, &a);
    }
    if (tw->st == NNCL_OK)
        tw->st = nncl_device_finish(tw->dev);
    char op[96];
    snprintf(op, sizeof op, "linear_u8_wgrad %zux%zu->%zu", c->rows, c->in, c->out);
    return tw->st != NNCL_OK ? tw->st : compare(dw, op, "dW", 0, 0, sum_tol(c->rows, XMAX * 0.5), ok, why, why_len);
}

/* The head's sums pass through the forward, the softmax and g before they
 * are summed over rows, so the bound is relative to each array's largest
 * element: 1e-3 of it. The cases are small enough that one missing row or
 * input moves some element by more (each row is 1/300 of a sum of terms of
 * both signs, a few percent of the largest); the activations are smooth,
 * so the two sides never take different sides of a kink. */
static nncl_status check_head(twins *tw, const u8_case *c, bool *ok, char *why, size_t why_len)
{
    size_t hidden = c->out, classes = c->pad;
    u8_inputs u = u8_inputs_new(tw, c);
    twin *w1 = twin_new(tw, hidden * c->in, FILL_WEIGHTS, 0), *b1 = twin_new(tw, hidden, FILL_WEIGHTS, 0);
    twin *w2 = twin_new(tw, classes * hidden, FILL_WEIGHTS, 0), *b2 = twin_new(tw, classes, FILL_WEIGHTS, 0);
    twin *labels = twin_new(tw, c->rows, FILL_INDEX, classes);
    twin *dw1 = twin_new(tw, hidden * c->in, FILL_NAN, 0), *db1 = twin_new(tw, hidden, FILL_NAN, 0);
    twin *dw2 = twin_new(tw, classes * hidden, FILL_NAN, 0), *db2 = twin_new(tw, classes, FILL_NAN, 0);
    twin *acc = twin_new(tw, 2, FILL_ZERO, 0);
    size_t scratch_len = nncl_linear_u8_head_scratch_len(c->rows, c->in, hidden, classes);
    twin *scratch = twin_new(tw, scratch_len, FILL_NAN, 0);
    for (int side_host = 1; side_host >= 0 && tw->st == NNCL_OK; side_host--) {
        bool h = side_host;
        nncl_linear_u8_head_args a = {
            .x = side(u.x, h), .index = side(u.index, h), .x_rows = u.x_rows, .shift = side(u.shift, h),
            .scale = side(u.scale, h), .w1 = side(w1, h), .b1 = side(b1, h), .w2 = side(w2, h),
            .b2 = side(b2, h), .labels = side(labels, h), .dw1 = side(dw1, h), .db1 = side(db1, h),
            .dw2 = side(dw2, h), .db2 = side(db2, h), .acc = side(acc, h), .scratch = side(scratch, h),
            .rows = c->rows, .in = c->in, .hidden = hidden, .classes = classes, .act = c->act,
            .grad_scale = 1.0f / (float)c->rows};
        tw->st = nncl_linear_u8_head(h ? tw->host : tw->dev, &a);
    }
    if (tw->st == NNCL_OK)
        tw->st = nncl_device_finish(tw->dev);
    char op[96];
    snprintf(op, sizeof op, "linear_u8_head %zux%zu->%zu->%zu", c->rows, c->in, hidden, classes);
    const twin *outs[] = {dw1, db1, dw2, db2};
    const char *names[] = {"dW1", "db1", "dW2", "db2"};
    nncl_status st = tw->st;
    for (int i = 0; i < 4 && st == NNCL_OK && *ok; i++)
        st = compare(outs[i], op, names[i], 1e-3, 0, 1e-7, ok, why, why_len);
    /* the loss to 1e-4, the count of correct rows within one (a near tie) */
    if (st == NNCL_OK && *ok)
        st = compare(acc, op, "loss and correct count", 0, 1e-4, 1.0, ok, why, why_len);
    return st;
}

static const nncl_optim optim_kinds[] = {NNCL_OPTIM_SGD, NNCL_OPTIM_MOMENTUM, NNCL_OPTIM_ADAM, NNCL_OPTIM_ADAMW};
static const size_t optim_sizes[] = {1, 17, 1003};

/* One step of each kind with its state; w, m and v after it against the
 * host's to 4e-6 of the largest (a few ulp of the square root and the
 * divisions; a skipped element is off by lr = 0.01 or more). */
static nncl_status check_optim(twins *tw, nncl_optim kind, size_t n, bool *ok, char *why, size_t why_len)
{
    twin *w = twin_new(tw, n, FILL_WEIGHTS, 0), *g = twin_new(tw, n, FILL_WEIGHTS, 0);
    twin *m = kind != NNCL_OPTIM_SGD ? twin_new(tw, n, FILL_WEIGHTS, 0) : NULL;
    twin *v = kind >= NNCL_OPTIM_ADAM ? twin_new(tw, n, FILL_SMALL, 0) : NULL;
    for (int side_host = 1; side_host >= 0 && tw->st == NNCL_OK; side_host--) {
        bool h = side_host;
        nncl_optim_step_args a = {.kind = kind, .w = side(w, h), .grad = side(g, h), .m = side(m, h),
                                  .v = side(v, h), .n = n, .lr = 0.01f, .weight_decay = 0.001f,
                                  .momentum = 0.9f, .nesterov = true, .beta1 = 0.9f, .beta2 = 0.999f,
                                  .eps = 1e-8f, .step = 3};
        tw->st = nncl_optim_step(h ? tw->host : tw->dev, &a);
    }
    if (tw->st == NNCL_OK)
        tw->st = nncl_device_finish(tw->dev);
    char op[64];
    snprintf(op, sizeof op, "optim_step (kind %d) n=%zu", (int)kind, n);
    const twin *outs[] = {w, m, v};
    const char *names[] = {"w", "m", "v"};
    nncl_status st = tw->st;
    for (int i = 0; i < 3 && st == NNCL_OK && *ok; i++)
        if (outs[i])
            st = compare(outs[i], op, names[i], 4e-6, 0, 0, ok, why, why_len);
    return st;
}

/* Every case, with b standing in for the device's program. */
static nncl_status check_built(nncl_device *dev, nncl_device *host, built *b, bool *ok, char *why, size_t why_len)
{
    twins tw = {.host = host, .dev = dev, .rng = {0xf00d}};
    stand_in s = stand_in_begin(dev, b);
    *ok = true;
    nncl_status st = NNCL_OK;
    for (size_t i = 0; i < sizeof fwd_cases / sizeof fwd_cases[0] && st == NNCL_OK && *ok; i++, twins_free(&tw))
        st = check_fwd(&tw, &fwd_cases[i], ok, why, why_len);
    for (size_t i = 0; i < sizeof wgrad_cases / sizeof wgrad_cases[0] && st == NNCL_OK && *ok; i++, twins_free(&tw))
        st = check_wgrad(&tw, &wgrad_cases[i], ok, why, why_len);
    for (size_t i = 0; i < sizeof head_cases / sizeof head_cases[0] && st == NNCL_OK && *ok; i++, twins_free(&tw))
        st = check_head(&tw, &head_cases[i], ok, why, why_len);
    for (size_t k = 0; k < sizeof optim_kinds / sizeof optim_kinds[0] && st == NNCL_OK && *ok; k++)
        for (size_t i = 0; i < sizeof optim_sizes / sizeof optim_sizes[0] && st == NNCL_OK && *ok;
             i++, twins_free(&tw))
            st = check_optim(&tw, optim_kinds[k], optim_sizes[i], ok, why, why_len);
    twins_free(&tw);
    stand_in_end(&s);
    /* a launch the device refuses rejects the candidate, as a wrong result does */
    if (st == NNCL_E_DEVICE) {
        snprintf(why, why_len, "fails to run (%s)", nncl_last_error());
        nncl_clear_error();
        *ok = false;
        st = NNCL_OK;
    }
    return st;
}

/* ---- building and checking ------------------------------------------------------ */

/* Check a built b against the host; b->ok says whether it may be timed
 * (else b->why, and nothing held). */
static nncl_status check_one(nncl_device *dev, nncl_device *host, built *b)
{
    b->ok = false;
    if (!b->compiled)
        return NNCL_OK;
    double t0 = nncl_seconds_now();
    bool ok = false;
    nncl_status st = check_built(dev, host, b, &ok, b->why, sizeof b->why);
    b->check_s = nncl_seconds_now() - t0;
    b->ok = st == NNCL_OK && ok;
    if (!b->ok)
        nncl_cl_slot_release(&b->slot);
    return st;
}

/* Build and check b (its p; extra, the tests' defines); b->ok says whether
 * it may be timed, why why not. */
static nncl_status prepare(nncl_device *dev, nncl_device *host, const char *src, size_t len, const char *extra,
                           built *b, char *why, size_t why_len)
{
    b->extra = extra;
    b->why[0] = '\0';
    nncl_status st = build_all(dev, src, len, b, 1);
    if (st == NNCL_OK)
        st = check_one(dev, host, b);
    snprintf(why, why_len, "%s", b->ok ? "" : b->why);
    return st;
}

static nncl_status fused_source(char **src, size_t *len)
{
    return nncl_cl_source(fused_files, (int)(sizeof fused_files / sizeof fused_files[0]), src, len);
}

static nncl_status open_host(nncl_device **host)
{
    nncl_device_info info;
    nncl_host_describe(&info);
    return nncl_device_open(&info, host);
}

nncl_status nncl_fused_candidate_check(nncl_device *dev, const nncl_fused_params *c, const char *extra, bool *ok,
                                       char *why, size_t why_len)
{
    if (dev->info.backend != NNCL_BACKEND_OPENCL)
        return nncl_fail(NNCL_E_UNSUPPORTED, "%s: only OpenCL devices are tuned", dev->info.name);
    char *src;
    size_t len;
    nncl_device *host = NULL;
    nncl_status st = fused_source(&src, &len);
    if (st != NNCL_OK)
        return st;
    st = open_host(&host);
    built b = {.p = *c};
    why[0] = '\0';
    if (st == NNCL_OK)
        st = prepare(dev, host, src, len, extra, &b, why, why_len);
    *ok = b.ok;
    nncl_cl_slot_release(&b.slot);
    nncl_device_close(host);
    free(src);
    return st;
}

/* ---- timing ------------------------------------------------------------------------ */

/* The training shapes: the tutorial's whole step (784-10-10, full batch of
 * 42,000 rows), the default network's byte layer (784 -> 256) at batch 128
 * and over 4,096 evaluation rows, and the optimiser on the default
 * network's 203,530 parameters (Adam) and the tutorial's 7,960 (SGD). */
enum { TUT_ROWS = 42000, IN = 784, HID = 256, BATCH = 128, EVAL_ROWS = 4096, TUT_HID = 10, CLASSES = 10 };
enum { DEFAULT_PARAMS = IN * HID + HID + HID * CLASSES + CLASSES, TUT_PARAMS = IN * TUT_HID + TUT_HID + TUT_HID * CLASSES + CLASSES };

typedef struct bench_buffers {
    nncl_buffer *x, *index, *shift, *scale, *w1, *b1, *y, *g, *dw, *labels, *acc, *scratch, *w, *grad, *m, *v;
    size_t scratch_len;
} bench_buffers;

/* Which parameters a shape's time depends on: the fwd's block (U8_VW,
 * U8_DM, U8_DN), the wgrad's (U8_VW, U8_TM), the optimiser's width, or
 * all of the byte kernels' at once (the tutorial's fused step). */
typedef enum part { PART_FWD, PART_WGRAD, PART_OPTIM, PART_ALL_U8 } part;

typedef struct fused_shape {
    const char *what;
    part part;
    nncl_status (*run)(nncl_device *dev, const bench_buffers *bb);
    nncl_op_id op;              /* what it times: only where the device prefers it (a GPU
                                   gathers floats instead of running the byte ops) */
} fused_shape;

static nncl_view v0(nncl_buffer *b) { return nncl_view_of(b, 0); }

static nncl_status run_tutorial(nncl_device *dev, const bench_buffers *bb)
{
    /* W1, b1, W2, b2 and their gradients as slices of the big arrays */
    size_t w2 = TUT_HID * IN, b2 = w2 + CLASSES * TUT_HID;
    nncl_linear_u8_head_args a = {
        .x = v0(bb->x), .x_rows = TUT_ROWS, .shift = v0(bb->shift), .scale = v0(bb->scale), .w1 = v0(bb->w1),
        .b1 = v0(bb->b1), .w2 = nncl_view_of(bb->w1, w2), .b2 = nncl_view_of(bb->w1, b2), .labels = v0(bb->labels),
        .dw1 = v0(bb->dw), .db1 = nncl_view_of(bb->dw, w2 + CLASSES * TUT_HID + CLASSES),
        .dw2 = nncl_view_of(bb->dw, w2), .db2 = nncl_view_of(bb->dw, b2), .acc = v0(bb->acc),
        .scratch = v0(bb->scratch), .rows = TUT_ROWS, .in = IN, .hidden = TUT_HID, .classes = CLASSES,
        .act = NNCL_ACT_RELU, .grad_scale = 1.0f / TUT_ROWS};
    return nncl_linear_u8_head(dev, &a);
}

static nncl_status run_fwd(nncl_device *dev, const bench_buffers *bb, size_t rows, bool index)
{
    nncl_linear_u8_fwd_args a = {.x = v0(bb->x), .index = index ? v0(bb->index) : (nncl_view){0},
                                 .x_rows = TUT_ROWS, .shift = v0(bb->shift), .scale = v0(bb->scale),
                                 .w = v0(bb->w1), .b = v0(bb->b1), .y = v0(bb->y), .rows = rows, .in = IN,
                                 .out = HID, .ldy = HID, .act = NNCL_ACT_RELU};
    return nncl_linear_u8_fwd(dev, &a);
}

static nncl_status run_fwd_batch(nncl_device *dev, const bench_buffers *bb) { return run_fwd(dev, bb, BATCH, true); }
static nncl_status run_fwd_eval(nncl_device *dev, const bench_buffers *bb) { return run_fwd(dev, bb, EVAL_ROWS, false); }

static nncl_status run_wgrad(nncl_device *dev, const bench_buffers *bb)
{
    nncl_linear_u8_wgrad_args a = {.x = v0(bb->x), .index = v0(bb->index), .x_rows = TUT_ROWS,
                                   .shift = v0(bb->shift), .scale = v0(bb->scale), .g = v0(bb->g), .dw = v0(bb->dw),
                                   .rows = BATCH, .in = IN, .out = HID, .ldg = HID};
    return nncl_linear_u8_wgrad(dev, &a);
}

static nncl_status run_optim(nncl_device *dev, const bench_buffers *bb, nncl_optim kind, size_t n)
{
    nncl_optim_step_args a = {.kind = kind, .w = v0(bb->w), .grad = v0(bb->grad), .m = v0(bb->m), .v = v0(bb->v),
                              .n = n, .lr = 1e-6f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f, .step = 1};
    return nncl_optim_step(dev, &a);
}

static nncl_status run_adam(nncl_device *dev, const bench_buffers *bb) { return run_optim(dev, bb, NNCL_OPTIM_ADAM, DEFAULT_PARAMS); }
static nncl_status run_sgd(nncl_device *dev, const bench_buffers *bb) { return run_optim(dev, bb, NNCL_OPTIM_SGD, TUT_PARAMS); }

static const fused_shape shapes[] = {
    {"tutorial step, 42,000 rows", PART_ALL_U8, run_tutorial, NNCL_OP_linear_u8_head},
    {"784->256 bytes fwd, 128 rows", PART_FWD, run_fwd_batch, NNCL_OP_linear_u8_fwd},
    {"784->256 bytes dW, 128 rows", PART_WGRAD, run_wgrad, NNCL_OP_linear_u8_wgrad},
    {"784->256 bytes fwd, 4,096 rows", PART_FWD, run_fwd_eval, NNCL_OP_linear_u8_fwd},
    {"Adam, 203,530 parameters", PART_OPTIM, run_adam, NNCL_OP_optim_step},
    {"SGD, 7,960 parameters", PART_OPTIM, run_sgd, NNCL_OP_optim_step},
};
enum { NSHAPES = sizeof shapes / sizeof shapes[0] };
_Static_assert((int)NSHAPES <= (int)NNCL_TUNE_MAX_OPS, "the report holds every shape");

static bool shape_timed(const nncl_device *dev, const fused_shape *s)
{
    return nncl_device_prefers(dev, s->op);
}

static nncl_status buffer_filled(nncl_device *dev, size_t count, fill_kind kind, size_t bound, nncl_rng *seed,
                                 nncl_buffer **out)
{
    size_t size = kind == FILL_BYTES ? 1 : 4, bytes = count * size;
    void *data = malloc(bytes);
    if (!data)
        return nncl_fail(NNCL_E_NOMEM, "out of memory for the tuning inputs");
    fill(data, count, kind, bound, seed);
    nncl_status st = nncl_buffer_alloc(dev, bytes, out);
    if (st == NNCL_OK)
        st = nncl_buffer_write(*out, 0, data, bytes);
    free(data);
    return st;
}

static nncl_status bench_alloc(nncl_device *dev, bench_buffers *bb)
{
    nncl_rng seed = {11};
    bb->scratch_len = nncl_linear_u8_head_scratch_len(TUT_ROWS, IN, TUT_HID, CLASSES);
    struct {
        nncl_buffer **b;
        size_t count;
        fill_kind kind;
        size_t bound;
    } want[] = {
        {&bb->x, (size_t)TUT_ROWS * IN, FILL_BYTES, 0}, {&bb->index, BATCH, FILL_INDEX, TUT_ROWS},
        {&bb->shift, IN, FILL_SHIFT, 0},                {&bb->scale, IN, FILL_SCALE, 0},
        {&bb->w1, HID * IN, FILL_WEIGHTS, 0},           {&bb->b1, HID, FILL_WEIGHTS, 0},
        {&bb->y, (size_t)EVAL_ROWS * HID, FILL_ZERO, 0}, {&bb->g, BATCH * HID, FILL_WEIGHTS, 0},
        {&bb->dw, HID * IN, FILL_ZERO, 0},              {&bb->labels, TUT_ROWS, FILL_INDEX, CLASSES},
        {&bb->acc, 2, FILL_ZERO, 0},                    {&bb->scratch, bb->scratch_len, FILL_ZERO, 0},
        {&bb->w, DEFAULT_PARAMS, FILL_WEIGHTS, 0},      {&bb->grad, DEFAULT_PARAMS, FILL_WEIGHTS, 0},
        {&bb->m, DEFAULT_PARAMS, FILL_ZERO, 0},         {&bb->v, DEFAULT_PARAMS, FILL_SMALL, 0},
    };
    nncl_status st = NNCL_OK;
    for (size_t i = 0; i < sizeof want / sizeof want[0] && st == NNCL_OK; i++)
        st = buffer_filled(dev, want[i].count, want[i].kind, want[i].bound, &seed, want[i].b);
    return st;
}

static void bench_free(bench_buffers *bb)
{
    nncl_buffer *all[] = {bb->x, bb->index, bb->shift, bb->scale, bb->w1, bb->b1, bb->y, bb->g,
                          bb->dw, bb->labels, bb->acc, bb->scratch, bb->w, bb->grad, bb->m, bb->v};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        nncl_buffer_free(all[i]);
    memset(bb, 0, sizeof *bb);
}

/* One call of a shape's op, waited for (nncl_tune_time_calls), while a
 * candidate stands in for the device's program. */
typedef struct fused_call {
    nncl_device *dev;
    const bench_buffers *bb;
    const fused_shape *s;
} fused_call;

static nncl_status run_shape(void *arg)
{
    const fused_call *c = arg;
    nncl_status st = c->s->run(c->dev, c->bb);
    return st == NNCL_OK ? nncl_device_finish(c->dev) : st;
}

static nncl_status time_shape(nncl_device *dev, built *b, const bench_buffers *bb, const fused_shape *s,
                              double min_time, double *seconds)
{
    stand_in in = stand_in_begin(dev, b);
    fused_call c = {dev, bb, s};
    nncl_status st = nncl_tune_time_calls(run_shape, &c, min_time, seconds);
    stand_in_end(&in);
    return st;
}

/* Rounds over every shape and every checked entry, the entries' order
 * rotated each round; each (entry, shape) keeps its best time. */
static nncl_status time_rounds(nncl_device *dev, built *bs, int nb, const bench_buffers *bb, int rounds,
                               double min_time)
{
    for (int r = 0; r < rounds; r++)
        for (int s = 0; s < NSHAPES; s++) {
            if (!shape_timed(dev, &shapes[s]))
                continue;
            for (int j = 0; j < nb; j++) {
                built *b = &bs[(j + r) % nb];
                if (!b->ok)
                    continue;
                double sec = 0;
                nncl_status st = time_shape(dev, b, bb, &shapes[s], min_time, &sec);
                if (st != NNCL_OK)
                    return st;
                if (b->best[s] == 0 || sec < b->best[s])
                    b->best[s] = sec;
            }
        }
    return NNCL_OK;
}

/* Geometric mean time over the timed shapes of one part (or all: part < 0):
 * lower is better. */
static double score(const nncl_device *dev, const built *b, int part)
{
    double sum = 0;
    int n = 0;
    for (int s = 0; s < NSHAPES; s++)
        if (shape_timed(dev, &shapes[s]) && (part < 0 || (int)shapes[s].part == part)) {
            sum += log(b->best[s]);
            n++;
        }
    return n ? exp(sum / n) : 0;
}

/* ---- the search ------------------------------------------------------------------------ */

static void note_rejection(nncl_tune_report *rep, const nncl_fused_params *p, const char *why)
{
    char d[128];
    nncl_fused_params_format(p, d, sizeof d);
    nncl_tune_note_rejection(rep, d, why);
}

/* The best checked entry for one part's shapes among those that differ
 * from the old set (bs[0]) only in the byte kernels' shape (PART_FWD,
 * PART_WGRAD; vw > 0: of that vector width) or only in the optimiser's;
 * -1 if none (the old set always is, for vw = 0). */
static int best_of_part(const nncl_device *dev, const built *bs, int nb, part pt, int vw)
{
    int best = -1;
    for (int i = 0; i < nb; i++) {
        nncl_fused_params p = bs[i].p;
        if (pt == PART_OPTIM)
            p.optim = bs[0].p.optim;
        else
            p.u8 = bs[0].p.u8;
        bool eligible = bs[i].ok && !bs[i].extra && nncl_fused_params_equal(&p, &bs[0].p) &&
                        (vw == 0 || bs[i].p.u8.vw == vw);
        if (eligible && (best < 0 || score(dev, &bs[i], pt) < score(dev, &bs[best], pt)))
            best = i;
    }
    return best;
}

/* The search's candidates for nncl_tune_build_in_batches: cands[k] built
 * into bs[k] (the batches fill bs in order), progress said, rejections
 * noted. */
typedef struct search_builds {
    nncl_device *dev, *host;
    const char *src;
    size_t len;
    const nncl_fused_candidate *cands;
    built *bs;
    nncl_tune_report *rep;
    nncl_tune_progress_fn progress;
    void *ctx;
    int *done, total;
} search_builds;

static nncl_status search_build(void *arg, int first, int m)
{
    search_builds *s = arg;
    if (s->progress) {
        char what[64];
        snprintf(what, sizeof what, "building %d fused-op candidate%s", m, m == 1 ? "" : "s");
        s->progress(s->ctx, *s->done, s->total, what);
    }
    for (int j = 0; j < m; j++) {
        built *b = &s->bs[first + j];
        b->p = s->cands[first + j].p;
        b->extra = s->cands[first + j].extra;
        b->why[0] = '\0';
    }
    return build_all(s->dev, s->src, s->len, &s->bs[first], m);
}

static nncl_status search_check(void *arg, int k, nncl_status st)
{
    search_builds *s = arg;
    built *b = &s->bs[k];
    if (st != NNCL_OK) {
        nncl_cl_slot_release(&b->slot);
        return st;
    }
    if (s->progress) {
        char d[128], what[200];
        nncl_fused_params_format(&b->p, d, sizeof d);
        snprintf(what, sizeof what, "checking %s", d);
        s->progress(s->ctx, *s->done, s->total, what);
    }
    st = check_one(s->dev, s->host, b);
    if (st == NNCL_OK && !b->ok) {
        s->rep->rejected++;
        note_rejection(s->rep, &b->p, b->why);
    }
    (*s->done)++;
    return st;
}

static void search_seconds(void *arg, int k, double *build_s, double *check_s)
{
    const search_builds *s = arg;
    *build_s = s->bs[k].build_s;
    *check_s = s->bs[k].check_s;
}

nncl_status nncl_fused_tune_search(nncl_device *dev, const nncl_fused_candidate *cands, int n, nncl_tune_mode mode,
                                   double budget_s, nncl_tune_progress_fn progress, void *ctx,
                                   nncl_fused_params *winner, nncl_tune_report *rep)
{
    if (dev->info.backend != NNCL_BACKEND_OPENCL)
        return nncl_fail(NNCL_E_UNSUPPORTED, "%s: only OpenCL devices are tuned", dev->info.name);
    if (n < 1)
        return nncl_fail(NNCL_E_INVALID, "tuning the fused ops: no candidate");
    double t0 = nncl_seconds_now();
    const nncl_fused_params *old = &cands[0].p;
    built *bs = calloc((size_t)n + 1, sizeof *bs); /* +1: the combination of the two parts' best */
    char *src = NULL;
    size_t len = 0;
    nncl_device *host = NULL;
    bench_buffers bb = {0};
    nncl_status st = bs ? NNCL_OK : nncl_fail(NNCL_E_NOMEM, "out of memory tuning");
    if (st == NNCL_OK)
        st = fused_source(&src, &len);
    if (st == NNCL_OK)
        st = open_host(&host);
    int rounds = mode == NNCL_TUNE_FULL ? 3 : 2;
    double min_time = mode == NNCL_TUNE_FULL ? 0.1 : 0.02;
    int total = n + 2, done = 0, nb = 0;
    rep->candidates += n;
    rep->fused.considered = n;
    rep->fused.build_budget = budget_s;

    /* Build and check, while the budget lasts (the old set always), in
     * batches where building is what takes the time (tune_run.h). */
    search_builds sb = {dev, host, src, len, cands, bs, rep, progress, ctx, &done, total};
    nncl_tune_builder builder = {&sb, search_build, search_check, search_seconds};
    if (st == NNCL_OK)
        nb = nncl_tune_build_in_batches(n, budget_s, t0, &rep->fused, &builder, &st);
    if (st == NNCL_OK && !bs[0].ok)
        rep->current_wrong = true;
    if (st == NNCL_OK && !bs[0].ok)
        st = nncl_fail(NNCL_E_DEVICE, "tuning %s: the current fused-op parameters fail their check: %s",
                       dev->info.name, rep->rejections);
    if (st == NNCL_OK)
        st = bench_alloc(dev, &bb);
    done = n;
    if (st == NNCL_OK && progress)
        progress(ctx, done, total, "timing the fused ops");
    if (st == NNCL_OK)
        st = time_rounds(dev, bs, nb, &bb, rounds, min_time);

    /* The pick: the fwd's best block, the best wgrad block of the same
     * vector width and the optimiser's best width (separate kernels, or
     * separate loops of the fused step), combined; a new combination is
     * checked before it is timed. */
    int pi = -1;
    nncl_fused_params pick = *old;
    if (st == NNCL_OK) {
        pick.u8 = bs[best_of_part(dev, bs, nb, PART_FWD, 0)].p.u8;
        int wg = best_of_part(dev, bs, nb, PART_WGRAD, pick.u8.vw);
        if (wg >= 0)
            pick.u8.tm = bs[wg].p.u8.tm;
        pick.optim = bs[best_of_part(dev, bs, nb, PART_OPTIM, 0)].p.optim;
        for (int i = 0; i < nb; i++)
            if (bs[i].ok && !bs[i].extra && nncl_fused_params_equal(&bs[i].p, &pick))
                pi = i;
    }
    if (st == NNCL_OK && pi < 0 && mode == NNCL_TUNE_QUICK) {
        /* no time for another build (the fused step alone takes PoCL 1.7 s
         * to compile): the best entry over every shape */
        pi = 0;
        for (int i = 1; i < nb; i++)
            if (bs[i].ok && !bs[i].extra && score(dev, &bs[i], -1) < score(dev, &bs[pi], -1))
                pi = i;
    }
    if (st == NNCL_OK && pi < 0) {
        built *b = &bs[nb];
        b->p = pick;
        char why[512] = "";
        st = prepare(dev, host, src, len, NULL, b, why, sizeof why);
        rep->fused.build_wall_seconds += b->build_s;
        rep->candidates++;
        rep->fused.considered++;
        if (st == NNCL_OK && b->ok) {
            pi = nb++;
        } else if (st == NNCL_OK) {
            /* not among bs[0..nb) below: its seconds counted here */
            rep->fused.built++;
            rep->fused.build_seconds += b->build_s;
            rep->fused.check_seconds += b->check_s;
            rep->rejected++;
            note_rejection(rep, &pick, why);
            pi = 0;
        }
    }
    /* The final round: the old set against the pick, both timed afresh and
     * interleaved; the pick must be faster over all the shapes. */
    if (st == NNCL_OK) {
        if (progress)
            progress(ctx, n + 1, total, "timing the old set against the pick");
        built final[2] = {bs[0], bs[pi]};
        int nf = pi == 0 ? 1 : 2;
        for (int i = 0; i < nf; i++)
            memset(final[i].best, 0, sizeof final[i].best);
        st = time_rounds(dev, final, nf, &bb, rounds, min_time);
        const built *won = nf == 2 && score(dev, &final[1], -1) < score(dev, &final[0], -1) ? &final[1] : &final[0];
        *winner = won->p;
        nncl_fused_params_format(old, rep->old_fused, sizeof rep->old_fused);
        nncl_fused_params_format(winner, rep->new_fused, sizeof rep->new_fused);
        rep->n_ops = 0;
        for (int s = 0; s < NSHAPES && st == NNCL_OK; s++) {
            if (!shape_timed(dev, &shapes[s]))
                continue;
            nncl_tune_op *o = &rep->ops[rep->n_ops++];
            snprintf(o->what, sizeof o->what, "%s", shapes[s].what);
            o->old_us = final[0].best[s] * 1e6;
            o->new_us = won->best[s] * 1e6;
        }
    }
    for (int i = 0; i < nb; i++) {
        rep->timed += bs[i].ok;
        nncl_cl_slot_release(&bs[i].slot);
    }
    for (int i = 0; i < nb; i++) {
        rep->fused.build_seconds += bs[i].build_s;
        rep->fused.check_seconds += bs[i].check_s;
    }
    rep->fused.built += nb;
    rep->fused.seconds = nncl_seconds_now() - t0;
    bench_free(&bb);
    nncl_device_close(host);
    free(bs);
    free(src);
    if (progress && st == NNCL_OK)
        progress(ctx, total, total, "done");
    return st;
}

nncl_status nncl_fused_tune_device(nncl_device *dev, nncl_tune_mode mode, const nncl_fused_params *old,
                                   double budget_s, nncl_tune_progress_fn progress, void *ctx,
                                   nncl_fused_params *winner, nncl_tune_report *rep)
{
    nncl_fused_params ps[NNCL_TUNE_MAX_CANDIDATES_FUSED];
    nncl_fused_candidate cands[NNCL_TUNE_MAX_CANDIDATES_FUSED];
    int n = nncl_fused_candidates(&dev->info, mode, old, ps, NNCL_TUNE_MAX_CANDIDATES_FUSED);
    for (int i = 0; i < n; i++)
        cands[i] = (nncl_fused_candidate){ps[i], NULL};
    return nncl_fused_tune_search(dev, cands, n, mode, budget_s, progress, ctx, winner, rep);
}
