/* bench_gemm_peers: the GEMM shapes of `nncl bench` through nncl's own gemm
 * op, CLBlast on the same OpenCL device, and OpenBLAS cblas_sgemm on the host.
 * A benchmark, never a test and never a product dependency. Driven by
 * tools/bench_gemm_peers.sh, which runs it several times (OpenBLAS reads
 * OPENBLAS_CORETYPE once, at load, so each core type needs its own process)
 * and turns the rows into a table.
 *
 * usage: bench_gemm_peers [--libs nncl,clblast,openblas] [--device DEVICE]
 *                         [--reps N] [--min-time SECONDS] [--check]
 *                         [--shapes all|bench|layers]
 *
 * Output: one tab-separated line per measurement,
 *   time  LIB  SHAPE  M N K OPS  REP  SECONDS_PER_CALL  GFLOPS
 * and with --check, instead of timing, for the three shapes of 784->128
 * (NT, NN and TN)
 *   check LIB  SHAPE  M N K OPS  MAX_ABS_ERR  MAX_REL_ERR
 * where the errors are against a double-precision reference on the host:
 * MAX_REL_ERR = max |c - ref| / max |ref| (norm-wise), and lines
 *   info  KEY  VALUE
 * describing what ran (device, OpenBLAS core, threads). */
#define _POSIX_C_SOURCE 200809L
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <cblas.h>
#include <clblast_c.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/bench_shapes.h"
#include "nncl/nncl.h"

typedef bench_shape shape;

/* The shapes of `nncl bench` (src/cli/bench_shapes.h), then two more. */
static const shape shapes[] = {
    NNCL_BENCH_GEMM_SHAPES,
    /* Not in `nncl bench`: the two big GEMMs of the numpy tutorial's network
     * (784-10-10, full batch of 41,000 rows; `nncl train --preset tutorial`):
     * forward X W1^T and the weight gradient dZ1^T X. Skinny: N = 10, M = 10. */
    {"tutorial fwd", 41000, 10, 784, false, true},
    {"tutorial dW1", 10, 784, 41000, true, false},
};
enum { NSHAPES = sizeof shapes / sizeof shapes[0], NLAYER_SHAPES = 6, NBENCH_SHAPES = 8, NCHECK_SHAPES = 3 };

enum { LIB_NNCL, LIB_CLBLAST, LIB_OPENBLAS, NLIBS };
static const char *lib_names[NLIBS] = {"nncl", "clblast", "openblas"};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void die(const char *what, const char *msg)
{
    fprintf(stderr, "bench_gemm_peers: %s: %s\n", what, msg);
    exit(1);
}

static void die_nncl(const char *what, nncl_status st)
{
    fprintf(stderr, "bench_gemm_peers: %s: %s: %s\n", what, nncl_status_name(st), nncl_last_error());
    exit(1);
}

/* ---- the three libraries behind one interface ---------------------------- */

typedef struct ctx {
    bool use[NLIBS];
    /* nncl */
    nncl_device *dev;
    nncl_buffer *na, *nb, *nc;
    /* CLBlast: its own context and queue on the same OpenCL device */
    cl_context clctx;
    cl_command_queue queue;
    cl_mem ca, cb, cc;
    /* OpenBLAS */
    float *ha, *hb, *hc;
} ctx;

static size_t a_elems(const shape *s) { return s->m * s->k; }
static size_t b_elems(const shape *s) { return s->k * s->n; }
static size_t c_elems(const shape *s) { return s->m * s->n; }

/* Row-major leading dimensions as nncl and CLBlast take them. */
static size_t lda_of(const shape *s) { return s->ta ? s->m : s->k; }
static size_t ldb_of(const shape *s) { return s->tb ? s->k : s->n; }

static void run_once(ctx *c, int lib, const shape *s)
{
    if (lib == LIB_NNCL) {
        nncl_gemm_args g = {
            .trans_a = s->ta, .trans_b = s->tb, .m = s->m, .n = s->n, .k = s->k, .alpha = 1, .beta = 0,
            .a = nncl_view_of(c->na, 0), .lda = lda_of(s),
            .b = nncl_view_of(c->nb, 0), .ldb = ldb_of(s),
            .c = nncl_view_of(c->nc, 0), .ldc = s->n,
        };
        nncl_status st = nncl_gemm(c->dev, &g);
        if (st != NNCL_OK)
            die_nncl("nncl_gemm", st);
    } else if (lib == LIB_CLBLAST) {
        CLBlastStatusCode st = CLBlastSgemm(CLBlastLayoutRowMajor, s->ta ? CLBlastTransposeYes : CLBlastTransposeNo,
                                            s->tb ? CLBlastTransposeYes : CLBlastTransposeNo, s->m, s->n, s->k, 1.0f,
                                            c->ca, 0, lda_of(s), c->cb, 0, ldb_of(s), 0.0f, c->cc, 0, s->n,
                                            &c->queue, NULL);
        if (st != CLBlastSuccess) {
            char msg[64];
            snprintf(msg, sizeof msg, "status %d", (int)st);
            die("CLBlastSgemm", msg);
        }
    } else {
        cblas_sgemm(CblasRowMajor, s->ta ? CblasTrans : CblasNoTrans, s->tb ? CblasTrans : CblasNoTrans, (int)s->m,
                    (int)s->n, (int)s->k, 1.0f, c->ha, (int)lda_of(s), c->hb, (int)ldb_of(s), 0.0f, c->hc,
                    (int)s->n);
    }
}

static void finish(ctx *c, int lib)
{
    if (lib == LIB_NNCL) {
        nncl_status st = nncl_device_finish(c->dev);
        if (st != NNCL_OK)
            die_nncl("nncl_device_finish", st);
    } else if (lib == LIB_CLBLAST) {
        cl_int err = clFinish(c->queue);
        if (err != CL_SUCCESS) {
            char msg[64];
            snprintf(msg, sizeof msg, "error %d", (int)err);
            die("clFinish", msg);
        }
    }
}

/* Seconds per call: one warm-up call, then calls until min_time has passed
 * (waiting every 4 calls so that the queue never runs far ahead). */
static double time_calls(ctx *c, int lib, const shape *s, double min_time)
{
    run_once(c, lib, s);
    finish(c, lib);
    int reps = 0;
    double t0 = now();
    do {
        run_once(c, lib, s);
        if ((++reps & 3) == 0)
            finish(c, lib);
    } while (now() - t0 < min_time && reps < 100000);
    finish(c, lib);
    return (now() - t0) / reps;
}

static void fill(float *x, size_t n, unsigned seed)
{
    /* xorshift: uniform in [-0.5, 0.5) */
    unsigned long long r = 0x9E3779B97F4A7C15ull * (seed + 1);
    for (size_t i = 0; i < n; i++) {
        r ^= r << 13;
        r ^= r >> 7;
        r ^= r << 17;
        x[i] = (float)((r >> 40) * (1.0 / 16777216.0)) - 0.5f;
    }
}

static void upload(ctx *c, const shape *s)
{
    size_t an = a_elems(s), bn = b_elems(s);
    fill(c->ha, an, 1);
    fill(c->hb, bn, 2);
    if (c->use[LIB_NNCL]) {
        nncl_status st = nncl_buffer_write(c->na, 0, c->ha, an * 4);
        if (st == NNCL_OK)
            st = nncl_buffer_write(c->nb, 0, c->hb, bn * 4);
        if (st != NNCL_OK)
            die_nncl("nncl_buffer_write", st);
    }
    if (c->use[LIB_CLBLAST]) {
        cl_int err = clEnqueueWriteBuffer(c->queue, c->ca, CL_TRUE, 0, an * 4, c->ha, 0, NULL, NULL);
        if (err == CL_SUCCESS)
            err = clEnqueueWriteBuffer(c->queue, c->cb, CL_TRUE, 0, bn * 4, c->hb, 0, NULL, NULL);
        if (err != CL_SUCCESS)
            die("clEnqueueWriteBuffer", "failed");
    }
}

static void download(ctx *c, int lib, const shape *s, float *out)
{
    size_t cn = c_elems(s);
    if (lib == LIB_NNCL) {
        nncl_status st = nncl_buffer_read(c->nc, 0, out, cn * 4);
        if (st != NNCL_OK)
            die_nncl("nncl_buffer_read", st);
    } else if (lib == LIB_CLBLAST) {
        if (clEnqueueReadBuffer(c->queue, c->cc, CL_TRUE, 0, cn * 4, out, 0, NULL, NULL) != CL_SUCCESS)
            die("clEnqueueReadBuffer", "failed");
    } else {
        memcpy(out, c->hc, cn * 4);
    }
}

/* Find the OpenCL device behind an nncl device listing entry. */
static cl_device_id cl_device_of(const nncl_device_info *info)
{
    cl_platform_id plats[64];
    cl_uint np = 0, nd = 0;
    if (clGetPlatformIDs(64, plats, &np) != CL_SUCCESS || info->platform_index < 0 ||
        (cl_uint)info->platform_index >= np)
        die("OpenCL", "platform not found");
    cl_device_id devs[64];
    if (clGetDeviceIDs(plats[info->platform_index], CL_DEVICE_TYPE_ALL, 64, devs, &nd) != CL_SUCCESS ||
        info->device_index < 0 || (cl_uint)info->device_index >= nd)
        die("OpenCL", "device not found");
    char name[256] = "";
    clGetDeviceInfo(devs[info->device_index], CL_DEVICE_NAME, sizeof name, name, NULL);
    if (strcmp(name, info->name) != 0)
        die("OpenCL", "device order differs from nncl's listing");
    return devs[info->device_index];
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_gemm_peers [--libs nncl,clblast,openblas] [--device DEVICE] [--reps N]\n"
                    "                        [--min-time SECONDS] [--check] [--shapes all|bench|layers]\n"
                    "  --shapes bench: those of `nncl bench`; all (default) adds the tutorial's two\n"
                    "  skinny GEMMs; layers: the six of the 784->128 and 784->512 layers\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *libs = "nncl,clblast,openblas", *device = NULL;
    int reps = 3;
    double min_time = 0.2;
    bool check = false, layers_only = false, bench_only = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--libs") && i + 1 < argc)
            libs = argv[++i];
        else if (!strcmp(argv[i], "--device") && i + 1 < argc)
            device = argv[++i];
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--min-time") && i + 1 < argc)
            min_time = atof(argv[++i]);
        else if (!strcmp(argv[i], "--shapes") && i + 1 < argc)
        {
            i++;
            layers_only = !strcmp(argv[i], "layers");
            bench_only = !strcmp(argv[i], "bench");
            if (!layers_only && !bench_only && strcmp(argv[i], "all") != 0)
                usage();
        }
        else if (!strcmp(argv[i], "--check"))
            check = true;
        else
            usage();
    }
    if (reps < 1)
        usage();

    ctx c = {0};
    for (int l = 0; l < NLIBS; l++) {
        const char *p = strstr(libs, lib_names[l]);
        c.use[l] = p != NULL;
    }
    int nshapes = check ? NCHECK_SHAPES : layers_only ? NLAYER_SHAPES : bench_only ? NBENCH_SHAPES : NSHAPES;
    size_t max_a = 0, max_b = 0, max_c = 0;
    for (int i = 0; i < nshapes; i++) {
        if (a_elems(&shapes[i]) > max_a)
            max_a = a_elems(&shapes[i]);
        if (b_elems(&shapes[i]) > max_b)
            max_b = b_elems(&shapes[i]);
        if (c_elems(&shapes[i]) > max_c)
            max_c = c_elems(&shapes[i]);
    }
    c.ha = malloc(max_a * 4);
    c.hb = malloc(max_b * 4);
    c.hc = malloc(max_c * 4);
    if (!c.ha || !c.hb || !c.hc)
        die("malloc", "out of memory");

    if (c.use[LIB_NNCL] || c.use[LIB_CLBLAST]) {
        nncl_device_list list;
        int idx = -1;
        nncl_status st = nncl_device_list_get(&list);
        if (st != NNCL_OK)
            die_nncl("nncl_device_list_get", st);
        if (device) {
            if ((st = nncl_device_select(&list, device, &idx)) != NNCL_OK)
                die_nncl("--device", st);
        } else {
            for (int i = 0; i < list.count && idx < 0; i++)
                if (list.items[i].backend == NNCL_BACKEND_OPENCL)
                    idx = i;
            if (idx < 0)
                die("device", "no OpenCL device found (is pocl-opencl-icd installed?)");
        }
        const nncl_device_info *info = &list.items[idx];
        printf("info\tdevice\t%d: %s (%s, %s)\n", info->index, info->name, nncl_backend_name(info->backend),
               info->platform);
        if (c.use[LIB_NNCL]) {
            if ((st = nncl_device_open(info, &c.dev)) != NNCL_OK)
                die_nncl("nncl_device_open", st);
            if ((st = nncl_buffer_alloc(c.dev, max_a * 4, &c.na)) != NNCL_OK ||
                (st = nncl_buffer_alloc(c.dev, max_b * 4, &c.nb)) != NNCL_OK ||
                (st = nncl_buffer_alloc(c.dev, max_c * 4, &c.nc)) != NNCL_OK)
                die_nncl("nncl_buffer_alloc", st);
        }
        if (c.use[LIB_CLBLAST]) {
            if (info->backend != NNCL_BACKEND_OPENCL)
                die("clblast", "the chosen device is not an OpenCL device");
            cl_device_id d = cl_device_of(info);
            cl_int err;
            c.clctx = clCreateContext(NULL, 1, &d, NULL, NULL, &err);
            if (err != CL_SUCCESS)
                die("clCreateContext", "failed");
            c.queue = clCreateCommandQueue(c.clctx, d, 0, &err);
            if (err != CL_SUCCESS)
                die("clCreateCommandQueue", "failed");
            c.ca = clCreateBuffer(c.clctx, CL_MEM_READ_WRITE, max_a * 4, NULL, &err);
            c.cb = clCreateBuffer(c.clctx, CL_MEM_READ_WRITE, max_b * 4, NULL, &err);
            c.cc = clCreateBuffer(c.clctx, CL_MEM_READ_WRITE, max_c * 4, NULL, &err);
            if (!c.ca || !c.cb || !c.cc)
                die("clCreateBuffer", "failed");
        }
        nncl_device_list_free(&list);
    }
    if (c.use[LIB_OPENBLAS])
        printf("info\topenblas\tcore %s, %d threads, config: %s\n", openblas_get_corename(),
               openblas_get_num_threads(), openblas_get_config());
    fflush(stdout);

    if (check) {
        float *out = malloc(max_c * 4);
        double *ref = malloc(max_c * sizeof *ref);
        if (!out || !ref)
            die("malloc", "out of memory");
        for (int i = 0; i < nshapes; i++) {
            const shape *s = &shapes[i];
            upload(&c, s);
            size_t lda = lda_of(s), ldb = ldb_of(s);
            double refmax = 0;
            for (size_t r = 0; r < s->m; r++)
                for (size_t j = 0; j < s->n; j++) {
                    double acc = 0;
                    for (size_t p = 0; p < s->k; p++)
                        acc += (double)(s->ta ? c.ha[p * lda + r] : c.ha[r * lda + p]) *
                               (double)(s->tb ? c.hb[j * ldb + p] : c.hb[p * ldb + j]);
                    ref[r * s->n + j] = acc;
                    if (fabs(acc) > refmax)
                        refmax = fabs(acc);
                }
            for (int l = 0; l < NLIBS; l++) {
                if (!c.use[l])
                    continue;
                run_once(&c, l, s);
                finish(&c, l);
                download(&c, l, s, out);
                double maxerr = 0;
                for (size_t e = 0; e < c_elems(s); e++) {
                    double d = fabs((double)out[e] - ref[e]);
                    if (!(d <= maxerr)) /* NaN counts as the worst */
                        maxerr = isnan(d) ? INFINITY : d;
                }
                printf("check\t%s\t%s\t%zu\t%zu\t%zu\t%c%c\t%.3g\t%.3g\n", lib_names[l], s->what, s->m, s->n, s->k,
                       s->ta ? 'T' : 'N', s->tb ? 'T' : 'N', maxerr, maxerr / refmax);
            }
        }
        free(out);
        free(ref);
        return 0;
    }

    /* Interleave: for each shape, each repetition runs every library in turn,
     * so that a burst of load from another job hits all of them alike. */
    for (int i = 0; i < nshapes; i++) {
        const shape *s = &shapes[i];
        upload(&c, s);
        for (int r = 0; r < reps; r++)
            for (int l = 0; l < NLIBS; l++) {
                if (!c.use[l])
                    continue;
                double sec = time_calls(&c, l, s, min_time);
                double gf = 2.0 * (double)s->m * (double)s->n * (double)s->k / sec * 1e-9;
                printf("time\t%s\t%s\t%zu\t%zu\t%zu\t%c%c\t%d\t%.6g\t%.2f\n", lib_names[l], s->what, s->m, s->n,
                       s->k, s->ta ? 'T' : 'N', s->tb ? 'T' : 'N', r, sec, gf);
                fflush(stdout);
            }
    }

    if (c.dev) {
        nncl_buffer_free(c.na);
        nncl_buffer_free(c.nb);
        nncl_buffer_free(c.nc);
        nncl_device_close(c.dev);
    }
    if (c.clctx) {
        clReleaseMemObject(c.ca);
        clReleaseMemObject(c.cb);
        clReleaseMemObject(c.cc);
        clReleaseCommandQueue(c.queue);
        clReleaseContext(c.clctx);
    }
    free(c.ha);
    free(c.hb);
    free(c.hc);
    return 0;
}
