/* The training video and still (src/report/video.c, frame_draw.c,
 * gif_writer.c) on run records built by hand: the files decode with the
 * size and frame count expected, the frames are not blank and change, the
 * colour scale hits its stops exactly, and every failure leaves nothing
 * behind and any existing file untouched. MP4 and WebM are checked with
 * ffprobe when ffmpeg is installed. A layer list (a CNN): the report's data
 * holds its layers and its first convolution's filters read at the offsets
 * of its tensors, no dense frames, and the pictures refuse it. */
#include <dirent.h>
#include <errno.h>
#include <gif_lib.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report/frame_draw.h"
#include "report/gif_writer.h"
#include "report/report_json.h"
#include "report/video.h"
#include "test_util.h"
#include "util/base64.h"

/* ---- synthetic runs ------------------------------------------------------------- */

typedef struct spec {
    int layers;
    size_t sizes[4];
    int ih, iw;                 /* image inputs, or 0 */
    nncl_task task;
    size_t snaps;               /* 0: the final model alone */
    const char *name;
} spec;

static const char *DIGITS[] = {"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"};
static const char *FEATURES[] = {"sepal length (cm)", "sepal width (cm)", "petal length (cm)",
                                 "petal width (cm)"};
static const char *IRIS[] = {"setosa", "versicolor", "virginica"};

/* A small deterministic noise in [-1, 1]. */
static double noise(uint64_t x)
{
    x = (x ^ (x >> 33)) * 0xff51afd7ed558ccdULL;
    x = (x ^ (x >> 33)) * 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return (double)(x >> 11) / (double)(1ULL << 52) - 1.0;
}

/* Weight i -> j of layer l at training progress t in [0, 1]: noise that
 * shrinks plus structure that grows (for images, a blob per unit), so the
 * frames differ and look like something. */
static float synth_weight(const spec *sp, int l, size_t j, size_t i, double t)
{
    double w = 0.15 * noise((uint64_t)l * 1000003u + j * 7919u + i * 104729u + 1);
    if (l == 0 && sp->ih > 0) {
        double y = (double)(i / (size_t)sp->iw) / sp->ih, x = (double)(i % (size_t)sp->iw) / sp->iw;
        double cy = 0.3 + 0.4 * (0.5 + 0.5 * noise(j * 31 + 7)), cx = 0.3 + 0.4 * (0.5 + 0.5 * noise(j * 17 + 3));
        double r2 = ((x - cx) * (x - cx) + (y - cy) * (y - cy)) / 0.02;
        w = (1.0 - 0.7 * t) * w + t * (exp(-r2) - 0.5 * exp(-r2 / 4)) * (j % 2 ? 1 : -1);
    } else {
        w = (1.0 - 0.6 * t) * w + t * noise((uint64_t)l * 31337u + j * 131u + i * 7u + 5);
    }
    return (float)w;
}

static size_t param_count(const spec *sp)
{
    size_t n = 0;
    for (int l = 0; l < sp->layers; l++)
        n += sp->sizes[l + 1] * (sp->sizes[l] + 1);
    return n;
}

static void synth_params(const spec *sp, double t, float *out)
{
    size_t off = 0;
    for (int l = 0; l < sp->layers; l++) {
        size_t in = sp->sizes[l], o = sp->sizes[l + 1];
        for (size_t j = 0; j < o; j++)
            for (size_t i = 0; i < in; i++)
                out[off++] = synth_weight(sp, l, j, i, t);
        for (size_t j = 0; j < o; j++)
            out[off++] = (float)(0.3 * t * noise((uint64_t)l * 77u + j * 13u + 99));
    }
}

static char **names(const char **src, size_t n)
{
    char **out = calloc(n, sizeof *out);
    for (size_t i = 0; i < n; i++)
        out[i] = strdup(src[i]);
    return out;
}

static void build(const spec *sp, run_record *r)
{
    memset(r, 0, sizeof *r);
    snprintf(r->dir, sizeof r->dir, "/runs/20261130-015212Z-%s/", sp->name);
    r->cfg.layers = sp->layers;
    for (int l = 0; l <= sp->layers; l++)
        r->cfg.sizes[l] = sp->sizes[l];
    r->cfg.act = NNCL_ACT_RELU;
    r->cfg.task = sp->task;
    r->image_h = sp->ih;
    r->image_w = sp->iw;
    size_t outputs = sp->sizes[sp->layers];
    if (sp->task == NNCL_TASK_CLASSIFY) {
        r->num_classes = (int)outputs;
        r->class_names = names(outputs == 3 ? IRIS : DIGITS, outputs);
    }
    if (sp->ih == 0 && sp->sizes[0] == 4)
        r->feature_names = names(FEATURES, 4);
    size_t n = param_count(sp);
    float *p = malloc(n * sizeof *p);
    if (sp->snaps == 0) {
        synth_params(sp, 1.0, p);
        r->has_model = true;
        r->model.params = p;
        r->model.n_params = n;
        r->model.cfg = r->cfg;
        return;
    }
    nncl_snapshots *s = &r->snaps;
    s->layers = sp->layers;
    for (int l = 0; l <= sp->layers; l++)
        s->sizes[l] = sp->sizes[l];
    s->n_params = n;
    s->count = sp->snaps;
    s->info = calloc(s->count, sizeof *s->info);
    s->scale = calloc(s->count * 2 * sp->layers, sizeof *s->scale);
    s->q = malloc(s->count * n);
    for (size_t k = 0; k < s->count; k++) {
        double t = s->count > 1 ? (double)k / (s->count - 1) : 1.0;
        synth_params(sp, t, p);
        /* quantised per tensor, as snapshots.bin stores them */
        size_t off = 0;
        for (int l = 0; l < sp->layers; l++) {
            size_t len[2] = {sp->sizes[l + 1] * sp->sizes[l], sp->sizes[l + 1]};
            for (int b = 0; b < 2; b++) {
                float m = 0.0f;
                for (size_t i = 0; i < len[b]; i++)
                    m = fmaxf(m, fabsf(p[off + i]));
                float sc = m > 0.0f ? m / 127.0f : 1.0f;
                s->scale[k * 2 * sp->layers + 2 * l + b] = sc;
                for (size_t i = 0; i < len[b]; i++)
                    s->q[k * n + off + i] = (uint8_t)(lrintf(p[off + i] / sc) + 128);
                off += len[b];
            }
        }
        nncl_snapshot_info *in = &s->info[k];
        in->step = (uint64_t)(k * 211);
        in->epoch = (float)k * 0.5f;
        in->train_loss = k == 0 ? NAN : (float)(2.3 * exp(-0.6 * k) + 0.05);
        in->train_accuracy = k == 0 ? NAN : (float)(1.0 - 0.9 * exp(-0.6 * k));
        in->val_loss = (float)(2.3 * exp(-0.5 * k) + 0.1);
        in->val_accuracy = (float)(1.0 - 0.9 * exp(-0.5 * k) - 0.02);
        in->lr = 0.002f;
    }
    free(p);
}

static void release(run_record *r)
{
    for (int i = 0; r->class_names && i < r->num_classes; i++)
        free(r->class_names[i]);
    free(r->class_names);
    for (size_t i = 0; r->feature_names && i < 4; i++)
        free(r->feature_names[i]);
    free(r->feature_names);
    free(r->model.params);
    free(r->snaps.info);
    free(r->snaps.scale);
    free(r->snaps.q);
}

static const spec MNIST = {2, {784, 16, 10}, 28, 28, NNCL_TASK_CLASSIFY, 6, "mnist-16"};
static const spec IRIS_TABLE = {2, {4, 5, 3}, 0, 0, NNCL_TASK_CLASSIFY, 4, "iris"};
static const spec REGRESSION = {2, {3, 8, 1}, 0, 0, NNCL_TASK_REGRESS, 3, "regress"};
static const spec MODEL_ONLY = {2, {784, 16, 10}, 28, 28, NNCL_TASK_CLASSIFY, 0, "no-snapshots"};

/* ---- files ------------------------------------------------------------------------ */

/* One folder for the whole run, made and removed by the parent process (so
 * that a failed test, which ends its forked child, leaves nothing either);
 * each test works in a fresh folder inside it. */
static char root[128];
static char tmpdir[256];

static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char p[1024];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat sb;
        if (lstat(p, &sb) == 0 && S_ISDIR(sb.st_mode))
            remove_tree(p);
        else
            unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

static void make_root(void)
{
    snprintf(root, sizeof root, "/tmp/nncl-test-video-XXXXXX");
    if (!mkdtemp(root)) {
        perror("test_video: mkdtemp");
        exit(EXIT_FAILURE);
    }
}

static void remove_root(void)
{
    remove_tree(root);
}

static void make_tmpdir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "%s/t-XXXXXX", root);
    ck_assert_msg(mkdtemp(tmpdir) != NULL, "mkdtemp: %s", strerror(errno));
}

static void cleanup(void)
{
    if (tmpdir[0])
        remove_tree(tmpdir);
    tmpdir[0] = '\0';
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    ck_assert_msg(d != NULL, "%s: %s", dir, strerror(errno));
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

static void path_in(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", tmpdir, name);
}

static void write_text(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
    fputs(text, f);
    fclose(f);
    chmod(path, mode);
}

static void expect_content(const char *path, const char *text)
{
    char buf[256] = "";
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "%s is gone", path);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    ck_assert_msg(strcmp(buf, text) == 0, "%s was changed to \"%s\"", path, buf);
}

/* PATH is changed to test the ffmpeg look-up; put it back for the tests
 * after (they share the process under CK_FORK=no). */
static char *save_path(void)
{
    const char *p = getenv("PATH");
    return p ? strdup(p) : NULL;
}

static void restore_path(char *saved)
{
    if (saved)
        setenv("PATH", saved, 1);
    else
        unsetenv("PATH");
    free(saved);
}

static bool have_program(const char *name)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", name);
    return system(cmd) == 0;
}

/* Pixels of a PNG, and how many are not white and how many are coloured. */
static void png_stats(const char *path, int *w, int *h, long *non_white, long *coloured)
{
    cairo_surface_t *sf = cairo_image_surface_create_from_png(path);
    ck_assert_msg(cairo_surface_status(sf) == CAIRO_STATUS_SUCCESS, "%s does not decode: %s", path,
                  cairo_status_to_string(cairo_surface_status(sf)));
    *w = cairo_image_surface_get_width(sf);
    *h = cairo_image_surface_get_height(sf);
    const uint8_t *px = cairo_image_surface_get_data(sf);
    int stride = cairo_image_surface_get_stride(sf);
    *non_white = *coloured = 0;
    for (int y = 0; y < *h; y++)
        for (int x = 0; x < *w; x++) {
            uint32_t p = *(const uint32_t *)(px + (size_t)y * stride + 4 * (size_t)x);
            int r = (p >> 16) & 255, g = (p >> 8) & 255, b = p & 255;
            *non_white += (p & 0xFFFFFF) != 0xFFFFFF;
            *coloured += abs(r - g) > 24 || abs(g - b) > 24;
        }
    cairo_surface_destroy(sf);
}

/* ---- tests ------------------------------------------------------------------------ */

START_TEST(formats_by_extension)
{
    static const struct { const char *path; video_format f; } ok[] = {
        {"a.gif", VIDEO_GIF}, {"out/run.MP4", VIDEO_MP4}, {"x.y/z.WebM", VIDEO_WEBM},
        {"/tmp/final.png", VIDEO_PNG}, {"my run.Gif", VIDEO_GIF}};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        video_format f = VIDEO_PNG + 1;
        ck_assert_ok(video_format_of(ok[i].path, &f));
        ck_assert_msg(f == ok[i].f, "%s: format %d, expected %d", ok[i].path, (int)f, (int)ok[i].f);
    }
    video_format f;
    ck_assert_int_eq(video_format_of("movie.avi", &f), NNCL_E_INVALID);
    ck_assert_msg(strstr(nncl_last_error(), ".avi") && strstr(nncl_last_error(), ".gif") &&
                      strstr(nncl_last_error(), ".webm"),
                  "message: %s", nncl_last_error());
    ck_assert_int_eq(video_format_of("movie", &f), NNCL_E_INVALID);
    ck_assert_msg(strstr(nncl_last_error(), "no file extension"), "message: %s", nncl_last_error());
    ck_assert_int_eq(video_format_of("dir.gif/movie", &f), NNCL_E_INVALID);
    ck_assert_int_eq(video_format_of("movie.gif.txt", &f), NNCL_E_INVALID);
}
END_TEST

START_TEST(colour_scale_hits_its_stops)
{
    uint8_t c[3];
    frame_color_rgb(-1.0, c);
    ck_assert_msg(c[0] == 0x05 && c[1] == 0x30 && c[2] == 0x61, "-1 -> #%02x%02x%02x", c[0], c[1], c[2]);
    frame_color_rgb(0.0, c);
    ck_assert_msg(c[0] == 0xf7 && c[1] == 0xf7 && c[2] == 0xf7, "0 -> #%02x%02x%02x", c[0], c[1], c[2]);
    frame_color_rgb(1.0, c);
    ck_assert_msg(c[0] == 0x67 && c[1] == 0x00 && c[2] == 0x1f, "+1 -> #%02x%02x%02x", c[0], c[1], c[2]);
    frame_color_rgb(0.2, c);
    ck_assert_msg(c[0] == 0xfd && c[1] == 0xdb && c[2] == 0xc7, "0.2 -> #%02x%02x%02x", c[0], c[1], c[2]);
    frame_color_rgb(-0.8, c);
    ck_assert_msg(c[0] == 0x21 && c[1] == 0x66 && c[2] == 0xac, "-0.8 -> #%02x%02x%02x", c[0], c[1], c[2]);
    frame_color_rgb(-7.0, c);       /* clipped */
    ck_assert_msg(c[0] == 0x05 && c[1] == 0x30 && c[2] == 0x61, "-7 -> #%02x%02x%02x", c[0], c[1], c[2]);
    frame_color_rgb(3.0, c);
    ck_assert_msg(c[0] == 0x67 && c[1] == 0x00 && c[2] == 0x1f, "+3 -> #%02x%02x%02x", c[0], c[1], c[2]);
    /* halfway between #f7f7f7 and #fddbc7 */
    frame_color_rgb(0.1, c);
    ck_assert_msg(c[0] == 0xfa && c[1] == 0xe9 && c[2] == 0xdf, "0.1 -> #%02x%02x%02x", c[0], c[1], c[2]);

    /* the clamp: the 99th percentile of |v|, nearest rank */
    float v[200], scratch[200];
    for (int i = 0; i < 200; i++)
        v[i] = (float)((i % 2 ? -1 : 1) * (i + 1));
    ck_assert_float_eq(frame_clamp(v, 200, scratch), 198.0f);
    for (int i = 0; i < 200; i++)
        v[i] = 0.0f;
    ck_assert_float_eq(frame_clamp(v, 200, scratch), 1.0f);
    v[7] = -0.5f;                   /* one value: the 99th percentile is 0, the largest is not */
    ck_assert_float_eq(frame_clamp(v, 200, scratch), 0.5f);

    /* GIF delays add up to the frame rate's total */
    int total = 0;
    for (size_t k = 0; k < 8; k++)
        total += gif_delay_cs(8.0, k);
    ck_assert_int_eq(total, 100);
}
END_TEST

START_TEST(clamps_come_from_the_last_frame)
{
    run_record r;
    build(&MNIST, &r);
    frame_drawer *d;
    ck_assert_ok(frame_drawer_create(&r, 960, 540, &d));
    float *p = malloc(r.snaps.n_params * sizeof *p), *scratch = malloc(784 * 16 * sizeof *scratch);
    run_record_frame_params(&r, r.snaps.count - 1, p);
    ck_assert_float_eq(frame_drawer_weight_clamp(d, 0), frame_clamp(p, 784 * 16, scratch));
    ck_assert_float_eq(frame_drawer_bias_clamp(d, 1), frame_clamp(p + 784 * 16 + 16 + 160, 10, scratch));
    /* the first frame's weights are smaller than the clamp: the movie shows them grow */
    run_record_frame_params(&r, 0, p);
    ck_assert_float_lt(frame_clamp(p, 784 * 16, scratch), frame_drawer_weight_clamp(d, 0));
    ck_assert_int_eq(frame_drawer_draw(d, r.snaps.count), NNCL_E_INVALID);
    frame_drawer_free(d);
    free(p);
    free(scratch);
    release(&r);
}
END_TEST

static void expect_png(const spec *sp, int width, int height)
{
    run_record r;
    build(sp, &r);
    char path[512];
    path_in(path, sizeof path, "final.png");
    video_options o = {.width = width, .height = height};
    ck_assert_ok(report_write_png(&r, path, width ? &o : NULL));
    int w, h;
    long non_white, coloured;
    png_stats(path, &w, &h, &non_white, &coloured);
    ck_assert_int_eq(w, width ? width : 960);
    ck_assert_int_eq(h, height ? height : 540);
    /* text, nodes, edges, tiles: far from blank, and in colour */
    ck_assert_msg(non_white > (long)w * h / 25, "%s: only %ld of %d pixels are not white", sp->name, non_white, w * h);
    ck_assert_msg(coloured > (long)w * h / 200, "%s: only %ld coloured pixels", sp->name, coloured);
    ck_assert_int_eq(count_entries(tmpdir), 1);
    unlink(path);
    release(&r);
}

START_TEST(png_of_each_kind_of_run)
{
    make_tmpdir();
    expect_png(&MNIST, 0, 0);
    expect_png(&IRIS_TABLE, 0, 0);
    expect_png(&REGRESSION, 0, 0);
    expect_png(&MODEL_ONLY, 0, 0);
    expect_png(&MNIST, 640, 360);
    expect_png(&IRIS_TABLE, 1280, 720);

    /* one side given: 16:9 */
    run_record r;
    build(&REGRESSION, &r);
    char path[512];
    path_in(path, sizeof path, "wide.png");
    video_options o = {.width = 1280};
    ck_assert_ok(report_write_png(&r, path, &o));
    cairo_surface_t *sf = cairo_image_surface_create_from_png(path);
    ck_assert_int_eq(cairo_image_surface_get_width(sf), 1280);
    ck_assert_int_eq(cairo_image_surface_get_height(sf), 720);
    cairo_surface_destroy(sf);
    release(&r);
    cleanup();
}
END_TEST

static size_t progress_calls, progress_last, progress_total;

static void on_progress(void *ctx, size_t done, size_t total)
{
    (void)ctx;
    progress_calls++;
    progress_last = done;
    progress_total = total;
}

static bool has_loop_extension(const SavedImage *im)
{
    for (int i = 0; i + 1 < im->ExtensionBlockCount; i++) {
        const ExtensionBlock *a = &im->ExtensionBlocks[i], *b = &im->ExtensionBlocks[i + 1];
        if (a->Function == APPLICATION_EXT_FUNC_CODE && a->ByteCount == 11 &&
            memcmp(a->Bytes, "NETSCAPE2.0", 11) == 0 && b->Function == CONTINUE_EXT_FUNC_CODE &&
            b->ByteCount == 3 && b->Bytes[0] == 1 && b->Bytes[1] == 0 && b->Bytes[2] == 0)
            return true;
    }
    return false;
}

static void expect_gif(const spec *sp)
{
    run_record r;
    build(sp, &r);
    char path[512];
    path_in(path, sizeof path, "training.gif");
    progress_calls = 0;
    video_options o = {.progress = on_progress};
    ck_assert_ok(report_write_video(&r, path, &o));
    size_t frames = run_record_frames(&r);
    ck_assert_uint_eq(progress_calls, frames);
    ck_assert_uint_eq(progress_last, frames);
    ck_assert_uint_eq(progress_total, frames);
    ck_assert_int_eq(count_entries(tmpdir), 1);

    int err = 0;
    GifFileType *gif = DGifOpenFileName(path, &err);
    ck_assert_msg(gif != NULL, "%s: %s", path, GifErrorString(err));
    ck_assert_msg(DGifSlurp(gif) == GIF_OK, "%s: %s", path, GifErrorString(gif->Error));
    ck_assert_int_eq(gif->SWidth, 960);
    ck_assert_int_eq(gif->SHeight, 540);
    ck_assert_int_eq(gif->ImageCount, (int)frames);
    ck_assert_msg(gif->SColorMap && gif->SColorMap->ColorCount == 256, "no global palette of 256 colours");
    ck_assert_msg(has_loop_extension(&gif->SavedImages[0]), "no NETSCAPE2.0 loop extension");
    /* Compose the frames as a viewer does: the first is whole, later ones
     * cover a rectangle with their transparent pixels left as they were. */
    size_t px = 960 * 540;
    GifByteType *canvas = malloc(px), *first = malloc(px), *before = malloc(px);
    const GifColorType *map = gif->SColorMap->Colors;
    for (int i = 0; i < gif->ImageCount; i++) {
        const SavedImage *im = &gif->SavedImages[i];
        const GifImageDesc *id = &im->ImageDesc;
        GraphicsControlBlock gcb;
        ck_assert_int_eq(DGifSavedExtensionToGCB(gif, i, &gcb), GIF_OK);
        ck_assert_msg(gcb.DelayTime == 12 || gcb.DelayTime == 13, "frame %d lasts %d cs at 8 fps", i, gcb.DelayTime);
        ck_assert_int_eq(gcb.DisposalMode, DISPOSE_DO_NOT);
        if (i == 0) {
            ck_assert_msg(id->Left == 0 && id->Top == 0 && id->Width == 960 && id->Height == 540,
                          "frame 0 covers %dx%d at %d,%d", id->Width, id->Height, id->Left, id->Top);
            ck_assert_int_eq(gcb.TransparentColor, NO_TRANSPARENT_COLOR);
        }
        ck_assert_msg(id->Left >= 0 && id->Top >= 0 && id->Left + id->Width <= 960 && id->Top + id->Height <= 540,
                      "frame %d: %dx%d at %d,%d is outside the screen", i, id->Width, id->Height, id->Left, id->Top);
        memcpy(before, canvas, px);
        for (int y = 0; y < id->Height; y++)
            for (int x = 0; x < id->Width; x++) {
                GifByteType c = im->RasterBits[(size_t)y * id->Width + x];
                if (c != gcb.TransparentColor)
                    canvas[(size_t)(id->Top + y) * 960 + id->Left + x] = c;
            }
        if (i == 0)
            memcpy(first, canvas, px);
        /* each frame differs from the one before: the weights and the cursor move */
        else
            ck_assert_msg(memcmp(canvas, before, px) != 0, "frames %d and %d are the same", i - 1, i);
    }
    if (gif->ImageCount > 1) {
        size_t differ = 0;
        for (size_t i = 0; i < px; i++)
            differ += first[i] != canvas[i];
        ck_assert_msg(differ > px / 100, "the first and last frames differ in only %zu pixels", differ);
    }
    /* not blank: the white entry is not everything */
    size_t white = 0;
    for (size_t i = 0; i < px; i++) {
        const GifColorType *c = &map[first[i]];
        white += c->Red == 255 && c->Green == 255 && c->Blue == 255;
    }
    ck_assert_msg(white < px * 24 / 25, "frame 0 is %zu of %zu white", white, px);
    /* the composed last frame is the drawn one, to the palette's precision */
    frame_drawer *d;
    ck_assert_ok(frame_drawer_create(&r, 960, 540, &d));
    ck_assert_ok(frame_drawer_draw(d, frames - 1));
    cairo_surface_t *sf = frame_drawer_surface(d);
    const uint8_t *data = cairo_image_surface_get_data(sf);
    int stride = cairo_image_surface_get_stride(sf);
    double total = 0.0;
    size_t far = 0;
    for (size_t i = 0; i < px; i++) {
        uint32_t p = *(const uint32_t *)(data + (i / 960) * (size_t)stride + 4 * (i % 960));
        const GifColorType *c = &map[canvas[i]];
        int e = abs((int)((p >> 16) & 255) - c->Red) + abs((int)((p >> 8) & 255) - c->Green) +
                abs((int)(p & 255) - c->Blue);
        total += e;
        far += e > 60;
    }
    ck_assert_msg(total / px < 5.0 && far < px / 1000, "%s: the GIF's last frame is off by %.2f per pixel, %zu far",
                  sp->name, total / px, far);
    frame_drawer_free(d);
    free(canvas);
    free(first);
    free(before);
    DGifCloseFile(gif, &err);
    unlink(path);
    release(&r);
}

START_TEST(gif_decodes_with_every_frame)
{
    make_tmpdir();
    expect_gif(&MNIST);
    expect_gif(&IRIS_TABLE);
    expect_gif(&REGRESSION);
    expect_gif(&MODEL_ONLY);
    cleanup();
}
END_TEST

START_TEST(failures_leave_nothing_behind)
{
    make_tmpdir();
    run_record r;
    build(&MNIST, &r);
    char path[512];

    /* a folder that does not exist */
    path_in(path, sizeof path, "missing/training.gif");
    ck_assert_int_eq(report_write_video(&r, path, NULL), NNCL_E_IO);
    ck_assert_msg(strstr(nncl_last_error(), "missing"), "message: %s", nncl_last_error());
    ck_assert_int_eq(report_write_png(&r, path, NULL), NNCL_E_IO);
    ck_assert_int_eq(count_entries(tmpdir), 0);

    /* an existing file stays as it was whatever fails */
    path_in(path, sizeof path, "precious.gif");
    write_text(path, "precious", 0644);
    video_options tiny = {.width = 100, .height = 50};
    ck_assert_int_eq(report_write_video(&r, path, &tiny), NNCL_E_INVALID);
    video_options slow = {.fps = -1};
    ck_assert_int_eq(report_write_video(&r, path, &slow), NNCL_E_INVALID);
    run_record empty;
    memset(&empty, 0, sizeof empty);
    snprintf(empty.dir, sizeof empty.dir, "/runs/empty");
    empty.cfg = r.cfg;
    ck_assert_int_eq(report_write_video(&empty, path, NULL), NNCL_E_INVALID);
    ck_assert_msg(strstr(nncl_last_error(), "/runs/empty"), "message: %s", nncl_last_error());
    /* frames that do not match the network are refused before anything is read */
    r.snaps.n_params--;
    ck_assert_int_eq(report_write_video(&r, path, NULL), NNCL_E_FORMAT);
    ck_assert_msg(strstr(nncl_last_error(), "parameters"), "message: %s", nncl_last_error());
    r.snaps.n_params++;
    expect_content(path, "precious");
    ck_assert_int_eq(count_entries(tmpdir), 1);

    /* odd sizes are refused for yuv420p */
    path_in(path, sizeof path, "odd.mp4");
    video_options odd = {.width = 961, .height = 540};
    ck_assert_int_eq(report_write_video(&r, path, &odd), NNCL_E_INVALID);

    /* an ffmpeg that fails: its words are in the message, and nothing is left */
    char bin[512], script[600];
    path_in(bin, sizeof bin, "bin");
    ck_assert_int_eq(mkdir(bin, 0755), 0);
    snprintf(script, sizeof script, "%s/ffmpeg", bin);
    write_text(script, "#!/bin/sh\necho 'Unknown encoder libx264' >&2\necho 'Conversion failed!' >&2\nexit 1\n",
               0755);
    path_in(path, sizeof path, "precious.mp4");
    write_text(path, "precious", 0644);
    char *saved = save_path();
    ck_assert_int_eq(setenv("PATH", bin, 1), 0);
    ck_assert_int_eq(report_write_video(&r, path, NULL), NNCL_E_IO);
    restore_path(saved);
    ck_assert_msg(strstr(nncl_last_error(), "Conversion failed!") && strstr(nncl_last_error(), "exit status 1"),
                  "message: %s", nncl_last_error());
    expect_content(path, "precious");
    ck_assert_int_eq(count_entries(tmpdir), 3);     /* precious.gif, bin, precious.mp4 */
    release(&r);
    cleanup();
}
END_TEST

START_TEST(mp4_and_webm_need_ffmpeg)
{
    make_tmpdir();
    run_record r;
    build(&MNIST, &r);
    char path[512], empty_dir[512];
    path_in(empty_dir, sizeof empty_dir, "empty");
    ck_assert_int_eq(mkdir(empty_dir, 0755), 0);
    char *saved = save_path();
    ck_assert_int_eq(setenv("PATH", empty_dir, 1), 0);
    const char *exts[] = {"mp4", "webm"};
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/training.%s", tmpdir, exts[i]);
        ck_assert_int_eq(report_write_video(&r, path, NULL), NNCL_E_UNSUPPORTED);
        char want[64];
        snprintf(want, sizeof want, "writing .%s needs ffmpeg on PATH", exts[i]);
        ck_assert_msg(strstr(nncl_last_error(), want) && strstr(nncl_last_error(), "apt-get install ffmpeg") &&
                          strstr(nncl_last_error(), ".gif"),
                      "message: %s", nncl_last_error());
    }
    ck_assert_int_eq(count_entries(tmpdir), 1);
    restore_path(saved);
    release(&r);
    cleanup();
}
END_TEST

START_TEST(mp4_and_webm_with_ffmpeg)
{
    if (!have_program("ffmpeg") || !have_program("ffprobe")) {
        fprintf(stderr, "test_video: ffmpeg or ffprobe is not on PATH: MP4 and WebM not checked\n");
        return;
    }
    make_tmpdir();
    run_record r;
    build(&MNIST, &r);
    const char *exts[] = {"mp4", "webm"};
    for (int i = 0; i < 2; i++) {
        char path[512], cmd[1024], line[128] = "";
        /* a name with a space and a quote: no shell is involved */
        snprintf(path, sizeof path, "%s/my run's video.%s", tmpdir, exts[i]);
        progress_calls = 0;
        video_options o = {.progress = on_progress};
        ck_assert_ok(report_write_video(&r, path, &o));
        ck_assert_uint_eq(progress_calls, 6);
        snprintf(cmd, sizeof cmd,
                 "ffprobe -v error -count_frames -show_entries stream=nb_read_frames,width,height -of csv=p=0 "
                 "\"%s\"",
                 path);
        FILE *p = popen(cmd, "r");
        ck_assert_msg(p != NULL, "popen ffprobe");
        ck_assert_msg(fgets(line, sizeof line, p) != NULL, "ffprobe printed nothing for %s", path);
        pclose(p);
        line[strcspn(line, "\r\n")] = '\0';
        ck_assert_msg(strcmp(line, "960,540,6") == 0, "%s: ffprobe says \"%s\", expected 960,540,6", path, line);
        unlink(path);
        ck_assert_int_eq(count_entries(tmpdir), 0);
    }
    release(&r);
    cleanup();
}
END_TEST

/* ---- a layer list (a CNN): its filters from its tensors, no dense frames ------------------ */

/* conv:4:5, maxpool:2, 16 and the output 10 on 1x28x28 pictures, its model's
 * parameter i being a value of i alone, so a filter read at any other offset
 * (the dense form's sizes[1] x sizes[0], say) shows different numbers. */
static void build_cnn(run_record *r)
{
    memset(r, 0, sizeof *r);
    snprintf(r->dir, sizeof r->dir, "/runs/cnn");
    nncl_net_config *c = &r->cfg;
    c->act = NNCL_ACT_RELU;
    c->task = NNCL_TASK_CLASSIFY;
    c->in_c = 1;
    c->in_h = c->in_w = 28;
    int n = 0;
    ck_assert_ok(nncl_layers_parse("conv:4:5,maxpool:2,16,10", c->specs, NNCL_MAX_SPECS, &n));
    c->n_specs = n;
    ck_assert_ok(nncl_net_config_resolve(c));
    ck_assert(!nncl_net_config_is_dense(c));
    r->image_h = r->image_w = 28;
    r->num_classes = 10;
    r->class_names = names(DIGITS, 10);
    size_t count = 0;
    ck_assert_ok(nncl_net_config_param_count(c, &count));
    r->model.params = malloc(count * sizeof *r->model.params);
    for (size_t i = 0; i < count; i++)
        r->model.params[i] = (float)noise(i + 11);
    r->model.n_params = count;
    r->model.cfg = *c;
    r->has_model = true;
}

static int code_of(char ch) { return (int)(strchr(BASE64_DIGITS, ch) - BASE64_DIGITS); }

START_TEST(layer_list_filters_come_from_its_tensors)
{
    run_record r;
    build_cnn(&r);
    nncl_tensor_info t[NNCL_MAX_TENSORS];
    int nt = 0;
    ck_assert_ok(nncl_net_config_tensors(&r.cfg, t, &nt));
    ck_assert_str_eq(t[0].name, "layers.0.weight");
    ck_assert_str_eq(t[1].name, "layers.0.bias");

    json_t *data = NULL;
    char *codes = NULL;
    size_t codes_len = 1;
    ck_assert_ok(report_data(&r, &data, &codes, &codes_len));
    /* no frames: nothing drawn as dense layers, no codes */
    ck_assert_uint_eq(codes_len, 0);
    ck_assert(json_is_null(json_object_get(data, "frames")));
    json_t *net = json_object_get(data, "net"), *list = json_object_get(net, "layer_list");
    ck_assert_str_eq(json_string_value(json_object_get(net, "form")), "layers");
    ck_assert_uint_eq(json_array_size(json_object_get(net, "layers")), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(net, "n_params")), (json_int_t)r.model.n_params);

    json_t *rows = json_object_get(list, "rows");
    ck_assert_uint_eq(json_array_size(rows), 4);
    const char *want_layers[] = {"conv:4:5", "maxpool:2", "16", "10"};
    const json_int_t want_params[] = {104, 0, 4 * 14 * 14 * 16 + 16, 170}, want_out[] = {4, 4, 16, 10};
    for (size_t i = 0; i < 4; i++) {
        json_t *row = json_array_get(rows, i);
        ck_assert_str_eq(json_string_value(json_object_get(row, "layer")), want_layers[i]);
        ck_assert_int_eq(json_integer_value(json_object_get(row, "params")), want_params[i]);
        ck_assert_int_eq(json_integer_value(json_array_get(json_object_get(row, "out"), 0)), want_out[i]);
    }

    json_t *f = json_object_get(list, "filters");
    ck_assert_msg(json_is_object(f), "no filters: %s", json_string_value(json_object_get(list, "filters_note")));
    const char *fc = json_string_value(json_object_get(f, "codes"));
    double scale = json_real_value(json_object_get(f, "scale"));
    ck_assert_uint_eq(strlen(fc), 100);
    ck_assert(scale > 0);
    const float *w = r.model.params + t[0].offset;
    for (size_t i = 0; i < 100; i++) {
        double want = fmax(-31 * scale, fmin(31 * scale, w[i]));
        ck_assert_msg(fabs((code_of(fc[i]) - 32) * scale - want) <= scale / 2 + 1e-7, "filter weight %zu", i);
    }
    json_t *bias = json_object_get(f, "bias");
    for (size_t k = 0; k < 4; k++)
        ck_assert_float_eq(json_real_value(json_array_get(bias, k)), r.model.params[t[1].offset + k]);
    json_decref(data);
    free(codes);

    /* a vector shorter than its tensors say: no filters, never a read past it */
    json_t *short_list = report_layer_list_json(&r.cfg, r.model.params, t[0].offset + t[0].len - 1);
    ck_assert(json_is_null(json_object_get(short_list, "filters")));
    ck_assert(strstr(json_string_value(json_object_get(short_list, "filters_note")), "do not match"));
    json_decref(short_list);
    /* no model: the layers still, and a note */
    json_t *no_model = report_layer_list_json(&r.cfg, NULL, 0);
    ck_assert_uint_eq(json_array_size(json_object_get(no_model, "rows")), 4);
    ck_assert(strstr(json_string_value(json_object_get(no_model, "filters_note")), "no model"));
    json_decref(no_model);

    /* the video and the still draw dense networks only, and say so */
    make_tmpdir();
    char path[512];
    path_in(path, sizeof path, "cnn.png");
    ck_assert_int_eq(report_write_png(&r, path, NULL), NNCL_E_UNSUPPORTED);
    ck_assert_msg(strstr(nncl_last_error(), "dense networks only"), "message: %s", nncl_last_error());
    ck_assert_int_eq(count_entries(tmpdir), 0);
    cleanup();
    release(&r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("video");
    TCase *tc = tcase_create("video");
    tcase_set_timeout(tc, 300);
    tcase_add_unchecked_fixture(tc, make_root, remove_root);
    tcase_add_test(tc, formats_by_extension);
    tcase_add_test(tc, colour_scale_hits_its_stops);
    tcase_add_test(tc, clamps_come_from_the_last_frame);
    tcase_add_test(tc, png_of_each_kind_of_run);
    tcase_add_test(tc, gif_decodes_with_every_frame);
    tcase_add_test(tc, failures_leave_nothing_behind);
    tcase_add_test(tc, mp4_and_webm_need_ffmpeg);
    tcase_add_test(tc, mp4_and_webm_with_ffmpeg);
    tcase_add_test(tc, layer_list_filters_come_from_its_tensors);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
