/* Starting and stopping MPI, and the process's place in the job. */
#include <mpi.h>
#include <stdlib.h>

#include "dist/dist.h"
#include "dist/dist_internal.h"

dist_state nncl_dist_g = {.rank = 0, .size = 1};

nncl_status nncl_dist_init(bool requested, bool *active)
{
    *active = false;
    /* Open MPI's launcher sets this in every process it starts: a plain
     * `nncl train` never pays for MPI's start-up (its runtime, its threads). */
    if (!requested && !getenv("OMPI_COMM_WORLD_SIZE"))
        return NNCL_OK;
    int inited = 0;
    MPI_Initialized(&inited);
    if (!inited) {
        /* FUNNELED: the host backend computes on worker threads, but only
         * the main thread calls MPI. */
        int provided = 0;
        if (MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
            return nncl_fail(NNCL_E_DEVICE, "MPI_Init_thread failed");
    }
    if (MPI_Comm_rank(MPI_COMM_WORLD, &nncl_dist_g.rank) != MPI_SUCCESS ||
        MPI_Comm_size(MPI_COMM_WORLD, &nncl_dist_g.size) != MPI_SUCCESS)
        return nncl_fail(NNCL_E_DEVICE, "MPI: cannot read this process's rank");
    nncl_dist_g.active = true;
    *active = true;
    return NNCL_OK;
}

nncl_status nncl_dist_finalize(void)
{
    if (!nncl_dist_g.active)
        return NNCL_OK;
    nncl_dist_g.active = false;
    nncl_dist_g.rank = 0;
    nncl_dist_g.size = 1;
    return MPI_Finalize() == MPI_SUCCESS ? NNCL_OK : nncl_fail(NNCL_E_DEVICE, "MPI_Finalize failed");
}

nncl_status nncl_dist_rank(int *rank, int *size)
{
    *rank = nncl_dist_g.rank;
    *size = nncl_dist_g.size;
    return NNCL_OK;
}

nncl_status nncl_dist_local(int *local_size, bool *with_rank0)
{
    *local_size = 1;
    *with_rank0 = true;
    if (!nncl_dist_g.active)
        return NNCL_OK;
    MPI_Comm local;
    if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &local) != MPI_SUCCESS)
        return nncl_fail(NNCL_E_DEVICE, "MPI: cannot find the ranks on this machine");
    int is0 = nncl_dist_g.rank == 0, any0 = 0;
    int ok = MPI_Comm_size(local, local_size) == MPI_SUCCESS &&
             MPI_Allreduce(&is0, &any0, 1, MPI_INT, MPI_MAX, local) == MPI_SUCCESS;
    MPI_Comm_free(&local);
    if (!ok)
        return nncl_fail(NNCL_E_DEVICE, "MPI: cannot count the ranks on this machine");
    *with_rank0 = any0 != 0;
    return NNCL_OK;
}

nncl_status nncl_dist_comm_seconds(double *seconds, bool reset)
{
    *seconds = nncl_dist_g.comm_seconds;
    if (reset)
        nncl_dist_g.comm_seconds = 0;
    return NNCL_OK;
}

nncl_status nncl_dist_abort(int code)
{
    if (!nncl_dist_g.active)
        return NNCL_OK;
    MPI_Abort(MPI_COMM_WORLD, code);
    return nncl_fail(NNCL_E_DEVICE, "MPI_Abort returned");
}
