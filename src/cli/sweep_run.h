/* Running a sweep's trials: what cmd_sweep.c does in one process, shared
 * with the hand-out of trials to MPI ranks (sweep_ranks.c). */
#ifndef NNCL_SWEEP_RUN_H
#define NNCL_SWEEP_RUN_H

#include <stdbool.h>
#include <stddef.h>

#include "cli/data_splits.h"
#include "cli/sweep_plan.h"

/* The dataset the last trial loaded: trials that read the same data share
 * it (each splits its own copy). */
typedef struct sweep_data_cache {
    nncl_data_source src;
    bool loaded;
    char key[4200];
} sweep_data_cache;

void sweep_data_cache_free(sweep_data_cache *c);

/* Claim trial i by creating its directory (*claimed: false when it exists:
 * finished, or another job's) and train it on dev. A diverged or failed
 * trial is a result (CLI_OK); an exit code when it could not run (bad data:
 * its directory is removed again, for the next run). Prints only errors. */
int sweep_run_trial(const sweep_plan *p, const char *sweep_dir, size_t i, nncl_device *dev, sweep_data_cache *c,
                    bool *claimed);

/* sweep.json, derived from the trial directories. lost: NULL, or one flag
 * per trial: a trial that was running on a rank that is gone or going
 * (the job is ending), whose unfinished record then reads "interrupted". */
nncl_status sweep_write_json(const sweep_plan *p, const char *sweep_dir, int argc, char **argv, const bool *lost);

/* "trial 3/8 (who)  --lr 0.01: ok, ..." on stdout; who may be NULL. */
void sweep_print_trial(const sweep_plan *p, size_t i, const char *sweep_dir, const char *who);

/* ---- under mpirun (sweep_ranks.c) ----------------------------------------------------
 * Rank 0 keeps sweep.json and hands the trials out, one at a time, to the
 * ranks that ask (MPI point-to-point); it trains none itself. A world of
 * one is the plain sweep. */

/* Start MPI when mpirun launched this process (*size ranks; 1 otherwise,
 * MPI then stopped again). The other ranks' stdout goes to /dev/null.
 * Returns CLI_OK or an exit code (a build without MPI under mpirun -np 2+). */
int sweep_ranks_start(int *rank, int *size);

/* While on, stderr goes to /dev/null (the other ranks parse the command
 * line too; rank 0 alone says what is wrong with it). */
int sweep_ranks_hush(bool on);

/* Rank 0's sweep directory to every rank (out holds len bytes). */
int sweep_ranks_share_dir(char *out, size_t len);

/* Rank 0: answer every rank until all have left. start_rc != CLI_OK: the
 * sweep cannot run (already said); every rank is told to leave. todo: the
 * trials to hand out (unfinished, their directories removed). Writes
 * sweep.json after each trial. Returns the exit code. */
int sweep_ranks_lead(const sweep_plan *p, const char *sweep_dir, const bool *todo, int start_rc, int argc,
                     char **argv);

/* Every other rank: ask rank 0 for a trial, train it, ask again. */
int sweep_ranks_follow(const sweep_plan *p, const char *sweep_dir);

/* Stop MPI (if started); rc is the exit code, returned. */
int sweep_ranks_finish(int rc);

#endif
