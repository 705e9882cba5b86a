/* config.json: everything a run was made of (the command, the data, the
 * network, the optimiser), written when the run starts. */
#include "cli/run_data.h"
#include "cli/train_options.h"
#include "cli/train_run.h"
#include "nncl/model.h"
#include "nncl/nncl.h"

static json_t *names_array(char **names, int n)
{
    json_t *a = json_array();
    for (int i = 0; names && i < n; i++)
        json_array_append_new(a, json_string(names[i]));
    return a;
}

json_t *train_config_record(const train_options *o, const nncl_device_info *dev, const splits *s,
                            const nncl_net_config *cfg, size_t batch, int argc, char **argv)
{
    json_t *cmd = cli_command_json(argc, argv);
    json_t *layers = json_array();
    for (int l = 0; l <= cfg->layers; l++)
        json_array_append_new(layers, json_integer((json_int_t)cfg->sizes[l]));
    json_t *files = json_array();
    for (int i = 0; i < s->src.num_files; i++)
        json_array_append_new(files, json_string(s->src.files[i]));
    bool classify = cfg->task == NNCL_TASK_CLASSIFY;
    json_t *j = json_object();
    json_object_set_new(j, "nncl_version", json_string(nncl_version()));
    json_object_set_new(j, "command", cmd);
    json_object_set_new(j, "preset", o->preset ? json_string(o->preset) : json_null());
    /* (the index is null for the host opened alone: it was not listed) */
    json_object_set_new(j, "device",
                        json_pack("{s:o, s:s, s:s, s:s, s:s, s:s}", "index",
                                  dev->index >= 0 ? json_integer(dev->index) : json_null(), "name", dev->name,
                                  "backend", nncl_backend_name(dev->backend), "type",
                                  nncl_device_type_name(dev->type), "platform", dev->platform, "driver",
                                  dev->driver_version));
    json_object_set_new(j, "data",
                        json_pack("{s:s, s:o, s:s, s:s, s:I, s:I, s:I, s:I, s:s, s:o, s:s?, s:f, s:f, s:I}",
                                  "name", s->src.name, "files", files, "sha256", s->src.sha256, "task",
                                  classify ? "classify" : "regress", "train_rows", (json_int_t)s->train.rows,
                                  "val_rows", (json_int_t)s->val.rows, "test_rows", (json_int_t)s->test.rows,
                                  "features", (json_int_t)s->train.cols, "test_from", s->test_origin,
                                  "class_names", names_array(s->train.class_names, s->train.num_classes),
                                  "label", o->label, "val", o->val, "test_split", o->test_split, "limit",
                                  (json_int_t)o->limit));
    /* What the report needs to draw the inputs when there is no model file. */
    json_t *data = json_object_get(j, "data");
    json_object_set_new(data, "image_shape",
                        s->train.image_h > 0 ? json_pack("[i, i]", s->train.image_h, s->train.image_w) : json_null());
    json_object_set_new(data, "feature_names",
                        s->train.feature_names ? names_array(s->train.feature_names, (int)s->train.cols) : json_null());
    /* Where the data lies, for `nncl eval RUN_DIR` from any directory (kept
     * out of "data", which a resume compares with what it rebuilds). */
    json_t *paths = run_data_record(o, s);
    json_object_set_new(j, "data_paths", paths ? paths : json_null());
    json_object_set_new(j, "model",
                        json_pack("{s:o, s:s, s:f, s:s, s:f, s:f, s:s}", "layers", layers, "activation",
                                  nncl_act_name(cfg->act), "leaky_slope", (double)cfg->act_param, "init",
                                  init_name(o->init), "init_param", (double)o->init_param, "dropout",
                                  (double)cfg->dropout, "output", classify ? "softmax" : "identity"));
    /* The layers as --layers gives them (the output layer follows), and the
     * input's shape when they are a list with pictures in it. */
    char specs[1024];
    json_t *model = json_object_get(j, "model");
    if (nncl_layers_format(o->hidden, o->hidden_count, specs, sizeof specs) == NNCL_OK)
        json_object_set_new(model, "layer_specs", json_string(specs));
    json_object_set_new(model, "input_shape",
                        nncl_net_config_is_dense(cfg)
                            ? json_null()
                            : json_pack("[I, I, I]", (json_int_t)cfg->in_c, (json_int_t)cfg->in_h, (json_int_t)cfg->in_w));
    json_object_set_new(j, "optimiser",
                        json_pack("{s:s, s:f, s:f, s:b, s:f, s:f, s:f, s:f}", "kind", optim_name(o->optim.kind),
                                  "lr", (double)o->schedule.lr, "momentum", (double)o->optim.momentum,
                                  "nesterov", o->optim.nesterov, "beta1", (double)o->optim.beta1, "beta2",
                                  (double)o->optim.beta2, "eps", (double)o->optim.eps, "weight_decay",
                                  (double)o->optim.weight_decay));
    json_object_set_new(j, "schedule",
                        json_pack("{s:s, s:i, s:f, s:f}", "kind", schedule_name(o->schedule.kind), "step_epochs",
                                  o->schedule.step_epochs, "gamma", (double)o->schedule.gamma, "warmup_epochs",
                                  (double)o->schedule.warmup_epochs));
    json_object_set_new(j, "batch", json_integer((json_int_t)batch));
    json_object_set_new(j, "epochs", json_integer(o->epochs));
    json_object_set_new(j, "early_stop", json_integer(o->early_stop));
    json_object_set_new(j, "seed", json_integer((json_int_t)o->seed));
    json_object_set_new(j, "snapshots", json_integer(o->snapshots));
    json_object_set_new(j, "checkpoint_every", json_integer(o->checkpoint_every));
    json_object_set_new(j, "log_every", json_integer(o->log_every));
    json_object_set_new(j, "report", json_boolean(!o->no_report));
    json_object_set_new(j, "tutorial_quirks",
                        json_pack("{s:I, s:b}", "gradient_rows", (json_int_t)o->faithful_rows, "scalar_bias",
                                  o->faithful));
    return j;
}
