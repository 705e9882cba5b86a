/* Loading a run's data and splitting it into train, validation and test. */
#ifndef NNCL_DATA_SPLITS_H
#define NNCL_DATA_SPLITS_H

#include "cli/train_options.h"

typedef struct splits {
    nncl_data_source src;
    nncl_dataset train, val, test;
    bool has_val, has_test;
    char test_origin[160];      /* "the dataset's test set", "--test FILE", "20% held out" */
} splits;

/* Load o->data (and o->test_file) and split them as o says. */
nncl_status load_splits(const train_options *o, splits *s);

/* The same in two steps, for trials that share their data: read o->data
 * once (load_source), then split copies of its rows for each trial. */
nncl_status load_source(const train_options *o, nncl_data_source *src);
nncl_status load_splits_from(const train_options *o, const nncl_data_source *src, splits *s);
void splits_free(splits *s);

#endif
