/* libFuzzer target for the tuning cache's reader (nncl_tune_cache_load_hash:
 * the key lines, then mode, when, gemm, gemm_large, fused or wrong, then a
 * checksum). The input is what follows the key: the target writes a valid
 * entry once for the head (magic and key, so that no input is stale), then
 * each input after it with its checksum made right, so that mutations
 * reach the parsers (util/int_fields.c, the large set's line) and the
 * checks behind them. Whatever the text, the reader must return NNCL_OK
 * with the entry tuned, corrupt or wrong, and a tuned entry must hold sets
 * this device can run. */
#include "ops/gemm_impl.h"
#include "ops/gemm_tune_cache.h"
#include "ops/kernel_params.h"
#include "util/fnv1a.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SOURCE_HASH 0x0123456789abcdefULL

static nncl_device_info info;
static char head[4096];         /* the magic and the key lines */
static size_t head_len;
static char path[4096];

static bool terminated(const char *s, size_t size) { return memchr(s, '\0', size) != NULL; }

/* The entry and the folders setup made (XDG_CACHE_HOME/nncl/tune-*.txt). */
static char base[96];
static void cleanup(void)
{
    char dir[160];
    unlink(path);
    snprintf(dir, sizeof dir, "%s/nncl", base);
    rmdir(dir);
    rmdir(base);
}

static void setup(void)
{
    snprintf(base, sizeof base, "/tmp/nncl-fuzz-tune-%d", (int)getpid());
    setenv("XDG_CACHE_HOME", base, 1);
    atexit(cleanup);
    info = (nncl_device_info){.backend = NNCL_BACKEND_OPENCL, .type = NNCL_DEVICE_GPU, .local_mem_dedicated = true,
                              .local_mem_bytes = 48 * 1024, .max_work_group_size = 1024, .native_vector_float = 1,
                              .preferred_vector_float = 1};
    snprintf(info.name, sizeof info.name, "fuzz GPU");
    snprintf(info.vendor, sizeof info.vendor, "fuzz");
    snprintf(info.platform, sizeof info.platform, "fuzz platform");
    snprintf(info.platform_version, sizeof info.platform_version, "OpenCL 3.0");
    snprintf(info.driver_version, sizeof info.driver_version, "1.0");
    nncl_tuned_params p = {0};
    nncl_gemm_params_for(&info, &p.gemm);
    nncl_fused_params_for(&info, &p.fused);
    if (nncl_tune_cache_store_hash(&info, SOURCE_HASH, &p, "quick", NULL) != NNCL_OK ||
        !nncl_tune_cache_path(&info, path, sizeof path))
        abort();
    FILE *f = fopen(path, "rb");
    if (!f) abort();
    size_t n = fread(head, 1, sizeof head - 1, f);
    fclose(f);
    head[n] = '\0';
    char *key_end = strstr(head, "\nsource=");
    if (!key_end || !(key_end = strchr(key_end + 1, '\n'))) abort();
    head_len = (size_t)(key_end + 1 - head);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!head_len) setup();
    if (size > 60000) return 0;
    char *text = malloc(head_len + size + 32);
    if (!text) return 0;
    memcpy(text, head, head_len);
    memcpy(text + head_len, data, size);
    size_t n = head_len + size;
    n += (size_t)sprintf(text + n, "sum=%016llx\n", (unsigned long long)nncl_fnv1a(NNCL_FNV_SEED, text, n));
    FILE *f = fopen(path, "wb");
    bool ok = f && fwrite(text, 1, n, f) == n;
    ok = f && fclose(f) == 0 && ok;
    free(text);
    if (!ok) return 0;

    nncl_tuned_params p;
    nncl_tuning_info ti;
    memset(&p, 0, sizeof p);
    if (nncl_tune_cache_load_hash(&info, SOURCE_HASH, &p, &ti) != NNCL_OK) abort();
    if (!terminated(ti.note, sizeof ti.note) || !terminated(ti.params, sizeof ti.params) ||
        !terminated(ti.mode, sizeof ti.mode) || !terminated(ti.when, sizeof ti.when))
        abort();
    switch (ti.state) {
    case NNCL_TUNING_TUNED:
        /* every set it hands out can be built and launched here */
        if (nncl_gemm_params_check(&p.gemm, info.max_work_group_size, info.local_mem_bytes) != NNCL_OK) abort();
        if (nncl_fused_params_check(&p.fused) != NNCL_OK) abort();
        if (p.large.min_mnk && (!p.large.p.use_local ||
                                nncl_gemm_params_check(&p.large.p, info.max_work_group_size,
                                                       info.local_mem_bytes) != NNCL_OK))
            abort();
        if (!ti.params[0]) abort();
        break;
    case NNCL_TUNING_CORRUPT:
    case NNCL_TUNING_WRONG:
        if (!ti.note[0]) abort(); /* says why */
        break;
    default: abort(); /* its key is this device's: never stale, never absent */
    }
    nncl_clear_error();
    return 0;
}
