/* nncl/checkpoint.h: a training run's whole state in one file, to continue
 * it later exactly where it stopped (nncl train --resume).
 *
 * A checkpoint holds the network's parameters, the optimiser's state (m, v),
 * the best epoch's weights when early stopping keeps them, and the loop's
 * state (nncl_train_state: epochs and steps done, the shuffle generator, the
 * row order, the accumulator's sums inside an epoch, early stopping and
 * snapshot bookkeeping, and the metrics of every finished epoch). Floats are
 * stored as their bits: on the same device, a run continued from a
 * checkpoint gives the same metrics and parameters as one never stopped.
 *
 * File layout, little endian. A 32-byte header, then eight sections in this
 * order, each a tag, its payload's length and a checksum:
 *   header   "NNCLCKPT", u32 version (1), u32 sections (8), u64 file_bytes,
 *            u32 0, u32 crc32 of the 28 header bytes before it
 *   section  char tag[4], u64 bytes, u8 payload[bytes], u32 crc32 of the
 *            tag, length and payload
 *   "STAT"   the loop's state, 224 bytes: u64 rows, batch, seed; u32 epochs,
 *            epochs_done, flags (1 in_epoch, 2 have_best), best_epoch;
 *            u64 step_in_epoch, seen, step, rng; f32 acc[2]; f64 progress;
 *            f32 last_lr; u32 since_best; f64 seconds, best_val_loss,
 *            best_val_accuracy; u64 snapshots, last_snapshot (all ones for
 *            none); f64 snap_acc[2]; u64 snap_seen; f32 hist_range[16]
 *   "NETC"   the network: u32 layers L, act, task; f32 act_param, dropout;
 *            u64 n_params, sizes[L + 1]
 *   "ORDR"   i32 order[rows], a permutation of 0 .. rows - 1
 *   "PARM"   f32 params[n_params] (the flat layout of nncl/net.h)
 *   "OPTM"   f32 m[n_params]
 *   "OPTV"   f32 v[n_params]
 *   "BEST"   f32 best[n_params] with have_best, else empty
 *   "METR"   per finished epoch, 72 bytes: u32 epoch, u32 0, u64 step,
 *            f64 train_loss, train_accuracy, val_loss, val_accuracy, lr,
 *            seconds, samples_per_second
 * Reading checks every magic, tag, length, checksum and count, and that the
 * state is consistent (its steps with its epochs and batch, the order a
 * permutation, the history's epochs and steps); anything else is refused
 * with a message naming the file and what is wrong. */
#ifndef NNCL_CHECKPOINT_H
#define NNCL_CHECKPOINT_H

#include "nncl/train.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NNCL_CHECKPOINT_VERSION 1

typedef struct nncl_checkpoint {
    nncl_net_config net;        /* the shape of the network it belongs to */
    size_t n_params;
    nncl_train_state state;     /* state.order and state.history belong to the checkpoint */
    float *params, *m, *v;      /* n_params each */
    float *best;                /* n_params with state.have_best, else NULL */
} nncl_checkpoint;

/* Write path atomically (a temporary file, flushed, then renamed) from the
 * network's parameters, optimiser state and, with state->have_best, best
 * weights, and the loop's state: what on_checkpoint is handed. */
nncl_status nncl_checkpoint_save(const char *path, const nncl_net *net, const nncl_train_state *state);

/* The same from host copies (c->best may be NULL without have_best). */
nncl_status nncl_checkpoint_write(const char *path, const nncl_checkpoint *c);

/* Read and check every byte of path: NNCL_E_FORMAT with a message naming
 * the file and the fault for anything wrong, NNCL_E_IO when it cannot be
 * read. On failure *out is empty. */
nncl_status nncl_checkpoint_load(const char *path, nncl_checkpoint *out);
void nncl_checkpoint_free(nncl_checkpoint *c);

/* Put the parameters, optimiser state and best weights into net, which
 * must have the checkpoint's shape (NNCL_E_INVALID otherwise). Then train
 * with cfg->resume = &c->state. */
nncl_status nncl_checkpoint_apply(const nncl_checkpoint *c, nncl_net *net);

#ifdef __cplusplus
}
#endif
#endif
