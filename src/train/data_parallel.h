/* The loop's side of data-parallel training (nncl_train_comm in
 * nncl/train.h): a rank's share of each batch, the gradient sum before the
 * optimiser step, and the sums and parameters the ranks must agree on. */
#ifndef NNCL_DATA_PARALLEL_H
#define NNCL_DATA_PARALLEL_H

#include <stdbool.h>

#include "nncl/train.h"

typedef struct data_parallel {
    const nncl_train_comm *comm;    /* NULL: one process, and every call below is the plain one */
    float *buf;                     /* host copy: gradients + the stop flag, or parameters */
    size_t n_trained, n_params;
    bool stop;                      /* some rank asked to stop, as of the last step's sum */
} data_parallel;

nncl_status dp_init(data_parallel *dp, const nncl_train_comm *comm, const nncl_net *net);
void dp_free(data_parallel *dp);

/* Every rank gets rank 0's parameters (and, resuming, optimiser state). */
nncl_status dp_start(data_parallel *dp, nncl_net *net, bool optim_state);

/* One training step on rows [first, first + rows) of dd's order: this
 * rank's share of them forward and backward, the gradients summed over
 * ranks, then the optimiser step (nncl_net_train_step's arguments).
 * stop_here: this rank was asked to stop; dp->stop then says whether any was. */
nncl_status dp_train_step(data_parallel *dp, nncl_net *net, const nncl_device_data *dd, size_t first,
                          size_t rows, const nncl_optim_config *opt, float lr, uint64_t seed, unsigned long t,
                          bool stop_here);

/* The accumulator's sums, over all ranks. */
nncl_status dp_acc_read(data_parallel *dp, nncl_net *net, double *sum0, double *sum1);

/* Set the accumulator to sums over all ranks (a resumed epoch's): rank 0
 * holds them, the others 0, so that dp_acc_read adds them once. */
nncl_status dp_acc_set(data_parallel *dp, nncl_net *net, double sum0, double sum1);

/* Average the parameters that are kept but not trained (batch
 * normalisation's running statistics, each rank's own from its rows), so
 * that every rank evaluates, and rank 0 saves, the same network. */
nncl_status dp_sync_kept(data_parallel *dp, nncl_net *net);

#endif
