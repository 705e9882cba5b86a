/* nncl/snapshot.h: a network's parameters and per-layer statistics at evenly
 * spaced steps of its training, and their file, snapshots.bin.
 *
 * A snapshot is taken after step `step` (step 0 is the initialisation). It
 * holds every parameter quantised to 8 bits per tensor (w = (q - 128) * scale,
 * scale = max|w| / 127: for pictures, not for resuming; model.safetensors
 * stays float32 and exact) and, per layer, exact statistics of the float
 * weights, a histogram on fixed bins, the gradient norm and update ratio of
 * the step just taken, and the fraction of dead units on validation rows.
 *
 * File layout, little endian (every size and offset is checked on reading):
 *   header   "NNCLSNP1", u32 header_bytes, u32 layers L, u32 bins B,
 *            u32 record_bytes, u64 n_params, u64 sizes[L + 1],
 *            f32 hist_range[L], u32 crc32 of all the header bytes before it
 *   records  one per snapshot, each record_bytes long, appended as training
 *            goes (a run that stops early keeps what it recorded):
 *            "SNAP", u32 index, u64 step, f32 epoch, train_loss,
 *            train_accuracy, val_loss, val_accuracy, lr, seconds,
 *            per layer { f32 w_mean, w_std, w_min, w_max, b_mean, b_std,
 *            b_min, b_max, grad_norm, update_ratio, dead_fraction;
 *            u32 hist[B + 2] }, f32 scale[2L] (W_1, b_1, W_2, ...),
 *            u8 q[n_params] (the flat network layout), zero padding to a
 *            multiple of 4, u32 crc32 of the record's bytes before it. */
#ifndef NNCL_SNAPSHOT_H
#define NNCL_SNAPSHOT_H

#include "nncl/net.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Histogram bins over [-R, R]; one more below and one more above. */
#define NNCL_SNAPSHOT_BINS 32
/* At most this many snapshots in a run (--snapshots). */
#define NNCL_SNAPSHOT_MAX 10000

typedef struct nncl_layer_stats {
    float w_mean, w_std, w_min, w_max;      /* of W_l, exact (float) */
    float b_mean, b_std, b_min, b_max;      /* of b_l */
    float grad_norm;        /* ||(dL/dW_l, dL/db_l)||_2 of the step just taken; NAN at step 0 */
    float update_ratio;     /* ||W_l after - W_l before|| / ||W_l before|| over that step; NAN at
                               step 0 and at the extra snapshot where a run stopped early */
    float dead_fraction;    /* hidden ReLU layers: fraction of units that are 0 on every sampled
                               validation row; NAN for other layers and activations (leaky ReLU
                               included), or without validation rows */
    /* Counts of W_l's entries: hist[0] below -R, hist[1 + i] in bin i of
     * [-R, R] (width 2R / BINS), hist[BINS + 1] above R. Sums to out * in. */
    uint32_t hist[NNCL_SNAPSHOT_BINS + 2];
} nncl_layer_stats;

typedef struct nncl_snapshot_info {
    uint64_t step;          /* optimiser steps taken */
    float epoch;            /* epochs done, fractional (step / steps per epoch) */
    float train_loss, train_accuracy;   /* mean over the rows trained since the previous snapshot
                                           of this epoch (or its start); NAN at step 0. Regression:
                                           accuracy holds the MAE (standardised) */
    float val_loss, val_accuracy;       /* on the validation sample; NAN without one */
    float lr;               /* of the step just taken (step 0: the first step's) */
    float seconds;          /* since training started */
    nncl_layer_stats layer[NNCL_MAX_LAYERS];
} nncl_snapshot_info;

/* The steps at which a run of total_steps steps takes its snapshots: step 0,
 * the last step and count - 2 evenly spaced between (every step when there
 * are at most count). Fills steps (count entries at most), returns how many. */
size_t nncl_snapshot_schedule(size_t count, uint64_t total_steps, uint64_t *steps);

/* The statistics of one snapshot from host copies of the flat parameters:
 * prev (before the step just taken) and grads may be NULL (step 0), giving
 * NAN norms and ratios. Leaves dead_fraction untouched. hist_range: R per
 * layer. */
void nncl_snapshot_stats(const nncl_net_config *cfg, const float *params, const float *prev,
                         const float *grads, const float *hist_range, nncl_snapshot_info *info);

/* The histogram ranges a run uses: R_l = 2 max|W_l| of the initial weights
 * (1 where they are all 0), so the bins stay fixed through training. */
void nncl_snapshot_hist_range(const nncl_net_config *cfg, const float *params, float *hist_range);

/* ---- the file ----------------------------------------------------------------- */

typedef struct nncl_snapshot_writer nncl_snapshot_writer;

/* Create path (it must not exist) and write its header. */
nncl_status nncl_snapshot_writer_open(const char *path, const nncl_net_config *cfg,
                                      const float *hist_range, nncl_snapshot_writer **out);
/* Append one snapshot: its statistics and the float parameters, quantised. */
nncl_status nncl_snapshot_writer_append(nncl_snapshot_writer *w, const nncl_snapshot_info *info,
                                        const float *params);
/* Open an existing snapshot file to append to (a resumed run): its header
 * must be that of cfg, and it must begin with `keep` whole, valid snapshots;
 * whatever follows them (a snapshot taken after the checkpoint the run
 * resumes from, or part of one) is cut off. hist_range receives the file's
 * histogram ranges (cfg->layers floats). */
nncl_status nncl_snapshot_writer_reopen(const char *path, const nncl_net_config *cfg, size_t keep,
                                        float *hist_range, nncl_snapshot_writer **out);
/* Flush what was appended to disk (before a checkpoint counts it). */
nncl_status nncl_snapshot_writer_sync(nncl_snapshot_writer *w);
/* Flush to disk and close; NULL is fine. Returns the first error seen. */
nncl_status nncl_snapshot_writer_close(nncl_snapshot_writer *w);

typedef struct nncl_snapshots {
    int layers;
    size_t sizes[NNCL_MAX_LAYERS + 1];
    size_t n_params;
    float hist_range[NNCL_MAX_LAYERS];
    size_t count;
    nncl_snapshot_info *info;   /* count */
    float *scale;               /* count x 2 * layers: W_1, b_1, W_2, b_2, ... */
    uint8_t *q;                 /* count x n_params */
} nncl_snapshots;

/* Read and check every byte of a snapshot file: a wrong magic, size, count,
 * offset, checksum, order of steps or histogram total is refused with a
 * message naming the file and what is wrong (NNCL_E_FORMAT). */
nncl_status nncl_snapshots_load(const char *path, nncl_snapshots *out);
void nncl_snapshots_free(nncl_snapshots *s);

/* Parameter i of snapshot k, and all parameters of snapshot k (n_params floats). */
float nncl_snapshots_value(const nncl_snapshots *s, size_t k, size_t i);
void nncl_snapshots_params(const nncl_snapshots *s, size_t k, float *out);

#ifdef __cplusplus
}
#endif
#endif
