/* Checkpoints and resuming (nncl/checkpoint.h, src/train/checkpoint.c, the
 * resume path of src/train/loop.c, the snapshot writer's reopen, and
 * run_is_crashed of src/report/run_liveness.c):
 *   - the file: a round trip bit for bit, its bytes against the layout in
 *     checkpoint.h, every truncation, every section's checksum, and fields
 *     whose checksums are right but whose values are not, each refused with
 *     NNCL_E_FORMAT and a message naming the file and the fault;
 *   - snapshots.bin reopened to append after its kept snapshots;
 *   - training, on the first OpenCL device and the host, for four set-ups
 *     (float data with a fused output layer and snapshots; byte data through
 *     linear_u8_head on a CPU OpenCL device; dropout and early stopping;
 *     full batches without shuffling): a run that writes checkpoints equals
 *     one that does not; a run continued from the checkpoint of every epoch
 *     end, and from a stop after every single step (and a stop, a resume and
 *     a second stop), gives the uninterrupted run's epoch metrics,
 *     snapshots and parameters bit for bit; states of another run refused;
 *   - run_is_crashed on live, dead, foreign and finished runs. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "report/run_liveness.h"
#include "nncl/checkpoint.h"
#include "nncl/snapshot.h"
#include "nncl/train.h"
#include "test_files.h"
#include "test_util.h"

static void make_root(void) { test_tmpdir_make("nncl_checkpoint"); }

/* ---- 1. the file ---------------------------------------------------------------------------- */

/* The layout of nncl/checkpoint.h: a 32-byte header, then sections of
 * tag[4], u64 length, payload, u32 crc32 of the three. */
enum { HEADER = 32, SECTIONS = 8, STAT = 224, METR = 72 };
static const char *const TAGS[SECTIONS] = {"STAT", "NETC", "ORDR", "PARM", "OPTM", "OPTV", "BEST", "METR"};
enum { S_STAT, S_NETC, S_ORDR, S_PARM, S_OPTM, S_OPTV, S_BEST, S_METR };
/* STAT fields */
enum {
    T_ROWS = 0, T_BATCH = 8, T_SEED = 16, T_EPOCHS = 24, T_DONE = 28, T_FLAGS = 32, T_BEST_EPOCH = 36,
    T_STEP_IN_EPOCH = 40, T_SEEN = 48, T_STEP = 56, T_RNG = 64, T_ACC = 72, T_PROGRESS = 80, T_LAST_LR = 88,
    T_SINCE = 92, T_SECONDS = 96, T_BEST_LOSS = 104, T_BEST_ACC = 112, T_SNAPSHOTS = 120, T_LAST_SNAP = 128,
    T_SNAP_ACC = 136, T_SNAP_SEEN = 152, T_HIST = 160,
};
/* NETC fields */
enum { N_LAYERS = 0, N_ACT = 4, N_TASK = 8, N_ACT_PARAM = 12, N_DROPOUT = 16, N_PARAMS = 20, N_SIZES = 28 };

static const nncl_net_config NET543 = {.layers = 2, .sizes = {5, 4, 3}, .act = NNCL_ACT_LEAKY_RELU,
                                       .act_param = 0.125f, .task = NNCL_TASK_CLASSIFY, .dropout = 0.25f};
enum { P543 = 4 * 5 + 4 + 3 * 4 + 3, ROWS7 = 7 };

/* Offsets of each section's header in a file. */
static void section_offsets(const unsigned char *f, size_t n, size_t *off)
{
    size_t pos = HEADER;
    for (int i = 0; i < SECTIONS; i++) {
        ck_assert_msg(pos + 12 <= n && memcmp(f + pos, TAGS[i], 4) == 0, "section %d (%s) is not at %zu", i, TAGS[i],
                      pos);
        off[i] = pos;
        pos += 12 + (size_t)test_get64(f + pos + 4) + 4;
    }
    ck_assert_msg(pos == n, "the sections end at %zu, the file at %zu", pos, n);
}

static void fix_section(unsigned char *f, size_t at)
{
    size_t len = (size_t)test_get64(f + at + 4);
    test_put32(f + at + 12 + len, (uint32_t)crc32(0L, f + at, (uInt)(12 + len)));
}

static void fix_header(unsigned char *f) { test_put32(f + 28, (uint32_t)crc32(0L, f, 28)); }

/* A checkpoint of a 5-4-3 network two epochs and one step into a run of 7
 * rows in batches of 3 (3 steps an epoch), keeping best weights, with NaN,
 * -0 and infinities among its floats. */
static void make_checkpoint(nncl_checkpoint *c)
{
    memset(c, 0, sizeof *c);
    uint64_t s = 543;
    c->net = NET543;
    c->n_params = P543;
    c->params = test_random(&s, P543, -2, 2);
    c->m = test_random(&s, P543, -1, 1);
    c->v = test_random(&s, P543, 0, 1);
    c->best = test_random(&s, P543, -2, 2);
    c->params[0] = -0.0f;
    c->params[1] = NAN;
    c->m[2] = INFINITY;
    c->v[3] = 1e-45f;   /* a denormal */
    nncl_train_state *t = &c->state;
    t->rows = ROWS7;
    t->batch = 3;
    t->seed = 0xfeedfacecafebeefULL;
    t->epochs = 4;
    t->epochs_done = 2;
    t->in_epoch = true;
    t->step_in_epoch = 1;
    t->seen = 3;
    t->step = 7;
    t->rng = 0x0123456789abcdefULL;
    static const int32_t order[ROWS7] = {3, 0, 6, 2, 5, 1, 4};
    t->order = malloc(sizeof order);
    memcpy(t->order, order, sizeof order);
    t->acc[0] = 1.25f;
    t->acc[1] = 2.0f;
    t->progress = 2.0 + 1.0 / 3.0;
    t->last_lr = 0.0123f;
    t->seconds = 3.5;
    t->best_epoch = 2;
    t->best_val_loss = 0.7;
    t->best_val_accuracy = 0.8125;
    t->since_best = 0;
    t->have_best = true;
    t->snapshots = 3;
    t->last_snapshot = 6;
    t->snap_acc[0] = 0.5;
    t->snap_acc[1] = 1.0;
    t->snap_seen = 3;
    t->hist_range[0] = 1.5f;
    t->hist_range[1] = 2.25f;
    t->history = calloc(2, sizeof *t->history);
    for (int e = 0; e < 2; e++) {
        nncl_epoch_metrics *m = &t->history[e];
        m->epoch = e + 1;
        m->step = 3 * (unsigned long)(e + 1);
        m->train_loss = 1.0 / (e + 3);
        m->train_accuracy = 0.5 + 0.1 * e;
        m->val_loss = e == 0 ? NAN : 0.7;
        m->val_accuracy = e == 0 ? NAN : 0.8125;
        m->lr = 0.01 * (e + 1);
        m->seconds = 1.5 * (e + 1);
        m->samples_per_second = 1234.5;
    }
}

static void expect_same_checkpoint(const nncl_checkpoint *a, const nncl_checkpoint *b)
{
    ck_assert_msg(a->net.layers == b->net.layers && a->net.act == b->net.act && a->net.task == b->net.task &&
                      test_same_f(a->net.act_param, b->net.act_param) && test_same_f(a->net.dropout, b->net.dropout) &&
                      a->n_params == b->n_params,
                  "the network did not come back");
    for (int l = 0; l <= a->net.layers; l++)
        ck_assert_int_eq(a->net.sizes[l], b->net.sizes[l]);
    const nncl_train_state *x = &a->state, *y = &b->state;
    ck_assert_msg(x->rows == y->rows && x->batch == y->batch && x->seed == y->seed && x->epochs == y->epochs &&
                      x->epochs_done == y->epochs_done && x->in_epoch == y->in_epoch &&
                      x->step_in_epoch == y->step_in_epoch && x->seen == y->seen && x->step == y->step &&
                      x->rng == y->rng,
                  "the state's counters did not come back");
    ck_assert_msg(test_same_f(x->acc[0], y->acc[0]) && test_same_f(x->acc[1], y->acc[1]) &&
                      test_same_d(x->progress, y->progress) && test_same_f(x->last_lr, y->last_lr) &&
                      test_same_d(x->seconds, y->seconds),
                  "the state's accumulator, progress, learning rate or seconds did not come back bit for bit");
    ck_assert_msg(x->best_epoch == y->best_epoch && test_same_d(x->best_val_loss, y->best_val_loss) &&
                      test_same_d(x->best_val_accuracy, y->best_val_accuracy) && x->since_best == y->since_best &&
                      x->have_best == y->have_best,
                  "the early stopping state did not come back");
    ck_assert_msg(x->snapshots == y->snapshots && x->last_snapshot == y->last_snapshot &&
                      test_same_d(x->snap_acc[0], y->snap_acc[0]) && test_same_d(x->snap_acc[1], y->snap_acc[1]) &&
                      x->snap_seen == y->snap_seen &&
                      memcmp(x->hist_range, y->hist_range, sizeof x->hist_range) == 0,
                  "the snapshots' state did not come back");
    ck_assert_msg(memcmp(x->order, y->order, x->rows * sizeof *x->order) == 0, "the order did not come back");
    for (int e = 0; e < x->epochs_done; e++) {
        const nncl_epoch_metrics *m = &x->history[e], *n = &y->history[e];
        ck_assert_msg(m->epoch == n->epoch && m->step == n->step && test_same_d(m->train_loss, n->train_loss) &&
                          test_same_d(m->train_accuracy, n->train_accuracy) && test_same_d(m->val_loss, n->val_loss) &&
                          test_same_d(m->val_accuracy, n->val_accuracy) && test_same_d(m->lr, n->lr) &&
                          test_same_d(m->seconds, n->seconds) &&
                          test_same_d(m->samples_per_second, n->samples_per_second),
                      "epoch %d's metrics did not come back bit for bit", e + 1);
    }
    size_t bytes = a->n_params * sizeof(float);
    ck_assert_msg(memcmp(a->params, b->params, bytes) == 0 && memcmp(a->m, b->m, bytes) == 0 &&
                      memcmp(a->v, b->v, bytes) == 0,
                  "the parameters or optimiser state did not come back bit for bit");
    ck_assert_msg((!a->best && !b->best) || (a->best && b->best && memcmp(a->best, b->best, bytes) == 0),
                  "the best weights did not come back");
}

START_TEST(file_round_trip)
{
    nncl_checkpoint c;
    make_checkpoint(&c);
    char path[512];
    test_path_in(path, sizeof path, "round_trip.bin");
    ck_assert_ok(nncl_checkpoint_write(path, &c));

    /* the bytes, against the layout in checkpoint.h */
    size_t n, off[SECTIONS];
    unsigned char *f = test_read_file(path, &n);
    size_t want = HEADER + SECTIONS * 16 + STAT + (28 + 8 * 3) + 4 * ROWS7 + 4 * 4 * P543 + METR * 2;
    ck_assert_msg(n == want, "file of %zu bytes, expected %zu", n, want);
    ck_assert_msg(memcmp(f, "NNCLCKPT", 8) == 0 && test_get32(f + 8) == NNCL_CHECKPOINT_VERSION &&
                      test_get32(f + 12) == 8 && test_get64(f + 16) == n && test_get32(f + 24) == 0 &&
                      test_get32(f + 28) == (uint32_t)crc32(0L, f, 28),
                  "the header is not as checkpoint.h says");
    section_offsets(f, n, off);
    for (int i = 0; i < SECTIONS; i++) {
        size_t len = (size_t)test_get64(f + off[i] + 4);
        ck_assert_msg(test_get32(f + off[i] + 12 + len) == (uint32_t)crc32(0L, f + off[i], (uInt)(12 + len)),
                      "section %s: its crc32 is not zlib's over tag, length and payload", TAGS[i]);
    }
    const unsigned char *st = f + off[S_STAT] + 12, *nc = f + off[S_NETC] + 12;
    ck_assert_msg(test_get64(st + T_ROWS) == ROWS7 && test_get64(st + T_SEED) == c.state.seed &&
                      test_get32(st + T_DONE) == 2 && test_get32(st + T_FLAGS) == 3 && test_get64(st + T_STEP) == 7 &&
                      test_get64(st + T_RNG) == c.state.rng && test_get64(st + T_LAST_SNAP) == 6 &&
                      test_get64(st + T_SNAP_SEEN) == 3,
                  "STAT fields are not where checkpoint.h puts them");
    ck_assert_msg(test_get32(nc + N_LAYERS) == 2 && test_get32(nc + N_ACT) == NNCL_ACT_LEAKY_RELU &&
                      test_get64(nc + N_PARAMS) == P543 && test_get64(nc + N_SIZES + 16) == 3,
                  "NETC fields are not where checkpoint.h puts them");
    ck_assert_msg(test_get32(f + off[S_ORDR] + 12) == 3 && test_get32(f + off[S_ORDR] + 12 + 4 * 6) == 4,
                  "the order is not where checkpoint.h puts it");
    ck_assert_msg(memcmp(f + off[S_PARM] + 12, c.params, 4) == 0 && memcmp(f + off[S_OPTV] + 12 + 12, &c.v[3], 4) == 0,
                  "parameters or v are not stored as their little-endian bits");
    ck_assert_msg(test_get32(f + off[S_METR] + 12 + METR) == 2 && test_get64(f + off[S_METR] + 12 + METR + 8) == 6,
                  "epoch 2's metrics are not where checkpoint.h puts them");

    nncl_checkpoint back;
    ck_assert_ok(nncl_checkpoint_load(path, &back));
    expect_same_checkpoint(&c, &back);
    nncl_checkpoint_free(&back);

    /* without best weights, at an epoch's end, with no epochs done */
    free(c.best);
    c.best = NULL;
    c.state.have_best = false;
    c.state.in_epoch = false;
    c.state.step_in_epoch = c.state.seen = 0;
    c.state.epochs_done = 0;
    c.state.step = 0;
    c.state.best_epoch = 0;
    c.state.snap_seen = 0;
    c.state.snapshots = 1;
    c.state.last_snapshot = 0;
    ck_assert_ok(nncl_checkpoint_write(path, &c));
    ck_assert_ok(nncl_checkpoint_load(path, &back));
    expect_same_checkpoint(&c, &back);
    ck_assert_msg(back.best == NULL && back.state.history != NULL, "no best weights: best %p", (void *)back.best);
    nncl_checkpoint_free(&back);

    /* the writer refuses an incomplete checkpoint */
    c.state.have_best = true;
    nncl_status s = nncl_checkpoint_write(path, &c);
    ck_assert_msg(s == NNCL_E_INVALID, "best weights missing: %s", nncl_status_name(s));
    free(f);
    nncl_checkpoint_free(&c);
}
END_TEST

/* Write bytes to `name` and expect NNCL_E_FORMAT with a message naming the
 * file and saying `word`, not `avoid` (another check than the one meant). */
static void expect_refused(const char *name, const unsigned char *p, size_t n, const char *word, const char *avoid)
{
    char path[512];
    test_path_in(path, sizeof path, name);
    test_write_file(path, p, n);
    nncl_checkpoint c;
    memset(&c, 0xab, sizeof c);
    nncl_status st = nncl_checkpoint_load(path, &c);
    const char *msg = nncl_last_error();
    ck_assert_msg(st == NNCL_E_FORMAT, "%s (%zu bytes): %s (%s), expected NNCL_E_FORMAT", name, n,
                  nncl_status_name(st), st == NNCL_OK ? "loaded" : msg);
    ck_assert_msg(strstr(msg, path) != NULL, "%s: message \"%s\" does not name the file", name, msg);
    ck_assert_msg(!word || strstr(msg, word) != NULL, "%s: message \"%s\" does not say \"%s\"", name, msg, word);
    ck_assert_msg(!avoid || strstr(msg, avoid) == NULL, "%s: message \"%s\" says \"%s\": the wrong check was reached",
                  name, msg, avoid);
    ck_assert_msg(c.params == NULL && c.state.order == NULL && c.state.history == NULL && c.best == NULL,
                  "%s: refused, but left arrays behind", name);
    unlink(path);
}

START_TEST(reader_refuses_damaged_files)
{
    nncl_checkpoint c;
    make_checkpoint(&c);
    char path[512];
    test_path_in(path, sizeof path, "valid.bin");
    ck_assert_ok(nncl_checkpoint_write(path, &c));
    nncl_checkpoint_free(&c);
    size_t n, off[SECTIONS];
    unsigned char *v = test_read_file(path, &n);
    section_offsets(v, n, off);
    unsigned char *b = malloc(n + 1);
#define FRESH() memcpy(b, v, n)
#define STATF(f) (b + off[S_STAT] + 12 + (f))
#define NETCF(f) (b + off[S_NETC] + 12 + (f))

    /* every truncation, and one byte too many */
    for (size_t k = 0; k < n; k++) {
        char name[64];
        snprintf(name, sizeof name, "cut%zu.bin", k);
        expect_refused(name, v, k, k < HEADER ? "header" : "truncated", NULL);
    }
    FRESH();
    b[n] = 0;
    expect_refused("long.bin", b, n + 1, "more than", NULL);

    /* a flipped byte in the header and in every section's payload */
    FRESH();
    b[17] ^= 1;
    expect_refused("flip_header.bin", b, n, "header's checksum", NULL);
    for (int i = 0; i < SECTIONS; i++) {
        if (i == S_BEST || test_get64(v + off[i] + 4) == 0)
            continue;   /* BEST: below */
        FRESH();
        b[off[i] + 12 + (size_t)test_get64(v + off[i] + 4) / 2] ^= 0x20;
        char name[64], word[64];
        snprintf(name, sizeof name, "flip_%s.bin", TAGS[i]);
        snprintf(word, sizeof word, "section %s's checksum", TAGS[i]);
        expect_refused(name, b, n, word, NULL);
    }
    FRESH();
    b[off[S_BEST] + 20] ^= 0x01;
    expect_refused("flip_BEST.bin", b, n, "section BEST's checksum", NULL);
    FRESH();
    b[off[S_METR] + 12 + n - off[S_METR] - 16 - 1] ^= 0x80;     /* the last payload byte */
    expect_refused("flip_last.bin", b, n, "section METR's checksum", NULL);

    /* the header's fields, their checksum fixed */
    FRESH();
    b[0] = 'X';
    expect_refused("magic.bin", b, n, "NNCLCKPT", NULL);
    FRESH();
    test_put32(b + 8, 2);
    fix_header(b);
    expect_refused("version.bin", b, n, "version 2", "checksum");
    FRESH();
    test_put32(b + 12, 7);
    fix_header(b);
    expect_refused("sections.bin", b, n, "sections", "checksum");
    FRESH();
    test_put64(b + 16, n + 4);
    fix_header(b);
    expect_refused("file_bytes_more.bin", b, n, "truncated", "checksum");
    FRESH();
    test_put64(b + 16, n - 4);
    fix_header(b);
    expect_refused("file_bytes_less.bin", b, n, "more than", "checksum");

    /* sections out of place or of the wrong length */
    FRESH();
    memcpy(b + off[S_ORDR], "ORDX", 4);
    fix_section(b, off[S_ORDR]);
    expect_refused("tag.bin", b, n, "expected \"ORDR\"", "checksum");
    FRESH();
    test_put64(b + off[S_PARM] + 4, 4 * P543 - 4);
    expect_refused("parm_len.bin", b, n, "section PARM is 152 bytes, expected 156", NULL);
    FRESH();
    test_put64(b + off[S_ORDR] + 4, (uint64_t)1 << 62);
    expect_refused("huge_len.bin", b, n, "more than the file holds", NULL);
    FRESH();
    test_put32(STATF(T_FLAGS), 1);   /* no best weights, but a BEST section */
    fix_section(b, off[S_STAT]);
    expect_refused("best_len.bin", b, n, "section BEST is 156 bytes, expected 0", "checksum");

    /* the state: fields whose checksum is right but whose values are not */
    struct {
        const char *name;
        size_t field;
        int bytes;          /* 4, 8, or -4 / -8 for a float / double */
        double value;
        const char *word;
    } bad[] = {
        {"rows0", T_ROWS, 8, 0, "rows"},
        {"batch_big", T_BATCH, 8, 8, "batches of 8"},
        {"batch0", T_BATCH, 8, 0, "batches of 0"},
        {"done_beyond", T_DONE, 4, 5, "5 of 4 epochs"},
        {"epochs0", T_EPOCHS, 4, 0, "epochs"},
        {"flags", T_FLAGS, 4, 7, "flags"},
        {"step", T_STEP, 8, 8, "step 8"},
        {"seen", T_SEEN, 8, 2, "does not follow"},
        {"step_in_epoch", T_STEP_IN_EPOCH, 8, 3, "does not follow"},
        {"best_epoch", T_BEST_EPOCH, 4, 3, "best epoch"},
        {"since_best", T_SINCE, 4, 3, "best epoch"},
        {"seconds", T_SECONDS, -8, NAN, "seconds"},
        {"progress", T_PROGRESS, -8, INFINITY, "progress"},
        {"snapshots0", T_SNAPSHOTS, 8, 0, "snapshots"},
        {"snapshots_many", T_SNAPSHOTS, 8, 100000, "snapshots"},
        {"last_snapshot", T_LAST_SNAP, 8, 8, "snapshots"},
        {"snap_seen", T_SNAP_SEEN, 8, 4, "saw 4 rows"},
        {"hist_range", T_HIST + 4, -4, 0, "histogram range"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        FRESH();
        unsigned char *p = STATF(bad[k].field);
        switch (bad[k].bytes) {
        case 4: test_put32(p, (uint32_t)bad[k].value); break;
        case 8: test_put64(p, (uint64_t)bad[k].value); break;
        case -4: test_putf(p, (float)bad[k].value); break;
        case -8: test_putd(p, bad[k].value); break;
        }
        fix_section(b, off[S_STAT]);
        char name[64];
        snprintf(name, sizeof name, "stat_%s.bin", bad[k].name);
        expect_refused(name, b, n, bad[k].word, "checksum");
    }
    /* inside the last epoch of the run */
    FRESH();
    test_put32(STATF(T_EPOCHS), 2);
    fix_section(b, off[S_STAT]);
    expect_refused("stat_inside_last.bin", b, n, "inside epoch 3 of 2", "checksum");

    /* the network */
    FRESH();
    test_put32(NETCF(N_LAYERS), 0);
    fix_section(b, off[S_NETC]);
    expect_refused("netc_layers0.bin", b, n, "0 layers", "checksum");
    FRESH();
    test_put32(NETCF(N_LAYERS), NNCL_MAX_LAYERS + 1);
    fix_section(b, off[S_NETC]);
    expect_refused("netc_layers17.bin", b, n, "17 layers", "checksum");
    FRESH();
    test_put32(NETCF(N_LAYERS), 3);
    fix_section(b, off[S_NETC]);
    expect_refused("netc_layers3.bin", b, n, "3 layers take", "checksum");
    FRESH();
    test_put64(NETCF(N_SIZES + 8), 0);
    fix_section(b, off[S_NETC]);
    expect_refused("netc_size0.bin", b, n, "layer size 1", "checksum");
    FRESH();
    test_put64(NETCF(N_PARAMS), P543 + 1);
    fix_section(b, off[S_NETC]);
    expect_refused("netc_params.bin", b, n, "parameters", "checksum");
    FRESH();
    test_put32(NETCF(N_ACT), 9);
    fix_section(b, off[S_NETC]);
    expect_refused("netc_act.bin", b, n, "activation", "checksum");
    FRESH();
    test_put32(NETCF(N_TASK), 2);
    fix_section(b, off[S_NETC]);
    expect_refused("netc_task.bin", b, n, "task", "checksum");
    FRESH();
    test_putf(NETCF(N_DROPOUT), 1.0f);
    fix_section(b, off[S_NETC]);
    expect_refused("netc_dropout.bin", b, n, "dropout", "checksum");

    /* a layer list whose input shape's product wraps around to its input
     * size: 10496005 x 419021 x 2^24 is 2^24 modulo 2^64 */
    {
        nncl_checkpoint lc;
        make_checkpoint(&lc);
        lc.net = (nncl_net_config){.in_c = 1, .in_h = 2, .in_w = 2, .act = NNCL_ACT_RELU};
        ck_assert_ok(nncl_layers_parse("flatten,3", lc.net.specs, NNCL_MAX_SPECS, &lc.net.n_specs));
        ck_assert_ok(nncl_net_config_resolve(&lc.net));
        ck_assert_ok(nncl_net_config_param_count(&lc.net, &lc.n_params));
        test_path_in(path, sizeof path, "list.bin");
        ck_assert_ok(nncl_checkpoint_write(path, &lc));
        nncl_checkpoint_free(&lc);
        size_t ln, loff[SECTIONS];
        unsigned char *l = test_read_file(path, &ln);
        section_offsets(l, ln, loff);
        unsigned char *shape = l + loff[S_NETC] + 12 + N_SIZES + 8 * 3;    /* after sizes[0..2] */
        test_put64(l + loff[S_NETC] + 12 + N_SIZES, (uint64_t)1 << 24);
        test_put64(shape, 10496005);
        test_put64(shape + 8, 419021);
        test_put64(shape + 16, (uint64_t)1 << 24);
        fix_section(l, loff[S_NETC]);
        expect_refused("netc_shape_wraps.bin", l, ln, "input shape", "checksum");
        free(l);
    }

    /* the order: a repeat, and a row beyond the end (the device would read it) */
    FRESH();
    test_put32(b + off[S_ORDR] + 12 + 4, 3);
    fix_section(b, off[S_ORDR]);
    expect_refused("order_repeat.bin", b, n, "a repeat", "checksum");
    FRESH();
    test_put32(b + off[S_ORDR] + 12 + 8, ROWS7);
    fix_section(b, off[S_ORDR]);
    expect_refused("order_beyond.bin", b, n, "not a permutation", "checksum");
    FRESH();
    test_put32(b + off[S_ORDR] + 12 + 8, (uint32_t)-1);
    fix_section(b, off[S_ORDR]);
    expect_refused("order_negative.bin", b, n, "is -1", "checksum");

    /* the history */
    FRESH();
    test_put32(b + off[S_METR] + 12 + METR, 3);
    fix_section(b, off[S_METR]);
    expect_refused("metr_epoch.bin", b, n, "epoch 2 say epoch 3", "checksum");
    FRESH();
    test_put64(b + off[S_METR] + 12 + 8, 4);
    fix_section(b, off[S_METR]);
    expect_refused("metr_step.bin", b, n, "expected step 3", "checksum");

    /* not files */
    nncl_checkpoint back;
    test_path_in(path, sizeof path, "a_directory");
    ck_assert_msg(mkdir(path, 0755) == 0, "mkdir %s: %s", path, strerror(errno));
    nncl_status st = nncl_checkpoint_load(path, &back);
    ck_assert_msg(st == NNCL_E_IO && strstr(nncl_last_error(), path), "a directory: %s (%s), expected NNCL_E_IO",
                  nncl_status_name(st), nncl_last_error());
    rmdir(path);
    test_path_in(path, sizeof path, "missing.bin");
    st = nncl_checkpoint_load(path, &back);
    ck_assert_msg(st == NNCL_E_IO && strstr(nncl_last_error(), path), "a missing file: %s (%s), expected NNCL_E_IO",
                  nncl_status_name(st), nncl_last_error());
#undef FRESH
#undef STATF
#undef NETCF
    free(b);
    free(v);
}
END_TEST

/* ---- 2. snapshots.bin reopened ----------------------------------------------------------------- */

static void snapshot_of(const float *p, uint64_t step, nncl_snapshot_info *info)
{
    static const float R[2] = {1.5f, 2.25f};
    memset(info, 0, sizeof *info);
    info->step = step;
    info->train_loss = info->val_loss = 1.0f;
    nncl_snapshot_stats(&NET543, p, NULL, NULL, R, info);
}

START_TEST(snapshot_writer_reopens)
{
    static const float R[2] = {1.5f, 2.25f};
    uint64_t s = 7;
    float *p = test_random(&s, P543, -1, 1);
    nncl_snapshot_info info;
    char path[512];
    test_path_in(path, sizeof path, "snaps.bin");
    nncl_snapshot_writer *w;
    ck_assert_ok(nncl_snapshot_writer_open(path, &NET543, R, &w));
    for (uint64_t k = 0; k < 3; k++) {
        snapshot_of(p, 10 * k, &info);
        ck_assert_ok(nncl_snapshot_writer_append(w, &info, p));
    }
    ck_assert_ok(nncl_snapshot_writer_sync(w));
    ck_assert_ok(nncl_snapshot_writer_close(w));
    size_t n3;
    unsigned char *three = test_read_file(path, &n3);
    /* half a record more: a process killed while appending */
    FILE *f = fopen(path, "ab");
    fwrite(three + n3 - 40, 1, 17, f);
    fclose(f);

    /* keep 2: the third and the partial one are cut, then one appended */
    float hr[2] = {0, 0};
    ck_assert_ok(nncl_snapshot_writer_reopen(path, &NET543, 2, hr, &w));
    ck_assert_msg(test_same_f(hr[0], R[0]) && test_same_f(hr[1], R[1]), "reopen: ranges %g %g", (double)hr[0],
                  (double)hr[1]);
    snapshot_of(p, 25, &info);
    ck_assert_ok(nncl_snapshot_writer_append(w, &info, p));
    ck_assert_ok(nncl_snapshot_writer_close(w));
    nncl_snapshots sn;
    ck_assert_ok(nncl_snapshots_load(path, &sn));
    ck_assert_msg(sn.count == 3 && sn.info[1].step == 10 && sn.info[2].step == 25, "after reopen: %zu snapshots",
                  sn.count);
    nncl_snapshots_free(&sn);
    /* the bytes of the two kept snapshots are untouched */
    const size_t hb = 32 + 8 * 3 + 4 * 2 + 4, rb = (n3 - hb) / 3;
    size_t n;
    unsigned char *now = test_read_file(path, &n);
    ck_assert_msg(n == n3 && memcmp(now, three, hb + 2 * rb) == 0,
                  "after reopen: %zu bytes (expected %zu), the kept snapshots changed", n, n3);
    free(now);

    /* keep 0: a header alone */
    ck_assert_ok(nncl_snapshot_writer_reopen(path, &NET543, 0, hr, &w));
    ck_assert_ok(nncl_snapshot_writer_close(w));
    ck_assert_ok(nncl_snapshots_load(path, &sn));
    ck_assert_int_eq(sn.count, 0);
    nncl_snapshots_free(&sn);

    /* refusals: more snapshots than the file holds, another network, a
     * damaged snapshot among those kept; none changes the file */
    test_write_file(path, three, n3);
    nncl_status st = nncl_snapshot_writer_reopen(path, &NET543, 4, hr, &w);
    ck_assert_msg(st == NNCL_E_FORMAT && strstr(nncl_last_error(), "holds 3 whole snapshots") &&
                      strstr(nncl_last_error(), path),
                  "keep 4 of 3: %s (%s)", nncl_status_name(st), nncl_last_error());
    nncl_net_config other = NET543;
    other.sizes[1] = 5;
    st = nncl_snapshot_writer_reopen(path, &other, 1, hr, &w);
    ck_assert_msg(st == NNCL_E_FORMAT && strstr(nncl_last_error(), "another network"), "another network: %s (%s)",
                  nncl_status_name(st), nncl_last_error());
    three[hb + rb + 30] ^= 1;
    test_write_file(path, three, n3);
    st = nncl_snapshot_writer_reopen(path, &NET543, 2, hr, &w);
    ck_assert_msg(st == NNCL_E_FORMAT && strstr(nncl_last_error(), "snapshot 1 is damaged"), "damaged: %s (%s)",
                  nncl_status_name(st), nncl_last_error());
    size_t m;
    unsigned char *after = test_read_file(path, &m);
    ck_assert_msg(m == n3 && memcmp(after, three, n3) == 0, "a refused reopen changed the file");
    free(after);
    free(three);
    free(p);
}
END_TEST

/* ---- 3. training continued from checkpoints ---------------------------------------------------- */

enum { COLS = 20, CLASSES = 3, TRAIN_ROWS = 64, VAL_ROWS = 30, EPOCHS = 6, MAX_EPOCHS = 8, MAX_SNAPS = 16 };

/* Three separable classes: class c has +2 on every feature f with f % 3 == c. */
static void make_data(size_t rows, uint64_t seed, float *x, int32_t *labels)
{
    for (size_t r = 0; r < rows; r++) {
        int c = (int)(r % CLASSES);
        for (int f = 0; f < COLS; f++)
            x[r * COLS + f] = test_rand_float(&seed, -1.0f, 1.0f) + (f % CLASSES == c ? 2.0f : 0.0f);
        labels[r] = c;
    }
}

typedef struct data {
    float xt[TRAIN_ROWS * COLS], xv[VAL_ROWS * COLS];
    uint8_t bt[TRAIN_ROWS * COLS], bv[VAL_ROWS * COLS];
    int32_t yt[TRAIN_ROWS], yv[VAL_ROWS], yflip[VAL_ROWS];
    nncl_device_data train, val, flipped;
} data;

/* The training and validation sets as floats or bytes; `flipped` has the
 * validation rows with shifted labels, whose loss grows as training learns
 * (early stopping then stops). */
static data *upload_data(nncl_device *dev, bool bytes)
{
    data *d = calloc(1, sizeof *d);
    make_data(TRAIN_ROWS, 1, d->xt, d->yt);
    make_data(VAL_ROWS, 2, d->xv, d->yv);
    for (int i = 0; i < TRAIN_ROWS * COLS; i++)
        d->bt[i] = (uint8_t)lrintf(fminf(255.0f, fmaxf(0.0f, (d->xt[i] + 1.0f) * 60.0f)));
    for (int i = 0; i < VAL_ROWS * COLS; i++)
        d->bv[i] = (uint8_t)lrintf(fminf(255.0f, fmaxf(0.0f, (d->xv[i] + 1.0f) * 60.0f)));
    for (int r = 0; r < VAL_ROWS; r++)
        d->yflip[r] = (d->yv[r] + 1) % CLASSES;
    nncl_dataset t = {.rows = TRAIN_ROWS, .cols = COLS, .labels = d->yt, .task = NNCL_TASK_CLASSIFY,
                      .num_classes = CLASSES};
    if (bytes)
        t.x_u8 = d->bt;
    else
        t.x_f32 = d->xt;
    nncl_dataset v = t, vf = t;
    v.rows = vf.rows = VAL_ROWS;
    v.x_u8 = vf.x_u8 = bytes ? d->bv : NULL;
    v.x_f32 = vf.x_f32 = bytes ? NULL : d->xv;
    v.labels = d->yv;
    vf.labels = d->yflip;
    ck_assert_ok(nncl_device_data_upload(dev, &t, &d->train));
    ck_assert_ok(nncl_device_data_upload(dev, &v, &d->val));
    ck_assert_ok(nncl_device_data_upload(dev, &vf, &d->flipped));
    return d;
}

static void free_data(data *d)
{
    nncl_device_data_free(&d->train);
    nncl_device_data_free(&d->val);
    nncl_device_data_free(&d->flipped);
    free(d);
}

/* A training set-up: the network, the data, the loop's configuration. */
typedef struct setup {
    const char *name;
    nncl_net_config net;
    bool bytes;
    bool flipped;           /* validate on the flipped labels (early stopping stops) */
    bool probe;             /* snapshots evaluate the validation rows */
    nncl_train_config tc;
} setup;

static const setup SETUPS[] = {
    {"float 20-8-3, Adam, cosine, snapshots (head_xent)",
     {.layers = 2, .sizes = {COLS, 8, CLASSES}, .act = NNCL_ACT_RELU, .task = NNCL_TASK_CLASSIFY}, false, false, true,
     {.batch = 12, .epochs = EPOCHS, .seed = 9, .shuffle = true,
      .schedule = {.kind = NNCL_SCHEDULE_COSINE, .lr = 0.02f},
      .optim = {.kind = NNCL_OPTIM_ADAM, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f}, .snapshots = 13}},
    {"bytes 20-10-3, Nesterov momentum, step schedule (linear_u8_head on a CPU OpenCL device)",
     {.layers = 2, .sizes = {COLS, 10, CLASSES}, .act = NNCL_ACT_TANH, .task = NNCL_TASK_CLASSIFY}, true, false, false,
     {.batch = 12, .epochs = EPOCHS, .seed = 4, .shuffle = true, .eval_every = 2,
      .schedule = {.kind = NNCL_SCHEDULE_STEP, .lr = 0.05f, .step_epochs = 2, .gamma = 0.5f},
      .optim = {.kind = NNCL_OPTIM_MOMENTUM, .momentum = 0.9f, .nesterov = true}}},
    {"float 20-24-16-3, AdamW, dropout, warm-up, early stopping, snapshots",
     {.layers = 3, .sizes = {COLS, 24, 16, CLASSES}, .act = NNCL_ACT_LEAKY_RELU, .act_param = 0.01f,
      .task = NNCL_TASK_CLASSIFY, .dropout = 0.2f},
     false, true, true,
     {.batch = 12, .epochs = EPOCHS, .seed = 11, .shuffle = true, .early_stop = 2,
      .schedule = {.kind = NNCL_SCHEDULE_COSINE, .lr = 0.01f, .warmup_epochs = 1},
      .optim = {.kind = NNCL_OPTIM_ADAMW, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f, .weight_decay = 0.01f},
      .snapshots = 9}},
    {"float 20-8-3, full batches without shuffling, SGD, snapshots",
     {.layers = 2, .sizes = {COLS, 8, CLASSES}, .act = NNCL_ACT_SIGMOID, .task = NNCL_TASK_CLASSIFY}, false, false, true,
     {.batch = TRAIN_ROWS, .epochs = EPOCHS, .seed = 2, .shuffle = false,
      .schedule = {.kind = NNCL_SCHEDULE_CONSTANT, .lr = 0.5f}, .optim = {.kind = NNCL_OPTIM_SGD}, .snapshots = 4}},
};
enum { N_SETUPS = sizeof SETUPS / sizeof SETUPS[0] };

/* What one call of nncl_train did, as its hooks saw it. */
typedef struct run_log {
    size_t P;
    int n_epochs;
    nncl_epoch_metrics epoch[MAX_EPOCHS];
    size_t n_snaps;
    nncl_snapshot_info info[MAX_SNAPS];
    float *params[MAX_SNAPS];
    nncl_train_result res;
    float *final;
    /* stopping: after global step stop_at_step (from on_progress), or after
     * epoch stop_after_epoch's metrics (0: never) */
    unsigned long stop_at_step;
    int stop_after_epoch;
    volatile sig_atomic_t stop;
    /* checkpoints: saved as <prefix>-<step>-<e|i>.bin when prefix is set */
    const char *prefix;
    int n_ckpts;
    char ckpt[MAX_EPOCHS + 2][600];
    int ckpt_epochs[MAX_EPOCHS + 2];
    bool ckpt_in_epoch[MAX_EPOCHS + 2];
} run_log;

static nncl_status log_snapshot(void *ctx, const nncl_snapshot_info *info, const float *params)
{
    run_log *g = ctx;
    ck_assert_msg(g->n_snaps < MAX_SNAPS, "more than %d snapshots", MAX_SNAPS);
    g->info[g->n_snaps] = *info;
    g->params[g->n_snaps] = malloc(g->P * sizeof(float));
    memcpy(g->params[g->n_snaps], params, g->P * sizeof(float));
    g->n_snaps++;
    return NNCL_OK;
}

static nncl_status log_epoch(void *ctx, const nncl_epoch_metrics *m)
{
    run_log *g = ctx;
    ck_assert(g->n_epochs < MAX_EPOCHS);
    g->epoch[g->n_epochs++] = *m;
    if (g->stop_after_epoch && m->epoch == g->stop_after_epoch)
        g->stop = 1;
    return NNCL_OK;
}

static void log_progress(void *ctx, int epoch, size_t step_in_epoch, size_t steps_per_epoch, double loss,
                         double accuracy)
{
    (void)loss;
    (void)accuracy;
    run_log *g = ctx;
    if ((unsigned long)(epoch - 1) * steps_per_epoch + step_in_epoch == g->stop_at_step)
        g->stop = 1;
}

/* Save the state, and check that what was saved loads back as it was. */
static nncl_status log_checkpoint(void *ctx, const nncl_net *net, const nncl_train_state *state)
{
    run_log *g = ctx;
    ck_assert(g->n_ckpts < MAX_EPOCHS + 2);
    char *path = g->ckpt[g->n_ckpts];
    snprintf(path, sizeof g->ckpt[0], "%s-%llu-%c.bin", g->prefix, (unsigned long long)state->step,
             state->in_epoch ? 'i' : 'e');
    g->ckpt_epochs[g->n_ckpts] = state->epochs_done;
    g->ckpt_in_epoch[g->n_ckpts] = state->in_epoch;
    g->n_ckpts++;
    nncl_status st = nncl_checkpoint_save(path, net, state);
    if (st != NNCL_OK)
        return st;
    nncl_checkpoint c;
    ck_assert_ok(nncl_checkpoint_load(path, &c));
    nncl_checkpoint mine = {.net = *nncl_net_get_config(net), .n_params = g->P, .state = *state};
    mine.params = malloc(g->P * sizeof(float));
    mine.m = malloc(g->P * sizeof(float));
    mine.v = malloc(g->P * sizeof(float));
    mine.best = state->have_best ? malloc(g->P * sizeof(float)) : NULL;
    ck_assert_ok(nncl_net_get_params(net, mine.params));
    ck_assert_ok(nncl_net_get_optim_state(net, mine.m, mine.v));
    if (mine.best)
        ck_assert_ok(nncl_net_get_best(net, mine.best));
    expect_same_checkpoint(&mine, &c);
    free(mine.params);
    free(mine.m);
    free(mine.v);
    free(mine.best);
    nncl_checkpoint_free(&c);
    return NNCL_OK;
}

static run_log *new_log(const setup *su)
{
    run_log *g = calloc(1, sizeof *g);
    for (int l = 0; l < su->net.layers; l++)
        g->P += su->net.sizes[l + 1] * (su->net.sizes[l] + 1);
    g->final = malloc(g->P * sizeof(float));
    return g;
}

static void free_log(run_log *g)
{
    for (size_t k = 0; k < g->n_snaps; k++)
        free(g->params[k]);
    free(g->final);
    free(g);
}

/* Train set-up su on dt, from the start (resume NULL) or from the
 * checkpoint file resume, into a network whose every buffer holds garbage
 * first (other weights, NaN optimiser state, best weights and
 * accumulator), so that anything the checkpoint fails to restore shows. */
static void train_go(run_log *g, nncl_device *dev, const setup *su, data *dt, const char *resume, int epochs)
{
    nncl_net *net;
    ck_assert_ok(nncl_net_create(dev, &su->net, VAL_ROWS > su->tc.batch ? VAL_ROWS : su->tc.batch, &net));
    ck_assert_ok(nncl_net_init(net, NNCL_INIT_XAVIER, 0.0f, resume ? 77 : 5));
    if (su->bytes) {
        float shift[COLS], scale[COLS];
        for (int i = 0; i < COLS; i++) {
            shift[i] = 60.0f;
            scale[i] = 1.0f / 60.0f;
        }
        ck_assert_ok(nncl_net_set_transform(net, shift, scale));
    }
    nncl_train_config tc = su->tc;
    tc.epochs = epochs;
    tc.probe = su->probe ? (su->flipped ? &dt->flipped : &dt->val) : NULL;
    nncl_checkpoint c = {0};
    if (resume) {
        float *nan = malloc(g->P * sizeof(float));
        for (size_t i = 0; i < g->P; i++)
            nan[i] = NAN;
        ck_assert_ok(nncl_net_set_optim_state(net, nan, nan));
        ck_assert_ok(nncl_net_set_best(net, nan));
        ck_assert_ok(nncl_net_acc_set(net, NAN, NAN));
        free(nan);
        ck_assert_ok(nncl_checkpoint_load(resume, &c));
        ck_assert_ok(nncl_checkpoint_apply(&c, net));
        tc.resume = &c.state;
    }
    nncl_train_hooks hooks = {.ctx = g, .on_epoch = log_epoch, .stop = &g->stop,
                              .on_snapshot = tc.snapshots ? log_snapshot : NULL,
                              .on_progress = g->stop_at_step ? log_progress : NULL,
                              .on_checkpoint = g->prefix ? log_checkpoint : NULL};
    if (g->stop_at_step)
        tc.progress_every = 1;
    tc.checkpoint_every = g->prefix ? 1 : 0;
    ck_assert_ok(nncl_train(net, &tc, &dt->train, su->flipped ? &dt->flipped : &dt->val, &hooks, &g->res));
    ck_assert_ok(nncl_net_get_params(net, g->final));
    nncl_checkpoint_free(&c);
    nncl_net_free(net);
}

static void expect_same_epoch(const char *what, const nncl_epoch_metrics *x, const nncl_epoch_metrics *y)
{
    ck_assert_msg(x->epoch == y->epoch && x->step == y->step && test_same_d(x->train_loss, y->train_loss) &&
                      test_same_d(x->train_accuracy, y->train_accuracy) && test_same_d(x->val_loss, y->val_loss) &&
                      test_same_d(x->val_accuracy, y->val_accuracy) && test_same_d(x->lr, y->lr),
                  "%s: epoch %d (step %lu): loss %.17g acc %.17g val %.17g / %.17g lr %.9g; uninterrupted: epoch %d "
                  "(step %lu) %.17g %.17g %.17g / %.17g %.9g",
                  what, x->epoch, x->step, x->train_loss, x->train_accuracy, x->val_loss, x->val_accuracy, x->lr,
                  y->epoch, y->step, y->train_loss, y->train_accuracy, y->val_loss, y->val_accuracy, y->lr);
}

static void expect_same_snapshot(const char *what, const nncl_net_config *nc, size_t P, const nncl_snapshot_info *x,
                                 const float *px, const nncl_snapshot_info *y, const float *py)
{
    ck_assert_msg(x->step == y->step && test_same_f(x->epoch, y->epoch) && test_same_f(x->train_loss, y->train_loss) &&
                      test_same_f(x->train_accuracy, y->train_accuracy) && test_same_f(x->val_loss, y->val_loss) &&
                      test_same_f(x->val_accuracy, y->val_accuracy) && test_same_f(x->lr, y->lr),
                  "%s: the snapshot at step %llu (train loss %.9g, val %.9g) is not the uninterrupted run's at step "
                  "%llu (%.9g, %.9g)",
                  what, (unsigned long long)x->step, (double)x->train_loss, (double)x->val_loss,
                  (unsigned long long)y->step, (double)y->train_loss, (double)y->val_loss);
    for (int l = 0; l < nc->layers; l++)
        ck_assert_msg(memcmp(&x->layer[l], &y->layer[l], sizeof x->layer[l]) == 0,
                      "%s: the snapshot at step %llu: layer %d's statistics (grad norm %.9g, update ratio %.9g) are not "
                      "the uninterrupted run's (%.9g, %.9g)",
                      what, (unsigned long long)x->step, l + 1, (double)x->layer[l].grad_norm,
                      (double)x->layer[l].update_ratio, (double)y->layer[l].grad_norm, (double)y->layer[l].update_ratio);
    ck_assert_msg(memcmp(px, py, P * sizeof(float)) == 0, "%s: the snapshot at step %llu: parameters differ", what,
                  (unsigned long long)x->step);
}

/* The pieces (a run stopped, then continued, perhaps stopped again ...)
 * put together must be the uninterrupted run `ref`: its epochs, its
 * snapshots (each piece's up to its checkpoint), its result and parameters. */
static void expect_pieces_make(const char *what, const setup *su, const run_log *ref, run_log **piece,
                               const size_t *kept_snaps, int n)
{
    int e = 0;
    size_t k = 0;
    for (int i = 0; i < n; i++) {
        const run_log *p = piece[i];
        for (int j = 0; j < p->n_epochs; j++, e++) {
            ck_assert_msg(e < ref->n_epochs, "%s: more epochs than the uninterrupted run's %d", what, ref->n_epochs);
            expect_same_epoch(what, &p->epoch[j], &ref->epoch[e]);
        }
        /* a checkpoint counts the snapshots of the whole run so far */
        size_t keep = i + 1 < n ? kept_snaps[i] - k : p->n_snaps;
        ck_assert_msg(keep <= p->n_snaps, "%s: piece %d took %zu snapshots, its checkpoint counts %zu", what, i + 1,
                      p->n_snaps, keep);
        for (size_t j = 0; j < keep; j++, k++) {
            ck_assert_msg(k < ref->n_snaps, "%s: more snapshots than the uninterrupted run's %zu", what, ref->n_snaps);
            expect_same_snapshot(what, &su->net, ref->P, &p->info[j], p->params[j], &ref->info[k], ref->params[k]);
        }
    }
    ck_assert_msg(e == ref->n_epochs, "%s: %d epochs in all, the uninterrupted run had %d", what, e, ref->n_epochs);
    ck_assert_msg(k == ref->n_snaps, "%s: %zu snapshots in all, the uninterrupted run took %zu", what, k,
                  ref->n_snaps);
    const run_log *last = piece[n - 1];
    const nncl_train_result *a = &last->res, *b = &ref->res;
    ck_assert_msg(a->status == b->status && a->epochs == b->epochs && a->steps == b->steps &&
                      a->best_epoch == b->best_epoch && test_same_d(a->best_val_loss, b->best_val_loss) &&
                      test_same_d(a->best_val_accuracy, b->best_val_accuracy),
                  "%s: result %s, %d epochs, %lu steps, best epoch %d (%.17g); uninterrupted: %s, %d, %lu, %d (%.17g)",
                  what, nncl_run_status_name(a->status), a->epochs, a->steps, a->best_epoch, a->best_val_loss,
                  nncl_run_status_name(b->status), b->epochs, b->steps, b->best_epoch, b->best_val_loss);
    ck_assert_msg(memcmp(last->final, ref->final, ref->P * sizeof(float)) == 0,
                  "%s: the final parameters are not the uninterrupted run's", what);
}

/* The checkpoint a stopped run wrote when it stopped (the last one). */
static const char *stop_checkpoint(const run_log *g, size_t *kept)
{
    ck_assert_msg(g->res.status == NNCL_RUN_INTERRUPTED && g->n_ckpts > 0 && g->ckpt_in_epoch[g->n_ckpts - 1],
                  "the stopped run: status %s, %d checkpoints", nncl_run_status_name(g->res.status), g->n_ckpts);
    nncl_checkpoint c;
    ck_assert_ok(nncl_checkpoint_load(g->ckpt[g->n_ckpts - 1], &c));
    *kept = c.state.snapshots;
    nncl_checkpoint_free(&c);
    return g->ckpt[g->n_ckpts - 1];
}

/* Stop after global step t: from on_progress inside an epoch, from
 * on_epoch at an epoch's end (on_progress is not called at the last step of
 * an epoch). */
static void stop_after(run_log *g, unsigned long t, size_t spe)
{
    if (t % spe)
        g->stop_at_step = t;
    else
        g->stop_after_epoch = (int)(t / spe);
}

static void resume_every_way(int s_idx)
{
    const setup *su = &SETUPS[s_idx];
    int idx[2], nd = test_train_devices(idx);
    for (int d = 0; d < nd; d++) {
        nncl_device *dev = test_open(idx[d]);
        char what[400], prefix[600];
        const char *dname = nncl_device_get_info(dev)->name;
        data *dt = upload_data(dev, su->bytes);
        const size_t spe = (TRAIN_ROWS + su->tc.batch - 1) / su->tc.batch;

        /* the uninterrupted run, and the same writing a checkpoint every
         * epoch: the same bits */
        run_log *ref = new_log(su);
        train_go(ref, dev, su, dt, NULL, EPOCHS);
        run_log *a = new_log(su);
        snprintf(prefix, sizeof prefix, "%s/s%d-d%d-every", test_tmpdir, s_idx, d);
        a->prefix = prefix;
        train_go(a, dev, su, dt, NULL, EPOCHS);
        snprintf(what, sizeof what, "%s on %s: writing checkpoints", su->name, dname);
        run_log *one[1] = {a};
        expect_pieces_make(what, su, ref, one, NULL, 1);
        ck_assert_msg(ref->res.status == NNCL_RUN_OK && ref->n_epochs >= 2, "%s: test set-up: %d epochs, %s", what,
                      ref->n_epochs, nncl_run_status_name(ref->res.status));
        ck_assert_msg(!su->tc.early_stop || (ref->n_epochs < EPOCHS && ref->res.best_epoch < ref->n_epochs),
                      "%s: test set-up: early stopping did not stop early (%d epochs, best %d)", what, ref->n_epochs,
                      ref->res.best_epoch);
        /* every epoch's end but one that stops early */
        int want = ref->n_epochs - (ref->n_epochs < EPOCHS ? 1 : 0);
        ck_assert_msg(a->n_ckpts == want, "%s: %d checkpoints for %d epochs", what, a->n_ckpts, ref->n_epochs);

        /* continued from every epoch's end (the last: nothing left to do) */
        for (int c = 0; c < a->n_ckpts; c++) {
            nncl_checkpoint ck;
            ck_assert_ok(nncl_checkpoint_load(a->ckpt[c], &ck));
            for (int e = 0; e < ck.state.epochs_done; e++) {
                snprintf(what, sizeof what, "%s on %s: checkpoint %d's history", su->name, dname, c + 1);
                expect_same_epoch(what, &ck.state.history[e], &ref->epoch[e]);
            }
            size_t kept = ck.state.snapshots;
            nncl_checkpoint_free(&ck);
            run_log *b = new_log(su);
            train_go(b, dev, su, dt, a->ckpt[c], EPOCHS);
            snprintf(what, sizeof what, "%s on %s: continued after epoch %d", su->name, dname, a->ckpt_epochs[c]);
            /* the first piece is the uninterrupted run up to the checkpoint */
            run_log *head = new_log(su);
            head->n_epochs = a->ckpt_epochs[c];
            memcpy(head->epoch, ref->epoch, sizeof head->epoch);
            head->n_snaps = kept;
            memcpy(head->info, ref->info, sizeof head->info);
            for (size_t j = 0; j < kept; j++)
                head->params[j] = ref->params[j];
            run_log *pieces[2] = {head, b};
            size_t keeps[1] = {kept};
            expect_pieces_make(what, su, ref, pieces, keeps, 2);
            head->n_snaps = 0;
            free_log(head);
            free_log(b);
        }

        /* stopped after every step (from on_progress inside an epoch, from
         * on_epoch at its end), then continued */
        for (unsigned long t = 1; t < (unsigned long)ref->res.steps; t++) {
            run_log *p = new_log(su);
            snprintf(prefix, sizeof prefix, "%s/s%d-d%d-stop%lu", test_tmpdir, s_idx, d, t);
            p->prefix = prefix;
            stop_after(p, t, spe);
            train_go(p, dev, su, dt, NULL, EPOCHS);
            size_t kept;
            const char *ck = stop_checkpoint(p, &kept);
            run_log *b = new_log(su);
            train_go(b, dev, su, dt, ck, EPOCHS);
            snprintf(what, sizeof what, "%s on %s: stopped after step %lu, continued", su->name, dname, t);
            run_log *pieces[2] = {p, b};
            expect_pieces_make(what, su, ref, pieces, &kept, 2);
            free_log(p);
            free_log(b);
        }

        /* stopped, continued, stopped again, continued */
        unsigned long t1 = spe + 2, t2 = 2 * spe + 3;
        if (t2 < (unsigned long)ref->res.steps) {
            run_log *p[3];
            size_t kept[2];
            p[0] = new_log(su);
            snprintf(prefix, sizeof prefix, "%s/s%d-d%d-twice-a", test_tmpdir, s_idx, d);
            p[0]->prefix = prefix;
            stop_after(p[0], t1, spe);
            train_go(p[0], dev, su, dt, NULL, EPOCHS);
            const char *ck = stop_checkpoint(p[0], &kept[0]);
            p[1] = new_log(su);
            char prefix2[600];
            snprintf(prefix2, sizeof prefix2, "%s/s%d-d%d-twice-b", test_tmpdir, s_idx, d);
            p[1]->prefix = prefix2;
            stop_after(p[1], t2, spe);
            train_go(p[1], dev, su, dt, ck, EPOCHS);
            ck = stop_checkpoint(p[1], &kept[1]);
            p[2] = new_log(su);
            train_go(p[2], dev, su, dt, ck, EPOCHS);
            snprintf(what, sizeof what, "%s on %s: stopped after steps %lu and %lu", su->name, dname, t1, t2);
            expect_pieces_make(what, su, ref, p, kept, 3);
            for (int i = 0; i < 3; i++)
                free_log(p[i]);
        }

        /* the last checkpoint continued for 2 more epochs: a longer run (its
         * cosine schedule stretched), not the same one */
        if (ref->res.status == NNCL_RUN_OK && ref->n_epochs == EPOCHS) {
            run_log *b = new_log(su);
            train_go(b, dev, su, dt, a->ckpt[a->n_ckpts - 1], EPOCHS + 2);
            ck_assert_msg(b->n_epochs == 2 && b->epoch[0].epoch == EPOCHS + 1 && b->res.epochs == EPOCHS + 2 &&
                              b->res.steps == (EPOCHS + 2) * spe && isfinite(b->epoch[1].train_loss),
                          "%s on %s: 2 more epochs: %d epochs (%d in all, %lu steps)", su->name, dname, b->n_epochs,
                          b->res.epochs, b->res.steps);
            free_log(b);
        }
        free_log(ref);
        free_log(a);
        free_data(dt);
        nncl_device_close(dev);
    }
}

START_TEST(resume_float_head)
{
    resume_every_way(0);
}
END_TEST

START_TEST(resume_bytes_fused_step)
{
    resume_every_way(1);
}
END_TEST

START_TEST(resume_dropout_early_stopping)
{
    resume_every_way(2);
}
END_TEST

START_TEST(resume_full_batch)
{
    resume_every_way(3);
}
END_TEST

/* A state is for its own run: other rows, batch or seed, a network of
 * another shape, an order that is not a permutation, or a state beyond the
 * run's epochs are refused. */
START_TEST(resume_refuses_other_runs)
{
    const setup *su = &SETUPS[0];
    nncl_device *dev = test_host_device();
    data *dt = upload_data(dev, false);
    run_log *a = new_log(su);
    char prefix[600];
    snprintf(prefix, sizeof prefix, "%s/refuse", test_tmpdir);
    a->prefix = prefix;
    train_go(a, dev, su, dt, NULL, 2);
    nncl_checkpoint c;
    ck_assert_ok(nncl_checkpoint_load(a->ckpt[0], &c));

    nncl_net *net;
    ck_assert_ok(nncl_net_create(dev, &su->net, VAL_ROWS, &net));
    ck_assert_ok(nncl_checkpoint_apply(&c, net));
    nncl_train_config tc = su->tc;
    tc.epochs = 2;
    tc.resume = &c.state;
    nncl_train_result res;
    struct {
        const char *what, *word;
        size_t batch;
        uint64_t seed;
    } cases[] = {
        {"another batch", "batches of 12", 13, 9},
        {"another seed", "seed 9", 12, 10},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        tc.batch = cases[k].batch;
        tc.seed = cases[k].seed;
        nncl_status st = nncl_train(net, &tc, &dt->train, &dt->val, NULL, &res);
        ck_assert_msg(st == NNCL_E_INVALID && strstr(nncl_last_error(), cases[k].word),
                      "%s: %s (%s), expected NNCL_E_INVALID", cases[k].what, nncl_status_name(st), nncl_last_error());
    }
    /* the state after epoch 2 of a run of 1 epoch */
    nncl_checkpoint c2;
    ck_assert_ok(nncl_checkpoint_load(a->ckpt[1], &c2));
    tc = su->tc;
    tc.epochs = 1;
    tc.resume = &c2.state;
    nncl_status st0 = nncl_train(net, &tc, &dt->train, &dt->val, NULL, &res);
    ck_assert_msg(st0 == NNCL_E_INVALID && strstr(nncl_last_error(), "after epoch 2, beyond a run of 1"),
                  "a state beyond the run: %s (%s)", nncl_status_name(st0), nncl_last_error());
    nncl_checkpoint_free(&c2);
    tc = su->tc;
    tc.epochs = 2;
    tc.resume = &c.state;
    c.state.order[5] = c.state.order[6];
    nncl_status st = nncl_train(net, &tc, &dt->train, &dt->val, NULL, &res);
    ck_assert_msg(st == NNCL_E_INVALID && strstr(nncl_last_error(), "not a permutation"), "a repeated row: %s (%s)",
                  nncl_status_name(st), nncl_last_error());
    /* another training set (the validation rows) */
    st = nncl_train(net, &tc, &dt->val, &dt->val, NULL, &res);
    ck_assert_msg(st == NNCL_E_INVALID && strstr(nncl_last_error(), "64 rows"), "another training set: %s (%s)",
                  nncl_status_name(st), nncl_last_error());
    nncl_net_free(net);

    /* another network */
    nncl_net_config other = su->net;
    other.sizes[1] = 9;
    ck_assert_ok(nncl_net_create(dev, &other, VAL_ROWS, &net));
    st = nncl_checkpoint_apply(&c, net);
    ck_assert_msg(st == NNCL_E_INVALID && strstr(nncl_last_error(), "another network"), "another network: %s (%s)",
                  nncl_status_name(st), nncl_last_error());
    nncl_net_free(net);
    other = su->net;
    other.act = NNCL_ACT_TANH;
    ck_assert_ok(nncl_net_create(dev, &other, VAL_ROWS, &net));
    st = nncl_checkpoint_apply(&c, net);
    ck_assert_msg(st == NNCL_E_INVALID, "another activation: %s", nncl_status_name(st));
    nncl_net_free(net);
    nncl_checkpoint_free(&c);
    free_log(a);
    free_data(dt);
    nncl_device_close(dev);
}
END_TEST

/* ---- 4. crashed runs -------------------------------------------------------------------------------- */

START_TEST(crashed_runs_are_told_apart)
{
    json_t *s = json_pack("{s:s}", "status", "running");
    ck_assert_msg(!run_is_crashed(s), "a running summary without a pid (an older nncl) must not count as crashed");
    run_liveness_add(s);
    ck_assert_msg(json_integer_value(json_object_get(s, "pid")) == (json_int_t)getpid() &&
                      json_is_string(json_object_get(s, "host")),
                  "run_liveness_add: no pid or host");
    ck_assert_msg(!run_is_crashed(s), "this very process counts as crashed");

    /* a process that has exited */
    pid_t child = fork();
    ck_assert_msg(child >= 0, "fork: %s", strerror(errno));
    if (child == 0)
        _exit(0);
    int wst;
    ck_assert_int_eq(waitpid(child, &wst, 0), child);
    json_object_set_new(s, "pid", json_integer(child));
    ck_assert_msg(run_is_crashed(s), "a run whose process %d has exited is not seen as crashed", (int)child);
    char note[512];
    run_crash_note(s, "runs/x", note, sizeof note);
    ck_assert_msg(strstr(note, "crashed") && strstr(note, "nncl train --resume runs/x"), "note: %s", note);

    /* the pid of a live process that started at another time: reused */
    json_object_set_new(s, "pid", json_integer(getpid()));
    json_int_t start = json_integer_value(json_object_get(s, "pid_start"));
    if (start) {
        json_object_set_new(s, "pid_start", json_integer(start + 1));
        ck_assert_msg(run_is_crashed(s), "a pid reused by another process is not seen as crashed");
        json_object_set_new(s, "pid_start", json_integer(start));
    }
    /* another boot of this host */
    if (json_is_string(json_object_get(s, "boot_id"))) {
        json_t *boot = json_copy(json_object_get(s, "boot_id"));
        json_object_set_new(s, "boot_id", json_string("00000000-0000-0000-0000-000000000000"));
        ck_assert_msg(run_is_crashed(s), "a run from a previous boot is not seen as crashed");
        json_object_set_new(s, "boot_id", boot);
    }
    ck_assert(!run_is_crashed(s));
    /* another host: cannot be checked from here */
    json_object_set_new(s, "pid", json_integer(child));
    json_object_set_new(s, "host", json_string("some-other-host.invalid"));
    ck_assert_msg(!run_is_crashed(s), "a run on another host counts as crashed");
    /* finished runs are not crashed, whatever their pid */
    json_object_set_new(s, "host", json_string(""));
    char host[256];
    gethostname(host, sizeof host);
    json_object_set_new(s, "host", json_string(host));
    ck_assert(run_is_crashed(s));
    static const char *const done[] = {"ok", "interrupted", "failed", "diverged"};
    for (int i = 0; i < 4; i++) {
        json_object_set_new(s, "status", json_string(done[i]));
        ck_assert_msg(!run_is_crashed(s), "a run with status %s counts as crashed", done[i]);
    }
    json_decref(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("checkpoint");
    TCase *file = tcase_create("file");
    tcase_add_unchecked_fixture(file, make_root, test_tmpdir_remove);
    tcase_add_test(file, file_round_trip);
    tcase_add_test(file, reader_refuses_damaged_files);
    tcase_add_test(file, snapshot_writer_reopens);
    suite_add_tcase(s, file);
    TCase *train = tcase_create("train");
    tcase_add_unchecked_fixture(train, make_root, test_tmpdir_remove);
    tcase_set_timeout(train, 300);
    tcase_add_test(train, resume_float_head);
    tcase_add_test(train, resume_bytes_fused_step);
    tcase_add_test(train, resume_dropout_early_stopping);
    tcase_add_test(train, resume_full_batch);
    tcase_add_test(train, resume_refuses_other_runs);
    suite_add_tcase(s, train);
    TCase *live = tcase_create("liveness");
    tcase_add_test(live, crashed_runs_are_told_apart);
    suite_add_tcase(s, live);
    return test_run_suite(s);
}
