/* `nncl bench`: GEMM GFLOP/s on the shapes training uses, square 1024 and
 * 2048, and the time of one training step of 784-128-10 at batch 128, on
 * every device (or the one chosen). A benchmark, not a test: numbers drift
 * on a shared machine, so compare ratios taken in one invocation. */
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/bench_shapes.h"
#include "cli/cli.h"
#include "cli/train_speed.h"
#include "nncl/net.h"
#include "util/clock.h"

typedef bench_shape shape;
static const shape shapes[] = {NNCL_BENCH_GEMM_SHAPES};

/* The FP32 peak the "of peak" column is against, and how it was known:
 * NNCL_PEAK_GFLOPS; else measured (nncl_device_fma_peak): a CPU device's
 * on the CPU itself (its compute units' threads: what the cores run at
 * under load, where cores x reported MHz x lanes took a VM's base clock and
 * put GEMMs at 136% of it), any other device's by its own multiply-add
 * chains kernel. *chains: an OpenCL device's chains kernel's figure (0:
 * not run), which on a CPU device says what its compiler makes of plain
 * per-work-item code. */
typedef struct bench_peak {
    double gflops, chains;
    char how[128];
} bench_peak;

static void measure_peak(nncl_device *dev, bench_peak *p)
{
    memset(p, 0, sizeof *p);
    const nncl_device_info *d = nncl_device_get_info(dev);
    nncl_device_peak k;
    if (d->backend == NNCL_BACKEND_OPENCL) {
        if (nncl_device_fma_peak(dev, &k) == NNCL_OK)
            p->chains = k.gflops;
        nncl_clear_error();
    }
    const char *env = getenv("NNCL_PEAK_GFLOPS");
    if (env && *env) {
        p->gflops = atof(env);
        snprintf(p->how, sizeof p->how, "NNCL_PEAK_GFLOPS");
        return;
    }
    if (d->backend == NNCL_BACKEND_OPENCL && d->type != NNCL_DEVICE_CPU) {
        if (p->chains > 0) {
            p->gflops = p->chains;
            snprintf(p->how, sizeof p->how, "measured: its multiply-add chains kernel");
        }
        return;
    }
    /* the host, or an OpenCL CPU device: the CPU's own peak */
    if (nncl_cpu_peak_of(d, &k) == NNCL_OK) {
        p->gflops = k.gflops;
        snprintf(p->how, sizeof p->how, "%s", k.how);
    }
    nncl_clear_error();
}

static nncl_status fill_random(nncl_buffer *b, size_t n, uint64_t seed)
{
    float *x = malloc(n * sizeof *x);
    if (!x)
        return nncl_fail(NNCL_E_NOMEM, "out of memory");
    nncl_rng r;
    nncl_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++)
        x[i] = nncl_rng_float(&r) - 0.5f;
    nncl_status st = nncl_buffer_write(b, 0, x, n * sizeof *x);
    free(x);
    return st;
}

/* Seconds per call: warm up, then repeat until 0.25 s has passed; the median
 * of three such rounds. */
static nncl_status time_gemm(nncl_device *dev, const nncl_gemm_args *a, double *seconds)
{
    nncl_status st = nncl_gemm(dev, a);
    if (st == NNCL_OK)
        st = nncl_device_finish(dev);
    double rounds[3];
    for (int r = 0; r < 3 && st == NNCL_OK; r++) {
        int reps = 0;
        double t0 = nncl_seconds_now(), t;
        do {
            st = nncl_gemm(dev, a);
            reps++;
            if (st == NNCL_OK && (reps & 3) == 0)
                st = nncl_device_finish(dev);
            t = nncl_seconds_now() - t0;
        } while (st == NNCL_OK && t < 0.25 && reps < 10000);
        if (st == NNCL_OK)
            st = nncl_device_finish(dev);
        rounds[r] = (nncl_seconds_now() - t0) / reps;
    }
    if (st != NNCL_OK)
        return st;
    double lo = fmin(rounds[0], fmin(rounds[1], rounds[2])), hi = fmax(rounds[0], fmax(rounds[1], rounds[2]));
    *seconds = rounds[0] + rounds[1] + rounds[2] - lo - hi;
    return NNCL_OK;
}

static nncl_status bench_gemm(nncl_device *dev, const shape *s, double *seconds)
{
    size_t asz = s->m * s->k, bsz = s->k * s->n, csz = s->m * s->n;
    nncl_buffer *a = NULL, *b = NULL, *c = NULL;
    nncl_status st = nncl_buffer_alloc(dev, asz * 4, &a);
    if (st == NNCL_OK)
        st = nncl_buffer_alloc(dev, bsz * 4, &b);
    if (st == NNCL_OK)
        st = nncl_buffer_alloc(dev, csz * 4, &c);
    if (st == NNCL_OK)
        st = fill_random(a, asz, 1);
    if (st == NNCL_OK)
        st = fill_random(b, bsz, 2);
    if (st == NNCL_OK) {
        nncl_gemm_args g = {
            .trans_a = s->ta, .trans_b = s->tb, .m = s->m, .n = s->n, .k = s->k, .alpha = 1, .beta = 0,
            .a = nncl_view_of(a, 0), .lda = s->ta ? s->m : s->k,
            .b = nncl_view_of(b, 0), .ldb = s->tb ? s->k : s->n,
            .c = nncl_view_of(c, 0), .ldc = s->n,
        };
        st = time_gemm(dev, &g, seconds);
    }
    nncl_buffer_free(a);
    nncl_buffer_free(b);
    nncl_buffer_free(c);
    return st;
}

static int bench_device(const nncl_device_info *info, bool json, json_t *rows)
{
    nncl_device *dev;
    nncl_status st = nncl_device_open(info, &dev);
    if (st != NNCL_OK)
        return cli_fail(st);
    bench_peak bp;
    measure_peak(dev, &bp);
    double peak = bp.gflops;
    /* whether the GEMM runs tuned parameters (nncl tune) or the defaults */
    nncl_tuning_info ti;
    if (nncl_tuning_lookup(info, &ti) != NNCL_OK) {
        nncl_clear_error();
        ti.state = NNCL_TUNING_DEFAULT;
        ti.params[0] = '\0';
        ti.fused_params[0] = '\0';
        ti.large_params[0] = '\0';
    }
    if (!json) {
        char num[16];
        printf("device %s: %s (%s)", cli_device_number(info, num), info->name, nncl_backend_name(info->backend));
        if (peak > 0)
            printf(", FP32 peak %.0f GFLOP/s (%s)", peak, bp.how);
        if (bp.chains > 0 && info->type == NNCL_DEVICE_CPU && peak > 0)
            printf("\n  its multiply-add chains kernel (plain code a work-item): %.0f GFLOP/s, %.0f%% of the peak",
                   bp.chains, 100 * bp.chains / peak);
        char blas[400];
        if (info->backend == NNCL_BACKEND_HOST && nncl_host_blas_note(blas, sizeof blas))
            printf("\n  note: %s", blas);
        if (ti.state != NNCL_TUNING_NONE) {
            if (ti.state == NNCL_TUNING_TUNED)
                printf("\n  tuned (%s search, %s): %s\n    fused ops: %s", ti.mode, ti.when, ti.params,
                       ti.fused_params);
            else
                printf("\n  not tuned (%s; %s): %s\n    fused ops: %s", nncl_tuning_state_name(ti.state),
                       ti.state == NNCL_TUNING_OFF ? "NNCL_TUNE=off" : "nncl tune searches", ti.params,
                       ti.fused_params);
            if (ti.large_params[0])
                printf("\n    large products: %s", ti.large_params);
        }
        printf("\n  %-14s %5s %5s %5s  %-2s  %9s  %10s  %s\n", "gemm", "m", "n", "k", "op", "GFLOP/s", "ms",
               peak > 0 ? "of peak" : "");
        fflush(stdout);
    }
    if (json)
        json_array_append_new(rows, json_pack("{s:s, s:s, s:o, s:s, s:o}", "device", info->name, "op", "fma_peak",
                                              "gflops", peak > 0 ? json_real(peak) : json_null(), "how", bp.how,
                                              "chains_gflops", bp.chains > 0 ? json_real(bp.chains) : json_null()));
    int rc = CLI_OK;
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0] && rc == CLI_OK; i++) {
        const shape *s = &shapes[i];
        double sec = 0;
        if ((st = bench_gemm(dev, s, &sec)) != NNCL_OK) {
            rc = cli_fail(st);
            break;
        }
        double gf = 2.0 * (double)s->m * (double)s->n * (double)s->k / sec * 1e-9;
        if (json) {
            json_array_append_new(rows, json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:b, s:b, s:f, s:f, s:o?}",
                                                  "device", info->name, "op", "gemm", "shape", s->what, "m",
                                                  (json_int_t)s->m, "n", (json_int_t)s->n, "k",
                                                  (json_int_t)s->k, "transa", s->ta, "transb", s->tb, "gflops",
                                                  gf, "seconds", sec, "peak_fraction",
                                                  peak > 0 ? json_real(gf / peak) : NULL));
            json_object_set_new(json_array_get(rows, json_array_size(rows) - 1), "tuned",
                                json_string(nncl_tuning_state_name(ti.state)));
        } else {
            printf("  %-14s %5zu %5zu %5zu  %c%c  %9.1f  %10.3f", s->what, s->m, s->n, s->k, s->ta ? 'T' : 'N',
                   s->tb ? 'T' : 'N', gf, sec * 1e3);
            if (peak > 0)
                printf("  %5.1f%%", 100 * gf / peak);
            printf("\n");
            fflush(stdout);
        }
    }
    if (rc == CLI_OK) {
        double sec = 0, flops = 0;
        if ((st = cli_train_speed(dev, &sec, &flops)) == NNCL_OK &&
            nncl_device_speed_store(info, 128 / sec) != NNCL_OK) {
            /* the default device is chosen from these: say so, but the figure stands */
            cli_warning("could not keep the training speed for choosing the default device: %s", nncl_last_error());
            nncl_clear_error();
        }
        if (st != NNCL_OK) {
            rc = cli_fail(st);
        } else if (json) {
            json_array_append_new(rows, json_pack("{s:s, s:s, s:s, s:i, s:i, s:i, s:b, s:b, s:f, s:f, s:f}",
                                                  "device", info->name, "op", "train_step", "shape",
                                                  "784-128-10 adam", "m", 128, "n", 128, "k", 784, "transa", 0,
                                                  "transb", 0, "gflops", flops / sec * 1e-9, "seconds", sec,
                                                  "samples_per_second", 128 / sec));
        } else {
            printf("  train step 784-128-10, batch 128, adam: %.3f ms, %.0f samples/s, %.1f GFLOP/s\n", sec * 1e3,
                   128 / sec, flops / sec * 1e-9);
        }
    }
    nncl_device_close(dev);
    return rc;
}

int cmd_bench(const cli_globals *g, int argc, char **argv)
{
    const char *device = g->device;
    bool json = g->json;
    static const struct option opts[] = {
        {"device", required_argument, NULL, 'd'}, {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
    };
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': device = optarg; break;
        case 'j': json = true; break;
        case 'h':
            printf("usage: nncl bench [--device DEVICE] [--json]\n\n"
                   "GEMM GFLOP/s on the training shapes and square 1024 and 2048, and one training\n"
                   "step of 784-128-10 at batch 128, on every device or the one given.\n"
                   "The percentage column is against the FP32 peak, measured first: a CPU device's\n"
                   "by multiply-add chains on its cores, any other device's by its own fma_chains\n"
                   "kernel (an OpenCL CPU device's kernel figure is printed beside). NNCL_PEAK_GFLOPS\n"
                   "sets the peak instead.\n");
            return CLI_OK;
        case ':': cli_error("%s needs a value", argv[optind - 1]); return CLI_USAGE;
        default: cli_error("unknown option '%s' (see nncl bench --help)", argv[optind - 1]); return CLI_USAGE;
        }
    }
    nncl_device_list list; /* (the host alone for --device host: OpenCL not asked) */
    nncl_status st = nncl_device_list_for(device, &list);
    if (st != NNCL_OK)
        return cli_fail(st);
    int first = 0, last = list.count - 1;
    if (device) {
        int idx;
        if ((st = nncl_device_select(&list, device, &idx)) != NNCL_OK) {
            nncl_device_list_free(&list);
            cli_error("--device: %s", nncl_last_error());
            return CLI_USAGE;
        }
        first = last = idx;
    }
    json_t *rows = json_array();
    int rc = CLI_OK;
    for (int i = first; i <= last && rc == CLI_OK; i++) {
        /* every device: one found computing wrong results is passed over
         * (named, it is refused with the reason) */
        if (!device && list.items[i].wrong_results) {
            cli_warning("device %d (%s) computes wrong results with its kernels here (its tuning search found): "
                        "not benched; `nncl check --device %d` says which ops",
                        i, list.items[i].name, i);
            continue;
        }
        rc = bench_device(&list.items[i], json, rows);
    }
    if (json && rc == CLI_OK) {
        char *text = json_dumps(rows, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        puts(text ? text : "[]");
        free(text);
    }
    json_decref(rows);
    nncl_device_list_free(&list);
    return rc;
}
