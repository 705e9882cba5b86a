/* `nncl check`: a short training run, through the same loop as `nncl
 * train`, on the device and on host; its losses compared, and two runs on
 * one device compared bit for bit.
 *
 * The data is made in memory from the seed: 7x7 byte "images" of 5 classes
 * (a random template per class plus noise), so the first layer reads bytes
 * (linear_u8_fwd on OpenCL, gather and gemm on host), a second hidden layer
 * is a gemm with its activation, and the narrow output layer is head_xent.
 * Adam with a cosine schedule, batches of 37 rows (the last one short),
 * reshuffled every epoch, a validation set evaluated after each.
 *
 * The CNN form (train-cnn) trains conv:6:3, maxpool:2, batchnorm, dense 12
 * and the output on the same pictures: convolution, pooling and batch
 * normalisation forward and backward, and head_xent over them.
 *
 * Tolerance, device against host: every epoch's train and validation loss
 * within 1e-4 + 1e-3 relative. Float sums in another order change the
 * parameters by ~1e-6 relative per step; over a few hundred steps of Adam
 * the losses move apart by ~1e-5, while a wrong gradient or optimiser step
 * changes them by percents. Determinism: the same run twice on one device
 * gives the same bits, parameters and losses both. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/check.h"
#include "nncl/train.h"

enum { SIDE = 7, COLS = SIDE * SIDE, CLASSES = 5, EPOCHS = 3, BATCH = 37 };

static size_t train_rows(bool quick) { return quick ? 400 : 1500; }
static size_t val_rows(bool quick) { return quick ? 100 : 300; }

void check_train_describe(bool quick, bool cnn, char *buf, size_t n)
{
    if (cnn)
        snprintf(buf, n, "%zu rows %dx%d, conv:6:3,maxpool:2,batchnorm,12,%d, adam, batch %d, %d epochs",
                 train_rows(quick), SIDE, SIDE, CLASSES, BATCH, EPOCHS);
    else
        snprintf(buf, n, "%zu rows %d-24-12-%d, adam, batch %d, %d epochs", train_rows(quick), COLS, CLASSES,
                 BATCH, EPOCHS);
}

/* The CNN form's network: every spatial layer kind but average pooling. */
static nncl_status cnn_config(nncl_net_config *cfg)
{
    *cfg = (nncl_net_config){.n_specs = 5, .in_c = 1, .in_h = SIDE, .in_w = SIDE, .act = NNCL_ACT_TANH,
                             .task = NNCL_TASK_CLASSIFY};
    cfg->specs[0] = (nncl_layer_spec){.kind = NNCL_LAYER_CONV2D, .units = 6, .kernel = 3, .stride = 1, .padding = -1};
    cfg->specs[1] = (nncl_layer_spec){.kind = NNCL_LAYER_MAXPOOL, .kernel = 2};
    cfg->specs[2] = (nncl_layer_spec){.kind = NNCL_LAYER_BATCHNORM};
    cfg->specs[3] = (nncl_layer_spec){.kind = NNCL_LAYER_DENSE, .units = 12};
    cfg->specs[4] = (nncl_layer_spec){.kind = NNCL_LAYER_DENSE, .units = CLASSES};
    return nncl_net_config_resolve(cfg);
}

void check_train_run_free(check_train_run *run)
{
    free(run->losses);
    free(run->params);
    memset(run, 0, sizeof *run);
}

/* rows of the class templates plus noise, labels evenly spread */
static nncl_status make_data(nncl_rng *rng, const uint8_t *templates, size_t rows, nncl_dataset *ds)
{
    *ds = (nncl_dataset){.rows = rows, .cols = COLS, .task = NNCL_TASK_CLASSIFY, .num_classes = CLASSES,
                         .image_h = SIDE, .image_w = SIDE};
    ds->x_u8 = malloc(rows * COLS);
    ds->labels = malloc(rows * sizeof *ds->labels);
    if (!ds->x_u8 || !ds->labels)
        return check_nomem();
    for (size_t r = 0; r < rows; r++) {
        int k = (int)nncl_rng_below(rng, CLASSES);
        ds->labels[r] = k;
        for (size_t j = 0; j < COLS; j++) {
            int v = templates[k * COLS + j] + (int)nncl_rng_below(rng, 161) - 80;
            ds->x_u8[r * COLS + j] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
    }
    return NNCL_OK;
}

typedef struct epoch_log {
    double *losses;
    size_t n;
} epoch_log;

static nncl_status on_epoch(void *ctx, const nncl_epoch_metrics *m)
{
    epoch_log *log = ctx;
    if (log->n + 2 <= 2 * EPOCHS) {
        log->losses[log->n++] = m->train_loss;
        log->losses[log->n++] = m->val_loss;
    }
    return NNCL_OK;
}

static nncl_status train(nncl_device *dev, uint64_t seed, bool quick, bool cnn, check_train_run *out,
                         nncl_dataset *tr, nncl_dataset *va)
{
    nncl_rng rng;
    nncl_rng_seed(&rng, seed);
    uint8_t templates[CLASSES * COLS];
    for (size_t i = 0; i < sizeof templates; i++)
        templates[i] = (uint8_t)(nncl_rng_next(&rng) >> 56);
    nncl_status st = make_data(&rng, templates, train_rows(quick), tr);
    if (st == NNCL_OK)
        st = make_data(&rng, templates, val_rows(quick), va);
    float shift[COLS], scale[COLS];
    if (st == NNCL_OK)
        st = nncl_dataset_feature_transform(tr, shift, scale);
    nncl_net_config cfg = {.layers = 3, .sizes = {COLS, 24, 12, CLASSES}, .act = NNCL_ACT_TANH,
                           .task = NNCL_TASK_CLASSIFY};
    if (st == NNCL_OK && cnn)
        st = cnn_config(&cfg);
    nncl_train_config tc = {
        .batch = BATCH, .epochs = EPOCHS, .seed = seed, .shuffle = true,
        .schedule = {.kind = NNCL_SCHEDULE_COSINE, .lr = 0.01f},
        .optim = {.kind = NNCL_OPTIM_ADAM, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f},
    };
    nncl_net *net = NULL;
    nncl_device_data dt = {0}, dv = {0};
    out->losses = calloc(2 * EPOCHS, sizeof *out->losses);
    epoch_log log = {out->losses, 0};
    nncl_train_hooks hooks = {.ctx = &log, .on_epoch = on_epoch};
    nncl_train_result res;
    if (st == NNCL_OK && !out->losses)
        st = check_nomem();
    if (st == NNCL_OK)
        st = nncl_net_create(dev, &cfg, BATCH, &net);
    if (st == NNCL_OK)
        st = nncl_net_init(net, NNCL_INIT_HE, 0, seed);
    if (st == NNCL_OK)
        st = nncl_net_set_transform(net, shift, scale);
    if (st == NNCL_OK)
        st = nncl_device_data_upload(dev, tr, &dt);
    if (st == NNCL_OK)
        st = nncl_device_data_upload(dev, va, &dv);
    if (st == NNCL_OK)
        st = nncl_train(net, &tc, &dt, &dv, &hooks, &res);
    if (st == NNCL_OK && res.status != NNCL_RUN_OK)
        st = nncl_fail(NNCL_E_DEVICE, "training ended %s after %d epochs", nncl_run_status_name(res.status),
                       res.epochs);
    if (st == NNCL_OK && log.n != 2 * EPOCHS)
        st = nncl_fail(NNCL_E_DEVICE, "training reported %zu epochs of %d", log.n / 2, EPOCHS);
    if (st == NNCL_OK) {
        out->n_losses = log.n;
        out->n_params = nncl_net_param_count(net);
        out->params = malloc(out->n_params * sizeof *out->params);
        st = out->params ? nncl_net_get_params(net, out->params) : check_nomem();
    }
    nncl_device_data_free(&dt);
    nncl_device_data_free(&dv);
    nncl_net_free(net);
    return st;
}

nncl_status check_train_once(nncl_device *dev, uint64_t seed, bool quick, bool cnn, check_train_run *out)
{
    memset(out, 0, sizeof *out);
    nncl_dataset tr = {0}, va = {0};
    out->st = train(dev, seed, quick, cnn, out, &tr, &va);
    nncl_dataset_free(&tr);
    nncl_dataset_free(&va);
    out->done = true;
    if (out->st != NNCL_OK)
        snprintf(out->err, sizeof out->err, "%s", nncl_last_error());
    return out->st == NNCL_E_NOMEM ? out->st : NNCL_OK;
}

static bool runs_ok(check_row *r, const check_train_run *run, const check_train_run *other, const char *other_name)
{
    if (run->st != NNCL_OK)
        check_row_error(r, "training on the device: %s", run->err);
    else if (other->st != NNCL_OK)
        check_row_error(r, "training on %s: %s", other_name, other->err);
    return run->st == NNCL_OK && other->st == NNCL_OK;
}

nncl_status check_train_vs_host(check_ctx *c, check_row *r, const check_train_run *run,
                                const check_train_run *reference)
{
    if (runs_ok(r, run, reference, "host (the oracle)"))
        check_compare_d(c, r, "losses", run->losses, reference->losses, run->n_losses, 1e-4, 1e-3);
    return NNCL_OK;
}

nncl_status check_determinism(check_ctx *c, check_row *r, const check_train_run *first,
                              const check_train_run *second)
{
    if (!runs_ok(r, second, first, "the device (first run)"))
        return NNCL_OK;
    /* as numbers first (for the size of a difference), then as bits */
    check_compare(c, r, "parameters", second->params, first->params, first->n_params, 0, 0);
    check_compare_d(c, r, "losses", second->losses, first->losses, first->n_losses, 0, 0);
    if (r->bad == 0) {
        check_compare_bits(c, r, "parameter bits", second->params, first->params, first->n_params * sizeof(float));
        check_compare_bits(c, r, "loss bits", second->losses, first->losses, first->n_losses * sizeof(double));
    }
    return NNCL_OK;
}
