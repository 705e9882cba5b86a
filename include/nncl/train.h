/* nncl/train.h: the training loop, learning-rate schedules, and the run
 * directory that records every run.
 *
 * The loop owns no data: the caller uploads the training and validation sets
 * once (nncl_device_data_upload). Each epoch writes one index list (the
 * shuffled order) to the device; each step gathers its batch on the device,
 * runs forward, loss, backward and the optimiser there, and moves no data.
 * Loss and accuracy accumulate on the device and are read once per epoch, or
 * once every progress_every steps when a progress hook is given. */
#ifndef NNCL_TRAIN_H
#define NNCL_TRAIN_H

#include <signal.h>

#include "nncl/net.h"
#include "nncl/snapshot.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum nncl_schedule_kind {
    NNCL_SCHEDULE_CONSTANT = 0,
    NNCL_SCHEDULE_STEP,         /* lr * gamma^floor(epoch / step_epochs) */
    NNCL_SCHEDULE_COSINE,       /* lr * (1 + cos(pi * progress)) / 2 over the epochs after warm-up */
} nncl_schedule_kind;

typedef struct nncl_schedule {
    nncl_schedule_kind kind;
    float lr;                   /* the base learning rate */
    int step_epochs;            /* NNCL_SCHEDULE_STEP */
    float gamma;                /* NNCL_SCHEDULE_STEP */
    float warmup_epochs;        /* linear ramp from lr/steps to lr over these epochs; 0 = none */
} nncl_schedule;

/* The learning rate at a fractional epoch (epoch 0.5 = half-way through the
 * first epoch) of a run of `epochs` epochs (cosine decays over them). */
float nncl_schedule_lr(const nncl_schedule *s, double epoch, int epochs);

/* Data-parallel training (nncl train --distributed): R processes ("ranks")
 * each hold the whole network and run nncl_train with the same config and
 * the same data; each trains on rows [r*B/R, (r+1)*B/R) of every batch of B
 * rows of the shared, identically seeded order. After each backward pass
 * the gradients (each rank's the mean over its rows, weighted by its share
 * of the batch) are summed over ranks before the optimiser step, so every
 * rank takes the same step: that of one process on the whole batch, up to
 * the order of the additions (and batch normalisation, whose statistics
 * are each rank's own). Rank 0's parameters are broadcast at the start;
 * the metrics' sums are summed over ranks; a stop (*hooks->stop) on any
 * rank stops all at the same step. The loop calls no MPI itself: these
 * two collectives are the caller's (src/dist). Every rank calls the hooks;
 * which of them write is the caller's choice. */
typedef struct nncl_train_comm {
    int rank, size;             /* this process's rank, of size */
    void *ctx;
    /* Sum buf (n floats) over ranks in place, the same bits on every rank. */
    nncl_status (*sum)(void *ctx, float *buf, size_t n);
    /* Rank 0's n floats to every rank, in place. */
    nncl_status (*bcast)(void *ctx, float *buf, size_t n);
} nncl_train_comm;

typedef struct nncl_train_config {
    size_t batch;               /* rows per step; >= 1 (the CLI maps 0 to the whole set) */
    int epochs;                 /* >= 1 */
    int early_stop;             /* stop after this many epochs without a better
                                   validation loss; 0 = never */
    uint64_t seed;              /* shuffling and dropout */
    bool shuffle;               /* reshuffle every epoch (full batches need not) */
    nncl_schedule schedule;
    nncl_optim_config optim;
    size_t progress_every;      /* steps between progress hooks; 0 = none */
    int eval_every;             /* evaluate the validation set every N epochs
                                   (and always at the last); 0 or 1 = every epoch */
    size_t snapshots;           /* snapshots to take (nncl/snapshot.h), step 0 and the
                                   last step included; 0 = none (needs on_snapshot) */
    const nncl_device_data *probe;  /* validation rows the snapshots evaluate (their
                                   val metrics and dead units), or NULL */
    const float *hist_range;    /* the snapshots' histogram ranges (one per layer), or
                                   NULL for nncl_snapshot_hist_range of the first */
    int checkpoint_every;       /* call on_checkpoint at the end of every Nth epoch and of
                                   the last (not of one that stops early: its last snapshot
                                   needs the last step's gradients, which a checkpoint does
                                   not keep, so a resumed run repeats that epoch); 0 = only
                                   when *stop stops training */
    const struct nncl_train_state *resume;  /* continue from this state (a checkpoint's,
                                   nncl/checkpoint.h), or NULL to start afresh */
    const nncl_train_comm *comm;    /* data-parallel over ranks, or NULL: one process */
} nncl_train_config;

typedef struct nncl_epoch_metrics {
    int epoch;                  /* 1-based */
    unsigned long step;         /* optimiser steps so far */
    double train_loss, train_accuracy;     /* accuracy: fraction; regression: MAE */
    double val_loss, val_accuracy;         /* NAN without a validation set */
    double lr;                  /* at the end of the epoch */
    double seconds;             /* since training started */
    double samples_per_second;  /* of this epoch */
} nncl_epoch_metrics;

/* Everything the loop needs, beside the network's parameters and optimiser
 * state, to continue a run exactly as if it had never stopped: on the same
 * device, the continued run's metrics, snapshots and parameters are the
 * uninterrupted run's, bit for bit (times aside).
 *
 * The loop hands one to on_checkpoint at the end of an epoch (in_epoch
 * false: the next epoch shuffles `order` afresh) and when *stop stops it
 * between two steps of an epoch (in_epoch true: `order` is that epoch's, and
 * the accumulator's sums are those of its first `seen` rows). To continue,
 * put the network's parameters, optimiser state and (have_best) best
 * weights back (nncl_checkpoint_apply does all three), then call nncl_train
 * with cfg->resume pointing at the state, the same data, batch and seed; a
 * different cfg->epochs is allowed (the cosine schedule then stretches). */
typedef struct nncl_train_state {
    /* The run it belongs to: nncl_train refuses a state whose rows, batch
     * (after clamping to the rows) or seed differ from its own. */
    size_t rows, batch;
    uint64_t seed;
    int epochs;                 /* the run's length when it was taken (its schedule's) */
    /* Where training is. */
    int epochs_done;            /* finished epochs */
    bool in_epoch;              /* stopped inside epoch epochs_done + 1 */
    size_t step_in_epoch;       /* its steps done (in_epoch; else 0) */
    size_t seen;                /* its rows trained: step_in_epoch * batch */
    uint64_t step;              /* optimiser steps taken */
    uint64_t rng;               /* the shuffle generator's state */
    int32_t *order;             /* rows entries: the row order last written to the device */
    float acc[2];               /* the device accumulator's sums (in_epoch; else 0) */
    double progress;            /* fractional epochs at the last step */
    float last_lr;              /* the learning rate of the last step */
    double seconds;             /* of training so far */
    /* Validation and early stopping. */
    int best_epoch;             /* 0: none yet */
    double best_val_loss, best_val_accuracy;
    int since_best;             /* epochs evaluated since the best one */
    bool have_best;             /* the best epoch's weights are kept (early stopping) */
    /* Snapshots. */
    size_t snapshots;           /* taken so far (on_snapshot calls; a stop's extra one,
                                   taken after its checkpoint, is not counted) */
    uint64_t last_snapshot;     /* the step of the last of them, UINT64_MAX for none */
    double snap_acc[2];         /* the accumulator's sums at the epoch's last snapshot */
    size_t snap_seen;           /* and the epoch's rows then */
    float hist_range[NNCL_MAX_LAYERS];  /* the histograms' ranges (once snapshots > 0) */
    /* The metrics of every finished epoch, epochs_done entries. */
    nncl_epoch_metrics *history;
} nncl_train_state;

typedef enum nncl_run_status {
    NNCL_RUN_OK = 0,
    NNCL_RUN_DIVERGED,          /* the loss became NaN or infinite, or exploded */
    NNCL_RUN_INTERRUPTED,       /* *stop was set (SIGINT) */
    NNCL_RUN_FAILED,            /* an error; see the status and message */
} nncl_run_status;

const char *nncl_run_status_name(nncl_run_status s);

typedef struct nncl_train_hooks {
    void *ctx;
    /* After every epoch; returning an error stops training with it. */
    nncl_status (*on_epoch)(void *ctx, const nncl_epoch_metrics *m);
    /* Every progress_every steps: the running train loss and accuracy. */
    void (*on_progress)(void *ctx, int epoch, size_t step_in_epoch, size_t steps_per_epoch,
                        double loss, double accuracy);
    /* At each snapshot: its statistics and the parameters (host copies,
     * valid during the call). Returning an error stops training with it. */
    nncl_status (*on_snapshot)(void *ctx, const nncl_snapshot_info *info, const float *params);
    /* The loop's state, to save (nncl_checkpoint_save): at the end of an
     * epoch (see cfg->checkpoint_every), after its metrics, snapshots and
     * best weights, and when *stop stops training, at that step, before
     * the stop's extra snapshot (which a resumed run does not repeat).
     * Valid during the call; the hook may skip saving one. Returning an
     * error stops training with it. */
    nncl_status (*on_checkpoint)(void *ctx, const nncl_net *net, const struct nncl_train_state *state);
    /* Set asynchronously (a signal handler) to stop after the current step. */
    volatile sig_atomic_t *stop;
} nncl_train_hooks;

/* A run has diverged when its mean training loss is not finite or passes
 * this many times what guessing scores (ln K for K classes, 1 for a
 * standardised regression target; at least 1). */
#define NNCL_DIVERGE_FACTOR 100.0

/* Where and how a diverged run went wrong. */
typedef struct nncl_divergence {
    unsigned long step;         /* the step at which it was seen */
    int epoch;                  /* the epoch (from 1) of that step */
    double loss;                /* the mean training loss that showed it (NaN, inf, or past limit;
                                   for regression, over the standardised target, as limit) */
    double lr;                  /* the learning rate of that step */
    double limit;               /* the largest mean loss taken as training */
    int layer;                  /* from 1: the layer whose weights grew the most */
    double max_before, max_after;   /* that layer's largest |w| at the start and then */
} nncl_divergence;

typedef struct nncl_train_result {
    nncl_run_status status;
    int epochs;                 /* completed */
    unsigned long steps;        /* taken, also when interrupted inside an epoch */
    nncl_divergence diverged;   /* when status is NNCL_RUN_DIVERGED */
    /* When interrupted: the monotonic time (nncl_seconds_now) at which the
     * last step had run and training stopped, to measure how quickly. */
    double stopped_at;
    int best_epoch;             /* by validation loss (0 without validation) */
    double best_val_loss, best_val_accuracy;
    double seconds;
    double samples_per_second;  /* over the whole run */
} nncl_train_result;

/* Train net on train (its order is reshuffled every epoch when cfg->shuffle),
 * evaluating val (may be NULL) after every epoch. With early stopping and a
 * validation set, the best parameters are restored at the end. Returns an
 * error only for failures; divergence and interruption are results. With
 * cfg->resume, training continues from that state (result then covers the
 * whole run: its epochs, steps, best epoch and seconds). */
nncl_status nncl_train(nncl_net *net, const nncl_train_config *cfg, nncl_device_data *train,
                       nncl_device_data *val, const nncl_train_hooks *hooks,
                       nncl_train_result *result);

#ifdef __cplusplus
}
#endif
#endif
