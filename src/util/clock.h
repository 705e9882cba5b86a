/* Seconds on the monotonic clock, for timing (not for dates). */
#ifndef NNCL_CLOCK_H
#define NNCL_CLOCK_H

#include <time.h>

static inline double nncl_seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#endif
