/* Data-parallel training over MPI: the few collectives nncl needs.
 *
 * MPI is optional at build time (meson -Dmpi=auto|enabled|disabled). Built
 * without it, nncl_dist_init fails for a request (--distributed) with
 * NNCL_E_UNSUPPORTED and says how to get it, and every other function acts
 * as a world of one process. MPI is global to a process, so this module
 * keeps its state in one place (init.c) rather than in a handle.
 *
 * Every function returns a status; none prints (the CLI does). */
#ifndef NNCL_DIST_H
#define NNCL_DIST_H

#include <stdbool.h>
#include <stddef.h>

#include "nncl/status.h"

/* Start MPI when it is asked for (requested: --distributed) or when mpirun
 * launched this process (OMPI_COMM_WORLD_SIZE is set): *active says whether
 * it did. Without MPI in the build a request fails (NNCL_E_UNSUPPORTED). */
nncl_status nncl_dist_init(bool requested, bool *active);

/* Stop MPI (MPI_Finalize) if it was started; a no-op otherwise. */
nncl_status nncl_dist_finalize(void);

/* This process's rank and the number of ranks: 0 and 1 when not active. */
nncl_status nncl_dist_rank(int *rank, int *size);

/* The ranks on this process's machine (those that share its memory), and
 * whether rank 0 is one of them: what decides how many cores each rank's
 * device may use. A world of one: 1 and true. */
nncl_status nncl_dist_local(int *local_size, bool *with_rank0);

/* Sum buf (n floats) over all ranks, in place, the same result on every
 * rank. The order is fixed: every element is the sum of the ranks' values
 * added in rank order in double and rounded once to float, so the result
 * depends on the values alone, never on which message came first
 * (MPI_Allreduce picks its algorithm, and with it the order of the
 * additions, by message size and process count, and the standard does not
 * promise every rank the same bits). The ranks share the additions (a
 * reduce-scatter, then an all-gather). A world of one: buf unchanged. */
nncl_status nncl_dist_sum(float *buf, size_t n);

/* Rank 0's n floats to every rank, in place. */
nncl_status nncl_dist_bcast(float *buf, size_t n);

/* Seconds spent inside nncl_dist_sum and nncl_dist_bcast since the last
 * reset (reset: start counting again from 0 after reading). */
nncl_status nncl_dist_comm_seconds(double *seconds, bool reset);

/* Point-to-point messages of n ints (the sweep's trial hand-out), in a job
 * of 2 or more ranks (NNCL_E_INVALID otherwise). poll: whether a message
 * with this tag waits from rank `from` (-1: any rank); if so it is read
 * into v, *source its sender. recv: wait for one (polling with a 1 ms
 * sleep, so a rank that waits long leaves its core to the others). */
nncl_status nncl_dist_send_ints(int to, int tag, const int *v, int n);
nncl_status nncl_dist_poll_ints(int from, int tag, int *source, int *v, int n, bool *got);
nncl_status nncl_dist_recv_ints(int from, int tag, int *v, int n);

/* Rank 0's len bytes to every rank, in place (a world of one: unchanged). */
nncl_status nncl_dist_bcast_text(char *buf, size_t len);

/* End every rank of the job now with exit status code (MPI_Abort): what a
 * rank that failed must do, or its peers would wait in a collective for
 * ever. Returns only when MPI is not active (NNCL_OK: nothing to end). */
nncl_status nncl_dist_abort(int code);

#endif
