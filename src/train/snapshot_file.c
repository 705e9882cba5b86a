/* snapshots.bin: writing (appended as training goes) and strictly checked
 * reading. The layout is documented in nncl/snapshot.h. */
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nncl/snapshot.h"
#include "util/bad_file.h"
#include "util/crc32_buf.h"
#include "util/le_bytes.h"

#define HEADER_MAGIC "NNCLSNP1"
#define RECORD_MAGIC "SNAP"
#define STATS_FLOATS 11
#define RECORD_FLOATS 7     /* epoch, train_loss, train_accuracy, val_loss, val_accuracy, lr, seconds */
/* Beyond these a file is refused before anything is allocated. */
#define MAX_PARAMS ((uint64_t)1 << 32)
#define MAX_FILE ((uint64_t)16 << 30)

/* ---- sizes ------------------------------------------------------------------------ */

static size_t header_bytes(int layers)
{
    return 8 + 4 * 4 + 8 + 8 * (size_t)(layers + 1) + 4 * (size_t)layers + 4;
}

static size_t record_bytes(int layers, size_t n_params)
{
    size_t fixed = 4 + 4 + 8 + 4 * RECORD_FLOATS;
    size_t per_layer = 4 * STATS_FLOATS + 4 * (NNCL_SNAPSHOT_BINS + 2) + 2 * 4;
    size_t body = fixed + per_layer * (size_t)layers + n_params;
    return (body + 3) / 4 * 4 + 4;
}

static size_t count_params(int layers, const size_t *sizes)
{
    size_t p = 0;
    for (int l = 0; l < layers; l++)
        p += sizes[l + 1] * (sizes[l] + 1);
    return p;
}

/* ---- writing --------------------------------------------------------------------- */

struct nncl_snapshot_writer {
    char *path;
    int fd;
    int layers;
    size_t sizes[NNCL_MAX_LAYERS + 1];
    size_t n_params, record_bytes;
    uint32_t written;
    bool unsynced;              /* records appended since the last fsync */
    unsigned char *record;      /* one record, reused */
    nncl_status error;          /* the first failure, kept for close */
};

static nncl_status write_all(nncl_snapshot_writer *w, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t k = write(w->fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return w->error = nncl_fail(NNCL_E_IO, "%s: cannot write: %s", w->path,
                                        k < 0 ? strerror(errno) : "no progress");
        p += k;
        n -= (size_t)k;
    }
    return NNCL_OK;
}

/* A writer for cfg's network with no file open yet; NULL when out of memory. */
static nncl_snapshot_writer *writer_new(const char *path, const nncl_net_config *cfg)
{
    nncl_snapshot_writer *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->fd = -1;
    w->layers = cfg->layers;
    memcpy(w->sizes, cfg->sizes, sizeof w->sizes);
    w->n_params = count_params(cfg->layers, cfg->sizes);
    w->record_bytes = record_bytes(cfg->layers, w->n_params);
    w->path = strdup(path);
    w->record = malloc(w->record_bytes);
    if (!w->path || !w->record) {
        nncl_snapshot_writer_close(w);
        return NULL;
    }
    return w;
}

nncl_status nncl_snapshot_writer_open(const char *path, const nncl_net_config *cfg,
                                      const float *hist_range, nncl_snapshot_writer **out)
{
    *out = NULL;
    if (cfg->layers < 1 || cfg->layers > NNCL_MAX_LAYERS)
        return nncl_fail(NNCL_E_INVALID, "snapshots: %d layers (1..%d)", cfg->layers, NNCL_MAX_LAYERS);
    nncl_snapshot_writer *w = writer_new(path, cfg);
    if (!w)
        return nncl_fail(NNCL_E_NOMEM, "out of memory");
    size_t hb = header_bytes(cfg->layers);
    unsigned char *head = malloc(hb);
    if (!head) {
        nncl_snapshot_writer_close(w);
        return nncl_fail(NNCL_E_NOMEM, "out of memory");
    }
    w->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (w->fd < 0) {
        nncl_status st = nncl_fail(NNCL_E_IO, "%s: cannot create: %s", path, strerror(errno));
        free(head);
        nncl_snapshot_writer_close(w);
        return st;
    }
    unsigned char *k = head;
    memcpy(k, HEADER_MAGIC, 8);
    k += 8;
    le_put_u32(&k, (uint32_t)hb);
    le_put_u32(&k, (uint32_t)cfg->layers);
    le_put_u32(&k, NNCL_SNAPSHOT_BINS);
    le_put_u32(&k, (uint32_t)w->record_bytes);
    le_put_u64(&k, w->n_params);
    for (int l = 0; l <= cfg->layers; l++)
        le_put_u64(&k, cfg->sizes[l]);
    for (int l = 0; l < cfg->layers; l++)
        le_put_f32(&k, hist_range[l]);
    le_put_u32(&k, nncl_crc32(head, hb - 4));
    nncl_status st = write_all(w, head, hb);
    free(head);
    if (st != NNCL_OK) {
        nncl_snapshot_writer_close(w);
        return st;
    }
    *out = w;
    return NNCL_OK;
}

/* Quantise x[0..n) symmetrically to q = 128 + round(x / scale), scale = max|x| / 127
 * over the finite values; infinities go to the ends (1, 255) and NaN to 128.
 * Rounded by truncating v + 128.5, which is positive: no lrintf (a library
 * call unless errno is off) and no branch on the sign, so the loop
 * vectorises; the branchy version was most of a snapshot's writing. */
static float quantise(const float *x, size_t n, unsigned char *q)
{
    float m = 0;
    for (size_t i = 0; i < n; i++) {
        float a = fabsf(x[i]);
        m = a > m && a <= FLT_MAX ? a : m;      /* NaN and infinity fail the test */
    }
    float inv = m > 0 ? 127.0f / m : 0.0f;
    for (size_t i = 0; i < n; i++) {
        float v = x[i] * inv;
        v = v > 127.0f ? 127.0f : v < -127.0f ? -127.0f : v;
        v = v == v ? v : 0.0f;
        q[i] = (unsigned char)(int)(v + 128.5f);      /* in [1.5, 255.5): truncation rounds */
    }
    return m / 127.0f;
}

nncl_status nncl_snapshot_writer_append(nncl_snapshot_writer *w, const nncl_snapshot_info *info,
                                        const float *params)
{
    if (w->error != NNCL_OK)
        return w->error;
    unsigned char *r = w->record;
    unsigned char *k = r;
    memcpy(k, RECORD_MAGIC, 4);
    k += 4;
    le_put_u32(&k, w->written);
    le_put_u64(&k, info->step);
    float f[RECORD_FLOATS] = {info->epoch, info->train_loss, info->train_accuracy, info->val_loss,
                              info->val_accuracy, info->lr, info->seconds};
    for (int i = 0; i < RECORD_FLOATS; i++)
        le_put_f32(&k, f[i]);
    for (int l = 0; l < w->layers; l++) {
        const nncl_layer_stats *s = &info->layer[l];
        float st[STATS_FLOATS] = {s->w_mean, s->w_std, s->w_min, s->w_max, s->b_mean, s->b_std, s->b_min,
                                  s->b_max, s->grad_norm, s->update_ratio, s->dead_fraction};
        for (int i = 0; i < STATS_FLOATS; i++)
            le_put_f32(&k, st[i]);
        for (int i = 0; i < NNCL_SNAPSHOT_BINS + 2; i++)
            le_put_u32(&k, s->hist[i]);
    }
    unsigned char *scales = k, *q = scales + 8 * (size_t)w->layers;
    size_t off = 0;
    for (int l = 0; l < w->layers; l++) {
        size_t out = w->sizes[l + 1], nw = out * w->sizes[l];
        unsigned char *sk = scales + 8 * (size_t)l;
        le_put_f32(&sk, quantise(params + off, nw, q + off));
        le_put_f32(&sk, quantise(params + off + nw, out, q + off + nw));
        off += nw + out;
    }
    unsigned char *end = q + w->n_params, *crc_at = r + w->record_bytes - 4;
    memset(end, 0, (size_t)(crc_at - end));
    k = crc_at;
    le_put_u32(&k, nncl_crc32(r, w->record_bytes - 4));
    nncl_status st = write_all(w, r, w->record_bytes);
    if (st == NNCL_OK) {
        w->written++;
        w->unsynced = true;
    }
    return st;
}

nncl_status nncl_snapshot_writer_sync(nncl_snapshot_writer *w)
{
    if (!w || w->error != NNCL_OK)
        return w ? w->error : NNCL_OK;
    if (w->unsynced && fsync(w->fd) != 0)
        return w->error = nncl_fail(NNCL_E_IO, "%s: cannot flush: %s", w->path, strerror(errno));
    w->unsynced = false;
    return NNCL_OK;
}

nncl_status nncl_snapshot_writer_close(nncl_snapshot_writer *w)
{
    if (!w)
        return NNCL_OK;
    nncl_status st = w->error;
    if (w->fd >= 0) {
        if (st == NNCL_OK && fsync(w->fd) != 0)
            st = nncl_fail(NNCL_E_IO, "%s: cannot flush: %s", w->path, strerror(errno));
        if (close(w->fd) != 0 && st == NNCL_OK)
            st = nncl_fail(NNCL_E_IO, "%s: cannot close: %s", w->path, strerror(errno));
    }
    free(w->record);
    free(w->path);
    free(w);
    return st;
}

/* ---- reading ------------------------------------------------------------------------ */

/* Every format error says which file is not a valid snapshot file. */
#define bad(path, ...) nncl_bad_file((path), "nncl snapshot file", __VA_ARGS__)

void nncl_snapshots_free(nncl_snapshots *s)
{
    if (!s)
        return;
    free(s->info);
    free(s->scale);
    free(s->q);
    memset(s, 0, sizeof *s);
}

static nncl_status read_exact(const char *path, FILE *f, unsigned char *p, size_t n, const char *what)
{
    if (fread(p, 1, n, f) != n)
        return ferror(f) ? nncl_fail(NNCL_E_IO, "%s: cannot read: %s", path, strerror(errno))
                         : bad(path, "it ends inside %s", what);
    return NNCL_OK;
}

static nncl_status parse_header(const char *path, FILE *f, uint64_t file_size, nncl_snapshots *s,
                                size_t *hb_out, size_t *rb_out)
{
    unsigned char fixed[8 + 16 + 8];
    if (file_size < sizeof fixed)
        return bad(path, "%llu bytes is too short for the header", (unsigned long long)file_size);
    nncl_status st = read_exact(path, f, fixed, sizeof fixed, "the header");
    if (st != NNCL_OK)
        return st;
    if (memcmp(fixed, HEADER_MAGIC, 8) != 0)
        return bad(path, "it does not start with \"" HEADER_MAGIC "\"");
    uint32_t hb = le_get_u32(fixed + 8), layers = le_get_u32(fixed + 12), bins = le_get_u32(fixed + 16),
             rb = le_get_u32(fixed + 20);
    uint64_t n_params = le_get_u64(fixed + 24);
    if (layers < 1 || layers > NNCL_MAX_LAYERS)
        return bad(path, "the header says %u layers (1..%d)", layers, NNCL_MAX_LAYERS);
    if (bins != NNCL_SNAPSHOT_BINS)
        return bad(path, "the header says %u histogram bins, this nncl writes %d", bins, NNCL_SNAPSHOT_BINS);
    if (hb != header_bytes((int)layers) || hb > file_size)
        return bad(path, "the header length %u does not match %u layers (%zu bytes) or the file", hb, layers,
                   header_bytes((int)layers));
    unsigned char *head = malloc(hb);
    if (!head)
        return nncl_fail(NNCL_E_NOMEM, "out of memory");
    memcpy(head, fixed, sizeof fixed);
    st = read_exact(path, f, head + sizeof fixed, hb - sizeof fixed, "the header");
    if (st == NNCL_OK && le_get_u32(head + hb - 4) != nncl_crc32(head, hb - 4))
        st = bad(path, "the header's checksum does not match its bytes");
    s->layers = (int)layers;
    const unsigned char *p = head + sizeof fixed;
    for (uint32_t l = 0; st == NNCL_OK && l <= layers; l++, p += 8) {
        uint64_t v = le_get_u64(p);
        if (v == 0 || v > ((uint64_t)1 << 24))
            st = bad(path, "layer size %u is %llu (1..%u)", l, (unsigned long long)v, 1u << 24);
        s->sizes[l] = (size_t)v;
    }
    for (uint32_t l = 0; st == NNCL_OK && l < layers; l++, p += 4) {
        s->hist_range[l] = le_get_f32(p);
        if (!(s->hist_range[l] > 0) || !isfinite(s->hist_range[l]))
            st = bad(path, "layer %u's histogram range is not a positive number", l);
    }
    free(head);
    if (st != NNCL_OK)
        return st;
    uint64_t want = 0;
    for (uint32_t l = 0; l < layers; l++)
        want += (uint64_t)s->sizes[l + 1] * (s->sizes[l] + 1);
    if (n_params != want || n_params > MAX_PARAMS)
        return bad(path, "the header says %llu parameters, its layer sizes make %llu", (unsigned long long)n_params,
                   (unsigned long long)want);
    s->n_params = (size_t)n_params;
    if (rb != record_bytes(s->layers, s->n_params))
        return bad(path, "the record length %u does not match the network (%zu bytes)", rb,
                   record_bytes(s->layers, s->n_params));
    *hb_out = hb;
    *rb_out = rb;
    return NNCL_OK;
}

static nncl_status parse_record(const char *path, const unsigned char *r, size_t rb, size_t k,
                                nncl_snapshots *s)
{
    if (memcmp(r, RECORD_MAGIC, 4) != 0)
        return bad(path, "snapshot %zu does not start with \"" RECORD_MAGIC "\"", k);
    if (le_get_u32(r + rb - 4) != nncl_crc32(r, rb - 4))
        return bad(path, "snapshot %zu's checksum does not match its bytes", k);
    if (le_get_u32(r + 4) != k)
        return bad(path, "snapshot %zu says it is snapshot %u", k, le_get_u32(r + 4));
    nncl_snapshot_info *in = &s->info[k];
    in->step = le_get_u64(r + 8);
    if (k > 0 && in->step <= s->info[k - 1].step)
        return bad(path, "snapshot %zu's step %llu does not follow step %llu", k, (unsigned long long)in->step,
                   (unsigned long long)s->info[k - 1].step);
    const unsigned char *p = r + 16;
    float *f[RECORD_FLOATS] = {&in->epoch, &in->train_loss, &in->train_accuracy, &in->val_loss,
                               &in->val_accuracy, &in->lr, &in->seconds};
    for (int i = 0; i < RECORD_FLOATS; i++, p += 4)
        *f[i] = le_get_f32(p);
    for (int l = 0; l < s->layers; l++) {
        nncl_layer_stats *ls = &in->layer[l];
        float *st[STATS_FLOATS] = {&ls->w_mean, &ls->w_std, &ls->w_min, &ls->w_max, &ls->b_mean,
                                   &ls->b_std, &ls->b_min, &ls->b_max, &ls->grad_norm, &ls->update_ratio,
                                   &ls->dead_fraction};
        for (int i = 0; i < STATS_FLOATS; i++, p += 4)
            *st[i] = le_get_f32(p);
        uint64_t total = 0;
        for (int i = 0; i < NNCL_SNAPSHOT_BINS + 2; i++, p += 4)
            total += ls->hist[i] = le_get_u32(p);
        if (total != (uint64_t)s->sizes[l + 1] * s->sizes[l])
            return bad(path, "snapshot %zu: layer %d's histogram counts %llu weights, the layer has %zu", k, l,
                       (unsigned long long)total, s->sizes[l + 1] * s->sizes[l]);
    }
    float *scale = s->scale + k * 2 * (size_t)s->layers;
    for (int t = 0; t < 2 * s->layers; t++, p += 4) {
        scale[t] = le_get_f32(p);
        /* max|w| / 127 of finite weights: an infinite one would give back
         * infinities and NaN (q = 128) for every weight of the tensor */
        if (!(scale[t] >= 0) || !isfinite(scale[t]))
            return bad(path, "snapshot %zu: tensor %d's scale %g is negative or not a finite number", k, t,
                       (double)scale[t]);
    }
    memcpy(s->q + k * s->n_params, p, s->n_params);
    return NNCL_OK;
}

nncl_status nncl_snapshots_load(const char *path, nncl_snapshots *out)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f)
        return nncl_fail(NNCL_E_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    nncl_status st = NNCL_OK;
    unsigned char *rec = NULL;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        st = nncl_fail(NNCL_E_IO, "%s: not a regular file", path);
        goto done;
    }
    uint64_t size = (uint64_t)sb.st_size;
    if (size > MAX_FILE) {
        st = bad(path, "%llu bytes is more than the %llu a snapshot file may hold", (unsigned long long)size,
                 (unsigned long long)MAX_FILE);
        goto done;
    }
    size_t hb = 0, rb = 1;
    if ((st = parse_header(path, f, size, out, &hb, &rb)) != NNCL_OK)
        goto done;
    uint64_t body = size - hb, count = body / rb;
    if (body % rb != 0) {
        st = bad(path, "it is truncated: it ends %llu bytes into snapshot %llu, of %zu", (unsigned long long)(body % rb),
                 (unsigned long long)count, rb);
        goto done;
    }
    if (count > NNCL_SNAPSHOT_MAX) {
        st = bad(path, "%llu snapshots, more than %d", (unsigned long long)count, NNCL_SNAPSHOT_MAX);
        goto done;
    }
    out->count = (size_t)count;
    out->info = calloc(count ? count : 1, sizeof *out->info);
    out->scale = malloc((count ? count : 1) * 2 * (size_t)out->layers * sizeof(float));
    out->q = malloc((count ? count : 1) * out->n_params);
    rec = malloc(rb);
    if (!out->info || !out->scale || !out->q || !rec) {
        st = nncl_fail(NNCL_E_NOMEM, "%s: out of memory for %llu snapshots", path, (unsigned long long)count);
        goto done;
    }
    for (size_t k = 0; k < count && st == NNCL_OK; k++) {
        char what[64];
        snprintf(what, sizeof what, "snapshot %zu", k);
        st = read_exact(path, f, rec, rb, what);
        if (st == NNCL_OK)
            st = parse_record(path, rec, rb, k, out);
    }
done:
    free(rec);
    fclose(f);
    if (st != NNCL_OK)
        nncl_snapshots_free(out);
    return st;
}

static float tensor_scale(const nncl_snapshots *s, size_t k, size_t i)
{
    const float *scale = s->scale + k * 2 * (size_t)s->layers;
    size_t off = 0;
    for (int l = 0; l < s->layers; l++) {
        size_t nw = s->sizes[l + 1] * s->sizes[l];
        if (i < off + nw)
            return scale[2 * l];
        if (i < off + nw + s->sizes[l + 1])
            return scale[2 * l + 1];
        off += nw + s->sizes[l + 1];
    }
    return 0.0f;
}

float nncl_snapshots_value(const nncl_snapshots *s, size_t k, size_t i)
{
    return ((int)s->q[k * s->n_params + i] - 128) * tensor_scale(s, k, i);
}

void nncl_snapshots_params(const nncl_snapshots *s, size_t k, float *out)
{
    const uint8_t *q = s->q + k * s->n_params;
    const float *scale = s->scale + k * 2 * (size_t)s->layers;
    size_t off = 0;
    for (int l = 0; l < s->layers; l++) {
        size_t out_n = s->sizes[l + 1], nw = out_n * s->sizes[l];
        for (size_t i = 0; i < nw; i++)
            out[off + i] = ((int)q[off + i] - 128) * scale[2 * l];
        for (size_t i = nw; i < nw + out_n; i++)
            out[off + i] = ((int)q[off + i] - 128) * scale[2 * l + 1];
        off += nw + out_n;
    }
}

/* ---- appending to an existing file ------------------------------------------------------ */

nncl_status nncl_snapshot_writer_reopen(const char *path, const nncl_net_config *cfg, size_t keep,
                                        float *hist_range, nncl_snapshot_writer **out)
{
    *out = NULL;
    FILE *f = fopen(path, "r+b");
    if (!f)
        return nncl_fail(NNCL_E_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    nncl_snapshots s;
    memset(&s, 0, sizeof s);
    size_t hb = 0, rb = 1;
    unsigned char *rec = NULL;
    nncl_status st = NNCL_OK;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode))
        st = nncl_fail(NNCL_E_IO, "%s: not a regular file", path);
    if (st == NNCL_OK)
        st = parse_header(path, f, (uint64_t)sb.st_size, &s, &hb, &rb);
    bool same = st == NNCL_OK && s.layers == cfg->layers;
    for (int l = 0; same && l <= cfg->layers; l++)
        same = s.sizes[l] == cfg->sizes[l];
    if (st == NNCL_OK && !same)
        st = bad(path, "it is of another network (%d layers) than this run's (%d layers)", s.layers, cfg->layers);
    uint64_t need = (uint64_t)hb + (uint64_t)keep * rb;
    if (st == NNCL_OK && (uint64_t)sb.st_size < need)
        st = bad(path, "it holds %llu whole snapshots, the checkpoint counts %zu",
                 (unsigned long long)(((uint64_t)sb.st_size - hb) / rb), keep);
    if (st == NNCL_OK && !(rec = malloc(rb)))
        st = nncl_fail(NNCL_E_NOMEM, "out of memory");
    /* The snapshots kept must be whole and in order. */
    for (size_t k = 0; st == NNCL_OK && k < keep; k++) {
        char what[64];
        snprintf(what, sizeof what, "snapshot %zu", k);
        st = read_exact(path, f, rec, rb, what);
        if (st == NNCL_OK && (memcmp(rec, RECORD_MAGIC, 4) != 0 ||
                              le_get_u32(rec + rb - 4) != nncl_crc32(rec, rb - 4) || le_get_u32(rec + 4) != k))
            st = bad(path, "snapshot %zu is damaged (its magic, checksum or index)", k);
    }
    free(rec);
    if (st == NNCL_OK && (uint64_t)sb.st_size > need && ftruncate(fileno(f), (off_t)need) != 0)
        st = nncl_fail(NNCL_E_IO, "%s: cannot cut it to %zu snapshots: %s", path, keep, strerror(errno));
    if (fclose(f) != 0 && st == NNCL_OK)
        st = nncl_fail(NNCL_E_IO, "%s: cannot close: %s", path, strerror(errno));
    if (st != NNCL_OK)
        return st;
    memcpy(hist_range, s.hist_range, (size_t)cfg->layers * sizeof(float));

    nncl_snapshot_writer *w = writer_new(path, cfg);
    if (!w)
        return nncl_fail(NNCL_E_NOMEM, "out of memory");
    w->written = (uint32_t)keep;
    w->unsynced = true;
    w->fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (w->fd < 0) {
        st = nncl_fail(NNCL_E_IO, "%s: cannot open: %s", path, strerror(errno));
        nncl_snapshot_writer_close(w);
        return st;
    }
    *out = w;
    return NNCL_OK;
}
