/* Starting and ending the MPI job of `nncl train --distributed`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nncl/device.h"

#include "cli/cli.h"
#include "cli/train_dist.h"
#include "dist/dist.h"

static train_dist job = {.rank = 0, .size = 1};

static nncl_status comm_sum(void *ctx, float *buf, size_t n)
{
    (void)ctx;
    return nncl_dist_sum(buf, n);
}

static nncl_status comm_bcast(void *ctx, float *buf, size_t n)
{
    (void)ctx;
    return nncl_dist_bcast(buf, n);
}

const train_dist *train_dist_get(void) { return &job; }

int dist_share_cores(bool rank0_trains)
{
    int local = 1;
    bool with0 = true;
    nncl_status st = nncl_dist_local(&local, &with0);
    if (st != NNCL_OK)
        return cli_fail(st);
    int training = local - (with0 && !rank0_trains ? 1 : 0);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (training < 2 || cores < 2)
        return CLI_OK;
    long each = cores / training;
    st = nncl_cpu_threads_limit(each < 1 ? 1 : (int)each);
    return st == NNCL_OK ? CLI_OK : cli_fail(st);
}

int train_dist_start(int argc, char **argv)
{
    bool want = false;
    for (int i = 1; i < argc; i++)
        want = want || strcmp(argv[i], "--distributed") == 0;
    bool active = false;
    nncl_status st = nncl_dist_init(want, &active);
    if (st == NNCL_E_UNSUPPORTED) {
        cli_error("--distributed: %s", nncl_last_error());
        return CLI_USAGE;
    }
    if (st != NNCL_OK)
        return cli_fail(st);
    if (!active)
        return CLI_OK;
    nncl_dist_rank(&job.rank, &job.size);
    if (!want && job.size > 1) {
        /* Every rank would train the same run alone, and write it R times. */
        if (job.rank == 0)
            cli_error("nncl train runs under mpirun with %d ranks but without --distributed: each rank would "
                      "train alone; add --distributed (data-parallel training of one run)", job.size);
        nncl_dist_finalize();
        job.rank = 0;
        job.size = 1;
        return CLI_USAGE;
    }
    job.on = want;
    int rc = dist_share_cores(true);
    if (rc != CLI_OK)
        return rc;
    job.comm = (nncl_train_comm){.rank = job.rank, .size = job.size, .sum = comm_sum, .bcast = comm_bcast};
    /* Only rank 0 speaks (Horovod's convention); errors keep stderr. */
    if (job.rank != 0 && !freopen("/dev/null", "w", stdout))
        return cli_fail(nncl_fail(NNCL_E_IO, "rank %d: cannot silence stdout", job.rank));
    return CLI_OK;
}

int train_dist_finish(int rc)
{
    if (!job.on)
        return rc;
    /* 130 and 143: every rank stopped at the same step (the stop flag rides
     * on the gradients' sum) and rank 0 saved; the others end normally. */
    if (rc != CLI_OK && rc != 130 && rc != 143 && job.size > 1) {
        fflush(stdout);
        fprintf(stderr, "nncl: rank %d of %d failed (exit %d): ending the job\n", job.rank, job.size, rc);
        nncl_dist_abort(rc);
    }
    nncl_status st = nncl_dist_finalize();
    job.on = false;
    return st == NNCL_OK || rc != CLI_OK ? rc : cli_fail(st);
}
