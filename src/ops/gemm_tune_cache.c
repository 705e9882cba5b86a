/* The tuning cache (see tune_cache.h for the rules). An entry:
 *
 *   nncl-tuning 1
 *   device=pthread-skylake-avx512-Intel(R) Xeon(R) Processor
 *   vendor=...
 *   platform=Portable Computing Language OpenCL 3.0 PoCL ...
 *   driver=3.1+debian
 *   source=0123456789abcdef
 *   mode=quick
 *   when=2026-12-02T05:08:00Z
 *   gemm=USE_LOCAL=0 VW=16 TM=12 ...
 *   gemm_large=4294967296 USE_LOCAL=1 TSM=128 ...   (only where one was chosen:
 *                                          from this m*n*k on, that set)
 *   fused=U8_VW=16 U8_DM=4 U8_DN=5 U8_TM=10 OPTIM_VW=16
 *   gflops=784->128 fwd:181.4 ...          (informative)
 *   us=tutorial step:5500.0 ...            (informative: the fused ops' times)
 *   sum=0123456789abcdef                   (FNV-1a of every byte above)
 *
 * or, where the search found that the device computes wrong results with
 * every set it tried, the defaults included (nncl will not train on it):
 *
 *   (the key lines, mode and when as above)
 *   wrong=tuning ...: no GEMM parameters pass their check, ...
 *   sum=...
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "device/opencl_impl.h"
#include "ops/gemm_tune_cache.h"
#include "ops/kernel_params.h"
#include "util/atomic_file.h"
#include "util/fnv1a.h"
#include "util/cache_dir.h"
#include "util/mkdir_p.h"

#define MAGIC "nncl-tuning 1\n"
#define MAX_ENTRY 65536

static bool cache_folder(char *out, size_t len) { return nncl_cache_folder(out, len); }

bool nncl_tune_cache_path(const nncl_device_info *info, char *out, size_t len)
{
    char dir[4000];
    if (!cache_folder(dir, sizeof dir))
        return false;
    uint64_t h = nncl_fnv1a(NNCL_FNV_SEED, info->name, strlen(info->name));
    h = nncl_fnv1a(h, info->vendor, strlen(info->vendor));
    h = nncl_fnv1a(h, info->platform, strlen(info->platform));
    snprintf(out, len, "%s/tune-%016llx.txt", dir, (unsigned long long)h);
    return true;
}

nncl_status nncl_tune_source_hash(uint64_t *hash)
{
    /* every file a GEMM or fused-op candidate is built from */
    static const char *const files[] = {"common.cl",    "activation.cl", "optim.cl",          "gemm.cl",
                                        "linear_u8.cl", "head.cl",       "linear_u8_head.cl"};
    char *src;
    size_t len;
    nncl_status st = nncl_cl_source(files, (int)(sizeof files / sizeof files[0]), &src, &len);
    if (st != NNCL_OK)
        return st;
    *hash = nncl_fnv1a(NNCL_FNV_SEED, src, len);
    free(src);
    return NNCL_OK;
}

/* The key lines, in order; a value's newlines (none expected) would break
 * the format, so they become spaces. */
static void key_text(const nncl_device_info *info, uint64_t source_hash, char *out, size_t len)
{
    snprintf(out, len, "device=%s\nvendor=%s\nplatform=%s %s\ndriver=%s\nsource=%016llx\n", info->name,
             info->vendor, info->platform, info->platform_version, info->driver_version,
             (unsigned long long)source_hash);
    for (char *p = out; *p; p++)
        if (*p == '\r')
            *p = ' ';
}

/* The value of "name=" on its own line within [text, text+len), copied. */
static bool line_value(const char *text, const char *name, char *out, size_t len)
{
    size_t n = strlen(name);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (strncmp(p, name, n) == 0 && p[n] == '=') {
            size_t v = strcspn(p + n + 1, "\n");
            snprintf(out, len, "%.*s", (int)(v < len ? v : len - 1), p + n + 1);
            return true;
        }
    }
    return false;
}

/* The optional gemm_large line ("<min m*n*k> <parameters>") into *l
 * (min_mnk 0 without one); false, with the error set, when it is there but
 * does not parse or is a set this device cannot run. */
static bool large_parse(const char *text, const nncl_device_info *info, nncl_gemm_large *l)
{
    char line[600];
    *l = (nncl_gemm_large){0};
    if (!line_value(text, "gemm_large", line, sizeof line))
        return true;
    char *end = line;
    unsigned long long mnk = isdigit((unsigned char)line[0]) ? strtoull(line, &end, 10) : 0;
    if (mnk == 0 || *end != ' ') {
        nncl_fail(NNCL_E_FORMAT, "no m*n*k before the parameters");
        return false;
    }
    if (nncl_gemm_params_parse(end + 1, &l->p) != NNCL_OK ||
        nncl_gemm_params_check(&l->p, info->max_work_group_size ? info->max_work_group_size : 1,
                               info->local_mem_bytes) != NNCL_OK)
        return false;
    if (!l->p.use_local) {
        nncl_fail(NNCL_E_FORMAT, "a register-blocked set (only local-memory sets are kept apart)");
        return false;
    }
    l->min_mnk = mnk;
    return true;
}

/* "TSM=128 ... from m*n*k 4294967296" for people, "" without a set. */
static void large_describe(const nncl_gemm_large *l, char *out, size_t len)
{
    char d[256] = "";
    if (l->min_mnk)
        nncl_gemm_params_describe(&l->p, d, sizeof d);
    if (l->min_mnk)
        snprintf(out, len, "%s from m*n*k %llu", d, (unsigned long long)l->min_mnk);
    else
        out[0] = '\0';
}

static void corrupt(nncl_tuning_info *ti, const char *why)
{
    ti->state = NNCL_TUNING_CORRUPT;
    snprintf(ti->note, sizeof ti->note, "ignored the tuning cache entry %.300s: %.180s", ti->path, why);
}

nncl_status nncl_tune_cache_load_hash(const nncl_device_info *info, uint64_t source_hash, nncl_tuned_params *p,
                                      nncl_tuning_info *ti)
{
    memset(ti, 0, sizeof *ti);
    ti->state = NNCL_TUNING_DEFAULT;
    if (!nncl_tune_cache_path(info, ti->path, sizeof ti->path))
        return NNCL_OK;
    if (access(ti->path, F_OK) != 0)
        return NNCL_OK; /* not tuned yet: the common case */
    char *data;
    size_t size;
    if (nncl_read_file(ti->path, MAX_ENTRY, &data, &size) != NNCL_OK) {
        char why[600];
        snprintf(why, sizeof why, "cannot be read (%s)", nncl_last_error());
        nncl_clear_error();
        corrupt(ti, why);
        return NNCL_OK;
    }
    /* The checksum line last: a truncated or edited file fails here. */
    const char *sum_line = NULL;
    for (const char *q = data; (q = strstr(q, "sum=")) != NULL; q++)
        if (q == data || q[-1] == '\n')
            sum_line = q;
    unsigned long long want = 0;
    char tail;
    if (size < strlen(MAGIC) || memcmp(data, MAGIC, strlen(MAGIC)) != 0) {
        corrupt(ti, "not a tuning entry");
    } else if (!sum_line || sscanf(sum_line, "sum=%16llx%c", &want, &tail) != 2 || tail != '\n' ||
               (size_t)(sum_line - data) + 21 != size) {
        corrupt(ti, "truncated (no checksum at its end)");
    } else if (nncl_fnv1a(NNCL_FNV_SEED, data, (size_t)(sum_line - data)) != want) {
        corrupt(ti, "checksum mismatch");
    } else {
        char key[2048], stored[2048];
        key_text(info, source_hash, key, sizeof key);
        size_t klen = strlen(key);
        snprintf(stored, sizeof stored, "%.*s", (int)(size - strlen(MAGIC)), data + strlen(MAGIC));
        char gemm[512] = "", fused[256] = "", mode[16] = "", when[40] = "";
        char wrong[sizeof ti->note];
        if (strncmp(stored, key, klen) != 0) {
            char was[256] = "?";
            const char *what = "another device";
            if (line_value(stored, "driver", was, sizeof was) && strcmp(was, info->driver_version) != 0)
                what = "another driver version";
            else if (line_value(stored, "source", was, sizeof was))
                what = "another kernel source";
            ti->state = NNCL_TUNING_STALE;
            snprintf(ti->note, sizeof ti->note, "the tuning cache entry %.300s is for %s (%.100s); ignored", ti->path,
                     what, was);
        } else if (line_value(stored + klen, "wrong", wrong, sizeof wrong)) {
            ti->state = NNCL_TUNING_WRONG;
            /* refused all the same without its reason (the device's refusal
             * ends with it: never an empty one) */
            snprintf(ti->note, sizeof ti->note, "%s", wrong[0] ? wrong : "(the search recorded no reason)");
            line_value(stored + klen, "mode", ti->mode, sizeof ti->mode);
            line_value(stored + klen, "when", ti->when, sizeof ti->when);
        } else if (!line_value(stored + klen, "gemm", gemm, sizeof gemm) ||
                   nncl_gemm_params_parse(gemm, &p->gemm) != NNCL_OK) {
            nncl_clear_error();
            corrupt(ti, "bad gemm parameters");
        } else if (!line_value(stored + klen, "fused", fused, sizeof fused) ||
                   nncl_fused_params_parse(fused, &p->fused) != NNCL_OK) {
            nncl_clear_error();
            corrupt(ti, "bad fused-op parameters");
        } else if (nncl_gemm_params_check(&p->gemm, info->max_work_group_size ? info->max_work_group_size : 1,
                                          info->local_mem_bytes) != NNCL_OK) {
            char why[300];
            snprintf(why, sizeof why, "parameters this device cannot run (%s)", nncl_last_error());
            nncl_clear_error();
            corrupt(ti, why);
        } else if (!large_parse(stored + klen, info, &p->large)) {
            char why[300];
            snprintf(why, sizeof why, "bad large-products gemm parameters (%s)", nncl_last_error());
            nncl_clear_error();
            corrupt(ti, why);
        } else {
            ti->state = NNCL_TUNING_TUNED;
            line_value(stored + klen, "mode", mode, sizeof mode);
            line_value(stored + klen, "when", when, sizeof when);
            snprintf(ti->mode, sizeof ti->mode, "%s", mode);
            snprintf(ti->when, sizeof ti->when, "%s", when);
            nncl_gemm_params_describe(&p->gemm, ti->params, sizeof ti->params);
            large_describe(&p->large, ti->large_params, sizeof ti->large_params);
            nncl_fused_params_format(&p->fused, ti->fused_params, sizeof ti->fused_params);
        }
    }
    free(data);
    return NNCL_OK;
}

nncl_status nncl_tune_cache_load(const nncl_device_info *info, nncl_tuned_params *p, nncl_tuning_info *ti)
{
    uint64_t h;
    nncl_status st = nncl_tune_source_hash(&h);
    return st == NNCL_OK ? nncl_tune_cache_load_hash(info, h, p, ti) : st;
}

/* The entry's first lines: magic, key, mode and the time now. */
static int entry_head(const nncl_device_info *info, uint64_t source_hash, const char *mode, char *text, size_t len)
{
    char key[2048], when[40];
    key_text(info, source_hash, key, sizeof key);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return snprintf(text, len, MAGIC "%smode=%s\nwhen=%s\n", key, mode, when);
}

/* The checksum line after the n bytes of text, and the whole written
 * atomically to the device's entry. */
static nncl_status entry_write(const nncl_device_info *info, char *text, size_t len, int n)
{
    char path[4096], dir[4096];
    if (!nncl_tune_cache_path(info, path, sizeof path))
        return nncl_fail(NNCL_E_IO, "no cache folder: neither XDG_CACHE_HOME nor HOME is set");
    if (n < 0 || n >= (int)len - 24)
        return nncl_fail(NNCL_E_INVALID, "tuning entry too long");
    snprintf(dir, sizeof dir, "%s", path);
    *strrchr(dir, '/') = '\0';
    nncl_status st = nncl_mkdir_p(dir);
    if (st != NNCL_OK)
        return st;
    n += snprintf(text + n, len - (size_t)n, "sum=%016llx\n",
                  (unsigned long long)nncl_fnv1a(NNCL_FNV_SEED, text, (size_t)n));
    return nncl_write_file_atomic(path, text, (size_t)n);
}

nncl_status nncl_tune_cache_store_wrong(const nncl_device_info *info, const char *mode, const char *why)
{
    uint64_t h;
    nncl_status st = nncl_tune_source_hash(&h);
    if (st != NNCL_OK)
        return st;
    char text[4096];
    int n = entry_head(info, h, mode, text, sizeof text);
    n += snprintf(text + n, sizeof text - (size_t)n, "wrong=");
    /* one line, and short enough to read back whole (tuning_info's note) */
    int end = n + (int)sizeof ((nncl_tuning_info *)0)->note - 1;
    for (const char *c = why; *c && n < end && n < (int)sizeof text - 64; c++)
        text[n++] = *c == '\n' || *c == '\r' ? ' ' : *c;
    text[n++] = '\n';
    text[n] = '\0';
    return entry_write(info, text, sizeof text, n);
}

nncl_status nncl_tune_cache_store_hash(const nncl_device_info *info, uint64_t source_hash,
                                       const nncl_tuned_params *p, const char *mode, const nncl_tune_report *rep)
{
    char gemm[512], large[600] = "", fused[256];
    nncl_gemm_params_format(&p->gemm, gemm, sizeof gemm);
    if (p->large.min_mnk) {
        char lp[512];
        nncl_gemm_params_format(&p->large.p, lp, sizeof lp);
        snprintf(large, sizeof large, "gemm_large=%llu %s\n", (unsigned long long)p->large.min_mnk, lp);
    }
    nncl_fused_params_format(&p->fused, fused, sizeof fused);
    char text[8192];
    int n = entry_head(info, source_hash, mode, text, sizeof text);
    n += snprintf(text + n, sizeof text - (size_t)n, "gemm=%s\n%sfused=%s\ngflops=", gemm, large, fused);
    for (int i = 0; rep && i < rep->n_shapes && n < (int)sizeof text - 100; i++)
        n += snprintf(text + n, sizeof text - (size_t)n, "%s%s:%.1f", i ? ", " : "", rep->shapes[i].what,
                      rep->shapes[i].new_gflops);
    n += snprintf(text + n, sizeof text - (size_t)n, "\nus=");
    for (int i = 0; rep && i < rep->n_ops && n < (int)sizeof text - 100; i++)
        n += snprintf(text + n, sizeof text - (size_t)n, "%s%s:%.1f", i ? ", " : "", rep->ops[i].what,
                      rep->ops[i].new_us);
    n += snprintf(text + n, sizeof text - (size_t)n, "\n");
    return entry_write(info, text, sizeof text, n);
}

nncl_status nncl_tune_cache_store(const nncl_device_info *info, const nncl_tuned_params *p, const char *mode,
                                  const nncl_tune_report *rep)
{
    uint64_t h;
    nncl_status st = nncl_tune_source_hash(&h);
    return st == NNCL_OK ? nncl_tune_cache_store_hash(info, h, p, mode, rep) : st;
}

const char *nncl_tuning_state_name(nncl_tuning_state s)
{
    switch (s) {
    case NNCL_TUNING_NONE: return "-";
    case NNCL_TUNING_DEFAULT: return "no";
    case NNCL_TUNING_TUNED: return "yes";
    case NNCL_TUNING_STALE: return "stale";
    case NNCL_TUNING_CORRUPT: return "corrupt";
    case NNCL_TUNING_OFF: return "off";
    case NNCL_TUNING_WRONG: return "wrong";
    }
    return "?";
}

nncl_status nncl_tuning_lookup(const nncl_device_info *info, nncl_tuning_info *out)
{
    memset(out, 0, sizeof *out);
    if (info->backend != NNCL_BACKEND_OPENCL) {
        out->state = NNCL_TUNING_NONE;
        return NNCL_OK;
    }
    nncl_tuned_params p = {0};
    nncl_status st = NNCL_OK;
    if (nncl_tune_policy_get() == NNCL_TUNE_POLICY_OFF)
        out->state = NNCL_TUNING_OFF;
    else
        st = nncl_tune_cache_load(info, &p, out);
    if (st == NNCL_OK && out->state != NNCL_TUNING_TUNED) {
        nncl_gemm_params_for(info, &p.gemm);
        nncl_fused_params_for(info, &p.fused);
        nncl_gemm_params_describe(&p.gemm, out->params, sizeof out->params);
        nncl_fused_params_format(&p.fused, out->fused_params, sizeof out->fused_params);
    }
    return st;
}
