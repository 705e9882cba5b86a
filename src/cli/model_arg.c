/* Loading the model named on the command line, and what its run recorded. */
#include "cli/model_arg.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

nncl_status model_arg_load(const char *arg, model_arg *out)
{
    memset(out, 0, sizeof *out);
    struct stat sb;
    if (stat(arg, &sb) != 0)
        return nncl_fail(NNCL_E_IO, "%s: no such run directory or model file", arg);
    if (S_ISDIR(sb.st_mode)) {
        snprintf(out->run_dir, sizeof out->run_dir, "%s", arg);
        snprintf(out->model_path, sizeof out->model_path, "%s/model.safetensors", arg);
        if (stat(out->model_path, &sb) != 0) {
            /* a run that stopped before its end (killed, crashed) keeps its
             * weights in checkpoint.bin only: say how to get the model */
            char ckpt[4200];
            snprintf(ckpt, sizeof ckpt, "%s/checkpoint.bin", arg);
            if (stat(ckpt, &sb) == 0)
                return nncl_fail(NNCL_E_IO, "%s: no model.safetensors yet: the run stopped before its end "
                                 "(killed or crashed) or is still training; nncl train --resume %s finishes it "
                                 "from its checkpoint", arg, arg);
            return nncl_fail(NNCL_E_IO, "%s: a directory without model.safetensors (not a finished run?)", arg);
        }
        char config[4200];
        snprintf(config, sizeof config, "%s/config.json", arg);
        json_error_t err;
        out->config = json_load_file(config, 0, &err);
        if (!out->config && stat(config, &sb) == 0)
            return nncl_fail(NNCL_E_FORMAT, "%s: line %d: %s", config, err.line, err.text);
    } else {
        snprintf(out->model_path, sizeof out->model_path, "%s", arg);
    }
    return nncl_model_load(out->model_path, &out->model);
}

void model_arg_free(model_arg *m)
{
    nncl_model_free(&m->model);
    json_decref(m->config);
    m->config = NULL;
}

static const char *str(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

nncl_status model_arg_train_options(model_arg *m, const cli_globals *g, train_options *o)
{
    char *argv[] = {"train", NULL};
    if (train_options_parse(o, g, 1, argv) != CLI_OK)
        return nncl_fail(NNCL_E_INVALID, "internal: default options");
    if (!m->config) {
        o->data = m->model.dataset ? m->model.dataset : "mnist";
        return NNCL_OK;
    }
    json_t *data = json_object_get(m->config, "data");
    if (!json_is_object(data) || !str(data, "name"))
        return nncl_fail(NNCL_E_FORMAT, "%s: config.json has no data.name", m->model_path);
    nncl_status st = run_data_locate(m->config, m->run_dir, &m->data);
    if (st != NNCL_OK)
        return st;
    o->data = m->data.data;
    o->test_file = m->data.test[0] ? m->data.test : NULL;
    o->label = str(data, "label");
    const char *task = str(data, "task");
    o->task = task && strcmp(task, "regress") == 0 ? NNCL_CSV_TASK_REGRESS : NNCL_CSV_TASK_CLASSIFY;
    json_t *v;
    if (json_is_number(v = json_object_get(data, "val")))
        o->val = json_number_value(v);
    if (json_is_number(v = json_object_get(data, "test_split")))
        o->test_split = json_number_value(v);
    if (json_is_integer(v = json_object_get(data, "limit")))
        o->limit = (size_t)json_integer_value(v);
    if (json_is_integer(v = json_object_get(m->config, "seed")))
        o->seed = (uint64_t)json_integer_value(v);
    return NNCL_OK;
}

nncl_csv_options model_arg_csv_options(const model_arg *m, nncl_csv_label_mode mode)
{
    const nncl_model *md = &m->model;
    nncl_csv_options c = {.label_mode = mode};
    c.expect_features = (const char *const *)md->feature_names;
    c.expect_cols = md->cfg.sizes[0];
    c.task = md->cfg.task == NNCL_TASK_REGRESS ? NNCL_CSV_TASK_REGRESS : NNCL_CSV_TASK_CLASSIFY;
    if (md->cfg.task == NNCL_TASK_CLASSIFY && md->class_names) {
        c.expect_classes = (const char *const *)md->class_names;
        c.expect_num_classes = md->num_classes;
    }
    return c;
}

/* Softmax of each row of logits (rows x k), in place, in double precision. */
static void softmax_rows(float *x, size_t rows, size_t k)
{
    for (size_t i = 0; i < rows; i++) {
        float *row = x + i * k;
        double max = row[0], sum = 0;
        for (size_t c = 1; c < k; c++)
            max = row[c] > max ? row[c] : max;
        for (size_t c = 0; c < k; c++)
            sum += exp((double)row[c] - max);
        for (size_t c = 0; c < k; c++)
            row[c] = (float)(exp((double)row[c] - max) / sum);
    }
}

nncl_status model_arg_run(const model_arg *m, nncl_device *dev, const nncl_dataset *ds, int32_t **pred,
                          float **values, float **proba, nncl_eval_result *r)
{
    bool classify = m->model.cfg.task == NNCL_TASK_CLASSIFY;
    size_t k = m->model.cfg.sizes[m->model.cfg.layers];
    if (proba)
        *proba = NULL;
    if (ds->rows == 0)
        return nncl_fail(NNCL_E_INVALID, "no rows to run the model on");
    if (proba && !classify)
        return nncl_fail(NNCL_E_INVALID, "class probabilities: the model does regression");
    *pred = classify ? malloc(ds->rows * sizeof **pred) : NULL;
    *values = classify ? NULL : malloc(ds->rows * sizeof **values);
    if (proba)
        *proba = malloc(ds->rows * k * sizeof **proba);
    if ((!*pred && !*values) || (proba && !*proba))
        return nncl_fail(NNCL_E_NOMEM, "out of memory for %zu predictions", ds->rows);
    nncl_net *net = NULL;
    nncl_device_data dd = {0};
    nncl_status st = nncl_model_to_net(&m->model, dev, ds->rows < 1024 ? ds->rows : 1024, &net);
    if (st == NNCL_OK)
        st = nncl_device_data_upload(dev, ds, &dd);
    if (st == NNCL_OK)
        st = nncl_net_evaluate(net, &dd, *pred, *values, r);
    /* A second pass for the outputs themselves: the classes stay exactly
     * those of the pass above (the device's argmax). */
    if (st == NNCL_OK && proba)
        st = nncl_net_outputs(net, &dd, *proba);
    if (st == NNCL_OK && proba)
        softmax_rows(*proba, ds->rows, k);
    nncl_device_data_free(&dd);
    nncl_net_free(net);
    return st;
}

void regression_metrics(const float *targets, const float *pred, size_t n, double *rmse, double *mae, double *r2)
{
    double mean = 0, sse = 0, sae = 0, sst = 0;
    for (size_t i = 0; i < n; i++)
        mean += targets[i];
    mean /= (double)n;
    for (size_t i = 0; i < n; i++) {
        double e = (double)pred[i] - targets[i], d = targets[i] - mean;
        sse += e * e;
        sae += fabs(e);
        sst += d * d;
    }
    *rmse = sqrt(sse / (double)n);
    *mae = sae / (double)n;
    *r2 = sst > 0 ? 1 - sse / sst : NAN;
}
