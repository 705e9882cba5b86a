/* The build without MPI: a world of one process, and a clear refusal of
 * --distributed. */
#include <stdlib.h>

#include "dist/dist.h"

nncl_status nncl_dist_init(bool requested, bool *active)
{
    *active = false;
    if (requested)
        return nncl_fail(NNCL_E_UNSUPPORTED, "this nncl was built without MPI (install libopenmpi-dev and rebuild)");
    return NNCL_OK;
}

nncl_status nncl_dist_finalize(void) { return NNCL_OK; }

nncl_status nncl_dist_rank(int *rank, int *size)
{
    *rank = 0;
    *size = 1;
    return NNCL_OK;
}

nncl_status nncl_dist_sum(float *buf, size_t n)
{
    (void)buf;
    (void)n;
    return NNCL_OK;
}

nncl_status nncl_dist_bcast(float *buf, size_t n)
{
    (void)buf;
    (void)n;
    return NNCL_OK;
}

nncl_status nncl_dist_send_ints(int to, int tag, const int *v, int n)
{
    (void)to, (void)tag, (void)v, (void)n;
    return nncl_fail(NNCL_E_UNSUPPORTED, "this nncl was built without MPI");
}

nncl_status nncl_dist_poll_ints(int from, int tag, int *source, int *v, int n, bool *got)
{
    (void)from, (void)tag, (void)source, (void)v, (void)n;
    *got = false;
    return nncl_fail(NNCL_E_UNSUPPORTED, "this nncl was built without MPI");
}

nncl_status nncl_dist_recv_ints(int from, int tag, int *v, int n)
{
    (void)from, (void)tag, (void)v, (void)n;
    return nncl_fail(NNCL_E_UNSUPPORTED, "this nncl was built without MPI");
}

nncl_status nncl_dist_bcast_text(char *buf, size_t len)
{
    (void)buf, (void)len;
    return NNCL_OK;
}

nncl_status nncl_dist_local(int *local_size, bool *with_rank0)
{
    *local_size = 1;
    *with_rank0 = true;
    return NNCL_OK;
}

nncl_status nncl_dist_comm_seconds(double *seconds, bool reset)
{
    (void)reset;
    *seconds = 0;
    return NNCL_OK;
}

nncl_status nncl_dist_abort(int code)
{
    (void)code;
    return NNCL_OK;
}
