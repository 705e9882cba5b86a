/* The host device's byte-input dense layer for wide outputs
 * (u8_sparse_host.c): linear_u8_fwd and linear_u8_wgrad from the batch's
 * nonzero bytes, and their inner loops, one set per instruction set
 * (u8_sparse_host_kernels.inc). Private to the library. */
#ifndef NNCL_U8_SPARSE_HOST_H
#define NNCL_U8_SPARSE_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nncl/ops.h"

/* Vectors of outputs per unit block: the forward's 8 accumulators, the
 * weight gradient's two sets of 4 (16 registers on x86: room for the
 * broadcast and the loads). */
enum { U8S_FWD_VECS = 8, U8S_WG_VECS = 4 };

/* The forward takes this path from this many outputs up; a narrower layer
 * (the tutorial's 10) would fill most of a unit block with padding, and
 * u8_head_host.c's dense loops are blocked for it. */
enum { U8S_MIN_UNITS = 32 };

/* Inner loops (u8_sparse_host_kernels.inc says what each computes). */
typedef void u8s_pack_w_fn(const float *W, const float *scale, size_t in, size_t o0, size_t units, float *wt);
typedef void u8s_fwd_fn(const size_t *begin, const size_t *end, const uint32_t *col, const float *val, size_t n,
                        const float *wt, float *res);
typedef void u8s_wgrad_fn(const size_t *cbegin, const size_t *cend, const uint32_t *row, const float *val,
                          size_t in, const float *gb, const float *scale, size_t units, bool add, float *dw,
                          size_t ldw);
typedef size_t u8s_nonzero_fn(const uint8_t *x, size_t in, uint32_t *col, float *val);

u8s_pack_w_fn nncl_u8s_pack_w_generic, nncl_u8s_pack_w_avx2, nncl_u8s_pack_w_avx512;
u8s_fwd_fn nncl_u8s_fwd_generic, nncl_u8s_fwd_avx2, nncl_u8s_fwd_avx512;
u8s_wgrad_fn nncl_u8s_wgrad_generic, nncl_u8s_wgrad_avx2, nncl_u8s_wgrad_avx512;
u8s_nonzero_fn nncl_u8s_nonzero_generic, nncl_u8s_nonzero_avx2, nncl_u8s_nonzero_avx512;

/* linear_u8_fwd on host buffers, out >= U8S_MIN_UNITS (the host device's
 * nncl_host_linear_u8_fwd calls it for such layers). */
nncl_status nncl_u8s_linear_fwd(nncl_device *dev, const nncl_linear_u8_fwd_args *a);

#endif
