/* Small point-to-point messages (a few ints) and rank 0's text to all: the
 * sweep's trial hand-out. Waiting polls with a short sleep instead of
 * MPI_Recv, whose wait spins a core in Open MPI: a coordinator that waits
 * for most of a sweep should not take a core from the ranks that train. */
#include <mpi.h>
#include <time.h>

#include "dist/dist.h"
#include "dist/dist_internal.h"

static nncl_status need_peers(void)
{
    return nncl_dist_g.active && nncl_dist_g.size > 1 ? NNCL_OK
                                                      : nncl_fail(NNCL_E_INVALID, "MPI messages need a job of 2 or more ranks");
}

nncl_status nncl_dist_send_ints(int to, int tag, const int *v, int n)
{
    nncl_status st = need_peers();
    if (st == NNCL_OK && MPI_Send(v, n, MPI_INT, to, tag, MPI_COMM_WORLD) != MPI_SUCCESS)
        st = nncl_fail(NNCL_E_DEVICE, "MPI_Send of %d ints to rank %d failed", n, to);
    return st;
}

nncl_status nncl_dist_poll_ints(int from, int tag, int *source, int *v, int n, bool *got)
{
    *got = false;
    nncl_status st = need_peers();
    if (st != NNCL_OK)
        return st;
    int flag = 0;
    MPI_Status ms;
    if (MPI_Iprobe(from < 0 ? MPI_ANY_SOURCE : from, tag, MPI_COMM_WORLD, &flag, &ms) != MPI_SUCCESS)
        return nncl_fail(NNCL_E_DEVICE, "MPI_Iprobe failed");
    if (!flag)
        return NNCL_OK;
    int count = 0;
    MPI_Get_count(&ms, MPI_INT, &count);
    if (count != n)
        return nncl_fail(NNCL_E_FORMAT, "rank %d sent %d ints where %d were expected", ms.MPI_SOURCE, count, n);
    if (MPI_Recv(v, n, MPI_INT, ms.MPI_SOURCE, ms.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE) != MPI_SUCCESS)
        return nncl_fail(NNCL_E_DEVICE, "MPI_Recv from rank %d failed", ms.MPI_SOURCE);
    *source = ms.MPI_SOURCE;
    *got = true;
    return NNCL_OK;
}

nncl_status nncl_dist_recv_ints(int from, int tag, int *v, int n)
{
    const struct timespec nap = {0, 1000 * 1000};   /* 1 ms */
    for (;;) {
        int source;
        bool got;
        nncl_status st = nncl_dist_poll_ints(from, tag, &source, v, n, &got);
        if (st != NNCL_OK || got)
            return st;
        nanosleep(&nap, NULL);
    }
}

nncl_status nncl_dist_bcast_text(char *buf, size_t len)
{
    if (!nncl_dist_g.active || nncl_dist_g.size == 1)
        return NNCL_OK;
    if (len > (size_t)1 << 30)
        return nncl_fail(NNCL_E_INVALID, "a text of %zu bytes is too long to broadcast", len);
    if (MPI_Bcast(buf, (int)len, MPI_CHAR, 0, MPI_COMM_WORLD) != MPI_SUCCESS)
        return nncl_fail(NNCL_E_DEVICE, "MPI_Bcast of %zu bytes failed", len);
    return NNCL_OK;
}
