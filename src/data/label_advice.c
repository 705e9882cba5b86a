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
 *    classes from so few examples, whatever the labels are.
 * And at any number of classes, a stray label: numeric classes but for one
 * to three that are not numbers and hold a few rows between them (at most 3,
 * or 1% of a larger table; under a tenth of the rest): "0", "1" and one
 * "cat", or an "NA" left for a missing value, a typo trained as a class of
 * its own without a word. Rows are counted from 1 in the data's order (a
 * CSV's rows after its header). */
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

static bool is_number(const char *s)
{
    double v;
    return s && nncl_parse_f64(s, strlen(s), &v) == NNCL_NUM_OK;
}

/* The stray label above, if any: its sentence in text. */
static bool stray_label(const nncl_dataset *ds, const char *column, char *text, size_t cap)
{
    enum { MAX_STRAY = 3 };
    int stray[MAX_STRAY], ns = 0, numeric = 0;
    for (int c = 0; c < ds->num_classes; c++) {
        if (is_number(ds->class_names[c]))
            numeric++;
        else if (ns < MAX_STRAY)
            stray[ns++] = c;
        else
            return false;
    }
    if (ns == 0 || numeric < 2)
        return false;
    size_t rows[MAX_STRAY] = {0}, first[MAX_STRAY] = {0}, in_stray = 0;
    for (size_t r = ds->rows; r-- > 0;)
        for (int i = 0; i < ns; i++)
            if (ds->labels[r] == stray[i]) {
                rows[i]++, in_stray++;
                first[i] = r;
            }
    /* a few rows: at most 3, or 1% of a large table, and far fewer than
     * the numeric classes hold (not a real class of its own) */
    size_t few = ds->rows / 100 > 3 ? ds->rows / 100 : 3;
    if (in_stray > few || in_stray * 10 > ds->rows - in_stray)
        return false;
    if (text) {
        size_t n = 0;
        n += (size_t)snprintf(text + n, cap - n, "%s: ", column);
        for (int i = 0; i < ns && n < cap; i++)
            n += (size_t)snprintf(text + n, cap - n, "%s'%.40s' (%zu row%s data row %zu)",
                                  i ? (i + 1 == ns ? " and " : ", ") : "", ds->class_names[stray[i]], rows[i],
                                  rows[i] == 1 ? ":" : "s; the first:", first[i] + 1);
        if (n < cap)
            snprintf(text + n, cap - n, " %s like the other %d classes: a typo or a missing value? %s",
                     ns == 1 ? "is not a number" : "are not numbers", numeric,
                     ns == 1 ? "It is trained as a class of its own" : "They are trained as classes of their own");
    }
    return true;
}

nncl_label_advice_kind nncl_label_advice(const nncl_dataset *ds, char *text, size_t cap)
{
    if (text && cap) text[0] = '\0';
    if (!ds || ds->task != NNCL_TASK_CLASSIFY || !ds->labels || ds->rows == 0)
        return NNCL_LABEL_ADVICE_NONE;
    char column[80];
    if (ds->label_name) snprintf(column, sizeof column, "column '%.60s'", ds->label_name);
    else snprintf(column, sizeof column, "the label");
    if (ds->class_names && stray_label(ds, column, text, cap))
        return NNCL_LABEL_ADVICE_STRAY;
    if (ds->num_classes <= ADVICE_MIN_CLASSES)
        return NNCL_LABEL_ADVICE_NONE;
    size_t k = (size_t)ds->num_classes, n = ds->rows;
    bool numeric = ds->class_names && all_numeric(ds);
    bool mostly_distinct = 2 * k > n;
    bool few_rows = k * ADVICE_MIN_ROWS_PER_CLASS > n;
    if (!(numeric && mostly_distinct) && !few_rows) return NNCL_LABEL_ADVICE_NONE;

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
