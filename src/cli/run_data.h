/* Where a run's data lives and what it hashed to, recorded in config.json
 * ("data_paths") so that `nncl eval RUN_DIR` finds the data from any
 * directory and scores only the data the run was scored on. */
#ifndef NNCL_RUN_DATA_H
#define NNCL_RUN_DATA_H

#include <jansson.h>

#include "cli/data_splits.h"

/* config.json's "data_paths" for the run o is about to record on s: for
 * --data (when a path, not a dataset name) and --test FILE, the path as
 * given, absolute, and relative to the run directory (o->out_dir, or the
 * default runs/<name> under the current directory); every file read with
 * its SHA-256. Kept out of config.json's "data", which `train --resume`
 * compares whole with what it rebuilds: where the data lies is not what it
 * is. NULL when out of memory or a file cannot be hashed. */
json_t *run_data_record(const train_options *o, const splits *s);

typedef struct run_data_found {
    char data[4200];            /* the path (or dataset name) to load */
    char test[4200];            /* the --test FILE to load, or "" */
    char note[2048];            /* lines saying where the data was found when
                                   not at the first place tried, or "" */
} run_data_found;

/* Find the data of the run in run_dir from its config.json: each path
 * relative to the run directory first, then absolute, then as recorded
 * (relative to the current directory). A run recorded before data_paths
 * existed: data.name and data.test_from as recorded. NNCL_E_NOT_FOUND
 * naming every place tried. */
nncl_status run_data_locate(json_t *config, const char *run_dir, run_data_found *f);

/* Whether s, loaded from f, holds the bytes the run recorded: data.sha256
 * (and each file's own hash where recorded, to name the file that changed)
 * and the --test file's. NNCL_E_FORMAT naming the file and both hashes
 * ("FILE changed since the run: ...", for the caller to finish);
 * NNCL_OK when the run recorded no hash. */
nncl_status run_data_verify(json_t *config, const splits *s, const run_data_found *f);

#endif
