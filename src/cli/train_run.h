/* One training run, from loaded data to a finished run directory: what
 * `nncl train` does after parsing, and what `nncl sweep` does per trial. */
#ifndef NNCL_TRAIN_RUN_H
#define NNCL_TRAIN_RUN_H

#include <signal.h>

#include "cli/data_splits.h"

/* Train on dev with o on s (whose datasets it borrows; the caller frees
 * them), write the run directory, print as o says. argv (argv[0] "train")
 * is recorded in config.json. Returns the exit code: 0, 1 (failed or
 * diverged), 2 (bad input), 130 (interrupted). */
int train_run(nncl_device *dev, const train_options *o, splits *s, int argc, char **argv);

/* Set by SIGINT / SIGTERM while a run is training: training stops after the
 * current step. Stays set, so a sweep stops too. */
volatile sig_atomic_t *train_stop_flag(void);

#endif
