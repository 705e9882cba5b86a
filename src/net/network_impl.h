/* The network's private state: its laid-out layers, every buffer (allocated
 * once, at creation) and its step plans. */
#ifndef NNCL_NETWORK_IMPL_H
#define NNCL_NETWORK_IMPL_H

#include "net/layer.h"
#include "net/step_plan.h"

struct nncl_net {
    nncl_device *dev;
    nncl_net_config cfg;
    size_t max_batch;
    net_layout lay;
    size_t n_params, n_trained;
    size_t w_off[NNCL_MAX_LAYERS], b_off[NNCL_MAX_LAYERS];  /* by config layer (weight layers) */
    nncl_buffer *params, *grads, *m, *v, *best;
    nncl_buffer *acts, *dacts;              /* a_0 and each layer's y; each layer's dy */
    nncl_buffer *aux;                       /* pool argmax, batch statistics (or NULL) */
    nncl_buffer *conv_scratch;              /* the convolutions' patch matrices (or NULL) */
    nncl_buffer *labels, *targets, *argmax;
    nncl_buffer *scratch, *acc;             /* loss reduction scratch, (sum0, sum1) */
    nncl_buffer *shift, *scale;             /* input transform */
    nncl_buffer *ones;                      /* ones, and one spare float at the end */
    nncl_buffer *wg_scratch;                /* linear_u8_wgrad's chunk partials, or NULL */
    size_t wg_scratch_len;
    nncl_buffer *head_scratch;              /* head_xent's chunk partials, when its rule can fire */
    nncl_buffer *step_scratch;              /* linear_u8_head's, when its rule can fire */
    /* The plans: [the first layer reads bytes][fused], compiled at creation. */
    step_plan plans[2][2];
    float t_shift, t_scale;                 /* regression target transform */
    size_t quirk_grad_rows;                 /* tutorial-faithful: divide by this */
    bool quirk_scalar_bias;
    /* What a_0 holds now, so a full batch is gathered once, not every step. */
    const nncl_device_data *loaded;
    size_t loaded_first, loaded_rows;
    unsigned long loaded_version;
    /* Direct mode: the first layer reads a byte dataset through the order
     * list (linear_u8_*), and nothing is gathered but labels. */
    const nncl_device_data *direct;
    size_t direct_first;                    /* its first row in the order list */
    bool direct_indexed;                    /* read rows through the order list */
};

/* The view of layer i's input (a_0 for the first) and output. */
nncl_view nncl_net_layer_x(const nncl_net *net, int i);
nncl_view nncl_net_layer_y(const nncl_net *net, int i);
/* The labels of the loaded batch, and the gradient scale of the mean loss. */
nncl_view nncl_net_batch_labels(const nncl_net *net);
float nncl_net_grad_scale(const nncl_net *net, size_t rows);
/* The order list of a direct batch ({NULL} for a whole dataset in order). */
nncl_view nncl_net_direct_index(const nncl_net *net);

#endif
