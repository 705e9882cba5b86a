/* The host backend: plain C on the CPU. It is the fallback when no OpenCL
 * device exists and the oracle the kernels are tested against. Buffers are
 * ordinary heap memory; ops run synchronously. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "device/backend.h"
#include "nncl_config.h"

/* "model name : AMD EPYC" and "cpu MHz : 2096.0" from /proc/cpuinfo. */
static void read_cpuinfo(char *name, size_t name_len, unsigned *mhz)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[512];
    bool have_name = false, have_mhz = false;
    while (fgets(line, sizeof line, f) && !(have_name && have_mhz)) {
        char *colon = strchr(line, ':');
        if (!colon)
            continue;
        char *value = colon + 1;
        while (*value == ' ' || *value == '\t')
            value++;
        value[strcspn(value, "\n")] = '\0';
        if (!have_name && strncmp(line, "model name", 10) == 0) {
            snprintf(name, name_len, "%s", value);
            have_name = true;
        } else if (!have_mhz && strncmp(line, "cpu MHz", 7) == 0) {
            *mhz = (unsigned)atof(value);
            have_mhz = true;
        }
    }
    fclose(f);
}

void nncl_host_describe(nncl_device_info *info)
{
    memset(info, 0, sizeof *info);
    info->backend = NNCL_BACKEND_HOST;
    info->type = NNCL_DEVICE_HOST;
    char cpu[200] = "CPU";
    read_cpuinfo(cpu, sizeof cpu, &info->max_clock_mhz);
    snprintf(info->name, sizeof info->name, "host (plain C, %s)", cpu);
    snprintf(info->vendor, sizeof info->vendor, "nncl");
    snprintf(info->platform, sizeof info->platform, "nncl host backend");
    snprintf(info->platform_version, sizeof info->platform_version, "nncl %s", NNCL_VERSION);
    /* the kernels OpenBLAS chose are part of the driver: a measured speed or
     * tuning under one set is stale under another; so are the AMX tiles of
     * the fused byte step */
    const char *core = nncl_host_blas_core();
    snprintf(info->driver_version, sizeof info->driver_version, "%s%s%s%s%s", NNCL_VERSION,
             NNCL_HAVE_CBLAS ? " +openblas" : "", *core ? " " : "", core, nncl_host_amx() ? " +amx" : "");
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    info->compute_units = cpus > 0 ? (unsigned)cpus : 1;
    info->global_mem_bytes = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : 0;
    info->max_alloc_bytes = info->global_mem_bytes ? info->global_mem_bytes : (uint64_t)1 << 32;
    info->fp64 = true;
    info->platform_index = -1;
    info->device_index = -1;
}

/* The host device's own state: one working buffer for the ops that need
 * memory beyond their arguments (nncl_host_workspace). */
typedef struct host_state {
    void *ws;
    size_t ws_bytes;
} host_state;

static nncl_status host_open(nncl_device *dev)
{
    dev->impl = calloc(1, sizeof(host_state));
    return dev->impl ? NNCL_OK : nncl_fail(NNCL_E_NOMEM, "out of memory opening the host device");
}

static void host_close(nncl_device *dev)
{
    host_state *h = dev->impl;
    if (h)
        free(h->ws);
    free(h);
    dev->impl = NULL;
}

nncl_status nncl_host_workspace(nncl_device *dev, size_t bytes, void **out)
{
    host_state *h = dev->impl;
    if (bytes > h->ws_bytes) {
        /* grown, never shrunk: a training's steps ask for the same sizes */
        size_t rounded = (bytes + 63) & ~(size_t)63;
        void *p = rounded >= bytes ? aligned_alloc(64, rounded) : NULL;
        if (!p)
            return nncl_fail(NNCL_E_NOMEM, "host device: %zu bytes of working memory", bytes);
        free(h->ws);
        h->ws = p;
        h->ws_bytes = rounded;
    }
    *out = h->ws;
    return NNCL_OK;
}

static nncl_status host_prepare(nncl_device *dev, bool *from_cache)
{
    (void)dev;
    *from_cache = false;
    return NNCL_OK;
}

static nncl_status host_finish(nncl_device *dev) { (void)dev; return NNCL_OK; }

/* Buffers of a page or more start on a page and end on one, so that
 * sealing can make them read-only (mprotect works on whole pages); smaller
 * ones on 64 bytes, which suits every vector width the host twins use. */
static size_t page_size(void)
{
    long p = sysconf(_SC_PAGESIZE);
    return p > 64 ? (size_t)p : 4096;
}

static size_t host_alignment(size_t bytes) { return bytes >= page_size() ? page_size() : 64; }

static size_t host_rounded(size_t bytes)
{
    size_t a = host_alignment(bytes);
    return (bytes + a - 1) / a * a;
}

static nncl_status host_buffer_alloc(nncl_buffer *buf)
{
    size_t rounded = host_rounded(buf->size);
    buf->host = rounded >= buf->size ? aligned_alloc(host_alignment(buf->size), rounded) : NULL;
    if (!buf->host)
        return nncl_fail(NNCL_E_NOMEM, "host: out of memory allocating %zu bytes", buf->size);
    return NNCL_OK;
}

/* A sealed buffer of whole pages becomes read-only: a store into it from
 * any code would fault at once rather than leave a kept derivation stale.
 * A buffer under a page keeps the seal's flag alone. */
static nncl_status host_buffer_seal(nncl_buffer *buf)
{
    if (host_alignment(buf->size) == 64)
        return NNCL_OK;
    if (mprotect(buf->host, host_rounded(buf->size), PROT_READ) != 0)
        return nncl_fail(NNCL_E_DEVICE, "host: making a sealed buffer of %zu bytes read-only failed", buf->size);
    return NNCL_OK;
}

static void host_buffer_free(nncl_buffer *buf)
{
    /* the allocator may write into the pages it gets back */
    if (buf->sealed && host_alignment(buf->size) != 64)
        mprotect(buf->host, host_rounded(buf->size), PROT_READ | PROT_WRITE);
    free(buf->host);
}

static nncl_status host_buffer_write(nncl_buffer *buf, size_t offset, const void *src, size_t bytes)
{
    memcpy((char *)buf->host + offset, src, bytes);
    return NNCL_OK;
}

static nncl_status host_buffer_read(const nncl_buffer *buf, size_t offset, void *dst, size_t bytes)
{
    memcpy(dst, (const char *)buf->host + offset, bytes);
    return NNCL_OK;
}

static nncl_status host_buffer_copy(nncl_buffer *dst, size_t dst_offset, const nncl_buffer *src,
                                    size_t src_offset, size_t bytes)
{
    memcpy((char *)dst->host + dst_offset, (const char *)src->host + src_offset, bytes);
    return NNCL_OK;
}

#define NNCL_HOST_ENTRY(name) .name = nncl_host_##name,
/* The host reads byte data itself wherever a dense first layer takes it:
 * the fused step of a one-hidden-layer classifier (linear_u8_head, the
 * tutorial's, src/ops/u8_head_host.c) or linear_u8_fwd and _wgrad from the
 * batch's nonzero bytes (src/ops/u8_sparse_host.c, which copies a dense
 * batch to floats for BLAS itself). So it prefers every op it has. */
static bool host_prefers(const nncl_device *dev, nncl_op_id op)
{
    (void)dev;
    (void)op;
    return true;
}

const nncl_backend_iface nncl_host_backend = {
    .name = "host",
    .open = host_open,
    .close = host_close,
    .prepare = host_prepare,
    .finish = host_finish,
    .buffer_alloc = host_buffer_alloc,
    .buffer_free = host_buffer_free,
    .buffer_write = host_buffer_write,
    .buffer_read = host_buffer_read,
    .buffer_copy = host_buffer_copy,
    .buffer_seal = host_buffer_seal,
    .prefers = host_prefers,
    NNCL_OPS(NNCL_HOST_ENTRY)
};
#undef NNCL_HOST_ENTRY
