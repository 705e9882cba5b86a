/* `nncl predict --proba`: the predicted class and each class's probability. */
#ifndef NNCL_PREDICT_PROBA_H
#define NNCL_PREDICT_PROBA_H

#include <stdint.h>
#include <stdio.h>

#include "nncl/nncl.h"

/* A CSV table: the header "prediction" then one column per class, named by
 * its class name (its index without names); one row per input: the
 * predicted class's name, then its k probabilities (they sum to 1). what
 * names the destination in errors. */
nncl_status proba_csv_print(FILE *fp, const char *what, size_t n, const int32_t *classes, int k,
                            const char *const *names, const float *proba);

/* The same, into the file at path, atomically. */
nncl_status proba_csv_write(const char *path, size_t n, const int32_t *classes, int k, const char *const *names,
                            const float *proba);

#endif
