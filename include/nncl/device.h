/* nncl/device.h: the devices nncl can compute on, and memory on them.
 *
 * A *device* is one row of `nncl --device list`: an OpenCL device (GPU,
 * accelerator or CPU, from any platform the ICD loader reports) or the
 * plain-C `host` backend, which is always present and always last.
 * Buffers live on one device; all tensors are views into buffers
 * (buffer + element offset), so many tensors can share one allocation. */
#ifndef NNCL_DEVICE_H
#define NNCL_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nncl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum nncl_backend_kind {
    NNCL_BACKEND_OPENCL = 0,
    NNCL_BACKEND_HOST = 1,
} nncl_backend_kind;

/* Listing order: GPUs, accelerators, OpenCL CPUs, then host. */
typedef enum nncl_device_type {
    NNCL_DEVICE_GPU = 0,
    NNCL_DEVICE_ACCELERATOR = 1,
    NNCL_DEVICE_CPU = 2,
    NNCL_DEVICE_HOST = 3,
} nncl_device_type;

typedef struct nncl_device_info {
    int index;                      /* stable position in the listing (-1: the host
                                     * opened alone, nncl_device_list_host) */
    nncl_backend_kind backend;
    nncl_device_type type;
    char name[256];
    char vendor[256];
    char platform[256];             /* platform name ("Portable Computing Language") */
    char platform_version[256];
    char device_version[256];       /* CL_DEVICE_VERSION ("OpenCL 3.0 ...") */
    char opencl_c_version[256];     /* CL_DEVICE_OPENCL_C_VERSION: what kernels may use */
    char driver_version[256];
    unsigned compute_units;
    unsigned max_clock_mhz;
    uint64_t global_mem_bytes;
    uint64_t max_alloc_bytes;
    uint64_t local_mem_bytes;
    size_t max_work_group_size;
    bool local_mem_dedicated;       /* CL_LOCAL: on-chip (GPUs); false: ordinary memory (CPUs) */
    unsigned native_vector_float;   /* CL_DEVICE_NATIVE_VECTOR_WIDTH_FLOAT (16 on AVX-512, 8 on AVX2) */
    unsigned preferred_vector_float;
    bool fp64;
    bool fp16;
    bool nv_compiler_options;       /* cl_nv_compiler_options: -cl-nv-verbose makes the
                                     * build log say each kernel's registers (the tuner
                                     * reports them) */
    bool is_default;                /* what `--device` picks when not given */
    double train_speed;             /* samples/s nncl bench measured here (0: never) */
    bool wrong_results;             /* its kernels' search found them computing wrong
                                     * results (tuning cache): never the default, and
                                     * refused for training */
    int platform_index;             /* OpenCL platform / device numbers (-1 on host) */
    int device_index;
} nncl_device_info;

enum { NNCL_MAX_TIMED_PLATFORMS = 8 };

/* One OpenCL platform's part of a listing: the seconds it took to list its
 * devices and describe them (a driver starts there, and a GPU's may take
 * a large part of a short run's start-up). */
typedef struct nncl_platform_time {
    char platform[64];
    double seconds;
} nncl_platform_time;

typedef struct nncl_device_list {
    nncl_device_info *items;
    int count;
    int default_index;
    bool default_by_speed;          /* the default is the fastest measured, not the first */
    int opencl_platforms;           /* 0 when the loader found none */
    char opencl_note[512];          /* why OpenCL gave no devices, if it did not */
    /* What the listing took: the OpenCL loader finding its platforms (it
     * loads every driver library it is told of), then each platform, in the
     * loader's order (the first NNCL_MAX_TIMED_PLATFORMS), and the whole
     * listing, the tuning and speed caches' lookups included. */
    double loader_seconds;
    int n_platform_times;
    nncl_platform_time platform_times[NNCL_MAX_TIMED_PLATFORMS];
    double seconds;
    bool opencl_listed;             /* false: the host alone, OpenCL never asked */
} nncl_device_list;

/* Enumerate every OpenCL platform and device, then host. Finding no OpenCL
 * platform is not an error: the list then holds host only. The default is
 * index 0 (GPUs first, then accelerators, CPUs, host), unless NNCL_DEVICE
 * names another, or `nncl bench` measured at least two devices and one
 * ranked after the first trains faster than every device before it (each
 * of which must have been measured): then that one. */
nncl_status nncl_device_list_get(nncl_device_list *out);
void nncl_device_list_free(nncl_device_list *list);

/* A list of the host alone, without asking OpenCL, for a choice that can
 * only mean the host (nncl_device_choice_is_host): the OpenCL loader and
 * its drivers are never loaded, so a driver that crashes or hangs while it
 * starts cannot stop the host fallback, and a GPU's driver (~0.3 s) does
 * not start for nothing. The host's index is -1 there: its place in the
 * full listing is not known without it. */
nncl_status nncl_device_list_host(nncl_device_list *out);

/* Whether a --device choice (or NNCL_DEVICE) is "host", in any case. */
bool nncl_device_choice_is_host(const char *choice);

/* The list a choice needs: the host alone where the choice, or NNCL_DEVICE
 * when the choice is NULL or "", is "host"; else nncl_device_list_get. */
nncl_status nncl_device_list_for(const char *choice, nncl_device_list *out);

/* The host backend's BLAS: OpenBLAS's name for the kernels it chose ("" without
 * OpenBLAS), and, when they are not this CPU's own kind (OpenBLAS has taken an
 * AVX-512 machine for a "Prescott"), a note naming OPENBLAS_CORETYPE to set:
 * true with the note in out. */
const char *nncl_host_blas_core(void);
bool nncl_host_blas_note(char *out, size_t len);

/* Whether the host backend's fused byte step (linear_u8_head) runs on the
 * CPU's AMX tiles in this process: the CPU has AMX-INT8, the build has the
 * tile loops, Linux granted the tile state (asked on the first call) and
 * NNCL_U8H_AMX is not "off". The host's driver string says "+amx" then. */
bool nncl_host_amx(void);

/* At most `threads` (>= 1) CPU threads for this process's devices: the host
 * backend's (its own two-way split; it runs OpenBLAS single-threaded, set
 * for the whole process on its first product) and PoCL's, for a process
 * that shares the machine with others (a sweep's jobs, MPI ranks), where
 * every one taking all the cores would leave them fighting. A limit the
 * user set (NNCL_HOST_THREADS, POCL_MAX_PTHREAD_COUNT) is kept. PoCL reads
 * its limit when OpenCL starts: call this before any device is listed or
 * opened. */
nncl_status nncl_cpu_threads_limit(int threads);

/* The training speed measured on a device (nncl bench: samples/s of a
 * 784-128-10 step at batch 128), kept in the cache folder for choosing the
 * default device. Storing needs a cache folder (else it does nothing);
 * known returns 0 for none, or for an entry of another driver or a broken one. */
nncl_status nncl_device_speed_store(const nncl_device_info *info, double samples_per_second);
double nncl_device_speed_known(const nncl_device_info *info);

/* The CPU's FP32 peak, measured: `threads` threads (1 to 256) each run
 * independent chains of multiply-adds in the widest vectors the CPU has
 * (AVX-512, AVX2 with FMA, else SSE) for about 10 ms, five rounds, the
 * best kept (~0.06 s in all). What the cores do under that load (boost, or
 * AVX-512's lower clock), not the clock a VM reports. */
typedef struct nncl_cpu_peak {
    double gflops;
    int threads;                /* the threads that ran (fewer if some could not start) */
    char isa[16];               /* "AVX-512", "AVX2", "SSE", "scalar" */
} nncl_cpu_peak;
nncl_status nncl_cpu_fma_peak(int threads, nncl_cpu_peak *out);

/* A device's FP32 peak, measured by the device itself: on an OpenCL device
 * its fma_chains kernel (include/nncl/ops.h) on 2048 work-items a compute
 * unit, launches grown to about 10 ms, the best of six; on the host
 * nncl_cpu_fma_peak on its compute units. What its compiler and clocks
 * give multiply-adds with nothing to read: a GPU's sustained clock, PoCL's
 * vectorising of work-items (against the CPU's own peak). */
typedef struct nncl_device_peak {
    double gflops;
    size_t items;               /* work-items (OpenCL) or threads (host) */
    char how[96];               /* "measured: ..." */
} nncl_device_peak;

/* Resolve a user's choice: an index ("0"), "host", a word for a kind of
 * OpenCL device ("gpu", "cpu", "accelerator", or a platform: "pocl",
 * "nvidia", "amd", "intel"), or a case-insensitive substring of a device or
 * platform name. NULL or ""
 * means the default. Unknown and ambiguous choices fail with
 * NNCL_E_NOT_FOUND / NNCL_E_INVALID and a message listing what exists. */
nncl_status nncl_device_select(const nncl_device_list *list, const char *choice,
                               int *index_out);

typedef struct nncl_device nncl_device;

/* The device's measured FP32 peak (nncl_device_peak, above). */
nncl_status nncl_device_fma_peak(nncl_device *dev, nncl_device_peak *out);
/* The peak of the CPU a CPU device runs on (the host, an OpenCL CPU
 * device): nncl_cpu_fma_peak on its compute units' threads. */
nncl_status nncl_cpu_peak_of(const nncl_device_info *info, nncl_device_peak *out);

typedef struct nncl_buffer nncl_buffer;

/* Open a device: create its context and queue. Kernels are compiled on first
 * use (once per process, or loaded from the on-disk program cache). */
nncl_status nncl_device_open(const nncl_device_info *info, nncl_device **out);
void nncl_device_close(nncl_device *dev);
const nncl_device_info *nncl_device_get_info(const nncl_device *dev);

/* Compile (or load from the cache) this device's kernel program now rather
 * than on first use. `from_cache` (may be NULL) tells which happened. */
nncl_status nncl_device_prepare(nncl_device *dev, bool *from_cache);

/* Where the device's start-up went so far: building its kernel programs or
 * loading them from the cache (the main program, on first use or prepare),
 * and of that, a first-use tuning search. Not its opening, which the caller
 * can time (a driver's own start-up is most of it). */
typedef struct nncl_device_startup {
    double kernels_seconds;
    double tuning_seconds;
} nncl_device_startup;
nncl_status nncl_device_get_startup(const nncl_device *dev, nncl_device_startup *out);

/* Wait until all queued work is done; reports errors that surfaced late. */
nncl_status nncl_device_finish(nncl_device *dev);

/* A mark in the device's queue after everything queued so far, so that the
 * host can wait for part of the queue rather than all of it (the training
 * loop keeps a bounded amount of work queued, so that Ctrl-C is quick).
 * *out is NULL on a device that runs each op as it is called (the host):
 * waiting for it returns at once. */
typedef struct nncl_fence nncl_fence;
nncl_status nncl_device_fence(nncl_device *dev, nncl_fence **out);
/* Wait until the work before f has run; f stays to be freed. */
nncl_status nncl_fence_wait(nncl_fence *f);
void nncl_fence_free(nncl_fence *f);

/* When on, every op waits for its kernel to finish and checks the status, so
 * an error is reported by the op that caused it (NNCL_SYNC=1 sets it). */
void nncl_device_set_debug_sync(nncl_device *dev, bool on);

/* Profiling: when on (NNCL_PROFILE=1 sets it at open), every op waits for
 * its work to finish and its wall time is added to a per-op total. It slows
 * training down (no overlap between ops) but says where the time goes. */
typedef struct nncl_op_stat {
    const char *op;             /* "gemm", "softmax_xent", ... */
    unsigned long calls;
    double seconds;
} nncl_op_stat;

void nncl_device_set_profile(nncl_device *dev, bool on);
/* Copies up to max entries, in order of first use; returns how many exist. */
int nncl_device_profile(const nncl_device *dev, nncl_op_stat *out, int max);

/* Buffer traffic since the device was opened: allocations, and transfers
 * between host and device (always counted: what a training step must not
 * do, checked by the tests). */
typedef struct nncl_transfer_stats {
    unsigned long allocs, writes, reads;
    unsigned long long bytes_written, bytes_read;
} nncl_transfer_stats;

void nncl_device_transfers(const nncl_device *dev, nncl_transfer_stats *out);

/* Buffers: sizes and offsets in bytes. New buffers are not zeroed. */
nncl_status nncl_buffer_alloc(nncl_device *dev, size_t bytes, nncl_buffer **out);
void nncl_buffer_free(nncl_buffer *buf);
size_t nncl_buffer_size(const nncl_buffer *buf);
nncl_status nncl_buffer_write(nncl_buffer *buf, size_t offset, const void *src, size_t bytes);
nncl_status nncl_buffer_read(const nncl_buffer *buf, size_t offset, void *dst, size_t bytes);
/* Copy bytes between two buffers of the same device (regions must not overlap). */
nncl_status nncl_buffer_copy(nncl_buffer *dst, size_t dst_offset, const nncl_buffer *src,
                             size_t src_offset, size_t bytes);

/* Seal a buffer whose contents will not change again (a dataset's rows,
 * once uploaded: nncl_device_data_upload seals its x). From then on a write
 * or a copy into it fails, and so does an op given it as an output; on the
 * host device its memory is also made read-only, so that no stray store can
 * change it. In exchange the device may keep what it derives from the
 * contents for as long as the buffer lives: the host's fused byte step
 * (linear_u8_head) lists each row's nonzero bytes once, not every step.
 * Sealing a sealed buffer does nothing; there is no unsealing. */
nncl_status nncl_buffer_seal(nncl_buffer *buf);
bool nncl_buffer_sealed(const nncl_buffer *buf);

/* A tensor argument: a buffer and an offset in *elements* of the op's type. */
typedef struct nncl_view {
    nncl_buffer *buf;
    size_t off;
} nncl_view;

static inline nncl_view nncl_view_of(nncl_buffer *buf, size_t off)
{
    nncl_view v = {buf, off};
    return v;
}

/* Messages the library has for a person but cannot print itself (only the
 * CLI prints): what a slow first use is doing ("compiling kernels for ...",
 * "tuning ..."), a cache entry ignored, and the OpenCL compiler's own output
 * (NNCL_NOTICE_VERBOSE, which a CLI shows only when asked). Without a
 * handler they are dropped. Process-wide. */
typedef enum nncl_notice_level {
    NNCL_NOTICE_INFO = 0,
    NNCL_NOTICE_WARNING = 1,
    NNCL_NOTICE_VERBOSE = 2,
} nncl_notice_level;
typedef void (*nncl_notice_fn)(void *ctx, nncl_notice_level level, const char *text);
void nncl_set_notice_handler(nncl_notice_fn fn, void *ctx);

/* Names for printing. */
const char *nncl_backend_name(nncl_backend_kind kind);
const char *nncl_device_type_name(nncl_device_type type);

#ifdef __cplusplus
}
#endif
#endif
