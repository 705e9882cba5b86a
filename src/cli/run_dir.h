/* The run directory: one folder per training run holding config.json,
 * metrics.csv, summary.json and model.safetensors, each written atomically
 * (a temporary file, then rename), so a reader never sees half a file. */
#ifndef NNCL_RUN_DIR_H
#define NNCL_RUN_DIR_H

#include <jansson.h>

#include "nncl/train.h"

typedef struct run_dir {
    char path[4096];
    char *metrics;              /* metrics.csv so far */
    size_t metrics_len, metrics_cap;
    size_t metrics_written;     /* how much of it the file holds */
    double metrics_written_at;  /* when (monotonic seconds), 0 = never */
    int lock_fd;                /* the directory, held under flock while training */
    bool locked;
    bool regress;               /* metrics.csv's columns are a regression's (train_mae, val_mae) */
    bool dry;                   /* writes nothing (a distributed run's ranks but 0): every
                                   write and removal below succeeds doing nothing */
} run_dir;

/* Create out_dir (which must not exist, or be an empty directory), or, with
 * out_dir NULL, runs/<UTC time>-<name>/ (adding -2, -3 ... if taken). The
 * process holds the directory's lock (flock) until run_dir_close. */
nncl_status run_dir_create(run_dir *r, const char *out_dir, const char *name);
/* Open an existing run directory to continue its run, taking its lock:
 * NNCL_E_INVALID when another process holds it (that run is training). */
nncl_status run_dir_open(run_dir *r, const char *path);
void run_dir_close(run_dir *r);
/* A run directory that writes nothing, for a rank other than 0 of a
 * distributed run: path (the run's, if known) is only named, not touched
 * or locked. */
nncl_status run_dir_dry(run_dir *r, const char *path);
/* Whether run_dir_create(out_dir) could succeed, checked before anything
 * slow (loading the data): not "", not a non-empty directory, and the
 * nearest existing folder above it writable. NULL (the default runs/...) is
 * fine. */
nncl_status run_dir_precheck(const char *out_dir);

/* Replace metrics.csv's rows by these epochs (those of a checkpoint), and
 * write it (none: remove it). */
nncl_status run_dir_reset_metrics(run_dir *r, const nncl_epoch_metrics *epochs, int n);

/* Remove <dir>/<file> if it exists. */
nncl_status run_dir_remove(const run_dir *r, const char *file);

/* Remove what interrupted atomic writes left behind (<file>.tmp-<pid>). */
void run_dir_remove_temporaries(const run_dir *r);

/* Write <dir>/<file> from a JSON value, atomically. */
nncl_status run_dir_write_json(const run_dir *r, const char *file, json_t *value);

/* The path of <dir>/<file>. */
void run_dir_file(const run_dir *r, const char *file, char *out, size_t len);

/* Append one epoch to metrics.csv. The file is rewritten atomically at most
 * once a second (an fsync per epoch cost the tutorial's 500 one-step epochs
 * about a second), so it may lag the run by that much until
 * run_dir_flush_metrics, which writes whatever is pending. */
nncl_status run_dir_add_metrics(run_dir *r, const nncl_epoch_metrics *m);
nncl_status run_dir_flush_metrics(run_dir *r);

#endif
