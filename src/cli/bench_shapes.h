/* The GEMM shapes `nncl bench` times, shared with tools/bench_gemm_peers.c
 * (which adds the tutorial's two) so that both report the same rows. */
#ifndef NNCL_BENCH_SHAPES_H
#define NNCL_BENCH_SHAPES_H

#include <stdbool.h>
#include <stddef.h>

typedef struct bench_shape {
    const char *what;
    size_t m, n, k;
    bool ta, tb;
} bench_shape;

/* The three GEMMs of a dense layer in -> out at batch B:
 *   forward      Y[B x out] = X[B x in] W^T          (N, T)
 *   input grad   dX[B x in] = dY[B x out] W          (N, N)
 *   weight grad  dW[out x in] = dY^T X               (T, N)
 * for 784 -> 128 at 128 and 784 -> 512 at 256, then square 1024 and 2048:
 * an initializer list, 8 entries. */
#define NNCL_BENCH_GEMM_SHAPES                          \
    {"784->128 fwd", 128, 128, 784, false, true},       \
    {"784->128 dX", 128, 784, 128, false, false},       \
    {"784->128 dW", 128, 784, 128, true, false},        \
    {"784->512 fwd", 256, 512, 784, false, true},       \
    {"784->512 dX", 256, 784, 512, false, false},       \
    {"784->512 dW", 512, 784, 256, true, false},        \
    {"square 1024", 1024, 1024, 1024, false, false},    \
    {"square 2048", 2048, 2048, 2048, false, false}

#endif
