/* nncl_data_resolve: a dataset name or path to loaded train/test sets. */
#include "nncl/data.h"
#include "data/data_internal.h"
#include "nncl_config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define DEBIAN_FASHION_DIR "/usr/share/datasets/fashion-mnist"

static bool is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static bool is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static char *join(const char *a, const char *b, const char *c)
{
    size_t n = strlen(a) + strlen(b) + (c ? strlen(c) : 0) + 2;
    char *s = malloc(n);
    if (s) snprintf(s, n, "%s/%s%s", a, b, c ? c : "");
    return s;
}

/* dir/base, else dir/base.gz, else NULL. */
static char *find_idx(const char *dir, const char *base)
{
    char *p = join(dir, base, NULL);
    if (p && is_file(p)) return p;
    free(p);
    p = join(dir, base, ".gz");
    if (p && is_file(p)) return p;
    free(p);
    return NULL;
}

static const char *canonical(const char *name)
{
    if (strcasecmp(name, "mnist") == 0) return "mnist";
    if (strcasecmp(name, "fashion-mnist") == 0 || strcasecmp(name, "fashion_mnist") == 0 ||
        strcasecmp(name, "fashionmnist") == 0)
        return "fashion-mnist";
    return NULL;
}

static const char *base_name(const char *path)
{
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/') n--;
    static _Thread_local char buf[256];
    size_t i = n;
    while (i > 0 && path[i - 1] != '/') i--;
    size_t len = n - i < sizeof buf - 1 ? n - i : sizeof buf - 1;
    memcpy(buf, path + i, len);
    buf[len] = '\0';
    return buf;
}

static nncl_status load_dir(const char *dir, const char *kind, const nncl_resolve_options *o,
                            nncl_data_source *out)
{
    static const char *const names[4] = {
        "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
    };
    char *f[4];
    for (int i = 0; i < 4; i++) f[i] = find_idx(dir, names[i]);
    nncl_status st = NNCL_OK;
    if (!f[0] || !f[1]) {
        st = nncl_fail(NNCL_E_NOT_FOUND, "%s: no %s[.gz]: expected the IDX files "
                       "train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz] "
                       "(and optionally t10k-*)", dir, names[f[0] ? 1 : 0]);
        goto out;
    }
    if (!f[2] != !f[3]) {
        st = nncl_fail(NNCL_E_FORMAT, "%s: has %s but no %s[.gz]; expected both test files "
                       "or neither", dir, f[2] ? f[2] : f[3], names[f[2] ? 3 : 2]);
        goto out;
    }
    const char *const *cls = NULL;
    int k = 0;
    if (kind && strcmp(kind, "fashion-mnist") == 0) { cls = nncl_fashion_mnist_class_names; k = 10; }
    if (kind && strcmp(kind, "mnist") == 0) { cls = nncl_mnist_class_names; k = 10; }

    if ((st = nncl_idx_load_pair(f[0], f[1], k, cls, &out->train))) goto out;
    out->files[out->num_files++] = f[0]; f[0] = NULL;
    out->files[out->num_files++] = f[1]; f[1] = NULL;
    if (f[2] && !o->no_test) {
        k = out->train.num_classes;
        if ((st = nncl_idx_load_pair(f[2], f[3], k, (const char *const *)out->train.class_names,
                                     &out->test)))
            goto out;
        if (out->test.image_h != out->train.image_h || out->test.image_w != out->train.image_w) {
            st = nncl_fail(NNCL_E_FORMAT, "%s: test images are %dx%d, expected %dx%d as in %s",
                           f[2], out->test.image_h, out->test.image_w,
                           out->train.image_h, out->train.image_w, out->files[0]);
            goto out;
        }
        out->has_test = true;
        out->files[out->num_files++] = f[2]; f[2] = NULL;
        out->files[out->num_files++] = f[3]; f[3] = NULL;
    }
    if (!(out->dir = nncl_strdup(dir))) st = nncl_fail(NNCL_E_NOMEM, "out of memory");
out:
    for (int i = 0; i < 4; i++) free(f[i]);
    return st;
}

/* hash: false for a pipe or a device, whose bytes cannot be read twice (a
 * FIFO would block, waiting for a new writer): its sha256 stays "". */
static nncl_status finish(nncl_data_source *out, const nncl_resolve_options *o, const char *name,
                          bool hash)
{
    if (!(out->name = nncl_strdup(name))) return nncl_fail(NNCL_E_NOMEM, "out of memory");
    if (o->no_hash || !hash) return NNCL_OK;
    return nncl_sha256_files_each((const char *const *)out->files, out->num_files, out->sha256,
                                  out->file_sha256);
}

nncl_status nncl_data_resolve(const char *what, const nncl_resolve_options *opt,
                              nncl_data_source *out)
{
    if (!out) return nncl_fail(NNCL_E_INVALID, "nncl_data_resolve: NULL output");
    memset(out, 0, sizeof *out);
    if (!what || !*what) return nncl_fail(NNCL_E_INVALID, "no dataset name or path given");
    nncl_resolve_options defaults = {0};
    const nncl_resolve_options *o = opt ? opt : &defaults;
    nncl_status st;

    struct stat sb;
    if (stat(what, &sb) == 0) {
        if (S_ISDIR(sb.st_mode)) {
            const char *kind = canonical(base_name(what));
            st = load_dir(what, kind, o, out);
        } else {
            st = nncl_csv_read(what, o->csv, &out->train);
            if (st == NNCL_OK && !(out->files[out->num_files++] = nncl_strdup(what)))
                st = nncl_fail(NNCL_E_NOMEM, "out of memory");
        }
        if (st == NNCL_OK) st = finish(out, o, what, S_ISDIR(sb.st_mode) || S_ISREG(sb.st_mode));
        if (st) nncl_data_source_free(out);
        return st;
    }
    if (strchr(what, '/') || strchr(what, '.')) {
        int e = errno;
        return nncl_fail(NNCL_E_IO, "%s: cannot open: %s", what, strerror(e));
    }

    /* A name: look in the usual places, in order. */
    const char *kind = canonical(what);
    const char *name = kind ? kind : what;
    const char *env = getenv("NNCL_DATA");
    const char *roots[4];
    int nroots = 0;
    if (env && *env) roots[nroots++] = env;
    roots[nroots++] = NNCL_DATADIR;
    roots[nroots++] = NNCL_SOURCE_DATADIR;
    char *tried[5] = {0};
    int ntried = 0;
    for (int i = 0; i < nroots; i++) tried[ntried++] = join(roots[i], name, NULL);
    if (kind && strcmp(kind, "fashion-mnist") == 0) tried[ntried++] = nncl_strdup(DEBIAN_FASHION_DIR);
    st = NNCL_E_NOT_FOUND;
    for (int i = 0; i < ntried; i++) {
        if (!tried[i]) { st = nncl_fail(NNCL_E_NOMEM, "out of memory"); break; }
        if (!is_dir(tried[i])) continue;
        char *a = find_idx(tried[i], "train-images-idx3-ubyte");
        char *b = find_idx(tried[i], "train-labels-idx1-ubyte");
        bool has = a && b;
        free(a);
        free(b);
        if (!has) continue;
        st = load_dir(tried[i], kind, o, out);
        if (st == NNCL_OK) st = finish(out, o, name, true);
        if (st) nncl_data_source_free(out);
        break;
    }
    if (st == NNCL_E_NOT_FOUND) {
        char list[2048];
        size_t k = 0;
        list[0] = '\0';
        for (int i = 0; i < ntried && k < sizeof list; i++)
            k += (size_t)snprintf(list + k, sizeof list - k, "%s%s", i ? ", " : "", tried[i]);
        const char *hint = "";
        if (kind && strcmp(kind, "fashion-mnist") == 0)
            hint = "; install it with tools/fetch_fashion_mnist.sh (Debian's dataset-fashion-mnist)";
        else if (!env || !*env)
            hint = "; set NNCL_DATA to a directory holding <name>/train-images-idx3-ubyte.gz etc.";
        st = nncl_fail(NNCL_E_NOT_FOUND, "dataset '%s' not found: no directory with "
                       "train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz] among: %s%s",
                       what, list, hint);
    }
    for (int i = 0; i < ntried; i++) free(tried[i]);
    return st;
}

void nncl_data_source_free(nncl_data_source *src)
{
    if (!src) return;
    nncl_dataset_free(&src->train);
    nncl_dataset_free(&src->test);
    free(src->name);
    free(src->dir);
    for (int i = 0; i < src->num_files; i++) free(src->files[i]);
    memset(src, 0, sizeof *src);
}
