/* `nncl report RUN_DIR`: rebuild the run's report.html, and on request the
 * training as a video (--video) or its final frame as a picture (--png). */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/out_guard.h"
#include "report/report.h"
#include "report/video.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: nncl report RUN_DIR [--out FILE] [--video FILE] [--png FILE] [--fps N] [--no-html]\n"
                 "\n"
                 "Writes RUN_DIR/report.html (or --out FILE): one self-contained page with the\n"
                 "run at a glance, its curves, the network drawn with a time slider, the\n"
                 "first layer's weights as pictures, weight statistics through time and the\n"
                 "test results. Nothing else in RUN_DIR is changed.\n"
                 "\n"
                 "  --out FILE     where the page goes (default RUN_DIR/report.html)\n"
                 "  --video FILE   the training as a video, one frame per snapshot:\n"
                 "                 .gif, or .mp4 / .webm (these need ffmpeg on PATH)\n"
                 "  --png FILE     the final frame as a picture\n"
                 "  --fps N        frames per second of the video (default 8)\n"
                 "  --no-html      only the video or picture, not the page\n");
}

/* After each frame: the progress line on a terminal; and for the tests,
 * NNCL_TEST_INT=frame:K raises SIGINT (what Ctrl-C does) after frame K. */
typedef struct frame_progress {
    bool tty;
    size_t int_at;              /* 0: never */
} frame_progress;

static void on_frame(void *ctx, size_t done, size_t total)
{
    const frame_progress *fp = ctx;
    if (fp->tty) {
        fprintf(stderr, "\r\033[Kvideo: frame %zu of %zu", done, total);
        if (done == total)
            fputs("\r\033[K", stderr);
    }
    if (fp->int_at && done == fp->int_at)
        raise(SIGINT);
}

static size_t test_int_frame(void)
{
    const char *v = getenv("NNCL_TEST_INT");
    unsigned long k = 0;
    char end = 0;
    return v && sscanf(v, "frame:%lu%c", &k, &end) == 1 ? (size_t)k : 0;
}

/* Ctrl-C or SIGTERM while a video is drawn: the writer stops before its
 * next frame and removes its temporary (and ffmpeg's), rather than dying
 * with both left behind. */
static volatile sig_atomic_t stop_signal;
static void on_stop(int sig) { stop_signal = sig; }

int cmd_report(const cli_globals *g, int argc, char **argv)
{
    (void)g;
    const char *out = NULL, *video = NULL, *png = NULL;
    double fps = 0;
    bool html = true;
    enum { O_OUT = 256, O_VIDEO, O_PNG, O_FPS, O_NO_HTML, O_HELP };
    static const struct option opts[] = {
        {"out", required_argument, NULL, O_OUT}, {"video", required_argument, NULL, O_VIDEO},
        {"png", required_argument, NULL, O_PNG}, {"fps", required_argument, NULL, O_FPS},
        {"no-html", no_argument, NULL, O_NO_HTML}, {"help", no_argument, NULL, O_HELP}, {NULL, 0, NULL, 0},
    };
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case O_OUT: out = optarg; break;
        case O_VIDEO: video = optarg; break;
        case O_PNG: png = optarg; break;
        case O_FPS: {
            char *end;
            fps = strtod(optarg, &end);
            if (end == optarg || *end || !(fps >= 0.5 && fps <= 60)) {
                cli_error("--fps: '%s' is not a number from 0.5 to 60", optarg);
                return CLI_USAGE;
            }
            break;
        }
        case O_NO_HTML: html = false; break;
        case 'h':
        case O_HELP: usage(stdout); return CLI_OK;
        case ':': cli_error("%s needs a value (see nncl report --help)", argv[optind - 1]); return CLI_USAGE;
        default: cli_error("unknown option '%s' (see nncl report --help)", argv[optind - 1]); return CLI_USAGE;
        }
    }
    if (optind + 1 != argc) {
        cli_error(optind >= argc ? "which run? usage: nncl report RUN_DIR [options]"
                                 : "one run directory at a time (got '%s' and more)", argv[optind]);
        return CLI_USAGE;
    }
    if (!html && !video && !png) {
        cli_error("--no-html leaves nothing to write: add --video FILE or --png FILE");
        return CLI_USAGE;
    }
    const char *dir = argv[optind];
    /* Refuse a bad extension before reading anything. */
    video_format fmt;
    nncl_status st;
    if ((video && (st = video_format_of(video, &fmt)) != NNCL_OK) ||
        (png && (st = video_format_of(png, &fmt)) != NNCL_OK))
        return cli_fail(st);
    if (png && fmt != VIDEO_PNG) {
        cli_error("--png %s: the file name must end in .png", png);
        return CLI_USAGE;
    }

    if (html) {
        char path[4200];
        if (!out) {
            snprintf(path, sizeof path, "%s/report.html", dir);
            out = path;
        } else if ((st = out_guard("--out", out, NULL, 0)) != NNCL_OK) {
            return cli_fail(st); /* not one of the run's own files */
        }
        if ((st = report_write_html(dir, out)) != NNCL_OK)
            return cli_fail(st);
        printf("report: %s\n", out);
    }
    if (video || png) {
        run_record r;
        if ((st = run_record_load(dir, &r)) != NNCL_OK)
            return cli_fail(st);
        if (run_record_frames(&r) == 0) {
            run_record_free(&r);
            cli_error("%s: nothing to draw: the run has neither snapshots nor a model", dir);
            return CLI_USAGE;
        }
        frame_progress fp = {.tty = isatty(2), .int_at = test_int_frame()};
        video_options vo = {.fps = fps, .progress = on_frame, .ctx = &fp, .stop = &stop_signal};
        struct sigaction sa = {0}, old_int, old_term;
        sa.sa_handler = on_stop;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);
        if (video && (st = report_write_video(&r, video, &vo)) == NNCL_OK)
            printf("video: %s (%zu frames)\n", video, run_record_frames(&r));
        if (st == NNCL_OK && png && (st = report_write_png(&r, png, &vo)) == NNCL_OK)
            printf("picture: %s\n", png);
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        run_record_free(&r);
        /* A terminal's Ctrl-C reaches ffmpeg too, which may end first: the
         * writer then fails on its pipe, but the news is the signal. */
        if (st != NNCL_OK && stop_signal) {
            if (fp.tty)
                fputs("\r\033[K", stderr);
            if (st == NNCL_E_INTERRUPTED)
                cli_fail(st);
            else
                cli_error("%s: stopped by a signal before its last frame; nothing was written", video ? video : png);
            return 128 + (int)stop_signal;   /* 130 for Ctrl-C, 143 for SIGTERM, as train */
        }
        if (st != NNCL_OK)
            return cli_fail(st);
    }
    return CLI_OK;
}
