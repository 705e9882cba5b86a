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
void splits_free(splits *s);

#endif
