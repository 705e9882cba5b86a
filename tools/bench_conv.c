/* The convolution ops' speed at the shapes of issue 13's two CNNs, batch 128
 * of 28x28 images, on each device: conv2d_fwd, conv2d_bwd (dx only where a
 * layer below needs it), and the 2x2 max pooling after each convolution.
 *   cnn5: conv 1->16 5x5 same, maxpool 2, conv 16->32 5x5 same, maxpool 2
 *   cnn3: conv 1->32 3x3 same, maxpool 2, conv 32->64 3x3 same, maxpool 2
 * Each figure is the best of --runs timed calls after one warm-up, the
 * device finished before and after each (the best, not the median: this
 * machine is shared, and other jobs only ever add time). With --torch SCRIPT (tools/bench_conv_torch.py)
 * the same layers in PyTorch on the CPU run in the same invocation and each
 * network's conv + pool time is given as a ratio (> 1: nncl is faster).
 * On host, NNCL_CONV_DIRECT=off times im2col + OpenBLAS where the direct
 * form would run (src/ops/conv_direct.c), and =avx2 its AVX2 blocks.
 * usage: bench_conv [--device D|all] [--runs N] [--batch N] [--torch SCRIPT] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nncl/nncl.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct layer {
    const char *net, *name;
    size_t c, hw, k, f;
    bool needs_dx;              /* a layer below it: the first layer has none */
} layer;

static const layer layers[] = {
    {"cnn5", "conv1 1->16 5x5 @28", 1, 28, 16, 5, false},
    {"cnn5", "conv2 16->32 5x5 @14", 16, 14, 32, 5, true},
    {"cnn3", "conv1 1->32 3x3 @28", 1, 28, 32, 3, false},
    {"cnn3", "conv2 32->64 3x3 @14", 32, 14, 64, 3, true},
};
enum { N_LAYERS = sizeof layers / sizeof layers[0] };

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

#define TRY(expr)                                                               \
    do {                                                                        \
        if ((expr) != NNCL_OK) {                                                \
            fprintf(stderr, "bench_conv: %s: %s\n", #expr, nncl_last_error());  \
            exit(1);                                                            \
        }                                                                       \
    } while (0)

static nncl_buffer *filled(nncl_device *dev, size_t n, unsigned seed)
{
    float *x = malloc(n * sizeof *x);
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        x[i] = (float)((seed >> 8) & 0xffff) / 65536.0f - 0.5f;
    }
    nncl_buffer *b;
    TRY(nncl_buffer_alloc(dev, n * sizeof *x, &b));
    TRY(nncl_buffer_write(b, 0, x, n * sizeof *x));
    free(x);
    return b;
}

/* Milliseconds per call of each of fwd, bwd, pool (fwd + bwd), the best of `runs`. */
static void time_layer(nncl_device *dev, const layer *L, size_t batch, int runs, double ms[3])
{
    nncl_conv2d_shape s;
    nncl_pool2d_shape p;
    TRY(nncl_conv2d_shape_make(batch, L->c, L->hw, L->hw, L->k, L->f, L->f, 1, NNCL_PAD_SAME, &s));
    TRY(nncl_pool2d_shape_make(batch, L->k, s.oh, s.ow, 2, 0, &p));
    size_t nx = batch * L->c * L->hw * L->hw, nw = L->k * L->c * L->f * L->f, ny = batch * L->k * s.oh * s.ow;
    size_t np = batch * L->k * p.oh * p.ow;
    nncl_buffer *x = filled(dev, nx, 1), *w = filled(dev, nw, 2), *b = filled(dev, L->k, 3), *y, *dy = filled(dev, ny, 4);
    nncl_buffer *dx, *dw, *db, *scratch, *py, *pidx, *pdy = filled(dev, np, 5), *pdx;
    TRY(nncl_buffer_alloc(dev, ny * 4, &y));
    TRY(nncl_buffer_alloc(dev, nx * 4, &dx));
    TRY(nncl_buffer_alloc(dev, nw * 4, &dw));
    TRY(nncl_buffer_alloc(dev, L->k * 4, &db));
    TRY(nncl_buffer_alloc(dev, nncl_conv2d_scratch_len(&s) * 4, &scratch));
    TRY(nncl_buffer_alloc(dev, np * 4, &py));
    TRY(nncl_buffer_alloc(dev, np * 4, &pidx));
    TRY(nncl_buffer_alloc(dev, ny * 4, &pdx));
    nncl_conv2d_fwd_args f = {.s = s, .x = nncl_view_of(x, 0), .w = nncl_view_of(w, 0), .b = nncl_view_of(b, 0),
                              .y = nncl_view_of(y, 0), .act = NNCL_ACT_RELU, .scratch = nncl_view_of(scratch, 0)};
    nncl_conv2d_bwd_args g = {.s = s, .x = nncl_view_of(x, 0), .w = nncl_view_of(w, 0), .dy = nncl_view_of(dy, 0),
                              .dx = L->needs_dx ? nncl_view_of(dx, 0) : (nncl_view){0}, .dw = nncl_view_of(dw, 0),
                              .db = nncl_view_of(db, 0), .scratch = nncl_view_of(scratch, 0)};
    nncl_pool2d_fwd_args pf = {NNCL_POOL_MAX, p, nncl_view_of(y, 0), nncl_view_of(py, 0), nncl_view_of(pidx, 0)};
    nncl_pool2d_bwd_args pb = {NNCL_POOL_MAX, p, nncl_view_of(pdy, 0), nncl_view_of(pidx, 0), nncl_view_of(pdx, 0)};
    double *t = malloc((size_t)runs * sizeof *t);
    for (int part = 0; part < 3; part++) {
        for (int r = -1; r < runs; r++) {
            TRY(nncl_device_finish(dev));
            double t0 = now();
            if (part == 0)
                TRY(nncl_conv2d_fwd(dev, &f));
            else if (part == 1)
                TRY(nncl_conv2d_bwd(dev, &g));
            else {
                TRY(nncl_pool2d_fwd(dev, &pf));
                TRY(nncl_pool2d_bwd(dev, &pb));
            }
            TRY(nncl_device_finish(dev));
            if (r >= 0)
                t[r] = (now() - t0) * 1e3;
        }
        qsort(t, (size_t)runs, sizeof *t, cmp_double);
        ms[part] = t[0];
    }
    free(t);
    nncl_buffer *all[] = {x, w, b, y, dy, dx, dw, db, scratch, py, pidx, pdy, pdx};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        nncl_buffer_free(all[i]);
}

/* PyTorch's figures from the script: lines "LAYER fwd_ms bwd_ms pool_ms". */
static bool run_torch(const char *script, size_t batch, int runs, double ms[N_LAYERS][3])
{
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s' --batch %zu --runs %d", script, batch, runs);
    FILE *f = popen(cmd, "r");
    if (!f)
        return false;
    char line[256];
    int got = 0;
    while (fgets(line, sizeof line, f)) {
        int i;
        double a, b, c;
        if (sscanf(line, "layer %d %lf %lf %lf", &i, &a, &b, &c) == 4 && i >= 0 && i < N_LAYERS) {
            ms[i][0] = a, ms[i][1] = b, ms[i][2] = c;
            got++;
        } else {
            fputs(line, stderr);
        }
    }
    int rc = pclose(f);
    return rc == 0 && got == N_LAYERS;
}

int main(int argc, char **argv)
{
    const char *device = "all", *torch = NULL;
    int runs = 5;
    size_t batch = 128;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--device") == 0 && i + 1 < argc)
            device = argv[++i];
        else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc && atoi(argv[i + 1]) > 0)
            runs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc && atoi(argv[i + 1]) > 0)
            batch = (size_t)atoi(argv[++i]);
        else if (strcmp(argv[i], "--torch") == 0 && i + 1 < argc)
            torch = argv[++i];
        else {
            fprintf(stderr, "usage: bench_conv [--device D|all] [--runs N (5)] [--batch N (128)] [--torch SCRIPT]\n");
            return 2;
        }
    }
    nncl_device_list list;
    TRY(nncl_device_list_get(&list));
    double torch_ms[N_LAYERS][3];
    bool have_torch = torch && run_torch(torch, batch, runs, torch_ms);
    if (torch && !have_torch)
        fprintf(stderr, "bench_conv: no PyTorch figures (%s failed or torch is missing)\n", torch);
    printf("batch %zu, best of %d runs, ms per call (pool: 2x2 max pool forward + backward)\n", batch, runs);
    printf("%-8s %-22s %9s %9s %9s %9s\n", "device", "layer", "fwd", "bwd", "pool", "total");
    for (int d = 0; d < list.count; d++) {
        char idx[16];
        snprintf(idx, sizeof idx, "%d", d);
        bool host = list.items[d].backend == NNCL_BACKEND_HOST;
        if (strcmp(device, "all") != 0 && strcmp(device, idx) != 0 && !(host && strcmp(device, "host") == 0))
            continue;
        nncl_device *dev;
        TRY(nncl_device_open(&list.items[d], &dev));
        bool cached;
        TRY(nncl_device_prepare(dev, &cached));
        fprintf(stderr, "device %d: %s\n", d, list.items[d].name);
        double net[2] = {0, 0};
        for (int l = 0; l < N_LAYERS; l++) {
            double ms[3];
            time_layer(dev, &layers[l], batch, runs, ms);
            double total = ms[0] + ms[1] + ms[2];
            net[l / 2] += total;
            printf("%-8s %-22s %9.2f %9.2f %9.2f %9.2f\n", host ? "host" : idx, layers[l].name, ms[0], ms[1], ms[2],
                   total);
        }
        for (int n = 0; n < 2; n++) {
            printf("%-8s %-22s %39.2f ms/batch = %.0f samples/s", host ? "host" : idx, layers[2 * n].net, net[n],
                   1e3 * (double)batch / net[n]);
            if (have_torch) {
                double t = 0;
                for (int l = 2 * n; l < 2 * n + 2; l++)
                    t += torch_ms[l][0] + torch_ms[l][1] + torch_ms[l][2];
                printf("  (PyTorch %.2f ms: %.2fx)", t, t / net[n]);
            }
            printf("\n");
        }
        nncl_device_close(dev);
    }
    if (have_torch)
        for (int l = 0; l < N_LAYERS; l++)
            printf("%-8s %-22s %9.2f %9.2f %9.2f %9.2f\n", "torch", layers[l].name, torch_ms[l][0], torch_ms[l][1],
                   torch_ms[l][2], torch_ms[l][0] + torch_ms[l][1] + torch_ms[l][2]);
    nncl_device_list_free(&list);
    return 0;
}
