/* `nncl predict RUN_DIR|MODEL --data FILE`: one prediction per input row,
 * with --proba each class's probability too. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/out_guard.h"
#include "cli/model_arg.h"
#include "cli/predict_proba.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: nncl predict RUN_DIR|MODEL --data FILE|DIR|NAME [--out FILE] [--format plain|kaggle]\n"
            "                    [--proba] [--device DEVICE]\n"
            "\n"
            "Writes one prediction per input: a class name (classification) or a number\n"
            "(regression). FILE is a CSV table with the model's feature columns (a label\n"
            "column, if present, is ignored), a Kaggle digits test.csv, or an IDX image file;\n"
            "a directory or dataset name predicts its test images.\n"
            "  --format plain   a header 'prediction', then one value per line (default)\n"
            "  --format kaggle  Kaggle's submission file: ImageId,Label with ImageId from 1\n"
            "  --proba          classifiers: the header 'prediction' then one column per class\n"
            "                   (named by its class name), each row the predicted class and\n"
            "                   every class's probability (they sum to 1)\n"
            "  --out FILE       write there (atomically) instead of to standard output\n");
}

static bool is_idx_images(const char *path)
{
    return strstr(path, "idx3-ubyte") != NULL;
}

static nncl_status load_inputs(const model_arg *m, const char *data, nncl_dataset *out)
{
    struct stat sb;
    nncl_status st;
    if (stat(data, &sb) == 0 && S_ISREG(sb.st_mode) && is_idx_images(data)) {
        memset(out, 0, sizeof *out);
        size_t count;
        int h, w;
        if ((st = nncl_idx_load_images(data, &out->x_u8, &count, &h, &w)) != NNCL_OK)
            return st;
        out->rows = count;
        out->cols = (size_t)h * (size_t)w;
        out->image_h = h;
        out->image_w = w;
        out->source = strdup(data);
        return NNCL_OK;
    }
    nncl_csv_options csv = model_arg_csv_options(m, NNCL_CSV_LABEL_OPTIONAL);
    if (m->config) {
        json_t *label = json_object_get(json_object_get(m->config, "data"), "label");
        if (json_is_string(label))
            csv.label = json_string_value(label);
    }
    nncl_resolve_options ro = {.csv = &csv, .no_hash = true};
    nncl_data_source src;
    if ((st = nncl_data_resolve(data, &ro, &src)) != NNCL_OK)
        return st;
    nncl_dataset_move(src.has_test ? &src.test : &src.train, out);
    nncl_data_source_free(&src);
    return NNCL_OK;
}

int cmd_predict(const cli_globals *g, int argc, char **argv)
{
    const char *device = g->device, *data = NULL, *out_path = NULL;
    nncl_pred_format fmt = NNCL_PRED_PLAIN;
    bool with_proba = false;
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'D'}, {"out", required_argument, NULL, 'o'},
        {"format", required_argument, NULL, 'f'}, {"device", required_argument, NULL, 'd'},
        {"proba", no_argument, NULL, 'p'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
    };
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'D': data = optarg; break;
        case 'o': out_path = optarg; break;
        case 'd': device = optarg; break;
        case 'p': with_proba = true; break;
        case 'f':
            if (strcmp(optarg, "plain") == 0) {
                fmt = NNCL_PRED_PLAIN;
            } else if (strcmp(optarg, "kaggle") == 0) {
                fmt = NNCL_PRED_KAGGLE;
            } else {
                cli_error("--format: '%s' is not plain or kaggle", optarg);
                return CLI_USAGE;
            }
            break;
        case 'h': usage(stdout); return CLI_OK;
        case ':': cli_error("%s needs a value (see nncl predict --help)", argv[optind - 1]); return CLI_USAGE;
        default: cli_error("unknown option '%s' (see nncl predict --help)", argv[optind - 1]); return CLI_USAGE;
        }
    }
    if (optind != argc - 1 || !data) {
        cli_error("predict takes one RUN_DIR or MODEL and --data FILE (see nncl predict --help)");
        return CLI_USAGE;
    }
    model_arg m;
    nncl_status st = model_arg_load(argv[optind], &m);
    if (st != NNCL_OK) {
        model_arg_free(&m);
        return cli_fail(st);
    }
    const nncl_model *md = &m.model;
    bool classify = md->cfg.task == NNCL_TASK_CLASSIFY;
    if (fmt == NNCL_PRED_KAGGLE && !classify) {
        model_arg_free(&m);
        cli_error("--format kaggle is for classifiers; this model does regression");
        return CLI_USAGE;
    }
    if (with_proba && !classify) {
        model_arg_free(&m);
        cli_error("--proba is for classifiers; %s does regression (it predicts numbers, without classes)",
                  m.model_path);
        return CLI_USAGE;
    }
    if (with_proba && fmt == NNCL_PRED_KAGGLE) {
        model_arg_free(&m);
        cli_error("--proba writes its own table (prediction, then one column per class); it does not go with "
                  "--format kaggle, whose submission file holds the label alone");
        return CLI_USAGE;
    }
    /* --out must not replace the model, the data or a run's own files */
    const char *inputs[] = {m.model_path, data};
    if ((st = out_guard("--out", out_path, inputs, 2)) != NNCL_OK) {
        model_arg_free(&m);
        return cli_fail(st);
    }
    nncl_dataset ds = {0};
    st = load_inputs(&m, data, &ds);
    if (st == NNCL_OK && ds.cols != md->cfg.sizes[0])
        st = nncl_fail(NNCL_E_FORMAT, "%s: %zu features per row, but the model takes %zu", data, ds.cols,
                       md->cfg.sizes[0]);
    if (st == NNCL_OK && ds.rows == 0)
        st = nncl_fail(NNCL_E_FORMAT, "%s: no rows to predict", data);
    if (st != NNCL_OK) {
        nncl_dataset_free(&ds);
        model_arg_free(&m);
        return cli_fail(st);
    }
    /* Inputs are only features here: no labels are uploaded. */
    free(ds.labels);
    ds.labels = NULL;
    free(ds.targets);
    ds.targets = NULL;

    nncl_device *dev = NULL;
    int rc = cli_open_device(device, &dev);
    if (rc != CLI_OK) {
        nncl_dataset_free(&ds);
        model_arg_free(&m);
        return rc;
    }
    int32_t *pred = NULL;
    float *values = NULL, *proba = NULL;
    nncl_eval_result r;
    int k = (int)md->cfg.sizes[md->cfg.layers];
    const char *const *names = md->num_classes == k ? (const char *const *)md->class_names : NULL;
    st = model_arg_run(&m, dev, &ds, &pred, &values, with_proba ? &proba : NULL, &r);
    if (st == NNCL_OK && with_proba && out_path)
        st = proba_csv_write(out_path, ds.rows, pred, k, names, proba);
    else if (st == NNCL_OK && with_proba)
        st = proba_csv_print(stdout, "standard output", ds.rows, pred, k, names, proba);
    else if (st == NNCL_OK && out_path)
        st = nncl_csv_write_predictions(out_path, fmt, ds.rows, pred, md->num_classes,
                                        (const char *const *)md->class_names, values);
    else if (st == NNCL_OK)
        st = nncl_csv_print_predictions(stdout, "standard output", fmt, ds.rows, pred, md->num_classes,
                                        (const char *const *)md->class_names, values);
    if (st == NNCL_OK && out_path)
        fprintf(stderr, "nncl: %zu predictions written to %s\n", ds.rows, out_path);
    rc = st == NNCL_OK ? CLI_OK : cli_fail(st);
    free(pred);
    free(values);
    free(proba);
    nncl_device_close(dev);
    nncl_dataset_free(&ds);
    model_arg_free(&m);
    return rc;
}
