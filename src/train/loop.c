/* The training loop: epochs of shuffled mini-batches, each step entirely on
 * the device; metrics read back once per epoch. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nncl/train.h"
#include "util/clock.h"

static nncl_status validate(const nncl_net *net, const nncl_train_config *cfg,
                            const nncl_device_data *train, const nncl_device_data *val)
{
    if (cfg->batch == 0 || cfg->batch > nncl_net_max_batch(net))
        return nncl_fail(NNCL_E_INVALID, "batch %zu: must be 1..%zu (the network's largest batch)",
                         cfg->batch, nncl_net_max_batch(net));
    if (cfg->epochs < 1)
        return nncl_fail(NNCL_E_INVALID, "epochs must be at least 1");
    if (!train->has_y || (val && !val->has_y))
        return nncl_fail(NNCL_E_INVALID, "training needs labels or targets");
    if (train->rows == 0)
        return nncl_fail(NNCL_E_INVALID, "the training set has no rows");
    return NNCL_OK;
}

/* Fisher-Yates on int32 rows, from the loop's own generator. */
static void shuffle(nncl_rng *r, int32_t *order, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)nncl_rng_below(r, i);
        int32_t t = order[i - 1];
        order[i - 1] = order[j];
        order[j] = t;
    }
}

nncl_status nncl_train(nncl_net *net, const nncl_train_config *cfg, nncl_device_data *train,
                       nncl_device_data *val, const nncl_train_hooks *hooks,
                       nncl_train_result *result)
{
    memset(result, 0, sizeof *result);
    result->status = NNCL_RUN_FAILED;
    result->best_val_loss = INFINITY;
    result->best_val_accuracy = NAN;
    nncl_status st = validate(net, cfg, train, val);
    if (st != NNCL_OK)
        return st;
    static const nncl_train_hooks no_hooks = {0};
    if (!hooks)
        hooks = &no_hooks;

    const size_t n = train->rows;
    const size_t batch = cfg->batch < n ? cfg->batch : n;
    const size_t steps_per_epoch = (n + batch - 1) / batch;
    int32_t *order = malloc(n * sizeof *order);
    if (!order)
        return nncl_fail(NNCL_E_NOMEM, "out of memory for the row order");
    for (size_t i = 0; i < n; i++)
        order[i] = (int32_t)i;
    nncl_rng rng;
    nncl_rng_seed(&rng, cfg->seed ^ 0x5eed0fda7aULL);
    if (!cfg->shuffle)
        st = nncl_device_data_set_order(train, order);

    const double t0 = nncl_seconds_now();
    unsigned long t = 0;
    int since_best = 0;
    bool have_best = false;
    result->status = NNCL_RUN_OK;
    for (int epoch = 0; epoch < cfg->epochs && st == NNCL_OK; epoch++) {
        double e0 = nncl_seconds_now();
        if (cfg->shuffle) {
            shuffle(&rng, order, n);
            st = nncl_device_data_set_order(train, order);
        }
        if (st == NNCL_OK)
            st = nncl_net_acc_reset(net);
        float lr = 0;
        size_t seen = 0;
        for (size_t s = 0; s < steps_per_epoch && st == NNCL_OK; s++) {
            if (hooks->stop && *hooks->stop) {
                result->status = NNCL_RUN_INTERRUPTED;
                break;
            }
            size_t first = s * batch, rows = n - first < batch ? n - first : batch;
            lr = nncl_schedule_lr(&cfg->schedule, epoch + (double)s / (double)steps_per_epoch, cfg->epochs);
            t++;
            st = nncl_net_train_step(net, train, first, rows, &cfg->optim, lr, cfg->seed, t);
            seen += rows;
            if (st == NNCL_OK && hooks->on_progress && cfg->progress_every &&
                (s + 1) % cfg->progress_every == 0 && s + 1 < steps_per_epoch) {
                double s0, s1;
                st = nncl_net_acc_read(net, &s0, &s1);
                if (st == NNCL_OK)
                    hooks->on_progress(hooks->ctx, epoch + 1, s + 1, steps_per_epoch, s0 / (double)seen,
                                       s1 / (double)seen);
            }
        }
        if (st != NNCL_OK || result->status == NNCL_RUN_INTERRUPTED)
            break;

        nncl_epoch_metrics m = {.epoch = epoch + 1, .step = t, .lr = lr};
        double s0, s1;
        if ((st = nncl_net_acc_read(net, &s0, &s1)) != NNCL_OK)
            break;
        m.train_loss = s0 / (double)seen;
        m.train_accuracy = s1 / (double)seen;
        double train_seconds = nncl_seconds_now() - e0;
        m.samples_per_second = (double)seen / (train_seconds > 0 ? train_seconds : 1e-9);
        m.val_loss = m.val_accuracy = NAN;
        bool eval_now = val && (cfg->eval_every <= 1 || (epoch + 1) % cfg->eval_every == 0 ||
                                epoch + 1 == cfg->epochs);
        if (eval_now) {
            nncl_eval_result ev;
            if ((st = nncl_net_evaluate(net, val, NULL, NULL, &ev)) != NNCL_OK)
                break;
            m.val_loss = ev.loss;
            m.val_accuracy = nncl_net_get_config(net)->task == NNCL_TASK_CLASSIFY ? ev.accuracy : ev.mae;
        }
        m.seconds = nncl_seconds_now() - t0;
        result->epochs = epoch + 1;
        result->steps = t;
        if (!isfinite(m.train_loss) || (eval_now && !isfinite(m.val_loss))) {
            result->status = NNCL_RUN_DIVERGED;
            if (hooks->on_epoch)
                st = hooks->on_epoch(hooks->ctx, &m);
            break;
        }
        if (eval_now && m.val_loss < result->best_val_loss) {
            result->best_val_loss = m.val_loss;
            result->best_val_accuracy = m.val_accuracy;
            result->best_epoch = epoch + 1;
            since_best = 0;
            if (cfg->early_stop > 0) {
                st = nncl_net_snapshot(net);
                have_best = true;
            }
        } else if (eval_now) {
            since_best += cfg->eval_every > 1 ? cfg->eval_every : 1;
        }
        if (st == NNCL_OK && hooks->on_epoch)
            st = hooks->on_epoch(hooks->ctx, &m);
        if (cfg->early_stop > 0 && val && since_best >= cfg->early_stop)
            break;
    }
    /* Early stopping keeps the best epoch's weights, not the last. */
    if (st == NNCL_OK && have_best && result->status == NNCL_RUN_OK && result->best_epoch != result->epochs)
        st = nncl_net_restore(net);
    if (st == NNCL_OK)
        st = nncl_device_finish(nncl_net_device(net));
    result->seconds = nncl_seconds_now() - t0;
    result->samples_per_second = result->seconds > 0 ? (double)result->epochs * (double)n / result->seconds : 0;
    free(order);
    if (st != NNCL_OK)
        result->status = NNCL_RUN_FAILED;
    return st;
}
