/* `nncl eval RUN_DIR|MODEL`: loss, accuracy, precision, recall and F1 per
 * class and the confusion matrix of a saved model on a test set (by
 * default, the very test set its run was scored on, found from any
 * directory and refused if its bytes changed). */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/class_metrics.h"
#include "cli/cli.h"
#include "cli/data_splits.h"
#include "cli/model_arg.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: nncl eval RUN_DIR|MODEL [--data NAME|DIR|FILE] [--label COLUMN] [--force] [--json]\n"
            "                 [--device DEVICE]\n"
            "\n"
            "Evaluates a saved model: loss, accuracy, precision, recall and F1 per class\n"
            "(and their macro averages), the confusion matrix; for regression RMSE, MAE, R2.\n"
            "Without --data, on the test set of the run it came from, rebuilt from its\n"
            "config.json: the data is looked for relative to the run directory, then at its\n"
            "absolute path, then as given to train, so eval works from any directory; data\n"
            "whose SHA-256 differs from the one recorded is refused. With --data, on that\n"
            "data's test set, or on the whole file when it has none.\n"
            "  --force  evaluate on the run's data even though it changed (with a warning)\n"
            "  --json   the results as one JSON object on standard output\n");
}

typedef struct eval_args {
    const char *device, *data, *label, *run;
    bool force, json;
} eval_args;

/* Why a run has no test set of its own, and what to do instead. */
static nncl_status no_test_set(const eval_args *a, const train_options *o, const splits *s)
{
    char why[4400];
    if (o->test_file)
        snprintf(why, sizeof why, "its --test file %s has no rows", o->test_file);
    else if (s->src.has_test)
        snprintf(why, sizeof why, "its dataset's test set has no rows");
    else
        snprintf(why, sizeof why, "--test-split %g held out none of its %zu rows", o->test_split,
                 s->train.rows + s->val.rows);
    return nncl_fail(NNCL_E_INVALID,
                     "%s: the run has no test set (%s), so it was not scored on one; evaluate it on other data "
                     "with: nncl eval %s --data FILE",
                     a->run, why, a->run);
}

/* The run's own test set, rebuilt from its config.json: its data found
 * (m->data.note says where, when not at the first place tried) and checked
 * against the recorded SHA-256. */
static nncl_status run_test_set(model_arg *m, const cli_globals *g, const eval_args *a, nncl_dataset *out,
                                char *what, size_t what_len)
{
    train_options o;
    nncl_status st = model_arg_train_options(m, g, &o);
    if (st != NNCL_OK)
        return st;
    fputs(m->data.note, stderr);
    splits s;
    st = load_splits(&o, &s);
    if (st == NNCL_OK && m->config && (st = run_data_verify(m->config, &s, &m->data)) != NNCL_OK) {
        if (a->force) {
            cli_warning("%s; evaluating anyway (--force): the result is not comparable to the run's",
                        nncl_last_error());
            st = NNCL_OK;
        } else {
            char why[1024];     /* nncl_fail replaces the message it is given */
            snprintf(why, sizeof why, "%s", nncl_last_error());
            st = nncl_fail(NNCL_E_FORMAT,
                           "%s; the test set rebuilt from it would not be the one the run was scored on "
                           "(evaluate anyway with --force, or name other data with --data FILE)",
                           why);
        }
    }
    if (st == NNCL_OK && s.test.rows == 0)
        st = no_test_set(a, &o, &s);
    if (st == NNCL_OK) {
        snprintf(what, what_len, "%s, test set (%s)", s.src.name, s.test_origin);
        nncl_dataset_move(&s.test, out);
    }
    splits_free(&s);
    return st;
}

/* The data to evaluate on: the chosen set (test, or the whole file), moved to out. */
static nncl_status pick_data(model_arg *m, const cli_globals *g, const eval_args *a, nncl_dataset *out,
                             char *what, size_t what_len)
{
    nncl_status st;
    if (!a->data)
        return run_test_set(m, g, a, out, what, what_len);
    if (a->force)
        cli_warning("--force applies to the run's own data (eval without --data); ignored with --data");
    nncl_csv_options csv = model_arg_csv_options(m, NNCL_CSV_LABEL_REQUIRED);
    csv.label = a->label;
    nncl_resolve_options ro = {.csv = &csv, .no_hash = true};
    nncl_data_source src;
    if ((st = nncl_data_resolve(a->data, &ro, &src)) != NNCL_OK)
        return st;
    snprintf(what, what_len, "%s, %s", src.name, src.has_test ? "test set" : "all rows");
    nncl_dataset_move(src.has_test ? &src.test : &src.train, out);
    nncl_data_source_free(&src);
    if (out->rows == 0)
        return nncl_fail(NNCL_E_FORMAT, "%s: no rows to evaluate", a->data);
    return NNCL_OK;
}

/* The results, as a table or (--json) one object. */
static nncl_status report(const eval_args *a, const model_arg *m, const nncl_device_info *info,
                          const nncl_dataset *ds, const char *what, const int32_t *pred, const float *values,
                          const nncl_eval_result *r)
{
    const nncl_model *md = &m->model;
    const char *const *names = (const char *const *)md->class_names;
    json_t *j = json_pack("{s:s, s:s, s:I, s:s, s:f}", "model", m->model_path, "data", what, "rows",
                          (json_int_t)ds->rows, "device", info->name, "loss", r->loss);
    if (!a->json) {
        printf("model    %s\n", m->model_path);
        printf("data     %s: %zu rows\n", what, ds->rows);
        char num[16];
        printf("device   %s: %s\n", cli_device_number(info, num), info->name);
    }
    if (md->cfg.task == NNCL_TASK_CLASSIFY) {
        int k = md->num_classes ? md->num_classes : (int)md->cfg.sizes[md->cfg.layers];
        class_metrics cm;
        nncl_status st = class_metrics_compute(ds->labels, pred, ds->rows, k, &cm);
        if (st != NNCL_OK) {
            json_decref(j);
            return st;
        }
        if (a->json) {
            json_object_set_new(j, "accuracy", json_real(r->accuracy));
            json_object_update_new(j, class_metrics_json(&cm, names));
        } else {
            printf("loss %.4f  accuracy %.2f%%\n", r->loss, 100 * r->accuracy);
            class_metrics_print(&cm, names, stdout);
        }
        class_metrics_free(&cm);
    } else {
        double rmse, mae, r2;
        regression_metrics(ds->targets, values, ds->rows, &rmse, &mae, &r2);
        if (a->json)
            json_object_update_new(j, json_pack("{s:f, s:f, s:o}", "rmse", rmse, "mae", mae, "r2",
                                                isnan(r2) ? json_null() : json_real(r2)));
        else
            printf("loss %.4f (standardised MSE)  RMSE %.6g  MAE %.6g  R2 %.4f\n", r->loss, rmse, mae, r2);
    }
    if (a->json) {
        char *s = json_dumps(j, JSON_INDENT(2));
        if (s)
            puts(s);
        free(s);
    }
    json_decref(j);
    return NNCL_OK;
}

static int parse_args(const cli_globals *g, int argc, char **argv, eval_args *a)
{
    *a = (eval_args){.device = g->device, .json = g->json};
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'D'}, {"label", required_argument, NULL, 'l'},
        {"device", required_argument, NULL, 'd'}, {"force", no_argument, NULL, 'F'},
        {"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
    };
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'D': a->data = optarg; break;
        case 'l': a->label = optarg; break;
        case 'd': a->device = optarg; break;
        case 'F': a->force = true; break;
        case 'j': a->json = true; break;
        case 'h': usage(stdout); return -1;
        case ':': cli_error("%s needs a value (see nncl eval --help)", argv[optind - 1]); return CLI_USAGE;
        default: cli_error("unknown option '%s' (see nncl eval --help)", argv[optind - 1]); return CLI_USAGE;
        }
    }
    if (optind != argc - 1) {
        cli_error("eval takes one RUN_DIR or MODEL (see nncl eval --help)");
        return CLI_USAGE;
    }
    if (a->label && !a->data) {
        cli_error("--label goes with --data (without it, eval uses the run's own label column)");
        return CLI_USAGE;
    }
    a->run = argv[optind];
    return CLI_OK;
}

int cmd_eval(const cli_globals *g, int argc, char **argv)
{
    eval_args a;
    int rc = parse_args(g, argc, argv, &a);
    if (rc != CLI_OK)
        return rc < 0 ? CLI_OK : rc;
    model_arg m;
    nncl_status st = model_arg_load(a.run, &m);
    if (st != NNCL_OK) {
        model_arg_free(&m);
        return cli_fail(st);
    }
    nncl_dataset ds = {0};
    char what[4600];
    st = pick_data(&m, g, &a, &ds, what, sizeof what);
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
    rc = cli_open_device(a.device, &dev);
    if (rc != CLI_OK) {
        nncl_dataset_free(&ds);
        model_arg_free(&m);
        return rc;
    }
    int32_t *pred = NULL;
    float *values = NULL;
    nncl_eval_result r;
    st = model_arg_run(&m, dev, &ds, &pred, &values, NULL, &r);
    if (st == NNCL_OK)
        st = report(&a, &m, nncl_device_get_info(dev), &ds, what, pred, values, &r);
    rc = st == NNCL_OK ? CLI_OK : cli_fail(st);
    free(pred);
    free(values);
    nncl_device_close(dev);
    nncl_dataset_free(&ds);
    model_arg_free(&m);
    return rc;
}
