/* Building the kernel program for one device, once per process.
 *
 * The sources are the .cl files of cl/, embedded in the library (or, when
 * NNCL_KERNEL_PATH is set, the same files read from that folder), concatenated
 * with a #line directive before each so the compiler's log names the file.
 * Not every compiler honours #line: NVIDIA's numbers the assembled source
 * ("<kernel>:48:50"), so a log's locations that name no kernel file are
 * mapped back through the program's own directives ("fill.cl:10:50").
 *
 * Compiling from source takes a while on some drivers, so the built binary is
 * cached under $XDG_CACHE_HOME/nncl (default ~/.cache/nncl), keyed by device,
 * driver, platform, build options and a hash of the source. A cache entry
 * stores its full key and a checksum of the binary: a corrupt or stale entry
 * is rebuilt from source and replaced, never trusted. NNCL_NO_CACHE=1 turns
 * the cache off.
 *
 * Fetching a binary is not free everywhere: PoCL compiles every kernel of
 * the program to hand it over (about 10 s on 2 cores, where a training run
 * needs a dozen kernels, compiled as they are first launched), and keeps a
 * cache of its own that makes the next build from source take 0.07 s
 * instead of 1 s. So a program is stored only when it was built from source
 * before, in an earlier process (a small marker file says so, with that
 * build's time for people), and building it again still took longer than
 * NNCL_CACHE_BUILDS_OVER seconds (default 0.15: what leaving a build to the
 * driver may cost a run at most, over loading a stored binary). A driver
 * with a cache of its own, or a fast compiler, never pays for the fetch;
 * one without pays for one second build. No vendor is named: times decide. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cache_dir.h"
#include "util/clock.h"
#include "device/kernels_embedded.h"
#include "device/notice.h"
#include "device/opencl_impl.h"
#include "util/fnv1a.h"

/* ---- small helpers -------------------------------------------------------- */

#define fnv1a nncl_fnv1a
#define FNV_SEED NNCL_FNV_SEED

static nncl_status read_file(const char *path, char **data, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return nncl_fail(NNCL_E_IO, "%s: cannot open: %s", path, strerror(errno));
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (cap - len < 65536) {
            cap = cap ? cap * 2 : 65536;
            char *grown = realloc(buf, cap);
            if (!grown) {
                free(buf);
                fclose(f);
                return nncl_fail(NNCL_E_NOMEM, "%s: out of memory reading", path);
            }
            buf = grown;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return nncl_fail(NNCL_E_IO, "%s: read error", path);
    }
    *data = buf;
    *size = len;
    return NNCL_OK;
}

/* ---- the source ------------------------------------------------------------ */

typedef struct text {
    char *data;
    size_t len, cap;
} text;

static bool text_append(text *t, const char *s, size_t n)
{
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 16384;
        while (cap < t->len + n + 1)
            cap *= 2;
        char *grown = realloc(t->data, cap);
        if (!grown)
            return false;
        t->data = grown;
        t->cap = cap;
    }
    memcpy(t->data + t->len, s, n);
    t->len += n;
    t->data[t->len] = '\0';
    return true;
}

static bool wanted(const char *name, const char *const *names, int n)
{
    if (!names)
        return true;
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

/* The kernel files (all of them, or those named), in build order, as one
 * source string. */
static nncl_status assemble_source(text *src, const char *const *names, int count)
{
    const char *dir = getenv("NNCL_KERNEL_PATH");
    bool from_disk = dir && *dir;
    for (int i = 0; i < nncl_embedded_source_count; i++) {
        const nncl_embedded_source *e = &nncl_embedded_sources[i];
        if (!wanted(e->name, names, count))
            continue;
        char line[600];
        int n = snprintf(line, sizeof line, "#line 1 \"%s\"\n", e->name);
        if (!text_append(src, line, (size_t)n))
            return nncl_fail(NNCL_E_NOMEM, "out of memory assembling kernels");
        if (from_disk) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", dir, e->name);
            char *data;
            size_t size;
            nncl_status st = read_file(path, &data, &size);
            if (st != NNCL_OK)
                return nncl_fail_context(st, "NNCL_KERNEL_PATH=%s", dir);
            bool ok = text_append(src, data, size);
            free(data);
            if (!ok)
                return nncl_fail(NNCL_E_NOMEM, "out of memory assembling kernels");
        } else if (!text_append(src, (const char *)e->data, e->size)) {
            return nncl_fail(NNCL_E_NOMEM, "out of memory assembling kernels");
        }
        if (!text_append(src, "\n", 1))
            return nncl_fail(NNCL_E_NOMEM, "out of memory assembling kernels");
    }
    return NNCL_OK;
}

nncl_status nncl_cl_source(const char *const *names, int count, char **out, size_t *len)
{
    text src = {0};
    nncl_status st = assemble_source(&src, names, count);
    if (st != NNCL_OK) {
        free(src.data);
        return st;
    }
    if (!src.data && !text_append(&src, "", 0))
        return nncl_fail(NNCL_E_NOMEM, "out of memory assembling kernels");
    *out = src.data;
    *len = src.len;
    return NNCL_OK;
}

/* ---- building quietly ----------------------------------------------------------- */

/* Where physical line `line` of an assembled source comes from: the last
 * `#line N "name"` above it names the file, and the lines between give the
 * line. False when no directive is above it. */
static bool source_line(const char *source, long line, char *name, size_t cap, long *file_line)
{
    long at = 1, first = 0, directive = 0;
    for (const char *p = source; p && *p && at < line; at++) {
        const char *q;
        if (strncmp(p, "#line ", 6) == 0 && (q = strchr(p, '"')) != NULL) {
            const char *end = strchr(q + 1, '"'), *nl = strchr(p, '\n');
            if (end && (!nl || end < nl)) {
                first = strtol(p + 6, NULL, 10);
                directive = at;
                snprintf(name, cap, "%.*s", (int)(end - q - 1), q + 1);
            }
        }
        p = strchr(p, '\n');
        p = p ? p + 1 : NULL;
    }
    if (!directive || at != line)
        return false;
    *file_line = first + (line - directive - 1);
    return true;
}

/* Whether the text [s, s + n) is the name of a kernel file. */
static bool names_a_file(const char *s, size_t n)
{
    for (int i = 0; i < nncl_embedded_source_count; i++)
        if (strlen(nncl_embedded_sources[i].name) == n && strncmp(nncl_embedded_sources[i].name, s, n) == 0)
            return true;
    return false;
}

/* A compiler's text with its locations in the assembled source turned into
 * file:line. A location is "WORD:LINE:" at the start of a line, WORD what
 * the compiler called the source ("<kernel>", "<source>"...); where WORD is
 * already a kernel file's name (the compiler honoured #line) it is kept.
 * Without `source` the text is copied as it is. Returns a malloc'd copy,
 * or NULL when out of memory. */
char *nncl_cl_log_locate(const char *in, const char *source)
{
    size_t len = strlen(in);
    /* A rewrite never lengthens a location by more than a file name. */
    size_t cap = len + 1, names = 0;
    for (int i = 0; i < nncl_embedded_source_count; i++)
        names = strlen(nncl_embedded_sources[i].name) > names ? strlen(nncl_embedded_sources[i].name) : names;
    for (const char *p = in; (p = strchr(p, ':')) != NULL; p++)
        cap += names + 8;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    size_t o = 0, word = 0;     /* word: where the current run of non-blanks began in out */
    bool first_word = true;     /* the current word began a line */
    bool located = false;       /* this line's location is done */
    for (size_t i = 0; i < len;) {
        char c = in[i];
        if (c == ':' && source && first_word && !located && word < o && in[i + 1] >= '0' && in[i + 1] <= '9') {
            size_t j = i + 1;
            long v = 0;
            while (j < len && in[j] >= '0' && in[j] <= '9' && v < 100000000L)
                v = v * 10 + (in[j++] - '0');
            char name[256];
            long line;
            located = true;
            if (j < len && in[j] == ':' && !names_a_file(out + word, o - word) &&
                source_line(source, v, name, sizeof name, &line)) {
                o = word;
                o += (size_t)snprintf(out + o, cap - o, "%s:%ld", name, line);
                i = j;
                continue;
            }
        }
        out[o++] = c;
        i++;
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            word = o;
            first_word = c == '\n' || c == '\r';
            located = located && !first_word;
        }
    }
    out[o] = '\0';
    return out;
}

/* ---- the cache ------------------------------------------------------------- */

#define CACHE_MAGIC "NNCLPRG1"

static bool cache_dir(char *out, size_t len)
{
    const char *off = getenv("NNCL_NO_CACHE");
    if (off && *off && strcmp(off, "0") != 0)
        return false;
    return nncl_cache_folder(out, len);
}

static void mkdir_p(const char *path)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(tmp, 0755);
            *p = '/';
        }
    }
    mkdir(tmp, 0755);
}

/* The entry, if present and whole and for exactly this key; else NULL. */
static unsigned char *cache_load(const char *path, const char *key, size_t *bin_len)
{
    char *data;
    size_t size;
    if (read_file(path, &data, &size) != NNCL_OK) {
        nncl_clear_error();
        return NULL;
    }
    size_t key_len = strlen(key);
    size_t head = 8 + 8 + key_len + 8 + 8;
    uint64_t stored_key_len, len, sum;
    if (size < head || memcmp(data, CACHE_MAGIC, 8) != 0)
        goto bad;
    memcpy(&stored_key_len, data + 8, 8);
    if (stored_key_len != key_len || memcmp(data + 16, key, key_len) != 0)
        goto bad;
    memcpy(&len, data + 16 + key_len, 8);
    memcpy(&sum, data + 24 + key_len, 8);
    if (len != size - head || fnv1a(FNV_SEED, data + head, len) != sum)
        goto bad;
    unsigned char *bin = malloc(len ? len : 1);
    if (!bin)
        goto bad;
    memcpy(bin, data + head, len);
    free(data);
    *bin_len = len;
    return bin;
bad:
    free(data);
    return NULL;
}

/* Write to a temporary name, then rename: a reader never sees half a file.
 * Failing to cache is not an error; the next run simply builds again. */
static void cache_store(const char *dir, const char *path, const char *key, const unsigned char *bin,
                        size_t len)
{
    mkdir_p(dir);
    char tmp[4600];
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return;
    uint64_t key_len = strlen(key), blen = len, sum = fnv1a(FNV_SEED, bin, len);
    bool ok = fwrite(CACHE_MAGIC, 1, 8, f) == 8 && fwrite(&key_len, 8, 1, f) == 1 &&
              fwrite(key, 1, key_len, f) == key_len && fwrite(&blen, 8, 1, f) == 1 &&
              fwrite(&sum, 8, 1, f) == 1 && fwrite(bin, 1, len, f) == len;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0)
        unlink(tmp);
}

/* A rebuild from source slower than this (seconds) is stored as a binary. */
static double cache_builds_over(void)
{
    const char *v = getenv("NNCL_CACHE_BUILDS_OVER");
    char *end;
    double s = v && *v ? strtod(v, &end) : 0.15;
    return v && *v && (*end || !(s >= 0)) ? 0.15 : s;
}

/* The build marker of a cache entry: the entry's path with ".built" for
 * ".bin", holding the key, the first build's seconds and the latest's. */
static void marker_path(const char *path, char *mark, size_t len)
{
    size_t plen = strlen(path);
    snprintf(mark, len, "%.*s.built", (int)(plen > 4 ? plen - 4 : plen), path);
}

/* The marker's first and latest build seconds (-1 where it has none, or is
 * another program's). */
static void read_marker(const char *path, const char *key, double *first, double *latest)
{
    char mark[4400], *data = NULL;
    size_t size = 0, klen = strlen(key);
    marker_path(path, mark, sizeof mark);
    *first = *latest = -1;
    if (read_file(mark, &data, &size) == NNCL_OK && size > klen && memcmp(data, key, klen) == 0) {
        const char *rest = data + klen;
        if (sscanf(rest, "first_build_seconds=%lf", first) != 1)
            *first = -1;
        const char *l = strstr(rest, "latest_build_seconds=");
        if (!l || sscanf(l, "latest_build_seconds=%lf", latest) != 1)
            *latest = *first;
    }
    nncl_clear_error();
    free(data);
}

static void write_marker(const char *dir, const char *path, const char *key, double first, double latest)
{
    char mark[4400], tmp[4600];
    marker_path(path, mark, sizeof mark);
    mkdir_p(dir);
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", mark, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (f) {
        bool ok = fprintf(f, "%sfirst_build_seconds=%.4f\nlatest_build_seconds=%.4f\n", key, first, latest) > 0;
        ok = (fclose(f) == 0) && ok;
        if (!ok || rename(tmp, mark) != 0)
            unlink(tmp);
    }
}

/* After a build from source that took `seconds`: whether an earlier process
 * built the same program (its marker holds the key and that build's time)
 * and this build was still slow, so that the binary is worth fetching and
 * storing now. The marker is written, or its latest build updated, for the
 * next process: a driver with a cache of its own (PoCL) rebuilds in a few
 * hundredths of a second, and is then neither stored nor announced. */
static bool worth_storing(const char *dir, const char *path, const char *key, double seconds)
{
    double first, latest;
    read_marker(path, key, &first, &latest);
    write_marker(dir, path, key, first >= 0 ? first : seconds, seconds);
    return first >= 0 && seconds > cache_builds_over();
}

/* ---- building -------------------------------------------------------------- */

/* Build options: the language version plus per-device kernel parameters. */
static void build_options(const nncl_device *dev, char *out, size_t len)
{
    char tuning[768];
    nncl_op_params_build_options(dev, tuning, sizeof tuning);
    snprintf(out, len, "-cl-std=CL1.2 %s", tuning);
}

static nncl_status build_failed(nncl_device *dev, cl_program prog, cl_int err, const char *call)
{
    nncl_cl_device *cl = nncl_cl_of(dev);
    size_t log_len = 0;
    clGetProgramBuildInfo(prog, cl->device, CL_PROGRAM_BUILD_LOG, 0, NULL, &log_len);
    char *log = malloc(log_len + 1);
    if (log) {
        log[0] = '\0';
        clGetProgramBuildInfo(prog, cl->device, CL_PROGRAM_BUILD_LOG, log_len, log, NULL);
        log[log_len] = '\0';
    }
    nncl_cl_fail(err, call, NULL);
    nncl_fail_context(NNCL_E_DEVICE, "building the kernels (cl/%s%s) for %s",
                      getenv("NNCL_KERNEL_PATH") && *getenv("NNCL_KERNEL_PATH") ? " from " : "",
                      getenv("NNCL_KERNEL_PATH") && *getenv("NNCL_KERNEL_PATH") ? getenv("NNCL_KERNEL_PATH") : "",
                      dev->info.name);
    char *source = log ? nncl_cl_program_source(prog) : NULL;
    char *where = log ? nncl_cl_log_locate(log, source) : NULL;
    free(source);
    char msg[16384];
    snprintf(msg, sizeof msg, "%s\nbuild log:\n%s", nncl_last_error(), where ? where : log ? log : "(none)");
    free(where);
    free(log);
    return nncl_fail(NNCL_E_DEVICE, "%s", msg);
}

/* Every kernel of prog, by name, into *kernels (malloc'd) and *count. */
static nncl_status create_kernels_of(cl_program prog, nncl_cl_kernel **kernels, int *count)
{
    *kernels = NULL;
    *count = 0;
    cl_uint n = 0;
    cl_int err = clCreateKernelsInProgram(prog, 0, NULL, &n);
    if (err != CL_SUCCESS)
        return nncl_cl_fail(err, "clCreateKernelsInProgram", NULL);
    cl_kernel *ks = calloc(n ? n : 1, sizeof *ks);
    *kernels = calloc(n ? n : 1, sizeof **kernels);
    if (!ks || !*kernels) {
        free(ks);
        return nncl_fail(NNCL_E_NOMEM, "out of memory creating kernels");
    }
    err = clCreateKernelsInProgram(prog, n, ks, NULL);
    if (err != CL_SUCCESS) {
        free(ks);
        return nncl_cl_fail(err, "clCreateKernelsInProgram", NULL);
    }
    for (cl_uint i = 0; i < n; i++) {
        (*kernels)[i].kernel = ks[i];
        clGetKernelInfo(ks[i], CL_KERNEL_FUNCTION_NAME, sizeof (*kernels)[i].name, (*kernels)[i].name, NULL);
    }
    *count = (int)n;
    free(ks);
    return NNCL_OK;
}

static nncl_status create_kernels(nncl_device *dev)
{
    nncl_cl_device *cl = nncl_cl_of(dev);
    return create_kernels_of(cl->program, &cl->kernels, &cl->kernel_count);
}

static cl_program try_cached(nncl_device *dev, const char *path, const char *key)
{
    nncl_cl_device *cl = nncl_cl_of(dev);
    size_t len;
    unsigned char *bin = cache_load(path, key, &len);
    if (!bin)
        return NULL;
    cl_int status, err;
    const unsigned char *bins[1] = {bin};
    cl_program prog = clCreateProgramWithBinary(cl->context, 1, &cl->device, &len, bins, &status, &err);
    free(bin);
    if (err != CL_SUCCESS || status != CL_SUCCESS) {
        if (prog)
            clReleaseProgram(prog);
        return NULL;
    }
    if (nncl_cl_build_quietly(prog, cl->device, cl->build_options) != CL_SUCCESS) {
        clReleaseProgram(prog);
        return NULL;
    }
    return prog;
}

static void store_binary(nncl_device *dev, const char *dir, const char *path, const char *key)
{
    nncl_cl_device *cl = nncl_cl_of(dev);
    size_t len = 0;
    if (clGetProgramInfo(cl->program, CL_PROGRAM_BINARY_SIZES, sizeof len, &len, NULL) != CL_SUCCESS ||
        len == 0)
        return;
    unsigned char *bin = malloc(len);
    if (!bin)
        return;
    unsigned char *bins[1] = {bin};
    if (clGetProgramInfo(cl->program, CL_PROGRAM_BINARIES, sizeof bins, bins, NULL) == CL_SUCCESS)
        cache_store(dir, path, key, bin, len);
    free(bin);
}

static nncl_status program_make(nncl_device *dev, bool *from_cache);

nncl_status nncl_cl_program_ensure(nncl_device *dev, bool *from_cache)
{
    if (from_cache)
        *from_cache = false;
    if (nncl_cl_of(dev)->program)
        return NNCL_OK;
    double t0 = nncl_seconds_now();
    nncl_status st = program_make(dev, from_cache);
    dev->startup.kernels_seconds += nncl_seconds_now() - t0;
    return st;
}

/* The program built, or loaded from the on-disk cache, and its kernels made. */
static nncl_status program_make(nncl_device *dev, bool *from_cache)
{
    nncl_cl_device *cl = nncl_cl_of(dev);

    /* The GEMM's parameters first: the build options depend on them, and
     * without a tuning entry this may run the first-use search. */
    if (!cl->params_resolved) {
        /* Unresolved after a failure: a next build asks (and fails) again. */
        nncl_status rst = nncl_op_params_resolve(dev, false);
        if (rst != NNCL_OK)
            return rst;
        cl->params_resolved = true;
    }

    text src = {0};
    nncl_status st = assemble_source(&src, NULL, 0);
    if (st != NNCL_OK) {
        free(src.data);
        return st;
    }
    build_options(dev, cl->build_options, sizeof cl->build_options);

    /* The key: everything that changes the binary. */
    char key[4096], dir[4096], path[4400];
    uint64_t src_hash = fnv1a(FNV_SEED, src.data, src.len);
    snprintf(key, sizeof key, "device=%s\nvendor=%s\ndriver=%s\nplatform=%s %s\noptions=%s\nsource=%016llx\n",
             dev->info.name, dev->info.vendor, dev->info.driver_version, dev->info.platform,
             dev->info.platform_version, cl->build_options, (unsigned long long)src_hash);
    bool use_cache = cache_dir(dir, sizeof dir);
    if (use_cache) {
        snprintf(path, sizeof path, "%s/%016llx.bin", dir,
                 (unsigned long long)fnv1a(FNV_SEED, key, strlen(key)));
        cl->program = try_cached(dev, path, key);
        if (cl->program && from_cache)
            *from_cache = true;
    }

    if (!cl->program) {
        /* said where it takes a while: not where the last build of this very
         * program was quick (a driver's own cache), which is every run on PoCL */
        double first = -1, latest = -1;
        if (use_cache)
            read_marker(path, key, &first, &latest);
        bool quick = latest >= 0 && latest <= cache_builds_over();
        nncl_notice(quick ? NNCL_NOTICE_VERBOSE : NNCL_NOTICE_INFO, "compiling kernels for %s...", dev->info.name);
        cl_int err;
        const char *s = src.data;
        cl_program prog = clCreateProgramWithSource(cl->context, 1, &s, &src.len, &err);
        if (err != CL_SUCCESS) {
            free(src.data);
            return nncl_cl_fail(err, "clCreateProgramWithSource", NULL);
        }
        double t_build = nncl_seconds_now();
        err = nncl_cl_build_quietly(prog, cl->device, cl->build_options);
        t_build = nncl_seconds_now() - t_build;
        if (err != CL_SUCCESS) {
            st = build_failed(dev, prog, err, "clBuildProgram");
            clReleaseProgram(prog);
            free(src.data);
            return st;
        }
        cl->program = prog;
        if (use_cache && worth_storing(dir, path, key, t_build))
            store_binary(dev, dir, path, key);
    }
    free(src.data);

    st = create_kernels(dev);
    if (st != NNCL_OK)
        nncl_cl_program_release(cl);
    return st;
}

void nncl_cl_program_release(nncl_cl_device *cl)
{
    for (int i = 0; i < cl->kernel_count; i++)
        clReleaseKernel(cl->kernels[i].kernel);
    free(cl->kernels);
    cl->kernels = NULL;
    cl->kernel_count = 0;
    if (cl->program)
        clReleaseProgram(cl->program);
    cl->program = NULL;
}

nncl_status nncl_cl_slot_make(cl_program prog, nncl_cl_program_slot *out)
{
    *out = (nncl_cl_program_slot){prog, NULL, 0};
    nncl_status st = create_kernels_of(prog, &out->kernels, &out->kernel_count);
    if (st != NNCL_OK)
        nncl_cl_slot_release(out);
    return st;
}

void nncl_cl_slot_release(nncl_cl_program_slot *s)
{
    for (int i = 0; i < s->kernel_count; i++)
        clReleaseKernel(s->kernels[i].kernel);
    free(s->kernels);
    if (s->program)
        clReleaseProgram(s->program);
    *s = (nncl_cl_program_slot){0};
}

void nncl_cl_slot_exchange(nncl_device *dev, nncl_cl_program_slot *s)
{
    nncl_cl_device *cl = nncl_cl_of(dev);
    nncl_cl_program_slot mine = {cl->program, cl->kernels, cl->kernel_count};
    cl->program = s->program;
    cl->kernels = s->kernels;
    cl->kernel_count = s->kernel_count;
    *s = mine;
}
