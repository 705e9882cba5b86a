/* The OpenCL backend: enumeration of every platform and device, contexts and
 * queues, buffers, and the kernel launcher used by the op dispatchers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device/opencl_impl.h"
#include "util/clock.h"

/* ---- enumeration ------------------------------------------------------- */

static void get_string(cl_device_id d, cl_device_info what, char *out, size_t len)
{
    out[0] = '\0';
    if (clGetDeviceInfo(d, what, len, out, NULL) != CL_SUCCESS)
        snprintf(out, len, "?");
    out[len - 1] = '\0';
}

static bool has_extension(cl_device_id d, const char *ext)
{
    size_t len = 0;
    if (clGetDeviceInfo(d, CL_DEVICE_EXTENSIONS, 0, NULL, &len) != CL_SUCCESS || len == 0)
        return false;
    char *exts = malloc(len + 1);
    if (!exts)
        return false;
    bool found = false;
    if (clGetDeviceInfo(d, CL_DEVICE_EXTENSIONS, len, exts, NULL) == CL_SUCCESS) {
        exts[len] = '\0';
        size_t n = strlen(ext);
        for (char *p = strstr(exts, ext); p && !found; p = strstr(p + 1, ext))
            found = (p == exts || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0');
    }
    free(exts);
    return found;
}

static void describe(cl_platform_id p, cl_device_id d, int pi, int di, nncl_device_info *info)
{
    memset(info, 0, sizeof *info);
    info->backend = NNCL_BACKEND_OPENCL;
    info->platform_index = pi;
    info->device_index = di;

    cl_device_type type = 0;
    clGetDeviceInfo(d, CL_DEVICE_TYPE, sizeof type, &type, NULL);
    if (type & CL_DEVICE_TYPE_GPU)
        info->type = NNCL_DEVICE_GPU;
    else if (type & CL_DEVICE_TYPE_CPU)
        info->type = NNCL_DEVICE_CPU;
    else
        info->type = NNCL_DEVICE_ACCELERATOR; /* accelerators and custom devices */

    get_string(d, CL_DEVICE_NAME, info->name, sizeof info->name);
    get_string(d, CL_DEVICE_VENDOR, info->vendor, sizeof info->vendor);
    get_string(d, CL_DEVICE_VERSION, info->device_version, sizeof info->device_version);
    get_string(d, CL_DEVICE_OPENCL_C_VERSION, info->opencl_c_version, sizeof info->opencl_c_version);
    get_string(d, CL_DRIVER_VERSION, info->driver_version, sizeof info->driver_version);
    if (clGetPlatformInfo(p, CL_PLATFORM_NAME, sizeof info->platform, info->platform, NULL) != CL_SUCCESS)
        snprintf(info->platform, sizeof info->platform, "?");
    if (clGetPlatformInfo(p, CL_PLATFORM_VERSION, sizeof info->platform_version,
                          info->platform_version, NULL) != CL_SUCCESS)
        snprintf(info->platform_version, sizeof info->platform_version, "?");

    cl_uint u = 0;
    cl_ulong ul = 0;
    size_t sz = 0;
    if (clGetDeviceInfo(d, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof u, &u, NULL) == CL_SUCCESS)
        info->compute_units = u;
    if (clGetDeviceInfo(d, CL_DEVICE_MAX_CLOCK_FREQUENCY, sizeof u, &u, NULL) == CL_SUCCESS)
        info->max_clock_mhz = u;
    if (clGetDeviceInfo(d, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof ul, &ul, NULL) == CL_SUCCESS)
        info->global_mem_bytes = ul;
    if (clGetDeviceInfo(d, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof ul, &ul, NULL) == CL_SUCCESS)
        info->max_alloc_bytes = ul;
    if (clGetDeviceInfo(d, CL_DEVICE_LOCAL_MEM_SIZE, sizeof ul, &ul, NULL) == CL_SUCCESS)
        info->local_mem_bytes = ul;
    if (clGetDeviceInfo(d, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof sz, &sz, NULL) == CL_SUCCESS)
        info->max_work_group_size = sz;
    cl_device_local_mem_type lmt = CL_GLOBAL;
    if (clGetDeviceInfo(d, CL_DEVICE_LOCAL_MEM_TYPE, sizeof lmt, &lmt, NULL) == CL_SUCCESS)
        info->local_mem_dedicated = lmt == CL_LOCAL;
    if (clGetDeviceInfo(d, CL_DEVICE_NATIVE_VECTOR_WIDTH_FLOAT, sizeof u, &u, NULL) == CL_SUCCESS)
        info->native_vector_float = u;
    if (clGetDeviceInfo(d, CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT, sizeof u, &u, NULL) == CL_SUCCESS)
        info->preferred_vector_float = u;
    cl_device_fp_config fp64 = 0;
    clGetDeviceInfo(d, CL_DEVICE_DOUBLE_FP_CONFIG, sizeof fp64, &fp64, NULL);
    info->fp64 = fp64 != 0 || has_extension(d, "cl_khr_fp64");
    info->fp16 = has_extension(d, "cl_khr_fp16");
    info->nv_compiler_options = has_extension(d, "cl_nv_compiler_options");
    info->name[strcspn(info->name, "\n")] = '\0';
}

#define NO_OPENCL_HINT "install an OpenCL driver; for the CPU: apt-get install pocl-opencl-icd"

/* The name of platform p for the listing's times ("" if it will not say). */
static void platform_time_name(cl_platform_id p, char *out, size_t len)
{
    char name[256] = "";
    if (clGetPlatformInfo(p, CL_PLATFORM_NAME, sizeof name, name, NULL) != CL_SUCCESS)
        name[0] = '\0';
    name[sizeof name - 1] = '\0';
    snprintf(out, len, "%s", name);
}

nncl_status nncl_opencl_enumerate(nncl_device_info **items, int *count, nncl_device_list *list)
{
    *items = NULL;
    *count = 0;
    list->opencl_platforms = 0;
    list->n_platform_times = 0;
    char *note = list->opencl_note;
    size_t note_len = sizeof list->opencl_note;
    note[0] = '\0';

    double t0 = nncl_seconds_now();
    cl_uint np = 0;
    cl_int err = clGetPlatformIDs(0, NULL, &np);
    list->loader_seconds = nncl_seconds_now() - t0;
    /* No platform at all (CL_PLATFORM_NOT_FOUND_KHR from the ICD loader) is
     * the normal case on a machine without OpenCL: host only. */
    if (err != CL_SUCCESS || np == 0) {
        if (err == CL_SUCCESS || err == -1001)
            snprintf(note, note_len, "no OpenCL platform found; " NO_OPENCL_HINT);
        else
            snprintf(note, note_len, "OpenCL unavailable (clGetPlatformIDs: %s); " NO_OPENCL_HINT,
                     nncl_cl_error_name(err));
        return NNCL_OK;
    }
    cl_platform_id *plats = calloc(np, sizeof *plats);
    if (!plats)
        return nncl_fail(NNCL_E_NOMEM, "out of memory listing OpenCL platforms");
    err = clGetPlatformIDs(np, plats, NULL);
    if (err != CL_SUCCESS) {
        free(plats);
        snprintf(note, note_len, "OpenCL unavailable (clGetPlatformIDs: %s)", nncl_cl_error_name(err));
        return NNCL_OK;
    }
    list->opencl_platforms = (int)np;

    int cap = 8, n = 0;
    nncl_device_info *out = calloc((size_t)cap, sizeof *out);
    if (!out) {
        free(plats);
        return nncl_fail(NNCL_E_NOMEM, "out of memory listing OpenCL devices");
    }
    for (cl_uint pi = 0; pi < np; pi++) {
        double tp = nncl_seconds_now();
        nncl_platform_time *pt = NULL;
        if (list->n_platform_times < NNCL_MAX_TIMED_PLATFORMS) {
            pt = &list->platform_times[list->n_platform_times++];
            platform_time_name(plats[pi], pt->platform, sizeof pt->platform);
        }
        cl_uint nd = 0;
        /* A platform with no devices answers CL_DEVICE_NOT_FOUND: skip it. */
        if (clGetDeviceIDs(plats[pi], CL_DEVICE_TYPE_ALL, 0, NULL, &nd) != CL_SUCCESS || nd == 0) {
            if (pt)
                pt->seconds = nncl_seconds_now() - tp;
            continue;
        }
        cl_device_id *devs = calloc(nd, sizeof *devs);
        if (!devs || clGetDeviceIDs(plats[pi], CL_DEVICE_TYPE_ALL, nd, devs, NULL) != CL_SUCCESS) {
            free(devs);
            if (pt)
                pt->seconds = nncl_seconds_now() - tp;
            continue;
        }
        for (cl_uint di = 0; di < nd; di++) {
            if (n == cap) {
                nncl_device_info *grown = realloc(out, (size_t)cap * 2 * sizeof *out);
                if (!grown) {
                    free(devs);
                    free(plats);
                    free(out);
                    return nncl_fail(NNCL_E_NOMEM, "out of memory listing OpenCL devices");
                }
                out = grown;
                cap *= 2;
            }
            describe(plats[pi], devs[di], (int)pi, (int)di, &out[n++]);
        }
        free(devs);
        if (pt)
            pt->seconds = nncl_seconds_now() - tp;
    }
    free(plats);
    if (n == 0)
        snprintf(note, note_len, "%u OpenCL platform(s) but no device; " NO_OPENCL_HINT, np);
    *items = out;
    *count = n;
    return NNCL_OK;
}

/* ---- context, queue, buffers -------------------------------------------- */

static nncl_status find_device(const nncl_device_info *info, cl_platform_id *p, cl_device_id *d)
{
    cl_uint np = 0;
    cl_int err = clGetPlatformIDs(0, NULL, &np);
    if (err != CL_SUCCESS || (cl_uint)info->platform_index >= np)
        return nncl_fail(NNCL_E_NOT_FOUND, "OpenCL platform %d of '%s' has gone", info->platform_index,
                         info->name);
    cl_platform_id plats[64];
    clGetPlatformIDs(np < 64 ? np : 64, plats, NULL);
    *p = plats[info->platform_index];
    cl_uint nd = 0;
    err = clGetDeviceIDs(*p, CL_DEVICE_TYPE_ALL, 0, NULL, &nd);
    if (err != CL_SUCCESS || (cl_uint)info->device_index >= nd)
        return nncl_fail(NNCL_E_NOT_FOUND, "OpenCL device '%s' has gone", info->name);
    cl_device_id devs[64];
    clGetDeviceIDs(*p, CL_DEVICE_TYPE_ALL, nd < 64 ? nd : 64, devs, NULL);
    *d = devs[info->device_index];
    return NNCL_OK;
}

static nncl_status cl_open(nncl_device *dev)
{
    nncl_cl_device *cl = calloc(1, sizeof *cl);
    if (!cl)
        return nncl_fail(NNCL_E_NOMEM, "out of memory opening %s", dev->info.name);
    nncl_status st = find_device(&dev->info, &cl->platform, &cl->device);
    if (st != NNCL_OK) {
        free(cl);
        return st;
    }
    cl_int err;
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)cl->platform, 0};
    cl->context = clCreateContext(props, 1, &cl->device, NULL, NULL, &err);
    if (err != CL_SUCCESS) {
        free(cl);
        return nncl_cl_fail(err, "clCreateContext", NULL);
    }
    /* clCreateCommandQueue is deprecated in 2.0 but is the 1.2 call, and
     * every platform still provides it. */
    cl->queue = clCreateCommandQueue(cl->context, cl->device, 0, &err);
    if (err != CL_SUCCESS) {
        clReleaseContext(cl->context);
        free(cl);
        return nncl_cl_fail(err, "clCreateCommandQueue", NULL);
    }
    /* The kernels' parameters are settled when the program is first built
     * (nncl_op_params_resolve): a cache entry, a first-use search, or the
     * capability table. Until then, the table's. */
    st = nncl_op_params_create(&dev->info, &cl->op_params);
    if (st != NNCL_OK) {
        clReleaseCommandQueue(cl->queue);
        clReleaseContext(cl->context);
        free(cl);
        return st;
    }
    dev->impl = cl;
    return NNCL_OK;
}

static void cl_close(nncl_device *dev)
{
    nncl_cl_device *cl = nncl_cl_of(dev);
    if (!cl)
        return;
    clFinish(cl->queue);
    nncl_op_params_free(cl->op_params);
    nncl_cl_program_release(cl);
    clReleaseCommandQueue(cl->queue);
    clReleaseContext(cl->context);
    free(cl);
    dev->impl = NULL;
}

static nncl_status cl_finish(nncl_device *dev)
{
    cl_int err = clFinish(nncl_cl_of(dev)->queue);
    return err == CL_SUCCESS ? NNCL_OK : nncl_cl_fail(err, "clFinish", NULL);
}

/* A marker event, flushed so that the work before it is submitted now. */
static nncl_status cl_fence(nncl_device *dev, void **handle)
{
    cl_command_queue q = nncl_cl_of(dev)->queue;
    cl_event ev;
    cl_int err = clEnqueueMarkerWithWaitList(q, 0, NULL, &ev);
    if (err != CL_SUCCESS)
        return nncl_cl_fail(err, "clEnqueueMarkerWithWaitList", NULL);
    if ((err = clFlush(q)) != CL_SUCCESS) {
        clReleaseEvent(ev);
        return nncl_cl_fail(err, "clFlush", NULL);
    }
    *handle = ev;
    return NNCL_OK;
}

static nncl_status cl_fence_wait(void *handle)
{
    cl_event ev = handle;
    cl_int err = clWaitForEvents(1, &ev);
    return err == CL_SUCCESS ? NNCL_OK : nncl_cl_fail(err, "clWaitForEvents", NULL);
}

static void cl_fence_release(void *handle) { clReleaseEvent((cl_event)handle); }

static nncl_status cl_prepare(nncl_device *dev, bool *from_cache)
{
    return nncl_cl_program_ensure(dev, from_cache);
}

static nncl_status cl_buffer_alloc(nncl_buffer *buf)
{
    cl_int err;
    cl_mem mem = clCreateBuffer(nncl_cl_of(buf->dev)->context, CL_MEM_READ_WRITE, buf->size, NULL, &err);
    if (err != CL_SUCCESS)
        return nncl_cl_fail(err, "clCreateBuffer", NULL);
    buf->mem = mem;
    return NNCL_OK;
}

static void cl_buffer_free(nncl_buffer *buf)
{
    if (buf->mem)
        clReleaseMemObject((cl_mem)buf->mem);
}

/* Writes and reads are blocking: the host memory may be reused at once, and
 * errors that surfaced late in earlier kernels show up here. */
static nncl_status cl_buffer_write(nncl_buffer *buf, size_t offset, const void *src, size_t bytes)
{
    cl_int err = clEnqueueWriteBuffer(nncl_cl_of(buf->dev)->queue, (cl_mem)buf->mem, CL_TRUE, offset,
                                      bytes, src, 0, NULL, NULL);
    return err == CL_SUCCESS ? NNCL_OK : nncl_cl_fail(err, "clEnqueueWriteBuffer", NULL);
}

static nncl_status cl_buffer_read(const nncl_buffer *buf, size_t offset, void *dst, size_t bytes)
{
    cl_int err = clEnqueueReadBuffer(nncl_cl_of(buf->dev)->queue, (cl_mem)buf->mem, CL_TRUE, offset,
                                     bytes, dst, 0, NULL, NULL);
    return err == CL_SUCCESS ? NNCL_OK : nncl_cl_fail(err, "clEnqueueReadBuffer", NULL);
}

static nncl_status cl_buffer_copy(nncl_buffer *dst, size_t dst_offset, const nncl_buffer *src,
                                  size_t src_offset, size_t bytes)
{
    cl_int err = clEnqueueCopyBuffer(nncl_cl_of(dst->dev)->queue, (cl_mem)src->mem, (cl_mem)dst->mem,
                                     src_offset, dst_offset, bytes, 0, NULL, NULL);
    return err == CL_SUCCESS ? NNCL_OK : nncl_cl_fail(err, "clEnqueueCopyBuffer", NULL);
}

/* ---- launching kernels --------------------------------------------------- */

static cl_kernel find_kernel(nncl_cl_device *cl, const char *name)
{
    for (int i = 0; i < cl->kernel_count; i++)
        if (strcmp(cl->kernels[i].name, name) == 0)
            return cl->kernels[i].kernel;
    return NULL;
}

cl_kernel nncl_cl_kernel_named(nncl_device *dev, const char *name) { return find_kernel(nncl_cl_of(dev), name); }

nncl_status nncl_cl_sync_if_debug(nncl_device *dev, const char *name)
{
    if (!dev->debug_sync)
        return NNCL_OK;
    cl_int err = clFinish(nncl_cl_of(dev)->queue);
    return err == CL_SUCCESS ? NNCL_OK : nncl_cl_fail(err, "clFinish after", name);
}

nncl_status nncl_cl_launch(nncl_device *dev, const char *name, cl_uint dims, const size_t *global,
                           const size_t *local, int nargs, const nncl_cl_arg *args)
{
    nncl_status st = nncl_cl_program_ensure(dev, NULL);
    if (st != NNCL_OK)
        return st;
    nncl_cl_device *cl = nncl_cl_of(dev);
    cl_kernel k = find_kernel(cl, name);
    if (!k)
        return nncl_fail(NNCL_E_DEVICE, "kernel '%s' is not in the program built for %s", name,
                         dev->info.name);
    for (int i = 0; i < nargs; i++) {
        cl_int err = clSetKernelArg(k, (cl_uint)i, args[i].size, &args[i].v);
        if (err != CL_SUCCESS) {
            char call[64];
            snprintf(call, sizeof call, "clSetKernelArg #%d", i);
            return nncl_cl_fail(err, call, name);
        }
    }
    size_t g[3], l[3];
    size_t max_wg = dev->info.max_work_group_size ? dev->info.max_work_group_size : 1;
    for (cl_uint d = 0; d < dims; d++) {
        l[d] = local ? local[d] : (d == 0 ? 64 : 1);
        if (!local && l[d] > max_wg)
            l[d] = max_wg;
        size_t n = global[d] ? global[d] : 1;
        g[d] = (n + l[d] - 1) / l[d] * l[d];
    }
    cl_int err = clEnqueueNDRangeKernel(cl->queue, k, dims, NULL, g, l, 0, NULL, NULL);
    if (err != CL_SUCCESS)
        return nncl_cl_fail(err, "clEnqueueNDRangeKernel", name);
    return nncl_cl_sync_if_debug(dev, name);
}

#define NNCL_CL_ENTRY(name) .name = nncl_cl_##name,
/* The byte-input ops are a CPU's shapes: linear_u8_head gives each compute
 * unit a chunk of rows with ~35 KB of private arrays per work-item, and
 * linear_u8_fwd / _wgrad run one work-item per block of outputs with no
 * local memory. Correct on a GPU but slow: on the H200 of 2026-12-04 a
 * 784 -> 256 layer's weight gradient over 128 rows took 476 us as
 * linear_u8_wgrad, where nncl bench's dW rate puts a local-memory GEMM of
 * that shape at about 40 us. A GPU gathers and runs the separate ops (the
 * bare run there: 3.4 s -> 1.8 s, with K split too). */
static bool cl_prefers(const nncl_device *dev, nncl_op_id op)
{
    bool bytes = op == NNCL_OP_linear_u8_head || op == NNCL_OP_linear_u8_fwd || op == NNCL_OP_linear_u8_wgrad;
    return !bytes || dev->info.type == NNCL_DEVICE_CPU;
}

const nncl_backend_iface nncl_opencl_backend = {
    .name = "opencl",
    .open = cl_open,
    .close = cl_close,
    .prepare = cl_prepare,
    .finish = cl_finish,
    .fence = cl_fence,
    .fence_wait = cl_fence_wait,
    .fence_release = cl_fence_release,
    .prefers = cl_prefers,
    .buffer_alloc = cl_buffer_alloc,
    .buffer_free = cl_buffer_free,
    .buffer_write = cl_buffer_write,
    .buffer_read = cl_buffer_read,
    .buffer_copy = cl_buffer_copy,
    NNCL_OPS(NNCL_CL_ENTRY)
};
#undef NNCL_CL_ENTRY
