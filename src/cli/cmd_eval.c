/* `nncl eval RUN_DIR|MODEL`: loss, accuracy, per-class accuracy and the
 * confusion matrix of a saved model on a test set (by default, the very test
 * set its run was scored on). */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/data_splits.h"
#include "cli/model_arg.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: nncl eval RUN_DIR|MODEL [--data NAME|DIR|FILE] [--label COLUMN] [--device DEVICE]\n"
                 "\n"
                 "Evaluates a saved model. Without --data, on the test set of the run it came from\n"
                 "(rebuilt from its config.json); with --data, on that data's test set, or on the\n"
                 "whole file when it has none.\n");
}

/* The data to evaluate on: the chosen set (test, or the whole file), moved to out. */
static nncl_status pick_data(const model_arg *m, const cli_globals *g, const char *data, const char *label,
                             nncl_dataset *out, char *what, size_t what_len)
{
    nncl_status st;
    if (!data) {
        train_options o;
        if ((st = model_arg_train_options(m, g, &o)) != NNCL_OK)
            return st;
        splits s;
        st = load_splits(&o, &s);
        if (st == NNCL_OK) {
            snprintf(what, what_len, "%s, test set (%s)", s.src.name, s.test_origin);
            nncl_dataset_move(&s.test, out);
        }
        splits_free(&s);
        return st;
    }
    nncl_csv_options csv = model_arg_csv_options(m, NNCL_CSV_LABEL_REQUIRED);
    csv.label = label;
    nncl_resolve_options ro = {.csv = &csv, .no_hash = true};
    nncl_data_source src;
    if ((st = nncl_data_resolve(data, &ro, &src)) != NNCL_OK)
        return st;
    snprintf(what, what_len, "%s, %s", src.name, src.has_test ? "test set" : "all rows");
    nncl_dataset_move(src.has_test ? &src.test : &src.train, out);
    nncl_data_source_free(&src);
    return NNCL_OK;
}

static void print_confusion(const nncl_model *md, const nncl_dataset *ds, const int32_t *pred)
{
    int k = md->num_classes ? md->num_classes : (int)md->cfg.sizes[md->cfg.layers];
    size_t *conf = calloc((size_t)k * (size_t)k, sizeof *conf);
    if (!conf)
        return;
    for (size_t i = 0; i < ds->rows; i++)
        if (ds->labels[i] >= 0 && ds->labels[i] < k && pred[i] >= 0 && pred[i] < k)
            conf[(size_t)ds->labels[i] * (size_t)k + (size_t)pred[i]]++;
    printf("\nper class     accuracy       n  name\n");
    for (int c = 0; c < k; c++) {
        size_t n = 0;
        for (int j = 0; j < k; j++)
            n += conf[(size_t)c * (size_t)k + (size_t)j];
        const char *name = md->class_names ? md->class_names[c] : "";
        if (n)
            printf("  %-9d  %7.2f%%  %6zu  %s\n", c, 100.0 * (double)conf[(size_t)c * (size_t)k + (size_t)c] / (double)n,
                   n, name);
        else
            printf("  %-9d        -        0  %s\n", c, name);
    }
    if (k <= 40) {
        printf("\nconfusion matrix (rows: true class, columns: predicted)\n      ");
        for (int j = 0; j < k; j++)
            printf(" %6d", j);
        printf("\n");
        for (int c = 0; c < k; c++) {
            printf("  %-4d", c);
            for (int j = 0; j < k; j++)
                printf(" %6zu", conf[(size_t)c * (size_t)k + (size_t)j]);
            printf("\n");
        }
    }
    free(conf);
}

int cmd_eval(const cli_globals *g, int argc, char **argv)
{
    const char *device = g->device, *data = NULL, *label = NULL;
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'D'}, {"label", required_argument, NULL, 'l'},
        {"device", required_argument, NULL, 'd'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
    };
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'D': data = optarg; break;
        case 'l': label = optarg; break;
        case 'd': device = optarg; break;
        case 'h': usage(stdout); return CLI_OK;
        case ':': cli_error("%s needs a value (see nncl eval --help)", argv[optind - 1]); return CLI_USAGE;
        default: cli_error("unknown option '%s' (see nncl eval --help)", argv[optind - 1]); return CLI_USAGE;
        }
    }
    if (optind != argc - 1) {
        cli_error("eval takes one RUN_DIR or MODEL (see nncl eval --help)");
        return CLI_USAGE;
    }
    model_arg m;
    nncl_status st = model_arg_load(argv[optind], &m);
    if (st != NNCL_OK) {
        model_arg_free(&m);
        return cli_fail(st);
    }
    nncl_dataset ds = {0};
    char what[512];
    st = pick_data(&m, g, data, label, &ds, what, sizeof what);
    const nncl_model *md = &m.model;
    bool classify = md->cfg.task == NNCL_TASK_CLASSIFY;
    if (st == NNCL_OK && ds.cols != md->cfg.sizes[0])
        st = nncl_fail(NNCL_E_FORMAT, "%s: %zu features, but the model takes %zu", what, ds.cols, md->cfg.sizes[0]);
    if (st == NNCL_OK && classify && (!ds.labels || ds.num_classes > md->num_classes))
        st = nncl_fail(NNCL_E_FORMAT, "%s: %d classes, but the model knows %d", what, ds.num_classes,
                       md->num_classes);
    if (st == NNCL_OK && !classify && !ds.targets)
        st = nncl_fail(NNCL_E_FORMAT, "%s: no regression targets", what);
    if (st != NNCL_OK) {
        nncl_dataset_free(&ds);
        model_arg_free(&m);
        return cli_fail(st);
    }

    nncl_device *dev = NULL;
    int rc = cli_open_device(device, &dev);
    if (rc != CLI_OK) {
        nncl_dataset_free(&ds);
        model_arg_free(&m);
        return rc;
    }
    int32_t *pred = NULL;
    float *values = NULL;
    nncl_eval_result r;
    st = model_arg_run(&m, dev, &ds, &pred, &values, &r);
    if (st == NNCL_OK) {
        const nncl_device_info *info = nncl_device_get_info(dev);
        printf("model    %s\n", m.model_path);
        printf("data     %s: %zu rows\n", what, ds.rows);
        printf("device   %d: %s\n", info->index, info->name);
        if (classify) {
            printf("loss %.4f  accuracy %.2f%%\n", r.loss, 100 * r.accuracy);
            print_confusion(md, &ds, pred);
        } else {
            double rmse, mae, r2;
            regression_metrics(ds.targets, values, ds.rows, &rmse, &mae, &r2);
            printf("loss %.4f (standardised MSE)  RMSE %.6g  MAE %.6g  R2 %.4f\n", r.loss, rmse, mae, r2);
        }
        rc = CLI_OK;
    } else {
        rc = cli_fail(st);
    }
    free(pred);
    free(values);
    nncl_device_close(dev);
    nncl_dataset_free(&ds);
    model_arg_free(&m);
    return rc;
}
