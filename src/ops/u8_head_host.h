/* The host device's linear_u8_head and linear_u8_fwd (u8_head_host.c) and
 * their inner loops, one set per instruction set (u8_head_host_kernels.inc). */
#ifndef NNCL_U8_HEAD_HOST_H
#define NNCL_U8_HEAD_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nncl/ops.h"

/* forward rows x outputs, and weight-gradient outputs, of one call */
enum { U8H_DM = 2, U8H_DN = 5, U8H_TM = 5 };

/* The host step's chunks (u8_head_host.c): at most this many, of at least
 * this many rows (but for the two halves of a smaller batch). */
enum { U8H_HOST_CHUNKS = 16, U8H_HOST_MIN_CHUNK = 64 };

/* What the head needs besides the rows (u8h_head_fn) */
typedef struct u8h_head_in {
    size_t hidden, classes;
    const float *w2, *b2; /* classes x hidden, classes */
    float grad_scale;
    nncl_act act;
    float slope;
} u8h_head_in;

/* One block's head sums, in float; the caller adds them to its doubles */
typedef struct u8h_head_sums {
    float dw2[NNCL_HEAD_MAX * NNCL_HEAD_MAX], db2[NNCL_HEAD_MAX], db1[NNCL_HEAD_MAX];
    double loss, correct;
} u8h_head_sums;

/* Inner loops (u8_head_host_kernels.inc says what each computes). A NULL
 * shift means all zeros. g and h are transposed: g[o*ldg + r]. */
typedef void u8h_fwd_fn(const uint8_t *const *xr, size_t n, const float *const wr[U8H_DN], const float *shift,
                        size_t in, bool prefetch, float *res);
typedef void u8h_wgrad_fn(const uint8_t *const *xr, size_t n, const float *g, size_t ldg, const float *shift,
                          size_t in, float *dw);
typedef void u8h_head_fn(const u8h_head_in *in, const float *ht, size_t ldh, const int32_t *labels, size_t n,
                         float *gt, size_t ldg, u8h_head_sums *s);

/* Floats of scratch the host step needs: W1 scaled, and each chunk's dW1
 * sums over the hidden units rounded up to U8H_TM (part of
 * nncl_linear_u8_head_scratch_len, so the step allocates no buffer). */
static inline size_t nncl_u8h_host_scratch_floats(size_t in, size_t hidden)
{
    return (hidden + U8H_HOST_CHUNKS * ((hidden + U8H_TM - 1) / U8H_TM * U8H_TM)) * in;
}

/* The oracle (linear_u8_head.c): the three ops' host twins composed, in
 * double, on host buffers. */
nncl_status nncl_host_linear_u8_head_reference(const nncl_linear_u8_head_args *a);

/* linear_u8_fwd's oracle (linear_u8.c): plain loops in double. The host
 * device's nncl_host_linear_u8_fwd is u8_head_host.c's float one. */
nncl_status nncl_host_linear_u8_fwd_reference(nncl_device *dev, const nncl_linear_u8_fwd_args *a);

/* linear_u8_wgrad's oracle (linear_u8.c), likewise; the host device's
 * nncl_host_linear_u8_wgrad is u8_sparse_host.c's. */
nncl_status nncl_host_linear_u8_wgrad_reference(nncl_device *dev, const nncl_linear_u8_wgrad_args *a);

u8h_fwd_fn nncl_u8h_fwd_generic, nncl_u8h_fwd_avx2, nncl_u8h_fwd_avx512;
u8h_wgrad_fn nncl_u8h_wgrad_generic, nncl_u8h_wgrad_avx2, nncl_u8h_wgrad_avx512;
u8h_head_fn nncl_u8h_head_generic, nncl_u8h_head_avx2, nncl_u8h_head_avx512;

#endif
