/* Comparing runs: run directories and sweeps read back into one table of
 * the hyper-parameters that differ between them and their results, with
 * repeated seeds of the same point folded into groups (mean, std, n).
 * `nncl compare` prints it; compare_json() and compare_weights() are what
 * compare.html (compare_page.c) draws from. Nothing here writes to a run
 * directory, and nothing here prints. */
#ifndef NNCL_COMPARE_H
#define NNCL_COMPARE_H

#include <jansson.h>
#include <stdbool.h>

#include "report/run_record.h"

/* The hyper-parameters, in table order, by their `nncl train` flag names
 * (COMPARE_PARAM_SEED is last: groups fold over it). */
enum { COMPARE_N_PARAMS = 27, COMPARE_PARAM_SEED = COMPARE_N_PARAMS - 1 };

/* The results compared, in table order. */
typedef enum compare_metric {
    CM_VAL_ACC,          /* metrics.csv: the highest val_accuracy of any epoch */
    CM_FINAL_VAL_ACC,    /* metrics.csv: the last epoch's val_accuracy */
    CM_TEST_ACC,         /* summary test_accuracy */
    CM_VAL_MAE,          /* metrics.csv: the lowest validation MAE of any epoch (regression) */
    CM_FINAL_VAL_MAE,    /* metrics.csv: the last epoch's validation MAE */
    CM_TEST_RMSE,        /* summary test_rmse, test_mae, test_r2 */
    CM_TEST_MAE,
    CM_TEST_R2,
    CM_EPOCHS,           /* summary epochs (trained, early stopping included) */
    CM_SECONDS,          /* summary seconds */
    CM_SAMPLES_PER_SECOND,
    CM_COUNT
} compare_metric;

typedef enum compare_unit { CU_FRACTION, CU_NUMBER, CU_COUNT, CU_SECONDS, CU_RATE } compare_unit;

typedef struct compare_metric_info {
    const char *key;      /* "val_accuracy": csv/json names and --sort keys */
    const char *label;    /* "best val acc": the table's heading */
    compare_unit unit;    /* fractions are shown as percentages */
    bool higher_better;   /* sorting: descending when true */
    int task;             /* 1 classification, 2 regression, 3 both */
} compare_metric_info;

const compare_metric_info *compare_metric_get(compare_metric m);
/* The flag name of parameter p ("--lr"). */
const char *compare_param_flag(int p);

typedef struct compare_run {
    char *dir;                        /* the run directory, as found */
    char *name;                       /* its last path component */
    run_record rec;                   /* config, summary and metrics only (no
                                         model or snapshots); all NULL/0 for a
                                         sweep trial that left no run */
    char status[16];                  /* summary's, or the sweep's when worse */
    char *values[COMPARE_N_PARAMS];   /* each parameter as a flag value ("0.002"),
                                         NULL where it does not apply */
    double m[CM_COUNT];               /* NaN where absent */
    int group;
} compare_run;

typedef struct compare_group {
    int *members;                     /* indices into runs, in input order */
    int n;
    double mean[CM_COUNT], std[CM_COUNT]; /* over the members that have the
                                             metric; std is the sample standard
                                             deviation (n - 1), 0 for one */
    int count[CM_COUNT];              /* how many members have it */
    char status[16];                  /* the worst of its members' */
    char *seeds;                      /* "1,2": the members' seeds */
} compare_group;

typedef struct compare_set {
    compare_run *runs;
    int n_runs;
    int params[COMPARE_N_PARAMS];     /* the parameters that differ, in order */
    int n_params;
    compare_group *groups;            /* in input order until compare_sort() */
    int n_groups;
    int best;                         /* the group with the best validation
                                         metric (higher accuracy, or lower MAE),
                                         -1 when none has one */
    int task;                         /* 1 classification, 2 regression, 3 mixed (--force) */
    bool mixed_data;                  /* runs on different data (--force) */
    compare_metric sort_metric;       /* what compare_sort() last used */
    char sort_key[64];
} compare_set;

/* Expand paths (run directories; sweep folders holding sweep.json; folders
 * whose subfolders are all runs) into runs, read each one's config.json,
 * summary.json and metrics.csv, refuse runs on different data or of
 * different tasks unless force, find the differing parameters and fold
 * repeated seeds into groups. A path that is none of these, a run without
 * metrics, or a bad sweep.json fails with NNCL_E_FORMAT / NNCL_E_IO naming
 * it; different data or tasks with NNCL_E_INVALID naming two such runs. */
nncl_status compare_load(char **paths, int n, bool force, compare_set *out);

/* Order the groups by key: a metric key (compare_metric_info.key, or
 * "test_accuracy"...), "time", "samples_per_second", "epochs", "name", or a
 * differing parameter ("--lr" or "lr"). Metrics sort best first (descending
 * for accuracies, R² and samples/s; ascending for errors, time, epochs);
 * names and parameters ascending. Ties keep the best validation metric
 * first. NULL means the validation metric of the set's task. */
nncl_status compare_sort(compare_set *s, const char *key);

/* Everything a page needs: the task, the differing flags, the metrics'
 * names, per run its dir, name, values, summary.json and curves (per epoch:
 * epoch, train/val loss and accuracy, lr, seconds), per group its members,
 * values, mean, std and count, in the current order. */
json_t *compare_json(const compare_set *s);

/* The final weights of every run, for the page: each run object in data
 * (compare_json's) gets "weights" (its network's sizes, activation, image
 * shape and names, and per layer the offsets of W and b in *codes, null for
 * a layer left out; per tensor the scale and per layer the colour clamps of
 * report_json.c's encoding) or null and "weights_note" saying why (no
 * model, a failed trial, an unreadable file: noted, never an error).
 * Networks over 100,000 parameters keep only their first and output layers.
 * A layer-list network (a CNN) gets {form "layers", layer_list (see
 * report_layer_list_json: its layers and first convolution's filters, their
 * codes inline), activation, task, n_params, class_names} and nothing in
 * *codes.
 * *codes: every run's codes one after another, NUL-terminated, *codes_len
 * of them. Reads each model.safetensors once, one at a time. */
nncl_status compare_weights(const compare_set *s, json_t *data, char **codes, size_t *codes_len);

/* Write compare.html to path atomically: one self-contained page (curves,
 * parallel coordinates, effects, weights, networks, the table). */
nncl_status compare_write_html(const compare_set *s, const char *path);

/* The group's display name: the first member's name, "+N" for the others. */
void compare_group_name(const compare_set *s, const compare_group *g, char *out, size_t len);

/* The value of differing parameter p for group g: its members' seeds for
 * --seed, "-" where it does not apply. */
const char *compare_group_value(const compare_set *s, const compare_group *g, int p);

void compare_set_free(compare_set *s);

#endif
