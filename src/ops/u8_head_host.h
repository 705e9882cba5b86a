/* The host device's linear_u8_head and linear_u8_fwd (u8_head_host.c) and
 * their inner loops, one set per instruction set (u8_head_host_kernels.inc). */
#ifndef NNCL_U8_HEAD_HOST_H
#define NNCL_U8_HEAD_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nncl/ops.h"
#include "ops/u8_amx_host.h"

/* forward rows x outputs, and weight-gradient outputs, of one call */
enum { U8H_DM = 2, U8H_DN = 5, U8H_TM = 5 };

/* The host step's chunks (u8_head_host.c): at most this many, of at least
 * this many rows (but for the two halves of a smaller batch), walked in
 * blocks of U8H_HOST_BLOCK rows (128 MNIST rows are 100 KB of bytes, in L2
 * beside W1). */
enum { U8H_HOST_CHUNKS = 16, U8H_HOST_MIN_CHUNK = 64, U8H_HOST_BLOCK = 128 };

/* The sparse path (u8_head_host.c): a block whose bytes are at most
 * 1/U8H_SPARSE_DIV nonzero is computed from a list of them, a row's hidden
 * units U8H_SW lanes wide (zeros past hidden); inputs up to U8H_SPARSE_MAX_IN
 * bytes wide (the lists count entries in 32 bits). */
enum { U8H_SW = 16, U8H_SPARSE_DIV = 3, U8H_SPARSE_MAX_IN = 1 << 20 };
/* Rows ahead whose entries sfwd asks for when they come from memory (a
 * sealed x's kept lists, u8_head_host.c) */
enum { U8H_ENT_AHEAD = 6 };
_Static_assert(U8H_SPARSE_MAX_IN <= (1u << 24), "an AVX-512 list entry holds a column and its byte in 32 bits");
_Static_assert(NNCL_HEAD_MAX <= U8H_SW, "the sparse path holds every hidden unit of a row in one row of lanes");

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
 * shift means all zeros. The dense loops' g and h are transposed, g[o*ldg + r];
 * the sparse ones' (sfwd, swgrad) are by row, g[r*U8H_SW + o]. */
typedef void u8h_fwd_fn(const uint8_t *const *xr, size_t n, const float *const wr[U8H_DN], const float *shift,
                        size_t in, bool prefetch, float *res);
typedef void u8h_wgrad_fn(const uint8_t *const *xr, size_t n, const float *g, size_t ldg, const float *shift,
                          size_t in, float *dw);
typedef size_t u8h_list_fn(const uint8_t *x, size_t in, uint32_t *col);
typedef void u8h_sfwd_fn(const uint32_t *const *ent, const uint32_t *len, const uint8_t *const *xr, size_t n,
                         bool prefetch, const float *wt, float *out);
typedef void u8h_swgrad_fn(const uint32_t *const *ent, const uint32_t *len, const uint8_t *const *xr, size_t n,
                           const float *g, float *dwt);
typedef void u8h_head_fn(const u8h_head_in *in, const float *ht, size_t ldh, const int32_t *labels, size_t n,
                         float *gt, size_t ldg, u8h_head_sums *s);

/* Entries of a block's nonzero list: it stops at the row that takes it past
 * 1/U8H_SPARSE_DIV of the block's bytes, and a row's listing may write `in`
 * entries past its count. */
static inline size_t nncl_u8h_list_cap(size_t in) { return U8H_HOST_BLOCK * in / U8H_SPARSE_DIV + in + 1; }

/* Floats of scratch the host step needs (part of
 * nncl_linear_u8_head_scratch_len, so the step allocates no buffer): W1
 * scaled, and each chunk's dW1 sums over the hidden units rounded up to
 * U8H_TM; for the sparse path W1 scaled and transposed U8H_SW wide and each
 * chunk's dW1^T sums as wide. What each worker needs (the sparse path's
 * list of a block's nonzero bytes, the matrix path's rows and tiles) comes
 * from the host device's kept buffer (nncl_host_workspace), sized there by
 * the process's workers: nncl_u8h_host_work_bytes. */
static inline size_t nncl_u8h_host_scratch_floats(size_t in, size_t hidden)
{
    size_t dense = (hidden + U8H_HOST_CHUNKS * ((hidden + U8H_TM - 1) / U8H_TM * U8H_TM)) * in;
    /* U8H_SW more: the sparse part starts at a 64-byte boundary */
    size_t sparse = in > U8H_SPARSE_MAX_IN ? 0 : U8H_SW + (1 + U8H_HOST_CHUNKS) * U8H_SW * in;
    return dense + sparse;
}

/* Bytes of the host device's buffer the step takes for `workers` workers:
 * their lists (the sparse path) and the matrix path's part, each from a
 * 64-byte boundary. */
static inline size_t nncl_u8h_host_work_bytes(size_t in, size_t workers, bool sparse, bool matrix)
{
    size_t lists = sparse ? (workers * nncl_u8h_list_cap(in) * sizeof(uint32_t) + 63) / 64 * 64 : 0;
    return lists + (matrix ? nncl_u8a_scratch_bytes(in, U8H_HOST_CHUNKS, workers) : 0);
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
u8h_list_fn nncl_u8h_list_generic, nncl_u8h_list_avx2, nncl_u8h_list_avx512;
u8h_sfwd_fn nncl_u8h_sfwd_generic, nncl_u8h_sfwd_avx2, nncl_u8h_sfwd_avx512;
u8h_swgrad_fn nncl_u8h_swgrad_generic, nncl_u8h_swgrad_avx2, nncl_u8h_swgrad_avx512;

#endif
