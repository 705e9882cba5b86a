/* A classifier's confusion matrix and what eval reports of it: precision,
 * recall and F1 per class and their macro averages. */
#ifndef NNCL_CLASS_METRICS_H
#define NNCL_CLASS_METRICS_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "nncl/nncl.h"

typedef struct class_metrics {
    int k;                      /* classes */
    size_t *confusion;          /* k x k: [true class][predicted class] */
    size_t *support;            /* rows whose true class is c */
    size_t *predicted;          /* rows predicted as c */
    double *precision;          /* NAN where undefined (c never predicted) */
    double *recall;             /* NAN where undefined (no row of class c) */
    double *f1;                 /* an undefined precision or recall counts as 0 */
    double macro_precision, macro_recall, macro_f1;
    int macro_classes;          /* classes in the rows or the predictions */
    size_t rows;
} class_metrics;

/* The metrics of n predictions against labels, both in [0, k) (rows
 * outside are not counted). The macro averages are means over the classes
 * that occur in the labels or the predictions, an undefined value counting
 * as 0 (scikit-learn's choice, so the numbers compare). */
nncl_status class_metrics_compute(const int32_t *labels, const int32_t *pred, size_t n, int k,
                                  class_metrics *m);
void class_metrics_free(class_metrics *m);

/* The per-class table and, for up to 40 classes, the confusion matrix. */
void class_metrics_print(const class_metrics *m, const char *const *names, FILE *out);

/* {"per_class": [...], "macro": {...}, "confusion": [[...]]}. */
json_t *class_metrics_json(const class_metrics *m, const char *const *names);

#endif
