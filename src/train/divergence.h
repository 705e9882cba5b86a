/* Divergence: a training loss that is not finite, or that has exploded
 * past NNCL_DIVERGE_FACTOR times what guessing scores (nncl/train.h).
 *
 * The loop reads its running loss at most every DIVERGE_POLL_SECONDS (a
 * read waits for the queue: a sync, so not every step), and at the end of
 * every epoch. When a run diverges, divergence_describe names the layer
 * whose weights grew the most since training started (a non-finite weight
 * counts as infinite growth; ties go to the layer nearer the input). */
#ifndef NNCL_DIVERGENCE_H
#define NNCL_DIVERGENCE_H

#include <stdbool.h>

#include "nncl/train.h"

#define DIVERGE_POLL_SECONDS 0.25

typedef struct divergence_watch {
    double limit;                       /* a mean loss above this has exploded */
    double polled;                      /* when the loss was last read */
    double s0;                          /* the accumulator's loss sum then */
    size_t seen;                        /* and the epoch's rows then */
    float start_max[NNCL_MAX_LAYERS];   /* each layer's largest |w| at the start */
} divergence_watch;

/* Reads the parameters once (the reference for divergence_describe). */
nncl_status divergence_watch_init(divergence_watch *w, const nncl_net *net);

/* At the start of an epoch (or where a resumed one continues): the
 * accumulator holds s0 over seen rows. */
void divergence_watch_epoch(divergence_watch *w, double s0, size_t seen);

/* Whether mean_loss shows divergence. */
bool divergence_exploded(const divergence_watch *w, double mean_loss);

/* If DIVERGE_POLL_SECONDS have passed: the mean loss over the rows since
 * the last poll, into *loss (NaN when not polled), and *diverged. */
nncl_status divergence_poll(divergence_watch *w, nncl_net *net, size_t seen, bool *diverged, double *loss);

/* Fill d's layer and weights (its step, epoch and loss are the caller's). */
nncl_status divergence_describe(const divergence_watch *w, const nncl_net *net, nncl_divergence *d);

#endif
