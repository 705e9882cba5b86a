/* `mpirun -np R nncl sweep ...`: trials handed out to ranks as they free up.
 *
 * Rank 0 is the coordinator only: it keeps sweep.json and answers the other
 * ranks, each of which asks for a trial, trains it, writes its run
 * directory and asks again (the ask carries the trial it finished). Rank 0
 * trains nothing because (1) it then answers within milliseconds, where a
 * rank 0 busy with a trial would leave the others idle until that trial
 * ended, and (2) when a rank dies mpirun gives the others SIGTERM and one
 * second before SIGKILL: an idle coordinator records the dead rank's trial
 * as interrupted well inside that second. It waits by polling with a 1 ms
 * sleep, so it costs a slot of the job, not a core: start R = workers + 1
 * ranks (--oversubscribe on one machine).
 *
 * A trial's results depend on its flags and seed alone, not on the rank
 * that trains it, so the sweep directory is a one-process sweep's. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/sweep_run.h"
#include "cli/train_dist.h"
#include "cli/train_run.h"
#include "dist/dist.h"

enum { TAG_ASK = 1501, TAG_GIVE = 1502 };
/* ASK: {finished trial or -1, its exit code, 1 to want another}.
 * GIVE: {trial to train or -1 to leave, rank 0's exit code}. */

int sweep_ranks_start(int *rank, int *size)
{
    *rank = 0;
    *size = 1;
    bool active = false;
    nncl_status st = nncl_dist_init(false, &active);
    if (st != NNCL_OK)
        return cli_fail(st);
    if (!active) {
        const char *world = getenv("OMPI_COMM_WORLD_SIZE"), *me = getenv("OMPI_COMM_WORLD_RANK");
        if (world && atoi(world) > 1) {
            if (!me || atoi(me) == 0)
                cli_error("this nncl was built without MPI, so under mpirun each of the %s ranks would run the "
                          "whole sweep: run it without mpirun, or install libopenmpi-dev and rebuild", world);
            return CLI_USAGE;
        }
        return CLI_OK;
    }
    nncl_dist_rank(rank, size);
    if (*size == 1) {
        /* A world of one is the plain sweep (and may fork its --jobs). */
        *rank = 0;
        return nncl_dist_finalize() == NNCL_OK ? CLI_OK : cli_fail(NNCL_E_DEVICE);
    }
    /* A collective: every rank, before anything that can fail on one alone. */
    int rc = dist_share_cores(false);
    if (rc != CLI_OK)
        return rc;
    if (*rank != 0 && !freopen("/dev/null", "w", stdout))
        return cli_fail(nncl_fail(NNCL_E_IO, "rank %d: cannot silence stdout", *rank));
    return CLI_OK;
}

int sweep_ranks_hush(bool on)
{
    static int saved = -1;
    fflush(stderr);
    if (on && saved < 0) {
        int null = open("/dev/null", O_WRONLY);
        saved = null >= 0 ? dup(2) : -1;
        if (saved >= 0)
            dup2(null, 2);
        if (null >= 0)
            close(null);
    } else if (!on && saved >= 0) {
        dup2(saved, 2);
        close(saved);
        saved = -1;
    }
    return CLI_OK;
}

int sweep_ranks_share_dir(char *out, size_t len)
{
    nncl_status st = nncl_dist_bcast_text(out, len);
    out[len - 1] = '\0';
    return st == NNCL_OK ? CLI_OK : cli_fail(st);
}

static void nap(void)
{
    const struct timespec ts = {0, 2 * 1000 * 1000};
    nanosleep(&ts, NULL);
}

int sweep_ranks_lead(const sweep_plan *p, const char *sweep_dir, const bool *todo, int start_rc, int argc,
                     char **argv)
{
    int rank, size;
    nncl_dist_rank(&rank, &size);
    int *where = calloc(p->n_trials, sizeof *where);  /* the rank training it, or 0 */
    bool *lost = calloc(p->n_trials, sizeof *lost);
    int rc = start_rc;
    if (!where || !lost) {
        free(where);
        free(lost);
        rc = cli_fail(nncl_fail(NNCL_E_NOMEM, "out of memory"));
        nncl_dist_abort(rc);
        return rc;
    }
    volatile sig_atomic_t *stop = train_stop_flag();
    bool stopping = false;
    size_t next = 0;
    int ranks_left = size - 1;
    while (ranks_left > 0) {
        if (*stop && !stopping) {
            /* The job is ending (mpirun signals every rank when one dies,
             * or was asked to stop): what is out will not finish here. */
            stopping = true;
            for (size_t i = 0; i < p->n_trials; i++)
                lost[i] = where[i] != 0;
            sweep_write_json(p, sweep_dir, argc, argv, lost);
        }
        int ask[3], from = 0;
        bool got = false;
        nncl_status st = nncl_dist_poll_ints(-1, TAG_ASK, &from, ask, 3, &got);
        if (st != NNCL_OK) {
            rc = cli_fail(st);
            nncl_dist_abort(rc);
            break;
        }
        if (!got) {
            nap();
            continue;
        }
        if (ask[0] >= 0 && (size_t)ask[0] < p->n_trials && where[ask[0]] == from) {
            char who[32];
            snprintf(who, sizeof who, "rank %d", from);
            where[ask[0]] = 0;
            lost[ask[0]] = false;
            sweep_print_trial(p, (size_t)ask[0], sweep_dir, who);
            if ((st = sweep_write_json(p, sweep_dir, argc, argv, stopping ? lost : NULL)) != NNCL_OK && rc == CLI_OK)
                rc = cli_fail(st);
        }
        /* A rank that could not go on (its device, the data): no more
         * trials for anyone, as a one-process sweep stops on bad data. */
        if (ask[1] != CLI_OK && ask[1] != 128 + SIGINT && ask[1] != 128 + SIGTERM && rc == CLI_OK)
            rc = ask[1];
        int give[2] = {-1, rc};
        while (next < p->n_trials && !todo[next])
            next++;
        if (ask[2] && rc == CLI_OK && !*stop && next < p->n_trials) {
            give[0] = (int)next;
            where[next++] = from;
        }
        if ((st = nncl_dist_send_ints(from, TAG_GIVE, give, 2)) != NNCL_OK) {
            rc = cli_fail(st);
            nncl_dist_abort(rc);
            break;
        }
        if (give[0] < 0)
            ranks_left--;
    }
    nncl_status st = sweep_write_json(p, sweep_dir, argc, argv, stopping ? lost : NULL);
    if (st != NNCL_OK && rc == CLI_OK)
        rc = cli_fail(st);
    free(where);
    free(lost);
    return rc == CLI_OK && *stop ? 128 + (int)*stop : rc;
}

int sweep_ranks_follow(const sweep_plan *p, const char *sweep_dir)
{
    int rank, size;
    nncl_dist_rank(&rank, &size);
    nncl_device *dev = NULL;
    int rc = cli_open_device(p->device, &dev);
    sweep_data_cache cache = {0};
    volatile sig_atomic_t *stop = train_stop_flag();
    int ask[3] = {-1, rc, 0};
    for (;;) {
        ask[2] = rc == CLI_OK && !*stop;
        int give[2];
        nncl_status st = nncl_dist_send_ints(0, TAG_ASK, ask, 3);
        if (st == NNCL_OK)
            st = nncl_dist_recv_ints(0, TAG_GIVE, give, 2);
        if (st != NNCL_OK) {
            rc = cli_fail(st);
            nncl_dist_abort(rc);
            break;
        }
        if (give[0] < 0 || !ask[2]) {
            /* Rank 0 knows how this rank's trials went (each ask says)
             * and exits with the sweep's code; leaving with 0 lets the
             * other ranks finish their trials (mpirun ends the whole job
             * when a rank exits non-zero). A stop by a signal is said. */
            rc = CLI_OK;
            break;
        }
        bool claimed = false;
        int trc = sweep_run_trial(p, sweep_dir, (size_t)give[0], dev, &cache, &claimed);
        if (trc == CLI_OK && !claimed)
            trc = cli_fail(nncl_fail(NNCL_E_INVALID, "rank %d: %s/%s exists already (another sweep in the same "
                                                     "folder?)", rank, sweep_dir, p->trials[give[0]].dir));
        ask[0] = give[0];
        ask[1] = trc;
        rc = trc;
    }
    sweep_data_cache_free(&cache);
    nncl_device_close(dev);
    return rc == CLI_OK && *stop ? 128 + (int)*stop : rc;
}

int sweep_ranks_finish(int rc)
{
    nncl_status st = nncl_dist_finalize();
    return st == NNCL_OK || rc != CLI_OK ? rc : cli_fail(st);
}
