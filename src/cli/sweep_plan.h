/* `nncl sweep`'s plan: which train flags vary over which values, the flags
 * every trial shares, and the trials themselves, in a fixed order. */
#ifndef NNCL_SWEEP_PLAN_H
#define NNCL_SWEEP_PLAN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SWEEP_MAX_AXES 16
#define SWEEP_MAX_VALUES 256
#define SWEEP_MAX_TRIALS 10000
#define SWEEP_MAX_FIXED 128

typedef enum sweep_scale { SWEEP_LIST = 0, SWEEP_LIN, SWEEP_LOG, SWEEP_INT } sweep_scale;

typedef struct sweep_axis {
    char flag[32];              /* the train flag without dashes: "lr" */
    sweep_scale scale;          /* SWEEP_LIST: values; else a range (only with --random) */
    int n;
    char *values[SWEEP_MAX_VALUES];
    double lo, hi;
} sweep_axis;

typedef struct sweep_trial {
    const char *values[SWEEP_MAX_AXES];  /* one per axis (owned by the plan) */
    char dir[160];              /* under the sweep directory: "003_lr0.01_act-tanh" */
} sweep_trial;

typedef struct sweep_plan {
    int n_axes;
    sweep_axis axes[SWEEP_MAX_AXES];
    int n_fixed;
    const char *fixed[SWEEP_MAX_FIXED]; /* argv pieces every trial gets: "--epochs", "5", "--nesterov" */
    int seeds;                  /* --seeds N (an axis "seed" 1..N, innermost), or 0 */
    int random;                 /* --random N: N sampled points, or 0 for the grid */
    uint64_t sample_seed;
    const char *out;            /* --out DIR */
    const char *device;         /* --device */
    int jobs;                   /* --jobs J */
    size_t n_trials;
    sweep_trial *trials;
    char **owned;               /* strings the plan allocated, freed with it */
    size_t n_owned, cap_owned;
} sweep_plan;

/* Parse `nncl sweep` arguments (argv[0] "sweep"). Prints its own errors;
 * returns 0, 2 (bad usage), or -1 after printing --help. */
int sweep_plan_parse(sweep_plan *p, const char *device, int argc, char **argv);
void sweep_plan_free(sweep_plan *p);

/* The part of the plan that decides the trials (not --out, --jobs,
 * --device): stored in sweep.json, compared when a sweep is resumed. */
json_t *sweep_plan_json(const sweep_plan *p);

/* The train argv of trial i: "train", the fixed flags, each axis's flag and
 * value, --out DIR/<trial dir>. *argv is malloc'd (free it; the strings
 * belong to the plan or to buf). */
int sweep_trial_argv(const sweep_plan *p, size_t i, const char *out_dir, char ***argv);

/* "--lr 0.01 --act tanh": the trial's varied values, for printing. */
void sweep_trial_label(const sweep_plan *p, size_t i, char *buf, size_t len);

#endif
