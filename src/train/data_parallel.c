/* Data-parallel training steps: a share of the batch per rank, and one
 * sum of the gradients over ranks before the optimiser step. */
#include <stdlib.h>
#include <string.h>

#include "train/data_parallel.h"

nncl_status dp_init(data_parallel *dp, const nncl_train_comm *comm, const nncl_net *net)
{
    memset(dp, 0, sizeof *dp);
    dp->comm = comm;
    if (!comm)
        return NNCL_OK;
    if (comm->size < 1 || comm->rank < 0 || comm->rank >= comm->size || !comm->sum || !comm->bcast)
        return nncl_fail(NNCL_E_INVALID, "data-parallel training: rank %d of %d, or no collectives", comm->rank,
                         comm->size);
    dp->n_trained = nncl_net_trained_count(net);
    dp->n_params = nncl_net_param_count(net);
    /* One float more than the parameters: the stop flag rides on the
     * gradients' sum, so all ranks stop at the same step at no extra cost. */
    dp->buf = malloc((dp->n_params + 1) * sizeof *dp->buf);
    if (!dp->buf)
        return nncl_fail(NNCL_E_NOMEM, "out of memory for the gradients of %zu parameters", dp->n_params);
    return NNCL_OK;
}

void dp_free(data_parallel *dp)
{
    free(dp->buf);
    dp->buf = NULL;
}

nncl_status dp_start(data_parallel *dp, nncl_net *net, bool optim_state)
{
    if (!dp->comm)
        return NNCL_OK;
    const nncl_train_comm *c = dp->comm;
    nncl_status st = nncl_net_get_params(net, dp->buf);
    if (st == NNCL_OK)
        st = c->bcast(c->ctx, dp->buf, dp->n_params);
    if (st == NNCL_OK)
        st = nncl_net_set_params(net, dp->buf);
    if (st != NNCL_OK || !optim_state)
        return st;
    float *m = malloc(2 * dp->n_params * sizeof *m);
    if (!m)
        return nncl_fail(NNCL_E_NOMEM, "out of memory for the optimiser state");
    st = nncl_net_get_optim_state(net, m, m + dp->n_params);
    if (st == NNCL_OK)
        st = c->bcast(c->ctx, m, 2 * dp->n_params);
    if (st == NNCL_OK)
        st = nncl_net_set_optim_state(net, m, m + dp->n_params);
    free(m);
    return st;
}

nncl_status dp_train_step(data_parallel *dp, nncl_net *net, const nncl_device_data *dd, size_t first,
                          size_t rows, const nncl_optim_config *opt, float lr, uint64_t seed, unsigned long t,
                          bool stop_here)
{
    const nncl_train_comm *c = dp->comm;
    if (!c) {
        dp->stop = stop_here;
        return nncl_net_train_step(net, dd, first, rows, opt, lr, seed, t);
    }
    /* This rank's rows: [r*B/R, (r+1)*B/R) of the batch's B. */
    size_t lo = rows * (size_t)c->rank / (size_t)c->size, hi = rows * (size_t)(c->rank + 1) / (size_t)c->size;
    size_t mine = hi - lo;
    nncl_status st = NNCL_OK;
    if (mine > 0) {
        /* Dropout's masks are keyed by (seed, step) and the row in the
         * batch: another key per rank, or every rank would drop the same
         * units of its first row. Rank 0 keeps the seed (-np 1 is the
         * plain run). */
        uint64_t key = seed ^ (0x9E3779B97F4A7C15ULL * (uint64_t)c->rank);
        if ((st = nncl_net_load_batch(net, dd, first + lo, mine)) != NNCL_OK ||
            (st = nncl_net_forward_backward(net, mine, key, t)) != NNCL_OK ||
            (st = nncl_net_get_grads(net, dp->buf)) != NNCL_OK)
            return st;
        /* The batch's mean gradient is the rows-weighted mean of the ranks'. */
        if (mine != rows) {
            float w = (float)((double)mine / (double)rows);
            for (size_t i = 0; i < dp->n_trained; i++)
                dp->buf[i] *= w;
        }
    } else {
        memset(dp->buf, 0, dp->n_trained * sizeof *dp->buf);    /* a batch smaller than the ranks */
    }
    dp->buf[dp->n_trained] = stop_here ? 1.0f : 0.0f;
    if ((st = c->sum(c->ctx, dp->buf, dp->n_trained + 1)) != NNCL_OK)
        return st;
    dp->stop = dp->buf[dp->n_trained] > 0;
    if ((st = nncl_net_set_grads(net, dp->buf, dp->n_trained)) != NNCL_OK)
        return st;
    return nncl_net_optim_step(net, opt, lr, t);
}

nncl_status dp_acc_read(data_parallel *dp, nncl_net *net, double *sum0, double *sum1)
{
    nncl_status st = nncl_net_acc_read(net, sum0, sum1);
    if (st != NNCL_OK || !dp->comm)
        return st;
    /* The device's sums are floats: summing them as floats loses nothing
     * that was there (as the checkpoint keeps them). */
    float s[2] = {(float)*sum0, (float)*sum1};
    if ((st = dp->comm->sum(dp->comm->ctx, s, 2)) != NNCL_OK)
        return st;
    *sum0 = s[0];
    *sum1 = s[1];
    return NNCL_OK;
}

nncl_status dp_acc_set(data_parallel *dp, nncl_net *net, double sum0, double sum1)
{
    if (dp->comm && dp->comm->rank != 0)
        sum0 = sum1 = 0;
    return nncl_net_acc_set(net, sum0, sum1);
}

nncl_status dp_sync_kept(data_parallel *dp, nncl_net *net)
{
    if (!dp->comm || dp->comm->size == 1 || dp->n_params == dp->n_trained)
        return NNCL_OK;
    size_t k = dp->n_params - dp->n_trained;
    nncl_status st = nncl_net_get_params(net, dp->buf);
    if (st != NNCL_OK)
        return st;
    float *kept = dp->buf + dp->n_trained;
    float w = 1.0f / (float)dp->comm->size;
    for (size_t i = 0; i < k; i++)
        kept[i] *= w;
    if ((st = dp->comm->sum(dp->comm->ctx, kept, k)) != NNCL_OK)
        return st;
    return nncl_net_set_params(net, dp->buf);
}
