/* The training as a video (a frame per snapshot) or a still of its final
 * frame: `nncl report RUN_DIR --video FILE` and `--png FILE`. */
#ifndef NNCL_REPORT_VIDEO_H
#define NNCL_REPORT_VIDEO_H

#include <signal.h>
#include <stddef.h>

#include "nncl/status.h"
#include "report/run_record.h"

typedef enum video_format { VIDEO_GIF, VIDEO_MP4, VIDEO_WEBM, VIDEO_PNG } video_format;

/* By the extension (case-insensitive): .gif, .mp4, .webm, .png; anything else
 * is NNCL_E_INVALID, naming the extension and the ones accepted. */
nncl_status video_format_of(const char *path, video_format *out);

typedef struct video_options {
    int width, height;          /* 0 and 0: 960 x 540; one of them 0: 16:9 */
    double fps;                 /* 0: 8 frames per second */
    /* Called after each frame is written (done of total), or NULL. */
    void (*progress)(void *ctx, size_t done, size_t total);
    void *ctx;
    /* Checked before each frame, or NULL: non-zero (a signal handler's flag)
     * stops the video with NNCL_E_INTERRUPTED, leaving nothing behind. */
    const volatile sig_atomic_t *stop;
} video_options;

/* Every frame of r (run_record_frames(r): one per snapshot, or the final model
 * alone) into path, in the format of its extension: GIF with giflib; MP4
 * (H.264, yuv420p) and WebM (VP9) by piping raw frames into ffmpeg found on
 * PATH (NNCL_E_UNSUPPORTED, saying how to install it, when there is none);
 * PNG: the final frame, as report_write_png. MP4 and WebM need an even width
 * and height. The file appears atomically: written to a temporary name in the
 * same folder, then renamed; on any failure nothing is left behind and a file
 * already at path is untouched. When ffmpeg fails, its last lines of stderr
 * are in the message. opt may be NULL. */
nncl_status report_write_video(const run_record *r, const char *path, const video_options *opt);

/* The final frame as a PNG, atomically as above. */
nncl_status report_write_png(const run_record *r, const char *path, const video_options *opt);

#endif
