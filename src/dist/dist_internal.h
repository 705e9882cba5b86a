/* The module's shared state: MPI is process-global, so is this. */
#ifndef NNCL_DIST_INTERNAL_H
#define NNCL_DIST_INTERNAL_H

#include <stdbool.h>

typedef struct dist_state {
    bool active;                /* MPI_Init_thread was called and not finalized */
    int rank, size;
    double comm_seconds;        /* in collectives since the last reset */
} dist_state;

extern dist_state nncl_dist_g;

/* The largest number of floats a collective moves at once: MPI counts are
 * int, and rank 0's gather buffer stays size x this. */
#define DIST_CHUNK ((size_t)1 << 18)

#endif
