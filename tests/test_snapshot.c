/* Snapshots (nncl/snapshot.h, src/train/snapshot.c, snapshot_file.c, the
 * snapshot hooks of src/train/loop.c and nncl_net_probe):
 *   - the schedule of steps, against hand-computed cases;
 *   - the per-layer statistics of a hand-written 3-2-2 network, against
 *     values worked out by hand (moments, histogram bins at and beyond the
 *     edges, NaN, gradient norm, update ratio, histogram range);
 *   - the file: a round trip, its bytes against the layout documented in
 *     snapshot.h, quantisation within half a step, and every kind of damage
 *     refused with NNCL_E_FORMAT and a message naming the file and the fault;
 *   - training: snapshots at the scheduled steps, with statistics that agree
 *     with the parameters they come with, val metrics that agree with
 *     nncl_net_evaluate, gradient norms and update ratios that agree with
 *     consecutive parameter vectors, a final snapshot when a run stops early,
 *     dead ReLU units counted on the host, and training bitwise unchanged by
 *     taking snapshots, on the host and the first OpenCL device. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "nncl/snapshot.h"
#include "nncl/train.h"
#include "test_files.h"
#include "test_util.h"

enum { B = NNCL_SNAPSHOT_BINS };

static void make_root(void) { test_tmpdir_make("nncl_snapshot"); }

/* ---- the file layout, from the comment in nncl/snapshot.h --------------------------
 * header: "NNCLSNP1", u32 header_bytes, u32 layers, u32 bins, u32 record_bytes,
 *         u64 n_params, u64 sizes[L + 1], f32 hist_range[L], u32 crc32
 * record: "SNAP", u32 index, u64 step, 7 x f32 (epoch .. seconds),
 *         per layer { 11 x f32 statistics, u32 hist[B + 2] }, f32 scale[2L],
 *         u8 q[n_params], zero padding to a multiple of 4, u32 crc32 */
enum {
    H_HEADER_BYTES = 8, H_LAYERS = 12, H_BINS = 16, H_RECORD_BYTES = 20, H_N_PARAMS = 24, H_SIZES = 32,
    R_INDEX = 4, R_STEP = 8, R_FLOATS = 16, R_LAYERS = R_FLOATS + 7 * 4,
    STATS_BYTES = 11 * 4, LAYER_BYTES = STATS_BYTES + (B + 2) * 4,
};

static size_t h_hist_range(int L) { return H_SIZES + 8 * (size_t)(L + 1); }
static size_t h_bytes(int L) { return h_hist_range(L) + 4 * (size_t)L + 4; }
static size_t r_layer(int l) { return R_LAYERS + LAYER_BYTES * (size_t)l; }
static size_t r_hist(int l) { return r_layer(l) + STATS_BYTES; }
static size_t r_scale(int L) { return r_layer(L); }
static size_t r_q(int L) { return r_scale(L) + 8 * (size_t)L; }
static size_t r_bytes(int L, size_t P) { return (r_q(L) + P + 3) / 4 * 4 + 4; }

/* The crc32 (zlib's) of p[0 .. n-4), into its last 4 bytes. */
static void fix_crc(unsigned char *p, size_t n)
{
    test_put32(p + n - 4, (uint32_t)crc32(crc32(0L, Z_NULL, 0), p, (uInt)(n - 4)));
}

static size_t count_params(const nncl_net_config *c)
{
    size_t p = 0;
    for (int l = 0; l < c->layers; l++)
        p += c->sizes[l + 1] * (c->sizes[l] + 1);
    return p;
}

/* ---- 1. the schedule ------------------------------------------------------------------ */

START_TEST(schedule_spreads_steps_evenly)
{
    uint64_t steps[80];
    for (int i = 0; i < 80; i++)
        steps[i] = 0xdeadULL;
    size_t n = nncl_snapshot_schedule(60, 3375, steps);
    ck_assert_msg(n == 60, "60 of 3375 steps: %zu snapshots, expected 60", n);
    ck_assert_msg(steps[0] == 0 && steps[59] == 3375, "60 of 3375: first %llu, last %llu, expected 0 and 3375",
                  (unsigned long long)steps[0], (unsigned long long)steps[59]);
    for (int i = 1; i < 60; i++) {
        double gap = (double)steps[i] - (double)steps[i - 1];
        ck_assert_msg(steps[i] > steps[i - 1], "60 of 3375: step %d (%llu) does not follow %llu", i,
                      (unsigned long long)steps[i], (unsigned long long)steps[i - 1]);
        ck_assert_msg(fabs(gap - 3375.0 / 59.0) <= 1.0, "60 of 3375: gap %g before step %d, expected 57.2 +- 1",
                      gap, i);
    }
    ck_assert_msg(steps[60] == 0xdeadULL, "60 of 3375 wrote past its 60 entries");

    /* more snapshots than steps: every step, 0 .. T */
    for (int i = 0; i < 80; i++)
        steps[i] = 0xdeadULL;
    n = nncl_snapshot_schedule(60, 10, steps);
    ck_assert_msg(n == 11, "60 of 10 steps: %zu snapshots, expected 11 (0 .. 10)", n);
    for (size_t i = 0; i < 11; i++)
        ck_assert_msg(steps[i] == i, "60 of 10 steps: snapshot %zu at step %llu, expected %zu", i,
                      (unsigned long long)steps[i], i);
    ck_assert_msg(steps[11] == 0xdeadULL, "60 of 10 wrote past its 11 entries");

    /* count 2: the first and the last */
    n = nncl_snapshot_schedule(2, 1000, steps);
    ck_assert_msg(n == 2 && steps[0] == 0 && steps[1] == 1000, "2 of 1000: %zu snapshots {%llu, %llu}, expected {0, 1000}",
                  n, (unsigned long long)steps[0], (unsigned long long)steps[1]);
    n = nncl_snapshot_schedule(2, 1, steps);
    ck_assert_msg(n == 2 && steps[0] == 0 && steps[1] == 1, "2 of 1: %zu snapshots, expected {0, 1}", n);

    /* no steps: the initialisation alone */
    steps[0] = 0xdeadULL;
    n = nncl_snapshot_schedule(7, 0, steps);
    ck_assert_msg(n == 1 && steps[0] == 0, "7 of 0 steps: %zu snapshots, first %llu, expected {0}", n,
                  (unsigned long long)steps[0]);

    /* none asked for: none, nothing written */
    steps[0] = 0xdeadULL;
    n = nncl_snapshot_schedule(0, 100, steps);
    ck_assert_msg(n == 0 && steps[0] == 0xdeadULL, "0 of 100: %zu snapshots, expected none and nothing written", n);

    /* the training tests' schedule: 7 of 15, spaced 2.5 apart */
    n = nncl_snapshot_schedule(7, 15, steps);
    ck_assert_msg(n == 7 && steps[0] == 0 && steps[6] == 15, "7 of 15: %zu snapshots, expected 7 from 0 to 15", n);
    for (int i = 1; i < 7; i++)
        ck_assert_msg(steps[i] > steps[i - 1] && fabs((double)steps[i] - 2.5 * i) <= 0.5,
                      "7 of 15: snapshot %d at step %llu, expected %g rounded", i, (unsigned long long)steps[i],
                      2.5 * i);
}
END_TEST

/* ---- 2. statistics of a hand-written 3-2-2 network ---------------------------------------- */

static const nncl_net_config NET322 = {.layers = 2, .sizes = {3, 2, 2}, .act = NNCL_ACT_RELU,
                                       .task = NNCL_TASK_CLASSIFY};

/* W1 [2x3], b1 [2], W2 [2x2], b2 [2]: 14 parameters. With R1 = 1 (bin width
 * 1/16) and R2 = 0.5 (bin width 1/32):
 *   W1: -1 (= -R: bin 0, hist[1]), 0 (bin 16, hist[17]), 1 (= R: the last
 *       bin, hist[32]), -1.5 (below: hist[0]), 2 (above: hist[33]),
 *       0.3 (in [0.25, 0.3125): bin 20, hist[21]);
 *   W2: 0.25 (bin 24, hist[25]), -0.5 (= -R: hist[1]), 0.125 (bin 20,
 *       hist[21]), 0 (bin 16, hist[17]). */
static const float P322[14] = {-1.0f, 0.0f, 1.0f, -1.5f, 2.0f, 0.3f, /* W1 */
                               0.5f, -0.25f,                         /* b1 */
                               0.25f, -0.5f, 0.125f, 0.0f,           /* W2 */
                               3.0f, 3.0f};                          /* b2 */

static void expect_near(const char *what, float got, double want)
{
    ck_assert_msg(fabs(got - want) <= 1e-6 * fabs(want) + 1e-7, "%s: %.9g, expected %.9g", what, (double)got, want);
}

static void expect_hist(const char *what, const uint32_t *got, const int *bins, const uint32_t *counts, int n)
{
    uint32_t want[B + 2] = {0};
    for (int i = 0; i < n; i++)
        want[bins[i]] = counts[i];
    for (int b = 0; b < B + 2; b++)
        ck_assert_msg(got[b] == want[b], "%s: hist[%d] = %u, expected %u", what, b, got[b], want[b]);
}

START_TEST(stats_match_hand_computed_values)
{
    const float R[2] = {1.0f, 0.5f};
    /* prev: W1 moved by (0.3, 0, 0, 0, 0.4, 0) (norm 0.5) from
     * (-1.3, 0, 1, -1.5, 1.6, 0.3) (sum of squares 7.59); W2 was 2 W2 (so
     * the ratio is 1/2); the biases moved by 100, which must not count. */
    float prev[14];
    memcpy(prev, P322, sizeof prev);
    prev[0] = -1.3f;
    prev[4] = 1.6f;
    prev[6] += 100;
    prev[7] += 100;
    for (int i = 8; i < 12; i++)
        prev[i] = 2 * P322[i];
    prev[12] += 100;
    /* gradients: layer 1 (1, 2, 2, 0, 0, 0 | 0, 4) -> sqrt(25) = 5;
     * layer 2 (0.5, 0, 0, 0 | 0, 1.2) -> sqrt(1.69) = 1.3 */
    const float grads[14] = {1, 2, 2, 0, 0, 0, 0, 4, 0.5f, 0, 0, 0, 0, 1.2f};

    nncl_snapshot_info info;
    memset(&info, 0, sizeof info);
    info.layer[0].dead_fraction = 0.75f;
    info.layer[1].dead_fraction = 0.25f;
    nncl_snapshot_stats(&NET322, P322, prev, grads, R, &info);
    const nncl_layer_stats *a = &info.layer[0], *b = &info.layer[1];

    /* W1: sum 0.8, sum of squares 8.34 over 6 */
    expect_near("W1 mean", a->w_mean, 0.8 / 6);
    expect_near("W1 std", a->w_std, sqrt(8.34 / 6 - (0.8 / 6) * (0.8 / 6)));
    ck_assert_msg(a->w_min == -1.5f && a->w_max == 2.0f, "W1 min %g max %g, expected -1.5 and 2", (double)a->w_min,
                  (double)a->w_max);
    /* b1: 0.5, -0.25 -> mean 0.125, deviations +-0.375 */
    expect_near("b1 mean", a->b_mean, 0.125);
    expect_near("b1 std", a->b_std, 0.375);
    ck_assert_msg(a->b_min == -0.25f && a->b_max == 0.5f, "b1 min %g max %g", (double)a->b_min, (double)a->b_max);
    /* W2: sum -0.125, sum of squares 0.328125 over 4 */
    expect_near("W2 mean", b->w_mean, -0.03125);
    expect_near("W2 std", b->w_std, sqrt(0.328125 / 4 - 0.03125 * 0.03125));
    ck_assert_msg(b->w_min == -0.5f && b->w_max == 0.25f, "W2 min %g max %g", (double)b->w_min, (double)b->w_max);
    /* b2: constant 3 */
    ck_assert_msg(b->b_mean == 3.0f && b->b_std == 0.0f && b->b_min == 3.0f && b->b_max == 3.0f,
                  "b2 (3, 3): mean %g std %g min %g max %g, expected 3 0 3 3", (double)b->b_mean, (double)b->b_std,
                  (double)b->b_min, (double)b->b_max);

    const int bins1[] = {0, 1, 17, 21, 32, 33};
    const uint32_t one6[] = {1, 1, 1, 1, 1, 1};
    expect_hist("W1 (R 1)", a->hist, bins1, one6, 6);
    const int bins2[] = {1, 17, 21, 25};
    expect_hist("W2 (R 0.5)", b->hist, bins2, one6, 4);

    expect_near("layer 1 grad norm", a->grad_norm, 5.0);
    expect_near("layer 2 grad norm", b->grad_norm, 1.3);
    expect_near("layer 1 update ratio", a->update_ratio, 0.5 / sqrt(7.59));
    expect_near("layer 2 update ratio", b->update_ratio, 0.5);
    ck_assert_msg(a->dead_fraction == 0.75f && b->dead_fraction == 0.25f,
                  "dead_fraction changed to %g, %g: the statistics must leave it alone", (double)a->dead_fraction,
                  (double)b->dead_fraction);

    /* step 0: no previous parameters, no gradients */
    nncl_snapshot_stats(&NET322, P322, NULL, NULL, R, &info);
    for (int l = 0; l < 2; l++)
        ck_assert_msg(isnan(info.layer[l].grad_norm) && isnan(info.layer[l].update_ratio),
                      "layer %d without prev and grads: grad norm %g, update ratio %g, expected NaN", l,
                      (double)info.layer[l].grad_norm, (double)info.layer[l].update_ratio);
    expect_near("W1 mean (step 0)", info.layer[0].w_mean, 0.8 / 6);

    /* a NaN weight counts above the range: 0.3 -> NaN moves one count from
     * hist[21] to hist[33] */
    float p[14];
    memcpy(p, P322, sizeof p);
    p[5] = NAN;
    nncl_snapshot_stats(&NET322, p, NULL, NULL, R, &info);
    const int binsn[] = {0, 1, 17, 32, 33};
    const uint32_t countsn[] = {1, 1, 1, 1, 2};
    expect_hist("W1 with a NaN", info.layer[0].hist, binsn, countsn, 5);

    /* the ranges: 2 max|W_l|, biases ignored (b2 = 3 is larger); 1 when W_l is all 0 */
    float hr[2] = {-1, -1};
    nncl_snapshot_hist_range(&NET322, P322, hr);
    ck_assert_msg(hr[0] == 4.0f && hr[1] == 1.0f, "hist ranges %g, %g, expected 2 * 2 = 4 and 2 * 0.5 = 1",
                  (double)hr[0], (double)hr[1]);
    memcpy(p, P322, sizeof p);
    for (int i = 8; i < 12; i++)
        p[i] = 0;
    nncl_snapshot_hist_range(&NET322, p, hr);
    ck_assert_msg(hr[0] == 4.0f && hr[1] == 1.0f, "hist ranges with W2 = 0: %g, %g, expected 4 and 1", (double)hr[0],
                  (double)hr[1]);
    p[9] = -0.375f;
    nncl_snapshot_hist_range(&NET322, p, hr);
    ck_assert_msg(hr[1] == 0.75f, "hist range of W2 = (0, -0.375, 0, 0): %g, expected 0.75", (double)hr[1]);
}
END_TEST

/* ---- 3. the file: a round trip -------------------------------------------------------------- */

static const nncl_net_config NET543 = {.layers = 2, .sizes = {5, 4, 3}, .act = NNCL_ACT_RELU,
                                       .task = NNCL_TASK_CLASSIFY};
enum { P543 = 4 * 5 + 4 + 3 * 4 + 3, SNAPS = 3 };
static const uint64_t STEPS543[SNAPS] = {0, 7, 20};
static const float R543[2] = {1.5f, 2.25f};

/* Three snapshots of a 5-4-3 network with random parameters, and statistics
 * that are partly computed and partly made up (the file stores them, it does
 * not judge them); snapshot 0 has no loss, norms or ratios. */
static void make_snapshots(float params[SNAPS][P543], nncl_snapshot_info *info)
{
    uint64_t s = 543;
    for (int k = 0; k < SNAPS; k++) {
        float *p = test_random(&s, P543, -2.0f, 2.0f);
        memcpy(params[k], p, sizeof params[k]);
        free(p);
        nncl_snapshot_info *in = &info[k];
        memset(in, 0, sizeof *in);
        in->step = STEPS543[k];
        in->epoch = (float)k * 0.75f;
        in->train_loss = k ? test_rand_float(&s, 0, 3) : NAN;
        in->train_accuracy = k ? test_rand_float(&s, 0, 1) : NAN;
        in->val_loss = test_rand_float(&s, 0, 3);
        in->val_accuracy = test_rand_float(&s, 0, 1);
        in->lr = 0.01f * (float)(k + 1);
        in->seconds = 1.5f * (float)k;
        nncl_snapshot_stats(&NET543, params[k], k ? params[k - 1] : NULL, k ? params[0] : NULL, R543, in);
        in->layer[0].dead_fraction = 0.25f * (float)k;
        in->layer[1].dead_fraction = NAN;
    }
}

static void write_snapshots(const char *path, float params[SNAPS][P543], const nncl_snapshot_info *info)
{
    nncl_snapshot_writer *w = NULL;
    ck_assert_ok(nncl_snapshot_writer_open(path, &NET543, R543, &w));
    for (int k = 0; k < SNAPS; k++)
        ck_assert_ok(nncl_snapshot_writer_append(w, &info[k], params[k]));
    ck_assert_ok(nncl_snapshot_writer_close(w));
}

static float max_abs_finite(const float *x, size_t n)
{
    float m = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i]) && fabsf(x[i]) > m)
            m = fabsf(x[i]);
    return m;
}

/* Offsets of the tensors W_1, b_1, W_2, b_2 ... and their lengths. */
static void tensors(const nncl_net_config *c, size_t *off, size_t *len)
{
    size_t o = 0;
    for (int l = 0; l < c->layers; l++) {
        off[2 * l] = o;
        len[2 * l] = c->sizes[l + 1] * c->sizes[l];
        o += len[2 * l];
        off[2 * l + 1] = o;
        len[2 * l + 1] = c->sizes[l + 1];
        o += len[2 * l + 1];
    }
}

START_TEST(file_round_trip)
{
    float params[SNAPS][P543];
    nncl_snapshot_info *info = calloc(SNAPS, sizeof *info);
    make_snapshots(params, info);
    char path[512];
    test_path_in(path, sizeof path, "round_trip.bin");
    write_snapshots(path, params, info);

    /* the bytes, against the layout in snapshot.h */
    size_t n;
    unsigned char *f = test_read_file(path, &n);
    const int L = 2;
    const size_t hb = h_bytes(L), rb = r_bytes(L, P543);
    ck_assert_msg(n == hb + SNAPS * rb, "file of %zu bytes, expected a %zu-byte header and %d records of %zu", n, hb,
                  SNAPS, rb);
    ck_assert_msg(memcmp(f, "NNCLSNP1", 8) == 0, "the file does not start with NNCLSNP1");
    ck_assert_msg(test_get32(f + H_HEADER_BYTES) == hb && test_get32(f + H_LAYERS) == 2 &&
                      test_get32(f + H_BINS) == B && test_get32(f + H_RECORD_BYTES) == rb &&
                      test_get64(f + H_N_PARAMS) == P543,
                  "header fields %u %u %u %u %llu, expected %zu 2 %d %zu %d", test_get32(f + H_HEADER_BYTES),
                  test_get32(f + H_LAYERS), test_get32(f + H_BINS), test_get32(f + H_RECORD_BYTES),
                  (unsigned long long)test_get64(f + H_N_PARAMS), hb, B, rb, P543);
    for (int l = 0; l <= L; l++)
        ck_assert_msg(test_get64(f + H_SIZES + 8 * l) == NET543.sizes[l], "header size %d: %llu, expected %zu", l,
                      (unsigned long long)test_get64(f + H_SIZES + 8 * l), NET543.sizes[l]);
    for (int l = 0; l < L; l++)
        ck_assert_msg(test_same_f(test_getf(f + h_hist_range(L) + 4 * l), R543[l]),
                      "header hist range %d: %g, expected %g", l, (double)test_getf(f + h_hist_range(L) + 4 * l),
                      (double)R543[l]);
    ck_assert_msg(test_get32(f + hb - 4) == (uint32_t)crc32(0L, f, (uInt)(hb - 4)), "the header's crc32 is not zlib's");
    for (int k = 0; k < SNAPS; k++) {
        const unsigned char *r = f + hb + k * rb;
        ck_assert_msg(memcmp(r, "SNAP", 4) == 0 && test_get32(r + R_INDEX) == (uint32_t)k &&
                          test_get64(r + R_STEP) == STEPS543[k],
                      "record %d: magic, index %u, step %llu", k, test_get32(r + R_INDEX),
                      (unsigned long long)test_get64(r + R_STEP));
        ck_assert_msg(test_same_f(test_getf(r + R_FLOATS), info[k].epoch) &&
                          test_same_f(test_getf(r + R_FLOATS + 24), info[k].seconds),
                      "record %d: epoch or seconds not where snapshot.h puts them", k);
        ck_assert_msg(test_same_f(test_getf(r + r_layer(1) + 8 * 4), info[k].layer[1].grad_norm) &&
                          test_get32(r + r_hist(1) + 4 * 17) == info[k].layer[1].hist[17],
                      "record %d: layer 2's grad norm or hist[17] not where snapshot.h puts them", k);
        for (size_t i = r_q(L) + P543; i < rb - 4; i++)
            ck_assert_msg(r[i] == 0, "record %d: padding byte %zu is %u, expected 0", k, i, r[i]);
        ck_assert_msg(test_get32(r + rb - 4) == (uint32_t)crc32(0L, r, (uInt)(rb - 4)),
                      "record %d: crc32 is not zlib's", k);
    }

    nncl_snapshots s;
    ck_assert_ok(nncl_snapshots_load(path, &s));
    ck_assert_msg(s.layers == 2 && s.sizes[0] == 5 && s.sizes[1] == 4 && s.sizes[2] == 3 && s.n_params == P543 &&
                      s.count == SNAPS,
                  "loaded %d layers, %zu parameters, %zu snapshots, expected 2 (5-4-3), %d, %d", s.layers, s.n_params,
                  s.count, P543, SNAPS);
    ck_assert_msg(test_same_f(s.hist_range[0], R543[0]) && test_same_f(s.hist_range[1], R543[1]), "hist ranges %g %g",
                  (double)s.hist_range[0], (double)s.hist_range[1]);
    size_t toff[4], tlen[4];
    tensors(&NET543, toff, tlen);
    for (int k = 0; k < SNAPS; k++) {
        const nncl_snapshot_info *a = &s.info[k], *w = &info[k];
        ck_assert_msg(a->step == w->step && test_same_f(a->epoch, w->epoch) &&
                          test_same_f(a->train_loss, w->train_loss) &&
                          test_same_f(a->train_accuracy, w->train_accuracy) && test_same_f(a->val_loss, w->val_loss) &&
                          test_same_f(a->val_accuracy, w->val_accuracy) && test_same_f(a->lr, w->lr) &&
                          test_same_f(a->seconds, w->seconds),
                      "snapshot %d: the info fields did not come back bit for bit", k);
        for (int l = 0; l < 2; l++)
            ck_assert_msg(memcmp(&a->layer[l], &w->layer[l], sizeof a->layer[l]) == 0,
                          "snapshot %d layer %d: statistics or histogram did not come back bit for bit", k, l);
        ck_assert_msg(memcmp(s.q + k * P543, f + hb + k * rb + r_q(L), P543) == 0,
                      "snapshot %d: the quantised bytes are not the file's", k);
        float back[P543];
        nncl_snapshots_params(&s, k, back);
        for (int t = 0; t < 4; t++) {
            float scale = s.scale[k * 4 + t], want = max_abs_finite(params[k] + toff[t], tlen[t]) / 127.0f;
            ck_assert_msg(scale == want, "snapshot %d tensor %d: scale %.9g, expected max|x| / 127 = %.9g", k, t,
                          (double)scale, (double)want);
            for (size_t i = toff[t]; i < toff[t] + tlen[t]; i++) {
                float v = nncl_snapshots_value(&s, k, i);
                ck_assert_msg(test_same_f(v, back[i]), "snapshot %d param %zu: value %g but params %g", k, i, (double)v,
                              (double)back[i]);
                /* half a quantisation step, plus float rounding */
                ck_assert_msg(fabsf(v - params[k][i]) <= 0.5f * scale * (1 + 1e-4f),
                              "snapshot %d param %zu: %.9g came back as %.9g, more than scale/2 = %g off", k, i,
                              (double)params[k][i], (double)v, 0.5 * scale);
            }
        }
    }
    nncl_snapshots_free(&s);
    free(f);
    free(info);
}
END_TEST

START_TEST(quantisation_of_special_values)
{
    uint64_t seed = 99;
    float *p = test_random(&seed, P543, -1.0f, 1.0f);
    p[0] = INFINITY;        /* W1: the ends and the middle */
    p[1] = -INFINITY;
    p[2] = NAN;
    p[3] = 0.5f;            /* the largest finite value of W1 is then 1 or less: make it exact */
    p[4] = -1.0f;
    for (int i = 5; i < 20; i++)
        p[i] = p[i] * 0.9f;
    for (int i = 20; i < 24; i++)   /* b1: all zero */
        p[i] = 0.0f;
    nncl_snapshot_info info;
    memset(&info, 0, sizeof info);
    nncl_snapshot_stats(&NET543, p, NULL, NULL, R543, &info);
    char path[512];
    test_path_in(path, sizeof path, "special.bin");
    nncl_snapshot_writer *w;
    ck_assert_ok(nncl_snapshot_writer_open(path, &NET543, R543, &w));
    ck_assert_ok(nncl_snapshot_writer_append(w, &info, p));
    ck_assert_ok(nncl_snapshot_writer_close(w));
    nncl_snapshots s;
    ck_assert_ok(nncl_snapshots_load(path, &s));
    ck_assert_int_eq(s.count, 1);
    const float sc = s.scale[0];
    ck_assert_msg(sc == 1.0f / 127.0f, "W1 scale %.9g, expected max finite |x| / 127 = 1/127", (double)sc);
    ck_assert_msg(s.q[0] == 255 && s.q[1] == 1 && s.q[2] == 128,
                  "+Inf, -Inf, NaN quantised to %u, %u, %u, expected 255, 1, 128", s.q[0], s.q[1], s.q[2]);
    ck_assert_msg(nncl_snapshots_value(&s, 0, 0) == 127 * sc && nncl_snapshots_value(&s, 0, 1) == -127 * sc &&
                      nncl_snapshots_value(&s, 0, 2) == 0.0f,
                  "+Inf, -Inf, NaN came back as %g, %g, %g, expected +-1 and 0",
                  (double)nncl_snapshots_value(&s, 0, 0), (double)nncl_snapshots_value(&s, 0, 1),
                  (double)nncl_snapshots_value(&s, 0, 2));
    ck_assert_msg(s.q[4] == 1 && nncl_snapshots_value(&s, 0, 4) == -1.0f, "-1 (the largest |x|): q %u, value %g",
                  s.q[4], (double)nncl_snapshots_value(&s, 0, 4));
    ck_assert_msg(s.q[3] == 128 + 64, "0.5 = 63.5 steps: q %u, expected 128 + 64", s.q[3]);
    ck_assert_msg(s.scale[1] == 0.0f, "b1 all zero: scale %g, expected 0", (double)s.scale[1]);
    for (int i = 20; i < 24; i++)
        ck_assert_msg(s.q[i] == 128 && nncl_snapshots_value(&s, 0, i) == 0.0f, "b1[%d] = 0: q %u, value %g", i - 20,
                      s.q[i], (double)nncl_snapshots_value(&s, 0, i));
    /* the histogram still counts every weight: Inf and NaN off the scale */
    uint32_t total = 0;
    for (int b = 0; b < B + 2; b++)
        total += s.info[0].layer[0].hist[b];
    ck_assert_msg(total == 20 && s.info[0].layer[0].hist[0] == 1 && s.info[0].layer[0].hist[B + 1] == 2,
                  "W1 histogram: %u below, %u above, expected 1 (-Inf) and 2 (+Inf, NaN)", s.info[0].layer[0].hist[0],
                  s.info[0].layer[0].hist[B + 1]);
    nncl_snapshots_free(&s);
    free(p);
}
END_TEST

START_TEST(writer_refuses_an_existing_file)
{
    char path[512];
    test_path_in(path, sizeof path, "exists.bin");
    const unsigned char keep[] = "keep me";
    test_write_file(path, keep, sizeof keep);
    nncl_snapshot_writer *w = (nncl_snapshot_writer *)&w;
    nncl_status st = nncl_snapshot_writer_open(path, &NET543, R543, &w);
    ck_assert_msg(st == NNCL_E_IO && w == NULL, "writer on an existing file: %s, expected NNCL_E_IO and no writer",
                  nncl_status_name(st));
    ck_assert_msg(strstr(nncl_last_error(), path) != NULL, "message \"%s\" does not name %s", nncl_last_error(), path);
    size_t n;
    unsigned char *back = test_read_file(path, &n);
    ck_assert_msg(n == sizeof keep && memcmp(back, keep, n) == 0, "the existing file was changed (%zu bytes)", n);
    free(back);

    nncl_net_config zero = NET543;
    zero.layers = 0;
    test_path_in(path, sizeof path, "zero_layers.bin");
    st = nncl_snapshot_writer_open(path, &zero, R543, &w);
    ck_assert_msg(st == NNCL_E_INVALID && w == NULL, "writer for 0 layers: %s, expected NNCL_E_INVALID",
                  nncl_status_name(st));
    ck_assert_msg(access(path, F_OK) != 0, "the writer for 0 layers created %s", path);
    ck_assert_ok(nncl_snapshot_writer_close(NULL));
}
END_TEST

/* ---- 4. the reader refuses damage --------------------------------------------------------------- */

/* The valid three-snapshot file of file_round_trip, as bytes. */
static unsigned char *valid_file(size_t *n)
{
    float params[SNAPS][P543];
    nncl_snapshot_info *info = calloc(SNAPS, sizeof *info);
    make_snapshots(params, info);
    char path[512];
    test_path_in(path, sizeof path, "valid.bin");
    unlink(path);
    write_snapshots(path, params, info);
    free(info);
    unsigned char *f = test_read_file(path, n);
    unlink(path);
    return f;
}

/* Write bytes to `name` and expect NNCL_E_FORMAT with a message naming the
 * file, containing `word` and not `avoid` (a check reached other than the
 * one meant). */
static void expect_refused(const char *name, const unsigned char *p, size_t n, const char *word, const char *avoid)
{
    char path[512];
    test_path_in(path, sizeof path, name);
    test_write_file(path, p, n);
    nncl_snapshots s;
    nncl_status st = nncl_snapshots_load(path, &s);
    const char *msg = nncl_last_error();
    ck_assert_msg(st == NNCL_E_FORMAT, "%s (%zu bytes): %s (%s), expected NNCL_E_FORMAT", name, n,
                  nncl_status_name(st), st == NNCL_OK ? "loaded" : msg);
    ck_assert_msg(strstr(msg, path) != NULL, "%s: message \"%s\" does not name the file", name, msg);
    ck_assert_msg(strstr(msg, word) != NULL, "%s: message \"%s\" does not say \"%s\"", name, msg, word);
    ck_assert_msg(!avoid || strstr(msg, avoid) == NULL, "%s: message \"%s\" says \"%s\": the wrong check was reached",
                  name, msg, avoid);
    ck_assert_msg(s.count == 0 && s.info == NULL && s.q == NULL, "%s: refused, but left %zu snapshots behind", name,
                  s.count);
    nncl_snapshots_free(&s);
    unlink(path);
}

START_TEST(reader_refuses_damaged_files)
{
    size_t n;
    unsigned char *v = valid_file(&n);
    const int L = 2;
    const size_t hb = h_bytes(L), rb = r_bytes(L, P543);
    ck_assert_msg(n == hb + SNAPS * rb, "the valid file has %zu bytes, expected %zu", n, hb + SNAPS * rb);
    unsigned char *c = malloc(n);
#define FRESH() memcpy(c, v, n)
#define REC(k) (c + hb + (size_t)(k) * rb)

    /* the unchanged file loads: the refusals below are the changes' doing */
    char path[512];
    test_path_in(path, sizeof path, "ok.bin");
    test_write_file(path, v, n);
    nncl_snapshots s;
    ck_assert_ok(nncl_snapshots_load(path, &s));
    ck_assert_int_eq(s.count, SNAPS);
    nncl_snapshots_free(&s);

    /* truncation: inside the fixed fields, one byte short of the header,
     * one byte past it, mid-record, one byte short of the last record */
    expect_refused("cut20.bin", v, 20, "header", NULL);
    expect_refused("cut_header.bin", v, hb - 1, "header", NULL);
    expect_refused("cut_header1.bin", v, hb + 1, "truncated", NULL);
    expect_refused("cut_mid.bin", v, hb + rb + rb / 2, "truncated", NULL);
    expect_refused("cut_last.bin", v, n - 1, "truncated", NULL);
    expect_refused("empty.bin", v, 0, "header", NULL);

    /* flipped bytes, caught by the checksums */
    FRESH();
    c[h_hist_range(L) + 1] ^= 0x10;
    expect_refused("flip_header.bin", c, n, "checksum", NULL);
    FRESH();
    REC(1)[r_layer(1) + 5] ^= 0x01;
    expect_refused("flip_stats.bin", c, n, "checksum", NULL);
    FRESH();
    REC(2)[r_q(L) + 10] ^= 0x80;
    expect_refused("flip_q.bin", c, n, "checksum", NULL);

    /* magics */
    FRESH();
    c[0] = 'X';
    expect_refused("magic.bin", c, n, "NNCLSNP1", NULL);
    FRESH();
    REC(1)[3] = 'Q';
    fix_crc(REC(1), rb);
    expect_refused("record_magic.bin", c, n, "SNAP", "checksum");

    /* records whose checksums are right but whose contents are not */
    FRESH();
    test_put32(REC(1) + R_INDEX, 2);
    fix_crc(REC(1), rb);
    expect_refused("index.bin", c, n, "snapshot 1", "checksum");
    FRESH();
    test_put64(REC(2) + R_STEP, STEPS543[1]);     /* equal to the one before */
    fix_crc(REC(2), rb);
    expect_refused("step_equal.bin", c, n, "step", "checksum");
    FRESH();
    test_put64(REC(2) + R_STEP, 3);               /* going back */
    fix_crc(REC(2), rb);
    expect_refused("step_back.bin", c, n, "step", "checksum");
    FRESH();
    test_put32(REC(0) + r_hist(1) + 4 * 5, test_get32(REC(0) + r_hist(1) + 4 * 5) + 1);
    fix_crc(REC(0), rb);
    expect_refused("hist_total.bin", c, n, "histogram", "checksum");
    FRESH();
    test_putf(REC(1) + r_scale(L) + 4, -1.0f);
    fix_crc(REC(1), rb);
    expect_refused("scale.bin", c, n, "scale", "checksum");
    FRESH();
    test_putf(REC(1) + r_scale(L), INFINITY);   /* every weight of it inf or NaN */
    fix_crc(REC(1), rb);
    expect_refused("scale_inf.bin", c, n, "scale", "checksum");

    /* headers whose checksums are right but whose fields disagree */
    FRESH();
    test_put64(c + H_N_PARAMS, P543 + 1);
    fix_crc(c, hb);
    expect_refused("n_params.bin", c, n, "parameters", "checksum");
    FRESH();
    test_put32(c + H_RECORD_BYTES, (uint32_t)rb + 4);
    fix_crc(c, hb);
    expect_refused("record_bytes.bin", c, n, "record length", "checksum");
    FRESH();
    test_put32(c + H_HEADER_BYTES, (uint32_t)hb + 4);
    fix_crc(c, hb);
    expect_refused("header_bytes.bin", c, n, "header length", "checksum");
    FRESH();
    test_put32(c + H_BINS, B + 1);
    fix_crc(c, hb);
    expect_refused("bins.bin", c, n, "bins", "checksum");
    FRESH();
    test_put64(c + H_SIZES + 8, 0);
    fix_crc(c, hb);
    expect_refused("size0.bin", c, n, "layer size", "checksum");
    FRESH();
    test_putf(c + h_hist_range(L), 0.0f);
    fix_crc(c, hb);
    expect_refused("range0.bin", c, n, "histogram range", "checksum");
    FRESH();
    test_put32(c + H_LAYERS, 0);
    fix_crc(c, hb);
    expect_refused("layers0.bin", c, n, "layers", "checksum");
    FRESH();
    test_put32(c + H_LAYERS, NNCL_MAX_LAYERS + 1);
    fix_crc(c, hb);
    expect_refused("layers17.bin", c, n, "layers", "checksum");

    /* not files */
    test_path_in(path, sizeof path, "a_directory");
    ck_assert_msg(mkdir(path, 0755) == 0, "mkdir %s: %s", path, strerror(errno));
    nncl_status st = nncl_snapshots_load(path, &s);
    ck_assert_msg(st == NNCL_E_IO && strstr(nncl_last_error(), path), "a directory: %s (%s), expected NNCL_E_IO",
                  nncl_status_name(st), nncl_last_error());
    nncl_snapshots_free(&s);
    rmdir(path);
    test_path_in(path, sizeof path, "missing.bin");
    st = nncl_snapshots_load(path, &s);
    ck_assert_msg(st == NNCL_E_IO && strstr(nncl_last_error(), path), "a missing file: %s (%s), expected NNCL_E_IO",
                  nncl_status_name(st), nncl_last_error());
    nncl_snapshots_free(&s);

    /* a header alone: a run that stopped before its first snapshot */
    test_path_in(path, sizeof path, "header_only.bin");
    test_write_file(path, v, hb);
    ck_assert_ok(nncl_snapshots_load(path, &s));
    ck_assert_msg(s.count == 0 && s.layers == 2 && s.n_params == P543 && s.sizes[2] == 3 &&
                      test_same_f(s.hist_range[1], R543[1]),
                  "header only: %zu snapshots, %d layers, %zu parameters, expected 0, 2, %d", s.count, s.layers,
                  s.n_params, P543);
    nncl_snapshots_free(&s);
    unlink(path);
#undef FRESH
#undef REC
    free(c);
    free(v);
}
END_TEST

/* ---- 5. training with snapshots ------------------------------------------------------------------ */

enum { COLS = 20, CLASSES = 3, TRAIN_ROWS = 60, VAL_ROWS = 30, BATCH = 12, SPE = TRAIN_ROWS / BATCH, EPOCHS = 3 };
enum { MAX_SNAPS = 16 };

/* Three separable classes: class c has +2 on every feature f with f % 3 == c. */
static void make_data(size_t rows, uint64_t seed, int flip, float *x, int32_t *labels)
{
    for (size_t r = 0; r < rows; r++) {
        int c = (int)(r % CLASSES);
        for (int f = 0; f < COLS; f++)
            x[r * COLS + f] = test_rand_float(&seed, -1.0f, 1.0f) + (f % CLASSES == c ? 2.0f : 0.0f);
        labels[r] = (c + flip) % CLASSES;
    }
}

typedef struct data {
    float xt[TRAIN_ROWS * COLS], xv[VAL_ROWS * COLS];
    int32_t yt[TRAIN_ROWS], yv[VAL_ROWS], yflip[VAL_ROWS];
    nncl_device_data train, val, flipped;
} data;

static data *upload_data(nncl_device *dev)
{
    data *d = calloc(1, sizeof *d);
    make_data(TRAIN_ROWS, 1, 0, d->xt, d->yt);
    make_data(VAL_ROWS, 2, 0, d->xv, d->yv);
    for (int r = 0; r < VAL_ROWS; r++)
        d->yflip[r] = (d->yv[r] + 1) % CLASSES;
    nncl_dataset t = {.rows = TRAIN_ROWS, .cols = COLS, .x_f32 = d->xt, .labels = d->yt,
                      .task = NNCL_TASK_CLASSIFY, .num_classes = CLASSES};
    nncl_dataset v = t, vf = t;
    v.rows = vf.rows = VAL_ROWS;
    v.x_f32 = vf.x_f32 = d->xv;
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

typedef struct run_log {
    size_t P;
    size_t n;
    nncl_snapshot_info info[MAX_SNAPS];
    float *params[MAX_SNAPS];
    int n_epochs;
    nncl_epoch_metrics epoch[8];
    size_t stop_after_snapshots;    /* set *stop at this many snapshots (0: never) */
    unsigned long stop_at_step;     /* set *stop from on_progress after this step (0: never) */
    volatile sig_atomic_t stop;
    nncl_train_result res;
    float *final;                   /* nncl_net_get_params after training */
    nncl_eval_result before;        /* the probe set evaluated before training */
} run_log;

static nncl_status on_snapshot(void *ctx, const nncl_snapshot_info *info, const float *params)
{
    run_log *g = ctx;
    ck_assert_msg(g->n < MAX_SNAPS, "more than %d snapshots", MAX_SNAPS);
    g->info[g->n] = *info;
    g->params[g->n] = malloc(g->P * sizeof(float));
    memcpy(g->params[g->n], params, g->P * sizeof(float));
    g->n++;
    if (g->stop_after_snapshots && g->n == g->stop_after_snapshots)
        g->stop = 1;
    return NNCL_OK;
}

static nncl_status on_epoch(void *ctx, const nncl_epoch_metrics *m)
{
    run_log *g = ctx;
    ck_assert(g->n_epochs < 8);
    g->epoch[g->n_epochs++] = *m;
    return NNCL_OK;
}

static void on_progress(void *ctx, int epoch, size_t step_in_epoch, size_t steps_per_epoch, double loss,
                        double accuracy)
{
    (void)loss;
    (void)accuracy;
    run_log *g = ctx;
    if ((unsigned long)(epoch - 1) * steps_per_epoch + step_in_epoch == g->stop_at_step)
        g->stop = 1;
}

static void free_log(run_log *g)
{
    for (size_t k = 0; k < g->n; k++)
        free(g->params[k]);
    free(g->final);
    free(g);
}

static const nncl_optim_config ADAM = {.kind = NNCL_OPTIM_ADAM, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f};

static nncl_train_config base_config(size_t snapshots, const nncl_device_data *probe)
{
    nncl_train_config tc = {.batch = BATCH, .epochs = EPOCHS, .seed = 9, .shuffle = true,
                            .schedule = {.kind = NNCL_SCHEDULE_COSINE, .lr = 0.02f}, .optim = ADAM,
                            .snapshots = snapshots, .probe = probe};
    return tc;
}

static run_log *new_log(const nncl_net_config *nc)
{
    run_log *g = calloc(1, sizeof *g);
    g->P = count_params(nc);
    g->final = malloc(g->P * sizeof(float));
    return g;
}

/* Create a network (Xavier, seed 5; the biases of layer dead_layer set to
 * -100 when it is >= 0), evaluate the probe set, train, and keep what the
 * hooks saw and the final parameters. */
static void train_go(run_log *g, nncl_device *dev, const nncl_net_config *nc, int dead_layer,
                     const nncl_train_config *tc, nncl_device_data *train, nncl_device_data *val, bool snap_hook)
{
    nncl_net *net;
    ck_assert_ok(nncl_net_create(dev, nc, BATCH, &net));
    ck_assert_ok(nncl_net_init(net, NNCL_INIT_XAVIER, 0.0f, 5));
    ck_assert_int_eq(nncl_net_param_count(net), g->P);
    if (dead_layer >= 0) {
        ck_assert_ok(nncl_net_get_params(net, g->final));
        for (size_t j = 0; j < nc->sizes[dead_layer + 1]; j++)
            g->final[nncl_net_bias_offset(net, dead_layer) + j] = -100.0f;
        ck_assert_ok(nncl_net_set_params(net, g->final));
    }
    if (tc->probe)
        ck_assert_ok(nncl_net_evaluate(net, tc->probe, NULL, NULL, &g->before));
    nncl_train_hooks hooks = {.ctx = g, .on_epoch = on_epoch, .on_snapshot = snap_hook ? on_snapshot : NULL,
                              .on_progress = g->stop_at_step ? on_progress : NULL, .stop = &g->stop};
    nncl_train_config c = *tc;
    if (g->stop_at_step)
        c.progress_every = 1;
    ck_assert_ok(nncl_train(net, &c, train, val, &hooks, &g->res));
    ck_assert_ok(nncl_net_get_params(net, g->final));
    nncl_net_free(net);
}

static double sq_diff(const float *a, const float *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += ((double)a[i] - (b ? b[i] : 0.0)) * ((double)a[i] - (b ? b[i] : 0.0));
    return s;
}

/* Dead units of the first hidden layer on the host: a unit is dead when no
 * row makes it positive. Units whose largest pre-activation is within 1e-4
 * of 0 count as unsure (float rounding may go either way). */
static void host_dead(const nncl_net_config *nc, const float *params, const float *x, size_t rows, size_t *dead,
                      size_t *unsure)
{
    const size_t in = nc->sizes[0], out = nc->sizes[1];
    const float *W = params, *b = params + in * out;
    *dead = *unsure = 0;
    for (size_t j = 0; j < out; j++) {
        double mx = -INFINITY;
        for (size_t r = 0; r < rows; r++) {
            double z = b[j];
            for (size_t i = 0; i < in; i++)
                z += (double)W[j * in + i] * x[r * in + i];
            mx = z > mx ? z : mx;
        }
        if (fabs(mx) < 1e-4)
            (*unsure)++;
        else if (mx <= 0)
            (*dead)++;
    }
}

static void expect_dead_on_host(const char *dev, const nncl_net_config *nc, const float *params, const data *dt,
                                float got)
{
    size_t dead, unsure;
    host_dead(nc, params, dt->xv, VAL_ROWS, &dead, &unsure);
    const double n = (double)nc->sizes[1];
    ck_assert_msg(got >= dead / n - 1e-6 && got <= (dead + unsure) / n + 1e-6,
                  "%s: dead fraction of hidden layer 1 is %g, the host counts %zu of %zu dead (%zu unsure)", dev,
                  (double)got, dead, nc->sizes[1], unsure);
}

/* The histogram of W (n entries) on bins of [-R, R], counted in double;
 * entries within 1e-4 of a bin's edge may fall on either side. */
static void expect_hist_of(const char *what, const uint32_t *got, const float *W, size_t n, double R)
{
    uint32_t lo[B + 2] = {0}, hi[B + 2] = {0};
    for (size_t i = 0; i < n; i++) {
        double u = ((double)W[i] + R) / (2 * R) * B;    /* bin i holds [i, i + 1) */
        int b = u < 0 ? 0 : u > B ? B + 1 : 1 + (int)floor(u);
        if (u == B)
            b = B;      /* +R itself: the last bin */
        double edge = fabs(u - floor(u + 0.5));
        if (edge < 1e-4 && u > 1e-4 && u < B - 1e-4) {
            int other = u - floor(u) < 0.5 ? b - 1 : b + 1;
            hi[b]++;
            hi[other]++;
        } else {
            lo[b]++;
            hi[b]++;
        }
    }
    uint64_t total = 0;
    for (int b = 0; b < B + 2; b++) {
        total += got[b];
        ck_assert_msg(got[b] >= lo[b] && got[b] <= hi[b], "%s: hist[%d] = %u, expected %u..%u (R %g)", what, b,
                      got[b], lo[b], hi[b], R);
    }
    ck_assert_msg(total == n, "%s: the histogram counts %llu weights, the layer has %zu", what,
                  (unsigned long long)total, n);
}

/* Every snapshot's statistics against the parameters it came with: min and
 * max exact, means within float rounding, histograms on R_l = 2 max|W_l| of
 * the first snapshot's weights (or the given ranges). */
static void expect_stats_of_params(const char *dev, const nncl_net_config *nc, const run_log *g, const float *ranges)
{
    size_t off[2 * NNCL_MAX_LAYERS], len[2 * NNCL_MAX_LAYERS];
    tensors(nc, off, len);
    for (int l = 0; l < nc->layers; l++) {
        double R = ranges ? ranges[l] : 0;
        if (!ranges) {
            for (size_t i = 0; i < len[2 * l]; i++)
                R = fmax(R, fabs(g->params[0][off[2 * l] + i]));
            R *= 2;
        }
        for (size_t k = 0; k < g->n; k++) {
            const nncl_layer_stats *s = &g->info[k].layer[l];
            const float *W = g->params[k] + off[2 * l], *b = g->params[k] + off[2 * l + 1];
            float mn = INFINITY, mx = -INFINITY, bmn = INFINITY, bmx = -INFINITY;
            double sum = 0, bsum = 0;
            for (size_t i = 0; i < len[2 * l]; i++) {
                mn = fminf(mn, W[i]);
                mx = fmaxf(mx, W[i]);
                sum += W[i];
            }
            for (size_t i = 0; i < len[2 * l + 1]; i++) {
                bmn = fminf(bmn, b[i]);
                bmx = fmaxf(bmx, b[i]);
                bsum += b[i];
            }
            ck_assert_msg(s->w_min == mn && s->w_max == mx && s->b_min == bmn && s->b_max == bmx,
                          "%s snapshot %zu layer %d: W in [%g, %g], b in [%g, %g]; the parameters say [%g, %g], [%g, %g]",
                          dev, k, l, (double)s->w_min, (double)s->w_max, (double)s->b_min, (double)s->b_max,
                          (double)mn, (double)mx, (double)bmn, (double)bmx);
            double wm = sum / len[2 * l], bm = bsum / len[2 * l + 1];
            ck_assert_msg(fabs(s->w_mean - wm) <= 1e-6 * fabs(wm) + 1e-7 &&
                              fabs(s->b_mean - bm) <= 1e-6 * fabs(bm) + 1e-7,
                          "%s snapshot %zu layer %d: means %g, %g, the parameters say %g, %g", dev, k, l,
                          (double)s->w_mean, (double)s->b_mean, wm, bm);
            char what[512];
            snprintf(what, sizeof what, "%s snapshot %zu layer %d", dev, k, l);
            expect_hist_of(what, s->hist, W, len[2 * l], R);
        }
    }
}

static float step_lr(const nncl_schedule *s, uint64_t t)
{
    /* the learning rate of step t (1-based): step s of epoch e runs at e + s / steps */
    if (t == 0)
        return nncl_schedule_lr(s, 0.0, EPOCHS);
    uint64_t e = (t - 1) / SPE, s_ = (t - 1) % SPE;
    return nncl_schedule_lr(s, (double)e + (double)s_ / (double)SPE, EPOCHS);
}

static const nncl_net_config NET2083 = {.layers = 2, .sizes = {COLS, 8, CLASSES}, .act = NNCL_ACT_RELU,
                                        .task = NNCL_TASK_CLASSIFY};

START_TEST(snapshots_follow_the_schedule_without_changing_training)
{
    const nncl_net_config *nc = &NET2083;
    int idx[2], nd = test_train_devices(idx);
    for (int d = 0; d < nd; d++) {
        nncl_device *dev = test_open(idx[d]);
        const char *name = nncl_device_get_info(dev)->name;
        data *dt = upload_data(dev);
        nncl_train_config tc = base_config(7, &dt->val);
        run_log *a = new_log(nc), *b = new_log(nc);
        train_go(a, dev, nc, -1, &tc, &dt->train, &dt->val, true);
        tc.snapshots = 0;       /* the hook stays: 0 means none */
        train_go(b, dev, nc, -1, &tc, &dt->train, &dt->val, true);
        ck_assert_msg(b->n == 0, "%s: snapshots = 0 still took %zu", name, b->n);

        uint64_t want[8];
        size_t nw = nncl_snapshot_schedule(7, EPOCHS * SPE, want);
        ck_assert_msg(a->n == nw, "%s: %zu snapshots, expected %zu", name, a->n, nw);
        for (size_t k = 0; k < nw; k++)
            ck_assert_msg(a->info[k].step == want[k], "%s: snapshot %zu at step %llu, expected %llu", name, k,
                          (unsigned long long)a->info[k].step, (unsigned long long)want[k]);

        float prev_seconds = 0;
        for (size_t k = 0; k < a->n; k++) {
            const nncl_snapshot_info *in = &a->info[k];
            for (int l = 0; l < 2; l++) {
                float gn = in->layer[l].grad_norm, ur = in->layer[l].update_ratio;
                if (k == 0)
                    ck_assert_msg(isnan(gn) && isnan(ur), "%s: snapshot 0 layer %d: grad norm %g, update ratio %g, expected NaN",
                                  name, l, (double)gn, (double)ur);
                else
                    ck_assert_msg(isfinite(gn) && gn > 0 && isfinite(ur) && ur > 0,
                                  "%s: snapshot %zu layer %d: grad norm %g, update ratio %g, expected finite and > 0",
                                  name, k, l, (double)gn, (double)ur);
            }
            if (k == 0)
                ck_assert_msg(isnan(in->train_loss) && isnan(in->train_accuracy),
                              "%s: snapshot 0: train loss %g, accuracy %g, expected NaN", name,
                              (double)in->train_loss, (double)in->train_accuracy);
            else
                ck_assert_msg(isfinite(in->train_loss) && in->train_loss > 0 && in->train_accuracy >= 0 &&
                                  in->train_accuracy <= 1,
                              "%s: snapshot %zu: train loss %g, accuracy %g", name, k, (double)in->train_loss,
                              (double)in->train_accuracy);
            ck_assert_msg(isfinite(in->val_loss) && in->val_loss > 0 && in->val_accuracy >= 0 && in->val_accuracy <= 1,
                          "%s: snapshot %zu: val loss %g, accuracy %g", name, k, (double)in->val_loss,
                          (double)in->val_accuracy);
            ck_assert_msg(fabsf(in->epoch - (float)in->step / SPE) <= 1e-6f, "%s: snapshot %zu (step %llu): epoch %g, expected %g",
                          name, k, (unsigned long long)in->step, (double)in->epoch, (double)in->step / SPE);
            ck_assert_msg(in->lr == step_lr(&tc.schedule, in->step), "%s: snapshot %zu (step %llu): lr %.9g, expected %.9g",
                          name, k, (unsigned long long)in->step, (double)in->lr,
                          (double)step_lr(&tc.schedule, in->step));
            ck_assert_msg(isfinite(in->seconds) && in->seconds >= prev_seconds, "%s: snapshot %zu: %g seconds after %g",
                          name, k, (double)in->seconds, (double)prev_seconds);
            prev_seconds = in->seconds;
            ck_assert_msg(isnan(in->layer[1].dead_fraction) && in->layer[0].dead_fraction >= 0 &&
                              in->layer[0].dead_fraction <= 1,
                          "%s: snapshot %zu: dead fractions %g (hidden), %g (output, expected NaN)", name, k,
                          (double)in->layer[0].dead_fraction, (double)in->layer[1].dead_fraction);
        }
        /* dead units of the healthy network, counted on the host */
        expect_dead_on_host(name, nc, a->params[0], dt, a->info[0].layer[0].dead_fraction);
        ck_assert_msg(a->info[0].layer[0].dead_fraction < 1, "%s: a healthy ReLU layer is all dead", name);

        /* val metrics: the probe at step 0 is nncl_net_evaluate before
         * training, and at the last step the last epoch's evaluation */
        const nncl_snapshot_info *last = &a->info[a->n - 1];
        ck_assert_msg(a->info[0].val_loss == (float)a->before.loss && a->info[0].val_accuracy == (float)a->before.accuracy,
                      "%s: snapshot 0: val %.9g / %.9g, nncl_net_evaluate says %.9g / %.9g", name,
                      (double)a->info[0].val_loss, (double)a->info[0].val_accuracy, a->before.loss, a->before.accuracy);
        ck_assert_int_eq(a->n_epochs, EPOCHS);
        ck_assert_msg(last->val_loss == (float)a->epoch[EPOCHS - 1].val_loss &&
                          last->val_accuracy == (float)a->epoch[EPOCHS - 1].val_accuracy,
                      "%s: last snapshot: val %.9g / %.9g, the last epoch says %.9g / %.9g", name, (double)last->val_loss,
                      (double)last->val_accuracy, a->epoch[EPOCHS - 1].val_loss, a->epoch[EPOCHS - 1].val_accuracy);

        /* train loss: each snapshot's is the mean over the steps since the
         * epoch's previous snapshot, so weighted by those steps they make the
         * epoch's mean (every epoch ends on a snapshot here) */
        for (int e = 0; e < EPOCHS; e++) {
            double loss = 0, acc = 0;
            uint64_t from = (uint64_t)e * SPE, covered = 0;
            for (size_t k = 1; k < a->n; k++)
                if (a->info[k].step > (uint64_t)e * SPE && a->info[k].step <= (uint64_t)(e + 1) * SPE) {
                    loss += (double)a->info[k].train_loss * (double)(a->info[k].step - from);
                    acc += (double)a->info[k].train_accuracy * (double)(a->info[k].step - from);
                    covered += a->info[k].step - from;
                    from = a->info[k].step;
                }
            ck_assert_msg(covered == SPE, "%s: epoch %d does not end on a snapshot (test set-up)", name, e + 1);
            const nncl_epoch_metrics *m = &a->epoch[e];
            ck_assert_msg(fabs(loss / SPE - m->train_loss) <= 1e-5 * m->train_loss &&
                              fabs(acc / SPE - m->train_accuracy) <= 1e-5,
                          "%s: epoch %d: the snapshots' train loss and accuracy weighted by steps make %.9g, %.9g; "
                          "the epoch says %.9g, %.9g",
                          name, e + 1, loss / SPE, acc / SPE, m->train_loss, m->train_accuracy);
        }

        expect_stats_of_params(name, nc, a, NULL);
        ck_assert_msg(memcmp(a->params[a->n - 1], a->final, a->P * sizeof(float)) == 0,
                      "%s: the parameters of the last snapshot are not the trained ones", name);

        /* the same training without snapshots: the same bits */
        ck_assert_msg(memcmp(a->final, b->final, a->P * sizeof(float)) == 0,
                      "%s: the parameters trained with snapshots differ from those trained without", name);
        ck_assert_int_eq(b->n_epochs, a->n_epochs);
        for (int e = 0; e < a->n_epochs; e++) {
            const nncl_epoch_metrics *x = &a->epoch[e], *y = &b->epoch[e];
            ck_assert_msg(x->epoch == y->epoch && x->step == y->step && memcmp(&x->train_loss, &y->train_loss, 8) == 0 &&
                              memcmp(&x->train_accuracy, &y->train_accuracy, 8) == 0 &&
                              memcmp(&x->val_loss, &y->val_loss, 8) == 0 &&
                              memcmp(&x->val_accuracy, &y->val_accuracy, 8) == 0 && memcmp(&x->lr, &y->lr, 8) == 0,
                          "%s: epoch %d with snapshots: loss %.17g acc %.17g val %.17g / %.17g; without: %.17g %.17g "
                          "%.17g / %.17g",
                          name, e + 1, x->train_loss, x->train_accuracy, x->val_loss, x->val_accuracy, y->train_loss,
                          y->train_accuracy, y->val_loss, y->val_accuracy);
        }
        ck_assert_msg(a->res.status == NNCL_RUN_OK && b->res.status == NNCL_RUN_OK && a->res.steps == b->res.steps &&
                          a->res.epochs == b->res.epochs && a->res.best_epoch == b->res.best_epoch &&
                          a->res.best_val_loss == b->res.best_val_loss,
                      "%s: the results differ with snapshots", name);
        free_log(a);
        free_log(b);
        free_data(dt);
        nncl_device_close(dev);
    }
}
END_TEST

/* With plain SGD and a snapshot at every step, consecutive snapshots give the
 * update: W_t - W_{t-1} = -lr dL/dW, so the update ratio and the gradient
 * norm can be checked against the parameters alone. */
START_TEST(gradient_norms_and_update_ratios_match_the_steps)
{
    const nncl_net_config *nc = &NET2083;
    const float lr = 0.05f;
    int idx[2], nd = test_train_devices(idx);
    for (int d = 0; d < nd; d++) {
        nncl_device *dev = test_open(idx[d]);
        const char *name = nncl_device_get_info(dev)->name;
        data *dt = upload_data(dev);
        nncl_train_config tc = base_config(100, NULL);
        tc.epochs = 2;
        tc.optim = (nncl_optim_config){.kind = NNCL_OPTIM_SGD};
        tc.schedule = (nncl_schedule){.kind = NNCL_SCHEDULE_CONSTANT, .lr = lr};
        run_log *g = new_log(nc);
        train_go(g, dev, nc, -1, &tc, &dt->train, NULL, true);
        ck_assert_msg(g->n == 2 * SPE + 1, "%s: %zu snapshots, expected one per step (%d)", name, g->n, 2 * SPE + 1);
        size_t off[4], len[4];
        tensors(nc, off, len);
        for (size_t k = 1; k < g->n; k++) {
            ck_assert_int_eq(g->info[k].step, k);
            for (int l = 0; l < 2; l++) {
                const float *now = g->params[k], *before = g->params[k - 1];
                double dW = sq_diff(now + off[2 * l], before + off[2 * l], len[2 * l]);
                double db = sq_diff(now + off[2 * l + 1], before + off[2 * l + 1], len[2 * l + 1]);
                double W0 = sq_diff(before + off[2 * l], NULL, len[2 * l]);
                double ratio = sqrt(dW / W0), norm = sqrt(dW + db) / lr;
                const nncl_layer_stats *s = &g->info[k].layer[l];
                ck_assert_msg(fabs(s->update_ratio - ratio) <= 1e-3 * ratio,
                              "%s: step %zu layer %d: update ratio %.7g, ||W_t - W_t-1|| / ||W_t-1|| = %.7g", name, k,
                              l, (double)s->update_ratio, ratio);
                ck_assert_msg(fabs(s->grad_norm - norm) <= 1e-3 * norm,
                              "%s: step %zu layer %d: grad norm %.7g, ||P_t - P_t-1|| / lr = %.7g", name, k, l,
                              (double)s->grad_norm, norm);
            }
        }
        ck_assert_msg(memcmp(g->params[g->n - 1], g->final, g->P * sizeof(float)) == 0,
                      "%s: the last snapshot's parameters are not the trained ones", name);
        free_log(g);
        free_data(dt);
        nncl_device_close(dev);
    }
}
END_TEST

/* Stopped from a hook: at a scheduled snapshot (no second one at that
 * step), and between two (one more where it stopped). */
START_TEST(interrupted_runs_end_with_a_snapshot)
{
    const nncl_net_config *nc = &NET2083;
    int idx[2], nd = test_train_devices(idx);
    for (int d = 0; d < nd; d++) {
        nncl_device *dev = test_open(idx[d]);
        const char *name = nncl_device_get_info(dev)->name;
        data *dt = upload_data(dev);

        /* stop at the third snapshot (step 5), no probe, fixed ranges */
        const float ranges[2] = {0.25f, 0.5f};
        nncl_train_config tc = base_config(7, NULL);
        tc.hist_range = ranges;
        run_log *g = new_log(nc);
        g->stop_after_snapshots = 3;
        train_go(g, dev, nc, -1, &tc, &dt->train, &dt->val, true);
        ck_assert_msg(g->res.status == NNCL_RUN_INTERRUPTED, "%s: status %s, expected interrupted", name,
                      nncl_run_status_name(g->res.status));
        ck_assert_msg(g->n == 3 && g->info[0].step == 0 && g->info[1].step == 3 && g->info[2].step == 5,
                      "%s: stopped at the snapshot of step 5: %zu snapshots (last at %llu), expected 3 at 0, 3, 5",
                      name, g->n, (unsigned long long)g->info[g->n - 1].step);
        ck_assert_msg(memcmp(g->params[g->n - 1], g->final, g->P * sizeof(float)) == 0,
                      "%s: the last snapshot's parameters are not the trained ones", name);
        for (size_t k = 0; k < g->n; k++)
            ck_assert_msg(isnan(g->info[k].val_loss) && isnan(g->info[k].val_accuracy) &&
                              isnan(g->info[k].layer[0].dead_fraction),
                          "%s: snapshot %zu without a probe: val %g / %g, dead %g, expected NaN", name, k,
                          (double)g->info[k].val_loss, (double)g->info[k].val_accuracy,
                          (double)g->info[k].layer[0].dead_fraction);
        expect_stats_of_params(name, nc, g, ranges);
        free_log(g);

        /* stop after step 7, between the snapshots of steps 5 and 8 */
        tc = base_config(7, &dt->val);
        g = new_log(nc);
        g->stop_at_step = 7;
        train_go(g, dev, nc, -1, &tc, &dt->train, &dt->val, true);
        ck_assert_msg(g->res.status == NNCL_RUN_INTERRUPTED, "%s: status %s, expected interrupted", name,
                      nncl_run_status_name(g->res.status));
        ck_assert_msg(g->n == 4 && g->info[2].step == 5 && g->info[3].step == 7,
                      "%s: stopped after step 7: %zu snapshots (last at %llu), expected 4, the last at 7", name, g->n,
                      (unsigned long long)g->info[g->n - 1].step);
        const nncl_snapshot_info *last = &g->info[3];
        ck_assert_msg(fabsf(last->epoch - 1.4f) <= 1e-6f && last->lr == step_lr(&tc.schedule, 7),
                      "%s: the stop snapshot: epoch %g, lr %g, expected 1.4 and step 7's %g", name, (double)last->epoch,
                      (double)last->lr, (double)step_lr(&tc.schedule, 7));
        ck_assert_msg(isfinite(last->train_loss) && last->train_loss > 0 && isfinite(last->val_loss),
                      "%s: the stop snapshot: train loss %g, val loss %g", name, (double)last->train_loss,
                      (double)last->val_loss);
        ck_assert_msg(memcmp(g->params[3], g->final, g->P * sizeof(float)) == 0,
                      "%s: the stop snapshot's parameters are not the trained ones", name);
        expect_stats_of_params(name, nc, g, NULL);
        free_log(g);
        free_data(dt);
        nncl_device_close(dev);
    }
}
END_TEST

/* Early stopping on a validation set whose labels are shifted, so that its
 * loss grows as training learns: the run stops after epoch 2 (step 10) and
 * takes a last snapshot there, before the best weights are restored. */
START_TEST(early_stopped_runs_end_with_a_snapshot)
{
    const nncl_net_config *nc = &NET2083;
    int idx[2], nd = test_train_devices(idx);
    for (int d = 0; d < nd; d++) {
        nncl_device *dev = test_open(idx[d]);
        const char *name = nncl_device_get_info(dev)->name;
        data *dt = upload_data(dev);
        nncl_train_config tc = base_config(2, &dt->flipped);
        tc.early_stop = 1;
        run_log *g = new_log(nc);
        train_go(g, dev, nc, -1, &tc, &dt->train, &dt->flipped, true);
        ck_assert_msg(g->n_epochs == 2 && g->epoch[1].val_loss >= g->epoch[0].val_loss,
                      "%s: test set-up: expected early stopping after epoch 2 (%d epochs, val %g then %g)", name,
                      g->n_epochs, g->epoch[0].val_loss, g->n_epochs > 1 ? g->epoch[1].val_loss : NAN);
        ck_assert_msg(g->n == 2 && g->info[0].step == 0 && g->info[1].step == 2 * SPE,
                      "%s: early stopped at step %d: %zu snapshots (last at %llu), expected 0 and %d", name, 2 * SPE,
                      g->n, (unsigned long long)g->info[g->n - 1].step, 2 * SPE);
        const nncl_snapshot_info *last = &g->info[1];
        const nncl_epoch_metrics *m = &g->epoch[1];
        ck_assert_msg(fabsf(last->epoch - 2.0f) <= 1e-6f && last->train_loss == (float)m->train_loss &&
                          last->train_accuracy == (float)m->train_accuracy && last->val_loss == (float)m->val_loss &&
                          last->val_accuracy == (float)m->val_accuracy,
                      "%s: the stop snapshot: epoch %g, train %g / %g, val %g / %g; epoch 2 says train %g / %g, val %g / %g",
                      name, (double)last->epoch, (double)last->train_loss, (double)last->train_accuracy,
                      (double)last->val_loss, (double)last->val_accuracy, m->train_loss, m->train_accuracy, m->val_loss,
                      m->val_accuracy);
        ck_assert_msg(memcmp(g->params[1], g->final, g->P * sizeof(float)) != 0,
                      "%s: the stop snapshot holds the restored (epoch 1) weights, not those of step 10", name);
        expect_stats_of_params(name, nc, g, NULL);
        free_log(g);
        free_data(dt);
        nncl_device_close(dev);
    }
}
END_TEST

/* Dead units at snapshot 0: hidden biases of -100 kill a ReLU layer; the
 * other hidden layer is counted on the host; the output layer and sigmoid
 * networks have none (NaN). */
START_TEST(dead_units)
{
    int idx[2], nd = test_train_devices(idx);
    for (int d = 0; d < nd; d++) {
        nncl_device *dev = test_open(idx[d]);
        const char *name = nncl_device_get_info(dev)->name;
        data *dt = upload_data(dev);
        nncl_train_config tc = base_config(2, &dt->val);
        tc.epochs = 1;

        run_log *g = new_log(&NET2083);
        train_go(g, dev, &NET2083, 0, &tc, &dt->train, NULL, true);
        ck_assert_msg(g->info[0].layer[0].dead_fraction == 1.0f && isnan(g->info[0].layer[1].dead_fraction),
                      "%s: hidden biases -100: dead fractions %g, %g, expected 1 and NaN (output)", name,
                      (double)g->info[0].layer[0].dead_fraction, (double)g->info[0].layer[1].dead_fraction);
        free_log(g);

        const nncl_net_config deep = {.layers = 3, .sizes = {COLS, 8, 6, CLASSES}, .act = NNCL_ACT_RELU,
                                      .task = NNCL_TASK_CLASSIFY};
        g = new_log(&deep);
        train_go(g, dev, &deep, 1, &tc, &dt->train, NULL, true);
        const nncl_snapshot_info *in = &g->info[0];
        ck_assert_msg(in->layer[1].dead_fraction == 1.0f && isnan(in->layer[2].dead_fraction) &&
                          in->layer[0].dead_fraction < 1,
                      "%s: 20-8-6-3, second hidden layer's biases -100: dead fractions %g, %g, %g, expected < 1, 1, NaN",
                      name, (double)in->layer[0].dead_fraction, (double)in->layer[1].dead_fraction,
                      (double)in->layer[2].dead_fraction);
        expect_dead_on_host(name, &deep, g->params[0], dt, in->layer[0].dead_fraction);
        free_log(g);

        nncl_net_config sig = NET2083;
        sig.act = NNCL_ACT_SIGMOID;
        g = new_log(&sig);
        train_go(g, dev, &sig, 0, &tc, &dt->train, NULL, true);
        for (size_t k = 0; k < g->n; k++)
            ck_assert_msg(isnan(g->info[k].layer[0].dead_fraction) && isnan(g->info[k].layer[1].dead_fraction),
                          "%s: sigmoid snapshot %zu: dead fractions %g, %g, expected NaN", name, k,
                          (double)g->info[k].layer[0].dead_fraction, (double)g->info[k].layer[1].dead_fraction);
        ck_assert_msg(isfinite(g->info[0].val_loss), "%s: sigmoid: no val loss", name);
        free_log(g);
        free_data(dt);
        nncl_device_close(dev);
    }
}
END_TEST

/* The extra snapshot where a run stopped early (here after step 7) has that
 * step's gradient norm: the gradient buffer still holds it. */
START_TEST(stop_snapshot_has_the_last_steps_gradient_norm)
{
    const nncl_net_config *nc = &NET2083;
    nncl_device *dev = test_host_device();
    data *dt = upload_data(dev);
    nncl_train_config tc = base_config(7, &dt->val);
    run_log *g = new_log(nc);
    g->stop_at_step = 7;
    train_go(g, dev, nc, -1, &tc, &dt->train, &dt->val, true);
    ck_assert_msg(g->n == 4 && g->info[3].step == 7, "stopped after step 7: %zu snapshots, expected 4", g->n);
    for (int l = 0; l < 2; l++)
        ck_assert_msg(isfinite(g->info[3].layer[l].grad_norm) && g->info[3].layer[l].grad_norm > 0,
                      "the snapshot where training stopped (step 7) has grad norm %g for layer %d, expected "
                      "step 7's (finite, > 0)",
                      (double)g->info[3].layer[l].grad_norm, l);
    free_log(g);
    free_data(dt);
    nncl_device_close(dev);
}
END_TEST

/* A leaky ReLU layer whose units are all negative (about -1 here, never 0,
 * still passing gradient with slope 0.01) is not dead: dead_fraction is
 * for plain ReLUs only. */
START_TEST(leaky_relu_units_are_not_dead)
{
    nncl_device *dev = test_host_device();
    data *dt = upload_data(dev);
    nncl_train_config tc = base_config(2, &dt->val);
    tc.epochs = 1;
    nncl_net_config leaky = NET2083;
    leaky.act = NNCL_ACT_LEAKY_RELU;
    leaky.act_param = 0.01f;
    run_log *g = new_log(&leaky);
    train_go(g, dev, &leaky, 0, &tc, &dt->train, NULL, true);
    float dead = g->info[0].layer[0].dead_fraction;
    ck_assert_msg(isnan(dead) || dead == 0.0f,
                  "leaky ReLU (slope 0.01), hidden biases -100: dead fraction %g, expected 0 (no unit is 0 on "
                  "any row) or NaN (not a ReLU)",
                  (double)dead);
    free_log(g);
    free_data(dt);
    nncl_device_close(dev);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("snapshot");
    TCase *unit = tcase_create("unit");
    tcase_add_test(unit, schedule_spreads_steps_evenly);
    tcase_add_test(unit, stats_match_hand_computed_values);
    suite_add_tcase(s, unit);
    TCase *file = tcase_create("file");
    tcase_add_unchecked_fixture(file, make_root, test_tmpdir_remove);
    tcase_add_test(file, file_round_trip);
    tcase_add_test(file, quantisation_of_special_values);
    tcase_add_test(file, writer_refuses_an_existing_file);
    tcase_add_test(file, reader_refuses_damaged_files);
    suite_add_tcase(s, file);
    TCase *train = tcase_create("train");
    tcase_set_timeout(train, 300);
    tcase_add_test(train, snapshots_follow_the_schedule_without_changing_training);
    tcase_add_test(train, gradient_norms_and_update_ratios_match_the_steps);
    tcase_add_test(train, interrupted_runs_end_with_a_snapshot);
    tcase_add_test(train, early_stopped_runs_end_with_a_snapshot);
    tcase_add_test(train, dead_units);
    tcase_add_test(train, stop_snapshot_has_the_last_steps_gradient_norm);
    tcase_add_test(train, leaky_relu_units_are_not_dead);
    suite_add_tcase(s, train);
    return test_run_suite(s);
}
