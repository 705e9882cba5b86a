/* The tuners and their cache (src/ops/gemm_tuner.c, fused_tuner.c,
 * gemm_tune_cache.c):
 *   - an entry round-trips, and is keyed: another driver version or kernel
 *     source hash is stale, another device misses;
 *   - a corrupt, truncated or nonsensical entry is ignored (the capability
 *     table applies) with a warning, never trusted nor crashed on;
 *   - a writer killed mid-write leaves its temporary file, not a half entry;
 *   - NNCL_TUNE=cached uses an entry, NNCL_TUNE=off ignores it;
 *   - every candidate the tuner can choose on the first OpenCL device passes
 *     the GEMM check against the host oracle (1, primes, tiles and a half);
 *   - a deliberately broken candidate is rejected by the check and never
 *     chosen by a search;
 *   - the same for the fused ops' candidates (the byte kernels' shapes, the
 *     optimiser's widths), checked against the host device; a search with
 *     a broken one keeps a good one, and its times are real;
 *   - the fused parameters' text form round-trips and refuses nonsense.
 * Each test runs in its own forked process (check's default), so setenv
 * stays within it. */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "device/kernels_embedded.h"
#include "device/opencl_impl.h"
#include "ops/gemm_cl.h"
#include "ops/gemm_tune_cache.h"
#include "ops/fused_tuner.h"
#include "ops/gemm_tuner.h"
#include "ops/kernel_params.h"
#include "ops/tune_run.h"
#include "util/clock.h"
#include "util/fnv1a.h"
#include "test_util.h"

/* A device description of our own: the cache never needs a device. */
static nncl_device_info fake_info(void)
{
    nncl_device_info d = {0};
    d.backend = NNCL_BACKEND_OPENCL;
    d.type = NNCL_DEVICE_CPU;
    snprintf(d.name, sizeof d.name, "test-device-avx512");
    snprintf(d.vendor, sizeof d.vendor, "nobody");
    snprintf(d.platform, sizeof d.platform, "Test Platform");
    snprintf(d.platform_version, sizeof d.platform_version, "OpenCL 1.2 test");
    snprintf(d.driver_version, sizeof d.driver_version, "1.0");
    d.max_work_group_size = 4096;
    d.local_mem_bytes = 1 << 20;
    d.native_vector_float = 16;
    return d;
}

/* A fresh cache folder for this test's process. PoCL keeps its compiled
 * kernels under XDG_CACHE_HOME too: they stay where they were. */
static void fresh_cache(void)
{
    const char *xdg = getenv("XDG_CACHE_HOME");
    if (xdg && *xdg && !getenv("POCL_CACHE_DIR")) {
        char pocl[4096];
        snprintf(pocl, sizeof pocl, "%s/pocl", xdg);
        setenv("POCL_CACHE_DIR", pocl, 1);
    }
    char dir[] = "/tmp/nncl-test-tune-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    setenv("XDG_CACHE_HOME", dir, 1);
}

static const nncl_gemm_params tuned_params = {.use_local = 0, .vw = 8, .tm = 6, .tnv = 2, .dm = 4, .dn = 3,
                                              .lx = 1, .ly = 8, .pk = 1, .tsm = 64, .tsn = 64, .tsk = 16, .wptm = 4,
                                              .wptn = 4};

/* A local-memory set (128x128 tiles of 8x8, vector reads and loads), for
 * the large products' line of an entry. */
static const nncl_gemm_params large_params = {.use_local = 1, .vw = 16, .tm = 12, .tnv = 2, .dm = 5, .dn = 5,
                                              .lx = 1, .ly = 4, .pk = 1, .tsm = 128, .tsn = 128, .tsk = 16,
                                              .wptm = 8, .wptn = 8, .lvw = 4, .pf = 1, .gvw = 4};

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    char *buf = malloc(65536);
    *len = fread(buf, 1, 65536, f);
    fclose(f);
    return buf;
}

static void spit(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    fclose(f);
}

/* A whole entry: the GEMM's set above, and fused ops' that are no table's. */
static nncl_tuned_params tuned(void)
{
    nncl_tuned_params t = {.gemm = tuned_params,
                           .fused = {.u8 = {.vw = 8, .dm = 3, .dn = 3, .tm = 7}, .optim = {.vw = 8}}};
    return t;
}

static nncl_tuning_state load_state(const nncl_device_info *d, uint64_t hash, nncl_tuned_params *p,
                                    nncl_tuning_info *ti)
{
    ck_assert_ok(nncl_tune_cache_load_hash(d, hash, p, ti));
    return ti->state;
}

START_TEST(cache_round_trip_and_key)
{
    fresh_cache();
    nncl_device_info d = fake_info();
    nncl_tuned_params p, want = tuned();
    nncl_tuning_info ti;
    ck_assert_int_eq(load_state(&d, 42, &p, &ti), NNCL_TUNING_DEFAULT);
    ck_assert_ok(nncl_tune_cache_store_hash(&d, 42, &want, "quick", NULL));
    ck_assert_int_eq(load_state(&d, 42, &p, &ti), NNCL_TUNING_TUNED);
    ck_assert(nncl_gemm_params_equal(&p.gemm, &tuned_params));
    ck_assert(nncl_fused_params_equal(&p.fused, &want.fused));
    ck_assert_str_eq(ti.mode, "quick");
    ck_assert(strstr(ti.params, "VW=8 TM=6") != NULL);
    ck_assert_str_eq(ti.fused_params, "U8_VW=8 U8_DM=3 U8_DN=3 U8_TM=7 OPTIM_VW=8");

    /* another kernel source */
    ck_assert_int_eq(load_state(&d, 43, &p, &ti), NNCL_TUNING_STALE);
    ck_assert_msg(strstr(ti.note, "kernel source") != NULL, "%s", ti.note);
    /* another driver version */
    nncl_device_info d2 = d;
    snprintf(d2.driver_version, sizeof d2.driver_version, "1.1");
    ck_assert_int_eq(load_state(&d2, 42, &p, &ti), NNCL_TUNING_STALE);
    ck_assert_msg(strstr(ti.note, "driver") != NULL, "%s", ti.note);
    /* another device: another file */
    nncl_device_info d3 = d;
    snprintf(d3.name, sizeof d3.name, "another-device");
    ck_assert_int_eq(load_state(&d3, 42, &p, &ti), NNCL_TUNING_DEFAULT);
    /* storing again for the new driver replaces the stale entry */
    ck_assert_ok(nncl_tune_cache_store_hash(&d2, 42, &want, "full", NULL));
    ck_assert_int_eq(load_state(&d2, 42, &p, &ti), NNCL_TUNING_TUNED);
    ck_assert_int_eq(load_state(&d, 42, &p, &ti), NNCL_TUNING_STALE);
    /* no large products' set: none read back */
    ck_assert_uint_eq(p.large.min_mnk, 0);
    ck_assert_str_eq(ti.large_params, "");
    /* with one: its own line, read back with where it starts */
    want.large = (nncl_gemm_large){1ULL << 32, large_params};
    ck_assert_ok(nncl_tune_cache_store_hash(&d, 42, &want, "quick", NULL));
    ck_assert_int_eq(load_state(&d, 42, &p, &ti), NNCL_TUNING_TUNED);
    ck_assert(nncl_gemm_params_equal(&p.gemm, &tuned_params));
    ck_assert(p.large.min_mnk == 1ULL << 32);
    ck_assert(nncl_gemm_params_equal(&p.large.p, &large_params));
    ck_assert_msg(strstr(ti.large_params, "TSM=128") && strstr(ti.large_params, "4294967296"), "%s",
                  ti.large_params);
}
END_TEST

/* Every way an entry can be damaged reads as CORRUPT with a note. */
START_TEST(cache_refuses_damage)
{
    fresh_cache();
    nncl_device_info d = fake_info();
    nncl_tuned_params p, want = tuned();
    nncl_tuning_info ti;
    ck_assert_ok(nncl_tune_cache_store_hash(&d, 7, &want, "quick", NULL));
    char path[4096];
    ck_assert(nncl_tune_cache_path(&d, path, sizeof path));
    size_t len;
    char *good = slurp(path, &len);
    char *bad = malloc(len + 1);

    /* a flipped digit in the parameters */
    memcpy(bad, good, len);
    char *vw = strstr(bad, "VW=8");
    ck_assert_ptr_nonnull(vw);
    vw[3] = '4';
    spit(path, bad, len);
    ck_assert_int_eq(load_state(&d, 7, &p, &ti), NNCL_TUNING_CORRUPT);
    ck_assert_msg(strstr(ti.note, "checksum") != NULL, "%s", ti.note);
    /* truncated at every length */
    for (size_t cut = 0; cut < len; cut += 7) {
        spit(path, good, cut);
        ck_assert_msg(load_state(&d, 7, &p, &ti) == NNCL_TUNING_CORRUPT, "cut at %zu: state %d", cut, ti.state);
    }
    /* bytes after the checksum */
    memcpy(bad, good, len);
    bad[len] = 'x';
    spit(path, bad, len + 1);
    ck_assert_int_eq(load_state(&d, 7, &p, &ti), NNCL_TUNING_CORRUPT);
    /* consistent checksums over lines no kernel can take or that are
     * missing: GEMM VW=3, U8_VW=5, OPTIM_VW=0, no fused line (an entry
     * from before the fused ops were tuned) */
    {
        static const struct {
            const char *gemm, *fused, *note, *large;
        } lines[] = {
            {"USE_LOCAL=0 VW=3 TM=6 TNV=2 DM=4 DN=3 LX=1 LY=8 PK=1 TSM=64 TSN=64 TSK=16 WPTM=4 WPTN=4 LVW=0 PF=0 GVW=0 KU=0 DB=0 RC=0 WL=0",
             "U8_VW=8 U8_DM=2 U8_DN=5 U8_TM=5 OPTIM_VW=16", "cannot run", NULL},
            {"USE_LOCAL=0 VW=8 TM=6 TNV=2 DM=4 DN=3 LX=1 LY=8 PK=1 TSM=64 TSN=64 TSK=16 WPTM=4 WPTN=4 LVW=0 PF=0 GVW=0 KU=0 DB=0 RC=0 WL=0",
             "U8_VW=5 U8_DM=2 U8_DN=5 U8_TM=5 OPTIM_VW=16", "fused-op", NULL},
            {"USE_LOCAL=0 VW=8 TM=6 TNV=2 DM=4 DN=3 LX=1 LY=8 PK=1 TSM=64 TSN=64 TSK=16 WPTM=4 WPTN=4 LVW=0 PF=0 GVW=0 KU=0 DB=0 RC=0 WL=0",
             "U8_VW=8 U8_DM=2 U8_DN=5 U8_TM=5 OPTIM_VW=0", "fused-op", NULL},
            {"USE_LOCAL=0 VW=8 TM=6 TNV=2 DM=4 DN=3 LX=1 LY=8 PK=1 TSM=64 TSN=64 TSK=16 WPTM=4 WPTN=4 LVW=0 PF=0 GVW=0 KU=0 DB=0 RC=0 WL=0", NULL,
             "fused-op", NULL},
            /* a large products' line without its m*n*k, with a set no
             * kernel takes (GVW=4 across TSK=2), with an unknown name, ... */
            {"USE_LOCAL=0 VW=8 TM=6 TNV=2 DM=4 DN=3 LX=1 LY=8 PK=1 TSM=64 TSN=64 TSK=16 WPTM=4 WPTN=4 LVW=0 PF=0 GVW=0 KU=0 DB=0 RC=0 WL=0",
             "U8_VW=8 U8_DM=2 U8_DN=5 U8_TM=5 OPTIM_VW=16", "large-products",
             "USE_LOCAL=1 VW=16 TM=12 TNV=2 DM=5 DN=5 LX=1 LY=4 PK=1 TSM=64 TSN=64 TSK=16 WPTM=4 WPTN=4 LVW=1 PF=0 GVW=4 KU=0 DB=0 RC=0 WL=0"},
            {"USE_LOCAL=0 VW=8 TM=6 TNV=2 DM=4 DN=3 LX=1 LY=8 PK=1 TSM=64 TSN=64 TSK=16 WPTM=4 WPTN=4 LVW=0 PF=0 GVW=0 KU=0 DB=0 RC=0 WL=0",
             "U8_VW=8 U8_DM=2 U8_DN=5 U8_TM=5 OPTIM_VW=16", "large-products",
             "4294967296 USE_LOCAL=1 VW=16 TM=12 TNV=2 DM=5 DN=5 LX=1 LY=4 PK=1 TSM=64 TSN=64 TSK=2 WPTM=4 WPTN=4 LVW=1 PF=0 GVW=4 KU=0 DB=0 RC=0 WL=0"},
            {"USE_LOCAL=0 VW=8 TM=6 TNV=2 DM=4 DN=3 LX=1 LY=8 PK=1 TSM=64 TSN=64 TSK=16 WPTM=4 WPTN=4 LVW=0 PF=0 GVW=0 KU=0 DB=0 RC=0 WL=0",
             "U8_VW=8 U8_DM=2 U8_DN=5 U8_TM=5 OPTIM_VW=16", "large-products", "4294967296 USE_LOCAL=1 SIZE=3"},
            /* a wrapped negative m*n*k, and a register-blocked set */
            {"USE_LOCAL=0 VW=8 TM=6 TNV=2 DM=4 DN=3 LX=1 LY=8 PK=1 TSM=64 TSN=64 TSK=16 WPTM=4 WPTN=4 LVW=0 PF=0 GVW=0 KU=0 DB=0 RC=0 WL=0",
             "U8_VW=8 U8_DM=2 U8_DN=5 U8_TM=5 OPTIM_VW=16", "large-products",
             "-1 USE_LOCAL=1 VW=16 TM=12 TNV=2 DM=5 DN=5 LX=1 LY=4 PK=1 TSM=64 TSN=64 TSK=16 WPTM=4 WPTN=4 LVW=1 PF=0 GVW=4 KU=0 DB=0 RC=0 WL=0"},
            {"USE_LOCAL=0 VW=8 TM=6 TNV=2 DM=4 DN=3 LX=1 LY=8 PK=1 TSM=64 TSN=64 TSK=16 WPTM=4 WPTN=4 LVW=0 PF=0 GVW=0 KU=0 DB=0 RC=0 WL=0",
             "U8_VW=8 U8_DM=2 U8_DN=5 U8_TM=5 OPTIM_VW=16", "register-blocked",
             "4294967296 USE_LOCAL=0 VW=8 TM=6 TNV=2 DM=4 DN=3 LX=1 LY=8 PK=1 TSM=64 TSN=64 TSK=16 WPTM=4 WPTN=4 LVW=0 PF=0 GVW=0 KU=0 DB=0 RC=0 WL=0"},
        };
        for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
            char text[8192];
            const char *gemm = strstr(good, "gemm=");
            int head = (int)(gemm - good);
            int n = snprintf(text, sizeof text, "%.*sgemm=%s\n", head, good, lines[i].gemm);
            if (lines[i].large)
                n += snprintf(text + n, sizeof text - (size_t)n, "gemm_large=%s\n", lines[i].large);
            if (lines[i].fused)
                n += snprintf(text + n, sizeof text - (size_t)n, "fused=%s\n", lines[i].fused);
            n += snprintf(text + n, sizeof text - (size_t)n, "sum=%016llx\n",
                          (unsigned long long)nncl_fnv1a(NNCL_FNV_SEED, text, (size_t)n));
            spit(path, text, (size_t)n);
            ck_assert_int_eq(load_state(&d, 7, &p, &ti), NNCL_TUNING_CORRUPT);
            ck_assert_msg(strstr(ti.note, lines[i].note) != NULL, "line %zu: %s", i, ti.note);
        }
    }
    /* not a file at all */
    unlink(path);
    ck_assert_int_eq(mkdir(path, 0755), 0);
    ck_assert_int_eq(load_state(&d, 7, &p, &ti), NNCL_TUNING_CORRUPT);
    rmdir(path);
    free(good);
    free(bad);
}
END_TEST

/* A writer killed between writing its temporary file and the rename leaves
 * the temporary behind: the entry itself is the old one, whole. */
START_TEST(cache_survives_killed_writer)
{
    fresh_cache();
    nncl_device_info d = fake_info();
    nncl_tuned_params p, want = tuned();
    nncl_tuning_info ti;
    char path[4096], tmp[4200];
    ck_assert(nncl_tune_cache_path(&d, path, sizeof path));
    snprintf(tmp, sizeof tmp, "%s.tmp-99999", path);
    ck_assert_ok(nncl_tune_cache_store_hash(&d, 9, &want, "quick", NULL));
    spit(tmp, "nncl-tuning 1\ndevice=half", 25);
    ck_assert_int_eq(load_state(&d, 9, &p, &ti), NNCL_TUNING_TUNED);
    unlink(path);
    ck_assert_int_eq(load_state(&d, 9, &p, &ti), NNCL_TUNING_DEFAULT);
}
END_TEST

/* ---- on a real device ------------------------------------------------------------ */

static int first_opencl(void)
{
    nncl_device_list *list = test_devices();
    return list->count > 1 && list->items[0].backend == NNCL_BACKEND_OPENCL ? 0 : -1;
}

/* The first OpenCL device, opened (after a fresh cache where asked), or
 * NULL where there is none: the device tests' common start. */
static nncl_device *open_first_opencl(bool fresh)
{
    int idx = first_opencl();
    if (idx < 0)
        return NULL;
    if (fresh)
        fresh_cache();
    return test_open(idx);
}

typedef struct notices {
    int warnings;
    char last[1024];
} notices;

static void catch_notice(void *ctx, nncl_notice_level level, const char *text)
{
    notices *n = ctx;
    if (level == NNCL_NOTICE_WARNING) {
        n->warnings++;
        snprintf(n->last, sizeof n->last, "%s", text);
    }
}

/* What a device runs with: an entry under NNCL_TUNE=cached, the table
 * under NNCL_TUNE=off, and the table with a warning for a corrupt entry. */
START_TEST(device_uses_entry_or_defaults)
{
    nncl_device *dev = open_first_opencl(true);
    if (!dev)
        return;
    const nncl_device_info *info = nncl_device_get_info(dev);
    nncl_gemm_params defaults;
    nncl_fused_params fused_defaults;
    nncl_gemm_params_for(info, &defaults);
    nncl_fused_params_for(info, &fused_defaults);
    nncl_tuned_params mine = {.gemm = defaults, .fused = fused_defaults};
    mine.gemm.ly = defaults.ly == 8 ? 4 : 8; /* valid, and not the default */
    mine.fused.optim.vw = fused_defaults.optim.vw == 8 ? 4 : 8;
    mine.fused.u8.tm = fused_defaults.u8.tm + 1;
    ck_assert_ok(nncl_tune_cache_store(info, &mine, "quick", NULL));

    setenv("NNCL_TUNE", "cached", 1);
    nncl_op_params_resolve(dev, false);
    ck_assert(nncl_gemm_params_equal(nncl_gemm_params_on(dev), &mine.gemm));
    ck_assert(nncl_fused_params_equal(nncl_fused_params_on(dev), &mine.fused));
    /* NNCL_U8_PARAMS still decides the byte kernels' shape */
    setenv("NNCL_U8_PARAMS", "VW=4 DM=1 DN=2 TM=3", 1);
    nncl_op_params_resolve(dev, false);
    ck_assert_int_eq(nncl_u8_params_on(dev)->tm, 3);
    ck_assert_int_eq(nncl_optim_params_on(dev)->vw, mine.fused.optim.vw);
    unsetenv("NNCL_U8_PARAMS");
    nncl_tuning_info ti;
    ck_assert_ok(nncl_tuning_lookup(info, &ti));
    ck_assert_int_eq(ti.state, NNCL_TUNING_TUNED);

    setenv("NNCL_TUNE", "off", 1);
    nncl_op_params_resolve(dev, false);
    ck_assert(nncl_gemm_params_equal(nncl_gemm_params_on(dev), &defaults));
    ck_assert(nncl_fused_params_equal(nncl_fused_params_on(dev), &fused_defaults));
    ck_assert_ok(nncl_tuning_lookup(info, &ti));
    ck_assert_int_eq(ti.state, NNCL_TUNING_OFF);

    /* corrupt it: defaults, and a warning naming the file */
    char path[4096];
    ck_assert(nncl_tune_cache_path(info, path, sizeof path));
    ck_assert_int_eq(truncate(path, 40), 0);
    notices got = {0};
    nncl_set_notice_handler(catch_notice, &got);
    setenv("NNCL_TUNE", "cached", 1);
    nncl_op_params_resolve(dev, false);
    nncl_set_notice_handler(NULL, NULL);
    ck_assert(nncl_gemm_params_equal(nncl_gemm_params_on(dev), &defaults));
    ck_assert(nncl_fused_params_equal(nncl_fused_params_on(dev), &fused_defaults));
    ck_assert_int_eq(got.warnings, 1);
    ck_assert_msg(strstr(got.last, path) != NULL && strstr(got.last, "truncated") != NULL, "%s", got.last);
    /* and the ops still run, with the defaults (NNCL_NO_CACHE: no binary
     * fetch, which on PoCL compiles every kernel up front) */
    setenv("NNCL_NO_CACHE", "1", 1);
    ck_assert_ok(nncl_device_prepare(dev, NULL));
    nncl_device_close(dev);
}
END_TEST

/* Every candidate the tuner may choose here (its full list) agrees with the
 * oracle in all four transpose forms. */
START_TEST(every_candidate_passes_the_check)
{
    nncl_device *dev = open_first_opencl(false);
    if (!dev)
        return;
    nncl_gemm_candidate c[NNCL_TUNE_MAX_CANDIDATES];
    int n = nncl_gemm_candidates(nncl_device_get_info(dev), NNCL_TUNE_FULL, c, NNCL_TUNE_MAX_CANDIDATES);
    ck_assert_int_ge(n, 4);
    for (int i = 0; i < n; i++) {
        bool ok = false;
        char why[512] = "", d[256];
        nncl_gemm_params_describe(&c[i].p, d, sizeof d);
        ck_assert_ok(nncl_gemm_candidate_check(dev, &c[i], &ok, why, sizeof why));
        ck_assert_msg(ok, "candidate %s: %s", d, why);
    }
    nncl_device_close(dev);
}
END_TEST

/* The GPU form of the GEMM (local-memory tiles, barriers, the capability
 * table's and the tuner's GPU shapes) built and checked on whatever OpenCL
 * device is first, a CPU included: PoCL runs local memory and barriers too,
 * so every CI run checks the tiles that otherwise run only on a GPU or under
 * Oclgrind (tools/oclgrind_check.sh), in a second instead of minutes. */
START_TEST(local_memory_tiles_pass_the_check)
{
    nncl_device *dev = open_first_opencl(false);
    if (!dev)
        return;
    const nncl_device_info *info = nncl_device_get_info(dev);
    /* tiles, K depth, outputs per work-item, local vector reads, the next
     * K-tile prefetched into registers (the last: 256 work-items share a
     * 32x2 tile, so most hold no element of it), global vector loads of
     * tiles inside aligned matrices (the tuner's check has such a case, with
     * edge tiles beside them), the sums over a K-tile unrolled (KU), two
     * local tiles each (DB: with K of many tiles, edge tiles among them;
     * the 2-deep one in slices too, which caught the split kernels' tiles
     * sized for one buffer), whether to check it with K in slices too, and
     * a warp's work-items as a block (WL: 4x8 or 8x4 of them, on square
     * and on 8x8 grids of work-items, with DB and slices). Each check is a PoCL
     * build of its own (seconds under the sanitizers), so the features are
     * combined, not crossed. */
    static const int tiles[][12] = {
        {64, 64, 16, 4, 4, 1, 0, 4, 0, 0, 1}, {32, 64, 16, 4, 8, 4, 1, 4, 1, 0, 0},
        {16, 16, 8, 4, 4, 1, 0, 1, 0, 0, 1},  {32, 32, 8, 2, 2, 1, 0, 2, 0, 0, 0},
        {64, 64, 16, 4, 4, 4, 0, 1, 1, 0, 0}, {32, 32, 16, 8, 4, 4, 1, 4, 0, 0, 1},
        {32, 32, 8, 4, 4, 2, 0, 1, 0, 0, 0},  {64, 64, 16, 4, 4, 1, 1, 1, 0, 0, 1},
        {32, 32, 2, 2, 2, 1, 1, 1, 0, 0, 1},  {32, 64, 16, 4, 16, 4, 0, 4, 1, 0, 0},
        {64, 64, 16, 4, 4, 4, 1, 4, 0, 1, 0}, {32, 32, 8, 4, 4, 2, 1, 1, 1, 1, 0},
        {32, 32, 2, 2, 2, 1, 1, 2, 0, 1, 1},  {64, 64, 16, 4, 4, 4, 0, 4, 1, 0, 0, 8},
        {32, 64, 16, 4, 8, 4, 1, 4, 0, 1, 1, 8}, {32, 32, 8, 2, 2, 1, 0, 1, 0, 0, 1, 4}};
    int ran = 0;
    for (size_t i = 0; i < sizeof tiles / sizeof tiles[0]; i++) {
        nncl_gemm_candidate c = {.extra = NULL};
        nncl_gemm_params_for(info, &c.p);
        c.p.use_local = 1;
        c.p.tsm = tiles[i][0], c.p.tsn = tiles[i][1], c.p.tsk = tiles[i][2];
        c.p.wptm = tiles[i][3], c.p.wptn = tiles[i][4], c.p.lvw = tiles[i][5], c.p.pf = tiles[i][6];
        c.p.gvw = tiles[i][7], c.p.ku = tiles[i][8], c.p.db = tiles[i][9], c.p.wl = tiles[i][11];
        char d[256];
        nncl_gemm_params_describe(&c.p, d, sizeof d);
        if (nncl_gemm_params_check(&c.p, info->max_work_group_size, info->local_mem_bytes) != NNCL_OK) {
            nncl_clear_error();     /* too large a work-group or local memory for this device */
            continue;
        }
        /* as the device would run them, then with K cut into 3 slices
         * (gemm_split_*: a GPU's choice for products of few tiles) */
        static const char *const splits[] = {NULL, "3"};
        for (size_t sp = 0; sp < (tiles[i][10] ? 2u : 1u); sp++) {
            if (splits[sp])
                setenv("NNCL_GEMM_SPLITK", splits[sp], 1);
            bool ok = false;
            char why[512] = "";
            ck_assert_ok(nncl_gemm_candidate_check(dev, &c, &ok, why, sizeof why));
            unsetenv("NNCL_GEMM_SPLITK");
            ck_assert_msg(ok, "%s: local-memory GEMM %s, K slices %s: %s", info->name, d,
                          splits[sp] ? splits[sp] : "as chosen", why);
        }
        ran++;
    }
    ck_assert_msg(ran > 0, "%s: no local-memory tile fits (work-group %zu, local memory %llu)", info->name,
                  (size_t)info->max_work_group_size, (unsigned long long)info->local_mem_bytes);
    nncl_device_close(dev);
}
END_TEST

/* Where a device names cl_nv_compiler_options the tuner's builds ask for
 * ptxas's account (-cl-nv-verbose); a driver that refuses the option (PoCL,
 * told here that it has the extension, answers CL_INVALID_BUILD_OPTIONS)
 * costs the account, never the candidate: it is built again without it. */
START_TEST(verbose_builds_never_cost_a_candidate)
{
    nncl_device *dev = open_first_opencl(true);
    if (!dev)
        return;
    bool has = dev->info.nv_compiler_options;
    dev->info.nv_compiler_options = true;
    nncl_gemm_candidate good = {.extra = NULL};
    nncl_gemm_params_for(nncl_device_get_info(dev), &good.p);
    nncl_gemm_params winner;
    nncl_gemm_large large;
    nncl_tune_report rep;
    ck_assert_ok(nncl_gemm_tune_search(dev, &good, 1, NULL, NNCL_TUNE_QUICK, 0, NULL, NULL, &winner, &large, &rep));
    ck_assert_int_eq(rep.n_tried, 1);
    ck_assert_msg(rep.tried[0].ok, "the candidate was lost: %s", rep.tried[0].why);
    ck_assert_int_eq(rep.rejected, 0);
    /* registers only where ptxas wrote its account (a real NVIDIA driver) */
    ck_assert(has ? rep.tried[0].registers > 0 : rep.tried[0].registers == 0);
    ck_assert(rep.tried[0].max_work_group >= 1);
    dev->info.nv_compiler_options = has;
    nncl_device_close(dev);
}
END_TEST

/* A register cap (RC) is a build option only where NVIDIA's compiler takes
 * its options, and only for a GEMM program of its own: the device's set,
 * built into every kernel's program, never has one, however fast. Here a
 * set with the cap and good blocks races one without and with blocks of
 * one row: the slow set must win. */
START_TEST(register_caps_never_serve_every_product)
{
    nncl_device *dev = open_first_opencl(true);
    if (!dev)
        return;
    bool has = dev->info.nv_compiler_options;
    nncl_gemm_params local;
    nncl_gemm_params_for(nncl_device_get_info(dev), &local);
    local.use_local = 1, local.rc = 128;
    char *src, options[1024];
    size_t len;
    ck_assert_ok(nncl_gemm_source(&src, &len));
    for (int nv = 0; nv < 2; nv++)
        for (int rc = 0; rc <= 128; rc += 128) {
            dev->info.nv_compiler_options = nv;
            local.rc = rc;
            cl_program prog;
            ck_assert_ok(nncl_gemm_program_create(dev, src, len, &local, NULL, &prog, options, sizeof options));
            clReleaseProgram(prog);
            bool capped = strstr(options, "-cl-nv-maxrregcount=128") != NULL;
            ck_assert_msg(capped == (nv && rc), "nv %d, RC=%d: %s", nv, rc, options);
            ck_assert(strstr(options, rc ? "-DRC=128" : "-DRC=0") != NULL);
        }
    dev->info.nv_compiler_options = has;
    free(src);

    nncl_gemm_candidate c[2] = {{.extra = NULL}, {.extra = NULL}};
    nncl_gemm_params_for(nncl_device_get_info(dev), &c[1].p);
    if (c[1].p.use_local) { /* a GPU: the cap would be a real option; not this test's business */
        nncl_device_close(dev);
        return;
    }
    c[1].p.rc = 128;
    c[0].p = c[1].p;
    c[0].p.rc = 0, c[0].p.tm = 1, c[0].p.tnv = 1, c[0].p.dm = 1, c[0].p.dn = 1;
    nncl_gemm_params winner;
    nncl_gemm_large large;
    nncl_tune_report rep;
    ck_assert_ok(nncl_gemm_tune_search(dev, c, 2, NULL, NNCL_TUNE_QUICK, 0, NULL, NULL, &winner, &large, &rep));
    ck_assert_int_eq(rep.timed, 2);
    ck_assert_msg(rep.tried[1].gflops[0] > rep.tried[0].gflops[0], "the capped set (%.1f GFLOP/s) was not the faster"
                  " (%.1f): the test shows nothing", rep.tried[1].gflops[0], rep.tried[0].gflops[0]);
    ck_assert_int_eq(winner.rc, 0);
    ck_assert_int_eq(winner.tm, 1);
    ck_assert_int_eq(large.min_mnk, 0);
    nncl_device_close(dev);
}
END_TEST

/* A candidate whose kernel computes fewer rows per work-item than its
 * launch geometry assumes (TM=2 for the set's TM, WPTM=1 for its WPTM)
 * leaves rows unwritten: rejected, never chosen. */
START_TEST(broken_candidate_rejected)
{
    nncl_device *dev = open_first_opencl(true);
    if (!dev)
        return;
    nncl_gemm_candidate good = {.extra = NULL}, broken;
    nncl_gemm_params_for(nncl_device_get_info(dev), &good.p);
    broken = good;
    if (good.p.use_local)
        broken.extra = "-DWPTM=1";  /* tiles launched for WPTM=4: rows skipped */
    else
        broken.extra = good.p.tm > 2 ? "-DTM=2" : "-DTM=1";
    bool ok = true;
    char why[512] = "";
    ck_assert_ok(nncl_gemm_candidate_check(dev, &broken, &ok, why, sizeof why));
    ck_assert_msg(!ok, "a broken candidate passed the check");
    ck_assert_msg(strstr(why, "oracle") != NULL || strstr(why, "launch") != NULL || strstr(why, "build") != NULL,
                  "%s", why);

    nncl_gemm_candidate cands[2] = {good, broken};
    nncl_gemm_params winner;
    nncl_gemm_large large;
    nncl_tune_report rep;
    ck_assert_ok(nncl_gemm_tune_search(dev, cands, 2, NULL, NNCL_TUNE_QUICK, 0, NULL, NULL, &winner, &large, &rep));
    ck_assert_int_eq(rep.rejected, 1);
    ck_assert_int_eq(rep.timed, 1);
    /* the good set, with NT packed or not (the last round times both) */
    nncl_gemm_params either = winner;
    either.pk = good.p.pk;
    ck_assert(nncl_gemm_params_equal(&either, &good.p));
    ck_assert_int_eq(rep.n_shapes, good.p.use_local ? 8 : 7); /* + the large square on a GPU */
    for (int i = 0; i < rep.n_shapes; i++)
        ck_assert(rep.shapes[i].new_gflops > 0);
    /* what the report says of each candidate built (`nncl tune`'s table):
     * both, in order, with their seconds; the good one's speeds on every
     * shape, the broken one's reason; the training shapes marked */
    ck_assert_int_eq(rep.gemm.considered, 2);
    ck_assert_int_eq(rep.gemm.built, 2);
    ck_assert_int_eq(rep.n_tried, 2);
    ck_assert(rep.tried[0].ok && !rep.tried[1].ok);
    ck_assert_msg(strstr(rep.tried[1].why, "oracle") != NULL || strstr(rep.tried[1].why, "launch") != NULL ||
                      strstr(rep.tried[1].why, "build") != NULL,
                  "%s", rep.tried[1].why);
    char described[256];
    nncl_gemm_params_describe(&good.p, described, sizeof described);
    ck_assert_str_eq(rep.tried[0].params, described);
    for (int i = 0; i < 2; i++)
        ck_assert(rep.tried[i].build_seconds > 0 && rep.tried[i].build_seconds < rep.gemm.seconds);
    ck_assert(rep.tried[0].check_seconds > 0);
    ck_assert(rep.gemm.build_seconds >= rep.tried[0].build_seconds + rep.tried[1].build_seconds - 1e-9);
    /* what the compiler made of the good one's gemm_nn: a work-group it can
     * launch, at least the candidate's own; registers where the driver says */
    const nncl_device_info *di = nncl_device_get_info(dev);
    size_t wg = good.p.use_local ? (size_t)(good.p.tsm / good.p.wptm) * (size_t)(good.p.tsn / good.p.wptn) : 1;
    ck_assert_msg(rep.tried[0].max_work_group >= wg, "max work-group %zu", rep.tried[0].max_work_group);
    ck_assert(di->nv_compiler_options ? rep.tried[0].registers > 0 : rep.tried[0].registers == 0);
    for (int i = 0; i < rep.n_shapes; i++) {
        ck_assert_msg(rep.tried[0].gflops[i] > 0 && rep.tried[1].gflops[i] == 0, "%s", rep.shapes[i].what);
        ck_assert(rep.shapes[i].training == (strncmp(rep.shapes[i].what, "square", 6) != 0));
    }

    /* the old set itself broken (a compiler that mishandles the capability
     * table's set): replaced by one that passes, its speeds reported as 0;
     * with nothing that passes, the search fails and names the check */
    nncl_gemm_candidate old_broken[2] = {broken, good};
    ck_assert_ok(
        nncl_gemm_tune_search(dev, old_broken, 2, NULL, NNCL_TUNE_QUICK, 0, NULL, NULL, &winner, &large, &rep));
    ck_assert_int_eq(rep.rejected, 1);
    ck_assert_int_eq(rep.timed, 1);
    either = winner;
    either.pk = good.p.pk;
    ck_assert(nncl_gemm_params_equal(&either, &good.p));
    for (int i = 0; i < rep.n_shapes; i++)
        ck_assert(rep.shapes[i].old_gflops == 0 && rep.shapes[i].new_gflops > 0);
    ck_assert_int_eq(
        nncl_gemm_tune_search(dev, &broken, 1, NULL, NNCL_TUNE_QUICK, 0, NULL, NULL, &winner, &large, &rep),
        NNCL_E_DEVICE);
    ck_assert_msg(strstr(nncl_last_error(), "no GEMM parameters pass their check") != NULL, "%s",
                  nncl_last_error());
    nncl_clear_error();
    nncl_device_close(dev);
}
END_TEST

/* Candidates built together, as where the driver compiles at the build (a
 * GPU's; forced here with NNCL_TUNE_BUILDS=3): the first alone, then the
 * rest in batches of 3, every one checked. One that does not build (VW=5:
 * a type that does not exist) and one that computes wrong results are
 * rejected, each with its reason in the report's table; the good ones are
 * timed; the winner is one of them. */
START_TEST(candidates_built_together)
{
    nncl_device *dev = open_first_opencl(true);
    if (!dev)
        return;
    const nncl_device_info *info = nncl_device_get_info(dev);
    nncl_gemm_candidate good = {.extra = NULL};
    nncl_gemm_params_for(info, &good.p);
    nncl_gemm_candidate table[NNCL_TUNE_MAX_CANDIDATES], others[2];
    int nt = nncl_gemm_candidates(info, NNCL_TUNE_FULL, table, NNCL_TUNE_MAX_CANDIDATES), no = 0;
    for (int i = 0; i < nt && no < 2; i++)
        if (!nncl_gemm_params_equal(&table[i].p, &good.p))
            others[no++] = table[i];
    ck_assert_int_eq(no, 2);
    nncl_gemm_candidate cands[5] = {good, good, others[0], good, others[1]};
    cands[1].extra = "-DVW=5"; /* no float5: does not compile, whatever the path (a later -D wins) */
    cands[3].extra = good.p.use_local ? "-DWPTM=1" : good.p.tm > 2 ? "-DTM=2" : "-DTM=1";
    setenv("NNCL_TUNE_BUILDS", "3", 1);
    nncl_gemm_params winner;
    nncl_gemm_large large;
    nncl_tune_report rep;
    ck_assert_ok(nncl_gemm_tune_search(dev, cands, 5, NULL, NNCL_TUNE_QUICK, 0, NULL, NULL, &winner, &large, &rep));
    unsetenv("NNCL_TUNE_BUILDS");
    ck_assert_int_eq(rep.gemm.builds_at_once, 3);
    ck_assert_int_eq(rep.rejected, 2);
    ck_assert_int_eq(rep.timed, rep.n_tried - 2);
    ck_assert(rep.n_tried >= 5 && rep.gemm.built == rep.n_tried); /* + the forms' combination, if new */
    ck_assert_msg(!rep.tried[1].ok && strstr(rep.tried[1].why, "does not build") != NULL, "%s", rep.tried[1].why);
    ck_assert_msg(!rep.tried[3].ok && strstr(rep.tried[3].why, "does not build") == NULL && rep.tried[3].why[0],
                  "%s", rep.tried[3].why);
    for (int i = 0; i < 5; i += 2) {
        ck_assert(rep.tried[i].ok && rep.tried[i].check_seconds > 0);
        for (int s = 0; s < rep.n_shapes; s++)
            ck_assert_msg(rep.tried[i].gflops[s] > 0, "%d: %s", i, rep.shapes[s].what);
    }
    /* (whether a batch's builds overlap is the driver's: PoCL serialises them) */
    ck_assert(rep.gemm.build_wall_seconds > 0 && rep.gemm.build_seconds > 0);
    nncl_gemm_params either = winner;
    bool from_good = false;
    for (int i = 0; i < 5; i += 2) {
        either.pk = cands[i].p.pk;
        from_good = from_good || (either.vw == cands[i].p.vw && either.tm == cands[i].p.tm &&
                                  either.tnv == cands[i].p.tnv && either.use_local == cands[i].p.use_local);
    }
    ck_assert_msg(from_good, "the winner is none of the good sets");
    nncl_device_close(dev);
}
END_TEST

/* tools/gemmlab/sweep_sets.txt (meson passes its path): the local-memory
 * sets tools/gpu_check.sh times one by one on a GPU. */
static const char *sweep_sets_path;

/* Every set of the GPU sweep is a candidate of the full search on a GPU
 * (48 KiB of local memory, work-groups of 1,024, as NVIDIA's OpenCL says of
 * an H200), so that the run that times the sweep also lets `nncl tune`
 * keep the fastest of them. */
START_TEST(gpu_sweep_sets_are_full_candidates)
{
    if (!sweep_sets_path)
        return; /* run by hand without the file's path */
    FILE *f = fopen(sweep_sets_path, "r");
    ck_assert_msg(f != NULL, "%s: %s", sweep_sets_path, strerror(errno));
    nncl_device_info gpu = {.backend = NNCL_BACKEND_OPENCL, .type = NNCL_DEVICE_GPU, .local_mem_dedicated = true,
                            .local_mem_bytes = 48 * 1024, .max_work_group_size = 1024, .native_vector_float = 1,
                            .preferred_vector_float = 1, .nv_compiler_options = true};
    nncl_gemm_candidate c[NNCL_TUNE_MAX_CANDIDATES];
    int n = nncl_gemm_candidates(&gpu, NNCL_TUNE_FULL, c, NNCL_TUNE_MAX_CANDIDATES);
    char line[256];
    int sets = 0;
    while (fgets(line, sizeof line, f)) {
        int v[12];
        if (line[0] == '#' || sscanf(line, "%d %d %d %d %d %d %d %d %d %d %d %d", &v[0], &v[1], &v[2], &v[3], &v[4],
                                     &v[5], &v[6], &v[7], &v[8], &v[9], &v[10], &v[11]) != 12)
            continue;
        bool found = false;
        for (int i = 0; i < n && !found; i++) {
            const nncl_gemm_params *p = &c[i].p;
            found = p->use_local && p->tsm == v[0] && p->tsn == v[1] && p->tsk == v[2] && p->wptm == v[3] &&
                    p->wptn == v[4] && p->lvw == v[5] && p->pf == v[6] && p->gvw == v[7] && p->ku == v[8] &&
                    p->db == v[9] && p->rc == v[10] && p->wl == v[11];
        }
        ck_assert_msg(found, "%s: the sweep's set %.*s is not a full-search candidate on a GPU", sweep_sets_path,
                      (int)strcspn(line, "\n"), line);
        sets++;
    }
    fclose(f);
    ck_assert_int_ge(sets, 20);
}
END_TEST

/* Which products pack (nncl_gemm_packing, src/ops/gemm.c), by hand: NT
 * from 2^21 multiply-adds and two row blocks when PK is 1, never when 0;
 * NN and TN only when 64 row blocks tall; A with B when A is transposed;
 * never on the local-memory path. */
START_TEST(packing_rules)
{
    nncl_gemm_params p = tuned_params; /* TM = 6 */
    struct {
        bool ta, tb;
        size_t m, n, k;
        int pk1, pk0;
    } rows[] = {
        {false, true, 128, 128, 784, NNCL_GEMM_PACK_B, 0},             /* the forward */
        {false, true, 128, 128, 127, 0, 0},                            /* m*n*k < 2^21 */
        {false, true, 11, 1000, 1000, 0, 0},                           /* one row block */
        {true, true, 12, 1000, 1000, NNCL_GEMM_PACK_B | NNCL_GEMM_PACK_A, 0},
        {false, false, 128, 784, 128, 0, 0},                           /* dX: not tall */
        {true, false, 128, 784, 128, 0, 0},                            /* dW: not tall */
        {false, false, 384, 100, 100, NNCL_GEMM_PACK_B, NNCL_GEMM_PACK_B},
        {true, false, 1024, 1024, 1024, NNCL_GEMM_PACK_B | NNCL_GEMM_PACK_A,
         NNCL_GEMM_PACK_B | NNCL_GEMM_PACK_A},
        {false, false, 383, 1000, 1000, 0, 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        nncl_gemm_args g = {.trans_a = rows[i].ta, .trans_b = rows[i].tb, .m = rows[i].m, .n = rows[i].n,
                            .k = rows[i].k};
        p.pk = 1;
        ck_assert_msg(nncl_gemm_packing(&p, &g) == rows[i].pk1, "row %zu, PK=1", i);
        p.pk = 0;
        ck_assert_msg(nncl_gemm_packing(&p, &g) == rows[i].pk0, "row %zu, PK=0", i);
        /* the panels hold B rounded up to whole panels, A to whole blocks */
        if (rows[i].pk1) {
            p.pk = 1;
            size_t want = (rows[i].n + 15) / 16 * 16 * rows[i].k +
                          (rows[i].ta ? (rows[i].m + 5) / 6 * 6 * rows[i].k : 0);
            ck_assert_uint_eq(nncl_gemm_panel_floats(&p, &g, nncl_gemm_packing(&p, &g)), want);
        }
    }
    nncl_gemm_params local = p;
    local.use_local = 1;
    nncl_gemm_args big = {.trans_b = true, .m = 1024, .n = 1024, .k = 1024};
    ck_assert_int_eq(nncl_gemm_packing(&local, &big), 0);
}
END_TEST

/* The fused parameters' text: what format writes, parse reads back; a
 * width no kernel has a case for, a missing field or an unknown one is
 * refused. */
/* ptxas's --verbose account (NVIDIA's build log under -cl-nv-verbose, in
 * the format CUDA 13's ptxas -v prints): gemm_nn's block, not the split
 * form's before it (a name that ends the same) nor the next kernel's. */
START_TEST(ptxas_log_read)
{
    static const char log[] =
        "ptxas info    : 0 bytes gmem\n"
        "ptxas info    : Compiling entry function 'gemm_split_nn' for 'sm_90'\n"
        "ptxas info    : Function properties for gemm_split_nn\n"
        "    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads\n"
        "ptxas info    : Used 182 registers, used 1 barriers, 25088 bytes smem\n"
        "ptxas info    : Compile time = 102.428 ms\n"
        "ptxas info    : Compiling entry function 'gemm_nn' for 'sm_90'\n"
        "ptxas info    : Function properties for gemm_nn\n"
        "    40 bytes stack frame, 36 bytes spill stores, 44 bytes spill loads\n"
        "ptxas info    : Used 128 registers, used 1 barriers, 16896 bytes smem, 400 bytes cmem[0]\n"
        "ptxas info    : Compiling entry function 'gemm_nt' for 'sm_90'\n"
        "ptxas info    : Function properties for gemm_nt\n"
        "    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads\n"
        "ptxas info    : Used 64 registers, used 1 barriers\n";
    int regs = -1, spill = -1;
    ck_assert(nncl_cl_log_registers(log, "gemm_nn", &regs, &spill));
    ck_assert_int_eq(regs, 128);
    ck_assert_int_eq(spill, 36);
    ck_assert(nncl_cl_log_registers(log, "gemm_nt", &regs, &spill));
    ck_assert_int_eq(regs, 64);
    ck_assert_int_eq(spill, 0);
    ck_assert(nncl_cl_log_registers(log, "gemm_split_nn", &regs, &spill));
    ck_assert_int_eq(regs, 182);
    /* a kernel the log does not name, a block without its registers, no log */
    ck_assert(!nncl_cl_log_registers(log, "gemm_tt", &regs, &spill));
    ck_assert_int_eq(regs, 0);
    ck_assert(!nncl_cl_log_registers("ptxas info    : Compiling entry function 'gemm_nn' for 'sm_90'\n", "gemm_nn",
                                     &regs, &spill));
    ck_assert(!nncl_cl_log_registers("", "gemm_nn", &regs, &spill));
    ck_assert(!nncl_cl_log_registers(NULL, "gemm_nn", &regs, &spill));
}
END_TEST

START_TEST(fused_params_text)
{
    nncl_fused_params p = tuned().fused, q;
    char text[128];
    nncl_fused_params_format(&p, text, sizeof text);
    ck_assert_ok(nncl_fused_params_parse(text, &q));
    ck_assert(nncl_fused_params_equal(&p, &q));
    static const char *const bad[] = {
        "U8_VW=6 U8_DM=2 U8_DN=5 U8_TM=5 OPTIM_VW=16", "U8_VW=8 U8_DM=0 U8_DN=5 U8_TM=5 OPTIM_VW=16",
        "U8_VW=8 U8_DM=2 U8_DN=17 U8_TM=5 OPTIM_VW=16", "U8_VW=8 U8_DM=2 U8_DN=5 OPTIM_VW=16",
        "U8_VW=8 U8_DM=2 U8_DN=5 U8_TM=5 OPTIM_VW=16 X=1", "U8_VW=8 U8_DM=2 U8_DN=5 U8_TM=5x OPTIM_VW=16",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(nncl_fused_params_parse(bad[i], &q) != NNCL_OK, "%s was accepted", bad[i]);
        nncl_clear_error();
    }
    nncl_fused_params odd = p;
    odd.optim.vw = 2;
    ck_assert_int_ne(nncl_fused_params_check(&odd), NNCL_OK);
    nncl_clear_error();
}
END_TEST

/* The GEMM's text form round-trips; a bad value is refused by name with
 * what was expected, an unknown or missing name too, and the set given to
 * fill is untouched then (util/int_fields.c, which both tables use). */
START_TEST(gemm_params_text)
{
    nncl_gemm_params p = tuned().gemm, q;
    p.db = 1, p.rc = 128, p.wl = 8;
    char text[512];
    nncl_gemm_params_format(&p, text, sizeof text);
    ck_assert_ok(nncl_gemm_params_parse(text, &q));
    ck_assert(nncl_gemm_params_equal(&p, &q));
    q.rc = 0;
    ck_assert(!nncl_gemm_params_equal(&p, &q));
    char defines[512];
    nncl_gemm_params_defines(&p, defines, sizeof defines);
    ck_assert_msg(strncmp(defines, "-DUSE_LOCAL=", 12) == 0 && strstr(defines, " -DRC=128") != NULL, "%s", defines);
    static const struct {
        const char *replace, *with, *message;
    } bad[] = {
        {"VW=", "VW=17 X", "gemm parameters: VW=17 is not from 1 to 16"},
        {"RC=128", "RC=-1", "gemm parameters: RC=-1 is not from 0 to 255"},
        {"TSK=", "TSK=1x", "gemm parameters: TSK=1x"},
        {"PF=", "PF= ", "gemm parameters: PF= is not"},
        {"KU=", "SIZE=3 KU=", "gemm parameters: unknown 'SIZE'"},
        {"DB=1 ", "", "gemm parameters: DB missing"},
        {"DB=1 ", "DB=1 DB=0 ", "gemm parameters: DB given twice"},
        {"WL=8", "WL=9", "gemm parameters: WL=9 is not from 0 to 8"},
        {" WL=8", "", "gemm parameters: WL missing"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char t[600];
        const char *at = strstr(text, bad[i].replace);
        ck_assert_msg(at != NULL, "%s in %s", bad[i].replace, text);
        snprintf(t, sizeof t, "%.*s%s%s", (int)(at - text), text, bad[i].with, at + strlen(bad[i].replace));
        nncl_gemm_params r = p;
        ck_assert_msg(nncl_gemm_params_parse(t, &r) != NNCL_OK, "%s was accepted", t);
        ck_assert_msg(strstr(nncl_last_error(), bad[i].message) != NULL, "%s: %s", t, nncl_last_error());
        ck_assert(nncl_gemm_params_equal(&r, &p));
        nncl_clear_error();
    }
    /* WL: 4 or 8, dividing the work-items along columns, with 32/WL
     * dividing those along rows (a warp's block must tile the grid) */
    static const struct {
        int tsm, tsn, wptm, wptn, wl;
        bool ok;
    } grids[] = {
        {128, 128, 8, 8, 8, true}, {128, 128, 8, 8, 4, true}, {64, 32, 8, 4, 8, true},    /* 8x8 work-items */
        {128, 128, 8, 8, 5, false}, {128, 128, 8, 8, 16, false}, {32, 64, 8, 16, 8, false}, /* 4 columns */
        {16, 64, 4, 4, 8, true},   /* 4 rows of 16 work-items: two blocks of 4x8 */
        {16, 64, 4, 4, 4, false},  /* ... but not of 8x4 */
        {8, 64, 4, 4, 8, false},   /* 2 rows */
    };
    for (size_t i = 0; i < sizeof grids / sizeof grids[0]; i++) {
        nncl_gemm_params w = large_params;
        w.tsm = grids[i].tsm, w.tsn = grids[i].tsn, w.wptm = grids[i].wptm, w.wptn = grids[i].wptn;
        w.wl = grids[i].wl;
        nncl_status st = nncl_gemm_params_check(&w, 1024, 1 << 20);
        ck_assert_msg((st == NNCL_OK) == grids[i].ok, "%dx%d tiles of %dx%d, WL=%d: %s", w.tsm, w.tsn, w.wptm, w.wptn,
                      w.wl, st == NNCL_OK ? "accepted" : nncl_last_error());
        if (st != NNCL_OK)
            ck_assert_msg(strstr(nncl_last_error(), "WL=") != NULL, "%s", nncl_last_error());
        nncl_clear_error();
    }
}
END_TEST

/* Every fused candidate the full search may try here agrees with the host
 * device on every check case (each byte kernel, the fused step, every
 * optimiser). */
START_TEST(every_fused_candidate_passes_the_check)
{
    nncl_device *dev = open_first_opencl(false);
    if (!dev)
        return;
    const nncl_device_info *info = nncl_device_get_info(dev);
    nncl_fused_params old, c[NNCL_TUNE_MAX_CANDIDATES_FUSED];
    nncl_fused_params_for(info, &old);
    int n = nncl_fused_candidates(info, NNCL_TUNE_FULL, &old, c, NNCL_TUNE_MAX_CANDIDATES_FUSED);
    ck_assert_int_ge(n, 4);
    ck_assert(nncl_fused_params_equal(&c[0], &old));
    int quick = nncl_fused_candidates(info, NNCL_TUNE_QUICK, &old, c, NNCL_TUNE_MAX_CANDIDATES_FUSED);
    ck_assert_int_le(quick, 3);
    n = nncl_fused_candidates(info, NNCL_TUNE_FULL, &old, c, NNCL_TUNE_MAX_CANDIDATES_FUSED);
    for (int i = 0; i < n; i++) {
        bool ok = false;
        char why[512] = "", d[128];
        nncl_fused_params_format(&c[i], d, sizeof d);
        ck_assert_ok(nncl_fused_candidate_check(dev, &c[i], NULL, &ok, why, sizeof why));
        ck_assert_msg(ok, "candidate %s: %s", d, why);
    }
    nncl_device_close(dev);
}
END_TEST

/* Broken fused candidates: kernels that compute one row (fwd) or one
 * output (wgrad) per work-item where the launch assumes more, and an
 * optimiser that updates 4 parameters per work-item where the launch
 * assumes 16 (or 8): each rejected by the check, naming the op; a search
 * given a broken one and a good one keeps the good one and reports real
 * times for every shape. */
START_TEST(broken_fused_candidate_rejected)
{
    nncl_device *dev = open_first_opencl(true);
    if (!dev)
        return;
    nncl_fused_params good;
    nncl_fused_params_for(nncl_device_get_info(dev), &good);
    good.optim.vw = 16;
    struct {
        const char *extra, *op;
    } broken[] = {{"-DU8_DM=1", "linear_u8_fwd"}, {"-DU8_TM=1", "linear_u8_wgrad"}, {"-DOPTIM_VW=4", "optim_step"}};
    ck_assert_int_gt(good.u8.dm, 1);
    ck_assert_int_gt(good.u8.tm, 1);
    for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++) {
        bool ok = true;
        char why[512] = "";
        ck_assert_ok(nncl_fused_candidate_check(dev, &good, broken[i].extra, &ok, why, sizeof why));
        ck_assert_msg(!ok, "%s passed the check", broken[i].extra);
        ck_assert_msg(strstr(why, broken[i].op) != NULL, "%s: %s", broken[i].extra, why);
    }
    /* a search of the good set and a broken one (optimiser width 8 as
     * far as the launch knows, 4 in the kernel) keeps the good one */
    nncl_fused_candidate cands[2] = {{good, NULL}, {good, "-DOPTIM_VW=4"}};
    cands[1].p.optim.vw = 8;
    nncl_fused_params winner;
    nncl_tune_report rep;
    memset(&rep, 0, sizeof rep);
    ck_assert_ok(nncl_fused_tune_search(dev, cands, 2, NNCL_TUNE_QUICK, 0, NULL, NULL, &winner, &rep));
    ck_assert_int_eq(rep.rejected, 1);
    ck_assert_int_eq(rep.timed, 1);
    ck_assert(nncl_fused_params_equal(&winner, &good));
    ck_assert_int_eq(rep.fused.considered, 2);
    ck_assert_int_eq(rep.fused.built, 2);
    ck_assert(rep.fused.build_seconds > 0 && rep.fused.check_seconds > 0);
    ck_assert(rep.fused.build_seconds + rep.fused.check_seconds < rep.fused.seconds);
    ck_assert_msg(strstr(rep.rejections, "optim_step") != NULL, "%s", rep.rejections);
    /* the same built together after the first (NNCL_TUNE_BUILDS: as on a
     * GPU), a good one beside the broken one in the batch */
    nncl_fused_candidate three[3] = {cands[0], cands[1], cands[0]};
    setenv("NNCL_TUNE_BUILDS", "2", 1);
    nncl_tune_report rep2;
    memset(&rep2, 0, sizeof rep2);
    ck_assert_ok(nncl_fused_tune_search(dev, three, 3, NNCL_TUNE_QUICK, 0, NULL, NULL, &winner, &rep2));
    unsetenv("NNCL_TUNE_BUILDS");
    ck_assert_int_eq(rep2.fused.builds_at_once, 2);
    ck_assert_int_eq(rep2.fused.built, 3);
    ck_assert_int_eq(rep2.rejected, 1);
    ck_assert_int_eq(rep2.timed, 2);
    ck_assert(nncl_fused_params_equal(&winner, &good));
    ck_assert(rep2.fused.build_wall_seconds > 0 && rep2.fused.build_seconds > 0);
    /* every shape where the device runs the byte ops (a CPU), only the
     * optimiser's two on a GPU, which gathers floats instead */
    bool gpu = nncl_device_get_info(dev)->type == NNCL_DEVICE_GPU;
    ck_assert_int_eq(rep.n_ops, gpu ? 2 : 6);
    for (int i = 0; i < rep.n_ops; i++) {
        ck_assert_msg(rep.ops[i].new_us > 0 && rep.ops[i].old_us > 0, "%s", rep.ops[i].what);
        ck_assert_msg(!gpu || strstr(rep.ops[i].what, "bytes") == NULL, "a GPU timed %s", rep.ops[i].what);
    }
    ck_assert_int_eq(nncl_fused_params_check(&winner), NNCL_OK);
    nncl_device_close(dev);
}
END_TEST

/* The kernel files into a folder of their own (NNCL_KERNEL_PATH), with
 * `prefix` before gemm.cl's text. */
static void kernels_with_gemm_prefix(const char *dir, const char *prefix)
{
    mkdir(dir, 0755);
    for (int i = 0; i < nncl_embedded_source_count; i++) {
        char path[600];
        snprintf(path, sizeof path, "%s/%s", dir, nncl_embedded_sources[i].name);
        FILE *f = fopen(path, "wb");
        ck_assert_ptr_nonnull(f);
        if (strcmp(nncl_embedded_sources[i].name, "gemm.cl") == 0)
            fputs(prefix, f);
        fwrite(nncl_embedded_sources[i].data, 1, nncl_embedded_sources[i].size, f);
        fclose(f);
    }
}

/* C = op(A) op(B) + bias on dev, read back, against the oracle: how many
 * elements are off by more than the forward error bound, and how many equal
 * the bias alone. */
static void run_product(nncl_device *dev, size_t m, size_t n, size_t k, int *off, int *bias_only)
{
    uint64_t seed = m * 7919 + k;
    float *A = test_random(&seed, m * k, -1, 1), *B = test_random(&seed, k * n, -1, 1);
    float *bias = test_random(&seed, n, -1, 1), *ref = calloc(m * n, 4), *got = malloc(m * n * 4);
    nncl_buffer *da = test_upload(dev, A, m * k), *db = test_upload(dev, B, k * n);
    nncl_buffer *dbias = test_upload(dev, bias, n), *dc = test_poisoned(dev, m * n);
    nncl_gemm_args g = {.m = m, .n = n, .k = k, .alpha = 1, .beta = 0, .a = nncl_view_of(da, 0), .lda = k,
                        .b = nncl_view_of(db, 0), .ldb = n, .c = nncl_view_of(dc, 0), .ldc = n,
                        .bias = nncl_view_of(dbias, 0)};
    nncl_gemm_reference(&g, A, B, ref, bias);
    ck_assert_ok(nncl_gemm(dev, &g));
    ck_assert_ok(nncl_buffer_read(dc, 0, got, m * n * 4));
    *off = *bias_only = 0;
    for (size_t i = 0; i < m * n; i++) {
        *off += !(fabsf(got[i] - ref[i]) <= 8 * FLT_EPSILON * ((float)k + 1));
        *bias_only += got[i] == bias[i % n];
    }
    nncl_buffer_free(da), nncl_buffer_free(db), nncl_buffer_free(dbias), nncl_buffer_free(dc);
    free(A), free(B), free(bias), free(ref), free(got);
}

/* A large products' set runs the products from its m*n*k on, from a
 * program of its own: a test's copy of gemm.cl whose large-set kernels drop
 * every product (fma(a, b, c) is c) makes a large product come out as the
 * bias alone, while a smaller one, and a large one that set would cut into
 * K slices, are right. A large set the compiler refuses: a warning, and
 * the device's own set computes the product. */
START_TEST(large_products_take_their_own_set)
{
    int idx = first_opencl();
    if (idx < 0)
        return;
    fresh_cache();
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/kernels", getenv("XDG_CACHE_HOME"));
    /* the large set below, and no other, has 32x32 tiles of 2x2 */
    static const char *const cond = "#if USE_LOCAL && defined(TSM) && TSM == 32 && defined(WPTM) && WPTM == 2\n";
    char prefix[512];
    nncl_device *dev = test_open(idx);
    const nncl_device_info *info = nncl_device_get_info(dev);
    nncl_tuned_params t = {0};
    nncl_gemm_params_for(info, &t.gemm);
    nncl_fused_params_for(info, &t.fused);
    t.large.min_mnk = 1000000;
    t.large.p = t.gemm;
    t.large.p.use_local = 1;
    t.large.p.tsm = 32, t.large.p.tsn = 32, t.large.p.tsk = 8, t.large.p.wptm = 2, t.large.p.wptn = 2;
    t.large.p.lvw = 1, t.large.p.pf = 0, t.large.p.gvw = 1;
    if (nncl_gemm_params_check(&t.large.p, info->max_work_group_size, info->local_mem_bytes) != NNCL_OK) {
        nncl_clear_error(); /* no room for 256 work-items */
        nncl_device_close(dev);
        return;
    }
    nncl_tuned_params_apply(dev, &t);
    nncl_cl_of(dev)->params_resolved = true; /* as a search leaves it: no table over it */
    /* K never cut (a GPU of many compute units would cut these few tiles,
     * and the large set runs only uncut products) */
    setenv("NNCL_GEMM_SPLITK", "off", 1);
    nncl_gemm_args big = {.m = 131, .n = 67, .k = 129}, small = {.m = 67, .n = 67, .k = 67};
    ck_assert(nncl_gemm_is_large(dev, &big));
    ck_assert(!nncl_gemm_is_large(dev, &small));
    int off, bias_only;
    run_product(dev, 67, 67, 67, &off, &bias_only);
    ck_assert_msg(off == 0, "small product: %d elements off", off);
    /* the kernel copy only now: the device's program is built already,
     * from the kernels every other test builds (PoCL's cache has them) */
    snprintf(prefix, sizeof prefix, "%s#define fma(a, b, c) (c)\n#endif\n", cond);
    kernels_with_gemm_prefix(dir, prefix);
    setenv("NNCL_KERNEL_PATH", dir, 1);
    run_product(dev, 131, 67, 129, &off, &bias_only);
    ck_assert_msg(bias_only == 131 * 67, "large product: %d of %d elements are the bias alone", bias_only, 131 * 67);
    /* K in 3 slices for local-memory sets: the device's set runs it */
    setenv("NNCL_GEMM_SPLITK", "3", 1);
    ck_assert(!nncl_gemm_is_large(dev, &big));
    run_product(dev, 131, 67, 129, &off, &bias_only);
    ck_assert_msg(off == 0, "large product the large set would cut: %d elements off", off);
    setenv("NNCL_GEMM_SPLITK", "off", 1);

    /* refused by the compiler: a warning naming the set, then the right product */
    snprintf(prefix, sizeof prefix, "%s#error the test's refused large set\n#endif\n", cond);
    kernels_with_gemm_prefix(dir, prefix);
    nncl_gemm_large_set(dev, &t.large); /* its program is built anew */
    notices got = {0};
    nncl_set_notice_handler(catch_notice, &got);
    run_product(dev, 131, 67, 129, &off, &bias_only);
    nncl_set_notice_handler(NULL, NULL);
    ck_assert_msg(off == 0, "refused large set: %d elements off", off);
    ck_assert_int_eq(got.warnings, 1);
    ck_assert_msg(strstr(got.last, "large products") && strstr(got.last, "TSM=32"), "%s", got.last);
    ck_assert(!nncl_gemm_is_large(dev, &big));
    nncl_device_close(dev);
    unsetenv("NNCL_GEMM_SPLITK");
    unsetenv("NNCL_KERNEL_PATH");
}
END_TEST

/* Kernels that compute wrong results with every GEMM set, the capability
 * table's included (a test's copy of gemm.cl whose multiply-adds drop the
 * product, as a broken compiler might): the first use's search finds no set
 * that passes, and the device refuses to build its program rather than
 * train wrong. The cache keeps that for this driver and kernel source: the
 * next try refuses at once, without a search; the default device passes it
 * over; `nncl check`'s way (as found) still builds it, to show which ops are
 * wrong; other kernels (the real ones) make the entry stale. */
START_TEST(wrong_kernels_refuse_the_device)
{
    int idx = first_opencl();
    if (idx < 0)
        return;
    fresh_cache();
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/kernels", getenv("XDG_CACHE_HOME"));
    kernels_with_gemm_prefix(dir, "#define fma(a, b, c) (c)\n");
    setenv("NNCL_KERNEL_PATH", dir, 1);
    setenv("NNCL_TUNE", "auto", 1);
    nncl_device *dev = test_open(idx);
    notices got = {0};
    nncl_set_notice_handler(catch_notice, &got);
    double seconds[2];
    for (int attempt = 0; attempt < 2; attempt++) {
        double t0 = nncl_seconds_now();
        ck_assert_int_eq(nncl_device_prepare(dev, NULL), NNCL_E_DEVICE);
        seconds[attempt] = nncl_seconds_now() - t0;
        const char *msg = nncl_last_error();
        ck_assert_msg(strstr(msg, "computes wrong results with its kernels here") != NULL &&
                          strstr(msg, "no GEMM parameters pass their check") != NULL && strstr(msg, "oracle") != NULL,
                      "%s", msg);
        ck_assert_msg(attempt == 0 || strstr(msg, "its search of 20") != NULL, "%s", msg);
        nncl_clear_error();
    }
    nncl_set_notice_handler(NULL, NULL);
    ck_assert_int_eq(got.warnings, 0); /* refused, not warned about and used */
    /* the second refusal read the cache: no search (which builds candidates) */
    ck_assert_msg(seconds[1] < 0.5 && seconds[1] < seconds[0] / 4, "refused in %.2f s, then %.2f s", seconds[0],
                  seconds[1]);
    nncl_tuning_info ti;
    ck_assert_ok(nncl_tuning_lookup(nncl_device_get_info(dev), &ti));
    ck_assert_int_eq(ti.state, NNCL_TUNING_WRONG);
    ck_assert_str_eq(nncl_tuning_state_name(ti.state), "wrong");
    ck_assert_msg(strstr(ti.note, "no GEMM parameters pass their check") != NULL, "%s", ti.note);
    nncl_device_close(dev);

    nncl_device_list list;
    ck_assert_ok(nncl_device_list_get(&list));
    ck_assert(list.items[idx].wrong_results);
    ck_assert_int_ne(list.default_index, idx);
    ck_assert(!list.items[list.default_index].wrong_results);
    nncl_device_list_free(&list);

    /* as found (nncl check): the defaults are built, to be checked */
    dev = test_open(idx);
    ck_assert_ok(nncl_device_tune_as_found(dev));
    ck_assert_ok(nncl_device_prepare(dev, NULL));
    nncl_device_close(dev);

    unsetenv("NNCL_KERNEL_PATH");
    ck_assert_ok(nncl_device_list_get(&list));
    ck_assert(!list.items[idx].wrong_results);
    nncl_device_list_free(&list);
}
END_TEST

/* A search among local-memory sets times them on the large square too (its
 * side from NNCL_GEMM_LARGE, small here) and keeps a set apart only if it
 * is another than the winner, one of the candidates, from half that
 * square's m*n*k on; the old large set is a candidate. Without the square
 * (NNCL_GEMM_LARGE=off) no set apart. */
START_TEST(search_chooses_a_large_set_apart)
{
    int idx = first_opencl();
    if (idx < 0)
        return;
    fresh_cache();
    setenv("NNCL_GEMM_LARGE", "192", 1);
    nncl_device *dev = test_open(idx);
    const nncl_device_info *info = nncl_device_get_info(dev);
    static const int tiles[][5] = {{32, 32, 8, 4, 4}, {16, 16, 8, 2, 2}};
    nncl_gemm_candidate c[2];
    int n = 0;
    for (int i = 0; i < 2; i++) {
        nncl_gemm_candidate x = {.extra = NULL};
        nncl_gemm_params_for(info, &x.p);
        x.p.use_local = 1, x.p.lvw = 1, x.p.pf = 0, x.p.gvw = 1;
        x.p.tsm = tiles[i][0], x.p.tsn = tiles[i][1], x.p.tsk = tiles[i][2], x.p.wptm = tiles[i][3];
        x.p.wptn = tiles[i][4];
        if (nncl_gemm_params_check(&x.p, info->max_work_group_size, info->local_mem_bytes) == NNCL_OK)
            c[n++] = x;
        nncl_clear_error();
    }
    if (n < 2) {
        nncl_device_close(dev);
        return;
    }
    /* the old large set is the second candidate (moved up, not repeated) */
    nncl_gemm_large old = {12345, c[1].p};
    nncl_gemm_params winner;
    nncl_gemm_large large;
    nncl_tune_report rep;
    ck_assert_ok(nncl_gemm_tune_search(dev, c, 2, &old, NNCL_TUNE_QUICK, 0, NULL, NULL, &winner, &large, &rep));
    ck_assert_int_eq(rep.candidates, 2);
    ck_assert_int_eq(rep.timed, 2);
    ck_assert_int_eq(rep.n_shapes, 8);
    ck_assert_str_eq(rep.shapes[7].what, "square 192");
    ck_assert(rep.shapes[7].m == 192 && rep.shapes[7].n == 192 && rep.shapes[7].k == 192);
    for (int i = 0; i < rep.n_shapes; i++)
        ck_assert_msg(rep.shapes[i].old_gflops > 0 && rep.shapes[i].new_gflops > 0, "%s", rep.shapes[i].what);
    ck_assert(rep.old_large_mnk == 12345 && strstr(rep.old_large, "TSM=16"));
    bool found = false;
    for (int i = 0; i < 2; i++)
        found = found || nncl_gemm_params_equal(&winner, &c[i].p);
    ck_assert(found);
    if (large.min_mnk) {
        ck_assert(large.min_mnk == 192ULL * 192 * 192 / 2 && rep.new_large_mnk == large.min_mnk);
        ck_assert(!nncl_gemm_params_equal(&large.p, &winner));
        found = false;
        for (int i = 0; i < 2; i++)
            found = found || nncl_gemm_params_equal(&large.p, &c[i].p);
        ck_assert(found && rep.new_large[0]);
    } else {
        ck_assert(rep.new_large_mnk == 0 && rep.new_large[0] == '\0');
    }

    setenv("NNCL_GEMM_LARGE", "off", 1);
    ck_assert_ok(nncl_gemm_tune_search(dev, c, 1, NULL, NNCL_TUNE_QUICK, 0, NULL, NULL, &winner, &large, &rep));
    ck_assert_int_eq(rep.n_shapes, 7);
    ck_assert(large.min_mnk == 0 && rep.new_large[0] == '\0');
    nncl_device_close(dev);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("tune");
    TCase *tc = tcase_create("cache");
    tcase_add_test(tc, cache_round_trip_and_key);
    tcase_add_test(tc, cache_refuses_damage);
    tcase_add_test(tc, cache_survives_killed_writer);
    tcase_add_test(tc, packing_rules);
    tcase_add_test(tc, gpu_sweep_sets_are_full_candidates);
    tcase_add_test(tc, fused_params_text);
    tcase_add_test(tc, gemm_params_text);
    tcase_add_test(tc, ptxas_log_read);
    suite_add_tcase(s, tc);
    TCase *td = tcase_create("device");
    tcase_set_timeout(td, 300);
    tcase_add_test(td, device_uses_entry_or_defaults);
    tcase_add_test(td, every_candidate_passes_the_check);
    tcase_add_test(td, local_memory_tiles_pass_the_check);
    tcase_add_test(td, broken_candidate_rejected);
    tcase_add_test(td, verbose_builds_never_cost_a_candidate);
    tcase_add_test(td, register_caps_never_serve_every_product);
    tcase_add_test(td, candidates_built_together);
    tcase_add_test(td, wrong_kernels_refuse_the_device);
    tcase_add_test(td, large_products_take_their_own_set);
    tcase_add_test(td, search_chooses_a_large_set_apart);
    tcase_add_test(td, every_fused_candidate_passes_the_check);
    tcase_add_test(td, broken_fused_candidate_rejected);
    suite_add_tcase(s, td);
    return s;
}

int main(int argc, char **argv)
{
    sweep_sets_path = argc > 1 ? argv[1] : NULL;
    return test_run_suite(suite());
}
