/* Prediction files: printed to a stream, or written atomically through
 * nncl_write_file_atomic. */
#define _GNU_SOURCE     /* open_memstream */
#include "nncl/data.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/atomic_file.h"

static void put_name(FILE *fp, const char *s)
{
    if (!strpbrk(s, ",;\t\"\r\n") && s[0] != ' ' && (!*s || s[strlen(s) - 1] != ' ')) {
        fputs(s, fp);
        return;
    }
    fputc('"', fp);
    for (; *s; s++) {
        if (*s == '"') fputc('"', fp);
        fputc(*s, fp);
    }
    fputc('"', fp);
}

nncl_status nncl_csv_print_predictions(FILE *fp, const char *what, nncl_pred_format format, size_t n,
                                       const int32_t *classes, int num_classes,
                                       const char *const *class_names, const float *values)
{
    if (n > 0 && !classes && !values)
        return nncl_fail(NNCL_E_INVALID, "%s: no predictions given (classes and values NULL)", what);
    if (format != NNCL_PRED_PLAIN && format != NNCL_PRED_KAGGLE)
        return nncl_fail(NNCL_E_INVALID, "%s: unknown prediction format %d", what, (int)format);
    if (classes)
        for (size_t i = 0; i < n; i++)
            if (classes[i] < 0 || (num_classes > 0 && classes[i] >= num_classes) ||
                (class_names && classes[i] >= num_classes))
                return nncl_fail(NNCL_E_INVALID, "%s: prediction %zu is class %d, outside "
                                 "[0, %d)", what, i, (int)classes[i], num_classes);
    fputs(format == NNCL_PRED_KAGGLE ? "ImageId,Label\n" : "prediction\n", fp);
    for (size_t i = 0; i < n; i++) {
        if (format == NNCL_PRED_KAGGLE) fprintf(fp, "%zu,", i + 1);
        if (classes) {
            if (class_names && class_names[classes[i]]) put_name(fp, class_names[classes[i]]);
            else fprintf(fp, "%d", (int)classes[i]);
        } else {
            fprintf(fp, "%.9g", (double)values[i]);
        }
        fputc('\n', fp);
    }
    if (fflush(fp) != 0 || ferror(fp))
        return nncl_fail(NNCL_E_IO, "%s: cannot write: %s", what, strerror(errno));
    return NNCL_OK;
}

nncl_status nncl_csv_write_predictions(const char *path, nncl_pred_format format, size_t n,
                                       const int32_t *classes, int num_classes,
                                       const char *const *class_names, const float *values)
{
    if (!path || !*path) return nncl_fail(NNCL_E_INVALID, "predictions: no output file name");
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (!mem) return nncl_fail(NNCL_E_NOMEM, "%s: out of memory", path);
    nncl_status st = nncl_csv_print_predictions(mem, path, format, n, classes, num_classes, class_names, values);
    fclose(mem);
    if (st == NNCL_OK)
        st = nncl_write_file_atomic(path, buf, len);
    free(buf);
    return st;
}
