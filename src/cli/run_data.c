/* config.json's "data_paths": where a run's data lies (as given, absolute,
 * relative to the run directory) and each file's SHA-256; finding the data
 * again from any directory, and refusing data that changed. */
#include "cli/run_data.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/paths.h"

/* ---- recording ----------------------------------------------------------------- */

/* The run directory's realpath and how many ".." lead from it to that
 * directory: o->out_dir itself (0), or for the default runs/<name>, runs/
 * (1: the run's own folder is one level below, and new, so no link). */
static bool run_dir_base(const train_options *o, char *base, size_t len, int *up)
{
    char real[PATH_MAX];
    *up = o->out_dir ? 0 : 1;
    if (!realpath(o->out_dir ? o->out_dir : "runs", real))
        return false;
    return snprintf(base, len, "%s", real) < (int)len;
}

/* {"given", "absolute", "from_run"} for a path the command line gave. */
static json_t *where(const char *given, const char *base, int up)
{
    char abs[4200], rel[4200], from_run[4300];
    json_t *j = json_pack("{s:s}", "given", given);
    if (!j)
        return NULL;
    bool have_abs = path_absolute(given, abs, sizeof abs);
    json_object_set_new(j, "absolute", have_abs ? json_string(abs) : json_null());
    if (have_abs && base && path_relative(abs, base, rel, sizeof rel)) {
        snprintf(from_run, sizeof from_run, "%s%s", up ? "../" : "", rel);
        json_object_set_new(j, "from_run", json_string(from_run));
    } else {
        json_object_set_new(j, "from_run", json_null());
    }
    return j;
}

/* Whether --data named a path (a file or folder there) rather than a
 * dataset found by name. */
static bool is_path(const char *data)
{
    struct stat sb;
    return stat(data, &sb) == 0;
}

json_t *run_data_record(const train_options *o, const splits *s)
{
    char base_buf[PATH_MAX];
    int up;
    const char *base = run_dir_base(o, base_buf, sizeof base_buf, &up) ? base_buf : NULL;
    json_t *j = json_object();
    if (!j)
        return NULL;
    json_object_set_new(j, "data", o->data && is_path(o->data) ? where(o->data, base, up) : json_null());
    /* Each file's hash as the load computed it (not read twice; one file's
     * is the data's, "" for a pipe, whose bytes cannot be read again). */
    json_t *files = json_array();
    for (int i = 0; i < s->src.num_files; i++) {
        char hex[65];
        const char *file = s->src.files[i];
        if (s->src.file_sha256[i][0])
            snprintf(hex, sizeof hex, "%s", s->src.file_sha256[i]);
        else if (s->src.num_files == 1)
            snprintf(hex, sizeof hex, "%s", s->src.sha256);
        else if (nncl_sha256_files((const char *const *)&file, 1, hex) != NNCL_OK)
            goto fail;
        json_array_append_new(files, json_pack("{s:s, s:s}", "path", file, "sha256", hex));
    }
    json_object_set_new(j, "files", files);
    if (o->test_file) {
        char hex[65];
        if (nncl_sha256_files(&o->test_file, 1, hex) != NNCL_OK)
            goto fail;
        json_t *t = where(o->test_file, base, up);
        json_object_set_new(t, "sha256", json_string(hex));
        json_object_set_new(j, "test", t);
    } else {
        json_object_set_new(j, "test", json_null());
    }
    return j;
fail:
    json_decref(j);
    return NULL;
}

/* ---- finding ------------------------------------------------------------------- */

static const char *str(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static bool exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* run_dir/from_run, its folder made canonical ("runs/a/../../data/t.csv"
 * reads "/home/me/proj/data/t.csv") but its base name kept: a dataset
 * folder's name says which class names it has. */
static void join_run(const char *run_dir, const char *from_run, char *out, size_t len)
{
    snprintf(out, len, "%s/%s", run_dir, from_run);
    const char *slash = strrchr(out, '/');
    char dir[4300], real[PATH_MAX];
    snprintf(dir, sizeof dir, "%.*s", (int)(slash - out), out);
    const char *base = slash + 1;
    if (!*base || strcmp(base, "..") == 0 || strcmp(base, ".") == 0 || !realpath(dir, real))
        return;
    size_t rn = strlen(real), bn = strlen(base);
    if (rn + 1 + bn + 1 > len)
        return;         /* too long to tidy: the path as joined works too */
    memmove(out + rn + 1, base, bn + 1);
    memcpy(out, real, rn);
    out[rn] = '/';
    if (rn == 1)        /* real is "/" */
        memmove(out + 1, out + 2, bn + 1);
}

/* Find one recorded path (w: {"given", "absolute", "from_run"}). */
static nncl_status find(json_t *w, const char *run_dir, const char *config_path, char *out, size_t len,
                        char *note, size_t note_len)
{
    const char *given = str(w, "given"), *abs = str(w, "absolute"), *from_run = str(w, "from_run");
    if (!given)
        return nncl_fail(NNCL_E_FORMAT, "%s: data_paths without \"given\"", config_path);
    char cand[3][4300];
    const char *why[3];
    int n = 0;
    if (from_run) {
        join_run(run_dir, from_run, cand[n], sizeof cand[n]);
        why[n++] = "relative to the run directory";
    }
    if (abs) {
        snprintf(cand[n], sizeof cand[n], "%s", abs);
        why[n++] = "the absolute path recorded";
    }
    snprintf(cand[n], sizeof cand[n], "%s", given);
    why[n++] = "as given to train, from the current directory";
    for (int i = 0; i < n; i++) {
        if (!exists(cand[i]))
            continue;
        if (snprintf(out, len, "%s", cand[i]) >= (int)len)
            return nncl_fail(NNCL_E_INVALID, "%s: path too long", cand[i]);
        if (i > 0) {
            size_t k = strlen(note);
            snprintf(note + k, note_len - k, "nncl: note: %s: using %s (%s); not found at %s (%s)\n", given,
                     cand[i], why[i], cand[0], why[0]);
        }
        return NNCL_OK;
    }
    char tried[3 * 4400];
    size_t k = 0;
    tried[0] = '\0';
    for (int i = 0; i < n && k < sizeof tried; i++)
        k += (size_t)snprintf(tried + k, sizeof tried - k, "%s%s (%s)", i ? ", " : "", cand[i], why[i]);
    return nncl_fail(NNCL_E_NOT_FOUND,
                     "%s: the run's data is not where it was: tried %s; evaluate on a file you name with "
                     "--data FILE",
                     given, tried);
}

nncl_status run_data_locate(json_t *config, const char *run_dir, run_data_found *f)
{
    memset(f, 0, sizeof *f);
    char config_path[4300];
    snprintf(config_path, sizeof config_path, "%s/config.json", run_dir);
    json_t *data = json_object_get(config, "data");
    const char *name = str(data, "name"), *from = str(data, "test_from");
    if (!name)
        return nncl_fail(NNCL_E_FORMAT, "%s: no data.name", config_path);
    snprintf(f->data, sizeof f->data, "%s", name);
    if (from && strncmp(from, "--test ", 7) == 0)
        snprintf(f->test, sizeof f->test, "%s", from + 7);
    json_t *paths = json_object_get(config, "data_paths");
    if (!json_is_object(paths))
        return NNCL_OK;     /* recorded before data_paths: as it was given */
    nncl_status st = NNCL_OK;
    json_t *d = json_object_get(paths, "data"), *t = json_object_get(paths, "test");
    if (json_is_object(d))
        st = find(d, run_dir, config_path, f->data, sizeof f->data, f->note, sizeof f->note);
    if (st == NNCL_OK && json_is_object(t) && f->test[0])
        st = find(t, run_dir, config_path, f->test, sizeof f->test, f->note, sizeof f->note);
    return st;
}

/* ---- checking ------------------------------------------------------------------ */

static nncl_status changed(const char *file, const char *had, const char *now)
{
    return nncl_fail(NNCL_E_FORMAT,
                     "%s changed since the run: config.json records SHA-256 %s, it now hashes to %s", file, had,
                     now);
}

/* data.sha256 differs: name the file that changed, where each file's hash
 * was recorded, else the data as a whole. */
static nncl_status data_changed(json_t *config, const splits *s, const char *had)
{
    json_t *files = json_object_get(json_object_get(config, "data_paths"), "files");
    size_t n = json_array_size(files);
    if (n == (size_t)s->src.num_files && n > 1) {
        for (size_t i = 0; i < n; i++) {
            const char *fhad = str(json_array_get(files, i), "sha256");
            char hex[65];
            const char *file = s->src.files[i];
            if (!fhad || nncl_sha256_files(&file, 1, hex) != NNCL_OK)
                break;
            if (strcmp(fhad, hex) != 0)
                return changed(file, fhad, hex);
        }
    }
    const char *what = s->src.num_files == 1 ? s->src.files[0] : s->src.name;
    return changed(what, had, s->src.sha256);
}

nncl_status run_data_verify(json_t *config, const splits *s, const run_data_found *f)
{
    const char *had = str(json_object_get(config, "data"), "sha256");
    if (had && *had && strcmp(had, s->src.sha256) != 0)
        return data_changed(config, s, had);
    json_t *t = json_object_get(json_object_get(config, "data_paths"), "test");
    const char *thad = str(t, "sha256");
    if (thad && f->test[0]) {
        char hex[65];
        const char *file = f->test;
        nncl_status st = nncl_sha256_files(&file, 1, hex);
        if (st != NNCL_OK)
            return st;
        if (strcmp(thad, hex) != 0)
            return changed(f->test, thad, hex);
    }
    return NNCL_OK;
}
