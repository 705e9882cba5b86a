/* One frame of the training movie, drawn with cairo: the network
 * (TensorFlow Playground style: node fill = bias, edge colour and width =
 * weight), the first layer's weights as pictures, the loss curve with a
 * cursor at the frame, and the colour legend. The GIF, the MP4/WebM and the
 * still PNG all draw their frames here.
 *
 * Everything that does not change between frames (the colour clamps, the
 * layout, the curve, the legend) is computed and drawn once, when the drawer
 * is created; drawing a frame allocates nothing. */
#ifndef NNCL_REPORT_FRAME_DRAW_H
#define NNCL_REPORT_FRAME_DRAW_H

#include <cairo.h>
#include <stdint.h>

#include "nncl/status.h"
#include "report/run_record.h"

/* The diverging colour scale shared with the HTML page: ColorBrewer RdBu,
 * 11 stops, negative = blue (-1 -> #053061, 0 -> #f7f7f7, +1 -> #67001f),
 * linear interpolation between stops; v is clipped to [-1, 1]. */
void frame_color_rgb(double v, uint8_t rgb[3]);

/* The colour clamp of a tensor: the 99th percentile (nearest rank) of |v|
 * over its n values, so one large weight does not wash out the rest. When
 * that is 0, the largest |v|; when every value is 0 (or n is 0), 1. scratch
 * holds n floats. */
float frame_clamp(const float *v, size_t n, float *scratch);

/* The colours a GIF of these frames needs (RGB triplets): 128 samples of the
 * diverging scale, a grey ramp for text and antialiased lines on white, tints
 * of the curve colours, and a small colour cube for everything else. */
#define FRAME_PALETTE_COLORS 255
void frame_palette(uint8_t palette[FRAME_PALETTE_COLORS * 3]);

typedef struct frame_drawer frame_drawer;

/* A drawer for r's frames at width x height pixels (at least 320 x 180).
 * r must outlive it. NNCL_E_INVALID when r has no frame to draw. */
nncl_status frame_drawer_create(const run_record *r, int width, int height, frame_drawer **out);
void frame_drawer_free(frame_drawer *d);

/* Draw frame k (0 <= k < run_record_frames(r)) into the drawer's surface. */
nncl_status frame_drawer_draw(frame_drawer *d, size_t k);

/* The surface frames are drawn into: CAIRO_FORMAT_ARGB32, opaque, width x
 * height; it holds the last frame drawn. */
cairo_surface_t *frame_drawer_surface(const frame_drawer *d);

/* The colour clamps in use (fixed over all frames: from the last frame), for
 * layer l = 0 .. layers - 1. */
float frame_drawer_weight_clamp(const frame_drawer *d, int l);
float frame_drawer_bias_clamp(const frame_drawer *d, int l);

#endif
