/* `nncl tune [--device DEVICE] [--quick|--full]`: search the GEMM kernel's
 * parameters and the fused ops' on a device (src/ops/tune_run.c), keep the
 * winners in the tuning cache, and print the old and the new speed per
 * shape, measured in this process, interleaved. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

typedef struct progress_state {
    bool tty;
    int last_len;
} progress_state;

/* A bar redrawn in place on a terminal; one plain line per step otherwise. */
static void on_progress(void *ctx, int done, int total, const char *what)
{
    progress_state *ps = ctx;
    if (!ps->tty) {
        fprintf(stderr, "tune: [%d/%d] %s\n", done, total, what);
        return;
    }
    enum { WIDTH = 24 };
    int fill = total > 0 ? done * WIDTH / total : 0;
    char bar[WIDTH + 1];
    for (int i = 0; i < WIDTH; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[WIDTH] = '\0';
    int len = fprintf(stderr, "\r[%s] %d/%d %.60s", bar, done, total, what);
    for (int i = len; i < ps->last_len; i++)
        fputc(' ', stderr);
    ps->last_len = len;
    if (done >= total)
        fputc('\n', stderr);
    fflush(stderr);
}

/* "GEMM: 6 of 6 candidates tried: built 6 at a time in 1.2 s (6.3 s of
 * builds), checked in 1.1 s; 9.0 s in all" */
static void print_part(const char *name, const nncl_tune_part *p)
{
    if (p->considered == 0)
        return;
    printf("  %s: %d of %d candidates tried: built %d at a time in %.1f s (%.1f s of builds), checked in %.1f s; "
           "%.1f s in all",
           name, p->built, p->considered, p->builds_at_once, p->build_wall_seconds, p->build_seconds,
           p->check_seconds, p->seconds);
    if (p->built < p->considered)
        printf(" (the quick search builds and checks for about %.0f s)", p->build_budget);
    printf("\n");
}

/* The geometric mean of t's GFLOP/s over the training shapes (0: not timed). */
static double training_gflops(const nncl_tune_report *rep, const nncl_tune_tried *t)
{
    double sum = 0;
    int n = 0;
    for (int s = 0; s < rep->n_shapes; s++) {
        if (!rep->shapes[s].training)
            continue;
        if (t->gflops[s] <= 0)
            return 0;
        sum += log(t->gflops[s]);
        n++;
    }
    return n ? exp(sum / n) : 0;
}

/* gemm_nn's registers (and spilled bytes), "-" where the driver does not say. */
static const char *registers_text(const nncl_tune_tried *t, char *buf, size_t len)
{
    if (t->registers <= 0)
        return "-";
    if (t->spill_bytes > 0)
        snprintf(buf, len, "%d+%dB", t->registers, t->spill_bytes);
    else
        snprintf(buf, len, "%d", t->registers);
    return buf;
}

/* Every GEMM candidate built, in the order built: its seconds, and its
 * GFLOP/s over the rounds (the training shapes' geometric mean, then each
 * square), or why it was not timed; then what the compiler made of its
 * gemm_nn: registers (+ bytes spilled) where the driver says, private
 * memory and the largest work-group it launches with. */
static void print_tried(const nncl_tune_report *rep)
{
    if (rep->n_tried == 0)
        return;
    printf("\n  %3s %7s %7s %9s", "#", "build s", "check s", "training");
    for (int s = 0; s < rep->n_shapes; s++)
        if (!rep->shapes[s].training)
            printf(" %11s", rep->shapes[s].what);
    printf(" %8s %8s %6s", "regs", "private", "max WG");
    printf("  GEMM candidate (GFLOP/s, best of the rounds; gemm_nn's registers, private bytes, work-group)\n");
    for (int i = 0; i < rep->n_tried; i++) {
        const nncl_tune_tried *t = &rep->tried[i];
        printf("  %3d %7.2f %7.2f", i + 1, t->build_seconds, t->check_seconds);
        if (!t->ok) {
            printf("  rejected: %s  %s\n", t->why, t->params);
            continue;
        }
        printf(" %9.1f", training_gflops(rep, t));
        for (int s = 0; s < rep->n_shapes; s++) {
            if (rep->shapes[s].training)
                continue;
            if (t->gflops[s] > 0)
                printf(" %11.1f", t->gflops[s]);
            else
                printf(" %11s", "-");
        }
        char regs[32];
        printf(" %8s %8llu %6zu", registers_text(t, regs, sizeof regs), t->private_bytes, t->max_work_group);
        printf("  %s\n", t->params);
    }
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: nncl tune [--device DEVICE] [--quick|--full]\n\n"
            "Search the GEMM kernel's parameters (vector width, register block, local-memory\n"
            "tiles), then the fused ops' (the byte-input kernels' register block, the\n"
            "optimiser's vector width) on an OpenCL device: every candidate is compiled,\n"
            "checked against the host oracle, then timed on the training shapes (and 1024^3;\n"
            "on a device with local memory, a GPU, also 2048^3, where a set of its own may\n"
            "serve the large products).\n"
            "The winners are kept in $XDG_CACHE_HOME/nncl (~/.cache/nncl), keyed by device,\n"
            "driver and kernel source, and used from then on. Prints the old and new speed\n"
            "per shape (GFLOP/s for the GEMM, microseconds per call for the fused ops), what\n"
            "building and checking the candidates took, and a row per GEMM candidate: its\n"
            "build and check seconds and GFLOP/s, or why it was rejected. Where a build takes\n"
            "longer than its check (a GPU's compiler), candidates are built several at once.\n\n"
            "  --quick   a handful of candidates, about 20 s on a CPU (what first use runs)\n"
            "  --full    every candidate the device can run (the default here)\n\n"
            "NNCL_TUNE=off: never search nor read the cache; NNCL_TUNE=cached: read, never\n"
            "search on first use.\n");
}

int cmd_tune(const cli_globals *g, int argc, char **argv)
{
    const char *device = g->device;
    nncl_tune_mode mode = NNCL_TUNE_FULL;
    static const struct option opts[] = {
        {"device", required_argument, NULL, 'd'}, {"quick", no_argument, NULL, 'q'},
        {"full", no_argument, NULL, 'f'},         {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': device = optarg; break;
        case 'q': mode = NNCL_TUNE_QUICK; break;
        case 'f': mode = NNCL_TUNE_FULL; break;
        case 'h': usage(stdout); return CLI_OK;
        case ':': cli_error("%s needs a value", argv[optind - 1]); return CLI_USAGE;
        default: cli_error("unknown option '%s' (see nncl tune --help)", argv[optind - 1]); return CLI_USAGE;
        }
    }
    if (optind < argc) {
        cli_error("unexpected '%s' (see nncl tune --help)", argv[optind]);
        return CLI_USAGE;
    }
    nncl_device *dev;
    int rc = cli_open_device(device, &dev);
    if (rc != CLI_OK)
        return rc;
    const nncl_device_info *info = nncl_device_get_info(dev);
    if (info->backend != NNCL_BACKEND_OPENCL) {
        cli_error("%s runs no OpenCL kernels: nothing to tune (pick an OpenCL device with --device)", info->name);
        nncl_device_close(dev);
        return CLI_USAGE;
    }
    fprintf(stderr, "tuning %s (%s search)...\n", info->name, mode == NNCL_TUNE_FULL ? "full" : "quick");
    progress_state ps = {.tty = isatty(2)};
    nncl_tune_report rep;
    nncl_status st = nncl_device_tune(dev, mode, on_progress, &ps, &rep);
    if (st != NNCL_OK) {
        if (ps.tty)
            fputc('\n', stderr);
        nncl_device_close(dev);
        return cli_fail(st);
    }
    char num[16];
    printf("device %s: %s\n", cli_device_number(info, num), info->name);
    printf("  %d candidates, %d rejected by the check, %d timed, %.1f s\n", rep.candidates, rep.rejected, rep.timed,
           rep.seconds);
    print_part("GEMM", &rep.gemm);
    print_part("fused ops", &rep.fused);
    /* an old set that failed its check (the tuner replaced it) has no speeds */
    bool old_failed = rep.n_shapes > 0 && rep.shapes[0].old_gflops == 0;
    printf("  old: %s%s\n  new: %s%s\n", rep.old_params, old_failed ? " (failed its check)" : "", rep.new_params,
           strcmp(rep.old_params, rep.new_params) == 0 ? " (unchanged)" : "");
    /* a set apart for large products (GPUs: the last row, the large square) */
    if (rep.old_large_mnk || rep.new_large_mnk) {
        char was[320] = "none (the set above)", now[320] = "none (the set above)";
        if (rep.old_large_mnk)
            snprintf(was, sizeof was, "%s, from m*n*k %llu", rep.old_large, rep.old_large_mnk);
        if (rep.new_large_mnk)
            snprintf(now, sizeof now, "%s, from m*n*k %llu", rep.new_large, rep.new_large_mnk);
        printf("  large products old: %s\n  large products new: %s\n", was, now);
    }
    printf("\n  %-14s %5s %5s %5s  %-2s  %9s  %9s  %7s\n", "gemm", "m", "n", "k", "op", "old GF/s", "new GF/s",
           "new/old");
    for (int i = 0; i < rep.n_shapes; i++) {
        const nncl_tune_shape *s = &rep.shapes[i];
        if (old_failed)
            printf("  %-14s %5zu %5zu %5zu  %c%c  %9s  %9.1f  %7s\n", s->what, s->m, s->n, s->k, s->ta ? 'T' : 'N',
                   s->tb ? 'T' : 'N', "-", s->new_gflops, "-");
        else
            printf("  %-14s %5zu %5zu %5zu  %c%c  %9.1f  %9.1f  %6.2fx\n", s->what, s->m, s->n, s->k,
                   s->ta ? 'T' : 'N', s->tb ? 'T' : 'N', s->old_gflops, s->new_gflops, s->new_gflops / s->old_gflops);
    }
    print_tried(&rep);
    if (rep.n_ops > 0) {
        printf("\n  fused ops old: %s\n  fused ops new: %s%s\n", rep.old_fused, rep.new_fused,
               strcmp(rep.old_fused, rep.new_fused) == 0 ? " (unchanged)" : "");
        printf("\n  %-30s  %10s  %10s  %7s\n", "fused op", "old us", "new us", "old/new");
        for (int i = 0; i < rep.n_ops; i++) {
            const nncl_tune_op *o = &rep.ops[i];
            printf("  %-30s  %10.1f  %10.1f  %6.2fx\n", o->what, o->old_us, o->new_us, o->old_us / o->new_us);
        }
    }
    if (rep.rejections[0])
        printf("\n  rejected:\n    %.*s\n", (int)strcspn(rep.rejections, "\0"), rep.rejections);
    printf("\n  saved in %s\n", rep.cache_path[0] ? rep.cache_path : "(nowhere: no cache folder)");
    nncl_device_close(dev);
    return CLI_OK;
}
