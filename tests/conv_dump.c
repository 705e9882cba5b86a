/* Writes conv2d_fwd, conv2d_bwd and pool2d on every device, for
 * tests/conv_torch.py to compare with PyTorch: one JSON line describing the
 * records, then each record's float32 arrays, little-endian, in the order
 * the line lists them. usage: conv_dump FILE */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "nncl/nncl.h"

#define OK(e)                                                                       \
    do {                                                                            \
        if ((e) != NNCL_OK) {                                                       \
            fprintf(stderr, "conv_dump: %s: %s\n", #e, nncl_last_error());          \
            exit(1);                                                                \
        }                                                                           \
    } while (0)

static const struct { size_t n, c, h, w, k, f, stride; int padding; } convs[] = {
    {2, 3, 7, 11, 5, 3, 1, NNCL_PAD_SAME},  {3, 2, 13, 7, 4, 5, 2, NNCL_PAD_SAME},
    {1, 5, 8, 8, 3, 4, 1, NNCL_PAD_SAME},   {2, 1, 17, 13, 7, 3, 2, NNCL_PAD_VALID},
    {1, 3, 6, 9, 2, 2, 2, 1},               {2, 4, 9, 9, 6, 1, 1, NNCL_PAD_VALID},
};
static const struct { size_t n, c, h, w, window, stride; } pools[] = {{2, 3, 7, 9, 2, 0}, {1, 2, 11, 10, 3, 2}};

static float *randoms(size_t n, unsigned *seed)
{
    float *x = malloc(n * sizeof *x);
    for (size_t i = 0; i < n; i++) {
        *seed = *seed * 1664525u + 1013904223u;
        x[i] = (float)(*seed >> 8) / 16777216.0f * 2.0f - 1.0f;
    }
    return x;
}

static nncl_buffer *up(nncl_device *d, const float *x, size_t n)
{
    nncl_buffer *b;
    OK(nncl_buffer_alloc(d, n * 4, &b));
    if (x)
        OK(nncl_buffer_write(b, 0, x, n * 4));
    return b;
}

static void put(FILE *f, nncl_buffer *b, size_t n)
{
    float *x = malloc(n * 4);
    OK(nncl_buffer_read(b, 0, x, n * 4));
    fwrite(x, 4, n, f);
    free(x);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: conv_dump FILE\n");
        return 2;
    }
    nncl_device_list list;
    OK(nncl_device_list_get(&list));
    FILE *f = fopen(argv[1], "wb");
    if (!f)
        return 1;
    /* the description line */
    fprintf(f, "{\"devices\": [");
    for (int d = 0; d < list.count; d++)
        fprintf(f, "%s\"%s\"", d ? ", " : "", list.items[d].backend == NNCL_BACKEND_HOST ? "host" : "opencl");
    fprintf(f, "], \"convs\": [");
    for (size_t i = 0; i < sizeof convs / sizeof convs[0]; i++) {
        nncl_conv2d_shape s;
        OK(nncl_conv2d_shape_make(convs[i].n, convs[i].c, convs[i].h, convs[i].w, convs[i].k, convs[i].f, convs[i].f,
                                  convs[i].stride, convs[i].padding, &s));
        fprintf(f, "%s{\"n\": %zu, \"c\": %zu, \"h\": %zu, \"w\": %zu, \"k\": %zu, \"kh\": %zu, \"kw\": %zu, "
                "\"stride\": %zu, \"pad_h\": %zu, \"pad_w\": %zu, \"oh\": %zu, \"ow\": %zu}", i ? ", " : "",
                s.n, s.c, s.h, s.w, s.k, s.kh, s.kw, s.stride_h, s.pad_h, s.pad_w, s.oh, s.ow);
    }
    fprintf(f, "], \"pools\": [");
    for (size_t i = 0; i < sizeof pools / sizeof pools[0]; i++) {
        nncl_pool2d_shape s;
        OK(nncl_pool2d_shape_make(pools[i].n, pools[i].c, pools[i].h, pools[i].w, pools[i].window, pools[i].stride,
                                  &s));
        fprintf(f, "%s{\"n\": %zu, \"c\": %zu, \"h\": %zu, \"w\": %zu, \"window\": %zu, \"stride\": %zu, "
                "\"oh\": %zu, \"ow\": %zu}", i ? ", " : "", s.n, s.c, s.h, s.w, s.window, s.stride, s.oh, s.ow);
    }
    fprintf(f, "], \"order\": \"per device: per conv x w b dy y dx dw db; per pool x dy, max y dx, avg y dx\"}\n");
    for (int d = 0; d < list.count; d++) {
        nncl_device *dev;
        OK(nncl_device_open(&list.items[d], &dev));
        unsigned seed = 7;      /* the same numbers on every device */
        for (size_t i = 0; i < sizeof convs / sizeof convs[0]; i++) {
            nncl_conv2d_shape s;
            OK(nncl_conv2d_shape_make(convs[i].n, convs[i].c, convs[i].h, convs[i].w, convs[i].k, convs[i].f,
                                      convs[i].f, convs[i].stride, convs[i].padding, &s));
            size_t nx = s.n * s.c * s.h * s.w, nw = s.k * s.c * s.kh * s.kw, ny = s.n * s.k * s.oh * s.ow;
            float *x = randoms(nx, &seed), *w = randoms(nw, &seed), *b = randoms(s.k, &seed), *dy = randoms(ny, &seed);
            nncl_buffer *xb = up(dev, x, nx), *wb = up(dev, w, nw), *bb = up(dev, b, s.k), *dyb = up(dev, dy, ny);
            nncl_buffer *yb = up(dev, NULL, ny), *dxb = up(dev, NULL, nx), *dwb = up(dev, NULL, nw);
            nncl_buffer *dbb = up(dev, NULL, s.k), *sb = up(dev, NULL, nncl_conv2d_scratch_len(&s));
            nncl_conv2d_fwd_args fa = {.s = s, .x = nncl_view_of(xb, 0), .w = nncl_view_of(wb, 0),
                                       .b = nncl_view_of(bb, 0), .y = nncl_view_of(yb, 0),
                                       .scratch = nncl_view_of(sb, 0)};
            OK(nncl_conv2d_fwd(dev, &fa));
            nncl_conv2d_bwd_args ba = {.s = s, .x = nncl_view_of(xb, 0), .w = nncl_view_of(wb, 0),
                                       .dy = nncl_view_of(dyb, 0), .dx = nncl_view_of(dxb, 0),
                                       .dw = nncl_view_of(dwb, 0), .db = nncl_view_of(dbb, 0),
                                       .scratch = nncl_view_of(sb, 0)};
            OK(nncl_conv2d_bwd(dev, &ba));
            fwrite(x, 4, nx, f), fwrite(w, 4, nw, f), fwrite(b, 4, s.k, f), fwrite(dy, 4, ny, f);
            put(f, yb, ny), put(f, dxb, nx), put(f, dwb, nw), put(f, dbb, s.k);
            nncl_buffer *all[] = {xb, wb, bb, dyb, yb, dxb, dwb, dbb, sb};
            for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
                nncl_buffer_free(all[k]);
            free(x), free(w), free(b), free(dy);
        }
        for (size_t i = 0; i < sizeof pools / sizeof pools[0]; i++) {
            nncl_pool2d_shape s;
            OK(nncl_pool2d_shape_make(pools[i].n, pools[i].c, pools[i].h, pools[i].w, pools[i].window,
                                      pools[i].stride, &s));
            size_t nx = s.n * s.c * s.h * s.w, ny = s.n * s.c * s.oh * s.ow;
            float *x = randoms(nx, &seed), *dy = randoms(ny, &seed);
            fwrite(x, 4, nx, f), fwrite(dy, 4, ny, f);
            nncl_buffer *xb = up(dev, x, nx), *dyb = up(dev, dy, ny), *yb = up(dev, NULL, ny);
            nncl_buffer *ib = up(dev, NULL, ny), *dxb = up(dev, NULL, nx);
            for (int kind = 0; kind < 2; kind++) {
                nncl_pool2d_fwd_args pf = {(nncl_pool)kind, s, nncl_view_of(xb, 0), nncl_view_of(yb, 0),
                                           nncl_view_of(ib, 0)};
                OK(nncl_pool2d_fwd(dev, &pf));
                nncl_pool2d_bwd_args pb = {(nncl_pool)kind, s, nncl_view_of(dyb, 0), nncl_view_of(ib, 0),
                                           nncl_view_of(dxb, 0)};
                OK(nncl_pool2d_bwd(dev, &pb));
                put(f, yb, ny), put(f, dxb, nx);
            }
            nncl_buffer *all[] = {xb, dyb, yb, ib, dxb};
            for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
                nncl_buffer_free(all[k]);
            free(x), free(dy);
        }
        nncl_device_close(dev);
    }
    nncl_device_list_free(&list);
    return fclose(f) == 0 ? 0 : 1;
}
