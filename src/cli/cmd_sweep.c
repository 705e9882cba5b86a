/* `nncl sweep`: a set of training runs over a grid (or a random sample) of
 * hyper-parameters, each a normal run directory under the sweep directory,
 * recorded in its sweep.json. Trials in one process share the device and
 * the loaded dataset; --jobs J runs J worker processes that claim trials by
 * creating their directories (mkdir is atomic), so no two run the same one.
 * sweep.json is always derived from the trial directories' summary.json
 * files, so whatever happened to a worker, the record says what exists.
 * Under mpirun with 2 or more ranks, rank 0 hands the trials out to the
 * others instead (sweep_ranks.c). */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <dirent.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/sweep_plan.h"
#include "cli/sweep_run.h"
#include "cli/train_run.h"
#include "report/run_record.h"
#include "util/atomic_file.h"
#include "util/json_same.h"
#include "util/mkdir_p.h"

/* ---- the trial directories ---------------------------------------------------------- */

static void join(char *out, size_t len, const char *dir, const char *name)
{
    snprintf(out, len, "%s/%s", dir, name);
}

/* The trial's summary.json, or NULL (no directory, or no summary yet). */
static json_t *trial_summary(const char *sweep_dir, const sweep_trial *t)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/%s/summary.json", sweep_dir, t->dir);
    return json_load_file(path, 0, NULL);
}

/* "ok", "diverged", "failed", "interrupted", "running", or "pending" (no
 * directory) / "started" (a directory without a summary). */
static const char *trial_status(const char *sweep_dir, const sweep_trial *t, json_t *summary)
{
    char path[4400];
    join(path, sizeof path, sweep_dir, t->dir);
    struct stat sb;
    if (stat(path, &sb) != 0)
        return "pending";
    const char *s = json_string_value(json_object_get(summary, "status"));
    return s ? s : "started";
}

static bool finished(const char *status)
{
    return strcmp(status, "ok") == 0 || strcmp(status, "diverged") == 0 || strcmp(status, "failed") == 0;
}

/* Remove an unfinished trial's directory so it can run again. Only what a
 * run writes is removed: anything else there stops the sweep. */
static nncl_status remove_trial(const char *sweep_dir, const sweep_trial *t)
{
    static const char *const ours[] = {"config.json", "metrics.csv", "summary.json", "model.safetensors",
                                       "snapshots.bin", "evaluation.json", "report.html", "checkpoint.bin"};
    char dir[4400], path[4700];
    join(dir, sizeof dir, sweep_dir, t->dir);
    DIR *d = opendir(dir);
    if (!d)
        return nncl_fail(NNCL_E_IO, "%s: cannot open: %s", dir, strerror(errno));
    nncl_status st = NNCL_OK;
    struct dirent *e;
    while (st == NNCL_OK && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        bool known = strstr(e->d_name, ".tmp") != NULL;     /* an atomic write's leftover */
        for (size_t i = 0; i < sizeof ours / sizeof ours[0]; i++)
            known = known || strcmp(e->d_name, ours[i]) == 0;
        if (!known) {
            st = nncl_fail(NNCL_E_INVALID, "%s: holds %s, which nncl did not write: move it away to rerun the trial",
                           dir, e->d_name);
            break;
        }
        join(path, sizeof path, dir, e->d_name);
        if (unlink(path) != 0)
            st = nncl_fail(NNCL_E_IO, "%s: cannot remove: %s", path, strerror(errno));
    }
    closedir(d);
    if (st == NNCL_OK && rmdir(dir) != 0)
        st = nncl_fail(NNCL_E_IO, "%s: cannot remove: %s", dir, strerror(errno));
    return st;
}

/* ---- sweep.json --------------------------------------------------------------------- */

/* lost: the trial was running on a rank that is gone (or going), so an
 * unfinished record reads "interrupted" (the next run reruns it). */
static json_t *trial_json(const sweep_plan *p, size_t i, const char *sweep_dir, bool lost)
{
    const sweep_trial *t = &p->trials[i];
    json_t *values = json_object();
    for (int a = 0; a < p->n_axes; a++) {
        char flag[40];
        snprintf(flag, sizeof flag, "--%s", p->axes[a].flag);
        json_object_set_new(values, flag, json_string(t->values[a]));
    }
    json_t *summary = trial_summary(sweep_dir, t);
    const char *status = trial_status(sweep_dir, t, summary);
    if (lost && !finished(status))
        status = "interrupted";
    json_t *o = json_pack("{s:I, s:s, s:o, s:s}", "index", (json_int_t)(i + 1), "dir", t->dir, "values", values,
                          "status", status);
    static const char *const keep[] = {"best_val_accuracy", "best_val_mae", "test_accuracy", "test_rmse", "test_r2",
                                       "epochs", "seconds", "error"};
    for (size_t k = 0; summary && k < sizeof keep / sizeof keep[0]; k++) {
        json_t *v = json_object_get(summary, keep[k]);
        if (v)
            json_object_set(o, keep[k], v);
    }
    json_decref(summary);
    return o;
}

nncl_status sweep_write_json(const sweep_plan *p, const char *sweep_dir, int argc, char **argv, const bool *lost)
{
    json_t *cmd = cli_command_json(argc, argv), *trials = json_array(), *counts = json_object();
    for (size_t i = 0; i < p->n_trials; i++) {
        json_t *t = trial_json(p, i, sweep_dir, lost && lost[i]);
        const char *s = json_string_value(json_object_get(t, "status"));
        json_object_set_new(counts, s, json_integer(json_integer_value(json_object_get(counts, s)) + 1));
        json_array_append_new(trials, t);
    }
    json_t *j = json_pack("{s:i, s:o, s:o, s:o, s:o}", "format", 1, "command", cmd, "plan", sweep_plan_json(p),
                          "counts", counts, "trials", trials);
    char *text = json_dumps(j, JSON_INDENT(1) | JSON_ENSURE_ASCII);
    json_decref(j);
    if (!text)
        return nncl_fail(NNCL_E_NOMEM, "out of memory writing sweep.json");
    char path[4200];
    join(path, sizeof path, sweep_dir, "sweep.json");
    nncl_status st = nncl_write_file_atomic(path, text, strlen(text));
    free(text);
    return st;
}

/* One line per flag whose plan differs: what the sweep has, what the command says. */
static void describe_difference(json_t *had, json_t *now, char *out, size_t len)
{
    size_t n = 0;
    out[0] = '\0';
    const char *keys[] = {"axes", "fixed", "seeds", "random", "sample_seed"};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0] && n < len; k++) {
        json_t *a = json_object_get(had, keys[k]), *b = json_object_get(now, keys[k]);
        if (nncl_json_same(a, b))
            continue;
        char *sa = json_dumps(a, JSON_COMPACT | JSON_ENCODE_ANY), *sb = json_dumps(b, JSON_COMPACT | JSON_ENCODE_ANY);
        n += (size_t)snprintf(out + n, len - n, "\n  %s: the sweep has %s; this command %s", keys[k],
                              sa ? sa : "?", sb ? sb : "?");
        free(sa);
        free(sb);
    }
}

/* An existing sweep directory must hold this very plan. */
static nncl_status check_existing(const sweep_plan *p, const char *sweep_dir, bool *exists)
{
    char path[4200];
    join(path, sizeof path, sweep_dir, "sweep.json");
    struct stat sb;
    *exists = false;
    if (stat(sweep_dir, &sb) != 0)
        return NNCL_OK;
    if (!S_ISDIR(sb.st_mode))
        return nncl_fail(NNCL_E_INVALID, "%s: exists and is not a directory", sweep_dir);
    if (stat(path, &sb) != 0) {
        DIR *d = opendir(sweep_dir);
        struct dirent *e;
        bool empty = true;
        while (d && (e = readdir(d)) != NULL)
            empty = empty && (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0);
        if (d)
            closedir(d);
        return empty ? NNCL_OK
                     : nncl_fail(NNCL_E_INVALID, "%s: exists and is not a sweep (no sweep.json): choose another --out",
                                 sweep_dir);
    }
    *exists = true;
    json_t *j;
    nncl_status st = run_json_object_read(path, &j);
    if (st != NNCL_OK)
        return nncl_fail_context(st, "a half-written or damaged sweep.json");
    json_t *had = json_object_get(j, "plan");
    if (!json_is_object(had) || !json_is_array(json_object_get(j, "trials"))) {
        json_decref(j);
        return nncl_fail(NNCL_E_FORMAT, "%s: half-written or not a sweep file (no plan or trials)", path);
    }
    json_t *now = sweep_plan_json(p);
    if (!nncl_json_same(had, now)) {   /* by value: 1 and 1.0 alike */
        char diff[2048];
        describe_difference(had, now, diff, sizeof diff);
        st = nncl_fail(NNCL_E_INVALID, "%s holds a different sweep; run the same command to resume it, or choose "
                                       "another --out:%s", sweep_dir, diff);
    }
    json_decref(now);
    json_decref(j);
    return st;
}

/* ---- running ---------------------------------------------------------------------- */

static void on_signal(int sig)
{
    *train_stop_flag() = sig;
}


/* The highest validation accuracy any epoch of a trial reached, and that
 * epoch (run_metrics_best_val, as nncl compare's "best val acc"); NAN when
 * its metrics.csv has none. */
static double trial_best_val(const char *sweep_dir, const char *dir, int *epoch)
{
    char path[4200], metrics[4300];
    nncl_epoch_metrics *e = NULL;
    size_t n = 0;
    if (!dir)
        return NAN;
    join(path, sizeof path, sweep_dir, dir);
    join(metrics, sizeof metrics, path, "metrics.csv");
    if (run_metrics_read(metrics, &e, &n) != NNCL_OK) {
        nncl_clear_error();
        return NAN;
    }
    double best = run_metrics_best_val(e, n, true, epoch);
    free(e);
    return best;
}

static nncl_status write_sweep_json(const sweep_plan *p, const char *sweep_dir, int argc, char **argv)
{
    return sweep_write_json(p, sweep_dir, argc, argv, NULL);
}

void sweep_print_trial(const sweep_plan *p, size_t i, const char *sweep_dir, const char *who)
{
    json_t *t = trial_json(p, i, sweep_dir, false);
    char label[512], result[160] = "";
    sweep_trial_label(p, i, label, sizeof label);
    json_t *acc = json_object_get(t, "test_accuracy"), *val = json_object_get(t, "best_val_accuracy");
    json_t *rmse = json_object_get(t, "test_rmse"), *r2 = json_object_get(t, "test_r2");
    int n = 0;
    int epoch = 0;
    double best = json_is_number(val) ? trial_best_val(sweep_dir, json_string_value(json_object_get(t, "dir")), &epoch)
                                      : NAN;
    if (!isnan(best))
        n += snprintf(result + n, sizeof result - (size_t)n, ", best val acc %.2f%% (epoch %d)", 100 * best, epoch);
    else if (json_is_number(val))
        n += snprintf(result + n, sizeof result - (size_t)n, ", best val acc %.2f%%", 100 * json_number_value(val));
    if (json_is_number(acc))
        n += snprintf(result + n, sizeof result - (size_t)n, ", test acc %.2f%%", 100 * json_number_value(acc));
    if (json_is_number(rmse) && json_is_number(r2))
        n += snprintf(result + n, sizeof result - (size_t)n, ", test RMSE %.4g, R2 %.4f", json_number_value(rmse),
                      json_number_value(r2));
    if (json_is_number(json_object_get(t, "seconds")))
        snprintf(result + n, sizeof result - (size_t)n, ", %.1f s", json_number_value(json_object_get(t, "seconds")));
    printf("trial %zu/%zu%s%s%s  %s: %s%s\n", i + 1, p->n_trials, who ? " (" : "", who ? who : "", who ? ")" : "", label,
           json_string_value(json_object_get(t, "status")), result);
    fflush(stdout);
    json_decref(t);
}

void sweep_data_cache_free(sweep_data_cache *c)
{
    nncl_data_source_free(&c->src);
    c->loaded = false;
}

/* The data options that decide what is read (not how it is split). */
static void data_key(const train_options *o, char *out, size_t len)
{
    snprintf(out, len, "%s|%s|%d", o->data ? o->data : "mnist", o->label ? o->label : "", (int)o->task);
}

int sweep_run_trial(const sweep_plan *p, const char *sweep_dir, size_t i, nncl_device *dev, sweep_data_cache *cache,
                    bool *claimed)
{
    char dir[4400];
    *claimed = false;
    join(dir, sizeof dir, sweep_dir, p->trials[i].dir);
    if (mkdir(dir, 0755) != 0)
        return errno == EEXIST ? CLI_OK     /* finished, or claimed by another job */
                               : cli_fail(nncl_fail(NNCL_E_IO, "%s: cannot create: %s", dir, strerror(errno)));
    *claimed = true;
    char **targv;
    int targc = sweep_trial_argv(p, i, sweep_dir, &targv);
    train_options o;
    cli_globals g = {0};
    if (targc < 0 || train_options_parse(&o, &g, targc, targv) != CLI_OK) {
        free(targv);
        rmdir(dir);
        return CLI_USAGE;
    }
    o.quiet = o.silent = true;
    char key[4200];
    data_key(&o, key, sizeof key);
    nncl_status st = NNCL_OK;
    if (!cache->loaded || strcmp(key, cache->key) != 0) {
        sweep_data_cache_free(cache);
        if ((st = load_source(&o, &cache->src)) == NNCL_OK) {
            cache->loaded = true;
            snprintf(cache->key, sizeof cache->key, "%s", key);
        }
    }
    splits s;
    memset(&s, 0, sizeof s);
    if (st == NNCL_OK)
        st = load_splits_from(&o, &cache->src, &s);
    if (st != NNCL_OK) {
        /* Bad data fails every trial alike: stop, leaving this one to rerun. */
        int rc = cli_fail(st);
        splits_free(&s);
        free(targv);
        rmdir(dir);
        return rc;
    }
    /* A diverged or failed trial is a result, recorded in its directory:
     * the sweep goes on, so train_run's exit code is not the sweep's. */
    (void)train_run(dev, &o, &s, targc, targv, NULL);
    splits_free(&s);
    free(targv);
    return CLI_OK;
}

/* Run every unfinished trial this process can claim. worker < 0: the only
 * one (it writes sweep.json after each trial). Returns an exit code. */
static int run_trials(const sweep_plan *p, const char *sweep_dir, int worker, int argc, char **argv)
{
    nncl_device *dev = NULL;
    int rc = cli_open_device(p->device, &dev);
    if (rc != CLI_OK)
        return rc;
    sweep_data_cache cache = {0};
    volatile sig_atomic_t *stop = train_stop_flag();
    char who[32];
    snprintf(who, sizeof who, "job %d", worker + 1);
    for (size_t i = 0; i < p->n_trials && rc == CLI_OK && !*stop; i++) {
        bool claimed;
        rc = sweep_run_trial(p, sweep_dir, i, dev, &cache, &claimed);
        if (rc != CLI_OK || !claimed)
            continue;
        sweep_print_trial(p, i, sweep_dir, worker >= 0 ? who : NULL);
        if (worker < 0) {
            nncl_status w = write_sweep_json(p, sweep_dir, argc, argv);
            if (w != NNCL_OK)
                rc = cli_fail(w);
        }
    }
    sweep_data_cache_free(&cache);
    nncl_device_close(dev);
    return rc == CLI_OK && *stop ? 128 + (int)*stop : rc;
}

/* --jobs J: J worker processes, each with 1/J of the CPU threads. */
static int run_jobs(const sweep_plan *p, const char *sweep_dir, int argc, char **argv)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int each = cores / p->jobs > 0 ? (int)(cores / p->jobs) : 1;
    fflush(stdout);
    fflush(stderr);
    int started = 0, rc = CLI_OK;
    for (int j = 0; j < p->jobs; j++) {
        pid_t pid = fork();
        if (pid == 0) {
            /* Before any OpenCL call in this process (PoCL reads its limit
             * when it starts); OpenBLAS, loaded before main, is told at run
             * time. A limit the user set is kept. */
            nncl_cpu_threads_limit(each);
            fflush(stdout);
            _exit(run_trials(p, sweep_dir, j, argc, argv));
        }
        if (pid < 0) {
            rc = cli_fail(nncl_fail(NNCL_E_IO, "cannot start job %d: %s", j + 1, strerror(errno)));
            break;
        }
        started++;
    }
    /* Keep sweep.json current while the jobs run. */
    int running = started;
    while (running > 0) {
        int status;
        pid_t done = waitpid(-1, &status, WNOHANG);
        if (done > 0) {
            running--;
            int code = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
            if (code != CLI_OK && (rc == CLI_OK || code == 128 + SIGINT || code == 128 + SIGTERM))
                rc = code;
            continue;
        }
        if (done < 0 && errno != EINTR)
            break;
        write_sweep_json(p, sweep_dir, argc, argv);
        struct timespec ts = {0, 250 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    nncl_status st = write_sweep_json(p, sweep_dir, argc, argv);
    return st == NNCL_OK ? rc : cli_fail(st);
}

/* Rank 0's (or the only process's) part: check the plan, make or resume
 * the sweep directory, run or hand out the trials, say how it went. */
static int lead_sweep(const sweep_plan *p, const char *out, int size, int argc, char **argv)
{
    int rc = CLI_OK;
    if (size > 1 && p->jobs > 1) {
        cli_error("--jobs %d under mpirun: every rank trains one trial at a time; start more ranks instead", p->jobs);
        rc = CLI_USAGE;
    }
    /* Every trial's flags are checked before anything runs. */
    for (size_t i = 0; i < p->n_trials && rc == CLI_OK; i++) {
        char **targv;
        int targc = sweep_trial_argv(p, i, out, &targv);
        train_options o;
        cli_globals tg = {0};
        bool parsed = targc >= 0 && train_options_parse(&o, &tg, targc, targv) == CLI_OK;
        if (parsed && i == 0)
            train_options_warn(&o, false);      /* once: the flags that do not vary are every trial's */
        if (!parsed) {
            char label[512];
            sweep_trial_label(p, i, label, sizeof label);
            cli_error("in trial %zu (%s); nothing was run", i + 1, label);
            rc = CLI_USAGE;
        }
        free(targv);
    }
    bool exists = false;
    nncl_status st = rc == CLI_OK ? check_existing(p, out, &exists) : NNCL_OK;
    if (st == NNCL_OK && rc == CLI_OK && !exists && (st = nncl_mkdir_p(out)) != NNCL_OK)
        rc = cli_fail(st);
    else if (st != NNCL_OK)
        rc = cli_fail(st);
    /* Resuming: finished trials stay, unfinished ones run again. */
    size_t done = 0;
    bool *todo = calloc(p->n_trials ? p->n_trials : 1, sizeof *todo);
    if (!todo && rc == CLI_OK)
        rc = cli_fail(nncl_fail(NNCL_E_NOMEM, "out of memory"));
    for (size_t i = 0; i < p->n_trials && rc == CLI_OK; i++) {
        json_t *summary = trial_summary(out, &p->trials[i]);
        const char *status = trial_status(out, &p->trials[i], summary);
        todo[i] = !finished(status);
        if (!todo[i])
            done++;
        else if (strcmp(status, "pending") != 0 && (st = remove_trial(out, &p->trials[i])) != NNCL_OK)
            rc = cli_fail(st);
        json_decref(summary);
    }
    if (rc == CLI_OK && (st = write_sweep_json(p, out, argc, argv)) != NNCL_OK)
        rc = cli_fail(st);
    if (rc != CLI_OK) {
        if (size > 1)
            sweep_ranks_lead(p, out, todo, rc, argc, argv);   /* tells the other ranks to leave */
        free(todo);
        return rc;
    }
    printf("sweep: %zu trials in %s", p->n_trials, out);
    if (done)
        printf(" (%zu finished before, kept)", done);
    if (p->jobs > 1)
        printf(", %d at a time", p->jobs);
    if (size > 1)
        printf(", handed out to %d ranks", size - 1);
    printf("\n");
    fflush(stdout);

    struct sigaction sa = {0}, old_int, old_term;
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    rc = size > 1 ? sweep_ranks_lead(p, out, todo, CLI_OK, argc, argv)
         : p->jobs > 1 ? run_jobs(p, out, argc, argv)
                      : run_trials(p, out, -1, argc, argv);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    free(todo);
    if (size == 1 && (st = write_sweep_json(p, out, argc, argv)) != NNCL_OK && rc == CLI_OK)
        rc = cli_fail(st);

    size_t ok = 0, fin = 0;
    for (size_t i = 0; i < p->n_trials; i++) {
        json_t *summary = trial_summary(out, &p->trials[i]);
        const char *status = trial_status(out, &p->trials[i], summary);
        fin += finished(status);
        ok += strcmp(status, "ok") == 0;
        json_decref(summary);
    }
    if (rc == 128 + SIGINT || rc == 128 + SIGTERM)
        printf("sweep interrupted: %zu of %zu trials finished; the same command resumes it\n", fin, p->n_trials);
    else
        printf("sweep: %zu of %zu trials finished (%zu ok); compare them: nncl compare %s\n", fin, p->n_trials, ok, out);
    return rc;
}

/* Another rank under mpirun: train what rank 0 hands out. */
static int follow_sweep(const sweep_plan *p, const char *out)
{
    struct sigaction sa = {0}, old_int, old_term;
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    int rc = sweep_ranks_follow(p, out);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    return rc;
}

int cmd_sweep(const cli_globals *g, int argc, char **argv)
{
    int rank = 0, size = 1;
    int rc = sweep_ranks_start(&rank, &size);
    if (rc != CLI_OK)
        return rc;
    sweep_plan p;
    sweep_ranks_hush(rank != 0);
    rc = sweep_plan_parse(&p, g->device, argc, argv);
    sweep_ranks_hush(false);
    if (rc != CLI_OK) {
        sweep_plan_free(&p);
        return sweep_ranks_finish(rc < 0 ? CLI_OK : rc);
    }
    char out[4096];
    if (p.out) {
        snprintf(out, sizeof out, "%s", p.out);
    } else {
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(out, sizeof out, "sweeps/%Y%m%d-%H%M%SZ", &tm);
    }
    if (size > 1)
        rc = sweep_ranks_share_dir(out, sizeof out);    /* rank 0's clock names it */
    if (rc == CLI_OK)
        rc = rank == 0 ? lead_sweep(&p, out, size, argc, argv) : follow_sweep(&p, out);
    sweep_plan_free(&p);
    return sweep_ranks_finish(rc);
}
