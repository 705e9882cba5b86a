/* linear_u8_head's block size, shared by the dispatcher (linear_u8_head.c),
 * which sizes the scratch for it, and the tuning table
 * (src/device/cl_tuning.c), which passes it to the kernel as -DU8H_BLOCK:
 * one definition, so the two can never disagree. */
#ifndef NNCL_LINEAR_U8_HEAD_IMPL_H
#define NNCL_LINEAR_U8_HEAD_IMPL_H

/* Rows per block: a work-item computes a block's hidden layer, head and
 * share of dW1 in turn, while the block's bytes stay in its core's cache
 * (256 MNIST rows are 200 KB, within L2). At the tutorial's shape a step
 * took 5.5-5.6 ms with 256, 5.9 with 64, 5.7-5.85 with 128 and 5.3-5.5 with
 * 512, which doubles the kernel's private memory to about 50 KB
 * (tools/BENCHMARKS.md, "Tried for the tutorial"). */
enum { NNCL_U8H_BLOCK = 256 };

#endif
