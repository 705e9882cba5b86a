/* The device registry: listing, selection, opening, and buffers.
 * Backend-specific work is delegated through nncl_backend_iface. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device/backend.h"
#include "nncl/tune.h"
#include "util/clock.h"

const char *nncl_backend_name(nncl_backend_kind kind)
{
    return kind == NNCL_BACKEND_HOST ? "host" : "opencl";
}

const char *nncl_device_type_name(nncl_device_type type)
{
    switch (type) {
    case NNCL_DEVICE_GPU: return "gpu";
    case NNCL_DEVICE_ACCELERATOR: return "accelerator";
    case NNCL_DEVICE_CPU: return "cpu";
    case NNCL_DEVICE_HOST: return "host";
    }
    return "?";
}

/* Stable sort by type (GPU, accelerator, CPU), keeping enumeration order
 * within a type: insertion sort, the lists are tiny. */
static void sort_by_type(nncl_device_info *items, int n)
{
    for (int i = 1; i < n; i++) {
        nncl_device_info key = items[i];
        int j = i - 1;
        while (j >= 0 && items[j].type > key.type) {
            items[j + 1] = items[j];
            j--;
        }
        items[j + 1] = key;
    }
}

nncl_status nncl_device_list_get(nncl_device_list *out)
{
    memset(out, 0, sizeof *out);
    nncl_device_info *cl_items = NULL;
    int cl_count = 0;
    double t0 = nncl_seconds_now();
    nncl_status st = nncl_opencl_enumerate(&cl_items, &cl_count, out);
    if (st != NNCL_OK)
        return st;

    out->items = calloc((size_t)cl_count + 1, sizeof *out->items);
    if (!out->items) {
        free(cl_items);
        return nncl_fail(NNCL_E_NOMEM, "out of memory listing devices");
    }
    if (cl_count)
        memcpy(out->items, cl_items, (size_t)cl_count * sizeof *cl_items);
    free(cl_items);
    sort_by_type(out->items, cl_count);
    nncl_host_describe(&out->items[cl_count]);
    out->count = cl_count + 1;
    for (int i = 0; i < out->count; i++)
        out->items[i].index = i;

    /* The fastest device for training, where nncl bench measured enough:
     * a device beats the first only when it and every device before it
     * were measured (an unmeasured GPU may well be faster than all). A
     * device whose kernels were found computing wrong results is passed
     * over (the host never is: it has no tuned kernels). */
    for (int i = 0; i < out->count; i++) {
        nncl_device_info *d = &out->items[i];
        d->train_speed = nncl_device_speed_known(d);
        nncl_tuning_info ti;
        if (d->backend == NNCL_BACKEND_OPENCL && nncl_tuning_lookup(d, &ti) == NNCL_OK)
            d->wrong_results = ti.state == NNCL_TUNING_WRONG;
        nncl_clear_error();
    }
    int first = 0;
    while (first + 1 < out->count && out->items[first].wrong_results)
        first++;
    out->default_index = first;
    for (int i = first + 1; i < out->count; i++) {
        const nncl_device_info *d = &out->items[i], *best = &out->items[out->default_index];
        if (d->wrong_results)
            continue;
        if (!(best->train_speed > 0 && d->train_speed > 0))
            break;
        if (d->train_speed > best->train_speed)
            out->default_index = i;
    }
    out->default_by_speed = out->default_index != first;
    /* NNCL_DEVICE moves the default; a bad value is reported, not ignored. */
    const char *env = getenv("NNCL_DEVICE");
    if (env && *env) {
        int idx;
        st = nncl_device_select(out, env, &idx);
        if (st != NNCL_OK) {
            nncl_fail_context(st, "NNCL_DEVICE=%s", env);
            nncl_device_list_free(out);
            return st;
        }
        out->default_index = idx;
        out->default_by_speed = false;
    }
    out->items[out->default_index].is_default = true;
    out->seconds = nncl_seconds_now() - t0;
    out->opencl_listed = true;
    return NNCL_OK;
}

nncl_status nncl_device_list_host(nncl_device_list *out)
{
    memset(out, 0, sizeof *out);
    double t0 = nncl_seconds_now();
    out->items = calloc(1, sizeof *out->items);
    if (!out->items)
        return nncl_fail(NNCL_E_NOMEM, "out of memory listing devices");
    nncl_device_info *host = &out->items[0];
    nncl_host_describe(host);
    host->index = -1;
    host->train_speed = nncl_device_speed_known(host);
    host->is_default = true;
    out->count = 1;
    snprintf(out->opencl_note, sizeof out->opencl_note, "OpenCL not asked: the host was chosen");
    out->seconds = nncl_seconds_now() - t0;
    return NNCL_OK;
}

bool nncl_device_choice_is_host(const char *choice) { return choice && strcasecmp(choice, "host") == 0; }

nncl_status nncl_device_list_for(const char *choice, nncl_device_list *out)
{
    const char *wanted = choice && *choice ? choice : getenv("NNCL_DEVICE");
    return nncl_device_choice_is_host(wanted) ? nncl_device_list_host(out) : nncl_device_list_get(out);
}

void nncl_device_list_free(nncl_device_list *list)
{
    if (!list)
        return;
    free(list->items);
    list->items = NULL;
    list->count = 0;
}

/* Case-insensitive substring test. */
static bool contains_nocase(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] && tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n)
            return true;
    }
    return n == 0;
}

/* "  0  gpu   NVIDIA H200 (NVIDIA CUDA)" lines, for error messages. */
static void append_listing(const nncl_device_list *list, char *buf, size_t len)
{
    size_t used = strlen(buf);
    for (int i = 0; i < list->count && used < len; i++) {
        const nncl_device_info *d = &list->items[i];
        used += (size_t)snprintf(buf + used, len - used, "\n  %d  %-11s %s%s%s%s", d->index,
                                 nncl_device_type_name(d->type), d->name,
                                 d->backend == NNCL_BACKEND_OPENCL ? " (" : "",
                                 d->backend == NNCL_BACKEND_OPENCL ? d->platform : "",
                                 d->backend == NNCL_BACKEND_OPENCL ? ")" : "");
    }
}

/* Words people type for a kind of device: a type, or a platform by its
 * usual name (PoCL calls itself "Portable Computing Language"). They match
 * OpenCL devices only: the host backend is "host". */
typedef struct device_word {
    const char *word;
    int type;                   /* an nncl_device_type, or -1 */
    const char *platforms[2];   /* platform name substrings, or NULL */
} device_word;

static const device_word device_words[] = {
    {"gpu", NNCL_DEVICE_GPU, {NULL, NULL}},
    {"accelerator", NNCL_DEVICE_ACCELERATOR, {NULL, NULL}},
    {"cpu", NNCL_DEVICE_CPU, {NULL, NULL}},
    {"pocl", -1, {"Portable Computing Language", "PoCL"}},
    {"nvidia", -1, {"NVIDIA", NULL}},
    {"amd", -1, {"AMD", "Advanced Micro Devices"}},
    {"intel", -1, {"Intel", NULL}},
};

static const device_word *find_device_word(const char *choice)
{
    for (size_t i = 0; i < sizeof device_words / sizeof device_words[0]; i++)
        if (strcasecmp(choice, device_words[i].word) == 0)
            return &device_words[i];
    return NULL;
}

static bool word_matches(const device_word *w, const nncl_device_info *d)
{
    if (d->backend != NNCL_BACKEND_OPENCL)
        return false;
    if (w->type >= 0)
        return (int)d->type == w->type;
    for (int k = 0; k < 2; k++)
        if (w->platforms[k] && contains_nocase(d->platform, w->platforms[k]))
            return true;
    return false;
}

nncl_status nncl_device_select(const nncl_device_list *list, const char *choice, int *index_out)
{
    char msg[4096];
    if (!choice || !*choice) {
        *index_out = list->default_index;
        return NNCL_OK;
    }
    /* An index. */
    char *end;
    errno = 0;
    long idx = strtol(choice, &end, 10);
    if (*end == '\0' && errno == 0) {
        if (idx >= 0 && idx < list->count) {
            *index_out = (int)idx;
            return NNCL_OK;
        }
        snprintf(msg, sizeof msg, "no device %s; the devices are:", choice);
        append_listing(list, msg, sizeof msg);
        return nncl_fail(NNCL_E_NOT_FOUND, "%s", msg);
    }
    /* "host" always means the host backend. */
    if (strcasecmp(choice, "host") == 0) {
        *index_out = list->count - 1;
        return NNCL_OK;
    }
    /* A word for a kind of OpenCL device (its type, or its platform by the
     * name people call it), else a substring of the device or platform
     * name; either must match exactly one device. */
    int found = -1, matches = 0;
    const device_word *w = find_device_word(choice);
    for (int i = 0; i < list->count; i++) {
        const nncl_device_info *d = &list->items[i];
        bool hit = w ? word_matches(w, d)
                     : contains_nocase(d->name, choice) ||
                           (d->backend == NNCL_BACKEND_OPENCL && contains_nocase(d->platform, choice));
        if (hit) {
            if (found < 0)
                found = i;
            matches++;
        }
    }
    if (matches == 1) {
        *index_out = found;
        return NNCL_OK;
    }
    if (matches == 0) {
        snprintf(msg, sizeof msg, "no device matches '%s'; the devices are:", choice);
        append_listing(list, msg, sizeof msg);
        return nncl_fail(NNCL_E_NOT_FOUND, "%s", msg);
    }
    snprintf(msg, sizeof msg, "'%s' matches %d devices; pick one by index:", choice, matches);
    append_listing(list, msg, sizeof msg);
    return nncl_fail(NNCL_E_INVALID, "%s", msg);
}

nncl_status nncl_device_open(const nncl_device_info *info, nncl_device **out)
{
    *out = NULL;
    nncl_device *dev = calloc(1, sizeof *dev);
    if (!dev)
        return nncl_fail(NNCL_E_NOMEM, "out of memory opening a device");
    dev->info = *info;
    dev->iface = info->backend == NNCL_BACKEND_HOST ? &nncl_host_backend : &nncl_opencl_backend;
    const char *sync = getenv("NNCL_SYNC");
    dev->debug_sync = sync && *sync && strcmp(sync, "0") != 0;
    const char *prof = getenv("NNCL_PROFILE");
    dev->profile = prof && *prof && strcmp(prof, "0") != 0;
    nncl_status st = dev->iface->open(dev);
    if (st != NNCL_OK) {
        free(dev);
        return st;
    }
    *out = dev;
    return NNCL_OK;
}

void nncl_device_close(nncl_device *dev)
{
    if (!dev)
        return;
    dev->iface->close(dev);
    free(dev);
}

const nncl_device_info *nncl_device_get_info(const nncl_device *dev) { return &dev->info; }

nncl_status nncl_device_prepare(nncl_device *dev, bool *from_cache)
{
    bool dummy;
    return dev->iface->prepare(dev, from_cache ? from_cache : &dummy);
}

nncl_status nncl_device_get_startup(const nncl_device *dev, nncl_device_startup *out)
{
    *out = dev->startup;
    return NNCL_OK;
}

nncl_status nncl_device_finish(nncl_device *dev) { return dev->iface->finish(dev); }

struct nncl_fence {
    const nncl_backend_iface *iface;
    void *handle;
};

nncl_status nncl_device_fence(nncl_device *dev, nncl_fence **out)
{
    *out = NULL;
    if (!dev->iface->fence)
        return NNCL_OK;
    void *handle = NULL;
    nncl_status st = dev->iface->fence(dev, &handle);
    if (st != NNCL_OK || !handle)
        return st;
    nncl_fence *f = malloc(sizeof *f);
    if (!f) {
        dev->iface->fence_release(handle);
        return nncl_fail(NNCL_E_NOMEM, "out of memory for a fence");
    }
    *f = (nncl_fence){.iface = dev->iface, .handle = handle};
    *out = f;
    return NNCL_OK;
}

nncl_status nncl_fence_wait(nncl_fence *f) { return f ? f->iface->fence_wait(f->handle) : NNCL_OK; }

void nncl_fence_free(nncl_fence *f)
{
    if (!f)
        return;
    f->iface->fence_release(f->handle);
    free(f);
}

void nncl_device_set_debug_sync(nncl_device *dev, bool on) { dev->debug_sync = on; }

void nncl_device_set_profile(nncl_device *dev, bool on) { dev->profile = on; }

int nncl_device_profile(const nncl_device *dev, nncl_op_stat *out, int max)
{
    for (int i = 0; i < dev->n_stats && i < max; i++)
        out[i] = dev->stats[i];
    return dev->n_stats;
}

void nncl_device_transfers(const nncl_device *dev, nncl_transfer_stats *out) { *out = dev->traffic; }

void nncl_device_profile_add(nncl_device *dev, const char *op, double seconds)
{
    int i = 0;
    while (i < dev->n_stats && strcmp(dev->stats[i].op, op) != 0)
        i++;
    if (i == dev->n_stats) {
        if (i == NNCL_MAX_PROFILED_OPS)
            return;
        dev->stats[dev->n_stats++] = (nncl_op_stat){op, 0, 0.0};
    }
    dev->stats[i].calls++;
    dev->stats[i].seconds += seconds;
}

nncl_status nncl_buffer_alloc(nncl_device *dev, size_t bytes, nncl_buffer **out)
{
    *out = NULL;
    if (bytes == 0)
        return nncl_fail(NNCL_E_INVALID, "buffer of 0 bytes requested");
    if (bytes > dev->info.max_alloc_bytes)
        return nncl_fail(NNCL_E_UNSUPPORTED,
                         "buffer of %zu bytes exceeds the largest allocation of %s (%llu bytes)",
                         bytes, dev->info.name, (unsigned long long)dev->info.max_alloc_bytes);
    nncl_buffer *buf = calloc(1, sizeof *buf);
    if (!buf)
        return nncl_fail(NNCL_E_NOMEM, "out of memory allocating a buffer header");
    dev->traffic.allocs++;
    buf->dev = dev;
    buf->size = bytes;
    nncl_status st = dev->iface->buffer_alloc(buf);
    if (st != NNCL_OK) {
        free(buf);
        return st;
    }
    *out = buf;
    return NNCL_OK;
}

void nncl_buffer_free(nncl_buffer *buf)
{
    if (!buf)
        return;
    nncl_buffer_keep(buf, NULL, NULL);
    buf->dev->iface->buffer_free(buf);
    free(buf);
}

size_t nncl_buffer_size(const nncl_buffer *buf) { return buf->size; }

static nncl_status check_range(const nncl_buffer *buf, size_t offset, size_t bytes, const char *what)
{
    if (offset > buf->size || bytes > buf->size - offset)
        return nncl_fail(NNCL_E_INVALID, "%s of %zu bytes at offset %zu is outside a buffer of %zu bytes",
                         what, bytes, offset, buf->size);
    return NNCL_OK;
}

nncl_status nncl_buffer_seal(nncl_buffer *buf)
{
    if (buf->sealed)
        return NNCL_OK;
    nncl_status st = buf->dev->iface->buffer_seal ? buf->dev->iface->buffer_seal(buf) : NNCL_OK;
    if (st == NNCL_OK)
        buf->sealed = true;
    return st;
}

bool nncl_buffer_sealed(const nncl_buffer *buf) { return buf->sealed; }

void nncl_buffer_keep(nncl_buffer *buf, void *kept, void (*kept_free)(void *kept))
{
    if (buf->kept && buf->kept_free)
        buf->kept_free(buf->kept);
    buf->kept = kept;
    buf->kept_free = kept_free;
}

/* A sealed buffer's contents may have been derived from and kept
 * (nncl_buffer_keep): changing them would leave what was kept stale. */
static nncl_status check_unsealed(const nncl_buffer *buf, const char *what)
{
    if (buf->sealed)
        return nncl_fail(NNCL_E_INVALID, "%s: the buffer is sealed (its contents never change once sealed)", what);
    return NNCL_OK;
}

nncl_status nncl_buffer_write(nncl_buffer *buf, size_t offset, const void *src, size_t bytes)
{
    nncl_status st = check_unsealed(buf, "write");
    if (st == NNCL_OK)
        st = check_range(buf, offset, bytes, "write");
    if (st != NNCL_OK || bytes == 0)
        return st;
    buf->dev->traffic.writes++;
    buf->dev->traffic.bytes_written += bytes;
    return buf->dev->iface->buffer_write(buf, offset, src, bytes);
}

nncl_status nncl_buffer_read(const nncl_buffer *buf, size_t offset, void *dst, size_t bytes)
{
    nncl_status st = check_range(buf, offset, bytes, "read");
    if (st != NNCL_OK || bytes == 0)
        return st;
    buf->dev->traffic.reads++;
    buf->dev->traffic.bytes_read += bytes;
    return buf->dev->iface->buffer_read(buf, offset, dst, bytes);
}

nncl_status nncl_buffer_copy(nncl_buffer *dst, size_t dst_offset, const nncl_buffer *src,
                             size_t src_offset, size_t bytes)
{
    if (dst->dev != src->dev)
        return nncl_fail(NNCL_E_INVALID, "copy between buffers of different devices");
    nncl_status st = check_unsealed(dst, "copy destination");
    if (st == NNCL_OK)
        st = check_range(dst, dst_offset, bytes, "copy destination");
    if (st == NNCL_OK)
        st = check_range(src, src_offset, bytes, "copy source");
    if (st != NNCL_OK || bytes == 0)
        return st;
    if (dst == src && dst_offset < src_offset + bytes && src_offset < dst_offset + bytes)
        return nncl_fail(NNCL_E_INVALID, "copy within one buffer with overlapping regions");
    return dst->dev->iface->buffer_copy(dst, dst_offset, src, src_offset, bytes);
}

nncl_status nncl_view_check(const nncl_device *dev, nncl_view v, size_t elem_size, size_t count,
                            const char *what)
{
    if (!v.buf)
        return nncl_fail(NNCL_E_INVALID, "%s: no buffer given", what);
    if (v.buf->dev != dev)
        return nncl_fail(NNCL_E_INVALID, "%s: buffer belongs to another device", what);
    size_t cap = v.buf->size / elem_size;
    if (v.off > cap || count > cap - v.off)
        return nncl_fail(NNCL_E_INVALID,
                         "%s: %zu elements at offset %zu do not fit a buffer of %zu elements",
                         what, count, v.off, cap);
    return NNCL_OK;
}

nncl_status nncl_view_check_out(const nncl_device *dev, nncl_view v, size_t elem_size, size_t count,
                                const char *what)
{
    nncl_status st = nncl_view_check(dev, v, elem_size, count, what);
    return st == NNCL_OK ? check_unsealed(v.buf, what) : st;
}
