/* Compile-time constants that a kernel and its dispatcher must agree on: the
 * dispatchers size their launches and buffers with them, and the tuning table
 * (src/ops/kernel_params.c) passes them to the kernels as -D defines, which
 * the kernels require (#error without them). One definition each, so the two
 * sides can never disagree. */
#ifndef NNCL_KERNEL_CONSTS_H
#define NNCL_KERNEL_CONSTS_H

enum {
    /* linear_u8_head: rows per block (U8H_BLOCK). A work-item computes a
     * block's hidden layer, head and share of dW1 in turn, while the block's
     * bytes stay in its core's cache (256 MNIST rows are 200 KB, within L2).
     * At the tutorial's shape a step took 5.9 ms with 64 rows, 5.7-5.85 with
     * 128 and 5.5-5.6 with 256; 512 looked faster one variant at a time, but
     * an A/B of builds showed no difference (tools/BENCHMARKS.md, "Tried for
     * the tutorial"). */
    NNCL_U8H_BLOCK = 256,
    /* colsum: columns per work-group (COLSUM_TILE) */
    NNCL_COLSUM_TILE = 16,
    /* the largest work-group of the one-group reductions and of colsum's
     * tiles (REDUCE_GROUP_MAX; nncl_reduce_group picks it or 64) */
    NNCL_REDUCE_GROUP_MAX = 256,
    /* conv2d on CPUs: floats of patch matrix per chunk of images (see
     * images_per_chunk in src/ops/conv2d.c) */
    NNCL_CONV_CHUNK_FLOATS = 1 << 18,
    /* the host backend's conv2d: the same, for its own path (src/ops/conv2d.c) */
    NNCL_CONV_HOST_CHUNK_FLOATS = 1 << 18,
};

#endif
