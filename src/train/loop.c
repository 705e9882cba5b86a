/* The training loop: epochs of shuffled mini-batches, each step entirely on
 * the device; metrics read back once per epoch. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nncl/train.h"
#include "train/data_parallel.h"
#include "train/divergence.h"
#include "train/step_window.h"
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
    /* The parameters before a snapshot's step, copied on the device (a read
     * then would wait for the queue: one more sync per snapshot). */
    nncl_buffer *prev_dev;
    bool have_prev;             /* prev_dev holds the parameters before step steps[next] */
    float hist_range[NNCL_MAX_LAYERS];
    uint64_t last;              /* the step of the last snapshot taken, or UINT64_MAX */
    size_t taken;               /* snapshots taken (on_snapshot calls) */
    /* The accumulator's sums at the last snapshot of this epoch, so that a
     * snapshot's training loss is over the steps since then. */
    double acc0, acc1;
    size_t acc_seen;
    /* A snapshot read from the device but not yet recorded: its statistics
     * and writing wait until the next step is queued, so the host works
     * while the device does (record_snapshot). */
    bool pending, pending_prev, pending_grads;
    nncl_snapshot_info info;
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
    nncl_status st = nncl_buffer_alloc(nncl_net_device(net), p * sizeof(float), &sn->prev_dev);
    if (st != NNCL_OK)
        return st;
    sn->count = nncl_snapshot_schedule(n, total_steps, sn->steps);
    return NNCL_OK;
}

static void snapshots_free(snapshots *sn)
{
    free(sn->steps);
    free(sn->params);
    free(sn->prev);
    free(sn->grads);
    nncl_buffer_free(sn->prev_dev);
}

/* The statistics and the record of the snapshot read last (sn->info and
 * the host copies): after that, nothing of it is pending. */
static nncl_status record_snapshot(const nncl_net *net, const nncl_train_config *cfg, const nncl_train_hooks *hooks,
                                   snapshots *sn)
{
    if (!sn->pending)
        return NNCL_OK;
    sn->pending = false;
    const nncl_net_config *nc = nncl_net_get_config(net);
    if (sn->taken == 1 && cfg->hist_range)
        memcpy(sn->hist_range, cfg->hist_range, (size_t)nc->layers * sizeof(float));
    else if (sn->taken == 1)
        nncl_snapshot_hist_range(nc, sn->params, sn->hist_range);
    nncl_snapshot_stats(nc, sn->params, sn->pending_prev ? sn->prev : NULL, sn->pending_grads ? sn->grads : NULL,
                        sn->hist_range, &sn->info);
    return hooks->on_snapshot(hooks->ctx, &sn->info, sn->params);
}

/* The factors that turn the accumulator's training loss and MAE (over the
 * standardised targets a regression trains on) into the target's units,
 * as the evaluations report them; 1 for classification. */
static void metric_units(const nncl_net *net, double *loss_unit, double *mae_unit)
{
    *loss_unit = *mae_unit = 1.0;
    if (nncl_net_get_config(net)->task == NNCL_TASK_CLASSIFY)
        return;
    float shift, scale;
    nncl_net_get_target_transform(net, &shift, &scale);
    *mae_unit = 1.0 / (double)scale;
    *loss_unit = *mae_unit * *mae_unit;
}

/* Take a snapshot after step t: read what it needs from the device now
 * (the training loss, the probe, the parameters), and record it now, or,
 * with defer, at the next record_snapshot. seen: the rows trained this
 * epoch, whose sums the accumulator holds: the snapshot's training loss and
 * accuracy are the mean over the rows since the epoch's previous snapshot.
 * Or seen is 0, and `done` (the last finished epoch's metrics, or NULL)
 * gives them. after_step: the gradient buffer holds step t's. */
static nncl_status take_snapshot(nncl_net *net, const nncl_train_config *cfg, const nncl_train_hooks *hooks,
                                 data_parallel *dp, snapshots *sn, uint64_t t, double epoch, float lr, size_t seen,
                                 const nncl_epoch_metrics *done, bool after_step, double t0, bool defer)
{
    nncl_status st = record_snapshot(net, cfg, hooks, sn);
    if (st != NNCL_OK)
        return st;
    nncl_snapshot_info *info = &sn->info;
    memset(info, 0, sizeof *info);
    info->step = t;
    info->epoch = (float)epoch;
    info->lr = lr;
    info->train_loss = info->train_accuracy = info->val_loss = info->val_accuracy = NAN;
    if (seen > 0) {
        double s0, s1;
        if ((st = dp_acc_read(dp, net, &s0, &s1)) != NNCL_OK)
            return st;
        size_t rows = seen > sn->acc_seen ? seen - sn->acc_seen : 0;
        double lu, mu;
        metric_units(net, &lu, &mu);
        info->train_loss = rows ? (float)((s0 - sn->acc0) / (double)rows * lu) : NAN;
        info->train_accuracy = rows ? (float)((s1 - sn->acc1) / (double)rows * mu) : NAN;
        sn->acc0 = s0;
        sn->acc1 = s1;
        sn->acc_seen = seen;
    } else if (done) {
        info->train_loss = (float)done->train_loss;
        info->train_accuracy = (float)done->train_accuracy;
    }
    const nncl_net_config *nc = nncl_net_get_config(net);
    float dead[NNCL_MAX_LAYERS];
    for (int l = 0; l < NNCL_MAX_LAYERS; l++)
        dead[l] = NAN;
    if (cfg->probe && cfg->probe->rows > 0) {
        nncl_eval_result ev;
        if ((st = nncl_net_probe(net, cfg->probe, &ev, dead)) != NNCL_OK)
            return st;
        info->val_loss = (float)ev.loss;
        info->val_accuracy = (float)(nc->task == NNCL_TASK_CLASSIFY ? ev.accuracy : ev.mae);
    }
    /* nncl_snapshot_stats leaves dead_fraction as it is */
    for (int l = 0; l < nc->layers; l++)
        info->layer[l].dead_fraction = dead[l];
    sn->pending_prev = after_step && sn->have_prev;
    sn->pending_grads = after_step;
    if ((st = nncl_net_get_params(net, sn->params)) != NNCL_OK ||
        (after_step && (st = nncl_net_get_grads(net, sn->grads)) != NNCL_OK) ||
        (sn->pending_prev &&
         (st = nncl_buffer_read(sn->prev_dev, 0, sn->prev, nncl_buffer_size(sn->prev_dev))) != NNCL_OK))
        return st;
    info->seconds = (float)(nncl_seconds_now() - t0);
    sn->last = t;
    sn->taken++;
    sn->have_prev = false;
    while (sn->next < sn->count && sn->steps[sn->next] <= t)
        sn->next++;
    sn->pending = true;
    return defer ? NNCL_OK : record_snapshot(net, cfg, hooks, sn);
}

/* A state to continue from must belong to this run and be whole: its row
 * order a permutation (the device reads rows through it), its counters
 * consistent with the batch. */
static nncl_status validate_resume(const nncl_train_state *r, const nncl_train_config *cfg, const nncl_net *net,
                                   size_t n, size_t batch, size_t steps_per_epoch, bool has_val)
{
    if (r->rows != n || r->batch != batch || r->seed != cfg->seed)
        return nncl_fail(NNCL_E_INVALID,
                         "the state to resume is of a run of %zu rows in batches of %zu with seed %llu, "
                         "not %zu rows in batches of %zu with seed %llu",
                         r->rows, r->batch, (unsigned long long)r->seed, n, batch, (unsigned long long)cfg->seed);
    if (r->epochs_done < 0 || r->epochs_done > cfg->epochs || (r->in_epoch && r->epochs_done >= cfg->epochs))
        return nncl_fail(NNCL_E_INVALID, "the state to resume is %s epoch %d, beyond a run of %d epochs",
                         r->in_epoch ? "inside" : "after", r->epochs_done + (r->in_epoch ? 1 : 0), cfg->epochs);
    size_t s = r->in_epoch ? r->step_in_epoch : 0;
    if (s >= steps_per_epoch || r->seen != s * batch ||
        r->step != (uint64_t)r->epochs_done * steps_per_epoch + s)
        return nncl_fail(NNCL_E_INVALID,
                         "the state to resume is inconsistent: step %llu, %zu steps and %zu rows into epoch %d, "
                         "with %zu steps per epoch",
                         (unsigned long long)r->step, r->step_in_epoch, r->seen, r->epochs_done + 1, steps_per_epoch);
    if (!r->order || (r->epochs_done > 0 && !r->history))
        return nncl_fail(NNCL_E_INVALID, "the state to resume has no row order or no history");
    if (r->have_best && (cfg->early_stop <= 0 || !has_val || r->best_epoch < 1))
        return nncl_fail(NNCL_E_INVALID, "the state to resume keeps best weights, but this run does not stop early");
    if (r->snapshots > 0 && cfg->snapshots > 0) {
        for (int l = 0; l < nncl_net_get_config(net)->layers; l++)
            if (!(r->hist_range[l] > 0) || !isfinite(r->hist_range[l]))
                return nncl_fail(NNCL_E_INVALID, "the state to resume has no histogram range for layer %d", l + 1);
    }
    unsigned char *hit = calloc(n, 1);
    if (!hit)
        return nncl_fail(NNCL_E_NOMEM, "out of memory checking the row order");
    size_t i = 0;
    for (; i < n; i++) {
        int32_t k = r->order[i];
        if (k < 0 || (size_t)k >= n || hit[k])
            break;
        hit[k] = 1;
    }
    free(hit);
    if (i < n)
        return nncl_fail(NNCL_E_INVALID, "the state to resume has a row order that is not a permutation of %zu rows "
                                         "(entry %zu)", n, i);
    return NNCL_OK;
}

/* The loop's variables that a checkpoint records, gathered in one place. */
typedef struct loop_vars {
    nncl_rng rng;
    int32_t *order;
    unsigned long t;
    double progress;
    float last_lr;
    double t0;
    int since_best;
    bool have_best;
    nncl_epoch_metrics *history;
    size_t history_len, history_cap;
} loop_vars;

static nncl_status history_add(loop_vars *v, const nncl_epoch_metrics *m)
{
    if (v->history_len == v->history_cap) {
        size_t cap = v->history_cap ? 2 * v->history_cap : 16;
        nncl_epoch_metrics *h = realloc(v->history, cap * sizeof *h);
        if (!h)
            return nncl_fail(NNCL_E_NOMEM, "out of memory for the metrics of %zu epochs", cap);
        v->history = h;
        v->history_cap = cap;
    }
    v->history[v->history_len++] = *m;
    return NNCL_OK;
}

/* Hand the loop's state to on_checkpoint: after `epochs_done` epochs, or
 * (in_epoch) `s` steps and `seen` rows into the next one. */
static nncl_status checkpoint(nncl_net *net, const nncl_train_config *cfg, const nncl_train_hooks *hooks,
                              data_parallel *dp, const loop_vars *v, const snapshots *sn, const nncl_train_result *result, size_t n,
                              size_t batch, int epochs_done, bool in_epoch, size_t s, size_t seen)
{
    nncl_train_state state;
    memset(&state, 0, sizeof state);
    state.rows = n;
    state.batch = batch;
    state.seed = cfg->seed;
    state.epochs = cfg->epochs;
    state.epochs_done = epochs_done;
    state.in_epoch = in_epoch;
    state.step_in_epoch = in_epoch ? s : 0;
    state.seen = in_epoch ? seen : 0;
    state.step = v->t;
    state.rng = v->rng.state;
    state.order = v->order;
    if (in_epoch) {
        double s0, s1;
        nncl_status st = dp_acc_read(dp, net, &s0, &s1);
        if (st != NNCL_OK)
            return st;
        state.acc[0] = (float)s0;   /* read from floats: exact */
        state.acc[1] = (float)s1;
        state.snap_acc[0] = sn->acc0;
        state.snap_acc[1] = sn->acc1;
        state.snap_seen = sn->acc_seen;
    }
    state.progress = v->progress;
    state.last_lr = v->last_lr;
    state.seconds = nncl_seconds_now() - v->t0;
    state.best_epoch = result->best_epoch;
    state.best_val_loss = result->best_val_loss;
    state.best_val_accuracy = result->best_val_accuracy;
    state.since_best = v->since_best;
    state.have_best = v->have_best;
    state.snapshots = sn->taken;
    state.last_snapshot = sn->last;
    if (sn->last != UINT64_MAX)
        memcpy(state.hist_range, sn->hist_range, sizeof state.hist_range);
    state.history = v->history;
    return hooks->on_checkpoint(hooks->ctx, net, &state);
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
    const nncl_train_state *from = cfg->resume;
    if (from && (st = validate_resume(from, cfg, net, n, batch, steps_per_epoch, val != NULL)) != NNCL_OK)
        return st;
    data_parallel dp;
    if ((st = dp_init(&dp, cfg->comm, net)) != NNCL_OK)
        return st;
    loop_vars v = {0};
    v.order = malloc(n * sizeof *v.order);
    if (!v.order) {
        dp_free(&dp);
        return nncl_fail(NNCL_E_NOMEM, "out of memory for the row order");
    }
    /* Every rank starts from rank 0's weights (and, resuming, optimiser state). */
    st = dp_start(&dp, net, from != NULL);
    if (from) {
        memcpy(v.order, from->order, n * sizeof *v.order);
        v.rng.state = from->rng;
        for (int e = 0; e < from->epochs_done && st == NNCL_OK; e++)
            st = history_add(&v, &from->history[e]);
    } else {
        for (size_t i = 0; i < n; i++)
            v.order[i] = (int32_t)i;
        nncl_rng_seed(&v.rng, cfg->seed ^ 0x5eed0fda7aULL);
    }
    /* The order is written once without shuffling, and an epoch resumed
     * inside continues in its own order. */
    if (st == NNCL_OK && (!cfg->shuffle || (from && from->in_epoch)))
        st = nncl_device_data_set_order(train, v.order);

    snapshots sn = {.last = UINT64_MAX};
    step_window win;
    step_window_init(&win);
    divergence_watch dw;
    if (st == NNCL_OK)
        st = divergence_watch_init(&dw, net);
    double loss_unit, mae_unit;
    metric_units(net, &loss_unit, &mae_unit);
    if (st == NNCL_OK && hooks->on_snapshot)
        st = snapshots_init(&sn, net, cfg, (uint64_t)cfg->epochs * steps_per_epoch);
    v.t0 = nncl_seconds_now() - (from ? from->seconds : 0.0);
    v.t = from ? (unsigned long)from->step : 0;
    /* Where training stopped, for a last snapshot there. */
    v.progress = from ? from->progress : 0;
    v.last_lr = from ? from->last_lr : nncl_schedule_lr(&cfg->schedule, 0.0, cfg->epochs);
    if (from) {
        sn.last = from->last_snapshot;
        sn.taken = from->snapshots;
        if (sn.last != UINT64_MAX)
            memcpy(sn.hist_range, from->hist_range, sizeof sn.hist_range);
        while (sn.next < sn.count && sn.steps[sn.next] <= v.t)
            sn.next++;
        v.since_best = from->since_best;
        v.have_best = from->have_best;
        result->best_epoch = from->best_epoch;
        result->best_val_loss = from->best_val_loss;
        result->best_val_accuracy = from->best_val_accuracy;
        result->epochs = from->epochs_done;
        result->steps = v.t;
    } else if (st == NNCL_OK && sn.count > 0 && sn.steps[0] == 0) {
        st = take_snapshot(net, cfg, hooks, &dp, &sn, 0, 0.0, v.last_lr, 0, NULL, false, v.t0, true);
    }
    size_t epoch_seen = from && from->in_epoch ? from->seen : 0;
    /* The gradient buffer holds step t's gradients (not after resuming,
     * until the first step). */
    bool stepped = false;
    nncl_epoch_metrics last_m = v.history_len ? v.history[v.history_len - 1] : (nncl_epoch_metrics){0};
    const bool stops_early = cfg->early_stop > 0 && val;
    /* A run that had already stopped early stays stopped. */
    bool stopped = from && !from->in_epoch && stops_early && v.since_best >= cfg->early_stop;
    result->status = NNCL_RUN_OK;
    for (int epoch = from ? from->epochs_done : 0; epoch < cfg->epochs && st == NNCL_OK && !stopped; epoch++) {
        double e0 = nncl_seconds_now();
        const bool resumed = from && from->in_epoch && epoch == from->epochs_done;
        size_t seen = resumed ? from->seen : 0, seen0 = seen;
        divergence_watch_epoch(&dw, resumed ? from->acc[0] : 0.0, seen);
        if (resumed) {
            st = dp_acc_set(&dp, net, from->acc[0], from->acc[1]);
            sn.acc0 = from->snap_acc[0];
            sn.acc1 = from->snap_acc[1];
            sn.acc_seen = from->snap_seen;
        } else {
            if (cfg->shuffle) {
                shuffle(&v.rng, v.order, n);
                st = nncl_device_data_set_order(train, v.order);
            }
            if (st == NNCL_OK)
                st = nncl_net_acc_reset(net);
            sn.acc0 = sn.acc1 = 0;
            sn.acc_seen = 0;
        }
        float lr = 0;
        for (size_t s = resumed ? from->step_in_epoch : 0; s < steps_per_epoch && st == NNCL_OK; s++) {
            /* Ranks stop together: at the step after any of them was asked to. */
            bool stop_here = hooks->stop && *hooks->stop;
            if (cfg->comm ? dp.stop : stop_here) {
                result->status = NNCL_RUN_INTERRUPTED;
                result->steps = v.t;    /* the steps the weights have taken */
                st = nncl_device_finish(nncl_net_device(net));
                result->stopped_at = nncl_seconds_now();
                if (st != NNCL_OK)
                    break;
                st = record_snapshot(net, cfg, hooks, &sn);
                if (st == NNCL_OK && hooks->on_checkpoint)
                    st = checkpoint(net, cfg, hooks, &dp, &v, &sn, result, n, batch, epoch, true, s, seen);
                break;
            }
            size_t first = s * batch, rows = n - first < batch ? n - first : batch;
            lr = nncl_schedule_lr(&cfg->schedule, epoch + (double)s / (double)steps_per_epoch, cfg->epochs);
            v.t++;
            bool snap = sn.next < sn.count && sn.steps[sn.next] == v.t;
            if (snap && (st = nncl_net_copy_params(net, sn.prev_dev)) != NNCL_OK)
                break;
            sn.have_prev = snap;
            st = dp_train_step(&dp, net, train, first, rows, &cfg->optim, lr, cfg->seed, v.t, stop_here);
            stepped = true;
            /* The device has a step to run: record the last snapshot meanwhile. */
            if (st == NNCL_OK)
                st = record_snapshot(net, cfg, hooks, &sn);
            if (st == NNCL_OK)
                st = step_window_after_step(&win, nncl_net_device(net));
            seen += rows;
            if (st == NNCL_OK && snap)
                st = take_snapshot(net, cfg, hooks, &dp, &sn, v.t, epoch + (double)(s + 1) / (double)steps_per_epoch, lr,
                                   seen, NULL, true, v.t0, true);
            v.progress = epoch + (double)(s + 1) / (double)steps_per_epoch;
            v.last_lr = lr;
            epoch_seen = seen;
            /* The running loss, read at most every DIVERGE_POLL_SECONDS (a
             * clock each rank reads for itself: ranks see divergence at the
             * epoch's end, where they agree). */
            bool diverged = false;
            double loss;
            if (st == NNCL_OK && !cfg->comm && (st = divergence_poll(&dw, net, seen, &diverged, &loss)) == NNCL_OK && diverged) {
                result->status = NNCL_RUN_DIVERGED;
                result->steps = v.t;
                result->diverged = (nncl_divergence){.step = v.t, .epoch = epoch + 1, .loss = loss, .lr = lr};
                break;
            }
            if (st == NNCL_OK && hooks->on_progress && cfg->progress_every &&
                (s + 1) % cfg->progress_every == 0 && s + 1 < steps_per_epoch) {
                double s0, s1;
                st = dp_acc_read(&dp, net, &s0, &s1);
                if (st == NNCL_OK)
                    hooks->on_progress(hooks->ctx, epoch + 1, s + 1, steps_per_epoch, s0 / (double)seen * loss_unit,
                                       s1 / (double)seen * mae_unit);
            }
        }
        if (st == NNCL_OK)
            st = record_snapshot(net, cfg, hooks, &sn);
        if (st != NNCL_OK || result->status == NNCL_RUN_INTERRUPTED || result->status == NNCL_RUN_DIVERGED)
            break;

        nncl_epoch_metrics m = {.epoch = epoch + 1, .step = v.t, .lr = lr};
        double s0, s1;
        if ((st = dp_acc_read(&dp, net, &s0, &s1)) != NNCL_OK || (st = dp_sync_kept(&dp, net)) != NNCL_OK)
            break;
        /* Divergence is judged on the loss the network trains on. */
        double trained_loss = s0 / (double)seen;
        bool exploded = divergence_exploded(&dw, trained_loss);
        m.train_loss = s0 / (double)seen * loss_unit;
        m.train_accuracy = s1 / (double)seen * mae_unit;
        double train_seconds = nncl_seconds_now() - e0;
        m.samples_per_second = (double)(seen - seen0) / (train_seconds > 0 ? train_seconds : 1e-9);
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
        m.seconds = nncl_seconds_now() - v.t0;
        /* The evaluation used the accumulator: the epoch's sums are in m now. */
        epoch_seen = 0;
        last_m = m;
        result->epochs = epoch + 1;
        result->steps = v.t;
        if ((st = history_add(&v, &m)) != NNCL_OK)
            break;
        if (exploded || (eval_now && !isfinite(m.val_loss))) {
            result->status = NNCL_RUN_DIVERGED;
            result->diverged = (nncl_divergence){.step = v.t, .epoch = epoch + 1, .lr = m.lr,
                                                 .loss = isfinite(trained_loss) ? trained_loss : m.val_loss};
            if (hooks->on_epoch)
                st = hooks->on_epoch(hooks->ctx, &m);
            break;
        }
        if (eval_now && m.val_loss < result->best_val_loss) {
            result->best_val_loss = m.val_loss;
            result->best_val_accuracy = m.val_accuracy;
            result->best_epoch = epoch + 1;
            v.since_best = 0;
            if (cfg->early_stop > 0) {
                st = nncl_net_snapshot(net);
                v.have_best = true;
            }
        } else if (eval_now) {
            v.since_best += cfg->eval_every > 1 ? cfg->eval_every : 1;
        }
        if (st == NNCL_OK && hooks->on_epoch)
            st = hooks->on_epoch(hooks->ctx, &m);
        stopped = stops_early && v.since_best >= cfg->early_stop;
        /* Not at an epoch that stops early: its last snapshot, taken below,
         * holds the last step's gradients, which a checkpoint does not keep.
         * A run resumed from the checkpoint before repeats the epoch. */
        if (st == NNCL_OK && hooks->on_checkpoint && cfg->checkpoint_every > 0 && !stopped &&
            ((epoch + 1) % cfg->checkpoint_every == 0 || epoch + 1 == cfg->epochs))
            st = checkpoint(net, cfg, hooks, &dp, &v, &sn, result, n, batch, epoch + 1, false, 0, 0);
    }
    /* Training stopped before the last scheduled snapshot (early stopping,
     * Ctrl-C, divergence): one more where it stopped. */
    if (st == NNCL_OK && sn.count > 0 && sn.last != v.t)
        st = take_snapshot(net, cfg, hooks, &dp, &sn, v.t, v.progress, v.last_lr, epoch_seen,
                           last_m.epoch ? &last_m : NULL, stepped, v.t0, false);
    if (st == NNCL_OK)
        st = record_snapshot(net, cfg, hooks, &sn);
    snapshots_free(&sn);
    step_window_clear(&win);
    if (st == NNCL_OK && result->status == NNCL_RUN_DIVERGED)
        st = divergence_describe(&dw, net, &result->diverged);
    /* Early stopping keeps the best epoch's weights, not the last. */
    if (st == NNCL_OK && v.have_best && result->status == NNCL_RUN_OK && result->best_epoch != result->epochs)
        st = nncl_net_restore(net);
    if (st == NNCL_OK)
        st = nncl_device_finish(nncl_net_device(net));
    result->seconds = nncl_seconds_now() - v.t0;
    result->samples_per_second = result->seconds > 0 ? (double)result->epochs * (double)n / result->seconds : 0;
    free(v.order);
    free(v.history);
    dp_free(&dp);
    if (st != NNCL_OK)
        result->status = NNCL_RUN_FAILED;
    return st;
}
