/* The run directory: creation without clobbering, and atomic files. */
#include "cli/run_dir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/atomic_file.h"
#include "util/clock.h"
#include "util/mkdir_p.h"

static bool dir_is_empty(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return false;
    struct dirent *e;
    bool empty = true;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            empty = false;
            break;
        }
    closedir(d);
    return empty;
}

static nncl_status make_dir(const char *path)
{
    if (mkdir(path, 0755) == 0)
        return NNCL_OK;
    if (errno == EEXIST)
        return NNCL_E_INVALID;
    return nncl_fail(NNCL_E_IO, "%s: cannot create the run directory: %s", path, strerror(errno));
}

/* Hold the directory's lock for as long as this process trains the run. */
static nncl_status lock_dir(run_dir *r)
{
    r->lock_fd = open(r->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (r->lock_fd < 0)
        return nncl_fail(NNCL_E_IO, "%s: cannot open: %s", r->path, strerror(errno));
    if (flock(r->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(r->lock_fd);
        r->lock_fd = -1;
        if (e == EWOULDBLOCK)
            return nncl_fail(NNCL_E_INVALID, "%s: another nncl process is training this run (it holds the run's lock)",
                             r->path);
        return nncl_fail(NNCL_E_IO, "%s: cannot lock: %s", r->path, strerror(e));
    }
    r->locked = true;
    return NNCL_OK;
}

static nncl_status create_dir(run_dir *r, const char *out_dir, const char *name);

nncl_status run_dir_create(run_dir *r, const char *out_dir, const char *name)
{
    nncl_status st = create_dir(r, out_dir, name);
    return st ? st : lock_dir(r);
}

nncl_status run_dir_open(run_dir *r, const char *path)
{
    memset(r, 0, sizeof *r);
    r->lock_fd = -1;
    if (snprintf(r->path, sizeof r->path, "%s", path) >= (int)sizeof r->path)
        return nncl_fail(NNCL_E_INVALID, "%s: path too long", path);
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return nncl_fail(NNCL_E_IO, "%s: no such run directory", path);
    return lock_dir(r);
}

nncl_status run_dir_dry(run_dir *r, const char *path)
{
    memset(r, 0, sizeof *r);
    r->lock_fd = -1;
    r->dry = true;
    snprintf(r->path, sizeof r->path, "%s", path);
    return NNCL_OK;
}

static nncl_status create_dir(run_dir *r, const char *out_dir, const char *name)
{
    memset(r, 0, sizeof *r);
    r->lock_fd = -1;
    if (out_dir) {
        if (!*out_dir)
            return nncl_fail(NNCL_E_INVALID, "--out: an empty path; name the run directory to create");
        if (snprintf(r->path, sizeof r->path, "%s", out_dir) >= (int)sizeof r->path)
            return nncl_fail(NNCL_E_INVALID, "--out %s: the path is too long", out_dir);
        /* The folders above it are made as needed (--out runs/kaggle/first). */
        char parent[sizeof r->path];
        snprintf(parent, sizeof parent, "%s", out_dir);
        char *slash = strrchr(parent, '/');
        if (slash && slash != parent) {
            *slash = '\0';
            nncl_status pst = nncl_mkdir_p(parent);
            if (pst != NNCL_OK)
                return nncl_fail_context(pst, "--out %s", out_dir);
        }
        nncl_status st = make_dir(r->path);
        if (st == NNCL_E_INVALID) {
            struct stat sb;
            /* Never write into a folder that holds something: it may be a run. */
            if (stat(r->path, &sb) != 0 || !S_ISDIR(sb.st_mode) || !dir_is_empty(r->path))
                return nncl_fail(NNCL_E_INVALID,
                                 "--out %s: already exists and is not an empty directory; "
                                 "nncl never overwrites a run (choose another --out)",
                                 out_dir);
            st = NNCL_OK;
        }
        return st;
    }
    if (mkdir("runs", 0755) != 0 && errno != EEXIST)
        return nncl_fail(NNCL_E_IO, "runs: cannot create: %s", strerror(errno));
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%SZ", &tm);
    for (int n = 1; n < 1000; n++) {
        if (n == 1)
            snprintf(r->path, sizeof r->path, "runs/%s-%s", stamp, name);
        else
            snprintf(r->path, sizeof r->path, "runs/%s-%s-%d", stamp, name, n);
        nncl_status st = make_dir(r->path);
        if (st != NNCL_E_INVALID)
            return st;
    }
    return nncl_fail(NNCL_E_IO, "runs/%s-%s: too many runs with this name in one second", stamp, name);
}

nncl_status run_dir_precheck(const char *out_dir)
{
    if (!out_dir)
        return NNCL_OK;
    if (!*out_dir)
        return nncl_fail(NNCL_E_INVALID, "--out: an empty path; name the run directory to create");
    struct stat sb;
    if (stat(out_dir, &sb) == 0 && (!S_ISDIR(sb.st_mode) || !dir_is_empty(out_dir)))
        return nncl_fail(NNCL_E_INVALID,
                         "--out %s: already exists and is not an empty directory; nncl never overwrites a run "
                         "(choose another --out)", out_dir);
    /* The nearest folder that exists above it must be one we may write in. */
    char up[4096];
    if (snprintf(up, sizeof up, "%s", out_dir) >= (int)sizeof up)
        return nncl_fail(NNCL_E_INVALID, "--out %s: the path is too long", out_dir);
    for (;;) {
        char *slash = strrchr(up, '/');
        if (!slash) {
            snprintf(up, sizeof up, ".");
        } else if (slash == up) {
            up[1] = '\0';
        } else {
            *slash = '\0';
        }
        if (stat(up, &sb) == 0)
            break;
        if (strcmp(up, ".") == 0 || strcmp(up, "/") == 0)
            break;
    }
    if (stat(up, &sb) == 0 && (!S_ISDIR(sb.st_mode) || access(up, W_OK | X_OK) != 0))
        return nncl_fail(NNCL_E_IO, "--out %s: cannot create it in %s: %s", out_dir, up,
                         S_ISDIR(sb.st_mode) ? "not writable" : "not a directory");
    return NNCL_OK;
}

void run_dir_close(run_dir *r)
{
    free(r->metrics);
    r->metrics = NULL;
    if (r->locked) {
        close(r->lock_fd);      /* releases the lock */
        r->locked = false;
        r->lock_fd = -1;
    }
}

nncl_status run_dir_remove(const run_dir *r, const char *file)
{
    if (r->dry)
        return NNCL_OK;
    char path[4200];
    run_dir_file(r, file, path, sizeof path);
    if (unlink(path) != 0 && errno != ENOENT)
        return nncl_fail(NNCL_E_IO, "%s: cannot remove: %s", path, strerror(errno));
    return NNCL_OK;
}

void run_dir_remove_temporaries(const run_dir *r)
{
    static const char *const ours[] = {"config.json", "metrics.csv", "summary.json", "model.safetensors",
                                       "evaluation.json", "report.html", "checkpoint.bin"};
    DIR *d = r->dry ? NULL : opendir(r->path);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        for (size_t i = 0; i < sizeof ours / sizeof ours[0]; i++) {
            size_t n = strlen(ours[i]);
            if (strncmp(e->d_name, ours[i], n) == 0 && strncmp(e->d_name + n, ".tmp-", 5) == 0) {
                run_dir_remove(r, e->d_name);
                break;
            }
        }
    closedir(d);
}

nncl_status run_dir_reset_metrics(run_dir *r, const nncl_epoch_metrics *epochs, int n)
{
    r->metrics_len = r->metrics_written = 0;
    if (n == 0)
        return run_dir_remove(r, "metrics.csv");
    /* Added as training adds them, and written once at the end. */
    r->metrics_written_at = nncl_seconds_now();
    for (int e = 0; e < n; e++) {
        nncl_status st = run_dir_add_metrics(r, &epochs[e]);
        if (st != NNCL_OK)
            return st;
    }
    return run_dir_flush_metrics(r);
}

void run_dir_file(const run_dir *r, const char *file, char *out, size_t len)
{
    snprintf(out, len, "%s/%s", r->path, file);
}

nncl_status run_dir_write_json(const run_dir *r, const char *file, json_t *value)
{
    if (r->dry)
        return NNCL_OK;
    char path[4200];
    run_dir_file(r, file, path, sizeof path);
    char *text = json_dumps(value, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (!text)
        return nncl_fail(NNCL_E_NOMEM, "%s: out of memory writing JSON", path);
    size_t len = strlen(text);
    text[len] = '\n'; /* replaces the NUL; written with its length */
    nncl_status st = nncl_write_file_atomic(path, text, len + 1);
    free(text);
    return st;
}

static bool append(run_dir *r, const char *s)
{
    size_t n = strlen(s);
    if (r->metrics_len + n + 1 > r->metrics_cap) {
        size_t cap = r->metrics_cap ? r->metrics_cap * 2 : 4096;
        while (cap < r->metrics_len + n + 1)
            cap *= 2;
        char *grown = realloc(r->metrics, cap);
        if (!grown)
            return false;
        r->metrics = grown;
        r->metrics_cap = cap;
    }
    memcpy(r->metrics + r->metrics_len, s, n + 1);
    r->metrics_len += n;
    return true;
}

/* %.9g round-trips a float; NaN (no validation set) is written empty. */
static void number(char *out, size_t len, double v)
{
    if (isnan(v))
        out[0] = '\0';
    else
        snprintf(out, len, "%.9g", v);
}

nncl_status run_dir_add_metrics(run_dir *r, const nncl_epoch_metrics *m)
{
    if (r->metrics_len == 0 &&
        !append(r, r->regress ? "epoch,step,train_loss,train_mae,val_loss,val_mae,lr,seconds\n"
                              : "epoch,step,train_loss,train_accuracy,val_loss,val_accuracy,lr,seconds\n"))
        return nncl_fail(NNCL_E_NOMEM, "out of memory for metrics");
    char tl[32], ta[32], vl[32], va[32], lr[32], line[256];
    number(tl, sizeof tl, m->train_loss);
    number(ta, sizeof ta, m->train_accuracy);
    number(vl, sizeof vl, m->val_loss);
    number(va, sizeof va, m->val_accuracy);
    number(lr, sizeof lr, m->lr);
    snprintf(line, sizeof line, "%d,%lu,%s,%s,%s,%s,%s,%.3f\n", m->epoch, m->step, tl, ta, vl, va, lr,
             m->seconds);
    if (!append(r, line))
        return nncl_fail(NNCL_E_NOMEM, "out of memory for metrics");
    if (r->metrics_written_at > 0 && nncl_seconds_now() - r->metrics_written_at < 1.0)
        return NNCL_OK;
    return run_dir_flush_metrics(r);
}

nncl_status run_dir_flush_metrics(run_dir *r)
{
    if (r->metrics_len == r->metrics_written || r->dry)
        return NNCL_OK;
    char path[4200];
    run_dir_file(r, "metrics.csv", path, sizeof path);
    nncl_status st = nncl_write_file_atomic(path, r->metrics, r->metrics_len);
    if (st == NNCL_OK) {
        r->metrics_written = r->metrics_len;
        r->metrics_written_at = nncl_seconds_now();
    }
    return st;
}
