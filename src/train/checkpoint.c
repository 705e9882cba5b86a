/* checkpoint.bin: a run's state, written atomically and read back with
 * every byte checked. The layout is documented in nncl/checkpoint.h. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nncl/checkpoint.h"
#include "nncl/snapshot.h"
#include "util/atomic_file.h"
#include "util/bad_file.h"
#include "util/crc32_buf.h"
#include "util/le_bytes.h"

#define MAGIC "NNCLCKPT"
#define HEADER_BYTES 32
#define SECTIONS 8
#define STAT_BYTES 224
#define METR_BYTES 72
#define FLAG_IN_EPOCH 1u
#define FLAG_HAVE_BEST 2u
/* Beyond these a file is refused before anything is allocated. */
#define MAX_FILE ((uint64_t)64 << 30)
#define MAX_PARAMS ((uint64_t)1 << 32)
#define MAX_SIZE ((uint64_t)1 << 24)

static const char *const tags[SECTIONS] = {"STAT", "NETC", "ORDR", "PARM", "OPTM", "OPTV", "BEST", "METR"};
enum { S_STAT, S_NETC, S_ORDR, S_PARM, S_OPTM, S_OPTV, S_BEST, S_METR };

static size_t count_params(const nncl_net_config *c)
{
    size_t p = 0;
    if (!nncl_net_config_is_dense(c)) {
        if (nncl_net_config_param_count(c, &p) != NNCL_OK)
            nncl_clear_error();
        return p;
    }
    for (int l = 0; l < c->layers; l++)
        p += c->sizes[l + 1] * (c->sizes[l] + 1);
    return p;
}

/* The network section: the dense form's fields, then, for a network with a
 * layer list, its input shape, the count and each spec (SPEC_BYTES). */
#define SPEC_BYTES 36
static size_t netc_dense_bytes(int layers) { return 28 + 8 * (size_t)(layers + 1); }
static size_t netc_bytes(const nncl_net_config *n)
{
    size_t b = netc_dense_bytes(n->layers);
    return nncl_net_config_is_dense(n) ? b : b + 24 + 4 + SPEC_BYTES * (size_t)n->n_specs;
}

/* ---- writing ------------------------------------------------------------------------ */

/* The payload lengths of the eight sections. */
static void section_lengths(const nncl_checkpoint *c, uint64_t *len)
{
    const nncl_train_state *s = &c->state;
    uint64_t p4 = 4 * (uint64_t)c->n_params;
    len[S_STAT] = STAT_BYTES;
    len[S_NETC] = netc_bytes(&c->net);
    len[S_ORDR] = 4 * (uint64_t)s->rows;
    len[S_PARM] = len[S_OPTM] = len[S_OPTV] = p4;
    len[S_BEST] = s->have_best ? p4 : 0;
    len[S_METR] = METR_BYTES * (uint64_t)(s->epochs_done > 0 ? s->epochs_done : 0);
}

static void pack_stat(unsigned char **p, const nncl_train_state *s)
{
    le_put_u64(p, s->rows);
    le_put_u64(p, s->batch);
    le_put_u64(p, s->seed);
    le_put_u32(p, (uint32_t)s->epochs);
    le_put_u32(p, (uint32_t)s->epochs_done);
    le_put_u32(p, (s->in_epoch ? FLAG_IN_EPOCH : 0) | (s->have_best ? FLAG_HAVE_BEST : 0));
    le_put_u32(p, (uint32_t)s->best_epoch);
    le_put_u64(p, s->step_in_epoch);
    le_put_u64(p, s->seen);
    le_put_u64(p, s->step);
    le_put_u64(p, s->rng);
    le_put_f32(p, s->acc[0]);
    le_put_f32(p, s->acc[1]);
    le_put_f64(p, s->progress);
    le_put_f32(p, s->last_lr);
    le_put_u32(p, (uint32_t)s->since_best);
    le_put_f64(p, s->seconds);
    le_put_f64(p, s->best_val_loss);
    le_put_f64(p, s->best_val_accuracy);
    le_put_u64(p, s->snapshots);
    le_put_u64(p, s->last_snapshot);
    le_put_f64(p, s->snap_acc[0]);
    le_put_f64(p, s->snap_acc[1]);
    le_put_u64(p, s->snap_seen);
    le_put_floats(p, s->hist_range, NNCL_MAX_LAYERS);
}

static void pack_netc(unsigned char **p, const nncl_net_config *n, size_t n_params)
{
    le_put_u32(p, (uint32_t)n->layers);
    le_put_u32(p, (uint32_t)n->act);
    le_put_u32(p, (uint32_t)n->task);
    le_put_f32(p, n->act_param);
    le_put_f32(p, n->dropout);
    le_put_u64(p, n_params);
    for (int l = 0; l <= n->layers; l++)
        le_put_u64(p, n->sizes[l]);
    if (nncl_net_config_is_dense(n))
        return;
    le_put_u64(p, n->in_c);
    le_put_u64(p, n->in_h);
    le_put_u64(p, n->in_w);
    le_put_u32(p, (uint32_t)n->n_specs);
    for (int i = 0; i < n->n_specs; i++) {
        const nncl_layer_spec *s = &n->specs[i];
        le_put_u32(p, (uint32_t)s->kind);
        le_put_u64(p, s->units);
        le_put_u64(p, s->kernel);
        le_put_u64(p, s->stride);
        le_put_u32(p, (uint32_t)(int32_t)s->padding);
        le_put_f32(p, s->rate);
    }
}

static void pack_metrics(unsigned char **p, const nncl_epoch_metrics *m)
{
    le_put_u32(p, (uint32_t)m->epoch);
    le_put_u32(p, 0);
    le_put_u64(p, m->step);
    double d[7] = {m->train_loss, m->train_accuracy, m->val_loss, m->val_accuracy, m->lr, m->seconds,
                   m->samples_per_second};
    for (int i = 0; i < 7; i++)
        le_put_f64(p, d[i]);
}

nncl_status nncl_checkpoint_write(const char *path, const nncl_checkpoint *c)
{
    const nncl_train_state *s = &c->state;
    if (c->net.layers < 1 || c->net.layers > NNCL_MAX_LAYERS || c->n_params != count_params(&c->net) ||
        s->epochs_done < 0 || s->epochs < 1 || (s->rows > 0 && !s->order) || (s->have_best && !c->best) ||
        (s->epochs_done > 0 && !s->history) || !c->params || !c->m || !c->v)
        return nncl_fail(NNCL_E_INVALID, "%s: an incomplete checkpoint (network, order, history or tensors missing)",
                         path);
    uint64_t len[SECTIONS], total = HEADER_BYTES;
    section_lengths(c, len);
    for (int i = 0; i < SECTIONS; i++)
        total += 4 + 8 + len[i] + 4;
    if (total > MAX_FILE || total > SIZE_MAX)
        return nncl_fail(NNCL_E_INVALID, "%s: a checkpoint of %llu bytes is too large", path,
                         (unsigned long long)total);
    unsigned char *buf = malloc((size_t)total);
    if (!buf)
        return nncl_fail(NNCL_E_NOMEM, "%s: out of memory for a checkpoint of %llu bytes", path,
                         (unsigned long long)total);
    unsigned char *p = buf;
    memcpy(p, MAGIC, 8);
    p += 8;
    le_put_u32(&p, NNCL_CHECKPOINT_VERSION);
    le_put_u32(&p, SECTIONS);
    le_put_u64(&p, total);
    le_put_u32(&p, 0);
    le_put_u32(&p, nncl_crc32(buf, 28));
    for (int i = 0; i < SECTIONS; i++) {
        unsigned char *start = p;
        memcpy(p, tags[i], 4);
        p += 4;
        le_put_u64(&p, len[i]);
        switch (i) {
        case S_STAT: pack_stat(&p, s); break;
        case S_NETC: pack_netc(&p, &c->net, c->n_params); break;
        case S_ORDR:
            for (size_t k = 0; k < s->rows; k++)
                le_put_u32(&p, (uint32_t)s->order[k]);
            break;
        case S_PARM: le_put_floats(&p, c->params, c->n_params); break;
        case S_OPTM: le_put_floats(&p, c->m, c->n_params); break;
        case S_OPTV: le_put_floats(&p, c->v, c->n_params); break;
        case S_BEST:
            if (s->have_best)
                le_put_floats(&p, c->best, c->n_params);
            break;
        case S_METR:
            for (int e = 0; e < s->epochs_done; e++)
                pack_metrics(&p, &s->history[e]);
            break;
        }
        le_put_u32(&p, nncl_crc32(start, (size_t)(p - start)));
    }
    nncl_status st = nncl_write_file_atomic(path, buf, (size_t)total);
    free(buf);
    return st;
}

nncl_status nncl_checkpoint_save(const char *path, const nncl_net *net, const nncl_train_state *state)
{
    nncl_checkpoint c;
    memset(&c, 0, sizeof c);
    c.net = *nncl_net_get_config(net);
    c.n_params = nncl_net_param_count(net);
    c.state = *state;
    size_t bytes = (c.n_params ? c.n_params : 1) * sizeof(float);
    c.params = malloc(bytes);
    c.m = malloc(bytes);
    c.v = malloc(bytes);
    c.best = state->have_best ? malloc(bytes) : NULL;
    nncl_status st = NNCL_OK;
    if (!c.params || !c.m || !c.v || (state->have_best && !c.best))
        st = nncl_fail(NNCL_E_NOMEM, "%s: out of memory for a checkpoint of %zu parameters", path, c.n_params);
    if (st == NNCL_OK)
        st = nncl_net_get_params(net, c.params);
    if (st == NNCL_OK)
        st = nncl_net_get_optim_state(net, c.m, c.v);
    if (st == NNCL_OK && c.best)
        st = nncl_net_get_best(net, c.best);
    if (st == NNCL_OK)
        st = nncl_checkpoint_write(path, &c);
    free(c.params);
    free(c.m);
    free(c.v);
    free(c.best);
    return st;
}

/* ---- reading -------------------------------------------------------------------------- */

/* Every format error says which file is not a valid checkpoint. */
#define bad(path, ...) nncl_bad_file((path), "nncl checkpoint", __VA_ARGS__)

void nncl_checkpoint_free(nncl_checkpoint *c)
{
    if (!c)
        return;
    free(c->state.order);
    free(c->state.history);
    free(c->params);
    free(c->m);
    free(c->v);
    free(c->best);
    memset(c, 0, sizeof *c);
}

static nncl_status parse_stat(const char *path, const unsigned char *p, nncl_train_state *s)
{
    s->rows = (size_t)le_get_u64(p);
    s->batch = (size_t)le_get_u64(p + 8);
    s->seed = le_get_u64(p + 16);
    uint32_t epochs = le_get_u32(p + 24), done = le_get_u32(p + 28);
    uint32_t flags = le_get_u32(p + 32), best = le_get_u32(p + 36);
    s->step_in_epoch = (size_t)le_get_u64(p + 40);
    s->seen = (size_t)le_get_u64(p + 48);
    s->step = le_get_u64(p + 56);
    s->rng = le_get_u64(p + 64);
    s->acc[0] = le_get_f32(p + 72);
    s->acc[1] = le_get_f32(p + 76);
    s->progress = le_get_f64(p + 80);
    s->last_lr = le_get_f32(p + 88);
    uint32_t since = le_get_u32(p + 92);
    s->seconds = le_get_f64(p + 96);
    s->best_val_loss = le_get_f64(p + 104);
    s->best_val_accuracy = le_get_f64(p + 112);
    s->snapshots = (size_t)le_get_u64(p + 120);
    s->last_snapshot = le_get_u64(p + 128);
    s->snap_acc[0] = le_get_f64(p + 136);
    s->snap_acc[1] = le_get_f64(p + 144);
    s->snap_seen = (size_t)le_get_u64(p + 152);
    le_get_floats(p + 160, s->hist_range, NNCL_MAX_LAYERS);

    uint64_t rows = le_get_u64(p), batch = le_get_u64(p + 8);
    if (rows < 1 || rows > INT32_MAX)
        return bad(path, "the state says %llu rows (1..%d)", (unsigned long long)rows, INT32_MAX);
    if (batch < 1 || batch > rows)
        return bad(path, "the state says batches of %llu rows, of %llu rows", (unsigned long long)batch,
                   (unsigned long long)rows);
    if (epochs < 1 || epochs > INT_MAX || done > epochs)
        return bad(path, "the state says %u of %u epochs done", done, epochs);
    if (flags & ~(FLAG_IN_EPOCH | FLAG_HAVE_BEST))
        return bad(path, "the state has unknown flags 0x%x", flags);
    s->epochs = (int)epochs;
    s->epochs_done = (int)done;
    s->in_epoch = flags & FLAG_IN_EPOCH;
    s->have_best = flags & FLAG_HAVE_BEST;
    if (s->in_epoch && done == epochs)
        return bad(path, "the state is inside epoch %u of %u", done + 1, epochs);
    uint64_t spe = (rows + batch - 1) / batch, in = s->in_epoch ? s->step_in_epoch : 0;
    if ((!s->in_epoch && s->step_in_epoch != 0) || in >= spe || s->seen != in * batch ||
        s->step != (uint64_t)done * spe + in)
        return bad(path,
                   "the state's step %llu (%llu steps and %llu rows into epoch %u) does not follow from %u "
                   "epochs of %llu steps",
                   (unsigned long long)s->step, (unsigned long long)s->step_in_epoch, (unsigned long long)s->seen,
                   done + 1, done, (unsigned long long)spe);
    if (best > done || since > done || (s->have_best && best == 0))
        return bad(path, "the state's best epoch %u or epochs since it %u is beyond the %u epochs done", best, since,
                   done);
    s->best_epoch = (int)best;
    s->since_best = (int)since;
    if (!(s->seconds >= 0) || !isfinite(s->seconds) || !isfinite(s->progress))
        return bad(path, "the state's seconds or progress is not a finite number");
    if (s->snapshots > NNCL_SNAPSHOT_MAX || (s->snapshots == 0) != (s->last_snapshot == UINT64_MAX) ||
        (s->snapshots > 0 && s->last_snapshot > s->step))
        return bad(path, "the state's %llu snapshots, the last at step %llu, do not fit its step %llu",
                   (unsigned long long)s->snapshots, (unsigned long long)s->last_snapshot,
                   (unsigned long long)s->step);
    if (s->snap_seen > s->seen)
        return bad(path, "the state's last snapshot saw %zu rows of the epoch, more than its %zu", s->snap_seen,
                   s->seen);
    return NNCL_OK;
}

static nncl_status parse_netc_head(const char *path, const unsigned char *p, uint64_t len)
{
    if (len < 4)
        return bad(path, "the network section is %llu bytes", (unsigned long long)len);
    uint32_t layers = le_get_u32(p);
    if (layers < 1 || layers > NNCL_MAX_LAYERS)
        return bad(path, "the network has %u layers (1..%d)", layers, NNCL_MAX_LAYERS);
    size_t dense = netc_dense_bytes((int)layers);
    if (len == dense)
        return NNCL_OK;
    if (len >= dense + 28) {
        uint32_t n_specs = le_get_u32(p + dense + 24);
        if (n_specs == layers && len == dense + 28 + SPEC_BYTES * (uint64_t)n_specs)
            return NNCL_OK;
    }
    return bad(path, "the network section is %llu bytes, %u layers take %zu (or a layer list after them)",
               (unsigned long long)len, layers, dense);
}

/* A layer list, each field in range; the layout then checks the shapes. */
static nncl_status parse_specs(const char *path, const unsigned char *p, nncl_net_config *n)
{
    n->in_c = (size_t)le_get_u64(p);
    n->in_h = (size_t)le_get_u64(p + 8);
    n->in_w = (size_t)le_get_u64(p + 16);
    n->n_specs = (int)le_get_u32(p + 24);
    /* in_c * in_h first: the product of three sizes up to 2^24 can wrap
     * around to the input size (10496005 x 419021 x 2^24 is 2^24) */
    if (n->in_c == 0 || n->in_h == 0 || n->in_w == 0 || n->in_c > MAX_SIZE || n->in_h > MAX_SIZE ||
        n->in_w > MAX_SIZE || n->in_c * n->in_h > MAX_SIZE || n->in_c * n->in_h * n->in_w != n->sizes[0])
        return bad(path, "the network's input shape %zux%zux%zu does not make its %zu inputs", n->in_c, n->in_h,
                   n->in_w, n->sizes[0]);
    p += 28;
    for (int i = 0; i < n->n_specs; i++, p += SPEC_BYTES) {
        nncl_layer_spec *s = &n->specs[i];
        uint32_t kind = le_get_u32(p);
        uint64_t units = le_get_u64(p + 4), kernel = le_get_u64(p + 12), stride = le_get_u64(p + 20);
        int32_t pad = (int32_t)le_get_u32(p + 28);
        float rate = le_get_f32(p + 32);
        if (kind > NNCL_LAYER_FLATTEN || units > MAX_SIZE || kernel > 4096 || stride > 4096 || pad < -1 ||
            pad > 4096 || !(rate >= 0.0f && rate < 1.0f))
            return bad(path, "layer %d of the network's list is out of range", i + 1);
        *s = (nncl_layer_spec){.kind = (nncl_layer_kind)kind, .units = (size_t)units, .kernel = (size_t)kernel,
                               .stride = (size_t)stride, .padding = pad, .rate = rate};
    }
    return NNCL_OK;
}

static nncl_status parse_netc(const char *path, const unsigned char *p, uint64_t len, nncl_checkpoint *c)
{
    nncl_net_config *n = &c->net;
    n->layers = (int)le_get_u32(p);
    uint32_t act = le_get_u32(p + 4), task = le_get_u32(p + 8);
    if (act > NNCL_ACT_TANH)
        return bad(path, "the network's activation %u is unknown", act);
    if (task > NNCL_TASK_REGRESS)
        return bad(path, "the network's task %u is unknown", task);
    n->act = (nncl_act)act;
    n->task = (nncl_task)task;
    n->act_param = le_get_f32(p + 12);
    n->dropout = le_get_f32(p + 16);
    if (!(n->dropout >= 0 && n->dropout < 1) || !isfinite(n->act_param))
        return bad(path, "the network's dropout %g or activation parameter %g is out of range", (double)n->dropout,
                   (double)n->act_param);
    uint64_t n_params = le_get_u64(p + 20), want = 0;
    for (int l = 0; l <= n->layers; l++) {
        uint64_t v = le_get_u64(p + 28 + 8 * (size_t)l);
        if (v == 0 || v > MAX_SIZE)
            return bad(path, "layer size %d is %llu (1..%llu)", l, (unsigned long long)v,
                       (unsigned long long)MAX_SIZE);
        n->sizes[l] = (size_t)v;
        if (l > 0)
            want += v * (n->sizes[l - 1] + 1);
    }
    if (len > netc_dense_bytes(n->layers)) {
        nncl_status st = parse_specs(path, p + netc_dense_bytes(n->layers), n);
        if (st != NNCL_OK)
            return st;
        size_t count = 0;
        if (nncl_net_config_param_count(n, &count) != NNCL_OK)
            return bad(path, "the network's layer list does not fit together: %s", nncl_last_error());
        want = count;
    }
    if (n_params != want || n_params > MAX_PARAMS)
        return bad(path, "the network says %llu parameters, its layer sizes make %llu", (unsigned long long)n_params,
                   (unsigned long long)want);
    c->n_params = (size_t)n_params;
    return NNCL_OK;
}

static nncl_status parse_order(const char *path, const unsigned char *p, nncl_train_state *s)
{
    s->order = malloc(s->rows * sizeof *s->order);
    unsigned char *hit = calloc(s->rows, 1);
    nncl_status st = NNCL_OK;
    if (!s->order || !hit)
        st = nncl_fail(NNCL_E_NOMEM, "%s: out of memory for an order of %zu rows", path, s->rows);
    for (size_t i = 0; st == NNCL_OK && i < s->rows; i++) {
        uint32_t k = le_get_u32(p + 4 * i);
        if (k >= s->rows || hit[k])
            st = bad(path, "the row order is not a permutation of %zu rows: entry %zu is %d%s", s->rows, i,
                     (int32_t)k, k < s->rows ? ", a repeat" : "");
        else
            hit[k] = 1;
        if (s->order)
            s->order[i] = (int32_t)k;
    }
    free(hit);
    return st;
}

static nncl_status parse_metrics(const char *path, const unsigned char *p, nncl_train_state *s)
{
    size_t n = (size_t)s->epochs_done;
    s->history = calloc(n ? n : 1, sizeof *s->history);
    if (!s->history)
        return nncl_fail(NNCL_E_NOMEM, "%s: out of memory for %zu epochs' metrics", path, n);
    uint64_t spe = (s->rows + s->batch - 1) / s->batch;
    for (size_t e = 0; e < n; e++, p += METR_BYTES) {
        nncl_epoch_metrics *m = &s->history[e];
        uint32_t epoch = le_get_u32(p);
        m->epoch = (int)epoch;
        m->step = (unsigned long)le_get_u64(p + 8);
        double *d[7] = {&m->train_loss, &m->train_accuracy, &m->val_loss, &m->val_accuracy, &m->lr, &m->seconds,
                        &m->samples_per_second};
        for (int i = 0; i < 7; i++)
            *d[i] = le_get_f64(p + 16 + 8 * (size_t)i);
        if (epoch != e + 1 || le_get_u32(p + 4) != 0 || le_get_u64(p + 8) != (e + 1) * spe)
            return bad(path, "the metrics of epoch %zu say epoch %u, step %llu (expected step %llu)", e + 1, epoch,
                       (unsigned long long)le_get_u64(p + 8), (unsigned long long)((e + 1) * spe));
    }
    return NNCL_OK;
}

static nncl_status parse(const char *path, const unsigned char *b, size_t size, nncl_checkpoint *c)
{
    if (size < HEADER_BYTES)
        return bad(path, "%zu bytes is too short for the header", size);
    if (memcmp(b, MAGIC, 8) != 0)
        return bad(path, "it does not start with \"" MAGIC "\"");
    if (le_get_u32(b + 28) != nncl_crc32(b, 28))
        return bad(path, "the header's checksum does not match its bytes");
    uint32_t version = le_get_u32(b + 8), sections = le_get_u32(b + 12);
    uint64_t file_bytes = le_get_u64(b + 16);
    if (version != NNCL_CHECKPOINT_VERSION)
        return bad(path, "version %u; this nncl reads version %d", version, NNCL_CHECKPOINT_VERSION);
    if (sections != SECTIONS || le_get_u32(b + 24) != 0)
        return bad(path, "the header says %u sections, version %d has %d", sections, NNCL_CHECKPOINT_VERSION,
                   SECTIONS);
    if (file_bytes > size)
        return bad(path, "it is truncated: %zu bytes of the %llu its header says", size,
                   (unsigned long long)file_bytes);
    if (file_bytes < size)
        return bad(path, "%zu bytes, %llu more than the %llu its header says", size,
                   (unsigned long long)(size - file_bytes), (unsigned long long)file_bytes);
    nncl_train_state *s = &c->state;
    size_t pos = HEADER_BYTES;
    for (int i = 0; i < SECTIONS; i++) {
        if (size - pos < 12)
            return bad(path, "it ends before section %s", tags[i]);
        const unsigned char *h = b + pos;
        if (memcmp(h, tags[i], 4) != 0)
            return bad(path, "section %d is \"%.4s\", expected \"%s\"", i + 1, (const char *)h, tags[i]);
        uint64_t len = le_get_u64(h + 4);
        if (len > size - pos - 12 || size - pos - 12 - len < 4)
            return bad(path, "section %s says %llu bytes, more than the file holds", tags[i],
                       (unsigned long long)len);
        const unsigned char *p = h + 12;
        /* The lengths follow from what came before. */
        uint64_t want = 0, p4 = 4 * (uint64_t)c->n_params;
        nncl_status st = NNCL_OK;
        switch (i) {
        case S_STAT: want = STAT_BYTES; break;
        case S_NETC: st = parse_netc_head(path, p, len); want = len; break;
        case S_ORDR: want = 4 * (uint64_t)s->rows; break;
        case S_PARM: case S_OPTM: case S_OPTV: want = p4; break;
        case S_BEST: want = s->have_best ? p4 : 0; break;
        case S_METR: want = METR_BYTES * (uint64_t)s->epochs_done; break;
        }
        if (st != NNCL_OK)
            return st;
        if (len != want)
            return bad(path, "section %s is %llu bytes, expected %llu", tags[i], (unsigned long long)len,
                       (unsigned long long)want);
        if (le_get_u32(p + len) != nncl_crc32(h, 12 + (size_t)len))
            return bad(path, "section %s's checksum does not match its bytes", tags[i]);
        size_t n = c->n_params;
        switch (i) {
        case S_STAT: st = parse_stat(path, p, s); break;
        case S_NETC:
            st = parse_netc(path, p, len, c);
            for (int l = 0; st == NNCL_OK && s->snapshots > 0 && l < c->net.layers; l++)
                if (!(s->hist_range[l] > 0) || !isfinite(s->hist_range[l]))
                    st = bad(path, "layer %d's histogram range is not a positive number", l + 1);
            break;
        case S_ORDR: st = parse_order(path, p, s); break;
        case S_PARM: case S_OPTM: case S_OPTV: case S_BEST: {
            if (len == 0)
                break;
            float **dst = i == S_PARM ? &c->params : i == S_OPTM ? &c->m : i == S_OPTV ? &c->v : &c->best;
            *dst = malloc(n * sizeof(float));
            if (!*dst)
                return nncl_fail(NNCL_E_NOMEM, "%s: out of memory for %zu parameters", path, n);
            le_get_floats(p, *dst, n);
            break;
        }
        case S_METR: st = parse_metrics(path, p, s); break;
        }
        if (st != NNCL_OK)
            return st;
        pos += 12 + (size_t)len + 4;
    }
    if (pos != size)
        return bad(path, "%zu bytes after its last section", size - pos);
    return NNCL_OK;
}

nncl_status nncl_checkpoint_load(const char *path, nncl_checkpoint *out)
{
    memset(out, 0, sizeof *out);
    char *data = NULL;
    size_t size = 0;
    nncl_status st = nncl_read_file(path, (size_t)MAX_FILE, &data, &size);
    if (st != NNCL_OK)
        return st == NNCL_E_FORMAT ? bad(path, "larger than %llu bytes", (unsigned long long)MAX_FILE) : st;
    st = parse(path, (const unsigned char *)data, size, out);
    free(data);
    if (st != NNCL_OK)
        nncl_checkpoint_free(out);
    return st;
}

static bool same_spec(const nncl_layer_spec *a, const nncl_layer_spec *b)
{
    return a->kind == b->kind && a->units == b->units && a->kernel == b->kernel && a->stride == b->stride &&
           a->padding == b->padding && memcmp(&a->rate, &b->rate, sizeof a->rate) == 0;
}

nncl_status nncl_checkpoint_apply(const nncl_checkpoint *c, nncl_net *net)
{
    const nncl_net_config *n = nncl_net_get_config(net);
    bool same = n->layers == c->net.layers && n->act == c->net.act && n->task == c->net.task &&
                memcmp(&n->act_param, &c->net.act_param, sizeof(float)) == 0 &&
                memcmp(&n->dropout, &c->net.dropout, sizeof(float)) == 0 &&
                nncl_net_param_count(net) == c->n_params;
    for (int l = 0; same && l <= n->layers; l++)
        same = n->sizes[l] == c->net.sizes[l];
    same = same && n->n_specs == c->net.n_specs && n->in_c == c->net.in_c && n->in_h == c->net.in_h &&
           n->in_w == c->net.in_w;
    for (int i = 0; same && i < n->n_specs; i++)
        same = same_spec(&n->specs[i], &c->net.specs[i]);
    if (!same)
        return nncl_fail(NNCL_E_INVALID, "the checkpoint is of another network (%d layers, %zu parameters) than "
                                         "this one (%d layers, %zu parameters)",
                         c->net.layers, c->n_params, n->layers, nncl_net_param_count(net));
    if (c->state.have_best && !c->best)
        return nncl_fail(NNCL_E_INVALID, "the checkpoint keeps best weights but holds none");
    nncl_status st = nncl_net_set_params(net, c->params);
    if (st == NNCL_OK)
        st = nncl_net_set_optim_state(net, c->m, c->v);
    if (st == NNCL_OK && c->state.have_best)
        st = nncl_net_set_best(net, c->best);
    return st;
}
