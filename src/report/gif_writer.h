/* An animated GIF written frame by frame with giflib: one global palette of
 * 255 colours chosen by the caller (index 255 is kept for "unchanged"), every
 * pixel mapped to its nearest palette entry through a lookup table, looping
 * forever (the NETSCAPE2.0 extension). The first frame is whole; each later
 * one covers only the rectangle that changed, with the pixels that did not
 * change transparent, so that LZW sees long runs (a training movie changes
 * a tenth to a third of its pixels per frame). */
#ifndef NNCL_REPORT_GIF_WRITER_H
#define NNCL_REPORT_GIF_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "nncl/status.h"

typedef struct gif_writer gif_writer;

#define GIF_WRITER_COLORS 255

/* Start a GIF of width x height on the open file descriptor fd (left open;
 * name is for messages), with palette's GIF_WRITER_COLORS RGB colours. */
nncl_status gif_writer_open(int fd, const char *name, int width, int height,
                            const uint8_t palette[GIF_WRITER_COLORS * 3], gif_writer **out);

/* Append a frame of opaque 0xAARRGGBB pixels (cairo's ARGB32), rows
 * stride_bytes apart, shown for delay_cs hundredths of a second. */
nncl_status gif_writer_add(gif_writer *g, const uint32_t *pixels, size_t stride_bytes, int delay_cs);

/* Write the trailer and flush everything to fd; frees g (NULL is fine).
 * Returns the first error seen. */
nncl_status gif_writer_close(gif_writer *g);

/* Delays for frames at fps, in hundredths of a second (what GIF can store),
 * rounded so that they add up to the right total: frame k lasts
 * round(100 (k + 1) / fps) - round(100 k / fps), at least 2 (browsers slow
 * shorter delays down to 10). */
int gif_delay_cs(double fps, size_t k);

#endif
