/* `nncl train` options: every flag, its default, and its validation. */
#ifndef NNCL_TRAIN_OPTIONS_H
#define NNCL_TRAIN_OPTIONS_H

#include "cli/cli.h"
#include "nncl/data.h"
#include "nncl/layers.h"
#include "nncl/train.h"

typedef struct train_options {
    const char *preset;         /* NULL, "tutorial", "tutorial-faithful" or "cnn" */
    const char *device;
    /* data */
    const char *data;           /* "mnist", a directory of IDX files, or a CSV */
    const char *label;          /* CSV label column */
    nncl_csv_task task;
    const char *test_file;      /* --test FILE */
    double test_split;          /* fraction held out when there is no test set */
    double val;                 /* fraction (< 1) or count (>= 1) */
    size_t limit;               /* use this many training rows (0 = all) */
    /* model */
    int hidden_count;           /* the layers before the output layer */
    nncl_layer_spec hidden[NNCL_MAX_LAYERS];
    nncl_act act;
    float act_param;
    nncl_init_kind init;
    float init_param;
    float dropout;
    /* optimisation */
    nncl_optim_config optim;
    nncl_schedule schedule;
    size_t batch;               /* 0 = the whole training set */
    int epochs;
    int early_stop;
    uint64_t seed;
    /* tutorial quirks */
    bool faithful;
    size_t faithful_rows;
    /* output */
    const char *out_dir;
    bool quiet;
    bool profile;               /* time every op (slower); table on stderr */
    int log_every;              /* print every Nth epoch line (1 = all) */
    int snapshots;              /* snapshots.bin: how many (0 = none) */
    bool no_report;             /* do not write report.html at the end */
    int checkpoint_every;       /* checkpoint.bin every N epochs (0: only on Ctrl-C) */
    bool distributed;           /* --distributed: data-parallel over MPI ranks (cli/train_dist.h) */
    bool silent;                /* not a flag: print nothing but errors (a sweep's trials) */
    unsigned long long given;   /* not a flag: which flags the command line gave (bit per option) */
} train_options;

/* Parse argv (argv[0] = "train"). Prints its own errors; returns CLI_OK, or
 * CLI_USAGE, or -1 after printing --help (exit 0). */
int train_options_parse(train_options *o, const cli_globals *g, int argc, char **argv);

/* Warn on stderr about flags given that do not apply (--momentum with
 * adam, --early-stop without validation, --label on IDX data, ...): they
 * would otherwise be silently ignored. */
void train_options_warn(const train_options *o, bool idx_data);

/* Whether `nncl train --NAME` takes a value: 1, 0 (a switch), or -1 (no
 * such flag). NAME without the dashes. */
int train_option_arity(const char *name);

/* Names used in headers and config.json. */
const char *optim_name(nncl_optim k);
const char *init_name(nncl_init_kind k);
const char *schedule_name(nncl_schedule_kind k);

#endif
