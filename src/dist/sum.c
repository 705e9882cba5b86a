/* The gradient all-reduce: a sum over ranks in a fixed order. */
#include <mpi.h>
#include <stdlib.h>

#include "dist/dist.h"
#include "dist/dist_internal.h"
#include "util/clock.h"

/* Rank 0's gather buffer, kept between calls (a step's sum would otherwise
 * allocate size x DIST_CHUNK floats every time). Freed with the process. */
static float *gathered;
static size_t gathered_len;

nncl_status nncl_dist_sum(float *buf, size_t n)
{
    const int size = nncl_dist_g.size, rank = nncl_dist_g.rank;
    if (!nncl_dist_g.active || size == 1 || n == 0)
        return NNCL_OK;
    double t0 = nncl_seconds_now();
    size_t want = (size_t)size * (n < DIST_CHUNK ? n : DIST_CHUNK);
    if (rank == 0 && gathered_len < want) {
        float *g = realloc(gathered, want * sizeof *g);
        if (!g)
            return nncl_fail(NNCL_E_NOMEM, "out of memory for the all-reduce of %zu floats from %d ranks", n, size);
        gathered = g;
        gathered_len = want;
    }
    for (size_t off = 0; off < n; off += DIST_CHUNK) {
        int c = (int)(n - off < DIST_CHUNK ? n - off : DIST_CHUNK);
        if (MPI_Gather(buf + off, c, MPI_FLOAT, gathered, c, MPI_FLOAT, 0, MPI_COMM_WORLD) != MPI_SUCCESS)
            return nncl_fail(NNCL_E_DEVICE, "MPI_Gather of %d floats failed", c);
        if (rank == 0) {
            /* Rank order, in double, one rounding: the same bits whatever
             * the timing (and exact for a world of one). */
            for (int i = 0; i < c; i++) {
                double acc = 0;
                for (int r = 0; r < size; r++)
                    acc += (double)gathered[(size_t)r * (size_t)c + (size_t)i];
                buf[off + (size_t)i] = (float)acc;
            }
        }
        if (MPI_Bcast(buf + off, c, MPI_FLOAT, 0, MPI_COMM_WORLD) != MPI_SUCCESS)
            return nncl_fail(NNCL_E_DEVICE, "MPI_Bcast of %d floats failed", c);
    }
    nncl_dist_g.comm_seconds += nncl_seconds_now() - t0;
    return NNCL_OK;
}
