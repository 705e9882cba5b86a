/* The RUN_DIR|MODEL argument of eval and predict. */
#ifndef NNCL_MODEL_ARG_H
#define NNCL_MODEL_ARG_H

#include <jansson.h>

#include "cli/run_data.h"
#include "cli/train_options.h"
#include "nncl/model.h"

typedef struct model_arg {
    nncl_model model;
    char model_path[4200];
    char run_dir[4200];         /* the run directory as given, or "" for a bare model */
    json_t *config;             /* the run's config.json, or NULL for a bare model */
    run_data_found data;        /* where the run's data was found (model_arg_train_options) */
} model_arg;

/* A run directory (its model.safetensors and config.json) or a model file. */
nncl_status model_arg_load(const char *arg, model_arg *out);
void model_arg_free(model_arg *m);

/* The data options the run was trained with (for rebuilding its test set),
 * its data found from any directory (run_data_locate: m->data.note says
 * where, when not at the first place tried). Strings point into m. */
nncl_status model_arg_train_options(model_arg *m, const cli_globals *g, train_options *o);

/* CSV options that check a file against the model: its features and classes. */
nncl_csv_options model_arg_csv_options(const model_arg *m, nncl_csv_label_mode mode);

/* Run the model over every row of ds on dev, in batches of up to 1024:
 * predicted classes (*pred) or values (*values, in the target's units), and
 * the loss where ds has labels. With proba not NULL (classifiers), also the
 * class probabilities, rows x classes (softmax of the outputs, computed on
 * the host in double precision). The caller frees *pred, *values, *proba. */
nncl_status model_arg_run(const model_arg *m, nncl_device *dev, const nncl_dataset *ds, int32_t **pred,
                          float **values, float **proba, nncl_eval_result *r);

/* RMSE, MAE and R^2 of n predictions against targets (R^2 NaN when the
 * targets are constant). */
void regression_metrics(const float *targets, const float *pred, size_t n, double *rmse, double *mae,
                        double *r2);

#endif
