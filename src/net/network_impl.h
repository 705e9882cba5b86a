/* The network's private state: every buffer, allocated once at creation. */
#ifndef NNCL_NETWORK_IMPL_H
#define NNCL_NETWORK_IMPL_H

#include "nncl/net.h"

struct nncl_net {
    nncl_device *dev;
    nncl_net_config cfg;
    size_t max_batch;
    size_t n_params;
    size_t w_off[NNCL_MAX_LAYERS], b_off[NNCL_MAX_LAYERS];     /* in params/grads */
    size_t act_off[NNCL_MAX_LAYERS + 1];    /* a_l in acts */
    size_t drop_off[NNCL_MAX_LAYERS + 1];   /* d_l in drop (hidden layers) */
    size_t dact_off[NNCL_MAX_LAYERS + 1];   /* g_l in dacts (l >= 1) */
    nncl_buffer *params, *grads, *m, *v, *best;
    nncl_buffer *acts, *drop, *dacts;
    nncl_buffer *labels, *targets, *argmax;
    nncl_buffer *scratch, *acc;             /* loss reduction scratch, (sum0, sum1) */
    nncl_buffer *shift, *scale;             /* input transform */
    nncl_buffer *ones;                      /* ones, and one spare float at the end */
    nncl_buffer *wg_scratch;                /* linear_u8_wgrad's chunk partials, or NULL */
    size_t wg_scratch_len;
    /* A narrow classifier's output layer runs fused (head_xent) in training:
     * its chunk partials, or NULL when the network is not narrow. */
    nncl_buffer *head_scratch;
    /* A byte-input classifier with one narrow hidden layer on a CPU device
     * runs its whole training step fused (linear_u8_head): its chunk
     * partials, or NULL. */
    nncl_buffer *step_scratch;
    /* A training forward leaves layers pending_from..L to nncl_net_loss,
     * which runs them fused with the loss (0: nothing deferred). */
    int pending_from;
    size_t pending_rows;
    float t_shift, t_scale;                 /* regression target transform */
    size_t quirk_grad_rows;                 /* tutorial-faithful: divide by this */
    bool quirk_scalar_bias;
    /* What a_0 holds now, so a full batch is gathered once, not every step. */
    const nncl_device_data *loaded;
    size_t loaded_first, loaded_rows;
    unsigned long loaded_version;
    /* Direct mode: the batch is a whole byte dataset in its own order, so the
     * first layer reads the bytes (linear_u8_*) and nothing is gathered. */
    const nncl_device_data *direct;
    size_t direct_first;                    /* its first row in the order list */
    bool direct_indexed;                    /* read rows through the order list */
};

#endif
