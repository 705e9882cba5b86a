/* The backend interface: what a device implementation provides.
 * Private to the library; ops and devices see it, users do not. */
#ifndef NNCL_BACKEND_H
#define NNCL_BACKEND_H

#include "nncl/device.h"
#include "nncl/ops.h"

typedef struct nncl_backend_iface {
    const char *name;
    nncl_status (*open)(nncl_device *dev);
    void (*close)(nncl_device *dev);
    nncl_status (*prepare)(nncl_device *dev, bool *from_cache);
    nncl_status (*finish)(nncl_device *dev);
    /* A marker after the work queued so far (*handle NULL: none needed),
     * waited for and released; NULL members: ops run as they are called. */
    nncl_status (*fence)(nncl_device *dev, void **handle);
    nncl_status (*fence_wait)(void *handle);
    void (*fence_release)(void *handle);
    nncl_status (*buffer_alloc)(nncl_buffer *buf);
    void (*buffer_free)(nncl_buffer *buf);
    nncl_status (*buffer_write)(nncl_buffer *buf, size_t offset, const void *src, size_t bytes);
    nncl_status (*buffer_read)(const nncl_buffer *buf, size_t offset, void *dst, size_t bytes);
    nncl_status (*buffer_copy)(nncl_buffer *dst, size_t dst_offset, const nncl_buffer *src,
                               size_t src_offset, size_t bytes);
    /* Makes a buffer's memory read-only where the backend can (NULL: the
     * flag alone guards it); buffer_free then undoes it. */
    nncl_status (*buffer_seal)(nncl_buffer *buf);
    /* Whether the backend prefers an op it supports (NULL: every one). */
    bool (*prefers)(const nncl_device *dev, nncl_op_id op);
    /* The ops; a NULL entry means "not supported on this backend". */
#define NNCL_IFACE_MEMBER(name) \
    nncl_status (*name)(nncl_device *dev, const nncl_##name##_args *args);
    NNCL_OPS(NNCL_IFACE_MEMBER)
#undef NNCL_IFACE_MEMBER
} nncl_backend_iface;

#define NNCL_MAX_PROFILED_OPS 32

struct nncl_device {
    const nncl_backend_iface *iface;
    nncl_device_info info;
    bool debug_sync;
    bool profile;
    int n_stats;
    nncl_op_stat stats[NNCL_MAX_PROFILED_OPS];
    nncl_transfer_stats traffic;
    nncl_device_startup startup; /* kernels built or loaded, tuning (the backend adds) */
    void *impl;                 /* backend state (struct nncl_cl_device for OpenCL) */
};

struct nncl_buffer {
    nncl_device *dev;
    size_t size;
    void *host;                 /* host backend: the memory itself */
    void *mem;                  /* OpenCL backend: the cl_mem */
    bool sealed;                /* nncl_buffer_seal: the contents never change */
    /* What an op derived from a sealed buffer's contents and keeps with it
     * (nncl_buffer_keep): freed with the buffer by kept_free. */
    void *kept;
    void (*kept_free)(void *kept);
};

/* Every op has a host twin and an OpenCL dispatcher, declared here. */
#define NNCL_DECLARE_IMPLS(name) \
    nncl_status nncl_host_##name(nncl_device *dev, const nncl_##name##_args *args); \
    nncl_status nncl_cl_##name(nncl_device *dev, const nncl_##name##_args *args); \
    nncl_status nncl_check_##name(const nncl_device *dev, const nncl_##name##_args *args);
NNCL_OPS(NNCL_DECLARE_IMPLS)
#undef NNCL_DECLARE_IMPLS

extern const nncl_backend_iface nncl_host_backend;
extern const nncl_backend_iface nncl_opencl_backend;

/* OpenCL enumeration, used by the device list (src/device/opencl.c): the
 * devices, the platforms' count, why there are none, and the listing's
 * seconds (list's loader_seconds and platform_times). */
nncl_status nncl_opencl_enumerate(nncl_device_info **items, int *count, nncl_device_list *list);
void nncl_host_describe(nncl_device_info *info);

/* Host view helpers: the float/byte/int pointer a view denotes. */
/* Add one call of op taking `seconds` to the device's profile. */
void nncl_device_profile_add(nncl_device *dev, const char *op, double seconds);

/* Fail unless view v holds `count` elements of `elem_size` bytes on device
 * dev; `what` names the argument in the message ("gemm: C"). */
nncl_status nncl_view_check(const nncl_device *dev, nncl_view v, size_t elem_size,
                            size_t count, const char *what);
/* nncl_view_check for a view the op writes: a sealed buffer is refused. */
nncl_status nncl_view_check_out(const nncl_device *dev, nncl_view v, size_t elem_size,
                                size_t count, const char *what);

/* Keep `kept` with a sealed buffer, freed by kept_free when the buffer is
 * freed or something else is kept in its place (one thing per buffer: the
 * host's lists of nonzero bytes, u8_head_host.c). Only derived data may go
 * here: the contents it came from cannot change while the buffer lives. */
void nncl_buffer_keep(nncl_buffer *buf, void *kept, void (*kept_free)(void *kept));

/* The host device's working buffer, at least `bytes` long and 64-byte
 * aligned, kept by the device and grown when a call needs more: what a host
 * op needs beyond its arguments, so that a training step allocates nothing
 * once its first step has run. One op at a time uses it (a device's ops
 * are called from one thread, one after the other); its contents do not
 * outlive the call. */
nncl_status nncl_host_workspace(nncl_device *dev, size_t bytes, void **out);

static inline float *nncl_host_f32(nncl_view v) { return (float *)v.buf->host + v.off; }
static inline unsigned char *nncl_host_u8(nncl_view v) { return (unsigned char *)v.buf->host + v.off; }
static inline int32_t *nncl_host_i32(nncl_view v) { return (int32_t *)v.buf->host + v.off; }

#endif
