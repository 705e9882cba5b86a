/* Rank 0's floats to every rank (the initial parameters). */
#include <mpi.h>

#include "dist/dist.h"
#include "dist/dist_internal.h"
#include "util/clock.h"

nncl_status nncl_dist_bcast(float *buf, size_t n)
{
    if (!nncl_dist_g.active || nncl_dist_g.size == 1)
        return NNCL_OK;
    double t0 = nncl_seconds_now();
    for (size_t off = 0; off < n; off += DIST_CHUNK) {
        int c = (int)(n - off < DIST_CHUNK ? n - off : DIST_CHUNK);
        if (MPI_Bcast(buf + off, c, MPI_FLOAT, 0, MPI_COMM_WORLD) != MPI_SUCCESS)
            return nncl_fail(NNCL_E_DEVICE, "MPI_Bcast of %d floats failed", c);
    }
    nncl_dist_g.comm_seconds += nncl_seconds_now() - t0;
    return NNCL_OK;
}
