/* Prediction files, written atomically (temporary file, fsync, rename). */
#include "nncl/data.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* The directory part of path, for fsync after the rename. */
static void sync_dir(const char *path)
{
    char *copy = strdup(path);
    if (!copy) return;
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(copy);
}

nncl_status nncl_csv_write_predictions(const char *path, nncl_pred_format format, size_t n,
                                       const int32_t *classes, int num_classes,
                                       const char *const *class_names, const float *values)
{
    if (!path || !*path) return nncl_fail(NNCL_E_INVALID, "predictions: no output file name");
    if (n > 0 && !classes && !values)
        return nncl_fail(NNCL_E_INVALID, "%s: no predictions given (classes and values NULL)", path);
    if (format != NNCL_PRED_PLAIN && format != NNCL_PRED_KAGGLE)
        return nncl_fail(NNCL_E_INVALID, "%s: unknown prediction format %d", path, (int)format);
    if (classes)
        for (size_t i = 0; i < n; i++)
            if (classes[i] < 0 || (num_classes > 0 && classes[i] >= num_classes) ||
                (class_names && classes[i] >= num_classes))
                return nncl_fail(NNCL_E_INVALID, "%s: prediction %zu is class %d, outside "
                                 "[0, %d)", path, i, (int)classes[i], num_classes);

    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    if (!tmp) return nncl_fail(NNCL_E_NOMEM, "%s: out of memory", path);
    snprintf(tmp, plen + 16, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int e = errno;
        nncl_status st = nncl_fail(NNCL_E_IO, "%s: cannot create a temporary file next to it: %s",
                                   path, strerror(e));
        free(tmp);
        return st;
    }
    fchmod(fd, 0644);
    FILE *fp = fdopen(fd, "w");
    if (!fp) {
        int e = errno;
        close(fd);
        unlink(tmp);
        free(tmp);
        return nncl_fail(NNCL_E_IO, "%s: cannot write: %s", path, strerror(e));
    }
    setvbuf(fp, NULL, _IOFBF, 1 << 16);
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
    int bad = fflush(fp) != 0 || ferror(fp);
    int e = errno;
    if (!bad && fsync(fileno(fp)) != 0) { bad = 1; e = errno; }
    if (fclose(fp) != 0 && !bad) { bad = 1; e = errno; }
    if (!bad && rename(tmp, path) != 0) { bad = 1; e = errno; }
    if (bad) {
        unlink(tmp);
        free(tmp);
        return nncl_fail(NNCL_E_IO, "%s: cannot write: %s", path, strerror(e));
    }
    free(tmp);
    sync_dir(path);
    return NNCL_OK;
}
