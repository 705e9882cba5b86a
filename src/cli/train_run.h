/* One training run, from loaded data to a finished run directory: what
 * `nncl train` does after parsing, and what `nncl sweep` does per trial;
 * and `nncl train --resume`, which continues one. */
#ifndef NNCL_TRAIN_RUN_H
#define NNCL_TRAIN_RUN_H

#include <signal.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/data_splits.h"
#include "cli/run_dir.h"
#include "nncl/checkpoint.h"

/* Where `nncl train`'s start-up went, for summary.json's "startup" and
 * --profile: the process began at `began` (nncl_seconds_now()); listing the
 * devices and opening one took device_seconds; loading the data, on a
 * thread of its own beside that, data_seconds. train_run adds the rest. */
typedef struct train_startup {
    double began;
    double device_seconds;
    cli_open_times open;        /* of device_seconds: the listing (by part), the opening */
    double data_seconds;
    /* set by train_run at the first step: */
    double seconds;             /* from `began` to it */
    double kernels_seconds;     /* the device's kernels built or loaded */
    double tuning_seconds;      /* of that, a first-use tuning search */
    /* and by train_run at the end, for --profile: what writing the run
     * took after the last step (0: not done) */
    struct {
        double snapshots;       /* the snapshots' file closed (synced) */
        double test;            /* the test pass and evaluation.json */
        double model;           /* model.safetensors */
        double summary;         /* summary.json */
        double report;          /* report.html */
    } finish;
} train_startup;

/* Train on dev with o on s (whose datasets it borrows; the caller frees
 * them), write the run directory, print as o says. argv (argv[0] "train")
 * is recorded in config.json; startup (or NULL: not measured, as in a
 * sweep's trials) in summary.json. Returns the exit code: 0, 1 (failed or
 * diverged), 2 (bad input), 130 or 143 (stopped by SIGINT or SIGTERM). */
int train_run(nncl_device *dev, const train_options *o, splits *s, int argc, char **argv,
              train_startup *startup);

/* A run to continue: its directory (open and locked, run_dir_open), its
 * config.json as it is to be written (the resume recorded in it), and the
 * checkpoint to continue from (NULL: from the start, as the seed made it). */
typedef struct train_resume {
    run_dir *run;
    json_t *config;
    const nncl_checkpoint *checkpoint;
    const char *note;           /* printed after the header, or NULL */
} train_resume;

/* Continue r's run with o (rebuilt from its config.json) on s: the run
 * directory ends as if the run had never stopped. Exit codes as train_run. */
int train_run_resume(nncl_device *dev, const train_options *o, splits *s, train_resume *r);

/* `nncl train --resume RUN_DIR [--epochs N] [--device D] [--quiet]
 * [--log-every N]` (train_resume.c). */
int train_resume_command(const cli_globals *g, int argc, char **argv);

/* The network and batch o makes of s, and the config.json a run of them
 * on dev records. */
/* The network the options and the data make (fails saying why: a layer
 * list that does not fit the data). */
nncl_status train_net_config(const train_options *o, const splits *s, nncl_net_config *cfg, size_t *batch);
json_t *train_config_json(const train_options *o, const nncl_device_info *dev, const splits *s, int argc,
                          char **argv);
/* The same, for the network cfg and batch already made (train_config.c). */
json_t *train_config_record(const train_options *o, const nncl_device_info *dev, const splits *s,
                            const nncl_net_config *cfg, size_t batch, int argc, char **argv);

/* Set to the signal (SIGINT, SIGTERM) that asked a training run to stop:
 * training stops after the current step. Stays set, so a sweep stops too. */
volatile sig_atomic_t *train_stop_flag(void);

#endif
