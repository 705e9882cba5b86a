/* The gradient all-reduce: a sum over ranks in a fixed order.
 *
 * A reduce-scatter then an all-gather, as a ring all-reduce moves its
 * bytes, but with the additions in one fixed order: the buffer is cut into
 * R blocks, rank j receives every rank's copy of block j (MPI_Alltoallv),
 * adds them in rank order in double and rounds once, and every rank then
 * gathers the R summed blocks (MPI_Allgatherv). Each rank moves
 * 2 (R-1)/R of the buffer and adds 1/R of it, the ranks adding at the same
 * time; the bits are those of adding all R copies in rank order in one
 * place, whatever the timing (MPI_Allreduce picks its algorithm, and with it
 * the order of the additions, by message size and process count). */
#include <mpi.h>
#include <stdlib.h>

#include "dist/dist.h"
#include "dist/dist_internal.h"
#include "util/clock.h"

/* This rank's receive buffer (R copies of its block of one chunk) and the
 * count and offset tables, kept between calls: a step's sum would otherwise
 * allocate them every time. Freed with the process. */
static float *received;
static size_t received_len;
static int *counts, *offsets, *recv_counts, *recv_offsets;
static int tables_for;

static nncl_status tables(int size)
{
    if (tables_for == size)
        return NNCL_OK;
    free(counts);
    counts = malloc(4 * (size_t)size * sizeof *counts);
    if (!counts) {
        tables_for = 0;
        return nncl_fail(NNCL_E_NOMEM, "out of memory for the all-reduce's tables of %d ranks", size);
    }
    offsets = counts + size;
    recv_counts = offsets + size;
    recv_offsets = recv_counts + size;
    tables_for = size;
    return NNCL_OK;
}

/* Block j of c floats: [c j / R, c (j+1) / R). */
static void cut(int c, int size)
{
    for (int j = 0; j < size; j++) {
        offsets[j] = (int)((long long)c * j / size);
        counts[j] = (int)((long long)c * (j + 1) / size) - offsets[j];
    }
}

/* own[i] = sum over ranks r = 0..R-1, in that order, of copy r's own[i]:
 * copies[r m + i] for m = own's length. In double, 256 at a time, so that
 * the compiler can vectorise over i with r in the outer loop. */
static void add_in_rank_order(float *own, const float *copies, int m, int size)
{
    enum { LANES = 256 };
    double acc[LANES];
    for (int i0 = 0; i0 < m; i0 += LANES) {
        int e = m - i0 < LANES ? m - i0 : LANES;
        for (int i = 0; i < e; i++)
            acc[i] = 0.0; /* then + rank 0's: -0.0 everywhere sums to +0.0, as it always did */
        for (int r = 0; r < size; r++) {
            const float *x = copies + (size_t)r * (size_t)m + (size_t)i0;
            for (int i = 0; i < e; i++)
                acc[i] += (double)x[i];
        }
        for (int i = 0; i < e; i++)
            own[i0 + i] = (float)acc[i];
    }
}

nncl_status nncl_dist_sum(float *buf, size_t n)
{
    const int size = nncl_dist_g.size, rank = nncl_dist_g.rank;
    if (!nncl_dist_g.active || size == 1 || n == 0)
        return NNCL_OK;
    double t0 = nncl_seconds_now();
    nncl_status st = tables(size);
    if (st != NNCL_OK)
        return st;
    /* The largest block of a chunk, received from every rank. */
    size_t chunk = n < DIST_CHUNK ? n : DIST_CHUNK;
    size_t want = (size_t)size * ((chunk + (size_t)size - 1) / (size_t)size);
    if (received_len < want) {
        float *g = realloc(received, want * sizeof *g);
        if (!g)
            return nncl_fail(NNCL_E_NOMEM, "out of memory for the all-reduce of %zu floats from %d ranks", n, size);
        received = g;
        received_len = want;
    }
    for (size_t off = 0; off < n; off += DIST_CHUNK) {
        int c = (int)(n - off < DIST_CHUNK ? n - off : DIST_CHUNK);
        float *part = buf + off;
        cut(c, size);
        int m = counts[rank];
        for (int r = 0; r < size; r++) {
            recv_counts[r] = m;
            recv_offsets[r] = r * m;
        }
        if (MPI_Alltoallv(part, counts, offsets, MPI_FLOAT, received, recv_counts, recv_offsets, MPI_FLOAT,
                          MPI_COMM_WORLD) != MPI_SUCCESS)
            return nncl_fail(NNCL_E_DEVICE, "MPI_Alltoallv of %d floats failed", c);
        add_in_rank_order(part + offsets[rank], received, m, size);
        if (MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, part, counts, offsets, MPI_FLOAT, MPI_COMM_WORLD) !=
            MPI_SUCCESS)
            return nncl_fail(NNCL_E_DEVICE, "MPI_Allgatherv of %d floats failed", c);
    }
    nncl_dist_g.comm_seconds += nncl_seconds_now() - t0;
    return NNCL_OK;
}
