/* A bounded window of training steps in the device's queue.
 *
 * An OpenCL queue takes steps as fast as the host can queue them, so
 * without a bound the host would run an epoch ahead of the device, and
 * Ctrl-C, which the loop checks between steps, would wait for all of it.
 * Every `stride` steps the loop puts a fence in the queue; when more than
 * `limit` fences are outstanding it waits for the oldest. Together they
 * keep about STEP_WINDOW_SECONDS of work queued, from the measured step
 * time: enough that the device never waits for the host, little enough
 * that a stop takes effect within a fraction of a second. A fence every
 * few steps rather than every step keeps their cost (an event, a flush)
 * small when steps are short. On the host backend fences are NULL and
 * nothing waits. */
#ifndef NNCL_STEP_WINDOW_H
#define NNCL_STEP_WINDOW_H

#include <stdbool.h>
#include <stddef.h>

#include "nncl/device.h"

#define STEP_WINDOW_FENCES 8        /* the most fences outstanding */
#define STEP_WINDOW_SECONDS 0.1     /* the device time queued, at most about */

typedef struct step_window {
    nncl_fence *fence[STEP_WINDOW_FENCES + 1];  /* a ring, oldest at head */
    size_t head, count;
    size_t stride, limit;       /* a fence every stride steps; at most limit outstanding */
    size_t unfenced;            /* steps queued since the last fence */
    double step_seconds;        /* the device's time per step (0: not measured yet) */
    double last_done;           /* when the last waited-for fence was found done */
    bool last_waited;           /* that wait blocked: the device was the bottleneck */
} step_window;

void step_window_init(step_window *w);

/* After a step was queued: fence it every stride steps, and wait while too
 * many fences are outstanding. */
nncl_status step_window_after_step(step_window *w, nncl_device *dev);

/* Free the outstanding fences (the work itself stays queued). */
void step_window_clear(step_window *w);

#endif
