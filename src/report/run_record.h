/* A run directory read back, every file checked, for the report page, the
 * video and comparisons. Missing optional files (snapshots, evaluation, a
 * model of a diverged run) are noted in `missing`, not errors; a file that
 * is there but truncated or inconsistent is an error naming it. */
#ifndef NNCL_RUN_RECORD_H
#define NNCL_RUN_RECORD_H

#include <jansson.h>

#include "nncl/model.h"
#include "nncl/snapshot.h"
#include "nncl/train.h"

#define RUN_RECORD_MAX_MISSING 8

typedef struct run_record {
    char dir[4096];
    json_t *config;             /* config.json (required) */
    json_t *summary;            /* summary.json (required) */
    json_t *evaluation;         /* evaluation.json: test results, or NULL */
    nncl_epoch_metrics *epochs; /* metrics.csv, one row per epoch (may be 0 rows) */
    size_t n_epochs;
    bool has_model;             /* model.safetensors was there */
    nncl_model model;           /* its parameters, when has_model */
    /* The network, from the model or else from config.json. */
    nncl_net_config cfg;
    int image_h, image_w;       /* 0 when the inputs are not an image */
    int num_classes;            /* 0 for regression */
    char **class_names;         /* num_classes, or NULL */
    char **feature_names;       /* cfg.sizes[0], or NULL */
    nncl_snapshots snaps;       /* count 0 when there are none */
    /* What the report cannot show, one sentence each ("No snapshots: the run
     * was made with --snapshots 0."). */
    char missing[RUN_RECORD_MAX_MISSING][256];
    int n_missing;
} run_record;

/* Read dir's files. Errors name the file and what is wrong (NNCL_E_FORMAT
 * for bad contents, NNCL_E_IO for a missing required file). */
nncl_status run_record_load(const char *dir, run_record *r);
void run_record_free(run_record *r);

/* The pieces, for readers that need only some files (comparisons): a JSON
 * object file, and metrics.csv (the header checked, one row per epoch
 * counting up from 1; an empty field is NaN). Errors name the file and line. */
nncl_status run_json_object_read(const char *path, json_t **out);
/* The JSON file at path, parsed: *out is NULL when the file is read but is not
 * JSON, and err says why; the caller checks the shape and words the error. */
nncl_status run_json_read(const char *path, json_t **out, json_error_t *err);
nncl_status run_metrics_read(const char *path, nncl_epoch_metrics **epochs, size_t *n);
/* The best validation metric any of the n epochs reached: the highest
 * accuracy (higher_better) or the lowest MAE, and its epoch in *epoch (may
 * be NULL); NAN when no epoch has one. What nncl compare, nncl sweep and the
 * report call "best val acc": not summary.json's best_val_accuracy, the
 * accuracy at the lowest validation loss (the epoch --early-stop keeps),
 * which a run whose accuracy still climbs while its loss rises leaves far
 * below what it reached (95.67% against 97.57% in one sweep). */
double run_metrics_best_val(const nncl_epoch_metrics *e, size_t n, bool higher_better, int *epoch);

/* Frames are the snapshots, or the final model alone when there are none;
 * 0 when there is neither. */
size_t run_record_frames(const run_record *r);
/* The parameters of frame k (n_params floats, the flat network layout). */
void run_record_frame_params(const run_record *r, size_t k, float *out);
/* The snapshot behind frame k, or NULL when the frame is the final model. */
const nncl_snapshot_info *run_record_frame_info(const run_record *r, size_t k);

#endif
