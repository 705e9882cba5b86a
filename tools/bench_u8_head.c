/* The tutorial's whole step on its own: nncl_linear_u8_head on the first
 * ROWS of MNIST's training images (784-10-10, ReLU, the bytes / 255 as
 * `--preset tutorial` reads them), REPS calls after a warm-up, three
 * times, in milliseconds a step and nanoseconds a row. Run it beside
 * another build's library (LD_LIBRARY_PATH=...) in alternating processes
 * for an A/B; NNCL_U8H_SPARSE=off, NNCL_U8H_HOST=avx2|generic and
 * NNCL_HOST_THREADS=1 choose the host's loops. The images' buffer is sealed,
 * as training seals a dataset's (the host then lists each row's nonzero
 * bytes once); --unsealed leaves it open, so that every step lists them.
 * A benchmark, not a test.
 * usage: bench_u8_head [--device D] [--unsealed] [ROWS [REPS]]
 *        (D as nncl --device; default host, ROWS 41000, REPS 100; run from
 *        the repository root) */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nncl/data.h"
#include "nncl/nncl.h"

enum { IN = 784, HID = 10, CLASSES = 10 };

static nncl_buffer *upload(nncl_device *dev, const void *data, size_t bytes)
{
    nncl_buffer *b = NULL;
    if (nncl_buffer_alloc(dev, bytes, &b) != NNCL_OK || (data && nncl_buffer_write(b, 0, data, bytes) != NNCL_OK)) {
        fprintf(stderr, "bench_u8_head: %s\n", nncl_last_error());
        exit(1);
    }
    return b;
}

static double seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    const char *choice = "host";
    int a = 1;
    bool seal = true;
    for (;;) {
        if (argc > a + 1 && strcmp(argv[a], "--device") == 0) {
            choice = argv[a + 1];
            a += 2;
        } else if (argc > a && strcmp(argv[a], "--unsealed") == 0) {
            seal = false;
            a++;
        } else {
            break;
        }
    }
    size_t rows = argc > a ? strtoul(argv[a], NULL, 10) : 41000;
    int reps = argc > a + 1 ? atoi(argv[a + 1]) : 100;
    uint8_t *x = NULL, *y = NULL;
    size_t count = 0, nlabels = 0;
    int h = 0, w = 0;
    if (nncl_idx_load_images("datasets/mnist/train-images-idx3-ubyte.gz", &x, &count, &h, &w) != NNCL_OK ||
        nncl_idx_load_labels("datasets/mnist/train-labels-idx1-ubyte.gz", &y, &nlabels) != NNCL_OK) {
        fprintf(stderr, "bench_u8_head: %s (run from the repository root)\n", nncl_last_error());
        return 1;
    }
    if (rows < 1 || rows > count || reps < 1 || (size_t)h * (size_t)w != IN) {
        fprintf(stderr, "bench_u8_head: ROWS must be 1..%zu, REPS >= 1\n", count);
        return 1;
    }
    nncl_device_list list;
    nncl_device *dev = NULL;
    int index = 0;
    if (nncl_device_list_get(&list) != NNCL_OK || nncl_device_select(&list, choice, &index) != NNCL_OK ||
        nncl_device_open(&list.items[index], &dev) != NNCL_OK) {
        fprintf(stderr, "bench_u8_head: %s\n", nncl_last_error());
        return 1;
    }

    /* weights as a seeded uniform start, labels the images' own */
    float *w1 = malloc(HID * IN * sizeof *w1), w2[HID * CLASSES], zeros[HID + CLASSES] = {0};
    float shift[IN] = {0}, scale[IN];
    int32_t *labels = malloc(rows * sizeof *labels);
    uint64_t s = 42;
    for (size_t i = 0; i < HID * IN; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        w1[i] = (float)(s >> 40) / (float)(1 << 24) - 0.5f;
    }
    for (size_t i = 0; i < HID * CLASSES; i++)
        w2[i] = (float)((i * 37) % 101) / 101.0f - 0.5f;
    for (size_t j = 0; j < IN; j++)
        scale[j] = 1.0f / 255.0f;
    for (size_t i = 0; i < rows; i++)
        labels[i] = y[i];
    size_t scratch = nncl_linear_u8_head_scratch_len(rows, IN, HID, CLASSES);
    nncl_buffer *xb = upload(dev, x, rows * IN);
    if (seal && nncl_buffer_seal(xb) != NNCL_OK) {
        fprintf(stderr, "bench_u8_head: %s\n", nncl_last_error());
        return 1;
    }
    nncl_linear_u8_head_args args = {
        .x = nncl_view_of(xb, 0), .x_rows = rows,
        .shift = nncl_view_of(upload(dev, shift, sizeof shift), 0),
        .scale = nncl_view_of(upload(dev, scale, sizeof scale), 0),
        .w1 = nncl_view_of(upload(dev, w1, HID * IN * sizeof *w1), 0),
        .b1 = nncl_view_of(upload(dev, zeros, HID * sizeof(float)), 0),
        .w2 = nncl_view_of(upload(dev, w2, sizeof w2), 0),
        .b2 = nncl_view_of(upload(dev, zeros, CLASSES * sizeof(float)), 0),
        .labels = nncl_view_of(upload(dev, labels, rows * sizeof *labels), 0),
        .dw1 = nncl_view_of(upload(dev, NULL, HID * IN * sizeof(float)), 0),
        .db1 = nncl_view_of(upload(dev, NULL, HID * sizeof(float)), 0),
        .dw2 = nncl_view_of(upload(dev, NULL, sizeof w2), 0),
        .db2 = nncl_view_of(upload(dev, NULL, CLASSES * sizeof(float)), 0),
        .acc = nncl_view_of(upload(dev, zeros, 2 * sizeof(float)), 0),
        .scratch = nncl_view_of(upload(dev, NULL, scratch * sizeof(float)), 0),
        .rows = rows, .in = IN, .hidden = HID, .classes = CLASSES,
        .act = NNCL_ACT_RELU, .grad_scale = 1.0f / (float)rows};
    printf("linear_u8_head, %zu MNIST rows, 784-10-10, on %s%s\n", rows, list.items[index].name,
           seal ? "" : " (unsealed)");
    for (int round = -1; round < 3; round++) { /* round -1: the warm-up */
        double t0 = seconds();
        for (int r = 0; r < (round < 0 ? 2 : reps); r++)
            if (nncl_linear_u8_head(dev, &args) != NNCL_OK) {
                fprintf(stderr, "bench_u8_head: %s\n", nncl_last_error());
                return 1;
            }
        if (nncl_device_finish(dev) != NNCL_OK) {
            fprintf(stderr, "bench_u8_head: %s\n", nncl_last_error());
            return 1;
        }
        double t = (seconds() - t0) / reps;
        if (round >= 0)
            printf("  %8.3f ms a step, %7.1f ns a row\n", t * 1e3, t / (double)rows * 1e9);
    }
    nncl_device_close(dev);
    return 0;
}
