/* Feature and target statistics, and the input transform built on them. */
#include "nncl/data.h"

#include <math.h>
#include <stdlib.h>

/* A column is treated as constant (scale 1) when its spread is zero or lost
 * in float rounding of its mean. */
static bool is_constant(double mean, double std)
{
    return !(std > 0.0) || std < 1e-6 * fabs(mean) || std < 1e-30;
}

static double cell(const nncl_dataset *ds, size_t r, size_t c)
{
    size_t k = r * ds->cols + c;
    return ds->x_u8 ? (double)ds->x_u8[k] : (double)ds->x_f32[k];
}

nncl_status nncl_dataset_feature_stats(const nncl_dataset *ds, double *mean, double *std)
{
    if (!ds || !mean || !std)
        return nncl_fail(NNCL_E_INVALID, "nncl_dataset_feature_stats: NULL argument");
    if (!ds->x_u8 && !ds->x_f32)
        return nncl_fail(NNCL_E_INVALID, "nncl_dataset_feature_stats: the dataset has no features");
    if (ds->rows == 0)
        return nncl_fail(NNCL_E_INVALID, "%s: no rows to compute feature statistics from",
                         ds->source ? ds->source : "dataset");
    size_t n = ds->rows, m = ds->cols;
    for (size_t c = 0; c < m; c++) mean[c] = std[c] = 0.0;
    /* Row-major passes (cache friendly): sums, then squared deviations. */
    for (size_t r = 0; r < n; r++)
        for (size_t c = 0; c < m; c++) mean[c] += cell(ds, r, c);
    for (size_t c = 0; c < m; c++) mean[c] /= (double)n;
    for (size_t r = 0; r < n; r++)
        for (size_t c = 0; c < m; c++) {
            double d = cell(ds, r, c) - mean[c];
            std[c] += d * d;
        }
    for (size_t c = 0; c < m; c++) std[c] = sqrt(std[c] / (double)n);
    return NNCL_OK;
}

nncl_status nncl_dataset_feature_transform(const nncl_dataset *ds, float *shift, float *scale)
{
    if (!ds || !shift || !scale)
        return nncl_fail(NNCL_E_INVALID, "nncl_dataset_feature_transform: NULL argument");
    if (ds->x_u8) {
        for (size_t c = 0; c < ds->cols; c++) { shift[c] = 0.0f; scale[c] = 1.0f / 255.0f; }
        return NNCL_OK;
    }
    double *mean = malloc((ds->cols ? ds->cols : 1) * sizeof *mean);
    double *std = malloc((ds->cols ? ds->cols : 1) * sizeof *std);
    if (!mean || !std) {
        free(mean); free(std);
        return nncl_fail(NNCL_E_NOMEM, "out of memory for %zu feature statistics", ds->cols);
    }
    nncl_status st = nncl_dataset_feature_stats(ds, mean, std);
    if (st == NNCL_OK)
        for (size_t c = 0; c < ds->cols; c++) {
            shift[c] = (float)mean[c];
            scale[c] = is_constant(mean[c], std[c]) ? 1.0f : (float)(1.0 / std[c]);
        }
    free(mean);
    free(std);
    return st;
}

nncl_status nncl_dataset_target_stats(const nncl_dataset *ds, double *mean, double *std)
{
    if (!ds || !mean || !std)
        return nncl_fail(NNCL_E_INVALID, "nncl_dataset_target_stats: NULL argument");
    if (!ds->targets || ds->rows == 0)
        return nncl_fail(NNCL_E_INVALID, "%s: no regression targets to compute statistics from",
                         ds->source ? ds->source : "dataset");
    double s = 0.0, q = 0.0;
    for (size_t i = 0; i < ds->rows; i++) s += ds->targets[i];
    double mu = s / (double)ds->rows;
    for (size_t i = 0; i < ds->rows; i++) {
        double d = ds->targets[i] - mu;
        q += d * d;
    }
    double sd = sqrt(q / (double)ds->rows);
    *mean = mu;
    *std = is_constant(mu, sd) ? 1.0 : sd;
    return NNCL_OK;
}
