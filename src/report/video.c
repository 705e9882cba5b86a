/* The training as a GIF, MP4 or WebM, and the final frame as a PNG (see
 * video.h). Frames come from frame_draw; GIF is written by gif_writer, MP4
 * and WebM by ffmpeg reading raw frames on a pipe (as matplotlib's
 * FFMpegWriter does), PNG by cairo. Every output goes to a temporary file
 * beside the target, renamed over it only once complete. */
#include "report/video.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ops/host_split.h"
#include "report/frame_draw.h"
#include "report/gif_writer.h"

extern char **environ;

#define DEFAULT_WIDTH 960
#define DEFAULT_HEIGHT 540
#define DEFAULT_FPS 8.0
#define STDERR_TAIL_LINES 6

nncl_status video_format_of(const char *path, video_format *out)
{
    static const struct { const char *ext; video_format f; } known[] = {
        {".gif", VIDEO_GIF}, {".mp4", VIDEO_MP4}, {".webm", VIDEO_WEBM}, {".png", VIDEO_PNG}};
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    if (!dot || dot == base)
        return nncl_fail(NNCL_E_INVALID, "%s: no file extension: expected .gif, .mp4, .webm or .png", path);
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcasecmp(dot, known[i].ext) == 0) {
            *out = known[i].f;
            return NNCL_OK;
        }
    return nncl_fail(NNCL_E_INVALID, "%s: unknown extension \"%s\": expected .gif, .mp4, .webm or .png", path, dot);
}

static const char *format_ext(video_format f)
{
    switch (f) {
    case VIDEO_GIF: return ".gif";
    case VIDEO_MP4: return ".mp4";
    case VIDEO_WEBM: return ".webm";
    case VIDEO_PNG: return ".png";
    }
    return "";
}

static nncl_status resolve_options(const video_options *opt, video_format f, video_options *o)
{
    *o = opt ? *opt : (video_options){0};
    if (o->width == 0 && o->height == 0) {
        o->width = DEFAULT_WIDTH;
        o->height = DEFAULT_HEIGHT;
    } else if (o->height == 0 && o->width > 0) {   /* one side given: 16:9, even */
        o->height = (int)(2 * lround(o->width * 9.0 / 32.0));
    } else if (o->width == 0 && o->height > 0) {
        o->width = (int)(2 * lround(o->height * 16.0 / 18.0));
    }
    if (o->fps == 0.0)
        o->fps = DEFAULT_FPS;
    if (o->width < 320 || o->height < 180 || o->width > 7680 || o->height > 4320)
        return nncl_fail(NNCL_E_INVALID, "video size %dx%d: expected 320x180 to 7680x4320", o->width, o->height);
    if (!(o->fps >= 0.1 && o->fps <= 120.0))
        return nncl_fail(NNCL_E_INVALID, "video frame rate %g: expected 0.1 to 120 frames per second", o->fps);
    /* yuv420p halves the colour resolution in both directions */
    if ((f == VIDEO_MP4 || f == VIDEO_WEBM) && (o->width % 2 || o->height % 2))
        return nncl_fail(NNCL_E_INVALID, "video size %dx%d: %s needs an even width and height", o->width,
                         o->height, format_ext(f));
    return NNCL_OK;
}

/* ---- the output file: a temporary beside the target, renamed when complete ---- */

typedef struct out_file {
    const char *path;
    char tmp[4200];
    int fd;
} out_file;

static nncl_status out_open(out_file *o, const char *path)
{
    o->path = path;
    o->fd = -1;
    if (snprintf(o->tmp, sizeof o->tmp, "%s.tmp-XXXXXX", path) >= (int)sizeof o->tmp)
        return nncl_fail(NNCL_E_INVALID, "%s: path too long", path);
    o->fd = mkstemp(o->tmp);
    if (o->fd < 0) {
        int e = errno;
        const char *slash = strrchr(path, '/');
        return nncl_fail(NNCL_E_IO, "%s: cannot create a file in %.*s: %s", path,
                         slash ? (int)(slash - path + 1) : 2, slash ? path : "./", strerror(e));
    }
    /* mkstemp makes it private; the video is for sharing, like any output */
    if (fchmod(o->fd, 0644) != 0 || fcntl(o->fd, F_SETFD, FD_CLOEXEC) != 0) {
        int e = errno;
        close(o->fd);
        unlink(o->tmp);
        o->fd = -1;
        return nncl_fail(NNCL_E_IO, "%s: %s", o->tmp, strerror(e));
    }
    return NNCL_OK;
}

static void out_abort(out_file *o)
{
    if (o->fd >= 0)
        close(o->fd);
    o->fd = -1;
    unlink(o->tmp);
}

static void sync_dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[4200];
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else
        snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path), path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

/* Flush to disk (whoever wrote it: us or ffmpeg) and rename over the target. */
static nncl_status out_commit(out_file *o)
{
    if (fsync(o->fd) != 0 || close(o->fd) != 0) {
        int e = errno;
        o->fd = -1;
        unlink(o->tmp);
        return nncl_fail(NNCL_E_IO, "%s: cannot flush: %s", o->tmp, strerror(e));
    }
    o->fd = -1;
    if (rename(o->tmp, o->path) != 0) {
        int e = errno;
        unlink(o->tmp);
        return nncl_fail(NNCL_E_IO, "%s: cannot rename into place: %s", o->path, strerror(e));
    }
    sync_dir_of(o->path);
    return NNCL_OK;
}

/* ---- frames, drawn on the host's workers ------------------------------------------- */

/* Frames in order, drawn a batch at a time on the host's workers: each
 * worker draws with a drawer of its own (cairo draws into separate
 * surfaces from several threads; every frame is drawn whole from the
 * drawer's fixed parts and frame k's parameters, so which drawer draws it
 * changes no pixel) and copies the frame into the batch's slot for it;
 * the writer then takes them one by one. A drawing is about half of a
 * GIF's time, so two cores take the default run's GIF from 0.78 s to
 * about 0.6 s; one worker draws straight into its surface, as before. */
enum { FRAME_MOST_WORKERS = 8 };   /* a drawer and a slot each: ~6 MB at 960x540 */

typedef struct frame_source {
    const run_record *r;
    frame_drawer *d[FRAME_MOST_WORKERS];
    int workers;
    size_t frames;
    int height;
    size_t row;                 /* bytes of a row: width x 4 */
    uint8_t *slots;             /* workers frames of height x row bytes */
    size_t first, count;        /* the batch in the slots */
    nncl_status st[FRAME_MOST_WORKERS];
    char why[FRAME_MOST_WORKERS][512];
} frame_source;

static void frames_close(frame_source *fs)
{
    for (int w = 0; w < fs->workers; w++)
        frame_drawer_free(fs->d[w]);
    free(fs->slots);
    memset(fs, 0, sizeof *fs);
}

typedef struct drawer_job {
    frame_source *fs;
    int width;
} drawer_job;

/* Item w: worker w's drawer (made in parallel too: each works out the
 * colour clamps and the fixed parts of the frame). */
static void make_drawer(void *arg, size_t w, int worker)
{
    (void)worker;
    drawer_job *j = arg;
    frame_source *fs = j->fs;
    fs->st[w] = frame_drawer_create(fs->r, j->width, fs->height, &fs->d[w]);
    if (fs->st[w] != NNCL_OK)
        snprintf(fs->why[w], sizeof fs->why[w], "%s", nncl_last_error());
}

/* The first failure of items 0..n, said again on this thread. */
static nncl_status first_failure(const frame_source *fs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (fs->st[i] != NNCL_OK)
            return nncl_fail(fs->st[i], "%s", fs->why[i]);
    return NNCL_OK;
}

static nncl_status frames_open(const run_record *r, int width, int height, frame_source *fs)
{
    memset(fs, 0, sizeof *fs);
    fs->r = r;
    fs->frames = run_record_frames(r);
    fs->height = height;
    fs->row = (size_t)width * 4;
    int workers = nncl_host_workers();
    if (workers > FRAME_MOST_WORKERS)
        workers = FRAME_MOST_WORKERS;
    if ((size_t)workers > fs->frames)
        workers = fs->frames ? (int)fs->frames : 1;
    if (workers < 1)
        workers = 1;
    fs->workers = workers;
    drawer_job job = {fs, width};
    if (workers == 1)
        make_drawer(&job, 0, 0);
    else
        nncl_host_for((size_t)workers, workers, make_drawer, &job);
    nncl_status st = first_failure(fs, (size_t)workers);
    if (st == NNCL_OK && workers > 1 && !(fs->slots = malloc((size_t)workers * fs->row * (size_t)height)))
        st = nncl_fail(NNCL_E_NOMEM, "out of memory for %d frames of %dx%d", workers, width, height);
    if (st != NNCL_OK)
        frames_close(fs);
    return st;
}

static void draw_into_slot(void *arg, size_t i, int worker)
{
    frame_source *fs = arg;
    frame_drawer *d = fs->d[worker];
    fs->st[i] = frame_drawer_draw(d, fs->first + i);
    if (fs->st[i] != NNCL_OK) {
        snprintf(fs->why[i], sizeof fs->why[i], "%s", nncl_last_error());
        return;
    }
    cairo_surface_t *sf = frame_drawer_surface(d);
    cairo_surface_flush(sf);
    const uint8_t *px = cairo_image_surface_get_data(sf);
    size_t stride = (size_t)cairo_image_surface_get_stride(sf);
    uint8_t *slot = fs->slots + i * fs->row * (size_t)fs->height;
    for (int y = 0; y < fs->height; y++)
        memcpy(slot + (size_t)y * fs->row, px + (size_t)y * stride, fs->row);
}

/* Frame k's pixels (cairo's ARGB32 words: B, G, R, A bytes on little
 * endian), rows `*stride` bytes apart; k from 0 up, one after another. */
static nncl_status frames_get(frame_source *fs, size_t k, const uint8_t **px, size_t *stride)
{
    if (fs->workers == 1) {
        nncl_status st = frame_drawer_draw(fs->d[0], k);
        if (st != NNCL_OK)
            return st;
        cairo_surface_t *sf = frame_drawer_surface(fs->d[0]);
        *px = cairo_image_surface_get_data(sf);
        *stride = (size_t)cairo_image_surface_get_stride(sf);
        return NNCL_OK;
    }
    if (k < fs->first || k >= fs->first + fs->count) {
        fs->first = k;
        fs->count = fs->frames - k < (size_t)fs->workers ? fs->frames - k : (size_t)fs->workers;
        nncl_host_for(fs->count, fs->workers, draw_into_slot, fs);
        nncl_status st = first_failure(fs, fs->count);
        if (st != NNCL_OK) {
            fs->count = 0;
            return st;
        }
    }
    *px = fs->slots + (k - fs->first) * fs->row * (size_t)fs->height;
    *stride = fs->row;
    return NNCL_OK;
}

/* NNCL_E_INTERRUPTED once the caller's stop flag is up (a signal). */
static nncl_status stopped(const video_options *o, const char *path)
{
    if (o->stop && *o->stop)
        return nncl_fail(NNCL_E_INTERRUPTED, "%s: stopped by a signal before its last frame; nothing was written%s",
                         path, access(path, F_OK) == 0 ? " (the file already there is kept)" : "");
    return NNCL_OK;
}

/* ---- GIF ----------------------------------------------------------------------- */

static nncl_status write_gif(frame_source *fs, const video_options *o, out_file *f)
{
    _Static_assert(FRAME_PALETTE_COLORS == GIF_WRITER_COLORS, "the frames' palette fills the GIF's");
    uint8_t palette[FRAME_PALETTE_COLORS * 3];
    frame_palette(palette);
    gif_writer *g;
    nncl_status st = gif_writer_open(f->fd, f->tmp, o->width, o->height, palette, &g);
    if (st != NNCL_OK)
        return st;
    size_t frames = fs->frames;
    for (size_t k = 0; k < frames && st == NNCL_OK; k++) {
        const uint8_t *px = NULL;
        size_t stride = 0;
        st = stopped(o, f->path);
        if (st == NNCL_OK)
            st = frames_get(fs, k, &px, &stride);
        if (st == NNCL_OK)
            st = gif_writer_add(g, (const uint32_t *)(const void *)px, stride, gif_delay_cs(o->fps, k));
        if (st == NNCL_OK && o->progress)
            o->progress(o->ctx, k + 1, frames);
    }
    nncl_status cs = gif_writer_close(g);
    return st != NNCL_OK ? st : cs;
}

/* ---- MP4 / WebM through ffmpeg ------------------------------------------------- */

/* The first executable `name` on PATH, as execvp would find it. */
static bool find_on_path(const char *name, char *out, size_t cap)
{
    const char *path = getenv("PATH");
    char fallback[256];
    if (!path) {
        size_t n = confstr(_CS_PATH, fallback, sizeof fallback);
        path = n > 0 && n <= sizeof fallback ? fallback : "/bin:/usr/bin";
    }
    for (const char *p = path;; p++) {
        const char *end = strchr(p, ':');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        int n = len == 0 ? snprintf(out, cap, "./%s", name) : snprintf(out, cap, "%.*s/%s", (int)len, p, name);
        struct stat sb;
        if (n > 0 && (size_t)n < cap && stat(out, &sb) == 0 && S_ISREG(sb.st_mode) && access(out, X_OK) == 0)
            return true;
        if (!end)
            return false;
        p = end;
    }
}

/* The last few lines ffmpeg wrote on stderr, on one line. */
static void stderr_tail(FILE *err, char *out, size_t cap)
{
    out[0] = '\0';
    char buf[2048];
    fflush(err);
    long size = ftell(err);
    if (size < 0 || fseek(err, size > (long)sizeof buf - 1 ? size - (long)sizeof buf + 1 : 0, SEEK_SET) != 0)
        return;
    size_t n = fread(buf, 1, sizeof buf - 1, err);
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    char *start = buf + n;
    for (int lines = 0; start > buf;) {
        if (start[-1] == '\n' && ++lines == STDERR_TAIL_LINES)
            break;
        start--;
    }
    size_t o = 0;
    for (char *c = start; *c && o + 1 < cap; c++)
        out[o++] = *c == '\n' ? '|' : *c == '\r' ? ' ' : *c;
    out[o] = '\0';
    /* "a|b" reads better as "a; b" */
    for (char *c = out; *c; c++)
        if (*c == '|')
            *c = ';';
}

static nncl_status write_all(int fd, const void *data, size_t len, int *err)
{
    const char *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            *err = w < 0 ? errno : EIO;
            return NNCL_E_IO;
        }
        p += w;
        len -= (size_t)w;
    }
    return NNCL_OK;
}

typedef struct ffmpeg_proc {
    pid_t pid;
    int in;                     /* the pipe to its stdin */
    FILE *err;                  /* its stderr */
} ffmpeg_proc;

static nncl_status ffmpeg_start(const char *exe, video_format f, const video_options *o, const char *tmp,
                                ffmpeg_proc *p)
{
    char size[32], fps[32], target[4300];
    snprintf(size, sizeof size, "%dx%d", o->width, o->height);
    snprintf(fps, sizeof fps, "%.6g", o->fps);
    /* "file:" so that ffmpeg reads no protocol or option into the name */
    snprintf(target, sizeof target, "file:%s", tmp);
    const char *mp4[] = {"-c:v", "libx264", "-pix_fmt", "yuv420p", "-movflags", "+faststart", "-f", "mp4", NULL};
    const char *webm[] = {"-c:v", "libvpx-vp9", "-pix_fmt", "yuv420p", "-b:v", "0", "-crf", "40", "-deadline",
                          "realtime", "-cpu-used", "8", "-f", "webm", NULL};
    const char *argv[48];
    int n = 0;
    const char *head[] = {exe, "-hide_banner", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgra",
                          "-s", size, "-r", fps, "-i", "-", "-an", NULL};
    for (int i = 0; head[i]; i++)
        argv[n++] = head[i];
    for (const char **a = f == VIDEO_MP4 ? mp4 : webm; *a; a++)
        argv[n++] = *a;
    argv[n++] = target;
    argv[n] = NULL;

    p->pid = -1;
    p->in = -1;
    p->err = tmpfile();
    if (!p->err)
        return nncl_fail(NNCL_E_IO, "ffmpeg: cannot create a file for its messages: %s", strerror(errno));
    int fds[2];
    if (pipe(fds) != 0) {
        int e = errno;
        fclose(p->err);
        p->err = NULL;
        return nncl_fail(NNCL_E_IO, "ffmpeg: cannot create a pipe: %s", strerror(e));
    }
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    fcntl(fileno(p->err), F_SETFD, FD_CLOEXEC);

    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[0], 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, fileno(p->err), 2);
    posix_spawnattr_init(&attr);
    /* ffmpeg starts with default signals, whatever this process ignores or blocks */
    sigset_t def, none;
    sigemptyset(&def);
    sigaddset(&def, SIGPIPE);
    sigemptyset(&none);
    posix_spawnattr_setsigdefault(&attr, &def);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    int rc = posix_spawn(&p->pid, exe, &fa, &attr, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close(fds[0]);
    if (rc != 0) {
        close(fds[1]);
        fclose(p->err);
        p->err = NULL;
        p->pid = -1;
        return nncl_fail(NNCL_E_IO, "%s: cannot start: %s", exe, strerror(rc));
    }
    p->in = fds[1];
    return NNCL_OK;
}

/* Close ffmpeg's input, wait for it, and say how it ended. */
static nncl_status ffmpeg_finish(ffmpeg_proc *p, const char *exe, const char *path, nncl_status so_far)
{
    if (p->in >= 0)
        close(p->in);
    p->in = -1;
    int status = 0;
    pid_t w;
    while ((w = waitpid(p->pid, &status, 0)) < 0 && errno == EINTR)
        ;
    char tail[1024];
    stderr_tail(p->err, tail, sizeof tail);
    fclose(p->err);
    p->err = NULL;
    if (so_far != NNCL_OK && so_far != NNCL_E_IO)
        return so_far;      /* drawing failed: that is the news, not ffmpeg's reaction */
    if (w < 0)
        return nncl_fail(NNCL_E_IO, "%s: waiting for %s: %s", path, exe, strerror(errno));
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && so_far == NNCL_OK)
        return NNCL_OK;
    char how[64];
    if (WIFSIGNALED(status))
        snprintf(how, sizeof how, "killed by signal %d", WTERMSIG(status));
    else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
        snprintf(how, sizeof how, "exit status %d", WEXITSTATUS(status));
    else
        snprintf(how, sizeof how, "it stopped reading frames");
    return nncl_fail(NNCL_E_IO, "%s: ffmpeg (%s) failed, %s%s%s", path, exe, how, tail[0] ? ": " : "",
                     tail[0] ? tail : "; it printed nothing");
}

static nncl_status write_ffmpeg(frame_source *fs, const char *exe, video_format f, const video_options *o,
                                out_file *out)
{
    /* a dead ffmpeg must give EPIPE here, not kill the caller */
    struct sigaction ign = {0}, old;
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGPIPE, &ign, &old);

    ffmpeg_proc p;
    nncl_status st = ffmpeg_start(exe, f, o, out->tmp, &p);
    if (st != NNCL_OK) {
        sigaction(SIGPIPE, &old, NULL);
        return st;
    }
    size_t frames = fs->frames, row = (size_t)o->width * 4;
    int werr = 0;
    for (size_t k = 0; k < frames && st == NNCL_OK; k++) {
        const uint8_t *px = NULL;
        size_t stride = 0;
        st = stopped(o, out->path);
        if (st == NNCL_OK)
            st = frames_get(fs, k, &px, &stride);
        /* cairo's ARGB32 words are B, G, R, A bytes in memory on little endian:
         * ffmpeg's bgra */
        if (st == NNCL_OK && stride == row)
            st = write_all(p.in, px, row * (size_t)o->height, &werr);
        for (int y = 0; st == NNCL_OK && stride != row && y < o->height; y++)
            st = write_all(p.in, px + (size_t)y * stride, row, &werr);
        if (st == NNCL_OK && o->progress)
            o->progress(o->ctx, k + 1, frames);
    }
    st = ffmpeg_finish(&p, exe, out->path, st);
    if (st == NNCL_OK && werr)
        st = nncl_fail(NNCL_E_IO, "%s: writing frames to ffmpeg: %s", out->path, strerror(werr));
    sigaction(SIGPIPE, &old, NULL);
    return st;
}

/* ---- PNG --------------------------------------------------------------------- */

typedef struct png_sink {
    int fd;
    int err;
} png_sink;

static cairo_status_t png_write(void *closure, const unsigned char *data, unsigned int len)
{
    png_sink *s = closure;
    return write_all(s->fd, data, len, &s->err) == NNCL_OK ? CAIRO_STATUS_SUCCESS : CAIRO_STATUS_WRITE_ERROR;
}

static nncl_status write_png(frame_drawer *d, size_t frames, out_file *f)
{
    nncl_status st = frame_drawer_draw(d, frames - 1);
    if (st != NNCL_OK)
        return st;
    png_sink sink = {f->fd, 0};
    cairo_status_t cs = cairo_surface_write_to_png_stream(frame_drawer_surface(d), png_write, &sink);
    if (cs != CAIRO_STATUS_SUCCESS)
        return nncl_fail(NNCL_E_IO, "%s: cannot write the PNG: %s", f->tmp,
                         sink.err ? strerror(sink.err) : cairo_status_to_string(cs));
    return NNCL_OK;
}

/* ---- the entry points ------------------------------------------------------------ */

static nncl_status write_as(const run_record *r, const char *path, video_format f, const video_options *opt)
{
    video_options o;
    nncl_status st = resolve_options(opt, f, &o);
    if (st != NNCL_OK)
        return st;
    char exe[4096] = "";
    if ((f == VIDEO_MP4 || f == VIDEO_WEBM) && !find_on_path("ffmpeg", exe, sizeof exe))
        return nncl_fail(NNCL_E_UNSUPPORTED,
                         "writing %s needs ffmpeg on PATH: install Debian's ffmpeg package (apt-get install "
                         "ffmpeg), or write a .gif",
                         format_ext(f));
    size_t frames = run_record_frames(r);
    /* a still needs one drawer; a video one per worker */
    frame_source fs;
    frame_drawer *d = NULL;
    if (f == VIDEO_PNG)
        st = frame_drawer_create(r, o.width, o.height, &d);
    else
        st = frames_open(r, o.width, o.height, &fs);
    if (st != NNCL_OK)
        return st;
    out_file out;
    if ((st = out_open(&out, path)) != NNCL_OK) {
        if (d)
            frame_drawer_free(d);
        else
            frames_close(&fs);
        return st;
    }
    switch (f) {
    case VIDEO_GIF: st = write_gif(&fs, &o, &out); break;
    case VIDEO_MP4:
    case VIDEO_WEBM: st = write_ffmpeg(&fs, exe, f, &o, &out); break;
    case VIDEO_PNG:
        st = write_png(d, frames, &out);
        if (st == NNCL_OK && o.progress)
            o.progress(o.ctx, 1, 1);
        break;
    }
    if (d)
        frame_drawer_free(d);
    else
        frames_close(&fs);
    if (st != NNCL_OK) {
        out_abort(&out);
        return st;
    }
    return out_commit(&out);
}

nncl_status report_write_video(const run_record *r, const char *path, const video_options *opt)
{
    video_format f;
    nncl_status st = video_format_of(path, &f);
    if (st != NNCL_OK)
        return st;
    return write_as(r, path, f, opt);
}

nncl_status report_write_png(const run_record *r, const char *path, const video_options *opt)
{
    return write_as(r, path, VIDEO_PNG, opt);
}
