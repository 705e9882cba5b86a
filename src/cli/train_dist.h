/* `nncl train --distributed`: the MPI job this process is part of, as the
 * training command sees it (src/dist does the MPI). Horovod's convention:
 * rank 0 prints and writes the run directory, the other ranks train and
 * are silent (their stdout goes to /dev/null; errors still reach stderr). */
#ifndef NNCL_TRAIN_DIST_H
#define NNCL_TRAIN_DIST_H

#include <stdbool.h>

#include "nncl/train.h"

typedef struct train_dist {
    bool on;                    /* --distributed, MPI started */
    int rank, size;
    nncl_train_comm comm;       /* the loop's collectives (nncl/train.h) */
} train_dist;

/* Start MPI for `nncl train ARGS` when --distributed is among them or
 * mpirun launched this process. Returns CLI_OK, or an exit code after
 * saying why not (2: a build without MPI; mpirun without --distributed). */
int train_dist_start(int argc, char **argv);

/* End it: rc is the command's exit code. A rank that failed ends the whole
 * job (MPI_Abort), or its peers would wait in a collective for ever. */
int train_dist_finish(int rc);

/* Share this machine's cores among the ranks on it that train (all of
 * them, or all but rank 0 when rank0_trains is false: a sweep's
 * coordinator): each rank's devices use at most cores / ranks threads
 * (nncl_cpu_threads_limit; what the user set is kept). Call once MPI runs,
 * before any device is opened. */
int dist_share_cores(bool rank0_trains);

/* The job: rank 0 of 1 when not distributed. */
const train_dist *train_dist_get(void);

/* Whether this process writes and prints (rank 0, or not distributed). */
static inline bool train_dist_leads(void) { return train_dist_get()->rank == 0; }

#endif
