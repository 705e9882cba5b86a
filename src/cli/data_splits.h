/* Loading a run's data and splitting it into train, validation and test. */
#ifndef NNCL_DATA_SPLITS_H
#define NNCL_DATA_SPLITS_H

#include <pthread.h>
#include <stdatomic.h>

#include "cli/train_options.h"

typedef struct splits {
    nncl_data_source src;
    nncl_dataset train, val, test;
    bool has_val, has_test;
    char test_origin[160];      /* "the dataset's test set", "--test FILE", "20% held out" */
} splits;

/* Load o->data (and o->test_file) and split them as o says. */
nncl_status load_splits(const train_options *o, splits *s);

/* The same on a thread of its own, so that the data loads while the device
 * opens (a GPU driver's start-up takes a good part of a second; reading and
 * inflating MNIST, about 0.15 s). Between start and wait, neither *o nor *s
 * may be touched; wait joins the thread, says the load's warnings (so they
 * come in order, after whatever the device said) and returns its status,
 * the message carried over to the caller's thread. *s is always freeable
 * after wait. */
#define SPLITS_WARNING_MAX 4608  /* a path and a sentence */
typedef struct splits_loader {
    const train_options *o;
    splits *s;
    pthread_t thread;
    bool started;
    atomic_bool done;           /* the thread has finished (wait will not block) */
    nncl_status st;
    double seconds;             /* the load's own time */
    char *error;                /* the loading thread's message, if it failed */
    char warning[SPLITS_WARNING_MAX]; /* about the labels, said by wait */
} splits_loader;
void load_splits_start(splits_loader *l, const train_options *o, splits *s);
nncl_status load_splits_wait(splits_loader *l);
/* Whether wait would return at once. */
bool load_splits_done(splits_loader *l);

/* The same in two steps, for trials that share their data: read o->data
 * once (load_source), then split copies of its rows for each trial. */
nncl_status load_source(const train_options *o, nncl_data_source *src);
nncl_status load_splits_from(const train_options *o, const nncl_data_source *src, splits *s);
void splits_free(splits *s);

#endif
