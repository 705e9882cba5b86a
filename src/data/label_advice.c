/* nncl_label_advice: does a classification dataset's label column look like
 * something else?
 *
 * A CSV's task is guessed from its labels: integer labels with at most
 * NNCL_CSV_AUTO_MAX_CLASSES values are classes. An integer regression
 * target (a price, a count, a year) then silently becomes hundreds of
 * classes with a handful of rows each, and the run reports a dismal accuracy
 * without saying why. Two signs give it away, and a few classes (10 or
 * fewer: digits, grades, codes) are never flagged:
 *  - numeric class names with more distinct values than half the rows: a
 *    measurement, not a category;
 *  - fewer than 5 rows per class on average: no classifier can learn the
 *    classes from so few examples, whatever the labels are. */
#include "nncl/data.h"
#include "data/numparse.h"

#include <stdio.h>
#include <string.h>

#define ADVICE_MIN_CLASSES 10
#define ADVICE_MIN_ROWS_PER_CLASS 5

static bool all_numeric(const nncl_dataset *ds)
{
    for (int c = 0; c < ds->num_classes; c++) {
        const char *s = ds->class_names[c];
        double v;
        if (!s || nncl_parse_f64(s, strlen(s), &v) != NNCL_NUM_OK) return false;
    }
    return true;
}

nncl_label_advice_kind nncl_label_advice(const nncl_dataset *ds, char *text, size_t cap)
{
    if (text && cap) text[0] = '\0';
    if (!ds || ds->task != NNCL_TASK_CLASSIFY || !ds->labels || ds->rows == 0 ||
        ds->num_classes <= ADVICE_MIN_CLASSES)
        return NNCL_LABEL_ADVICE_NONE;
    size_t k = (size_t)ds->num_classes, n = ds->rows;
    bool numeric = ds->class_names && all_numeric(ds);
    bool mostly_distinct = 2 * k > n;
    bool few_rows = k * ADVICE_MIN_ROWS_PER_CLASS > n;
    if (!(numeric && mostly_distinct) && !few_rows) return NNCL_LABEL_ADVICE_NONE;

    char column[80];
    if (ds->label_name) snprintf(column, sizeof column, "column '%.60s'", ds->label_name);
    else snprintf(column, sizeof column, "the label");
    if (numeric) {
        if (text)
            snprintf(text, cap, "%s has %zu distinct values for %zu rows (%.1f rows per value); "
                     "is it a regression target?", column, k, n, (double)n / (double)k);
        return NNCL_LABEL_ADVICE_REGRESSION;
    }
    if (text)
        snprintf(text, cap, "%s has %zu classes for %zu rows (%.1f rows per class); too few "
                 "examples per class to learn them", column, k, n, (double)n / (double)k);
    return NNCL_LABEL_ADVICE_FEW_ROWS;
}
