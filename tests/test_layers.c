/* The layer list and the step plan: which fusion rule fires where, that a
 * fused and an unfused step agree, that layer lists which do not fit their
 * input are refused saying why, that a convolutional network's model file
 * round-trips, and that every device trains it like the host. */
#include <stdio.h>
#include <unistd.h>

#include "nncl/model.h"
#include "test_util.h"

enum { ROWS = 29 };

#define DENSE(n) {.kind = NNCL_LAYER_DENSE, .units = (n)}
#define CONV(k, s) {.kind = NNCL_LAYER_CONV2D, .units = (k), .kernel = (s), .stride = 1, .padding = -1}

static nncl_net_config dense_cfg(nncl_task task, size_t in, size_t h1, size_t h2, size_t out)
{
    nncl_net_config c = {.layers = h2 ? 3 : 2, .act = NNCL_ACT_TANH, .task = task};
    c.sizes[0] = in;
    c.sizes[1] = h1;
    c.sizes[2] = h2 ? h2 : out;
    c.sizes[3] = h2 ? out : 0;
    return c;
}

/* Byte "pictures" of 4x4 (or floats), labels cycling over the classes. */
typedef struct test_data {
    uint8_t xb[ROWS * 64];
    float xf[ROWS * 64];
    int32_t labels[ROWS];
    float targets[ROWS];
} test_data;

static void make_data(test_data *t, uint64_t seed)
{
    for (size_t i = 0; i < sizeof t->xb; i++) {
        t->xb[i] = (uint8_t)(test_rand_u64(&seed) & 255);
        t->xf[i] = test_rand_float(&seed, -1.0f, 1.0f);
    }
    for (int r = 0; r < ROWS; r++)
        t->targets[r] = test_rand_float(&seed, -1.0f, 1.0f);
}

static nncl_dataset dataset_for(test_data *t, const nncl_net_config *c, bool bytes)
{
    bool classify = c->task == NNCL_TASK_CLASSIFY;
    size_t classes = c->sizes[c->layers];
    for (int r = 0; r < ROWS; r++)
        t->labels[r] = (int32_t)((size_t)r % classes);
    return (nncl_dataset){.rows = ROWS, .cols = c->sizes[0], .x_u8 = bytes ? t->xb : NULL,
                          .x_f32 = bytes ? NULL : t->xf, .labels = classify ? t->labels : NULL,
                          .targets = classify ? NULL : t->targets, .task = c->task,
                          .num_classes = classify ? (int)classes : 0};
}

static nncl_net *make_net(nncl_device *dev, nncl_net_config cfg, uint64_t seed)
{
    nncl_net *net;
    ck_assert_ok(nncl_net_config_resolve(&cfg));
    ck_assert_ok(nncl_net_create(dev, &cfg, ROWS, &net));
    ck_assert_ok(nncl_net_init(net, NNCL_INIT_XAVIER, 0.0f, seed));
    size_t in = cfg.sizes[0];
    float *shift = calloc(in, sizeof *shift), *scale = malloc(in * sizeof *scale);
    for (size_t j = 0; j < in; j++)
        scale[j] = 1.0f / 255.0f;
    ck_assert_ok(nncl_net_set_transform(net, shift, scale));
    free(shift);
    free(scale);
    return net;
}

/* ---- the fusion rules ---------------------------------------------------------
 * Each rule fires exactly where its predicate holds: head_xent for a narrow
 * dense head over a narrow dense layer (not over dropout, not for regression,
 * not when a layer is wider than 16), linear_u8_head for exactly two narrow
 * dense layers on bytes where the device prefers it (a CPU OpenCL device,
 * the host), and the byte-reading first layer otherwise on those devices
 * (a GPU gathers the batch into floats). */
typedef struct rule_case {
    const char *name;
    nncl_net_config cfg;
    bool bytes;
    const char *host_rule;      /* the rule on the host device, or NULL for none */
    const char *cl_cpu_rule;    /* on a CPU OpenCL device */
} rule_case;

START_TEST(fusion_rules_fire_where_their_predicates_hold)
{
    const rule_case cases[] = {
        {"16-10-10 bytes", dense_cfg(NNCL_TASK_CLASSIFY, 16, 10, 0, 10), true, "linear_u8_head", "linear_u8_head"},
        {"16-10-10 floats", dense_cfg(NNCL_TASK_CLASSIFY, 16, 10, 0, 10), false, "head_xent", "head_xent"},
        {"16-17-10: too wide", dense_cfg(NNCL_TASK_CLASSIFY, 16, 17, 0, 10), true, NULL, NULL},
        {"16-10-17: too many classes", dense_cfg(NNCL_TASK_CLASSIFY, 16, 10, 0, 17), false, NULL, NULL},
        {"16-10-1 regression", dense_cfg(NNCL_TASK_REGRESS, 16, 10, 0, 1), true, NULL, NULL},
        {"16-30-10-4 bytes", dense_cfg(NNCL_TASK_CLASSIFY, 16, 30, 10, 4), true, "head_xent", "head_xent"},
        {"dense 10, dropout, dense 4",
         {.n_specs = 3, .in_c = 16, .in_h = 1, .in_w = 1, .act = NNCL_ACT_TANH, .task = NNCL_TASK_CLASSIFY,
          .specs = {DENSE(10), {.kind = NNCL_LAYER_DROPOUT, .rate = 0.5f}, DENSE(4)}},
         false, NULL, NULL},
        {"conv, dense 8, dense 4",
         {.n_specs = 3, .in_c = 1, .in_h = 4, .in_w = 4, .act = NNCL_ACT_TANH, .task = NNCL_TASK_CLASSIFY,
          .specs = {CONV(2, 3), DENSE(8), DENSE(4)}},
         true, "head_xent", "head_xent"},
    };
    nncl_device_list *list = test_devices();
    test_data t;
    make_data(&t, 5);
    for (int d = 0; d < list->count; d++) {
        nncl_device *dev = test_open(d);
        const nncl_device_info *info = nncl_device_get_info(dev);
        bool host = info->backend == NNCL_BACKEND_HOST;
        bool cl_cpu = info->backend == NNCL_BACKEND_OPENCL && info->type == NNCL_DEVICE_CPU;
        for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
            const rule_case *c = &cases[k];
            nncl_net_config cfg = c->cfg;
            ck_assert_ok(nncl_net_config_resolve(&cfg));
            nncl_net *net = make_net(dev, cfg, 1);
            nncl_dataset ds = dataset_for(&t, &cfg, c->bytes);
            nncl_device_data dd;
            ck_assert_ok(nncl_device_data_upload(dev, &ds, &dd));
            ck_assert_ok(nncl_net_load_batch(net, &dd, 0, ROWS));
            char plan[4096];
            ck_assert_ok(nncl_net_describe_plan(net, plan, sizeof plan));
            const char *want = host ? c->host_rule : cl_cpu ? c->cl_cpu_rule : NULL;
            if (host || cl_cpu) {
                char tag[64];
                snprintf(tag, sizeof tag, "fused by rule %s", want ? want : "");
                if (want)
                    ck_assert_msg(strstr(plan, tag), "%s, %s: expected rule %s in\n%s", info->name, c->name, want,
                                  plan);
                else
                    ck_assert_msg(!strstr(plan, "fused by rule"), "%s, %s: no rule expected in\n%s", info->name,
                                  c->name, plan);
            }
            /* bytes are read by the first dense layer on the devices that
             * prefer the byte layers (the host, its nonzero bytes, and CPU
             * OpenCL devices; a GPU gathers floats), but where
             * linear_u8_head reads them for the whole step */
            bool reads = strstr(plan, "reads bytes") != NULL;
            bool want_reads = (host || cl_cpu) && c->bytes && cfg.n_specs == 0 &&
                              !(want && strcmp(want, "linear_u8_head") == 0);
            ck_assert_msg(reads == want_reads, "%s, %s: reads bytes %d, expected %d\n%s", info->name, c->name, reads,
                          want_reads, plan);
            nncl_device_data_free(&dd);
            nncl_net_free(net);
        }
        nncl_device_close(dev);
    }
}
END_TEST

/* ---- fused and unfused steps agree -----------------------------------------------
 * The gradients and the loss of nncl_net_forward_backward (the fused plan)
 * and of nncl_net_forward + nncl_net_loss (every layer on its own), for each
 * case above, on every device. Tolerance: 2e-5 + 1e-3 relative (the fused
 * ops sum rows in chunks, the separate ones in one tree). */
START_TEST(fused_and_unfused_steps_agree)
{
    const nncl_net_config cfgs[] = {
        dense_cfg(NNCL_TASK_CLASSIFY, 16, 10, 0, 10),
        dense_cfg(NNCL_TASK_CLASSIFY, 16, 30, 10, 4),
        {.n_specs = 3, .in_c = 1, .in_h = 4, .in_w = 4, .act = NNCL_ACT_TANH, .task = NNCL_TASK_CLASSIFY,
         .specs = {CONV(2, 3), DENSE(8), DENSE(4)}},
    };
    nncl_device_list *list = test_devices();
    test_data t;
    make_data(&t, 9);
    for (int d = 0; d < list->count; d++) {
        nncl_device *dev = test_open(d);
        for (size_t k = 0; k < sizeof cfgs / sizeof cfgs[0]; k++) {
            for (int bytes = 0; bytes < 2; bytes++) {
                nncl_net_config cfg = cfgs[k];
                ck_assert_ok(nncl_net_config_resolve(&cfg));
                nncl_dataset ds = dataset_for(&t, &cfg, bytes);
                nncl_device_data dd;
                ck_assert_ok(nncl_device_data_upload(dev, &ds, &dd));
                float *g[2];
                double loss[2], correct[2];
                size_t n = 0;
                for (int fused = 0; fused < 2; fused++) {
                    nncl_net *net = make_net(dev, cfg, 3);
                    n = nncl_net_param_count(net);
                    g[fused] = malloc(n * sizeof(float));
                    ck_assert_ok(nncl_net_load_batch(net, &dd, 0, ROWS));
                    if (fused) {
                        ck_assert_ok(nncl_net_forward_backward(net, ROWS, 1, 1));
                    } else {
                        ck_assert_ok(nncl_net_forward(net, ROWS, true, 1, 1));
                        ck_assert_ok(nncl_net_loss(net, ROWS, true, 1, 1));
                    }
                    ck_assert_ok(nncl_net_get_grads(net, g[fused]));
                    ck_assert_ok(nncl_net_acc_read(net, &loss[fused], &correct[fused]));
                    nncl_net_free(net);
                }
                const char *name = nncl_device_get_info(dev)->name;
                ck_assert_msg(fabs(loss[0] - loss[1]) <= 1e-4 + 1e-5 * fabs(loss[0]), "%s, case %zu: loss %.8g vs %.8g",
                              name, k, loss[0], loss[1]);
                ck_assert_msg(correct[0] == correct[1], "%s, case %zu: correct %g vs %g", name, k, correct[0],
                              correct[1]);
                for (size_t i = 0; i < n; i++)
                    ck_assert_msg(fabsf(g[0][i] - g[1][i]) <= 2e-5f + 1e-3f * fabsf(g[0][i]),
                                  "%s, case %zu, bytes %d: gradient %zu: %.8g unfused, %.8g fused", name, k, bytes, i,
                                  (double)g[0][i], (double)g[1][i]);
                free(g[0]);
                free(g[1]);
                nncl_device_data_free(&dd);
            }
        }
        nncl_device_close(dev);
    }
}
END_TEST

/* ---- layer lists that do not fit are refused, saying why ---------------------------- */
START_TEST(layer_lists_that_do_not_fit_are_refused)
{
    const struct {
        const char *layers;
        size_t c, h, w;
        const char *why;
    } cases[] = {
        {"maxpool:5,10", 1, 4, 4, "larger than its 4x4 input"},
        {"conv:2:5:valid,10", 1, 4, 4, "layer 1 (conv:2:5:valid)"},
        {"conv:2:3,maxpool:2,maxpool:2,maxpool:2,10", 1, 4, 4, "layer 4 (maxpool:2)"},
        {"10,maxpool", 1, 4, 4, "maxpool"},
        {"conv:4:3,maxpool:2", 1, 4, 4, "the last layer must be dense"},
        {"conv:2:3:p9,10", 1, 4, 4, "layer 1"},
        {"maxpool:2,10", 16, 1, 1, "larger than its 1x1 input"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        nncl_net_config cfg = {.in_c = cases[k].c, .in_h = cases[k].h, .in_w = cases[k].w,
                               .act = NNCL_ACT_RELU, .task = NNCL_TASK_CLASSIFY};
        nncl_status st = nncl_layers_parse(cases[k].layers, cfg.specs, NNCL_MAX_LAYERS, &cfg.n_specs);
        if (st != NNCL_OK) {    /* refused by the grammar itself */
            ck_assert_msg(strstr(nncl_last_error(), cases[k].why), "%s: %s", cases[k].layers, nncl_last_error());
            continue;
        }
        ck_assert_int_eq(nncl_net_config_resolve(&cfg), NNCL_E_INVALID);
        ck_assert_msg(strstr(nncl_last_error(), cases[k].why), "%s: expected '%s' in: %s", cases[k].layers,
                      cases[k].why, nncl_last_error());
    }
}
END_TEST

/* ---- a convolutional model file round-trips -------------------------------------------
 * Save a CNN's parameters and transform, load them into a new network: the
 * outputs are bit for bit the same, the convolution's weight is
 * [k, c, kh, kw] in the file, and the layer list and input shape survive. */
START_TEST(a_cnn_model_round_trips)
{
    nncl_net_config cfg = {.n_specs = 4, .in_c = 1, .in_h = 4, .in_w = 4, .act = NNCL_ACT_RELU,
                           .task = NNCL_TASK_CLASSIFY,
                           .specs = {CONV(3, 3), {.kind = NNCL_LAYER_MAXPOOL, .kernel = 2}, DENSE(7), DENSE(5)}};
    ck_assert_ok(nncl_net_config_resolve(&cfg));
    nncl_device *dev = test_host_device();
    nncl_net *net = make_net(dev, cfg, 17);
    test_data t;
    make_data(&t, 3);
    nncl_dataset ds = dataset_for(&t, &cfg, true);
    nncl_device_data dd;
    ck_assert_ok(nncl_device_data_upload(dev, &ds, &dd));
    int32_t *order = malloc(ROWS * sizeof *order);
    for (int r = 0; r < ROWS; r++)
        order[r] = r;
    ck_assert_ok(nncl_device_data_set_order(&dd, order));
    float before[ROWS * 5], after[ROWS * 5];
    ck_assert_ok(nncl_net_outputs(net, &dd, before));
    nncl_model m = {0}, back = {0};
    ck_assert_ok(nncl_model_from_net(net, &m));
    char path[] = "/tmp/nncl-test-cnn-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_ok(nncl_model_save(path, &m));
    ck_assert_ok(nncl_model_load(path, &back));
    unlink(path);
    ck_assert_int_eq(back.cfg.n_specs, 4);
    ck_assert_int_eq(back.cfg.specs[0].kind, NNCL_LAYER_CONV2D);
    ck_assert_uint_eq(back.cfg.in_h, 4);
    nncl_tensor_info ti[NNCL_MAX_TENSORS];
    int nt;
    ck_assert_ok(nncl_net_config_tensors(&back.cfg, ti, &nt));
    ck_assert_int_eq(nt, 6);
    ck_assert_str_eq(ti[0].name, "layers.0.weight");
    ck_assert_int_eq(ti[0].ndim, 4);
    ck_assert_uint_eq(ti[0].dims[0], 3);
    ck_assert_uint_eq(ti[0].dims[1], 1);
    ck_assert_uint_eq(ti[0].dims[2], 3);
    ck_assert_str_eq(ti[2].name, "layers.2.weight");     /* the pool has none */
    nncl_net *net2;
    ck_assert_ok(nncl_model_to_net(&back, dev, ROWS, &net2));
    ck_assert_ok(nncl_net_outputs(net2, &dd, after));
    ck_assert_mem_eq(before, after, sizeof before);
    nncl_model_free(&m);
    nncl_model_free(&back);
    free(order);
    nncl_device_data_free(&dd);
    nncl_net_free(net);
    nncl_net_free(net2);
    nncl_device_close(dev);
}
END_TEST

/* ---- every device trains a CNN as the host does -------------------------------------------
 * Ten Adam steps of a small CNN (conv, max and average pooling, dropout, a
 * wide dense layer) on bytes: the parameters stay within 1e-4 + 1e-3
 * relative of the host's on every OpenCL device (float sums in other orders). */
START_TEST(devices_train_a_cnn_as_the_host_does)
{
    nncl_net_config cfg = {.n_specs = 6, .in_c = 1, .in_h = 8, .in_w = 8, .act = NNCL_ACT_RELU,
                           .task = NNCL_TASK_CLASSIFY,
                           .specs = {CONV(4, 3), {.kind = NNCL_LAYER_MAXPOOL, .kernel = 2}, CONV(5, 3),
                                     {.kind = NNCL_LAYER_AVGPOOL, .kernel = 2}, {.kind = NNCL_LAYER_DROPOUT, .rate = 0.2f},
                                     DENSE(3)}};
    ck_assert_ok(nncl_net_config_resolve(&cfg));
    nncl_device_list *list = test_devices();
    test_data t;
    make_data(&t, 21);
    float *ref = NULL;
    size_t n = 0;
    for (int d = list->count - 1; d >= 0; d--) {     /* the host first */
        nncl_device *dev = test_open(d);
        nncl_net *net = make_net(dev, cfg, 4);
        nncl_dataset ds = dataset_for(&t, &cfg, true);
        nncl_device_data dd;
        ck_assert_ok(nncl_device_data_upload(dev, &ds, &dd));
        int32_t order[ROWS];
        for (int r = 0; r < ROWS; r++)
            order[r] = (r * 7) % ROWS;
        ck_assert_ok(nncl_device_data_set_order(&dd, order));
        nncl_optim_config adam = {.kind = NNCL_OPTIM_ADAM, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f};
        for (unsigned long s = 1; s <= 10; s++)
            ck_assert_ok(nncl_net_train_step(net, &dd, 0, ROWS, &adam, 1e-2f, 5, s));
        n = nncl_net_param_count(net);
        float *p = malloc(n * sizeof *p);
        ck_assert_ok(nncl_net_get_params(net, p));
        if (!ref) {
            ref = p;
        } else {
            for (size_t i = 0; i < n; i++)
                ck_assert_msg(fabsf(p[i] - ref[i]) <= 1e-4f + 1e-3f * fabsf(ref[i]), "%s: parameter %zu: %.8g, host %.8g",
                              list->items[d].name, i, (double)p[i], (double)ref[i]);
            free(p);
        }
        nncl_device_data_free(&dd);
        nncl_net_free(net);
        nncl_device_close(dev);
    }
    free(ref);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("layers");
    TCase *tc = tcase_create("layers");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, fusion_rules_fire_where_their_predicates_hold);
    tcase_add_test(tc, fused_and_unfused_steps_agree);
    tcase_add_test(tc, layer_lists_that_do_not_fit_are_refused);
    tcase_add_test(tc, a_cnn_model_round_trips);
    tcase_add_test(tc, devices_train_a_cnn_as_the_host_does);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
