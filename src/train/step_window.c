#include "train/step_window.h"

#include "util/clock.h"

/* Until a step time is measured: a fence every step, at most 4 queued
 * (the first steps of a big network may each take long). */
#define START_LIMIT 4
/* A wait shorter than this found its fence done: the device was waiting
 * for the host, and the interval since the last wait says nothing. */
#define BLOCKED_SECONDS 50e-6

void step_window_init(step_window *w)
{
    *w = (step_window){.stride = 1, .limit = START_LIMIT};
}

/* Consecutive waits that both blocked are `stride` device steps apart. */
static void measure(step_window *w, double now, bool blocked)
{
    if (blocked && w->last_waited) {
        double dt = (now - w->last_done) / (double)w->stride;
        w->step_seconds = w->step_seconds > 0 ? 0.8 * w->step_seconds + 0.2 * dt : dt;
        /* n steps in flight: in `limit` fences `stride` steps apart. */
        double n = STEP_WINDOW_SECONDS / w->step_seconds;
        size_t steps = n < 1 ? 1 : n > 4096 ? 4096 : (size_t)n;
        size_t stride = steps / (STEP_WINDOW_FENCES / 2);
        w->stride = stride < 1 ? 1 : stride;
        w->limit = steps / w->stride;
        if (w->limit < 1)
            w->limit = 1;
        if (w->limit > STEP_WINDOW_FENCES)
            w->limit = STEP_WINDOW_FENCES;
    }
    w->last_done = now;
    w->last_waited = blocked;
}

nncl_status step_window_after_step(step_window *w, nncl_device *dev)
{
    if (++w->unfenced < w->stride)
        return NNCL_OK;
    w->unfenced = 0;
    nncl_fence *f;
    nncl_status st = nncl_device_fence(dev, &f);
    if (st != NNCL_OK || !f)
        return st;
    w->fence[(w->head + w->count) % (STEP_WINDOW_FENCES + 1)] = f;
    w->count++;
    while (st == NNCL_OK && w->count > w->limit) {
        nncl_fence *oldest = w->fence[w->head];
        double t0 = nncl_seconds_now();
        st = nncl_fence_wait(oldest);
        double now = nncl_seconds_now();
        nncl_fence_free(oldest);
        w->head = (w->head + 1) % (STEP_WINDOW_FENCES + 1);
        w->count--;
        measure(w, now, now - t0 > BLOCKED_SECONDS);
    }
    return st;
}

void step_window_clear(step_window *w)
{
    while (w->count > 0) {
        nncl_fence_free(w->fence[w->head]);
        w->head = (w->head + 1) % (STEP_WINDOW_FENCES + 1);
        w->count--;
    }
}
