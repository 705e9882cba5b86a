/* The GEMM tuner's search (see gemm_tuner.h; its candidates are in
 * gemm_candidates.c, its check against the oracle in gemm_check.c). A
 * candidate is its own program built from cl/common.cl and cl/gemm.cl
 * alone (gemm_program.c), launched here directly with the candidate's
 * geometry, not through the device's program. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device/notice.h"
#include "device/opencl_impl.h"
#include "ops/gemm_cl.h"
#include "ops/gemm_tune_cache.h"
#include "ops/gemm_tuner.h"
#include "ops/kernel_params.h"
#include "ops/tune_run.h"
#include "ops/op_util.h"
#include "util/clock.h"

/* ---- one candidate's program ---------------------------------------------------- */

typedef struct built {
    nncl_gemm_candidate c;
    cl_program prog;
    nncl_gemm_kernels ks;       /* cl/gemm.cl's entry points (gemm_cl.h) */
    bool compiled;              /* built, with its kernels */
    bool ok;                    /* built and checked */
    double best[NNCL_TUNE_MAX_SHAPES]; /* seconds per call, best of the rounds */
    double build_s, check_s;    /* what building and checking it took */
    int registers, spill_bytes; /* gemm_nn's, where the build log says (0: not known) */
    unsigned long long private_bytes;
    size_t max_work_group;      /* gemm_nn's CL_KERNEL_WORK_GROUP_SIZE */
    char why[160];              /* why it is not ok */
} built;

static void built_release(built *b)
{
    nncl_gemm_program_release(&b->prog, &b->ks);
    b->compiled = false;
}

/* One GEMM with the candidate's kernels and geometry, as nncl_cl_gemm runs it. */
static cl_int launch(nncl_device *dev, const built *b, const nncl_gemm_args *g)
{
    const char *call, *kernel;
    return nncl_gemm_enqueue(dev, &b->ks, &b->c.p, g, &call, &kernel);
}

/* The kernel that computes g's C with b's parameters, for messages. */
static const char *form_name(const built *b, const nncl_gemm_args *g)
{
    return nncl_gemm_kernel_names[nncl_gemm_form(&b->c.p, g)];
}


/* What the compiler made of b's gemm_nn (the large square's kernel). */
static void kernel_resources(nncl_device *dev, built *b)
{
    cl_device_id d = nncl_cl_of(dev)->device;
    cl_kernel k = b->ks.k[NNCL_GEMM_NN];
    b->registers = b->spill_bytes = 0;
    b->private_bytes = 0;
    b->max_work_group = 0;
    if (!k)
        return;
    cl_ulong priv = 0;
    size_t wg = 0;
    if (clGetKernelWorkGroupInfo(k, d, CL_KERNEL_PRIVATE_MEM_SIZE, sizeof priv, &priv, NULL) == CL_SUCCESS)
        b->private_bytes = priv;
    if (clGetKernelWorkGroupInfo(k, d, CL_KERNEL_WORK_GROUP_SIZE, sizeof wg, &wg, NULL) == CL_SUCCESS)
        b->max_work_group = wg;
    if (dev->info.nv_compiler_options) {
        char *log = nncl_cl_build_log(b->prog, d);
        nncl_cl_log_registers(log, nncl_gemm_kernel_names[NNCL_GEMM_NN], &b->registers, &b->spill_bytes);
        free(log);
    }
}

/* Build the programs of bs[0..m) (m <= NNCL_TUNE_MAX_BATCH) together
 * (nncl_cl_build_batch: on several threads) and make their kernels: each
 * b->compiled, or its reason in b->why; b->build_s its own build's
 * seconds. The status is for failures of the device itself. */
static nncl_status build_all(nncl_device *dev, const char *src, size_t len, built *bs, int m)
{
    if (m < 1 || m > NNCL_TUNE_MAX_BATCH)
        return nncl_fail(NNCL_E_INVALID, "tuning: a batch of %d programs (1 to %d)", m, NNCL_TUNE_MAX_BATCH);
    cl_program progs[NNCL_TUNE_MAX_BATCH] = {0};
    char options[NNCL_TUNE_MAX_BATCH][1024];
    const char *opts[NNCL_TUNE_MAX_BATCH] = {0};
    cl_int errs[NNCL_TUNE_MAX_BATCH];
    double secs[NNCL_TUNE_MAX_BATCH];
    for (int i = 0; i < m; i++) {
        bs[i].compiled = bs[i].ok = false;
        nncl_status st = nncl_gemm_program_create(dev, src, len, &bs[i].c.p, bs[i].c.extra, &progs[i], options[i],
                                                  sizeof options[i]);
        if (st != NNCL_OK) {
            for (int j = 0; j < i; j++)
                clReleaseProgram(progs[j]);
            return st;
        }
        /* ptxas's account of each kernel in the build log, where the driver
         * takes the option (the candidates' programs are never cached) */
        if (dev->info.nv_compiler_options)
            strncat(options[i], " -cl-nv-verbose", sizeof options[i] - strlen(options[i]) - 1);
        opts[i] = options[i];
    }
    nncl_status st = NNCL_OK;
    cl_device_id device = nncl_cl_of(dev)->device;
    nncl_cl_build_batch(progs, opts, m, device, errs, secs);
    for (int i = 0; i < m; i++) {
        built *b = &bs[i];
        b->prog = progs[i];
        b->build_s = secs[i];
        /* a driver that names the extension but refuses -cl-nv-verbose
         * costs the account, never the candidate: built again without it */
        if (errs[i] == CL_INVALID_BUILD_OPTIONS && dev->info.nv_compiler_options) {
            char *v = strstr(options[i], " -cl-nv-verbose");
            if (v) {
                *v = '\0';
                double t0 = nncl_seconds_now();
                errs[i] = nncl_cl_build_quietly(progs[i], device, options[i]);
                b->build_s += nncl_seconds_now() - t0;
            }
        }
        if (errs[i] != CL_SUCCESS) {
            snprintf(b->why, sizeof b->why, "does not build (%s)", nncl_cl_error_name(errs[i]));
            built_release(b);
            continue;
        }
        char why[512] = "";
        bool ok = false;
        if (st == NNCL_OK)
            st = nncl_gemm_program_kernels(&b->c.p, &b->prog, &b->ks, &ok, why, sizeof why);
        b->compiled = st == NNCL_OK && ok;
        if (b->compiled)
            kernel_resources(dev, b);
        if (!b->compiled) {
            snprintf(b->why, sizeof b->why, "%s", why);
            built_release(b);
        }
    }
    return st;
}

/* Check a built entry against the oracle; b->ok says whether it may be
 * timed (else b->why, and nothing held). */
static nncl_status check_built(nncl_device *dev, built *b)
{
    b->ok = false;
    if (!b->compiled)
        return NNCL_OK;
    double t0 = nncl_seconds_now();
    char why[512] = "";
    bool ok = false;
    nncl_status st = nncl_gemm_check_kernels(dev, &b->c.p, &b->ks, &ok, why, sizeof why);
    b->check_s = nncl_seconds_now() - t0;
    b->ok = st == NNCL_OK && ok;
    if (!b->ok) {
        snprintf(b->why, sizeof b->why, "%s", st == NNCL_OK ? why : nncl_last_error());
        built_release(b);
    }
    return st;
}

/* Build and check one entry; b->ok says whether it may be timed, why why not. */
static nncl_status prepare(nncl_device *dev, const char *src, size_t len, built *b, char *why, size_t why_len)
{
    nncl_status st = build_all(dev, src, len, b, 1);
    if (st == NNCL_OK)
        st = check_built(dev, b);
    snprintf(why, why_len, "%s", b->ok ? "" : b->why);
    return st;
}

nncl_status nncl_gemm_candidate_check(nncl_device *dev, const nncl_gemm_candidate *c, bool *ok, char *why,
                                      size_t why_len)
{
    if (dev->info.backend != NNCL_BACKEND_OPENCL)
        return nncl_fail(NNCL_E_UNSUPPORTED, "%s: only OpenCL devices are tuned", dev->info.name);
    char *src;
    size_t len;
    nncl_status st = nncl_gemm_source(&src, &len);
    if (st != NNCL_OK)
        return st;
    built b = {.c = *c};
    why[0] = '\0';
    st = prepare(dev, src, len, &b, why, why_len);
    *ok = b.ok;
    built_release(&b);
    free(src);
    return st;
}

/* ---- timing ------------------------------------------------------------------------ */

typedef struct tune_shape {
    const char *what;
    size_t m, n, k;
    bool ta, tb;
    bool training;
} tune_shape;

/* The three GEMMs of 784 -> 128 at batch 128 and of 784 -> 512 at 256 (the
 * rows of `nncl bench`, src/cli/bench_shapes.h), and square 1024. */
static const tune_shape shapes[] = {
    {"784->128 fwd", 128, 128, 784, false, true, true}, {"784->128 dX", 128, 784, 128, false, false, true},
    {"784->128 dW", 128, 784, 128, true, false, true},  {"784->512 fwd", 256, 512, 784, false, true, true},
    {"784->512 dX", 256, 784, 512, false, false, true}, {"784->512 dW", 512, 784, 256, true, false, true},
    {"square 1024", 1024, 1024, 1024, false, false, false},
};
enum { NSHAPES = sizeof shapes / sizeof shapes[0] };
/* best[NSHAPES]: the large square, timed on local-memory candidates only */
_Static_assert((int)NSHAPES < (int)NNCL_TUNE_MAX_SHAPES, "no room for the large square");

/* The large square's side: 2048, the product issue 12's GPU target names;
 * NNCL_GEMM_LARGE=<side> for the tests (a CPU runs the local-memory path
 * at 2048^3 in seconds), "off" or 0 for no large-products set. Products
 * of at least half its m*n*k take the set. */
static size_t large_side(void)
{
    const char *v = getenv("NNCL_GEMM_LARGE");
    if (!v || !*v)
        return 2048;
    if (strcmp(v, "off") == 0 || strcmp(v, "0") == 0)
        return 0;
    char *end;
    unsigned long n = strtoul(v, &end, 10);
    if (*end || n < 16 || n > 8192) {
        nncl_notice(NNCL_NOTICE_WARNING, "NNCL_GEMM_LARGE='%s' is not a side from 16 to 8192 or \"off\"; 2048", v);
        return 2048;
    }
    return (size_t)n;
}

/* Which shapes a search times: the training shapes and 1024^3, and the
 * large square where some candidate has local-memory tiles. */
typedef struct shape_set {
    tune_shape s[NSHAPES + 1];
    int n;
    char large_what[24];
} shape_set;

static void shape_set_for(const nncl_gemm_candidate *cands, int nc, shape_set *ss)
{
    memcpy(ss->s, shapes, sizeof shapes);
    ss->n = NSHAPES;
    size_t side = large_side();
    bool local = false;
    for (int i = 0; i < nc; i++)
        local = local || cands[i].p.use_local;
    if (side && local) {
        snprintf(ss->large_what, sizeof ss->large_what, "square %zu", side);
        ss->s[ss->n++] = (tune_shape){ss->large_what, side, side, side, false, false, false};
    }
}

typedef struct bench_buffers {
    nncl_buffer *a, *b, *c;
} bench_buffers;

static nncl_status bench_alloc(nncl_device *dev, const shape_set *ss, bench_buffers *bb)
{
    size_t most = 0;
    for (int i = 0; i < ss->n; i++) {
        const tune_shape *t = &ss->s[i];
        size_t s[3] = {t->m * t->k, t->k * t->n, t->m * t->n};
        for (int j = 0; j < 3; j++)
            most = s[j] > most ? s[j] : most;
    }
    float *x = malloc(most * 4);
    if (!x)
        return nncl_fail(NNCL_E_NOMEM, "out of memory for the tuning inputs");
    /* values in [-1, 1) with no pattern a cache could exploit; none denormal */
    for (size_t i = 0; i < most; i++)
        x[i] = (float)((i * 2654435761u) % 65536) / 32768.0f - 1.0f;
    nncl_status st = nncl_buffer_alloc(dev, most * 4, &bb->a);
    if (st == NNCL_OK)
        st = nncl_buffer_alloc(dev, most * 4, &bb->b);
    if (st == NNCL_OK)
        st = nncl_buffer_alloc(dev, most * 4, &bb->c);
    if (st == NNCL_OK)
        st = nncl_buffer_write(bb->a, 0, x, most * 4);
    if (st == NNCL_OK)
        st = nncl_buffer_write(bb->b, 0, x, most * 4);
    free(x);
    return st;
}

static void bench_free(bench_buffers *bb)
{
    nncl_buffer_free(bb->a);
    nncl_buffer_free(bb->b);
    nncl_buffer_free(bb->c);
}

/* One product of a shape with b's kernels, waited for (nncl_tune_time_calls). */
typedef struct gemm_call {
    nncl_device *dev;
    const built *b;
    nncl_gemm_args g;
} gemm_call;

static nncl_status run_gemm(void *arg)
{
    const gemm_call *c = arg;
    cl_int err = launch(c->dev, c->b, &c->g);
    if (err == CL_SUCCESS)
        err = clFinish(nncl_cl_of(c->dev)->queue);
    return err == CL_SUCCESS ? NNCL_OK : nncl_cl_fail(err, "timing a GEMM candidate", form_name(c->b, &c->g));
}

static nncl_status time_shape(nncl_device *dev, const built *b, const bench_buffers *bb, const tune_shape *s,
                              double min_time, double *seconds)
{
    gemm_call c = {dev, b,
                   {.trans_a = s->ta, .trans_b = s->tb, .m = s->m, .n = s->n, .k = s->k, .alpha = 1, .beta = 0,
                    .a = nncl_view_of(bb->a, 0), .lda = s->ta ? s->m : s->k, .b = nncl_view_of(bb->b, 0),
                    .ldb = s->tb ? s->k : s->n, .c = nncl_view_of(bb->c, 0), .ldc = s->n}};
    return nncl_tune_time_calls(run_gemm, &c, min_time, seconds);
}

/* Rounds over every shape and every checked entry, the order of the entries
 * rotated each round so that none always runs first after a shape change;
 * each (entry, shape) keeps its best time. */
static nncl_status time_rounds(nncl_device *dev, built *bs, int nb, const shape_set *ss, const bench_buffers *bb,
                               int rounds, double min_time, nncl_tune_progress_fn progress, void *ctx, int *done,
                               int total)
{
    for (int r = 0; r < rounds; r++) {
        if (progress) {
            char what[64];
            snprintf(what, sizeof what, "timing, round %d of %d", r + 1, rounds);
            progress(ctx, *done, total, what);
        }
        for (int s = 0; s < ss->n; s++)
            for (int j = 0; j < nb; j++) {
                built *b = &bs[(j + r) % nb];
                if (!b->ok || (s == NSHAPES && !b->c.p.use_local))
                    continue;
                double sec = 0;
                nncl_status st = time_shape(dev, b, bb, &ss->s[s], min_time, &sec);
                if (st != NNCL_OK)
                    return st;
                if (b->best[s] == 0 || sec < b->best[s])
                    b->best[s] = sec;
            }
        (*done)++;
    }
    return NNCL_OK;
}

static double gflops(const tune_shape *s, double sec) { return 2.0 * (double)s->m * (double)s->n * (double)s->k / sec * 1e-9; }

/* Geometric mean GFLOP/s over the shapes of one form: dot (NT) or the
 * others (NN, TN), or all (form < 0). */
/* Whether b's parameters run shape s with the dot form (gemm_nt): NT
 * products too small to pack (gemm.c). */
static bool runs_dot(const built *b, const tune_shape *s)
{
    nncl_gemm_args g = {.trans_a = s->ta, .trans_b = s->tb, .m = s->m, .n = s->n, .k = s->k};
    return nncl_gemm_form(&b->c.p, &g) == NNCL_GEMM_NT;
}

static double score(const built *b, int form)
{
    double sum = 0;
    int n = 0;
    for (int s = 0; s < NSHAPES; s++) {
        bool dot = runs_dot(b, &shapes[s]);
        if (form >= 0 && dot != (form == 1))
            continue;
        sum += log(gflops(&shapes[s], b->best[s]));
        n++;
    }
    return n ? exp(sum / n) : 0;
}

/* ---- the search ------------------------------------------------------------------------ */

_Static_assert(NNCL_TUNE_MAX_CANDIDATES + 2 <= NNCL_TUNE_MAX_TRIED, "the report keeps every candidate built");

/* What the search built, checked and timed, for the report: each entry's
 * seconds and GFLOP/s on each shape, and the sums. */
static void report_built(nncl_tune_report *rep, const built *bs, int nb, const shape_set *ss)
{
    rep->gemm.built = nb;
    rep->n_tried = 0;
    for (int i = 0; i < nb && rep->n_tried < NNCL_TUNE_MAX_TRIED; i++) {
        const built *b = &bs[i];
        nncl_tune_tried *t = &rep->tried[rep->n_tried++];
        nncl_gemm_params_describe(&b->c.p, t->params, sizeof t->params);
        t->build_seconds = b->build_s;
        t->check_seconds = b->check_s;
        t->registers = b->registers;
        t->spill_bytes = b->spill_bytes;
        t->private_bytes = b->private_bytes;
        t->max_work_group = b->max_work_group;
        t->ok = b->ok;
        snprintf(t->why, sizeof t->why, "%s", b->ok ? "" : b->why);
        for (int s = 0; s < ss->n; s++)
            t->gflops[s] = b->ok && b->best[s] > 0 ? gflops(&ss->s[s], b->best[s]) : 0;
        rep->gemm.build_seconds += b->build_s;
        rep->gemm.check_seconds += b->check_s;
    }
}

static void note_rejection(nncl_tune_report *rep, const nncl_gemm_params *p, const char *why)
{
    char d[256];
    nncl_gemm_params_describe(p, d, sizeof d);
    nncl_tune_note_rejection(rep, d, why);
}

/* A large-products set must beat the one that serves every product by this
 * much at the large square to be worth a program of its own. */
#define LARGE_MARGIN 0.97

/* Whether b may be the device's set, which is built into the program of
 * every kernel: not with a register cap (RC), which would cap them all; a
 * set with one may serve the large products, from a program of its own. */
static bool serves_all(const built *b) { return b->c.p.rc == 0; }

/* The entry of bs[0..nb) (checked, real) whose parameters are p, or -1. */
static int find_built(const built *bs, int nb, const nncl_gemm_params *p)
{
    for (int i = 0; i < nb; i++)
        if (bs[i].ok && !bs[i].c.extra && nncl_gemm_params_equal(&bs[i].c.p, p))
            return i;
    return -1;
}

/* The checked local-memory entry fastest at the large square, or -1. */
static int fastest_large(const built *bs, int nb)
{
    int best = -1;
    for (int i = 0; i < nb; i++)
        if (bs[i].ok && !bs[i].c.extra && bs[i].c.p.use_local && bs[i].best[NSHAPES] > 0 &&
            (best < 0 || bs[i].best[NSHAPES] < bs[best].best[NSHAPES]))
            best = i;
    return best;
}

/* The search's candidates for nncl_tune_build_in_batches: all[k] built
 * into bs[k] (the batches fill bs in order), progress said, rejections
 * noted. */
typedef struct search_builds {
    nncl_device *dev;
    const char *src;
    size_t len;
    const nncl_gemm_candidate *all;
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
        snprintf(what, sizeof what, "building %d candidate%s", m, m == 1 ? "" : "s");
        s->progress(s->ctx, *s->done, s->total, what);
    }
    for (int j = 0; j < m; j++)
        s->bs[first + j].c = s->all[first + j];
    return build_all(s->dev, s->src, s->len, &s->bs[first], m);
}

static nncl_status search_check(void *arg, int k, nncl_status st)
{
    search_builds *s = arg;
    built *b = &s->bs[k];
    if (st != NNCL_OK) {
        built_release(b);
        return st;
    }
    if (s->progress) {
        char d[256], what[300];
        nncl_gemm_params_describe(&b->c.p, d, sizeof d);
        snprintf(what, sizeof what, "checking %s", d);
        s->progress(s->ctx, *s->done, s->total, what);
    }
    st = check_built(s->dev, b);
    if (st == NNCL_OK && !b->ok) {
        s->rep->rejected++;
        note_rejection(s->rep, &b->c.p, b->why);
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

nncl_status nncl_gemm_tune_search(nncl_device *dev, const nncl_gemm_candidate *cands, int n,
                                  const nncl_gemm_large *old_large, nncl_tune_mode mode, double budget_s,
                                  nncl_tune_progress_fn progress, void *ctx, nncl_gemm_params *winner,
                                  nncl_gemm_large *large_winner, nncl_tune_report *rep)
{
    if (n < 1 || n > NNCL_TUNE_MAX_CANDIDATES)
        return nncl_fail(NNCL_E_INVALID, "tuning: %d candidates (1 to %d)", n, NNCL_TUNE_MAX_CANDIDATES);
    double t0 = nncl_seconds_now();
    memset(rep, 0, sizeof *rep);
    *large_winner = (nncl_gemm_large){0};
    char *src;
    size_t len;
    nncl_status st = nncl_gemm_source(&src, &len);
    if (st != NNCL_OK)
        return st;
    /* The old large-products set, if any, is a candidate too, second (so
     * that the budget never drops it; moved there if it is in the list
     * already). +1: the combination of the best row form and the best dot
     * form. */
    nncl_gemm_candidate *all = calloc((size_t)n + 1, sizeof *all);
    built *bs = calloc((size_t)n + 2, sizeof *bs);
    bench_buffers bb = {0};
    if (!bs || !all) {
        free(src), free(bs), free(all);
        return nncl_fail(NNCL_E_NOMEM, "out of memory tuning");
    }
    int na = 0;
    all[na++] = cands[0];
    bool had_large = old_large && old_large->min_mnk;
    int moved = -1; /* the candidate that is the old large set, moved up */
    if (had_large && !(!cands[0].extra && nncl_gemm_params_equal(&cands[0].p, &old_large->p))) {
        for (int i = 1; i < n && moved < 0; i++)
            if (!cands[i].extra && nncl_gemm_params_equal(&cands[i].p, &old_large->p))
                moved = i;
        all[na++] = (nncl_gemm_candidate){old_large->p, NULL};
    }
    for (int i = 1; i < n; i++)
        if (i != moved)
            all[na++] = cands[i];
    rep->candidates = na;
    rep->gemm.considered = na;
    rep->gemm.build_budget = budget_s;
    shape_set ss;
    shape_set_for(all, na, &ss);
    bool large = ss.n > NSHAPES;
    int rounds = mode == NNCL_TUNE_FULL ? 3 : 2;
    double min_time = mode == NNCL_TUNE_FULL ? 0.1 : 0.03;
    int total = na + 2 * rounds + 1, done = 0, nb = 0;

    /* Build and check, while the budget lasts (the old sets always), in
     * batches where building is what takes the time (tune_run.h). */
    search_builds sb = {dev, src, len, all, bs, rep, progress, ctx, &done, total};
    nncl_tune_builder builder = {&sb, search_build, search_check, search_seconds};
    nb = nncl_tune_build_in_batches(na, budget_s, t0, &rep->gemm, &builder, &st);
    /* The old set (bs[0]) failing its check is no reason to keep it: a
     * compiler may mishandle a set that its capabilities suggested. The
     * search goes on among the sets that pass, and fails only when none
     * does. */
    int best = -1;
    for (int i = 0; i < nb && best < 0; i++)
        if (bs[i].ok && serves_all(&bs[i]))
            best = i;
    if (st == NNCL_OK && nb > 0 && !bs[0].ok)
        rep->current_wrong = true;
    if (st == NNCL_OK && best < 0)
        st = nncl_fail(NNCL_E_DEVICE, "tuning %s: no GEMM parameters pass their check, the current ones included: %s",
                       dev->info.name, rep->rejections);
    if (st == NNCL_OK)
        st = bench_alloc(dev, &ss, &bb);
    done = na;
    if (st == NNCL_OK)
        st = time_rounds(dev, bs, nb, &ss, &bb, rounds, min_time, progress, ctx, &done, total);

    /* The winner: on the register path the row form (NN, TN, and what is
     * packed) and the dot form (NT products too small to pack) are separate
     * kernels that share only VW, so the best of each among sets of the
     * winner's VW combine, when some shape runs the dot form; on the local
     * path one set. */
    for (int i = 0; i < nb && st == NNCL_OK; i++)
        if (bs[i].ok && serves_all(&bs[i]) && score(&bs[i], -1) > score(&bs[best], -1))
            best = i;
    nncl_gemm_params pick = bs[best < 0 ? 0 : best].c.p;
    if (st == NNCL_OK && !pick.use_local) {
        int row = best, dot = -1;
        for (int i = 0; i < nb; i++)
            if (bs[i].ok && serves_all(&bs[i]) && !bs[i].c.p.use_local && !bs[i].c.extra &&
                score(&bs[i], 0) > score(&bs[row], 0))
                row = i;
        for (int i = 0; i < nb; i++)
            if (bs[i].ok && serves_all(&bs[i]) && !bs[i].c.p.use_local && !bs[i].c.extra &&
                bs[i].c.p.vw == bs[row].c.p.vw &&
                score(&bs[i], 1) > 0 && (dot < 0 || score(&bs[i], 1) > score(&bs[dot], 1)))
                dot = i;
        pick = bs[row].c.p;
        if (dot >= 0) {
            pick.dm = bs[dot].c.p.dm;
            pick.dn = bs[dot].c.p.dn;
        }
    }
    /* The final round: the old set against the pick, both timed afresh and
     * interleaved; the pick (checked first if it is a new combination) must
     * beat the old set there to replace it (an old set that failed its
     * check is replaced whatever its speed). */
    int pi = -1;
    if (st == NNCL_OK)
        pi = find_built(bs, nb, &pick);
    if (st == NNCL_OK && pi < 0) {
        if (progress)
            progress(ctx, done, total, "checking the combination of the best forms");
        built *b = &bs[nb++]; /* kept for the report even if it fails */
        b->c = (nncl_gemm_candidate){pick, NULL};
        char why[512] = "";
        st = prepare(dev, src, len, b, why, sizeof why);
        rep->gemm.build_wall_seconds += b->build_s;
        if (st == NNCL_OK && b->ok)
            pi = nb - 1;
        else if (st == NNCL_OK) {
            rep->rejected++;
            note_rejection(rep, &pick, why);
            pi = best;
        }
    }
    done = na + rounds + 1;
    if (st == NNCL_OK) {
        /* The old set, the pick, on the register path the pick with NT
         * products the other way (PK: packed or the dot form; the same
         * program, so nothing to build or check again), and for the large
         * square the fastest there and the old large set. */
        int base = bs[0].ok ? 0 : pi; /* an old set that failed its check is not timed */
        built final[5];
        int nf = 0, fl = -1, fo = -1;
        final[nf++] = bs[base];
        if (pi != base)
            final[nf++] = bs[pi];
        if (!bs[pi].c.p.use_local) {
            final[nf] = bs[pi];
            final[nf].c.p.pk = !final[nf].c.p.pk;
            nf++;
        }
        int lb = large ? fastest_large(bs, nb) : -1;
        int ob = had_large ? find_built(bs, nb, &old_large->p) : -1;
        if (lb >= 0 && lb != base && lb != pi)
            fl = nf, final[nf++] = bs[lb];
        else if (lb >= 0)
            fl = lb == base ? 0 : (pi != base ? 1 : 0);
        if (ob >= 0 && ob != base && ob != pi && ob != lb)
            fo = nf, final[nf++] = bs[ob];
        else if (ob >= 0)
            fo = ob == base ? 0 : ob == pi ? (pi != base ? 1 : 0) : fl;
        for (int i = 0; i < nf; i++)
            memset(final[i].best, 0, sizeof final[i].best);
        st = time_rounds(dev, final, nf, &ss, &bb, rounds, min_time, progress, ctx, &done, total);
        /* the combination was timed only here: its speeds for the report */
        if (pi >= 0 && bs[pi].best[0] == 0)
            for (int i = 0; i < nf; i++)
                if (nncl_gemm_params_equal(&final[i].c.p, &bs[pi].c.p))
                    memcpy(bs[pi].best, final[i].best, sizeof bs[pi].best);
        /* the pick and its PK twin are final[1..], or final[0] alone */
        int first = nf > 1 && pi != base ? 1 : 0, bi = first;
        int last = bs[pi].c.p.use_local ? first : first + 1;
        for (int i = first + 1; i <= last; i++)
            if (score(&final[i], -1) > score(&final[bi], -1))
                bi = i;
        bool better = bi != 0 && score(&final[bi], -1) > score(&final[0], -1);
        const built *won = better ? &final[bi] : &final[0];
        *winner = won->c.p;
        /* The large products' set: the fastest at the large square of the
         * old large set, the fastest there in the rounds and the winner,
         * kept only if it beats the winner there by the margin. */
        const built *lw = won;
        for (int i = 0; i < nf && large && won->c.p.use_local; i++) {
            bool cand = i == fl || i == fo;
            if (cand && final[i].best[NSHAPES] > 0 && final[i].best[NSHAPES] < lw->best[NSHAPES])
                lw = &final[i];
        }
        size_t kc;
        nncl_gemm_args square = {.m = ss.s[NSHAPES].m, .n = ss.s[NSHAPES].n, .k = ss.s[NSHAPES].k};
        if (lw != won && !nncl_gemm_params_equal(&lw->c.p, &won->c.p) &&
            lw->best[NSHAPES] < LARGE_MARGIN * won->best[NSHAPES] &&
            /* as it would run: never cut into K slices */
            nncl_gemm_slices(dev, &lw->c.p, &square, &kc) == 1) {
            size_t side = ss.s[NSHAPES].m;
            *large_winner = (nncl_gemm_large){(uint64_t)side * side * side / 2, lw->c.p};
        } else {
            lw = won;
        }
        nncl_gemm_params_describe(&bs[0].c.p, rep->old_params, sizeof rep->old_params);
        nncl_gemm_params_describe(winner, rep->new_params, sizeof rep->new_params);
        if (had_large) {
            nncl_gemm_params_describe(&old_large->p, rep->old_large, sizeof rep->old_large);
            rep->old_large_mnk = old_large->min_mnk;
        }
        if (large_winner->min_mnk) {
            nncl_gemm_params_describe(&large_winner->p, rep->new_large, sizeof rep->new_large);
            rep->new_large_mnk = large_winner->min_mnk;
        }
        rep->n_shapes = ss.n;
        for (int s = 0; s < ss.n; s++) {
            nncl_tune_shape *o = &rep->shapes[s];
            const tune_shape *t = &ss.s[s];
            /* at the large square: what ran it before (the old large set
             * where there was one) and what runs it now */
            bool by_old_large = s == NSHAPES && had_large;
            const built *was = by_old_large && fo >= 0 ? &final[fo] : &final[0];
            const built *now = s == NSHAPES ? lw : won;
            bool was_ok = by_old_large ? fo >= 0 : bs[0].ok;
            snprintf(o->what, sizeof o->what, "%s", t->what);
            o->m = t->m, o->n = t->n, o->k = t->k, o->ta = t->ta, o->tb = t->tb, o->training = t->training;
            /* 0: failed its check (or was not built), or not timed there */
            o->old_gflops = was_ok && was->best[s] > 0 ? gflops(t, was->best[s]) : 0;
            o->new_gflops = now->best[s] > 0 ? gflops(t, now->best[s]) : 0;
        }
    }
    for (int i = 0; i < nb; i++)
        if (bs[i].ok)
            rep->timed++;
    report_built(rep, bs, nb, &ss);
    for (int i = 0; i < nb; i++)
        built_release(&bs[i]);
    bench_free(&bb);
    free(bs);
    free(all);
    free(src);
    rep->seconds = nncl_seconds_now() - t0;
    rep->gemm.seconds = rep->seconds;
    if (progress && st == NNCL_OK)
        progress(ctx, total, total, "done");
    return st;
}

nncl_status nncl_gemm_tune_device(nncl_device *dev, nncl_tune_mode mode, const nncl_gemm_params *old,
                                  const nncl_gemm_large *old_large, double budget_s, nncl_tune_progress_fn progress,
                                  void *ctx, nncl_gemm_params *winner, nncl_gemm_large *large_winner,
                                  nncl_tune_report *rep)
{
    /* The old set first, then the table's, without repeats. */
    nncl_gemm_candidate cands[NNCL_TUNE_MAX_CANDIDATES];
    cands[0] = (nncl_gemm_candidate){*old, NULL};
    nncl_gemm_candidate table[NNCL_TUNE_MAX_CANDIDATES];
    int nt = nncl_gemm_candidates(&dev->info, mode, table, NNCL_TUNE_MAX_CANDIDATES);
    int n = 1;
    for (int i = 0; i < nt && n < NNCL_TUNE_MAX_CANDIDATES; i++) {
        bool dup = false;
        for (int j = 0; j < n; j++)
            dup = dup || nncl_gemm_params_equal(&table[i].p, &cands[j].p);
        if (!dup)
            cands[n++] = table[i];
    }
    return nncl_gemm_tune_search(dev, cands, n, old_large, mode, budget_s, progress, ctx, winner, large_winner,
                                 rep);
}
