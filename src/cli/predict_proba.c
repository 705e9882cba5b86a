/* The probability table of `nncl predict --proba`. */
#define _GNU_SOURCE     /* open_memstream */
#include "cli/predict_proba.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/atomic_file.h"

/* A CSV field, quoted when it holds a separator, a quote, a line break, or
 * leading or trailing spaces. */
static void put_field(FILE *fp, const char *s)
{
    size_t n = strlen(s);
    if (!strpbrk(s, ",;\t\"\r\n") && (n == 0 || (s[0] != ' ' && s[n - 1] != ' '))) {
        fputs(s, fp);
        return;
    }
    fputc('"', fp);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', fp);
        fputc(*s, fp);
    }
    fputc('"', fp);
}

static void put_class(FILE *fp, int c, const char *const *names)
{
    if (names && names[c])
        put_field(fp, names[c]);
    else
        fprintf(fp, "%d", c);
}

nncl_status proba_csv_print(FILE *fp, const char *what, size_t n, const int32_t *classes, int k,
                            const char *const *names, const float *proba)
{
    for (size_t i = 0; i < n; i++)
        if (classes[i] < 0 || classes[i] >= k)
            return nncl_fail(NNCL_E_INVALID, "%s: prediction %zu is class %d, outside [0, %d)", what, i,
                             (int)classes[i], k);
    fputs("prediction", fp);
    for (int c = 0; c < k; c++) {
        fputc(',', fp);
        put_class(fp, c, names);
    }
    fputc('\n', fp);
    for (size_t i = 0; i < n; i++) {
        put_class(fp, classes[i], names);
        for (int c = 0; c < k; c++)
            fprintf(fp, ",%.6g", (double)proba[i * (size_t)k + (size_t)c]);
        fputc('\n', fp);
    }
    if (fflush(fp) != 0 || ferror(fp))
        return nncl_fail(NNCL_E_IO, "%s: cannot write: %s", what, strerror(errno));
    return NNCL_OK;
}

nncl_status proba_csv_write(const char *path, size_t n, const int32_t *classes, int k, const char *const *names,
                            const float *proba)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (!mem)
        return nncl_fail(NNCL_E_NOMEM, "%s: out of memory", path);
    nncl_status st = proba_csv_print(mem, path, n, classes, k, names, proba);
    fclose(mem);
    if (st == NNCL_OK)
        st = nncl_write_file_atomic(path, buf, len);
    free(buf);
    return st;
}
