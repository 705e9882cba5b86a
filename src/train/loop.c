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

/* Snapshots: the steps at which to take them, and host copies of the
 * parameters (now and before the step just taken) and the gradients. */
typedef struct snapshots {
    uint64_t *steps;
    size_t count, next;
    float *params, *prev, *grads;
    bool have_prev;             /* prev holds the parameters before step steps[next] */
    float hist_range[NNCL_MAX_LAYERS];
    uint64_t last;              /* the step of the last snapshot taken, or UINT64_MAX */
    /* The accumulator's sums at the last snapshot of this epoch, so that a
     * snapshot's training loss is over the steps since then. */
    double acc0, acc1;
    size_t acc_seen;
} snapshots;

static nncl_status snapshots_init(snapshots *sn, const nncl_net *net, const nncl_train_config *cfg,
                                  uint64_t total_steps)
{
    memset(sn, 0, sizeof *sn);
    sn->last = UINT64_MAX;
    if (cfg->snapshots == 0)
        return NNCL_OK;
    size_t p = nncl_net_param_count(net), n = cfg->snapshots;
    sn->steps = malloc(n * sizeof *sn->steps);
    sn->params = malloc(p * sizeof(float));
    sn->prev = malloc(p * sizeof(float));
    sn->grads = malloc(p * sizeof(float));
    if (!sn->steps || !sn->params || !sn->prev || !sn->grads)
        return nncl_fail(NNCL_E_NOMEM, "out of memory for snapshots of %zu parameters", p);
    sn->count = nncl_snapshot_schedule(n, total_steps, sn->steps);
    return NNCL_OK;
}

static void snapshots_free(snapshots *sn)
{
    free(sn->steps);
    free(sn->params);
    free(sn->prev);
    free(sn->grads);
}

/* Take a snapshot after step t. seen: the rows trained this epoch, whose
 * sums the accumulator holds: the snapshot's training loss and accuracy are
 * the mean over the rows since the epoch's previous snapshot. Or seen is 0,
 * and `done` (the last finished epoch's metrics, or NULL) gives them.
 * after_step: the gradient buffer holds step t's. */
static nncl_status take_snapshot(nncl_net *net, const nncl_train_config *cfg, const nncl_train_hooks *hooks,
                                 snapshots *sn, uint64_t t, double epoch, float lr, size_t seen,
                                 const nncl_epoch_metrics *done, bool after_step, double t0)
{
    nncl_snapshot_info info;
    memset(&info, 0, sizeof info);
    info.step = t;
    info.epoch = (float)epoch;
    info.lr = lr;
    info.train_loss = info.train_accuracy = info.val_loss = info.val_accuracy = NAN;
    nncl_status st = NNCL_OK;
    if (seen > 0) {
        double s0, s1;
        if ((st = nncl_net_acc_read(net, &s0, &s1)) != NNCL_OK)
            return st;
        size_t rows = seen > sn->acc_seen ? seen - sn->acc_seen : 0;
        info.train_loss = rows ? (float)((s0 - sn->acc0) / (double)rows) : NAN;
        info.train_accuracy = rows ? (float)((s1 - sn->acc1) / (double)rows) : NAN;
        sn->acc0 = s0;
        sn->acc1 = s1;
        sn->acc_seen = seen;
    } else if (done) {
        info.train_loss = (float)done->train_loss;
        info.train_accuracy = (float)done->train_accuracy;
    }
    float dead[NNCL_MAX_LAYERS];
    for (int l = 0; l < NNCL_MAX_LAYERS; l++)
        dead[l] = NAN;
    if (cfg->probe && cfg->probe->rows > 0) {
        nncl_eval_result ev;
        if ((st = nncl_net_probe(net, cfg->probe, &ev, dead)) != NNCL_OK)
            return st;
        info.val_loss = (float)ev.loss;
        info.val_accuracy = (float)(nncl_net_get_config(net)->task == NNCL_TASK_CLASSIFY ? ev.accuracy : ev.mae);
    }
    if ((st = nncl_net_get_params(net, sn->params)) != NNCL_OK ||
        (after_step && (st = nncl_net_get_grads(net, sn->grads)) != NNCL_OK))
        return st;
    const nncl_net_config *nc = nncl_net_get_config(net);
    if (sn->last == UINT64_MAX && cfg->hist_range)
        memcpy(sn->hist_range, cfg->hist_range, (size_t)nc->layers * sizeof(float));
    else if (sn->last == UINT64_MAX)
        nncl_snapshot_hist_range(nc, sn->params, sn->hist_range);
    nncl_snapshot_stats(nc, sn->params, after_step && sn->have_prev ? sn->prev : NULL,
                        after_step ? sn->grads : NULL, sn->hist_range, &info);
    for (int l = 0; l < nc->layers; l++)
        info.layer[l].dead_fraction = dead[l];
    info.seconds = (float)(nncl_seconds_now() - t0);
    sn->last = t;
    sn->have_prev = false;
    while (sn->next < sn->count && sn->steps[sn->next] <= t)
        sn->next++;
    return hooks->on_snapshot(hooks->ctx, &info, sn->params);
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

    snapshots sn = {.last = UINT64_MAX};
    if (st == NNCL_OK && hooks->on_snapshot)
        st = snapshots_init(&sn, net, cfg, (uint64_t)cfg->epochs * steps_per_epoch);
    const double t0 = nncl_seconds_now();
    unsigned long t = 0;
    if (st == NNCL_OK && sn.count > 0 && sn.steps[0] == 0)
        st = take_snapshot(net, cfg, hooks, &sn, 0, 0.0, nncl_schedule_lr(&cfg->schedule, 0.0, cfg->epochs), 0,
                           NULL, false, t0);
    int since_best = 0;
    bool have_best = false;
    /* Where training stopped, for a last snapshot there. */
    double progress = 0;
    float last_lr = nncl_schedule_lr(&cfg->schedule, 0.0, cfg->epochs);
    size_t epoch_seen = 0;
    nncl_epoch_metrics last_m = {0};
    result->status = NNCL_RUN_OK;
    for (int epoch = 0; epoch < cfg->epochs && st == NNCL_OK; epoch++) {
        double e0 = nncl_seconds_now();
        if (cfg->shuffle) {
            shuffle(&rng, order, n);
            st = nncl_device_data_set_order(train, order);
        }
        if (st == NNCL_OK)
            st = nncl_net_acc_reset(net);
        sn.acc0 = sn.acc1 = 0;
        sn.acc_seen = 0;
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
            bool snap = sn.next < sn.count && sn.steps[sn.next] == t;
            if (snap && (st = nncl_net_get_params(net, sn.prev)) != NNCL_OK)
                break;
            sn.have_prev = snap;
            st = nncl_net_train_step(net, train, first, rows, &cfg->optim, lr, cfg->seed, t);
            seen += rows;
            if (st == NNCL_OK && snap)
                st = take_snapshot(net, cfg, hooks, &sn, t, epoch + (double)(s + 1) / (double)steps_per_epoch, lr,
                                   seen, NULL, true, t0);
            progress = epoch + (double)(s + 1) / (double)steps_per_epoch;
            last_lr = lr;
            epoch_seen = seen;
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
        /* The evaluation used the accumulator: the epoch's sums are in m now. */
        epoch_seen = 0;
        last_m = m;
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
    /* Training stopped before the last scheduled snapshot (early stopping,
     * Ctrl-C, divergence): one more where it stopped. */
    if (st == NNCL_OK && sn.count > 0 && sn.last != t)
        st = take_snapshot(net, cfg, hooks, &sn, t, progress, last_lr, epoch_seen, last_m.epoch ? &last_m : NULL,
                           t > 0, t0);
    snapshots_free(&sn);
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
