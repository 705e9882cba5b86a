/* OpenCL backend internals shared by src/device/opencl*.c and the op
 * dispatchers in src/ops/: the device state, error reporting by name, and a
 * typed kernel launcher. */
#ifndef NNCL_OPENCL_IMPL_H
#define NNCL_OPENCL_IMPL_H

#include <CL/cl.h>

#include "device/backend.h"
#include "device/op_params.h"

typedef struct nncl_cl_kernel {
    char name[64];
    cl_kernel kernel;
} nncl_cl_kernel;

typedef struct nncl_cl_device {
    cl_platform_id platform;
    cl_device_id device;
    cl_context context;
    cl_command_queue queue;
    cl_program program;         /* NULL until first use */
    nncl_cl_kernel *kernels;
    int kernel_count;
    char build_options[1024];
    nncl_op_params *op_params;  /* the kernels' parameters (src/ops owns them) */
    bool params_resolved;       /* settled (cache, search or table) */
} nncl_cl_device;

static inline nncl_cl_device *nncl_cl_of(nncl_device *dev) { return (nncl_cl_device *)dev->impl; }

/* "CL_OUT_OF_RESOURCES" for -5; "CL_UNKNOWN_ERROR" for codes it does not know. */
const char *nncl_cl_error_name(cl_int err);

/* Record "call(kernel): CL_NAME (code)" and return NNCL_E_DEVICE. `kernel`
 * may be NULL when no kernel is involved. */
nncl_status nncl_cl_fail(cl_int err, const char *call, const char *kernel);

/* Build the program (or load it from the cache) if not yet done. */
nncl_status nncl_cl_program_ensure(nncl_device *dev, bool *from_cache);
void nncl_cl_program_release(nncl_cl_device *cl);

/* A program and its kernels as a value: the fused ops' tuner
 * (src/ops/fused_tuner.c) builds one per candidate, exchanges it with the
 * device's own, runs the ops' own dispatchers on it, and exchanges back. */
typedef struct nncl_cl_program_slot {
    cl_program program;
    nncl_cl_kernel *kernels;
    int kernel_count;
} nncl_cl_program_slot;

/* A slot for prog (built), which the slot owns from now on, even on failure. */
nncl_status nncl_cl_slot_make(cl_program prog, nncl_cl_program_slot *out);
void nncl_cl_slot_release(nncl_cl_program_slot *s);
/* The device's program and kernels for those of *s, and *s for the
 * device's (twice: as before). */
void nncl_cl_slot_exchange(nncl_device *dev, nncl_cl_program_slot *s);

/* The named kernel files (names NULL: all), assembled as for a build, with
 * #line directives (malloc'd). */
nncl_status nncl_cl_source(const char *const *names, int count, char **out, size_t *len);

/* clBuildProgram for one device, with whatever the driver prints on stderr
 * caught and passed, with the build log, to the verbose notices
 * (src/device/cl_build.c). */
cl_int nncl_cl_build_quietly(cl_program prog, cl_device_id device, const char *options);
/* The same for progs[0..n), each with options[i], all at once (a thread
 * each, at most 16 threads): each one's status in errs[i] and the seconds
 * its build took in seconds[i]. The caller sizes n to the cores. */
void nncl_cl_build_batch(const cl_program *progs, const char *const *options, int n, cl_device_id device,
                         cl_int *errs, double *seconds);
/* A program's build log for device ("" for none), malloc'd, or NULL. */
char *nncl_cl_build_log(cl_program prog, cl_device_id device);
/* What ptxas said of `kernel` in a build log made with -cl-nv-verbose (the
 * cl_nv_compiler_options extension passes it on as --verbose): its
 * registers and the bytes it spills (stores). True when the log names the
 * kernel and its registers; otherwise *registers and *spill_bytes are 0. */
bool nncl_cl_log_registers(const char *log, const char *kernel, int *registers, int *spill_bytes);
/* A program's source (clGetProgramInfo), malloc'd, or NULL. */
char *nncl_cl_program_source(cl_program prog);
/* A compiler's log with locations in the assembled source (a compiler that
 * ignores #line) turned into "file.cl:line" through the #line directives of
 * source (NULL: copied as it is); malloc'd, NULL when out of memory. */
char *nncl_cl_log_locate(const char *log, const char *source);

/* The named kernel of the device's built program (nncl_cl_program_ensure
 * first), or NULL. */
cl_kernel nncl_cl_kernel_named(nncl_device *dev, const char *name);

/* clFinish after a launch when the device debugs synchronously (else
 * NNCL_OK): the failing kernel is then the one named. */
nncl_status nncl_cl_sync_if_debug(nncl_device *dev, const char *name);

/* One kernel argument, by value. */
typedef struct nncl_cl_arg {
    size_t size;
    union {
        cl_mem mem;
        cl_int i;
        cl_uint u;
        cl_ulong ul;
        cl_float f;
    } v;
} nncl_cl_arg;

static inline nncl_cl_arg nncl_arg_buf(const nncl_buffer *b)
{
    nncl_cl_arg a = {sizeof(cl_mem), {.mem = (cl_mem)b->mem}};
    return a;
}
static inline nncl_cl_arg nncl_arg_int(int x) { nncl_cl_arg a = {sizeof(cl_int), {.i = x}}; return a; }
static inline nncl_cl_arg nncl_arg_uint(unsigned x) { nncl_cl_arg a = {sizeof(cl_uint), {.u = x}}; return a; }
static inline nncl_cl_arg nncl_arg_ulong(size_t x) { nncl_cl_arg a = {sizeof(cl_ulong), {.ul = x}}; return a; }
static inline nncl_cl_arg nncl_arg_float(float x) { nncl_cl_arg a = {sizeof(cl_float), {.f = x}}; return a; }

/* Run kernel `name` over `global` work-items per dimension, in groups of
 * `local` (NULL: 64 in dimension 0, 1 elsewhere). Global sizes are rounded up
 * to a multiple of the local size; kernels guard their edges. */
nncl_status nncl_cl_launch(nncl_device *dev, const char *name, cl_uint dims,
                           const size_t *global, const size_t *local,
                           int nargs, const nncl_cl_arg *args);

#define NNCL_CL_ARGS(...)                                                   \
    (int)(sizeof((nncl_cl_arg[]){__VA_ARGS__}) / sizeof(nncl_cl_arg)),      \
        (nncl_cl_arg[]) { __VA_ARGS__ }

#endif
