/* Animated GIF with giflib (see gif_writer.h). The LZW coding is giflib's;
 * this file chooses colours and moves bytes. */
#include "report/gif_writer.h"

#include <errno.h>
#include <gif_lib.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OUT_BUFFER (64 * 1024)
#define LUT_BITS 6                      /* per channel: 64 x 64 x 64 cells */
#define LUT_CELLS (1 << (3 * LUT_BITS))
#define LUT_UNSET 0xFFFF
#define UNCHANGED GIF_WRITER_COLORS     /* the transparent index */

struct gif_writer {
    int fd;
    char name[4096];
    int width, height;
    GifFileType *gif;
    uint8_t palette[GIF_WRITER_COLORS * 3];
    /* The nearest palette entry of each colour cell, found the first time the
     * cell is seen: a frame uses few colours, so most cells are never needed. */
    uint16_t *lut;
    GifPixelType *indices;              /* this frame */
    GifPixelType *previous;             /* what a viewer shows before it */
    GifPixelType *patch;                /* the changed rectangle, to write */
    size_t frames;
    uint8_t *out;                       /* bytes not yet written to fd */
    size_t out_len;
    int write_errno;                    /* the write that failed, or 0 */
    nncl_status first_error;
};

static nncl_status flush_out(gif_writer *g)
{
    size_t done = 0;
    while (done < g->out_len) {
        ssize_t w = write(g->fd, g->out + done, g->out_len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            g->write_errno = w < 0 ? errno : EIO;
            g->out_len = 0;
            return nncl_fail(NNCL_E_IO, "%s: write failed: %s", g->name, strerror(g->write_errno));
        }
        done += (size_t)w;
    }
    g->out_len = 0;
    return NNCL_OK;
}

/* giflib's output function: buffer, and write whole buffers to the file. */
static int gif_output(GifFileType *gif, const GifByteType *bytes, int len)
{
    gif_writer *g = gif->UserData;
    if (g->write_errno)
        return 0;
    size_t n = (size_t)len;
    while (n > 0) {
        size_t room = OUT_BUFFER - g->out_len;
        size_t take = n < room ? n : room;
        memcpy(g->out + g->out_len, bytes, take);
        g->out_len += take;
        bytes += take;
        n -= take;
        if (g->out_len == OUT_BUFFER && flush_out(g) != NNCL_OK)
            return 0;
    }
    return len;
}

/* A giflib failure as an nncl_status, keeping the write error's words when
 * that was the cause. */
static nncl_status gif_fail(gif_writer *g, const char *what, int code)
{
    if (g->write_errno)
        return nncl_fail(NNCL_E_IO, "%s: write failed: %s", g->name, strerror(g->write_errno));
    return nncl_fail(NNCL_E_IO, "%s: %s: %s", g->name, what, GifErrorString(code));
}

static void free_writer(gif_writer *g)
{
    free(g->lut);
    free(g->indices);
    free(g->previous);
    free(g->patch);
    free(g->out);
    free(g);
}

int gif_delay_cs(double fps, size_t k)
{
    long a = lround(100.0 * (double)(k + 1) / fps), b = lround(100.0 * (double)k / fps);
    long d = a - b;
    return d < 2 ? 2 : d > 65535 ? 65535 : (int)d;
}

nncl_status gif_writer_open(int fd, const char *name, int width, int height,
                            const uint8_t palette[GIF_WRITER_COLORS * 3], gif_writer **out)
{
    *out = NULL;
    if (width <= 0 || height <= 0 || width > 65535 || height > 65535)
        return nncl_fail(NNCL_E_INVALID, "%s: a GIF of %dx%d pixels cannot be written", name, width, height);
    gif_writer *g = calloc(1, sizeof *g);
    if (!g)
        return nncl_fail(NNCL_E_NOMEM, "%s: out of memory", name);
    g->fd = fd;
    snprintf(g->name, sizeof g->name, "%s", name);
    g->width = width;
    g->height = height;
    memcpy(g->palette, palette, sizeof g->palette);
    g->lut = malloc(LUT_CELLS * sizeof *g->lut);
    g->indices = malloc((size_t)width * height);
    g->previous = malloc((size_t)width * height);
    g->patch = malloc((size_t)width * height);
    g->out = malloc(OUT_BUFFER);
    if (!g->lut || !g->indices || !g->previous || !g->patch || !g->out) {
        free_writer(g);
        return nncl_fail(NNCL_E_NOMEM, "%s: out of memory for a %dx%d frame", name, width, height);
    }
    memset(g->lut, 0xFF, LUT_CELLS * sizeof *g->lut);

    int err = 0;
    g->gif = EGifOpen(g, gif_output, &err);
    if (!g->gif) {
        nncl_status st = nncl_fail(NNCL_E_NOMEM, "%s: cannot start the GIF: %s", name, GifErrorString(err));
        free_writer(g);
        return st;
    }
    ColorMapObject *map = GifMakeMapObject(256, NULL);
    if (!map) {
        nncl_status st = nncl_fail(NNCL_E_NOMEM, "%s: out of memory for the palette", name);
        g->first_error = st;
        gif_writer_close(g);
        return st;
    }
    for (int i = 0; i < GIF_WRITER_COLORS; i++) {
        map->Colors[i].Red = palette[3 * i];
        map->Colors[i].Green = palette[3 * i + 1];
        map->Colors[i].Blue = palette[3 * i + 2];
    }
    map->Colors[UNCHANGED] = (GifColorType){255, 255, 255};
    /* GIF89a: the header version must allow the extensions below. */
    EGifSetGifVersion(g->gif, true);
    int rc = EGifPutScreenDesc(g->gif, width, height, 8, 0, map);
    GifFreeMapObject(map);
    nncl_status st = NNCL_OK;
    if (rc == GIF_ERROR) {
        st = gif_fail(g, "cannot write the screen descriptor", g->gif->Error);
    } else {
        /* loop forever: NETSCAPE2.0, sub-block 1, loop count 0 */
        static const GifByteType loop[3] = {1, 0, 0};
        if (EGifPutExtensionLeader(g->gif, APPLICATION_EXT_FUNC_CODE) == GIF_ERROR ||
            EGifPutExtensionBlock(g->gif, 11, "NETSCAPE2.0") == GIF_ERROR ||
            EGifPutExtensionBlock(g->gif, 3, loop) == GIF_ERROR || EGifPutExtensionTrailer(g->gif) == GIF_ERROR)
            st = gif_fail(g, "cannot write the loop extension", g->gif->Error);
    }
    if (st != NNCL_OK) {
        g->first_error = st;
        gif_writer_close(g);
        return st;
    }
    *out = g;
    return NNCL_OK;
}

static uint8_t nearest(const gif_writer *g, int r, int gr, int b)
{
    int best = 0;
    long best_d = -1;
    for (int i = 0; i < GIF_WRITER_COLORS; i++) {
        long dr = r - g->palette[3 * i], dg = gr - g->palette[3 * i + 1], db = b - g->palette[3 * i + 2];
        /* weighted as the eye is: green counts most, blue least */
        long d = 3 * dr * dr + 4 * dg * dg + 2 * db * db;
        if (best_d < 0 || d < best_d) {
            best_d = d;
            best = i;
        }
    }
    return (uint8_t)best;
}

nncl_status gif_writer_add(gif_writer *g, const uint32_t *pixels, size_t stride_bytes, int delay_cs)
{
    if (g->first_error != NNCL_OK)
        return g->first_error;
    const int shift = 8 - LUT_BITS, mask = (1 << LUT_BITS) - 1, half = 1 << (shift - 1);
    GifPixelType *o = g->indices;
    for (int y = 0; y < g->height; y++) {
        const uint32_t *row = (const uint32_t *)((const uint8_t *)pixels + (size_t)y * stride_bytes);
        for (int x = 0; x < g->width; x++) {
            uint32_t p = row[x];
            uint32_t key = ((p >> (16 + shift)) & mask) << (2 * LUT_BITS) | ((p >> (8 + shift)) & mask) << LUT_BITS |
                           ((p >> shift) & mask);
            uint16_t e = g->lut[key];
            if (e == LUT_UNSET) {
                /* the cell's centre, so the answer does not depend on which pixel came first */
                int r = (int)((key >> (2 * LUT_BITS)) << shift) + half;
                int gr = (int)(((key >> LUT_BITS) & mask) << shift) + half;
                int b = (int)((key & mask) << shift) + half;
                e = g->lut[key] = nearest(g, r, gr, b);
            }
            *o++ = (GifPixelType)e;
        }
    }
    /* Later frames: only the rectangle that changed, unchanged pixels in it
     * transparent. */
    int x0 = 0, y0 = 0, w = g->width, h = g->height;
    const GifPixelType *data = g->indices;
    bool diff = g->frames > 0;
    if (diff) {
        int x1 = -1, y1 = -1;
        x0 = g->width;
        y0 = g->height;
        for (int y = 0; y < g->height; y++) {
            const GifPixelType *a = g->indices + (size_t)y * g->width, *b = g->previous + (size_t)y * g->width;
            if (memcmp(a, b, (size_t)g->width) == 0)
                continue;
            int l = 0, r = g->width - 1;
            while (a[l] == b[l])
                l++;
            while (a[r] == b[r])
                r--;
            x0 = l < x0 ? l : x0;
            x1 = r > x1 ? r : x1;
            y0 = y < y0 ? y : y0;
            y1 = y;
        }
        if (x1 < 0) {
            x0 = y0 = 0;        /* nothing changed: one transparent pixel keeps the frame's time */
            x1 = y1 = 0;
        }
        w = x1 - x0 + 1;
        h = y1 - y0 + 1;
        GifPixelType *o = g->patch;
        for (int y = y0; y < y0 + h; y++) {
            const GifPixelType *a = g->indices + (size_t)y * g->width + x0, *b = g->previous + (size_t)y * g->width + x0;
            for (int x = 0; x < w; x++)
                *o++ = a[x] == b[x] ? UNCHANGED : a[x];
        }
        data = g->patch;
    }
    GraphicsControlBlock gcb = {.DisposalMode = DISPOSE_DO_NOT, .UserInputFlag = false, .DelayTime = delay_cs,
                                .TransparentColor = diff ? UNCHANGED : NO_TRANSPARENT_COLOR};
    GifByteType ext[4];
    EGifGCBToExtension(&gcb, ext);
    nncl_status st = NNCL_OK;
    if (EGifPutExtension(g->gif, GRAPHICS_EXT_FUNC_CODE, 4, ext) == GIF_ERROR)
        st = gif_fail(g, "cannot write a frame's delay", g->gif->Error);
    else if (EGifPutImageDesc(g->gif, x0, y0, w, h, false, NULL) == GIF_ERROR)
        st = gif_fail(g, "cannot write a frame's descriptor", g->gif->Error);
    /* the whole rectangle in one call: giflib counts pixels, not rows */
    else if (EGifPutLine(g->gif, (GifPixelType *)data, w * h) == GIF_ERROR)
        st = gif_fail(g, "cannot compress a frame", g->gif->Error);
    if (st != NNCL_OK) {
        g->first_error = st;
        return st;
    }
    GifPixelType *t = g->previous;
    g->previous = g->indices;
    g->indices = t;
    g->frames++;
    return NNCL_OK;
}

nncl_status gif_writer_close(gif_writer *g)
{
    if (!g)
        return NNCL_OK;
    nncl_status st = g->first_error;
    int err = 0;
    /* EGifCloseFile writes the trailer through gif_output, then frees. */
    if (EGifCloseFile(g->gif, &err) == GIF_ERROR && st == NNCL_OK)
        st = g->write_errno ? nncl_fail(NNCL_E_IO, "%s: write failed: %s", g->name, strerror(g->write_errno))
                            : nncl_fail(NNCL_E_IO, "%s: cannot finish the GIF: %s", g->name, GifErrorString(err));
    if (st == NNCL_OK)
        st = flush_out(g);
    free_writer(g);
    return st;
}
