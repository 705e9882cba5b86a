/* Per-device kernel parameters, passed to the compiler as -D defines. The
 * kernels carry defaults (#ifndef); this file decides what a device gets:
 * a tuning cache entry when there is one (src/ops/gemm_tune_cache.c;
 * searched by src/ops/tune_run.c: the GEMM's tuner, then the fused ops'),
 * else the capability tables (the GEMM's below, the fused ops' in
 * fused_params.c). The
 * OpenCL device keeps them as an opaque nncl_op_params (device/op_params.h):
 * they belong to the ops that use them.
 *
 * The table decides on capabilities, never on vendor names: a device whose
 * local memory is ordinary memory (CPUs: PoCL, Intel's CPU runtime) gets
 * register blocks over vectors of its native width, since values held
 * across barriers are spilled there; a device with on-chip local memory
 * (GPUs) gets local-memory tiles sized to its local memory and work-group
 * limit. The register blocks are sized to the register file the native
 * width implies: AVX-512 (16 floats) has 32 vector registers, AVX2 and
 * 128-bit SIMD have 16, and a 12x32 block of float16 accumulators (24
 * registers) spills on the latter. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device/notice.h"
#include "device/opencl_impl.h"
#include "ops/gemm_cl.h"
#include "ops/gemm_impl.h"
#include "ops/gemm_tune_cache.h"
#include "ops/kernel_consts.h"
#include "ops/kernel_params.h"
#include "ops/tune_run.h"
#include "util/clock.h"

struct nncl_op_params {
    nncl_gemm_params gemm;      /* the GEMM kernel's shape on this device */
    nncl_fused_params fused;    /* the byte-input kernels' shape, the optimiser's width */
    cl_mem gemm_panels;         /* packed B for large GEMMs (gemm.c), grown on demand */
    size_t gemm_panel_bytes;
    nncl_gemm_large large;      /* the large products' set (min_mnk 0: none) */
    cl_program large_prog;      /* its program, built on first use */
    nncl_gemm_kernels large_ks;
    bool large_refused;         /* its build failed: the device's set serves */
};

/* The first row a device satisfies gives its parameters. */
typedef struct capability_row {
    bool dedicated_local;       /* needs on-chip local memory */
    unsigned min_native_float;  /* native float vector width at least this */
    nncl_gemm_params p;         /* (the local path's tiles must also fit: nncl_gemm_params_check) */
} capability_row;

#define REG(VW, TM, TNV, DM, DN)                                                                                \
    {.use_local = 0, .vw = VW, .tm = TM, .tnv = TNV, .dm = DM, .dn = DN, .lx = 1, .ly = 4, .tsm = 64, .tsn = 64, \
     .tsk = 16, .wptm = 4, .wptn = 4, .pk = 1}
#define LOC(TSM, TSN, TSK, WPTM, WPTN)                                                                      \
    {.use_local = 1, .vw = 16, .tm = 12, .tnv = 2, .dm = 5, .dn = 5, .lx = 1, .ly = 4, .tsm = TSM, .tsn = TSN, \
     .tsk = TSK, .wptm = WPTM, .wptn = WPTN, .pk = 1, .lvw = 1, .pf = 0, .gvw = 4}

static const capability_row capability_table[] = {
    /* GPUs: 64x64 tiles, 16x16 work-items of 4x4 outputs (CLBlast's shape),
     * else smaller tiles for small work-groups or local memories; tiles
     * inside the matrices loaded as float4 (GVW: one load instruction for
     * four floats; it also puts that path under Oclgrind on every CI run) */
    {true, 0, LOC(64, 64, 16, 4, 4)},
    {true, 0, LOC(32, 32, 16, 4, 4)},
    {true, 0, LOC(16, 16, 8, 4, 4)},
    /* 16-float vectors, 32 registers (AVX-512): 12 rows x 2 vectors = 24
     * accumulators; NT: 5x5 (measured in tools/gemmlab/REPORT.md) */
    {false, 16, REG(16, 12, 2, 5, 5)},
    /* 8-float vectors, 16 registers (AVX2): 6 rows x 16 columns = 12
     * accumulators + 2 B vectors + 1 broadcast (OpenBLAS's Haswell block),
     * written as float16 (a pair of registers each): PoCL 3.1 ran that
     * 1.2-2x faster on the AVX2 EPYC than the same block as 2 x float8;
     * NT (small products): 2x2 float16 accumulators + 2 B vectors */
    {false, 8, REG(16, 6, 1, 2, 2)},
    /* 4-float vectors (SSE, NEON), 16 registers */
    {false, 0, REG(4, 6, 2, 4, 3)},
};
#undef REG
#undef LOC

void nncl_gemm_params_for(const nncl_device_info *info, nncl_gemm_params *p)
{
    size_t n = sizeof capability_table / sizeof capability_table[0];
    for (size_t i = 0; i < n; i++) {
        const capability_row *r = &capability_table[i];
        if (r->dedicated_local != info->local_mem_dedicated || info->native_vector_float < r->min_native_float)
            continue;
        if (nncl_gemm_params_check(&r->p, info->max_work_group_size ? info->max_work_group_size : 1,
                                   info->local_mem_bytes) != NNCL_OK) {
            nncl_clear_error();
            continue;
        }
        *p = r->p;
        return;
    }
    *p = capability_table[n - 1].p; /* the smallest register block runs anywhere */
}

/* NNCL_U8_PARAMS="VW=8 DM=2 DN=5 TM=5" (those four, in that order): an
 * override for tests and experiments; anything else is refused with a
 * warning and the device's own shape kept. */
static void u8_override(nncl_u8_params *p)
{
    const char *v = getenv("NNCL_U8_PARAMS");
    if (!v || !*v)
        return;
    nncl_u8_params q = {0};
    int end = 0;
    bool ok = sscanf(v, " VW=%d DM=%d DN=%d TM=%d %n", &q.vw, &q.dm, &q.dn, &q.tm, &end) == 4 && !v[end] &&
              (q.vw == 4 || q.vw == 8 || q.vw == 16);
    for (int k = 0, f[] = {q.dm, q.dn, q.tm}; ok && k < 3; k++)
        ok = f[k] >= 1 && f[k] <= 16;
    if (!ok) {
        nncl_notice(NNCL_NOTICE_WARNING,
                    "NNCL_U8_PARAMS='%s' is not \"VW=4|8|16 DM=n DN=n TM=n\" (n from 1 to 16); ignored", v);
        return;
    }
    *p = q;
}

void nncl_u8_params_override(nncl_device *dev) { u8_override(&nncl_cl_of(dev)->op_params->fused.u8); }

nncl_status nncl_op_params_create(const nncl_device_info *info, nncl_op_params **out)
{
    *out = calloc(1, sizeof **out);
    if (!*out)
        return nncl_fail(NNCL_E_NOMEM, "out of memory");
    nncl_gemm_params_for(info, &(*out)->gemm);
    nncl_fused_params_for(info, &(*out)->fused);
    u8_override(&(*out)->fused.u8);
    return NNCL_OK;
}

void nncl_op_params_free(nncl_op_params *p)
{
    if (p && p->gemm_panels)
        clReleaseMemObject(p->gemm_panels);
    if (p)
        nncl_gemm_program_release(&p->large_prog, &p->large_ks);
    free(p);
}

/* Growing releases the old buffer at once: the queue is in order and
 * OpenCL keeps a buffer alive until the commands using it have run. */
cl_int nncl_gemm_panels(nncl_device *dev, size_t bytes, cl_mem *out)
{
    nncl_cl_device *cl = nncl_cl_of(dev);
    nncl_op_params *p = cl->op_params;
    if (p->gemm_panel_bytes < bytes) {
        if (p->gemm_panels)
            clReleaseMemObject(p->gemm_panels);
        p->gemm_panels = NULL;
        p->gemm_panel_bytes = 0;
        cl_int err;
        cl_mem m = clCreateBuffer(cl->context, CL_MEM_READ_WRITE, bytes, NULL, &err);
        if (err != CL_SUCCESS)
            return err;
        p->gemm_panels = m;
        p->gemm_panel_bytes = bytes;
    }
    *out = p->gemm_panels;
    return CL_SUCCESS;
}

const nncl_gemm_params *nncl_gemm_params_on(const nncl_device *dev)
{
    return &((const nncl_cl_device *)dev->impl)->op_params->gemm;
}

void nncl_gemm_params_set(nncl_device *dev, const nncl_gemm_params *p)
{
    nncl_cl_of(dev)->op_params->gemm = *p;
}

void nncl_gemm_large_set(nncl_device *dev, const nncl_gemm_large *l)
{
    nncl_op_params *p = nncl_cl_of(dev)->op_params;
    nncl_gemm_program_release(&p->large_prog, &p->large_ks);
    p->large = *l;
    p->large_refused = false;
}

bool nncl_gemm_is_large(const nncl_device *dev, const nncl_gemm_args *g)
{
    const nncl_op_params *p = ((const nncl_cl_device *)dev->impl)->op_params;
    size_t kc;
    return p->large.min_mnk && !p->large_refused &&
           (double)g->m * (double)g->n * (double)g->k >= (double)p->large.min_mnk &&
           nncl_gemm_slices(dev, &p->large.p, g, &kc) == 1;
}

uint64_t nncl_gemm_large_from(const nncl_device *dev)
{
    if (dev->info.backend != NNCL_BACKEND_OPENCL)
        return 0;
    const nncl_op_params *p = ((const nncl_cl_device *)dev->impl)->op_params;
    return p->large_refused ? 0 : p->large.min_mnk;
}

/* The large set's program, built the first time a product asks for it (a
 * GEMM program alone: about as long as one tuning candidate's build). Had
 * the tuner's check not passed it, it would not be in the cache; should
 * the compiler refuse it now all the same, a warning, and the device's own
 * set serves. */
nncl_status nncl_gemm_set_for(nncl_device *dev, const nncl_gemm_args *g, const nncl_gemm_params **params,
                              const nncl_gemm_kernels **ks)
{
    nncl_op_params *p = nncl_cl_of(dev)->op_params;
    *params = &p->gemm;
    *ks = NULL;
    if (!nncl_gemm_is_large(dev, g))
        return NNCL_OK;
    if (!p->large_prog) {
        char *src, why[512] = "";
        size_t len;
        bool ok = false;
        nncl_status st = nncl_gemm_source(&src, &len);
        if (st != NNCL_OK)
            return st;
        st = nncl_gemm_program_build(dev, src, len, &p->large.p, NULL, &p->large_prog, &p->large_ks, &ok, why,
                                     sizeof why);
        free(src);
        if (st != NNCL_OK)
            return st;
        if (!ok) {
            char d[256];
            nncl_gemm_params_describe(&p->large.p, d, sizeof d);
            nncl_notice(NNCL_NOTICE_WARNING, "%s: the large products' GEMM set %s %s; using the device's set",
                        dev->info.name, d, why);
            p->large_refused = true;
            return NNCL_OK;
        }
    }
    *params = &p->large.p;
    *ks = &p->large_ks;
    return NNCL_OK;
}

const nncl_u8_params *nncl_u8_params_on(const nncl_device *dev)
{
    return &((const nncl_cl_device *)dev->impl)->op_params->fused.u8;
}

const nncl_optim_params *nncl_optim_params_on(const nncl_device *dev)
{
    return &((const nncl_cl_device *)dev->impl)->op_params->fused.optim;
}

const nncl_fused_params *nncl_fused_params_on(const nncl_device *dev)
{
    return &((const nncl_cl_device *)dev->impl)->op_params->fused;
}

void nncl_fused_params_set(nncl_device *dev, const nncl_fused_params *p)
{
    nncl_cl_of(dev)->op_params->fused = *p;
}

void nncl_kernel_options(const nncl_gemm_params *gemm, const nncl_fused_params *fused, char *out, size_t len)
{
    char g[384];
    nncl_gemm_params_defines(gemm, g, sizeof g);
    snprintf(out, len,
             "%s -DU8_VW=%d -DU8_DM=%d -DU8_DN=%d -DU8_TM=%d -DOPTIM_VW=%d -DU8H_BLOCK=%d -DHEAD_MAX=%d "
             "-DCOLSUM_TILE=%d -DREDUCE_GROUP_MAX=%d",
             g, fused->u8.vw, fused->u8.dm, fused->u8.dn, fused->u8.tm, fused->optim.vw, (int)NNCL_U8H_BLOCK,
             (int)NNCL_HEAD_MAX, (int)NNCL_COLSUM_TILE, (int)NNCL_REDUCE_GROUP_MAX);
}

nncl_tune_policy nncl_tune_policy_get(void)
{
    const char *v = getenv("NNCL_TUNE");
    if (!v || !*v || strcmp(v, "auto") == 0 || strcmp(v, "on") == 0 || strcmp(v, "1") == 0)
        return NNCL_TUNE_POLICY_AUTO;
    if (strcmp(v, "cached") == 0)
        return NNCL_TUNE_POLICY_CACHED;
    return NNCL_TUNE_POLICY_OFF; /* "off", "0", anything else: the safe choice */
}

void nncl_op_params_build_options(const nncl_device *dev, char *out, size_t len)
{
    const nncl_op_params *p = ((const nncl_cl_device *)dev->impl)->op_params;
    nncl_kernel_options(&p->gemm, &p->fused, out, len);
}

/* The refusal of a device whose kernels compute wrong results, why after
 * the colon. */
static nncl_status refuse(const nncl_device *dev, const char *since, const char *why)
{
    int i = dev->info.index;
    return nncl_fail(NNCL_E_DEVICE,
                     "%s computes wrong results with its kernels here%s, so nncl will not train on it (`nncl check "
                     "--device %d` says which ops, `nncl tune --device %d` searches again, `--device host` trains "
                     "correctly): %s",
                     dev->info.name, since, i, i, why);
}

nncl_status nncl_op_params_resolve(nncl_device *dev, bool checking)
{
    nncl_tuned_params table = {0};
    nncl_gemm_params_for(&dev->info, &table.gemm);
    nncl_fused_params_for(&dev->info, &table.fused);
    nncl_tuned_params_apply(dev, &table);
    nncl_tune_policy policy = nncl_tune_policy_get();
    if (policy == NNCL_TUNE_POLICY_OFF)
        return NNCL_OK;
    nncl_tuning_info ti;
    nncl_tuned_params cached;
    nncl_status st = nncl_tune_cache_load(&dev->info, &cached, &ti);
    if (st != NNCL_OK) {
        nncl_clear_error();
        return NNCL_OK;
    }
    if (ti.state == NNCL_TUNING_TUNED) {
        nncl_tuned_params_apply(dev, &cached);
        return NNCL_OK;
    }
    if (ti.state == NNCL_TUNING_WRONG && !checking) {
        char since[80];
        snprintf(since, sizeof since, " (its search of %s found)", ti.when);
        return refuse(dev, since, ti.note);
    }
    if (ti.state == NNCL_TUNING_CORRUPT)
        nncl_notice(NNCL_NOTICE_WARNING, "%s; using the defaults", ti.note);
    if (checking || policy != NNCL_TUNE_POLICY_AUTO || !ti.path[0] || ti.state == NNCL_TUNING_WRONG)
        return NNCL_OK;
    nncl_notice(NNCL_NOTICE_INFO,
                "tuning %s, about 20 s, once (NNCL_TUNE=off skips it; `nncl tune --full` searches more)",
                dev->info.name);
    nncl_tune_report rep = {0};
    double t0 = nncl_seconds_now();
    st = nncl_tune_device_run(dev, NNCL_TUNE_QUICK, NULL, NULL, &rep);
    dev->startup.tuning_seconds += nncl_seconds_now() - t0;
    if (st != NNCL_OK && rep.current_wrong) {
        /* What it would run is what failed: training would go wrong
         * silently. (The search kept the entry that says so.) */
        char why[1024];
        snprintf(why, sizeof why, "%s", nncl_last_error());
        return refuse(dev, "", why);
    }
    if (st != NNCL_OK) {
        /* the search left the device with sets that passed their check,
         * or the table's where it did not get that far */
        nncl_notice(NNCL_NOTICE_WARNING, "tuning %s failed, using %s: %s", dev->info.name,
                    rep.new_params[0] ? "the GEMM parameters it found and the fused ops' defaults" : "the defaults",
                    nncl_last_error());
        nncl_clear_error();
        return NNCL_OK;
    }
    nncl_notice(NNCL_NOTICE_INFO, "tuned %s in %.0f s: %s %s", dev->info.name, rep.seconds, rep.new_params,
                rep.new_fused);
    return NNCL_OK;
}

nncl_status nncl_device_tune_as_found(nncl_device *dev)
{
    if (dev->info.backend != NNCL_BACKEND_OPENCL || nncl_cl_of(dev)->params_resolved)
        return NNCL_OK;
    nncl_status st = nncl_op_params_resolve(dev, true);
    if (st == NNCL_OK)
        nncl_cl_of(dev)->params_resolved = true;
    return st;
}
