/* nncl_dataset: freeing, copying, subsets. */
#include "nncl/data.h"
#include "data/data_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *nncl_strdup(const char *s)
{
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

void nncl_strv_free(char **v, size_t n)
{
    if (!v) return;
    for (size_t i = 0; i < n; i++) free(v[i]);
    free(v);
}

char **nncl_strv_dup(const char *const *v, size_t n)
{
    if (!v || n == 0) return NULL;
    char **d = calloc(n, sizeof *d);
    if (!d) return NULL;
    for (size_t i = 0; i < n; i++) {
        d[i] = nncl_strdup(v[i] ? v[i] : "");
        if (!d[i]) { nncl_strv_free(d, n); return NULL; }
    }
    return d;
}

char **nncl_strv_numbers(size_t n)
{
    if (n == 0) return NULL;
    char **d = calloc(n, sizeof *d);
    if (!d) return NULL;
    for (size_t i = 0; i < n; i++) {
        char buf[32];
        snprintf(buf, sizeof buf, "%zu", i);
        d[i] = nncl_strdup(buf);
        if (!d[i]) { nncl_strv_free(d, n); return NULL; }
    }
    return d;
}

void nncl_dataset_free(nncl_dataset *ds)
{
    if (!ds) return;
    free(ds->x_u8);
    free(ds->x_f32);
    free(ds->labels);
    free(ds->targets);
    nncl_strv_free(ds->class_names, ds->num_classes > 0 ? (size_t)ds->num_classes : 0);
    nncl_strv_free(ds->feature_names, ds->cols);
    free(ds->label_name);
    free(ds->source);
    memset(ds, 0, sizeof *ds);
}

bool nncl_dataset_has_labels(const nncl_dataset *ds)
{
    return ds && (ds->labels || ds->targets);
}

/* Everything but the row data: shapes, task, names. */
static nncl_status copy_meta(const nncl_dataset *src, size_t rows, nncl_dataset *out)
{
    memset(out, 0, sizeof *out);
    out->rows = rows;
    out->cols = src->cols;
    out->task = src->task;
    out->num_classes = src->num_classes;
    out->image_h = src->image_h;
    out->image_w = src->image_w;
    bool ok = true;
    if (src->class_names && src->num_classes > 0) {
        out->class_names = nncl_strv_dup((const char *const *)src->class_names,
                                         (size_t)src->num_classes);
        ok = ok && out->class_names;
    }
    if (src->feature_names && src->cols > 0) {
        out->feature_names = nncl_strv_dup((const char *const *)src->feature_names, src->cols);
        ok = ok && out->feature_names;
    }
    if (src->label_name) ok = ok && (out->label_name = nncl_strdup(src->label_name));
    if (src->source) ok = ok && (out->source = nncl_strdup(src->source));

    size_t cells = nncl_mul_size(rows, src->cols);
    if (cells == SIZE_MAX) ok = false;
    if (ok && src->x_u8) ok = (out->x_u8 = malloc(cells ? cells : 1)) != NULL;
    if (ok && src->x_f32) {
        size_t bytes = nncl_mul_size(cells, sizeof(float));
        ok = bytes != SIZE_MAX && (out->x_f32 = malloc(bytes ? bytes : 1)) != NULL;
    }
    if (ok && src->labels)
        ok = (out->labels = malloc((rows ? rows : 1) * sizeof(int32_t))) != NULL;
    if (ok && src->targets)
        ok = (out->targets = malloc((rows ? rows : 1) * sizeof(float))) != NULL;
    if (!ok) {
        nncl_dataset_free(out);
        return nncl_fail(NNCL_E_NOMEM, "out of memory copying a dataset of %zu rows x %zu columns",
                         rows, src->cols);
    }
    return NNCL_OK;
}

nncl_status nncl_dataset_subset(const nncl_dataset *src, const size_t *idx, size_t n,
                                nncl_dataset *out)
{
    if (!src || !out || (n > 0 && !idx))
        return nncl_fail(NNCL_E_INVALID, "nncl_dataset_subset: NULL argument");
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < n; i++)
        if (idx[i] >= src->rows)
            return nncl_fail(NNCL_E_INVALID, "nncl_dataset_subset: index %zu (entry %zu) is out of "
                             "range, the dataset has %zu rows", idx[i], i, src->rows);
    nncl_status st = copy_meta(src, n, out);
    if (st) return st;
    size_t c = src->cols;
    for (size_t i = 0; i < n; i++) {
        size_t r = idx[i];
        if (src->x_u8) memcpy(out->x_u8 + i * c, src->x_u8 + r * c, c);
        if (src->x_f32) memcpy(out->x_f32 + i * c, src->x_f32 + r * c, c * sizeof(float));
        if (src->labels) out->labels[i] = src->labels[r];
        if (src->targets) out->targets[i] = src->targets[r];
    }
    return NNCL_OK;
}

nncl_status nncl_dataset_head(const nncl_dataset *src, size_t n, nncl_dataset *out)
{
    if (!src || !out) return nncl_fail(NNCL_E_INVALID, "nncl_dataset_head: NULL argument");
    if (n > src->rows) n = src->rows;
    nncl_status st = copy_meta(src, n, out);
    if (st) return st;
    size_t c = src->cols;
    if (src->x_u8 && n) memcpy(out->x_u8, src->x_u8, n * c);
    if (src->x_f32 && n) memcpy(out->x_f32, src->x_f32, n * c * sizeof(float));
    if (src->labels && n) memcpy(out->labels, src->labels, n * sizeof(int32_t));
    if (src->targets && n) memcpy(out->targets, src->targets, n * sizeof(float));
    return NNCL_OK;
}

void nncl_dataset_move(nncl_dataset *src, nncl_dataset *out)
{
    *out = *src;
    memset(src, 0, sizeof *src);
}

nncl_status nncl_dataset_copy(const nncl_dataset *src, nncl_dataset *out)
{
    if (!src || !out) return nncl_fail(NNCL_E_INVALID, "nncl_dataset_copy: NULL argument");
    return nncl_dataset_head(src, src->rows, out);
}
