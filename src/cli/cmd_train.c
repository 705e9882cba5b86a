/* `nncl train`: load the data, build the network, train it on the chosen
 * device, and save everything about the run in its own directory. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/data_splits.h"
#include "cli/model_arg.h"
#include "cli/run_dir.h"
#include "cli/train_dist.h"
#include "report/run_liveness.h"
#include "cli/train_options.h"
#include "cli/train_run.h"
#include "cli/train_speed.h"
#include "nncl/checkpoint.h"
#include "nncl/model.h"
#include "report/report.h"
#include "report/test_results.h"
#include "dist/dist.h"
#include "util/clock.h"

/* Validation rows the snapshots evaluate. */
#define PROBE_ROWS 256

/* ---- interruption ---------------------------------------------------------- */

/* The signal that asked training to stop (SIGINT or SIGTERM), or 0: the
 * exit status is then 128 + it, as a shell reports a process it killed. */
static volatile sig_atomic_t interrupted;
/* When the first signal came (CLOCK_MONOTONIC): how quickly training
 * stopped is said, and tested. */
static struct timespec signal_time;

/* The first signal asks training to stop after the step it is in (the
 * loop keeps a fraction of a second of work queued) and save; a second
 * one quits at once. The files a run writes are replaced atomically, so
 * quitting leaves the last checkpoint whole (the run then reads as
 * crashed, and resumes from it). Only async-signal-safe calls here. */
static void on_sigint(int sig)
{
    static const char stopping[] = "\nnncl: stopping after this step, saving (Ctrl-C again to quit now)\n";
    static const char terminating[] = "\nnncl: SIGTERM: stopping after this step, saving\n";
    static const char quitting[] = "\nnncl: quitting now; the run resumes from its last checkpoint\n";
    ssize_t unused;
    if (interrupted) {
        unused = write(2, quitting, sizeof quitting - 1);
        _exit(128 + sig);
    }
    clock_gettime(CLOCK_MONOTONIC, &signal_time);  /* async-signal-safe */
    interrupted = sig;
    if (sig == SIGTERM)
        unused = write(2, terminating, sizeof terminating - 1);
    else
        unused = write(2, stopping, sizeof stopping - 1);
    (void)unused;
}

/* ---- scripted interruptions, for the tests ----------------------------------------
 * NNCL_TEST_KILL=POINT sends this process SIGKILL (what kill -9 does) and
 * NNCL_TEST_INT=POINT SIGINT (what Ctrl-C does) at a point of training:
 * step:N (after optimiser step N, inside an epoch), epoch:N (after epoch N's
 * metrics, before its checkpoint), checkpoint:N (after epoch N's checkpoint
 * is written), snapshot:N (once snapshots.bin holds N snapshots) or
 * summary:1 (once the last summary.json is written, before report.html).
 * The tests of --resume stop runs where they choose, not where a timer
 * lands. */

typedef enum { AT_NONE, AT_STEP, AT_EPOCH, AT_CHECKPOINT, AT_SNAPSHOT, AT_SUMMARY } test_at;

typedef struct test_point {
    test_at at;
    unsigned long n;
    int sig;
} test_point;

static void test_points(test_point *p)
{
    static const struct {
        const char *var;
        int sig;
    } vars[2] = {{"NNCL_TEST_KILL", SIGKILL}, {"NNCL_TEST_INT", SIGINT}};
    static const char *const names[] = {"", "step:", "epoch:", "checkpoint:", "snapshot:", "summary:"};
    for (int v = 0; v < 2; v++) {
        p[v] = (test_point){AT_NONE, 0, vars[v].sig};
        const char *e = getenv(vars[v].var);
        for (int k = AT_STEP; e && k <= AT_SUMMARY; k++)
            if (strncmp(e, names[k], strlen(names[k])) == 0) {
                p[v].at = (test_at)k;
                p[v].n = strtoul(e + strlen(names[k]), NULL, 10);
            }
    }
}

static void test_reached(const test_point *p, test_at at, unsigned long n)
{
    /* NNCL_TEST_RANK=R: under mpirun, only rank R acts (one rank killed). */
    const char *only = getenv("NNCL_TEST_RANK");
    int rank = 0, size = 1;
    nncl_dist_rank(&rank, &size);       /* a --distributed run's rank, or a sweep's */
    if (only && atoi(only) != rank)
        return;
    for (int v = 0; v < 2; v++)
        if (p[v].at == at && p[v].n == n) {
            fflush(stdout);
            raise(p[v].sig);
        }
}

/* ---- printing ----------------------------------------------------------------- */

/* 54000 -> "54,000". */
static const char *count(size_t n, char *buf)
{
    char tmp[32];
    int len = snprintf(tmp, sizeof tmp, "%zu", n), o = 0;
    for (int i = 0; i < len; i++) {
        buf[o++] = tmp[i];
        if ((len - i - 1) % 3 == 0 && i < len - 1)
            buf[o++] = ',';
    }
    buf[o] = '\0';
    return buf;
}

typedef struct train_view {
    const train_options *o;
    run_dir *run;
    nncl_snapshot_writer *snaps;
    size_t snaps_written;       /* snapshots.bin's snapshots */
    double checkpoint_at;       /* when checkpoint.bin was last written (monotonic), 0: never */
    bool tty, classify, full_batch;
    int epochs;
    /* For the progress bar's rate and ETA: when training started, at which
     * step (a resumed run's), the steps it will take, the rows a step. */
    double t0;
    unsigned long step0, total_steps;
    size_t batch;
    double last_train_loss;     /* the last finished epoch's, or NaN */
    bool progress_shown;
    test_point test[2];
} train_view;

static void print_header(const train_options *o, const nncl_device_info *dev, const splits *s,
                         const nncl_net_config *cfg, size_t params, size_t batch, const char *run)
{
    char a[32], b[32], c[32], num[16];
    printf("nncl %s: training\n", nncl_version());
    printf("device     %s: %s (%s%s%s)\n", cli_device_number(dev, num), dev->name, nncl_backend_name(dev->backend),
           dev->backend == NNCL_BACKEND_OPENCL ? ", " : "",
           dev->backend == NNCL_BACKEND_OPENCL ? dev->platform : "");
    char blas[400];
    if (dev->backend == NNCL_BACKEND_HOST && nncl_host_blas_note(blas, sizeof blas))
        printf("note       %s\n", blas);
    printf("data       %s: %s train, %s validation, %s test (%s); %zu features", s->src.name,
           count(s->train.rows, a), count(s->val.rows, b), count(s->test.rows, c), s->test_origin, s->train.cols);
    if (s->train.task == NNCL_TASK_CLASSIFY)
        printf(", %d classes\n", s->train.num_classes);
    else
        printf(", regression\n");
    if (!nncl_net_config_is_dense(cfg)) {
        char lines[4096];
        printf("network    layer                 shape                       parameters\n");
        if (nncl_net_config_describe(cfg, lines, sizeof lines) == NNCL_OK) {
            for (char *line = strtok(lines, "\n"); line; line = strtok(NULL, "\n"))
                printf("         %s\n", line);
        }
        printf("           total                                              %s%s\n", count(params, a),
               cfg->task == NNCL_TASK_CLASSIFY ? " (softmax on the outputs)" : "");
    }
    for (int l = 1; nncl_net_config_is_dense(cfg) && l <= cfg->layers; l++) {
        char shape[64];
        snprintf(shape, sizeof shape, "%zu -> %zu", cfg->sizes[l - 1], cfg->sizes[l]);
        const char *act = l < cfg->layers ? nncl_act_name(cfg->act)
                          : cfg->task == NNCL_TASK_CLASSIFY ? "softmax" : "identity";
        printf("           %-5d  %-13s  %-10s  %s%s\n", l, shape, act,
               count(cfg->sizes[l] * (cfg->sizes[l - 1] + 1), a),
               l < cfg->layers && cfg->dropout > 0 ? " (dropout)" : "");
    }
    if (nncl_net_config_is_dense(cfg))
        printf("           total                             %s\n", count(params, a));
    printf("optimiser  %s, lr %g (%s", optim_name(o->optim.kind), o->schedule.lr,
           schedule_name(o->schedule.kind));
    if (o->schedule.kind == NNCL_SCHEDULE_STEP)
        printf(" every %d epochs x %g", o->schedule.step_epochs, o->schedule.gamma);
    if (o->schedule.warmup_epochs > 0)
        printf(", warm-up %g epochs", o->schedule.warmup_epochs);
    printf(")");
    if (o->optim.kind == NNCL_OPTIM_MOMENTUM)
        printf(", momentum %g%s", o->optim.momentum, o->optim.nesterov ? " (Nesterov)" : "");
    if (o->optim.weight_decay > 0)
        printf(", weight decay %g", o->optim.weight_decay);
    printf(", batch %s, %d epochs", batch >= s->train.rows ? "full" : count(batch, a), o->epochs);
    if (o->early_stop)
        printf(", early stop after %d", o->early_stop);
    printf("\n");
    if (o->preset)
        printf("preset     %s%s\n", o->preset,
               o->faithful ? " (gradients / 42,000, one scalar bias gradient per layer)" : "");
    printf("seed       %llu\n", (unsigned long long)o->seed);
    printf("run        %s\n", run);
    fflush(stdout);
}

static void clear_progress(train_view *v)
{
    if (v->progress_shown) {
        fputs("\r\033[K", stderr);
        v->progress_shown = false;
    }
}

static void on_progress(void *ctx, int epoch, size_t step, size_t steps, double loss, double acc)
{
    train_view *v = ctx;
    test_reached(v->test, AT_STEP, (unsigned long)(epoch - 1) * steps + step);
    if (!v->tty || v->o->quiet)
        return;
    int width = 24, done = (int)((double)width * (double)step / (double)steps);
    char bar[64], rate[32], eta[32] = "";
    for (int i = 0; i < width; i++)
        bar[i] = i < done ? '=' : (i == done ? '>' : ' ');
    bar[width] = '\0';
    /* The rate and the time left, from the steps taken since training began. */
    unsigned long now_step = (unsigned long)(epoch - 1) * steps + step;
    double elapsed = nncl_seconds_now() - v->t0;
    double per_step = now_step > v->step0 ? elapsed / (double)(now_step - v->step0) : 0;
    count(per_step > 0 ? (size_t)((double)v->batch / per_step) : 0, rate);
    if (per_step > 0 && v->total_steps >= now_step) {
        unsigned long left = (unsigned long)(per_step * (double)(v->total_steps - now_step) + 0.5);
        snprintf(eta, sizeof eta, "ETA %lu:%02lu", left / 60, left % 60);
    }
    fprintf(stderr, "\r\033[Kepoch %d/%d [%s] %zu/%zu  %s samples/s  %s  loss %.4g", epoch, v->epochs, bar, step,
            steps, rate, eta, loss);
    if (v->classify)
        fprintf(stderr, "  acc %.2f%%", 100 * acc);
    else
        fprintf(stderr, "  mae %.4g", acc);
    fflush(stderr);
    v->progress_shown = true;
}

static nncl_status on_epoch(void *ctx, const nncl_epoch_metrics *m)
{
    train_view *v = ctx;
    nncl_status st = run_dir_add_metrics(v->run, m);
    if (st != NNCL_OK)
        return st;
    v->last_train_loss = m->train_loss;
    bool show = m->epoch % v->o->log_every == 0 || m->epoch == v->epochs || m->epoch == 1;
    if (v->o->quiet || !show) {
        test_reached(v->test, AT_EPOCH, (unsigned long)m->epoch);
        return NNCL_OK;
    }
    clear_progress(v);
    char sps[32];
    const char *word = v->full_batch ? "iteration" : "epoch";
    int digits = snprintf(NULL, 0, "%d", v->epochs);
    /* A regression's loss is the mean squared error, in the target's units
     * squared, and its MAE in the target's units (as the final line). */
    if (v->classify)
        printf("%s %*d/%d  train loss %.4f acc %6.2f%%", word, digits, m->epoch, v->epochs, m->train_loss,
               100 * m->train_accuracy);
    else
        printf("%s %*d/%d  train mse %.4g mae %.4g", word, digits, m->epoch, v->epochs, m->train_loss,
               m->train_accuracy);
    if (!isnan(m->val_loss) && v->classify)
        printf("  val loss %.4f acc %6.2f%%", m->val_loss, 100 * m->val_accuracy);
    else if (!isnan(m->val_loss))
        printf("  val mse %.4g mae %.4g", m->val_loss, m->val_accuracy);
    printf("  lr %.3g  %.1f s elapsed  %s samples/s", m->lr, m->seconds, count((size_t)m->samples_per_second, sps));
    /* Distributed: rank 0's time in collectives since the last line shown
     * (the gradients' sums, and the metrics'), part of the elapsed time. */
    double comm;
    if (train_dist_get()->on && nncl_dist_comm_seconds(&comm, true) == NNCL_OK)
        printf("  comm %.2f s", comm);
    printf("\n");
    fflush(stdout);
    test_reached(v->test, AT_EPOCH, (unsigned long)m->epoch);
    return NNCL_OK;
}

static nncl_status on_snapshot(void *ctx, const nncl_snapshot_info *info, const float *params)
{
    train_view *v = ctx;
    if (!v->snaps)
        return NNCL_OK;     /* a distributed run's rank but 0: it takes the snapshots' sums with rank 0, writes none */
    nncl_status st = nncl_snapshot_writer_append(v->snaps, info, params);
    if (st == NNCL_OK)
        test_reached(v->test, AT_SNAPSHOT, (unsigned long)++v->snaps_written);
    return st;
}

/* checkpoint.bin, at most once a second at epochs' ends (a run of many
 * short epochs would otherwise spend its time flushing checkpoints to
 * disk), but always at the last epoch and when stopped. The snapshots it
 * counts are on disk first. */
static nncl_status on_checkpoint(void *ctx, const nncl_net *net, const nncl_train_state *state)
{
    train_view *v = ctx;
    if (v->run->dry)
        return NNCL_OK;
    double now = nncl_seconds_now();
    if (!state->in_epoch && state->epochs_done < v->epochs && v->checkpoint_at > 0 && now - v->checkpoint_at < 1.0)
        return NNCL_OK;
    v->checkpoint_at = now;
    nncl_status st = nncl_snapshot_writer_sync(v->snaps);
    char path[4200];
    run_dir_file(v->run, "checkpoint.bin", path, sizeof path);
    if (st == NNCL_OK)
        st = nncl_checkpoint_save(path, net, state);
    if (st == NNCL_OK && !state->in_epoch)
        test_reached(v->test, AT_CHECKPOINT, (unsigned long)state->epochs_done);
    return st;
}

static bool run_has_checkpoint(const run_dir *run)
{
    char path[4200];
    run_dir_file(run, "checkpoint.bin", path, sizeof path);
    return access(path, F_OK) == 0;
}

/* Where the run diverged, what blew up, and what to try. */
static void print_divergence(const nncl_divergence *d, const train_options *o, const char *run, bool checkpoint)
{
    char what[96];
    if (isfinite(d->loss))
        snprintf(what, sizeof what, "reached %.3g, past %.3g (%g times what guessing scores)", d->loss, d->limit,
                 NNCL_DIVERGE_FACTOR);
    else
        snprintf(what, sizeof what, "became %s", isnan(d->loss) ? "NaN" : "infinite");
    cli_error("training diverged at step %lu (epoch %d): the training loss %s.", d->step, d->epoch, what);
    if (d->layer > 0)
        fprintf(stderr, "  layer %d's weights grew the most: largest |w| %.3g at the start, %.3g then\n", d->layer,
                d->max_before, d->max_after);
    if (d->lr != o->schedule.lr)
        fprintf(stderr, "  the learning rate was %.3g at that step (--lr %g, --schedule %s%s)\n", d->lr, o->schedule.lr,
                schedule_name(o->schedule.kind), o->schedule.warmup_epochs > 0 ? ", with warm-up" : "");
    fprintf(stderr, "  try a smaller --lr (a tenth is a start)%s\n",
            o->optim.kind == NNCL_OPTIM_SGD ? ", or --opt adam, which is less sensitive to it" : "");
    fprintf(stderr, "  no model was saved; %s. Run: %s\n",
            checkpoint ? "the last good checkpoint is kept" : "there was no checkpoint yet", run);
}

/* ---- the record ------------------------------------------------------------------ */

typedef struct outcome {
    nncl_train_result result;
    nncl_eval_result test;
    double test_rmse, test_mae, test_r2;    /* regression, in the target's units */
    bool tested;
    const char *error;                      /* a failure's message, or NULL */
    const train_startup *startup;           /* once training began, if measured */
} outcome;

static nncl_status write_summary(const run_dir *run, const char *status, const nncl_device_info *dev,
                                 const outcome *out, bool classify)
{
    const nncl_train_result *r = &out->result;
    json_t *j = json_object();
    json_object_set_new(j, "status", json_string(status));
    json_object_set_new(j, "device", json_string(dev->name));
    json_object_set_new(j, "epochs", json_integer(r->epochs));
    json_object_set_new(j, "steps", json_integer((json_int_t)r->steps));
    json_object_set_new(j, "seconds", json_real(r->seconds));
    json_object_set_new(j, "samples_per_second", json_real(r->samples_per_second));
    json_object_set_new(j, "best_epoch", json_integer(r->best_epoch));
    json_object_set_new(j, "best_val_loss", isfinite(r->best_val_loss) ? json_real(r->best_val_loss) : json_null());
    json_object_set_new(j, classify ? "best_val_accuracy" : "best_val_mae",
                        isfinite(r->best_val_accuracy) ? json_real(r->best_val_accuracy) : json_null());
    if (out->tested && classify) {
        json_object_set_new(j, "test_accuracy", json_real(out->test.accuracy));
        json_object_set_new(j, "test_loss", json_real(out->test.loss));
    } else if (out->tested) {
        json_object_set_new(j, "test_loss", json_real(out->test.loss));
        json_object_set_new(j, "test_rmse", json_real(out->test_rmse));
        json_object_set_new(j, "test_mae", json_real(out->test_mae));
        json_object_set_new(j, "test_r2", json_real(out->test_r2));
    } else {
        json_object_set_new(j, classify ? "test_accuracy" : "test_rmse", json_null());
        json_object_set_new(j, "test_loss", json_null());
    }
    if (out->startup) {
        const train_startup *u = out->startup;
        json_t *su = json_pack("{s:f, s:f, s:f, s:f, s:f, s:f, s:f}", "seconds", u->seconds, "device_seconds",
                               u->device_seconds, "listing_seconds", u->open.listing_seconds, "opening_seconds",
                               u->open.opening_seconds, "data_seconds", u->data_seconds, "kernels_seconds",
                               u->kernels_seconds, "tuning_seconds", u->tuning_seconds);
        /* the listing's parts: the OpenCL loader, then each platform (none
         * for the host opened alone: OpenCL was not asked) */
        json_t *parts = json_array();
        if (u->open.opencl_listed)
            json_array_append_new(parts, json_pack("{s:s, s:f}", "what", "OpenCL loader", "seconds",
                                                   u->open.loader_seconds));
        for (int i = 0; i < u->open.n_platforms; i++)
            json_array_append_new(parts, json_pack("{s:s, s:f}", "what", u->open.platforms[i].platform, "seconds",
                                                   u->open.platforms[i].seconds));
        json_object_set_new(su, "listing", parts);
        json_object_set_new(j, "startup", su);
    }
    if (out->error)
        json_object_set_new(j, "error", json_string(out->error));
    if (r->status == NNCL_RUN_DIVERGED) {
        const nncl_divergence *d = &r->diverged;
        json_object_set_new(j, "diverged",
                            json_pack("{s:I, s:i, s:o, s:f, s:f, s:i, s:f, s:o}", "step", (json_int_t)d->step,
                                      "epoch", d->epoch, "loss", isfinite(d->loss) ? json_real(d->loss) : json_null(),
                                      "lr", d->lr,
                                      "limit", d->limit, "layer", d->layer, "layer_max_abs_start", d->max_before,
                                      "layer_max_abs", isfinite(d->max_after) ? json_real(d->max_after) : json_null()));
    }
    /* While it trains, who trains it: a reader can tell a crashed run. */
    if (strcmp(status, "running") == 0)
        run_liveness_add(j);
    nncl_status st = run_dir_write_json(run, "summary.json", j);
    json_decref(j);
    return st;
}

/* evaluation.json: what the report shows of the test set. */
static nncl_status write_test_results(const run_dir *run, nncl_net *net, const nncl_device_data *dtest,
                                      const nncl_dataset *test)
{
    const nncl_net_config *cfg = nncl_net_get_config(net);
    size_t width = cfg->sizes[cfg->layers];
    float *outputs = malloc(test->rows * width * sizeof *outputs);
    if (!outputs)
        return nncl_fail(NNCL_E_NOMEM, "out of memory for %zu test outputs", test->rows);
    float t_shift, t_scale;
    nncl_net_get_target_transform(net, &t_shift, &t_scale);
    json_t *j = NULL;
    nncl_status st = nncl_net_outputs(net, dtest, outputs);
    if (st == NNCL_OK)
        st = test_results_json(test, outputs, width, t_shift, t_scale, &j);
    free(outputs);
    if (st == NNCL_OK)
        st = run_dir_write_json(run, "evaluation.json", j);
    json_decref(j);
    return st;
}

/* ---- the command ------------------------------------------------------------------ */

static void short_name(const train_options *o, const splits *s, const nncl_net_config *cfg, char *out,
                       size_t len)
{
    const char *base = strrchr(s->src.name, '/');
    base = base ? base + 1 : s->src.name;
    int n = snprintf(out, len, "%s", o->preset ? o->preset : base);
    char *dot = strrchr(out, '.');
    if (dot && !o->preset)
        *dot = '\0';
    n = (int)strlen(out);
    for (int l = 1; l < cfg->layers && n < (int)len - 8; l++)
        n += snprintf(out + n, len - (size_t)n, "%s%zu", l == 1 ? "-" : "x", cfg->sizes[l]);
    for (char *p = out; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
              *p == '_' || *p == 'x'))
            *p = '_';
}

static nncl_status upload(nncl_device *dev, const nncl_dataset *ds, nncl_device_data *dd)
{
    return ds->rows ? nncl_device_data_upload(dev, ds, dd) : NNCL_OK;
}

static int train_command(const cli_globals *g, int argc, char **argv);

/* --profile's account of the start-up, before the ops' table. */
static void print_startup(const train_startup *u, const nncl_device *dev)
{
    fprintf(stderr, "\nstart-up (%s): %.2f s before the first step; ", nncl_device_get_info(dev)->name, u->seconds);
    if (u->open.opencl_listed) {
        fprintf(stderr, "listing the devices %.2f s (the OpenCL loader %.2f", u->open.listing_seconds,
                u->open.loader_seconds);
        for (int i = 0; i < u->open.n_platforms; i++)
            fprintf(stderr, ", %s %.2f", u->open.platforms[i].platform, u->open.platforms[i].seconds);
        fprintf(stderr, ")");
    } else {
        fprintf(stderr, "no listing (the host chosen: OpenCL not asked)");
    }
    fprintf(stderr, ", opening this one %.2f s, its kernels %.2f s (built or from the cache", u->open.opening_seconds,
            u->kernels_seconds);
    if (u->tuning_seconds > 0)
        fprintf(stderr, ", %.2f s of it tuning", u->tuning_seconds);
    fprintf(stderr, "), the data %.2f s (loaded beside the device)\n", u->data_seconds);
}

/* Build (or load from the cache) the device's kernels while the data loads,
 * unless that would run the first-use search: it times kernels, and on a CPU
 * device the data's inflating beside it would skew the timings. Then the
 * kernels build when the network is made, as before. */
static int prepare_unless_searching(nncl_device *dev)
{
    nncl_tuning_info ti;
    if (nncl_tuning_lookup(nncl_device_get_info(dev), &ti) != NNCL_OK) {
        nncl_clear_error();
        return CLI_OK;
    }
    if (ti.state != NNCL_TUNING_TUNED && ti.state != NNCL_TUNING_NONE && ti.state != NNCL_TUNING_OFF)
        return CLI_OK;
    nncl_status st = nncl_device_prepare(dev, NULL);
    return st == NNCL_OK ? CLI_OK : cli_fail(st);
}

int cmd_train(const cli_globals *g, int argc, char **argv)
{
    int rc = train_dist_start(argc, argv);
    if (rc != CLI_OK)
        return train_dist_finish(rc); /* ends the job if it had started */
    return train_dist_finish(train_command(g, argc, argv));
}

static int train_command(const cli_globals *g, int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--resume") == 0 || strncmp(argv[i], "--resume=", 9) == 0)
            return train_resume_command(g, argc, argv);
    train_options o;
    int rc = train_options_parse(&o, g, argc, argv);
    if (rc != CLI_OK)
        return rc < 0 ? CLI_OK : rc;
    if (o.device && strcmp(o.device, "list") == 0)
        return cmd_devices(g, 0, NULL);

    /* A bad --out is said before the device opens and the data loads
     * (each may take long: a first use tunes, a big file loads). */
    if (o.distributed && o.faithful) {
        cli_error("--distributed: --preset tutorial-faithful divides every gradient by 42,000 whatever the batch; "
                  "its quirk does not split over ranks");
        return CLI_USAGE;
    }
    /* Rank 0 creates the run directory: the others would find it made. */
    nncl_status pre = train_dist_leads() ? run_dir_precheck(o.out_dir) : NNCL_OK;
    if (pre != NNCL_OK)
        return cli_fail(pre);
    cli_quiet_notices(o.quiet);
    nncl_device *dev = NULL;
    /* (not per rank of a distributed run: they would time each other) */
    if ((!o.device || !*o.device) && !o.distributed)
        cli_settle_default_device();
    /* The data loads on a thread of its own while the device opens and its
     * kernels load (the settling above may time the devices: not beside it). */
    splits s;
    splits_loader loader;
    load_splits_start(&loader, &o, &s);
    train_startup startup = {.began = g->started};
    double t0 = nncl_seconds_now();
    rc = cli_open_device_timed(o.device, &dev, &startup.open);
    startup.device_seconds = nncl_seconds_now() - t0;
    if (rc == CLI_OK)
        rc = prepare_unless_searching(dev);
    if (rc != CLI_OK) {
        nncl_device_close(dev);
        /* The device's error is said; the data may still be loading (a big
         * file, a FIFO nobody writes to) and a load cannot be interrupted.
         * Nothing has been written, so end here rather than wait for it
         * (not under MPI, whose job must end in step). */
        if (!load_splits_done(&loader) && !o.distributed) {
            fflush(NULL);
            _exit(rc);
        }
        load_splits_wait(&loader);
        nncl_clear_error();
        splits_free(&s);
        return rc;
    }
    nncl_status st = load_splits_wait(&loader);
    startup.data_seconds = loader.seconds;
    if (o.profile)
        nncl_device_set_profile(dev, true);
    if (st == NNCL_OK && train_dist_leads())
        train_options_warn(&o, s.src.dir != NULL);
    rc = st == NNCL_OK ? train_run(dev, &o, &s, argc, argv, &startup) : cli_fail(st);
    if (o.profile && startup.seconds > 0)
        print_startup(&startup, dev);
    if (o.profile && rc == CLI_OK)
        fprintf(stderr,
                "finish: %.3f s after the last step: the snapshots' file closed %.3f s, the test pass and its files "
                "%.3f s, the model %.3f s, summary.json %.3f s, report.html %.3f s\n",
                startup.finish.snapshots + startup.finish.test + startup.finish.model + startup.finish.summary +
                    startup.finish.report,
                startup.finish.snapshots, startup.finish.test, startup.finish.model, startup.finish.summary,
                startup.finish.report);
    cli_print_profile(dev);
    splits_free(&s);
    nncl_device_close(dev);
    return rc;
}

volatile sig_atomic_t *train_stop_flag(void) { return &interrupted; }

/* Whether a layer needs a picture ([c, h, w]) to work on. */
static bool spatial(const nncl_layer_spec *s)
{
    return s->kind == NNCL_LAYER_CONV2D || s->kind == NNCL_LAYER_MAXPOOL || s->kind == NNCL_LAYER_AVGPOOL;
}

nncl_status train_net_config(const train_options *o, const splits *s, nncl_net_config *cfg, size_t *batch)
{
    bool classify = s->train.task == NNCL_TASK_CLASSIFY;
    size_t outputs = classify ? (size_t)s->train.num_classes : 1;
    *cfg = (nncl_net_config){.act = o->act, .act_param = o->act_param, .task = s->train.task,
                             .dropout = o->dropout};
    *batch = o->batch == 0 || o->batch > s->train.rows ? s->train.rows : o->batch;
    bool all_dense = true, pictures = false;
    for (int i = 0; i < o->hidden_count; i++) {
        all_dense = all_dense && o->hidden[i].kind == NNCL_LAYER_DENSE;
        pictures = pictures || spatial(&o->hidden[i]);
    }
    if (all_dense) {
        cfg->layers = o->hidden_count + 1;
        cfg->sizes[0] = s->train.cols;
        for (int i = 0; i < o->hidden_count; i++)
            cfg->sizes[i + 1] = o->hidden[i].units;
        cfg->sizes[cfg->layers] = outputs;
        return NNCL_OK;
    }
    /* A layer list: the pictures' shape (one channel), or a row of features. */
    cfg->in_c = s->train.cols;
    cfg->in_h = cfg->in_w = 1;
    if (pictures) {
        if (s->train.image_h <= 0 || (size_t)s->train.image_h * (size_t)s->train.image_w != s->train.cols)
            return nncl_fail(NNCL_E_INVALID,
                             "--layers: convolution and pooling layers need pictures, and %s has %zu features "
                             "with no picture shape (IDX images and Kaggle-style pixel0..pixelN files have one)",
                             s->src.name, s->train.cols);
        cfg->in_c = 1;
        cfg->in_h = (size_t)s->train.image_h;
        cfg->in_w = (size_t)s->train.image_w;
    }
    cfg->n_specs = o->hidden_count + 1;
    for (int i = 0; i < o->hidden_count; i++)
        cfg->specs[i] = o->hidden[i];
    cfg->specs[o->hidden_count] = (nncl_layer_spec){.kind = NNCL_LAYER_DENSE, .units = outputs};
    nncl_status st = nncl_net_config_resolve(cfg);
    if (st != NNCL_OK)
        return nncl_fail_context(st, "--layers");
    return NNCL_OK;
}

json_t *train_config_json(const train_options *o, const nncl_device_info *dev, const splits *s, int argc,
                          char **argv)
{
    nncl_net_config cfg;
    size_t batch;
    if (train_net_config(o, s, &cfg, &batch) != NNCL_OK)
        return NULL;
    return train_config_record(o, dev, s, &cfg, batch, argc, argv);
}

static int run_training(nncl_device *dev, const train_options *op, splits *sp, int argc, char **argv,
                        train_resume *resume, train_startup *startup);

int train_run(nncl_device *dev, const train_options *o, splits *s, int argc, char **argv,
              train_startup *startup)
{
    return run_training(dev, o, s, argc, argv, NULL, startup);
}

int train_run_resume(nncl_device *dev, const train_options *o, splits *s, train_resume *r)
{
    return run_training(dev, o, s, 0, NULL, r, NULL);
}

/* A resumed run's directory, made as it was at its checkpoint (or, without
 * one, at its start): metrics.csv holds the epochs the checkpoint counts,
 * snapshots.bin its snapshots (reopened to append to), and what the end of
 * a run writes (the model, evaluation.json, report.html) is gone until the
 * run ends again. */
static nncl_status reopen_snapshots(train_resume *r, const train_options *o, const nncl_net_config *cfg,
                                    float *hist_range, nncl_snapshot_writer **snaps, size_t *kept)
{
    const nncl_checkpoint *c = r->checkpoint;
    *kept = 0;
    if (o->snapshots == 0 || !c)
        return NNCL_OK;
    /* It must hold the snapshots the checkpoint counts (else it is refused,
     * unchanged); what follows them is cut off. */
    char path[4200];
    run_dir_file(r->run, "snapshots.bin", path, sizeof path);
    *kept = c->state.snapshots;
    if (r->run->dry)
        return NNCL_OK;     /* rank 0 keeps the file */
    return nncl_snapshot_writer_reopen(path, cfg, c->state.snapshots, hist_range, snaps);
}

static nncl_status reset_outputs(train_resume *r, const train_options *o)
{
    run_dir *run = r->run;
    const nncl_checkpoint *c = r->checkpoint;
    nncl_status st = NNCL_OK;
    if (o->snapshots > 0 && !c)
        st = run_dir_remove(run, "snapshots.bin");     /* from the start: a new file, like a new run's */
    run_dir_remove_temporaries(run);
    if (st == NNCL_OK)
        st = run_dir_remove(run, "model.safetensors");
    if (st == NNCL_OK)
        st = run_dir_remove(run, "evaluation.json");
    if (st == NNCL_OK)
        st = run_dir_remove(run, "report.html");
    if (st == NNCL_OK)
        st = run_dir_reset_metrics(run, c ? c->state.history : NULL, c ? c->state.epochs_done : 0);
    return st;
}

static int run_training(nncl_device *dev, const train_options *op, splits *sp, int argc, char **argv,
                        train_resume *resume, train_startup *startup)
{
    train_options o = *op;
    splits s = *sp;     /* borrowed: the caller frees it (written back at the end) */
    const train_dist *dist = train_dist_get();
    if (dist->rank != 0) {
        /* Only rank 0 speaks and writes; the others train in step with it. */
        o.quiet = o.silent = o.no_report = true;
    }
    const nncl_device_info *info = nncl_device_get_info(dev);
    int rc;
    nncl_status st;
    bool classify = s.train.task == NNCL_TASK_CLASSIFY;
    nncl_net_config cfg;
    size_t batch;
    if ((st = train_net_config(&o, &s, &cfg, &batch)) != NNCL_OK)
        return cli_fail(st);
    /* Snapshots (the report's weight pictures and video) draw dense layers
     * only so far: a network with other layers records none. */
    bool no_snapshots = !nncl_net_config_is_dense(&cfg) && o.snapshots > 0;
    if (no_snapshots)
        o.snapshots = 0;
    /* Evaluation runs in batches of up to 1024 rows, training in `batch`. */
    size_t eval_rows = s.val.rows > s.test.rows ? s.val.rows : s.test.rows;
    size_t eval_batch = eval_rows < 1024 ? eval_rows : 1024;
    size_t max_batch = batch > eval_batch ? batch : eval_batch;
    const nncl_checkpoint *ckpt = resume ? resume->checkpoint : NULL;

    nncl_net *net = NULL;
    nncl_device_data dtrain = {0}, dval = {0}, dtest = {0}, dprobe = {0};
    nncl_dataset probe = {0};
    nncl_snapshot_writer *snaps = NULL;
    size_t snaps_kept = 0;
    float hist_range[NNCL_MAX_LAYERS];
    run_dir run_here = {0};
    run_dir *run = resume ? resume->run : &run_here;
    outcome out = {0};
    float *shift = malloc(cfg.sizes[0] * sizeof(float)), *scale = malloc(cfg.sizes[0] * sizeof(float));
    nncl_model model = {0};
    bool run_made = false;
    /* From the run directory's creation until its summary is written, Ctrl-C
     * (SIGINT, or SIGTERM) only asks training to stop: a second one during
     * the test pass or the model's save cannot leave the run "running". */
    struct sigaction sa = {0}, old_int, old_term;
    bool handling = false;
    json_t *config = NULL;
    char name[96];

    if (!shift || !scale) {
        st = nncl_fail(NNCL_E_NOMEM, "out of memory");
        goto fail;
    }
    if ((st = nncl_dataset_feature_transform(&s.train, shift, scale)) != NNCL_OK)
        goto fail;
    if ((st = nncl_net_create(dev, &cfg, max_batch, &net)) != NNCL_OK ||
        (st = nncl_net_init(net, o.init, o.init_param, o.seed)) != NNCL_OK ||
        (st = nncl_net_set_transform(net, shift, scale)) != NNCL_OK)
        goto fail;
    /* What guessing scores: ln K for K classes; for a regression, predicting
     * the mean, whose squared error is the target's variance. */
    double guess_loss = classify ? log((double)s.train.num_classes) : 1.0;
    if (!classify) {
        double mean, sd;
        if ((st = nncl_dataset_target_stats(&s.train, &mean, &sd)) != NNCL_OK)
            goto fail;
        nncl_net_set_target_transform(net, (float)mean, (float)(1.0 / sd));
        guess_loss = sd * sd;
    }
    if (o.faithful)
        nncl_net_set_tutorial_quirks(net, o.faithful_rows, true);
    if (ckpt && (st = nncl_checkpoint_apply(ckpt, net)) != NNCL_OK)
        goto fail;
    if ((st = upload(dev, &s.train, &dtrain)) != NNCL_OK || (st = upload(dev, &s.val, &dval)) != NNCL_OK ||
        (st = upload(dev, &s.test, &dtest)) != NNCL_OK)
        goto fail;
    /* The snapshots' validation metrics and dead units come from the first
     * PROBE_ROWS validation rows (already a random, stratified sample). */
    if (o.snapshots > 0 && s.has_val &&
        ((st = nncl_dataset_head(&s.val, s.val.rows < PROBE_ROWS ? s.val.rows : PROBE_ROWS, &probe)) != NNCL_OK ||
         (st = upload(dev, &probe, &dprobe)) != NNCL_OK))
        goto fail;

    short_name(&o, &s, &cfg, name, sizeof name);
    /* Build the kernels (or load them from the cache) before Ctrl-C is
     * caught: a compiler cannot be stopped half-way, and until the run
     * directory exists there is nothing to save, so Ctrl-C then quits. */
    if ((st = nncl_device_prepare(dev, NULL)) != NNCL_OK)
        goto fail;
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    handling = true;
    if (!resume) {
        char rank_name[64];
        snprintf(rank_name, sizeof rank_name, "(rank %d: writes nothing)", dist->rank);
        if ((st = dist->rank == 0 ? run_dir_create(run, o.out_dir, name) : run_dir_dry(run, rank_name)) != NNCL_OK)
            goto fail;
        config = train_config_record(&o, info, &s, &cfg, batch, argc, argv);
        if (config && dist->on)
            json_object_set_new(config, "ranks", json_integer(dist->size));
    } else {
        /* A refusal here leaves the run as it was. */
        if ((st = reopen_snapshots(resume, &o, &cfg, hist_range, &snaps, &snaps_kept)) != NNCL_OK)
            goto fail;
        config = json_incref(resume->config);
    }
    run_made = true;
    run->regress = !classify;
    if ((st = run_dir_write_json(run, "config.json", config)) != NNCL_OK ||
        (st = write_summary(run, "running", info, &out, classify)) != NNCL_OK)
        goto fail;
    if (resume && (st = reset_outputs(resume, &o)) != NNCL_OK)
        goto fail;
    if (o.snapshots > 0 && !snaps) {
        char path[4200];
        run_dir_file(run, "snapshots.bin", path, sizeof path);
        /* The ranges come from the initial weights (those of the seed). */
        float *init = malloc(nncl_net_param_count(net) * sizeof *init);
        nncl_net *fresh = NULL;
        st = init ? NNCL_OK : nncl_fail(NNCL_E_NOMEM, "out of memory");
        if (st == NNCL_OK && ckpt) {
            if ((st = nncl_net_create(dev, &cfg, 1, &fresh)) == NNCL_OK)
                st = nncl_net_init(fresh, o.init, o.init_param, o.seed);
        }
        if (st == NNCL_OK)
            st = nncl_net_get_params(fresh ? fresh : net, init);
        nncl_net_free(fresh);
        if (st == NNCL_OK) {
            nncl_snapshot_hist_range(&cfg, init, hist_range);
            if (!run->dry)
                st = nncl_snapshot_writer_open(path, &cfg, hist_range, &snaps);
        }
        free(init);
        if (st != NNCL_OK)
            goto fail;
    }
    if (!o.quiet) {
        print_header(&o, info, &s, &cfg, nncl_net_param_count(net), batch, run->path);
        if (resume && resume->note)
            printf("%s", resume->note);
        if (no_snapshots)
            printf("note       no snapshots (they record dense networks only): the report shows the layers "
                   "and the first convolution's filters\n");
        if (dist->on)
            printf("ranks      %d over MPI: each trains on 1/%d of every batch of %zu rows (--batch is the "
                   "global batch; the learning rate is not scaled)\n", dist->size, dist->size, batch);
        fflush(stdout);
    }

    train_view view = {.o = &o, .run = run, .snaps = snaps, .snaps_written = snaps_kept, .tty = isatty(2),
                       .classify = classify, .full_batch = batch >= s.train.rows, .epochs = o.epochs};
    test_points(view.test);
    nncl_train_config tc = {.batch = batch, .epochs = o.epochs, .early_stop = o.early_stop, .seed = o.seed,
                            .shuffle = batch < s.train.rows, .schedule = o.schedule, .optim = o.optim};
    tc.progress_every = view.tty && !o.quiet ? 20 : 0;
    view.t0 = nncl_seconds_now();
    if (startup) {
        nncl_device_startup ds;
        nncl_device_get_startup(dev, &ds);
        startup->seconds = view.t0 - startup->began;
        startup->kernels_seconds = ds.kernels_seconds;
        startup->tuning_seconds = ds.tuning_seconds;
        out.startup = startup;
    }
    view.step0 = ckpt ? (unsigned long)ckpt->state.step : 0;
    view.batch = batch;
    view.total_steps = (unsigned long)o.epochs * ((s.train.rows + batch - 1) / batch);
    view.last_train_loss = NAN;
    if (view.test[0].at == AT_STEP || view.test[1].at == AT_STEP)
        tc.progress_every = 1;
    /* Validation costs a pass over its rows (and, at full batch, a re-gather of
     * the training set): evaluate it when a line is printed, or every epoch
     * under early stopping, whose patience counts epochs. */
    tc.eval_every = o.early_stop > 0 ? 1 : o.log_every;
    tc.snapshots = (size_t)o.snapshots;
    tc.probe = dprobe.rows ? &dprobe : NULL;
    tc.hist_range = hist_range;
    tc.checkpoint_every = o.checkpoint_every;
    tc.resume = ckpt ? &ckpt->state : NULL;
    if (dist->on) {
        tc.comm = &dist->comm;
        /* Progress reads sum over ranks: every rank at the same steps, tty or not. */
        if (tc.progress_every != 1)
            tc.progress_every = 20;
    }
    /* Every rank of a distributed run takes the snapshots (their sums are
     * collective); only rank 0 has a file to write them to. */
    nncl_train_hooks hooks = {.ctx = &view, .on_epoch = on_epoch, .on_progress = on_progress,
                              .on_snapshot = snaps || (run->dry && o.snapshots > 0) ? on_snapshot : NULL,
                              .on_checkpoint = on_checkpoint, .stop = &interrupted};
    if (dist->on) {
        /* Start together, and count from here: the ranks' start-up (loading
         * the data) is not communication. A sum waits for every rank. */
        float ready = 0;
        double before;
        if ((st = nncl_dist_sum(&ready, 1)) != NNCL_OK || (st = nncl_dist_comm_seconds(&before, true)) != NNCL_OK)
            goto fail;
    }
    st = nncl_train(net, &tc, &dtrain, s.has_val ? &dval : NULL, &hooks, &out.result);
    clear_progress(&view);
    if (o.profile && st == NNCL_OK && nncl_net_load_batch(net, &dtrain, 0, batch) == NNCL_OK) {
        char plan[4096];
        if (nncl_net_describe_plan(net, plan, sizeof plan) == NNCL_OK)
            fprintf(stderr, "step plan (one training step, in order):\n%s", plan);
    }
    /* the end's parts, for --profile (startup NULL: not measured) */
    double tf = nncl_seconds_now();
#define FINISHED(part)                                                                                                \
    do {                                                                                                              \
        double now_ = nncl_seconds_now();                                                                             \
        if (startup)                                                                                                  \
            startup->finish.part = now_ - tf;                                                                         \
        tf = now_;                                                                                                    \
    } while (0)
    nncl_status closed = nncl_snapshot_writer_close(snaps);
    snaps = NULL;
    FINISHED(snapshots);
    st = st ? st : closed;
    if (st == NNCL_OK)
        st = run_dir_flush_metrics(run);
    if (st != NNCL_OK)
        goto fail;

    /* An interrupted run is saved as it is, without the test pass (which
     * can take long): `nncl eval RUN_DIR` scores it. */
    if (out.result.status == NNCL_RUN_OK && s.has_test && !run->dry) {
        float *pred = classify ? NULL : malloc(s.test.rows * sizeof(float));
        st = classify || pred ? nncl_net_evaluate(net, &dtest, NULL, pred, &out.test)
                              : nncl_fail(NNCL_E_NOMEM, "out of memory for %zu test predictions", s.test.rows);
        if (st == NNCL_OK && pred)
            regression_metrics(s.test.targets, pred, s.test.rows, &out.test_rmse, &out.test_mae, &out.test_r2);
        free(pred);
        if (st != NNCL_OK || (st = write_test_results(run, net, &dtest, &s.test)) != NNCL_OK)
            goto fail;
        out.tested = true;
    }
    FINISHED(test);
    /* The model is saved unless training diverged (its weights are NaN). */
    if (out.result.status != NNCL_RUN_DIVERGED && !run->dry) {
        char path[4200];
        run_dir_file(run, "model.safetensors", path, sizeof path);
        if ((st = nncl_model_from_net(net, &model)) != NNCL_OK)
            goto fail;
        model.num_classes = classify ? s.train.num_classes : 0;
        model.class_names = s.train.class_names;
        model.image_h = s.train.image_h;
        model.image_w = s.train.image_w;
        model.feature_names = s.train.feature_names;
        model.dataset = s.src.name;
        st = nncl_model_save(path, &model);
        /* The names belong to the dataset. */
        model.class_names = NULL;
        model.feature_names = NULL;
        model.dataset = NULL;
        model.num_classes = 0;
        if (st != NNCL_OK)
            goto fail;
    }
    FINISHED(model);
    if ((st = write_summary(run, nncl_run_status_name(out.result.status), info, &out, classify)) != NNCL_OK)
        goto fail;
    FINISHED(summary);
    test_reached(view.test, AT_SUMMARY, 1);

    /* The report is a view of the run: failing to write it loses nothing, and
     * `nncl report` can try again. */
    if (!o.no_report) {
        char path[4200];
        run_dir_file(run, "report.html", path, sizeof path);
        if (report_write_html(run->path, path) != NNCL_OK)
            fprintf(stderr, "nncl: warning: report.html was not written: %s (nncl report %s tries again)\n",
                    nncl_last_error(), run->path);
    }
    FINISHED(report);
#undef FINISHED

    if (out.result.status == NNCL_RUN_DIVERGED && o.silent) {
        rc = CLI_FAILED;
    } else if (out.result.status == NNCL_RUN_DIVERGED) {
        print_divergence(&out.result.diverged, &o, run->path, run_has_checkpoint(run));
        rc = CLI_FAILED;
    } else {
        /* Early stopping is said, with the epoch whose weights the model keeps. */
        if (!o.quiet && o.early_stop > 0 && out.result.status == NNCL_RUN_OK && out.result.epochs < o.epochs &&
            out.result.best_epoch > 0)
            printf("early stopping: no better validation loss in the %d epochs after epoch %d; stopped after epoch "
                   "%d and kept epoch %d's weights\n",
                   out.result.epochs - out.result.best_epoch, out.result.best_epoch, out.result.epochs,
                   out.result.best_epoch);
        /* A run that ends far worse than guessing learned nothing: say so.
         * (Twice: an untrained network starts about at guessing, a little
         * above or below, so one short epoch must not trip it.) */
        if (!o.silent && out.result.status == NNCL_RUN_OK && view.last_train_loss > 2 * guess_loss)
            cli_warning("the training loss ended at %.4g, more than twice what guessing scores (%.4g, %s): the "
                        "network learned nothing; try a smaller --lr (this run: %g)", view.last_train_loss, guess_loss,
                        classify ? "ln of the number of classes" : "the target's variance", o.schedule.lr);
        if (o.silent)
            ;
        else if (out.result.status == NNCL_RUN_INTERRUPTED)
            printf("interrupted after %d epochs and %llu steps, %.1f s (stopped %.2f s after the signal); the model "
                   "and a checkpoint are saved in %s\n",
                   out.result.epochs, (unsigned long long)out.result.steps, out.result.seconds,
                   out.result.stopped_at - ((double)signal_time.tv_sec + 1e-9 * (double)signal_time.tv_nsec),
                   run->path);
        else if (out.tested && classify)
            printf("test accuracy %.2f%% (loss %.4f) after %d epochs, %.1f s; run saved in %s\n",
                   100 * out.test.accuracy, out.test.loss, out.result.epochs, out.result.seconds, run->path);
        else if (out.tested)
            printf("test RMSE %.6g, MAE %.6g, R2 %.4f after %d epochs, %.1f s; run saved in %s\n",
                   out.test_rmse, out.test_mae, out.test_r2, out.result.epochs, out.result.seconds, run->path);
        else
            printf("no test set; %d epochs, %.1f s; run saved in %s\n", out.result.epochs,
                   out.result.seconds, run->path);
        if (out.result.status == NNCL_RUN_INTERRUPTED && !o.silent)
            fprintf(stderr, "nncl: continue it with: nncl train --resume %s%s%s\n", run->path,
                    s.has_test ? "\n      or score it now with: nncl eval " : "", s.has_test ? run->path : "");
        rc = out.result.status == NNCL_RUN_INTERRUPTED ? 128 + (interrupted ? (int)interrupted : SIGINT) : CLI_OK;
    }
    goto done;

fail:
    rc = cli_fail(st);
    nncl_snapshot_writer_close(snaps);
    snaps = NULL;
    if (run_made) {
        out.error = nncl_last_error();
        run_dir_flush_metrics(run);         /* best effort: the epochs that finished */
        write_summary(run, "failed", info, &out, classify);
        fprintf(stderr, "nncl: the run's record is in %s\n", run->path);
    }
done:
    if (handling) {
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
    }
    json_decref(config);
    nncl_model_free(&model);
    free(shift);
    free(scale);
    nncl_device_data_free(&dtrain);
    nncl_device_data_free(&dval);
    nncl_device_data_free(&dtest);
    nncl_device_data_free(&dprobe);
    nncl_dataset_free(&probe);
    nncl_net_free(net);
    if (!resume)
        run_dir_close(run);
    *sp = s;
    return rc;
}
