/* One frame of the training movie, drawn with cairo (see frame_draw.h).
 *
 * The frame, at 960 x 540 (other sizes scale every length by s):
 *   title     run name, step and epoch, the losses at this frame
 *   left 60%  the network: a column per layer, image inputs as their pixel
 *             grid, node fill = bias, edge colour and width = weight
 *   right 40% layer 1's weights: a tile per unit (images) or a heat map
 *   bottom    the loss curve with a cursor at this frame, the colour legend
 * The static parts (labels, curve, legend) are drawn once into a background
 * surface that each frame starts from. */
#include "report/frame_draw.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nncl/model.h"

#define SHOW_MAX 32         /* nodes drawn per column */
#define SPARSE_EDGES 6      /* incoming edges drawn per node of a dense, wide layer */
#define TILES_MAX 64        /* weight pictures of image inputs */
#define HEAT_FEATURES_MAX 48
#define LUT_SIZE 1024

/* ColorBrewer RdBu, 11 stops from -1 (blue) to +1 (red): the HTML page's scale. */
static const uint8_t RDBU[11][3] = {
    {0x05, 0x30, 0x61}, {0x21, 0x66, 0xac}, {0x43, 0x93, 0xc3}, {0x92, 0xc5, 0xde},
    {0xd1, 0xe5, 0xf0}, {0xf7, 0xf7, 0xf7}, {0xfd, 0xdb, 0xc7}, {0xf4, 0xa5, 0x82},
    {0xd6, 0x60, 0x4d}, {0xb2, 0x18, 0x2b}, {0x67, 0x00, 0x1f},
};
/* The curves (ColorBrewer Dark2: apart from the weight scale and each other
 * for colour-blind eyes), the text and the lines. */
static const uint8_t TRAIN_RGB[3] = {0xd9, 0x5f, 0x02};
static const uint8_t VAL_RGB[3] = {0x75, 0x70, 0xb3};
#define TEXT_GREY 0.2
#define SOFT_GREY 0.42
#define LINE_GREY 0.55

void frame_color_rgb(double v, uint8_t rgb[3])
{
    if (!(v > -1.0))
        v = isnan(v) ? 0.0 : -1.0;
    if (v > 1.0)
        v = 1.0;
    double t = (v + 1.0) * 5.0;
    int i = (int)t;
    if (i >= 10)
        i = 9;
    double f = t - i;
    for (int c = 0; c < 3; c++)
        rgb[c] = (uint8_t)lround(RDBU[i][c] + f * (RDBU[i + 1][c] - RDBU[i][c]));
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

float frame_clamp(const float *v, size_t n, float *scratch)
{
    if (n == 0)
        return 1.0f;
    float biggest = 0.0f;
    for (size_t i = 0; i < n; i++) {
        float a = fabsf(v[i]);
        scratch[i] = isfinite(a) ? a : 0.0f;
        if (scratch[i] > biggest)
            biggest = scratch[i];
    }
    /* A full sort is plenty: once per tensor per video. */
    qsort(scratch, n, sizeof *scratch, cmp_float);
    size_t rank = (size_t)ceil(0.99 * (double)n);
    float c = scratch[rank > 0 ? rank - 1 : 0];
    if (c > 0.0f)
        return c;
    return biggest > 0.0f ? biggest : 1.0f;
}

static void mix_white(const uint8_t rgb[3], double t, uint8_t *out)
{
    for (int c = 0; c < 3; c++)
        out[c] = (uint8_t)lround(255.0 + t * (rgb[c] - 255.0));
}

void frame_palette(uint8_t palette[FRAME_PALETTE_COLORS * 3])
{
    uint8_t *p = palette;
    for (int i = 0; i < 128; i++, p += 3)       /* the weight scale */
        frame_color_rgb(-1.0 + 2.0 * i / 127.0, p);
    for (int i = 0; i < 48; i++, p += 3)        /* white to near black: text, outlines */
        p[0] = p[1] = p[2] = (uint8_t)lround(255.0 - i * (255.0 - 20.0) / 47.0);
    for (int i = 0; i < 16; i++, p += 3)        /* antialiased curves on white */
        mix_white(TRAIN_RGB, (i + 1) / 16.0, p);
    for (int i = 0; i < 16; i++, p += 3)
        mix_white(VAL_RGB, (i + 1) / 16.0, p);
    /* where a red edge crosses a blue one, antialiasing blends them: purples,
     * a quarter, a half and three quarters of the way between strong reds
     * and strong blues (4 x 4 x 3, less one) */
    int left = FRAME_PALETTE_COLORS - (int)((p - palette) / 3);
    for (int i = 0; i < 4 && left > 0; i++)
        for (int j = 0; j < 4 && left > 0; j++)
            for (int m = 1; m <= 3 && left > 0; m++, left--, p += 3) {
                uint8_t blue[3], red[3];
                frame_color_rgb(-1.0 + 0.2 * i, blue);
                frame_color_rgb(1.0 - 0.2 * j, red);
                for (int c = 0; c < 3; c++)
                    p[c] = (uint8_t)lround(blue[c] + m / 4.0 * (red[c] - blue[c]));
            }
}

/* ---- the drawer ---------------------------------------------------------- */

typedef struct edge {
    float x0, y0, x1, y1;
    float v;                    /* weight / clamp */
    float width;                /* at |v| = 1 */
} edge;

typedef struct rect {
    double x, y, w, h;
} rect;

struct frame_drawer {
    const run_record *r;
    int width, height;
    double s;                   /* lengths are for 960 x 540, times s */
    int layers;
    size_t sizes[NNCL_MAX_LAYERS + 1];
    size_t w_off[NNCL_MAX_LAYERS], b_off[NNCL_MAX_LAYERS];
    float w_inv[NNCL_MAX_LAYERS], b_inv[NNCL_MAX_LAYERS];  /* 1 / clamp */
    float w_clamp[NNCL_MAX_LAYERS], b_clamp[NNCL_MAX_LAYERS];
    float in_inv;               /* 1 / in_mean's largest value in the last frame */
    size_t n_params;
    float *params;
    /* Per input, over layer 1's units: mean |W_1 - W_1 of frame 0| for images
     * (how much training has changed what each pixel feeds: the border pixels
     * of a digit are always 0, so their weights keep their random start and
     * mean |W| alone shows noise), mean |W_1| for tables and single frames. */
    float *in_mean;
    float *base;                /* W_1 of frame 0, for images with several frames; or NULL */
    uint32_t lut[LUT_SIZE];     /* the weight scale as opaque ARGB */
    cairo_surface_t *surface, *bg;
    cairo_t *cr;
    cairo_font_face_t *regular, *bold;
    char name[256];
    rect title, net, right, curve, legend;

    /* the network */
    bool image;
    int ih, iw;
    double col_x[NNCL_MAX_LAYERS + 1];
    int shown[NNCL_MAX_LAYERS + 1];
    double node_y0[NNCL_MAX_LAYERS + 1], pitch[NNCL_MAX_LAYERS + 1], radius[NNCL_MAX_LAYERS + 1];
    double grid_x, grid_y, grid_cell;
    cairo_surface_t *grid;      /* iw x ih: the input pixels */
    edge *edges;
    size_t max_edges;

    /* layer 1 as pictures */
    int n_tiles, tile_cols;
    double tiles_x, tiles_y, tile_scale, tile_gap, tile_label_h;
    cairo_surface_t *tiles;     /* iw x (ih * n_tiles) */
    int heat_units, heat_feats;
    double heat_x, heat_y, heat_cell;
    cairo_surface_t *heat;      /* heat_feats x heat_units */

    /* the loss curve */
    size_t n_curve;
    double *c_step, *c_train, *c_val;
    bool curve_from_snapshots;
    double x_max, y_max, y_min;
    bool y_log;                 /* the losses span more than 20x: a log scale shows the end too */
};

static inline uint32_t lut_color(const frame_drawer *d, float v)
{
    if (!(v > -1.0f))
        v = isnan(v) ? 0.0f : -1.0f;
    if (v > 1.0f)
        v = 1.0f;
    return d->lut[(int)((v + 1.0f) * (0.5f * (LUT_SIZE - 1)) + 0.5f)];
}

static void set_argb(cairo_t *cr, uint32_t c)
{
    cairo_set_source_rgb(cr, ((c >> 16) & 255) / 255.0, ((c >> 8) & 255) / 255.0, (c & 255) / 255.0);
}

static void set_rgb8(cairo_t *cr, const uint8_t rgb[3])
{
    cairo_set_source_rgb(cr, rgb[0] / 255.0, rgb[1] / 255.0, rgb[2] / 255.0);
}

/* ---- text ------------------------------------------------------------------ */

enum { LEFT, CENTER, RIGHT };

static void font(frame_drawer *d, bool bold, double px, double grey)
{
    cairo_set_font_face(d->cr, bold ? d->bold : d->regular);
    cairo_set_font_size(d->cr, fmax(px * d->s, 7.0));   /* still legible when small */
    cairo_set_source_rgb(d->cr, grey, grey, grey);
}

static double text_width(cairo_t *cr, const char *t)
{
    cairo_text_extents_t e;
    cairo_text_extents(cr, t, &e);
    return e.x_advance;
}

/* Draw t with its baseline at y, anchored at x; returns its width. */
static double text(cairo_t *cr, double x, double y, int align, const char *t)
{
    double w = text_width(cr, t);
    cairo_move_to(cr, align == LEFT ? x : align == CENTER ? x - w / 2 : x - w, y);
    cairo_show_text(cr, t);
    return w;
}

/* Copy t into out (t may be out), cut to at most max_w wide with an
 * ellipsis (at a UTF-8 character boundary). */
static void fit_text(cairo_t *cr, const char *t, double max_w, char *out, size_t cap)
{
    if (t != out)
        snprintf(out, cap, "%s", t);
    if (text_width(cr, out) <= max_w)
        return;
    size_t n = strlen(out);
    while (n > 0) {
        do
            n--;
        while (n > 0 && ((unsigned char)out[n] & 0xC0) == 0x80);
        if (n + 4 > cap)
            continue;
        memcpy(out + n, "\xe2\x80\xa6", 4);     /* U+2026 and the NUL */
        if (text_width(cr, out) <= max_w)
            return;
    }
    snprintf(out, cap, "\xe2\x80\xa6");
}

/* A number with a real minus sign (U+2212), %.3g. */
static void fmt_num(char *out, size_t cap, double v)
{
    if (v < 0)
        snprintf(out, cap, "\xe2\x88\x92%.3g", -v);
    else
        snprintf(out, cap, "%.3g", v);
}

/* 1234567 -> "1,234,567", as the CLI prints counts. */
static void fmt_count(char *out, size_t cap, unsigned long long v)
{
    char digits[32];
    int n = snprintf(digits, sizeof digits, "%llu", v);
    size_t o = 0;
    for (int i = 0; i < n && o + 2 < cap; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = digits[i];
    }
    out[o] = '\0';
}

/* ---- set-up ---------------------------------------------------------------- */

static void run_name(const char *dir, char *out, size_t cap)
{
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    size_t start = n;
    while (start > 0 && dir[start - 1] != '/')
        start--;
    if (n == start)
        snprintf(out, cap, "run");
    else
        snprintf(out, cap, "%.*s", (int)(n - start), dir + start);
}

static bool image_input(const run_record *r)
{
    return r->image_h > 0 && r->image_w > 0 &&
           (size_t)r->image_h * (size_t)r->image_w == r->cfg.sizes[0];
}

static cairo_surface_t *new_image(int w, int h)
{
    return cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w > 0 ? w : 1, h > 0 ? h : 1);
}

static nncl_status surface_ok(cairo_surface_t *sf, const char *what)
{
    if (!sf || cairo_surface_status(sf) != CAIRO_STATUS_SUCCESS)
        return nncl_fail(NNCL_E_NOMEM, "frame drawing: cannot create the %s surface: %s", what,
                         cairo_status_to_string(sf ? cairo_surface_status(sf) : CAIRO_STATUS_NO_MEMORY));
    return NNCL_OK;
}

static size_t curve_points(const run_record *r)
{
    if (r->snaps.count >= 2)
        return r->snaps.count;
    return r->n_epochs >= 2 ? r->n_epochs : 0;
}

static void load_curve(frame_drawer *d)
{
    const run_record *r = d->r;
    d->curve_from_snapshots = r->snaps.count >= 2;
    d->x_max = 0.0;
    d->y_max = 0.0;
    for (size_t i = 0; i < d->n_curve; i++) {
        if (d->curve_from_snapshots) {
            const nncl_snapshot_info *in = &r->snaps.info[i];
            d->c_step[i] = (double)in->step;
            d->c_train[i] = in->train_loss;
            d->c_val[i] = in->val_loss;
        } else {
            d->c_step[i] = (double)r->epochs[i].step;
            d->c_train[i] = r->epochs[i].train_loss;
            d->c_val[i] = r->epochs[i].val_loss;
        }
        if (d->c_step[i] > d->x_max)
            d->x_max = d->c_step[i];
        if (isfinite(d->c_train[i]) && d->c_train[i] > d->y_max)
            d->y_max = d->c_train[i];
        if (isfinite(d->c_val[i]) && d->c_val[i] > d->y_max)
            d->y_max = d->c_val[i];
    }
    if (d->x_max <= 0.0)
        d->x_max = 1.0;
    d->y_min = d->y_max;
    for (size_t i = 0; i < d->n_curve; i++) {
        if (isfinite(d->c_train[i]) && d->c_train[i] > 0.0 && d->c_train[i] < d->y_min)
            d->y_min = d->c_train[i];
        if (isfinite(d->c_val[i]) && d->c_val[i] > 0.0 && d->c_val[i] < d->y_min)
            d->y_min = d->c_val[i];
    }
    d->y_log = d->y_min > 0.0 && d->y_max / d->y_min > 20.0;
}

/* ---- layout ---------------------------------------------------------------- */

static const char *output_label(const run_record *r, size_t j)
{
    if (r->cfg.task == NNCL_TASK_REGRESS)
        return "prediction";
    return r->class_names && (int)j < r->num_classes && r->class_names[j] ? r->class_names[j] : NULL;
}

/* Input i's name, or "x1", "x2", ... when the data has none. */
static const char *feature_label(const run_record *r, size_t i, char *num, size_t cap)
{
    if (r->feature_names && r->feature_names[i])
        return r->feature_names[i];
    snprintf(num, cap, "x%zu", i + 1);
    return num;
}

static double max_label_width(frame_drawer *d, bool inputs, double cap)
{
    const run_record *r = d->r;
    size_t n = inputs ? d->sizes[0] : d->sizes[d->layers];
    if (n > SHOW_MAX)
        n = SHOW_MAX;
    double w = 0.0;
    char buf[128], num[32];
    for (size_t i = 0; i < n; i++) {
        const char *t = inputs ? feature_label(r, i, num, sizeof num) : output_label(r, i);
        if (!t) {
            snprintf(num, sizeof num, "%zu", i);
            t = num;
        }
        fit_text(d->cr, t, cap, buf, sizeof buf);
        double tw = text_width(d->cr, buf);
        if (tw > w)
            w = tw;
    }
    return w;
}

static void layout_network(frame_drawer *d)
{
    double s = d->s;
    rect a = d->net;
    a.y += 20 * s;                  /* heading */
    a.h -= 20 * s + 30 * s + 14 * s; /* layer labels below, "+N more" */
    font(d, false, 10.5, TEXT_GREY);
    double left = 0.0, right;
    if (d->image) {
        double g = fmin(a.h, 0.3 * a.w);
        int big = d->ih > d->iw ? d->ih : d->iw;
        d->grid_cell = g / big >= 1.0 ? floor(g / big) : g / big;
        d->grid_x = a.x;
        d->grid_y = a.y + (a.h - d->grid_cell * d->ih) / 2;
        left = d->grid_cell * d->iw;
    } else {
        left = max_label_width(d, true, 0.2 * a.w) + 6 * s;
    }
    right = max_label_width(d, false, 0.2 * a.w) + 6 * s;
    for (int l = 0; l <= d->layers; l++) {
        size_t n = d->sizes[l];
        d->shown[l] = n > SHOW_MAX ? SHOW_MAX : (int)n;
        d->pitch[l] = fmin(a.h / d->shown[l], 34 * s);
        d->radius[l] = fmax(fmin(d->pitch[l] * 0.36, 10 * s), 2 * s);
        d->node_y0[l] = a.y + (a.h - d->pitch[l] * (d->shown[l] - 1)) / 2;
    }
    double first = d->image ? a.x + left + 30 * s : a.x + left + d->radius[0];
    double last = a.x + a.w - right - d->radius[d->layers];
    if (d->image) {
        d->col_x[0] = a.x + left;   /* edges start inside the grid; this is its right side */
        double step = (last - first) / (d->layers > 1 ? d->layers - 1 : 1);
        for (int l = 1; l <= d->layers; l++)
            d->col_x[l] = d->layers > 1 ? first + (l - 1) * step : last;
    } else {
        for (int l = 0; l <= d->layers; l++)
            d->col_x[l] = first + l * (last - first) / d->layers;
    }
}

static void layout_tiles(frame_drawer *d)
{
    double s = d->s;
    rect a = d->right;
    a.y += 20 * s;
    a.h -= 20 * s + 16 * s;         /* heading, "+N more" */
    bool labelled = d->layers == 1; /* layer 1 is the output: name the tiles */
    d->tile_label_h = labelled ? 13 * s : 0.0;
    d->tile_gap = 4 * s;
    int n = d->n_tiles, best_c = 1;
    double best = 0.0;
    for (int c = 1; c <= n; c++) {
        int rows = (n + c - 1) / c;
        double sx = (a.w - (c - 1) * d->tile_gap) / c / d->iw;
        double sy = (a.h - (rows - 1) * d->tile_gap - rows * d->tile_label_h) / rows / d->ih;
        double sc = fmin(sx, sy);
        if (sc > best) {
            best = sc;
            best_c = c;
        }
    }
    d->tile_cols = best_c;
    /* Whole screen pixels per weight, crisp squares, unless that would
     * shrink the tiles by more than a sixth. */
    d->tile_scale = best >= 2.0 && floor(best) >= best * 5.0 / 6.0 ? floor(best) : best;
    int rows = (n + best_c - 1) / best_c;
    double tw = best_c * d->iw * d->tile_scale + (best_c - 1) * d->tile_gap;
    double th = rows * (d->ih * d->tile_scale + d->tile_label_h) + (rows - 1) * d->tile_gap;
    d->tiles_x = round(a.x + (a.w - tw) / 2);
    d->tiles_y = round(a.y + (a.h - th) / 2);
}

static void layout_heat(frame_drawer *d)
{
    double s = d->s;
    rect a = d->right;
    a.y += 20 * s;
    a.h -= 20 * s + 16 * s;
    font(d, false, 10, TEXT_GREY);
    double names = 0.0;
    for (int i = 0; i < d->heat_feats; i++) {
        char buf[128], num[32];
        fit_text(d->cr, feature_label(d->r, (size_t)i, num, sizeof num), 90 * s, buf, sizeof buf);
        names = fmax(names, text_width(d->cr, buf));
    }
    double top = names * 0.72 + 8 * s;  /* names at 45 degrees */
    double left = 36 * s;
    d->heat_cell = fmin(fmin((a.w - left) / d->heat_feats, (a.h - top) / d->heat_units), 44 * s);
    if (d->heat_cell < 9 * s) {         /* too narrow for names: draw none, use their room */
        top = 8 * s;
        d->heat_cell = fmin((a.w - left) / d->heat_feats, (a.h - top) / d->heat_units);
    }
    if (d->heat_cell >= 4)
        d->heat_cell = floor(d->heat_cell);
    double w = d->heat_cell * d->heat_feats, h = d->heat_cell * d->heat_units;
    d->heat_x = round(a.x + left + (a.w - left - w) / 2);
    d->heat_y = round(a.y + top + (a.h - top - h) / 2);
}

static void layout(frame_drawer *d)
{
    double s = d->s, W = d->width, H = d->height;
    double title_h = 40 * s, strip_h = round(H * 0.27);
    d->title = (rect){0, 0, W, title_h};
    double mid0 = title_h, mid1 = H - strip_h;
    d->net = (rect){14 * s, mid0, 0.6 * W - 22 * s, mid1 - mid0};
    d->right = (rect){0.6 * W + 8 * s, mid0, 0.4 * W - 22 * s, mid1 - mid0};
    d->curve = (rect){14 * s, mid1 + 6 * s, 0.6 * W - 22 * s, strip_h - 12 * s};
    d->legend = (rect){0.6 * W + 8 * s, mid1 + 6 * s, 0.4 * W - 22 * s, strip_h - 12 * s};
    layout_network(d);
    if (d->image)
        layout_tiles(d);
    else
        layout_heat(d);
}

/* ---- the static background ---------------------------------------------------- */

static void heading(frame_drawer *d, const rect *a, const char *title, const char *note)
{
    font(d, true, 12, TEXT_GREY);
    double w = text(d->cr, a->x, a->y + 14 * d->s, LEFT, title);
    if (note) {     /* cut to the panel: fonts stop shrinking at 7 px, small frames are tight */
        char buf[200];
        font(d, false, 10.5, SOFT_GREY);
        fit_text(d->cr, note, a->w - w - 8 * d->s, buf, sizeof buf);
        text(d->cr, a->x + w + 8 * d->s, a->y + 14 * d->s, LEFT, buf);
    }
}

static const char *act_label(const nncl_net_config *cfg)
{
    return nncl_act_name(cfg->act);
}

/* The font for the node labels of column l: as tall as the nodes' spacing
 * allows, and when even 7 px is too tall for it, a label every few nodes. */
static void label_font(frame_drawer *d, int l, int *every)
{
    double px = fmin(10.5, 0.95 * d->pitch[l] / d->s);
    *every = px * d->s >= 7.0 ? 1 : (int)ceil(7.0 / (0.95 * d->pitch[l]));
    font(d, false, px, TEXT_GREY);
}

static void draw_network_labels(frame_drawer *d)
{
    cairo_t *cr = d->cr;
    double s = d->s;
    const run_record *r = d->r;
    heading(d, &d->net, "Network", "node colour = bias, edge colour and width = weight");
    char buf[160], num[64];
    double base = d->net.y + d->net.h - 18 * s;
    for (int l = 0; l <= d->layers; l++) {
        double x = l == 0 && d->image ? d->grid_x + d->grid_cell * d->iw / 2 : d->col_x[l];
        int align = CENTER;
        if (l == 0 && !d->image) {
            x -= d->radius[0];
            align = LEFT;
        }
        if (l == d->layers) {
            x += d->radius[l];
            align = RIGHT;
        }
        fmt_count(num, sizeof num, d->sizes[l]);
        font(d, true, 10.5, TEXT_GREY);
        if (l == 0)
            snprintf(buf, sizeof buf, "%s input%s", num, d->sizes[0] == 1 ? "" : "s");
        else if (l == d->layers)
            snprintf(buf, sizeof buf, "%s output%s", num, d->sizes[l] == 1 ? "" : "s");
        else
            snprintf(buf, sizeof buf, "%s hidden", num);
        text(cr, x, base, align, buf);
        font(d, false, 10, SOFT_GREY);
        if (l == 0 && d->image)
            snprintf(buf, sizeof buf, "%d\xc3\x97%d image", d->ih, d->iw);
        else if (l == 0)
            snprintf(buf, sizeof buf, "table");
        else if (l == d->layers)
            snprintf(buf, sizeof buf, "%s", r->cfg.task == NNCL_TASK_REGRESS ? "identity" : "softmax");
        else
            snprintf(buf, sizeof buf, "%s", act_label(&r->cfg));
        text(cr, x, base + 13 * s, align, buf);
        if ((size_t)d->shown[l] < d->sizes[l] && !(l == 0 && d->image)) {
            fmt_count(num, sizeof num, d->sizes[l] - d->shown[l]);
            snprintf(buf, sizeof buf, "+%s more", num);
            font(d, false, 10, SOFT_GREY);
            double y = d->node_y0[l] + d->pitch[l] * (d->shown[l] - 1) + d->radius[l] + 12 * s;
            text(cr, d->col_x[l], y, CENTER, buf);
        }
    }
    /* input names on the left, output names on the right */
    int every;
    if (!d->image) {
        label_font(d, 0, &every);
        for (int i = 0; i < d->shown[0]; i += every) {
            const char *t = feature_label(r, (size_t)i, num, sizeof num);
            fit_text(cr, t, 0.2 * d->net.w, buf, sizeof buf);
            text(cr, d->col_x[0] - d->radius[0] - 5 * s, d->node_y0[0] + i * d->pitch[0] + 3.5 * s,
                 RIGHT, buf);
        }
    } else {
        cairo_set_source_rgb(cr, LINE_GREY, LINE_GREY, LINE_GREY);
        cairo_set_line_width(cr, 1.0);
        cairo_rectangle(cr, d->grid_x - 0.5, d->grid_y - 0.5, d->grid_cell * d->iw + 1, d->grid_cell * d->ih + 1);
        cairo_stroke(cr);
    }
    int L = d->layers;
    label_font(d, L, &every);
    for (int j = 0; j < d->shown[L]; j += every) {
        const char *t = output_label(r, (size_t)j);
        if (!t) {
            snprintf(num, sizeof num, "%d", j);
            t = num;
        }
        fit_text(cr, t, 0.2 * d->net.w, buf, sizeof buf);
        text(cr, d->col_x[L] + d->radius[L] + 5 * s, d->node_y0[L] + j * d->pitch[L] + 3.5 * s, LEFT, buf);
    }
}

static void draw_weights_labels(frame_drawer *d)
{
    cairo_t *cr = d->cr;
    double s = d->s;
    const run_record *r = d->r;
    char buf[160], num[64];
    size_t units = d->sizes[1];
    if (d->image) {
        snprintf(buf, sizeof buf, "%s unit's incoming weights as a %d\xc3\x97%d picture",
                 d->layers == 1 ? "each output" : "each hidden", d->ih, d->iw);
        heading(d, &d->right, "Layer 1", buf);
        if ((size_t)d->n_tiles < units) {
            fmt_count(num, sizeof num, units - d->n_tiles);
            snprintf(buf, sizeof buf, "+%s more units", num);
            font(d, false, 10, SOFT_GREY);
            text(cr, d->right.x + d->right.w / 2, d->right.y + d->right.h - 4 * s, CENTER, buf);
        }
        if (d->layers == 1) {
            font(d, false, 10, TEXT_GREY);
            double tw = d->iw * d->tile_scale, th = d->ih * d->tile_scale;
            for (int t = 0; t < d->n_tiles; t++) {
                const char *name = output_label(r, (size_t)t);
                if (!name) {
                    snprintf(num, sizeof num, "%d", t);
                    name = num;
                }
                fit_text(cr, name, tw + d->tile_gap, buf, sizeof buf);
                double x = d->tiles_x + (t % d->tile_cols) * (tw + d->tile_gap);
                double y = d->tiles_y + (t / d->tile_cols) * (th + d->tile_label_h + d->tile_gap);
                text(cr, x + tw / 2, y + th + 10.5 * s, CENTER, buf);
            }
        }
        return;
    }
    heading(d, &d->right, "Layer 1", "weights: a row per unit, a column per input");
    font(d, false, 10, TEXT_GREY);
    /* names where the columns are wide enough to tell them apart */
    for (int i = 0; i < d->heat_feats && d->heat_cell >= 9 * s; i++) {
        const char *t = feature_label(r, (size_t)i, num, sizeof num);
        fit_text(cr, t, 90 * s, buf, sizeof buf);
        cairo_save(cr);
        cairo_move_to(cr, d->heat_x + (i + 0.5) * d->heat_cell + 3 * s, d->heat_y - 5 * s);
        cairo_rotate(cr, -M_PI / 4);
        cairo_show_text(cr, buf);
        cairo_restore(cr);
    }
    int every = d->heat_cell >= 9 * s ? 1 : 5;
    for (int j = 0; j < d->heat_units; j++) {
        if ((j + 1) % every != 0 && j != 0)
            continue;
        const char *t = d->layers == 1 ? output_label(r, (size_t)j) : NULL;
        if (!t) {
            snprintf(num, sizeof num, "%d", j + 1);
            t = num;
        }
        fit_text(cr, t, 32 * s, buf, sizeof buf);
        text(cr, d->heat_x - 4 * s, d->heat_y + (j + 0.5) * d->heat_cell + 3.5 * s, RIGHT, buf);
    }
    font(d, false, 10, SOFT_GREY);
    double below = d->heat_y + d->heat_units * d->heat_cell + 13 * s;
    if ((size_t)d->heat_units < units || (size_t)d->heat_feats < d->sizes[0]) {
        snprintf(buf, sizeof buf, "first %d of %zu units, %d of %zu inputs", d->heat_units, units,
                 d->heat_feats, d->sizes[0]);
        text(cr, d->heat_x + d->heat_feats * d->heat_cell / 2, below, CENTER, buf);
    }
}

/* Curve geometry: the plot area inside d->curve. */
static rect plot_area(const frame_drawer *d)
{
    double s = d->s;
    rect a = d->curve;
    return (rect){a.x + 46 * s, a.y + 22 * s, a.w - 46 * s - 8 * s, a.h - 22 * s - 26 * s};
}

static double px_x(const frame_drawer *d, const rect *p, double step)
{
    return p->x + p->w * step / d->x_max;
}

static double px_y(const frame_drawer *d, const rect *p, double loss)
{
    if (d->y_log) {
        double v = fmin(fmax(loss, d->y_min), d->y_max);
        return p->y + p->h * (log(d->y_max) - log(v)) / (log(d->y_max) - log(d->y_min));
    }
    return p->y + p->h * (1.0 - fmin(loss, d->y_max) / d->y_max);
}

/* A y tick: a faint line across the plot and its number at the left. */
static void y_tick(frame_drawer *d, const rect *p, double v)
{
    cairo_t *cr = d->cr;
    double y = round(px_y(d, p, v)) + 0.5;
    cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
    cairo_set_line_width(cr, 1.0);
    cairo_move_to(cr, p->x, y);
    cairo_line_to(cr, p->x + p->w, y);
    cairo_stroke(cr);
    char num[64];
    if (v == 0.0)
        snprintf(num, sizeof num, "0");
    else
        fmt_num(num, sizeof num, v);
    font(d, false, 10, SOFT_GREY);
    text(cr, p->x - 5 * d->s, y + 3.5 * d->s, RIGHT, num);
}

static void draw_series(frame_drawer *d, const rect *p, const double *y, const uint8_t rgb[3])
{
    cairo_t *cr = d->cr;
    bool pen = false;
    for (size_t i = 0; i < d->n_curve; i++) {
        if (!isfinite(y[i])) {
            pen = false;
            continue;
        }
        double X = px_x(d, p, d->c_step[i]), Y = px_y(d, p, y[i]);
        if (pen)
            cairo_line_to(cr, X, Y);
        else
            cairo_move_to(cr, X, Y);
        pen = true;
    }
    set_rgb8(cr, rgb);
    cairo_set_line_width(cr, 1.8 * d->s);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    cairo_stroke(cr);
}

static bool any_finite(const double *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (isfinite(y[i]))
            return true;
    return false;
}

static void draw_curve_static(frame_drawer *d)
{
    cairo_t *cr = d->cr;
    double s = d->s;
    char buf[96], num[64];
    heading(d, &d->curve, "Loss", d->curve_from_snapshots ? "at every frame" : d->n_curve ? "per epoch" : NULL);
    if (d->n_curve == 0 || d->y_max <= 0.0) {
        font(d, false, 11, SOFT_GREY);
        text(cr, d->curve.x, d->curve.y + 44 * s, LEFT,
             d->n_curve == 0 ? "One frame: no curve to draw." : "No finite loss to draw.");
        return;
    }
    rect p = plot_area(d);
    /* y ticks: the ends, and on a log scale the powers of ten between that
     * leave room for their numbers */
    if (d->y_log) {
        y_tick(d, &p, d->y_max);
        y_tick(d, &p, d->y_min);
        for (double v = pow(10.0, ceil(log10(d->y_min))); v < d->y_max; v *= 10.0) {
            double y = px_y(d, &p, v);
            if (y - px_y(d, &p, d->y_max) > 16 * s && px_y(d, &p, d->y_min) - y > 16 * s)
                y_tick(d, &p, v);
        }
    } else {
        y_tick(d, &p, d->y_max);
        y_tick(d, &p, d->y_max / 2);
        y_tick(d, &p, 0.0);
    }
    cairo_set_line_width(cr, 1.0);
    cairo_set_source_rgb(cr, LINE_GREY, LINE_GREY, LINE_GREY);
    cairo_move_to(cr, round(p.x) + 0.5, p.y);
    cairo_line_to(cr, round(p.x) + 0.5, round(p.y + p.h) + 0.5);
    cairo_line_to(cr, p.x + p.w, round(p.y + p.h) + 0.5);
    cairo_stroke(cr);
    font(d, false, 10, SOFT_GREY);
    /* the x axis: its ends here, the cursor's step with each frame */
    text(cr, p.x, p.y + p.h + 14 * s, CENTER, "0");
    fmt_count(num, sizeof num, (unsigned long long)d->x_max);
    snprintf(buf, sizeof buf, "%s steps", num);
    text(cr, p.x + p.w, p.y + p.h + 14 * s, RIGHT, buf);
    cairo_save(cr);
    const char *axis = d->y_log ? "loss (log)" : "loss";
    cairo_move_to(cr, p.x - 36 * s, p.y + p.h / 2 + text_width(cr, axis) / 2);
    cairo_rotate(cr, -M_PI / 2);
    cairo_show_text(cr, axis);
    cairo_restore(cr);

    draw_series(d, &p, d->c_train, TRAIN_RGB);
    draw_series(d, &p, d->c_val, VAL_RGB);

    /* the legend, top right of the plot */
    double x = p.x + p.w;
    font(d, false, 10.5, TEXT_GREY);
    const struct { const char *name; const uint8_t *rgb; const double *y; } keys[2] = {
        {"validation", VAL_RGB, d->c_val}, {"train", TRAIN_RGB, d->c_train}};
    for (int k = 0; k < 2; k++) {
        if (!any_finite(keys[k].y, d->n_curve))
            continue;
        snprintf(buf, sizeof buf, "%s", keys[k].name);
        double w = text_width(cr, buf);
        x -= w;
        font(d, false, 10.5, TEXT_GREY);
        text(cr, x, d->curve.y + 14 * s, LEFT, buf);
        set_rgb8(cr, keys[k].rgb);
        cairo_set_line_width(cr, 2.5 * s);
        cairo_move_to(cr, x - 20 * s, d->curve.y + 10.5 * s);
        cairo_line_to(cr, x - 5 * s, d->curve.y + 10.5 * s);
        cairo_stroke(cr);
        x -= 34 * s;
    }
}

static void draw_legend_static(frame_drawer *d)
{
    cairo_t *cr = d->cr;
    double s = d->s;
    rect a = d->legend;
    heading(d, &a, "Colour", "weight / clamp, clipped to \xc2\xb1" "1");
    /* the scale as a bar, from a 256 x 1 image stretched */
    cairo_surface_t *bar = new_image(256, 1);
    if (cairo_surface_status(bar) == CAIRO_STATUS_SUCCESS) {
        cairo_surface_flush(bar);
        uint32_t *px = (uint32_t *)cairo_image_surface_get_data(bar);
        for (int i = 0; i < 256; i++)
            px[i] = lut_color(d, -1.0f + 2.0f * i / 255.0f);
        cairo_surface_mark_dirty(bar);
    }
    double bw = fmin(a.w, 300 * s), bh = 12 * s, bx = a.x + 4 * s, by = a.y + 28 * s;
    cairo_save(cr);
    cairo_translate(cr, bx, by);
    cairo_scale(cr, bw / 256.0, bh);
    cairo_set_source_surface(cr, bar, 0, 0);
    cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_BILINEAR);
    cairo_pattern_set_extend(cairo_get_source(cr), CAIRO_EXTEND_PAD);
    cairo_rectangle(cr, 0, 0, 256, 1);
    cairo_fill(cr);
    cairo_restore(cr);
    cairo_surface_destroy(bar);
    cairo_set_source_rgb(cr, LINE_GREY, LINE_GREY, LINE_GREY);
    cairo_set_line_width(cr, 1.0);
    for (int i = 0; i < 3; i++) {
        double x = round(bx + bw * i / 2.0) + 0.5;
        cairo_move_to(cr, x, by + bh);
        cairo_line_to(cr, x, by + bh + 4 * s);
    }
    cairo_stroke(cr);
    /* numbers for layer 1's weights under the bar */
    char buf[200], num[64];
    font(d, false, 10, TEXT_GREY);
    fmt_num(num, sizeof num, -d->w_clamp[0]);
    text(cr, bx, by + bh + 15 * s, LEFT, num);
    text(cr, bx + bw / 2, by + bh + 15 * s, CENTER, "0");
    snprintf(buf, sizeof buf, "+%.3g", d->w_clamp[0]);
    text(cr, bx + bw, by + bh + 15 * s, RIGHT, buf);
    font(d, false, 10, SOFT_GREY);
    double y = by + bh + 31 * s;
    /* every clamp, so each colour can be read back as a number */
    size_t o = (size_t)snprintf(buf, sizeof buf, "clamp (99th pct of |W|): ");
    for (int l = 0; l < d->layers && o < sizeof buf; l++)
        o += (size_t)snprintf(buf + o, sizeof buf - o, "%sW%d %.3g", l ? ", " : "", l + 1, d->w_clamp[l]);
    fit_text(cr, buf, a.w, buf, sizeof buf);
    text(cr, a.x + 4 * s, y, LEFT, buf);
    o = (size_t)snprintf(buf, sizeof buf, "biases (node fill): ");
    for (int l = 0; l < d->layers && o < sizeof buf; l++)
        o += (size_t)snprintf(buf + o, sizeof buf - o, "%sb%d %.3g", l ? ", " : "", l + 1, d->b_clamp[l]);
    fit_text(cr, buf, a.w, buf, sizeof buf);
    text(cr, a.x + 4 * s, y + 14 * s, LEFT, buf);
    text(cr, a.x + 4 * s, y + 28 * s, LEFT,
         d->base ? "pixel shade: how much training has changed its weights"
                 : "input shade: mean |weight| out of each input");
}

static nncl_status draw_background(frame_drawer *d)
{
    cairo_t *cr = cairo_create(d->bg);
    if (cairo_status(cr) != CAIRO_STATUS_SUCCESS) {
        cairo_destroy(cr);
        return nncl_fail(NNCL_E_NOMEM, "frame drawing: cannot create a cairo context");
    }
    cairo_t *frame_cr = d->cr;
    d->cr = cr;
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    /* a hairline under the title and above the strip */
    cairo_set_source_rgb(cr, 0.88, 0.88, 0.88);
    cairo_set_line_width(cr, 1.0);
    cairo_move_to(cr, 0, round(d->title.h) - 0.5);
    cairo_line_to(cr, d->width, round(d->title.h) - 0.5);
    cairo_move_to(cr, 0, round(d->curve.y - 6 * d->s) + 0.5);
    cairo_line_to(cr, d->width, round(d->curve.y - 6 * d->s) + 0.5);
    cairo_stroke(cr);
    draw_network_labels(d);
    draw_weights_labels(d);
    draw_curve_static(d);
    draw_legend_static(d);
    cairo_status_t st = cairo_status(cr);
    cairo_destroy(cr);
    d->cr = frame_cr;
    cairo_surface_flush(d->bg);
    if (st != CAIRO_STATUS_SUCCESS)
        return nncl_fail(NNCL_E_NOMEM, "frame drawing: the background failed: %s", cairo_status_to_string(st));
    return NNCL_OK;
}

/* ---- create / free ---------------------------------------------------------- */

void frame_drawer_free(frame_drawer *d)
{
    if (!d)
        return;
    if (d->cr)
        cairo_destroy(d->cr);
    cairo_surface_destroy(d->surface);
    cairo_surface_destroy(d->bg);
    cairo_surface_destroy(d->grid);
    cairo_surface_destroy(d->tiles);
    cairo_surface_destroy(d->heat);
    if (d->regular)
        cairo_font_face_destroy(d->regular);
    if (d->bold)
        cairo_font_face_destroy(d->bold);
    free(d->params);
    free(d->in_mean);
    free(d->base);
    free(d->edges);
    free(d->c_step);
    free(d->c_train);
    free(d->c_val);
    free(d);
}

static void input_means(frame_drawer *d)
{
    size_t in = d->sizes[0], out = d->sizes[1];
    const float *W = d->params + d->w_off[0];
    for (size_t i = 0; i < in; i++)
        d->in_mean[i] = 0.0f;
    if (d->base) {
        for (size_t j = 0; j < out; j++)
            for (size_t i = 0; i < in; i++)
                d->in_mean[i] += fabsf(W[j * in + i] - d->base[j * in + i]);
    } else {
        for (size_t j = 0; j < out; j++)
            for (size_t i = 0; i < in; i++)
                d->in_mean[i] += fabsf(W[j * in + i]);
    }
    for (size_t i = 0; i < in; i++)
        d->in_mean[i] /= (float)out;
}

/* Colour clamps from the last frame, fixed for the whole video so that the
 * movie shows the weights growing. */
static nncl_status set_clamps(frame_drawer *d, size_t frames)
{
    size_t biggest = 0;
    for (int l = 0; l < d->layers; l++)
        if (d->sizes[l + 1] * d->sizes[l] > biggest)
            biggest = d->sizes[l + 1] * d->sizes[l];
    float *scratch = malloc(biggest * sizeof *scratch);
    if (!scratch)
        return nncl_fail(NNCL_E_NOMEM, "frame drawing: out of memory for %zu floats", biggest);
    if (d->image && frames > 1) {
        size_t n = d->sizes[1] * d->sizes[0];
        d->base = malloc(n * sizeof *d->base);
        if (!d->base) {
            free(scratch);
            return nncl_fail(NNCL_E_NOMEM, "frame drawing: out of memory for %zu floats", n);
        }
        run_record_frame_params(d->r, 0, d->params);
        memcpy(d->base, d->params + d->w_off[0], n * sizeof *d->base);
    }
    run_record_frame_params(d->r, frames - 1, d->params);
    for (int l = 0; l < d->layers; l++) {
        size_t out = d->sizes[l + 1], in = d->sizes[l];
        d->w_clamp[l] = frame_clamp(d->params + d->w_off[l], out * in, scratch);
        d->b_clamp[l] = frame_clamp(d->params + d->b_off[l], out, scratch);
        d->w_inv[l] = 1.0f / d->w_clamp[l];
        d->b_inv[l] = 1.0f / d->b_clamp[l];
    }
    free(scratch);
    input_means(d);
    float m = 0.0f;
    for (size_t i = 0; i < d->sizes[0]; i++)
        if (isfinite(d->in_mean[i]) && d->in_mean[i] > m)
            m = d->in_mean[i];
    d->in_inv = m > 0.0f ? 1.0f / m : 1.0f;
    return NNCL_OK;
}

nncl_status frame_drawer_create(const run_record *r, int width, int height, frame_drawer **out)
{
    *out = NULL;
    size_t frames = run_record_frames(r);
    if (frames == 0)
        return nncl_fail(NNCL_E_INVALID, "%s: nothing to draw: the run has neither snapshots nor a model",
                         r->dir);
    if (width < 320 || height < 180 || width > 8192 || height > 8192)
        return nncl_fail(NNCL_E_INVALID, "frame size %dx%d: expected 320x180 to 8192x8192", width, height);
    const nncl_net_config *cfg = &r->cfg;
    /* The frame is a dense network's picture (W_l of sizes[l] x sizes[l-1]);
     * a layer list's sizes are flattened outputs, and drawing them so would
     * read its parameters at the wrong offsets. */
    if (!nncl_net_config_is_dense(cfg))
        return nncl_fail(NNCL_E_UNSUPPORTED,
                         "%s: the video and the still draw dense networks only, and this run's network has "
                         "convolution or other layers (its report.html shows its layers and first filters)",
                         r->dir);
    if (cfg->layers < 1 || cfg->layers > NNCL_MAX_LAYERS)
        return nncl_fail(NNCL_E_INVALID, "%s: a network of %d layers cannot be drawn", r->dir, cfg->layers);
    frame_drawer *d = calloc(1, sizeof *d);
    if (!d)
        return nncl_fail(NNCL_E_NOMEM, "frame drawing: out of memory");
    d->r = r;
    d->width = width;
    d->height = height;
    d->s = fmin(width / 960.0, height / 540.0);
    d->layers = cfg->layers;
    size_t off = 0;
    for (int l = 0; l <= cfg->layers; l++) {
        d->sizes[l] = cfg->sizes[l];
        if (cfg->sizes[l] == 0) {
            free(d);
            return nncl_fail(NNCL_E_INVALID, "%s: layer %d has no units", r->dir, l);
        }
    }
    for (int l = 0; l < cfg->layers; l++) {
        d->w_off[l] = off;
        off += d->sizes[l + 1] * d->sizes[l];
        d->b_off[l] = off;
        off += d->sizes[l + 1];
    }
    d->n_params = off;
    /* the frames must hold this network, or reading them would overrun */
    size_t stored = r->snaps.count > 0 ? r->snaps.n_params : r->model.n_params;
    if (stored != off) {
        free(d);
        return nncl_fail(NNCL_E_FORMAT, "%s: the %s hold %zu parameters, the network %zu", r->dir,
                         r->snaps.count > 0 ? "snapshots" : "model", stored, off);
    }
    d->image = image_input(r);
    d->ih = d->image ? r->image_h : 0;
    d->iw = d->image ? r->image_w : 0;
    run_name(r->dir, d->name, sizeof d->name);
    for (int i = 0; i < LUT_SIZE; i++) {
        uint8_t c[3];
        frame_color_rgb(-1.0 + 2.0 * i / (LUT_SIZE - 1), c);
        d->lut[i] = 0xFF000000u | (uint32_t)c[0] << 16 | (uint32_t)c[1] << 8 | c[2];
    }

    /* every edge that can be drawn: for each shown target, all shown sources or
     * its strongest few */
    d->max_edges = 0;
    for (int l = 0; l < d->layers; l++) {
        size_t tgt = d->sizes[l + 1] > SHOW_MAX ? SHOW_MAX : d->sizes[l + 1];
        size_t src = d->sizes[l] > SHOW_MAX ? SHOW_MAX : d->sizes[l];
        d->max_edges += tgt * (src > SPARSE_EDGES ? src : SPARSE_EDGES);
    }
    d->n_curve = curve_points(r);
    size_t nc = d->n_curve ? d->n_curve : 1;
    d->params = malloc(d->n_params * sizeof *d->params);
    d->in_mean = malloc(d->sizes[0] * sizeof *d->in_mean);
    d->edges = malloc(d->max_edges * sizeof *d->edges);
    d->c_step = malloc(nc * sizeof(double));
    d->c_train = malloc(nc * sizeof(double));
    d->c_val = malloc(nc * sizeof(double));
    if (!d->params || !d->in_mean || !d->edges || !d->c_step || !d->c_train || !d->c_val) {
        frame_drawer_free(d);
        return nncl_fail(NNCL_E_NOMEM, "frame drawing: out of memory for %zu parameters", d->n_params);
    }
    nncl_status st = set_clamps(d, frames);
    if (st != NNCL_OK) {
        frame_drawer_free(d);
        return st;
    }
    load_curve(d);

    d->surface = new_image(width, height);
    d->bg = new_image(width, height);
    if (d->image) {
        d->n_tiles = d->sizes[1] > TILES_MAX ? TILES_MAX : (int)d->sizes[1];
        d->grid = new_image(d->iw, d->ih);
        d->tiles = new_image(d->iw, d->ih * d->n_tiles);
    } else {
        d->heat_units = d->sizes[1] > SHOW_MAX ? SHOW_MAX : (int)d->sizes[1];
        d->heat_feats = d->sizes[0] > HEAT_FEATURES_MAX ? HEAT_FEATURES_MAX : (int)d->sizes[0];
        d->heat = new_image(d->heat_feats, d->heat_units);
    }
    if ((st = surface_ok(d->surface, "frame")) != NNCL_OK || (st = surface_ok(d->bg, "background")) != NNCL_OK ||
        (d->image && (st = surface_ok(d->grid, "input grid")) != NNCL_OK) ||
        (d->image && (st = surface_ok(d->tiles, "weight tiles")) != NNCL_OK) ||
        (!d->image && (st = surface_ok(d->heat, "heat map")) != NNCL_OK)) {
        frame_drawer_free(d);
        return st;
    }
    d->cr = cairo_create(d->surface);
    d->regular = cairo_toy_font_face_create("DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    d->bold = cairo_toy_font_face_create("DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
    if (cairo_status(d->cr) != CAIRO_STATUS_SUCCESS) {
        frame_drawer_free(d);
        return nncl_fail(NNCL_E_NOMEM, "frame drawing: cannot create a cairo context");
    }
    layout(d);
    if ((st = draw_background(d)) != NNCL_OK) {
        frame_drawer_free(d);
        return st;
    }
    *out = d;
    return NNCL_OK;
}

cairo_surface_t *frame_drawer_surface(const frame_drawer *d) { return d->surface; }
float frame_drawer_weight_clamp(const frame_drawer *d, int l) { return d->w_clamp[l]; }
float frame_drawer_bias_clamp(const frame_drawer *d, int l) { return d->b_clamp[l]; }

/* ---- one frame ---------------------------------------------------------------- */

static void draw_title(frame_drawer *d, size_t k)
{
    cairo_t *cr = d->cr;
    double s = d->s, y = 25 * s;
    const nncl_snapshot_info *in = run_record_frame_info(d->r, k);
    char buf[256], num[64];
    font(d, true, 15, TEXT_GREY);
    double x = 14 * s;
    x += text(cr, x, y, LEFT, d->name) + 14 * s;
    font(d, false, 13, TEXT_GREY);
    if (!in) {
        text(cr, x, y, LEFT, "final weights");
        return;
    }
    fmt_count(num, sizeof num, (unsigned long long)in->step);
    snprintf(buf, sizeof buf, "step %s \xc2\xb7 epoch %.2f", num, (double)in->epoch);
    text(cr, x, y, LEFT, buf);
    /* the losses, right-aligned; accuracy for classification, MAE for regression */
    bool classify = d->r->cfg.task == NNCL_TASK_CLASSIFY;
    size_t o = 0;
    buf[0] = '\0';
    const struct { const char *name; float loss, acc; } part[2] = {
        {"train", in->train_loss, in->train_accuracy}, {"val", in->val_loss, in->val_accuracy}};
    for (int i = 0; i < 2 && o < sizeof buf; i++) {
        if (!isfinite(part[i].loss))
            continue;
        o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%s loss %.4f", o ? "     " : "", part[i].name,
                              (double)part[i].loss);
        if (isfinite(part[i].acc) && o < sizeof buf) {
            if (classify)
                o += (size_t)snprintf(buf + o, sizeof buf - o, " \xc2\xb7 acc %.1f%%", 100.0 * part[i].acc);
            else
                o += (size_t)snprintf(buf + o, sizeof buf - o, " \xc2\xb7 MAE %.3g", (double)part[i].acc);
        }
    }
    if (buf[0])
        text(cr, d->width - 14 * s, y, RIGHT, buf);
}

/* The position edges leave source i of column l from. */
static void source_pos(const frame_drawer *d, int l, size_t i, float *x, float *y)
{
    if (l == 0 && d->image) {
        size_t row = i / (size_t)d->iw, col = i % (size_t)d->iw;
        *x = (float)(d->grid_x + (col + 0.5) * d->grid_cell);
        *y = (float)(d->grid_y + (row + 0.5) * d->grid_cell);
    } else {
        *x = (float)(d->col_x[l] + d->radius[l]);
        *y = (float)(d->node_y0[l] + i * d->pitch[l]);
    }
}

static int cmp_edge(const void *a, const void *b)
{
    float x = fabsf(((const edge *)a)->v), y = fabsf(((const edge *)b)->v);
    return (x > y) - (x < y);
}

static size_t collect_edges(frame_drawer *d)
{
    size_t n = 0;
    for (int l = 0; l < d->layers; l++) {
        size_t in = d->sizes[l];
        size_t candidates = l == 0 && d->image ? in : (size_t)d->shown[l];
        bool sparse = (l == 0 && d->image) || in > SHOW_MAX || d->sizes[l + 1] > SHOW_MAX;
        /* the more edges meet at a node, the thinner each may be, so that a
         * dense layer stays a web and not a band */
        double per_node = sparse ? SPARSE_EDGES : (double)candidates;
        float width = (float)(d->s * fmax(0.6, fmin(2.4, 2.4 * sqrt(4.0 / fmax(per_node, 1.0)))));
        if (sparse)     /* the strongest few are all strong: keep them from merging */
            width = (float)(d->s * 1.5);
        for (int j = 0; j < d->shown[l + 1]; j++) {
            const float *w = d->params + d->w_off[l] + (size_t)j * in;
            float tx = (float)(d->col_x[l + 1] - d->radius[l + 1]);
            float ty = (float)(d->node_y0[l + 1] + j * d->pitch[l + 1]);
            if (!sparse) {
                for (size_t i = 0; i < candidates; i++) {
                    edge *e = &d->edges[n++];
                    source_pos(d, l, i, &e->x0, &e->y0);
                    e->x1 = tx;
                    e->y1 = ty;
                    e->v = w[i] * d->w_inv[l];
                    e->width = width;
                }
                continue;
            }
            /* The strongest few by |w|, by insertion into a short list. From
             * pixels, those training has changed most (|w - w at frame 0|,
             * ties and frame 0 by |w|): the strongest raw weights sit on
             * border pixels that are always 0, never trained. */
            const float *w0 = l == 0 && d->base ? d->base + (size_t)j * in : NULL;
            size_t best[SPARSE_EDGES];
            float key[SPARSE_EDGES];
            int nb = 0;
            for (size_t i = 0; i < candidates; i++) {
                float a = w0 ? fabsf(w[i] - w0[i]) + 1e-3f * fabsf(w[i]) : fabsf(w[i]);
                if (!(a == a))
                    continue;
                if (nb == SPARSE_EDGES && a <= key[nb - 1])
                    continue;
                int p = nb < SPARSE_EDGES ? nb++ : nb - 1;
                while (p > 0 && key[p - 1] < a) {
                    best[p] = best[p - 1];
                    key[p] = key[p - 1];
                    p--;
                }
                best[p] = i;
                key[p] = a;
            }
            for (int b = 0; b < nb; b++) {
                edge *e = &d->edges[n++];
                source_pos(d, l, best[b], &e->x0, &e->y0);
                e->x1 = tx;
                e->y1 = ty;
                e->v = w[best[b]] * d->w_inv[l];
                e->width = width;
            }
        }
    }
    return n;
}

/* Paint an image surface at (x, y), each of its pixels scale screen pixels. */
static void blit(cairo_t *cr, cairo_surface_t *src, double x, double y, double sx, double sy,
                 double src_y, double w, double h)
{
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_scale(cr, sx, sy);
    cairo_set_source_surface(cr, src, 0, -src_y);
    cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
    cairo_rectangle(cr, 0, 0, w, h);
    cairo_fill(cr);
    cairo_restore(cr);
}

/* The input pixels, shaded by how much the first layer uses each. */
static void draw_grid(frame_drawer *d)
{
    cairo_surface_flush(d->grid);
    uint32_t *px = (uint32_t *)cairo_image_surface_get_data(d->grid);
    int stride = cairo_image_surface_get_stride(d->grid) / 4;
    for (int y = 0; y < d->ih; y++)
        for (int x = 0; x < d->iw; x++) {
            float g = fminf(d->in_mean[(size_t)y * d->iw + x] * d->in_inv, 1.0f);
            uint32_t v = (uint32_t)(255.0f - 179.0f * (g == g ? g : 0.0f) + 0.5f);
            px[y * stride + x] = 0xFF000000u | v << 16 | v << 8 | v;
        }
    cairo_surface_mark_dirty(d->grid);
    blit(d->cr, d->grid, d->grid_x, d->grid_y, d->grid_cell, d->grid_cell, 0, d->iw, d->ih);
}

static void draw_edges(frame_drawer *d)
{
    cairo_t *cr = d->cr;
    size_t n = collect_edges(d);
    /* faint to strong, so the strong edges are on top */
    qsort(d->edges, n, sizeof *d->edges, cmp_edge);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
    for (size_t i = 0; i < n; i++) {
        const edge *e = &d->edges[i];
        float a = fminf(fabsf(e->v), 1.0f);
        if (!(a == a))
            a = 0.0f;
        double mx = (e->x0 + e->x1) / 2;
        cairo_move_to(cr, e->x0, e->y0);
        cairo_curve_to(cr, mx, e->y0, mx, e->y1, e->x1, e->y1);
        set_argb(cr, lut_color(d, e->v));
        cairo_set_line_width(cr, 0.35 * d->s + e->width * a);
        cairo_stroke(cr);
    }
    /* the pixels, over the edges' ends, and dots where the image edges start */
    if (d->image) {
        draw_grid(d);
        for (size_t i = 0; i < n; i++) {
            const edge *e = &d->edges[i];
            if (e->x0 > d->grid_x + d->grid_cell * d->iw)
                continue;
            cairo_arc(cr, e->x0, e->y0, 1.6 * d->s, 0, 2 * M_PI);
            set_argb(cr, lut_color(d, e->v));
            cairo_fill(cr);
        }
    }
}

static void draw_nodes(frame_drawer *d)
{
    cairo_t *cr = d->cr;
    cairo_set_line_width(cr, 0.9 * d->s);
    for (int l = d->image ? 1 : 0; l <= d->layers; l++) {
        for (int j = 0; j < d->shown[l]; j++) {
            double x = d->col_x[l], y = d->node_y0[l] + j * d->pitch[l];
            cairo_new_sub_path(cr);
            cairo_arc(cr, x, y, d->radius[l], 0, 2 * M_PI);
            if (l == 0) {
                double g = 1.0 - 0.7 * fminf(d->in_mean[j] * d->in_inv, 1.0f);
                cairo_set_source_rgb(cr, g, g, g);
            } else {
                set_argb(cr, lut_color(d, d->params[d->b_off[l - 1] + j] * d->b_inv[l - 1]));
            }
            cairo_fill_preserve(cr);
            cairo_set_source_rgb(cr, 0.35, 0.35, 0.35);
            cairo_stroke(cr);
        }
    }
}

static void draw_tiles(frame_drawer *d)
{
    cairo_surface_flush(d->tiles);
    uint32_t *px = (uint32_t *)cairo_image_surface_get_data(d->tiles);
    int stride = cairo_image_surface_get_stride(d->tiles) / 4;
    size_t in = d->sizes[0];
    float inv = d->w_inv[0];
    for (int t = 0; t < d->n_tiles; t++) {
        const float *w = d->params + d->w_off[0] + (size_t)t * in;
        for (int y = 0; y < d->ih; y++) {
            uint32_t *row = px + (size_t)(t * d->ih + y) * stride;
            for (int x = 0; x < d->iw; x++)
                row[x] = lut_color(d, w[(size_t)y * d->iw + x] * inv);
        }
    }
    cairo_surface_mark_dirty(d->tiles);
    double tw = d->iw * d->tile_scale, th = d->ih * d->tile_scale;
    for (int t = 0; t < d->n_tiles; t++) {
        double x = d->tiles_x + (t % d->tile_cols) * (tw + d->tile_gap);
        double y = d->tiles_y + (t / d->tile_cols) * (th + d->tile_label_h + d->tile_gap);
        blit(d->cr, d->tiles, x, y, d->tile_scale, d->tile_scale, (double)t * d->ih, d->iw, d->ih);
    }
}

static void draw_heat(frame_drawer *d)
{
    cairo_t *cr = d->cr;
    cairo_surface_flush(d->heat);
    uint32_t *px = (uint32_t *)cairo_image_surface_get_data(d->heat);
    int stride = cairo_image_surface_get_stride(d->heat) / 4;
    size_t in = d->sizes[0];
    for (int j = 0; j < d->heat_units; j++)
        for (int i = 0; i < d->heat_feats; i++)
            px[j * stride + i] = lut_color(d, d->params[d->w_off[0] + (size_t)j * in + i] * d->w_inv[0]);
    cairo_surface_mark_dirty(d->heat);
    blit(cr, d->heat, d->heat_x, d->heat_y, d->heat_cell, d->heat_cell, 0, d->heat_feats, d->heat_units);
    /* the numbers themselves, when the cells have room for them */
    if (d->heat_cell >= 30 * d->s) {
        char num[32];
        font(d, false, d->heat_cell >= 38 * d->s ? 9 : 8, TEXT_GREY);
        for (int j = 0; j < d->heat_units; j++)
            for (int i = 0; i < d->heat_feats; i++) {
                float w = d->params[d->w_off[0] + (size_t)j * in + i];
                double g = fabsf(w * d->w_inv[0]) > 0.6f ? 1.0 : TEXT_GREY;
                cairo_set_source_rgb(cr, g, g, g);
                if (w < 0)
                    snprintf(num, sizeof num, "\xe2\x88\x92%.2f", -w);
                else
                    snprintf(num, sizeof num, "%.2f", w);
                text(cr, d->heat_x + (i + 0.5) * d->heat_cell, d->heat_y + (j + 0.5) * d->heat_cell + 3 * d->s,
                     CENTER, num);
            }
    }
    cairo_set_source_rgb(cr, LINE_GREY, LINE_GREY, LINE_GREY);
    cairo_set_line_width(cr, 1.0);
    cairo_rectangle(cr, d->heat_x - 0.5, d->heat_y - 0.5, d->heat_cell * d->heat_feats + 1,
                    d->heat_cell * d->heat_units + 1);
    cairo_stroke(cr);
}

static void draw_cursor(frame_drawer *d, size_t k)
{
    if (d->n_curve == 0 || d->y_max <= 0.0)
        return;
    cairo_t *cr = d->cr;
    const nncl_snapshot_info *in = run_record_frame_info(d->r, k);
    double step = in ? (double)in->step : d->x_max;
    rect p = plot_area(d);
    double x = round(px_x(d, &p, step)) + 0.5;
    cairo_set_source_rgb(cr, TEXT_GREY, TEXT_GREY, TEXT_GREY);
    cairo_set_line_width(cr, 1.0);
    double dash = 3 * d->s;
    cairo_set_dash(cr, &dash, 1, 0);
    cairo_move_to(cr, x, p.y);
    cairo_line_to(cr, x, p.y + p.h);
    cairo_stroke(cr);
    cairo_set_dash(cr, NULL, 0, 0);
    if (!in || !d->curve_from_snapshots)
        return;
    /* the step under the cursor, unless it would cover the axis' end labels */
    char num[64], end[96];
    font(d, true, 10, TEXT_GREY);
    fmt_count(num, sizeof num, (unsigned long long)in->step);
    double w = text_width(cr, num);
    fmt_count(end, sizeof end, (unsigned long long)d->x_max);
    size_t o = strlen(end);
    snprintf(end + o, sizeof end - o, " steps");
    font(d, false, 10, SOFT_GREY);
    double right_label = text_width(cr, end);
    if (x - w / 2 > p.x + 10 * d->s && x + w / 2 < p.x + p.w - right_label - 6 * d->s) {
        font(d, true, 10, TEXT_GREY);
        text(cr, x, p.y + p.h + 14 * d->s, CENTER, num);
    }
    const struct { float v; const uint8_t *rgb; } dots[2] = {{in->train_loss, TRAIN_RGB}, {in->val_loss, VAL_RGB}};
    for (int i = 0; i < 2; i++) {
        if (!isfinite(dots[i].v))
            continue;
        cairo_arc(cr, x, px_y(d, &p, dots[i].v), 3.5 * d->s, 0, 2 * M_PI);
        set_rgb8(cr, dots[i].rgb);
        cairo_fill_preserve(cr);
        cairo_set_source_rgb(cr, 1, 1, 1);
        cairo_set_line_width(cr, 1.2 * d->s);
        cairo_stroke(cr);
    }
}

nncl_status frame_drawer_draw(frame_drawer *d, size_t k)
{
    size_t frames = run_record_frames(d->r);
    if (k >= frames)
        return nncl_fail(NNCL_E_INVALID, "%s: frame %zu of %zu does not exist", d->r->dir, k, frames);
    run_record_frame_params(d->r, k, d->params);
    input_means(d);
    cairo_t *cr = d->cr;
    cairo_save(cr);
    cairo_set_operator(cr, CAIRO_OPERATOR_SOURCE);
    cairo_set_source_surface(cr, d->bg, 0, 0);
    cairo_paint(cr);
    cairo_set_operator(cr, CAIRO_OPERATOR_OVER);
    draw_title(d, k);
    if (d->image)
        draw_tiles(d);
    else {
        draw_heat(d);
    }
    draw_edges(d);
    draw_nodes(d);
    draw_cursor(d, k);
    cairo_restore(cr);
    cairo_surface_flush(d->surface);
    cairo_status_t st = cairo_status(cr);
    if (st != CAIRO_STATUS_SUCCESS)
        return nncl_fail(NNCL_E_NOMEM, "%s: drawing frame %zu failed: %s", d->r->dir, k, cairo_status_to_string(st));
    return NNCL_OK;
}
