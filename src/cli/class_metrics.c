/* Precision, recall and F1 per class from the confusion matrix. */
#include "cli/class_metrics.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

void class_metrics_free(class_metrics *m)
{
    free(m->confusion);
    free(m->support);
    free(m->predicted);
    free(m->precision);
    free(m->recall);
    free(m->f1);
    memset(m, 0, sizeof *m);
}

static double or_zero(double x)
{
    return isnan(x) ? 0 : x;
}

nncl_status class_metrics_compute(const int32_t *labels, const int32_t *pred, size_t n, int k,
                                  class_metrics *m)
{
    memset(m, 0, sizeof *m);
    size_t kk = (size_t)k;
    m->k = k;
    m->confusion = calloc(kk * kk, sizeof *m->confusion);
    m->support = calloc(kk, sizeof *m->support);
    m->predicted = calloc(kk, sizeof *m->predicted);
    m->precision = calloc(kk, sizeof *m->precision);
    m->recall = calloc(kk, sizeof *m->recall);
    m->f1 = calloc(kk, sizeof *m->f1);
    if (!m->confusion || !m->support || !m->predicted || !m->precision || !m->recall || !m->f1) {
        class_metrics_free(m);
        return nncl_fail(NNCL_E_NOMEM, "out of memory for a %d-class confusion matrix", k);
    }
    for (size_t i = 0; i < n; i++) {
        if (labels[i] < 0 || labels[i] >= k || pred[i] < 0 || pred[i] >= k)
            continue;
        m->confusion[(size_t)labels[i] * kk + (size_t)pred[i]]++;
        m->support[labels[i]]++;
        m->predicted[pred[i]]++;
        m->rows++;
    }
    for (size_t c = 0; c < kk; c++) {
        double hit = (double)m->confusion[c * kk + c];
        m->precision[c] = m->predicted[c] ? hit / (double)m->predicted[c] : NAN;
        m->recall[c] = m->support[c] ? hit / (double)m->support[c] : NAN;
        double p = or_zero(m->precision[c]), r = or_zero(m->recall[c]);
        m->f1[c] = p + r > 0 ? 2 * p * r / (p + r) : 0;
        if (m->support[c] || m->predicted[c]) {
            m->macro_precision += p;
            m->macro_recall += r;
            m->macro_f1 += m->f1[c];
            m->macro_classes++;
        }
    }
    if (m->macro_classes) {
        m->macro_precision /= m->macro_classes;
        m->macro_recall /= m->macro_classes;
        m->macro_f1 /= m->macro_classes;
    }
    return NNCL_OK;
}

/* A value of the table: 4 decimals, or "-" where undefined. */
static const char *cell(double x, char *buf, size_t len)
{
    if (isnan(x))
        snprintf(buf, len, "-");
    else
        snprintf(buf, len, "%.4f", x);
    return buf;
}

void class_metrics_print(const class_metrics *m, const char *const *names, FILE *out)
{
    size_t kk = (size_t)m->k;
    bool undefined = false;
    fprintf(out, "\n%-11s%10s %9s %9s %8s  %s\n", "per class", "precision", "recall", "F1", "n", "name");
    for (size_t c = 0; c < kk; c++) {
        char p[16], r[16], f[16];
        bool absent = !m->support[c] && !m->predicted[c];
        undefined |= !absent && (isnan(m->precision[c]) || isnan(m->recall[c]));
        fprintf(out, "  %-9zu%10s %9s %9s %8zu  %s\n", c, cell(m->precision[c], p, sizeof p),
                cell(m->recall[c], r, sizeof r), absent ? "-" : cell(m->f1[c], f, sizeof f), m->support[c],
                names && names[c] ? names[c] : "");
    }
    fprintf(out, "  %-9s%10.4f %9.4f %9.4f %8zu  (mean over %d classes)\n", "macro avg", m->macro_precision,
            m->macro_recall, m->macro_f1, m->rows, m->macro_classes);
    if (undefined)
        fprintf(out, "  -: undefined (no row predicted as, or labelled with, the class); counted as 0 in the\n"
                     "     macro average, as scikit-learn does\n");
    if (kk > 40)
        return;
    fprintf(out, "\nconfusion matrix (rows: true class, columns: predicted)\n      ");
    for (size_t j = 0; j < kk; j++)
        fprintf(out, " %6zu", j);
    fprintf(out, "\n");
    for (size_t c = 0; c < kk; c++) {
        fprintf(out, "  %-4zu", c);
        for (size_t j = 0; j < kk; j++)
            fprintf(out, " %6zu", m->confusion[c * kk + j]);
        fprintf(out, "\n");
    }
}

static json_t *number_or_null(double x)
{
    return isnan(x) ? json_null() : json_real(x);
}

json_t *class_metrics_json(const class_metrics *m, const char *const *names)
{
    size_t kk = (size_t)m->k;
    json_t *per = json_array(), *conf = json_array();
    for (size_t c = 0; c < kk; c++) {
        json_t *row = json_array();
        for (size_t j = 0; j < kk; j++)
            json_array_append_new(row, json_integer((json_int_t)m->confusion[c * kk + j]));
        json_array_append_new(conf, row);
        json_t *o = json_pack("{s:I, s:s?, s:o, s:o, s:f, s:I, s:I}", "class", (json_int_t)c, "name",
                              names ? names[c] : NULL, "precision", number_or_null(m->precision[c]), "recall",
                              number_or_null(m->recall[c]), "f1", m->f1[c], "support", (json_int_t)m->support[c],
                              "predicted", (json_int_t)m->predicted[c]);
        json_array_append_new(per, o);
    }
    return json_pack("{s:o, s:{s:f, s:f, s:f, s:i}, s:o}", "per_class", per, "macro", "precision",
                     m->macro_precision, "recall", m->macro_recall, "f1", m->macro_f1, "classes",
                     m->macro_classes, "confusion", conf);
}
