/* batchnorm: per channel (per feature after a dense layer), over the batch
 * and the pixels, y = gamma (x - mean) / sqrt(var + eps) + beta, with the
 * batch's statistics while training (and running ones updated with
 * momentum 0.1) and the running ones otherwise: PyTorch's BatchNorm1d/2d.
 * gamma and beta are trained; the running mean and variance are kept after
 * the trained parameters, so they are saved with them but never updated by
 * the optimiser. The batch's mean and 1/std stay in the aux buffer for the
 * backward pass (ops.h states the ops' math). */
#include "net/network_impl.h"

#define BN_MOMENTUM 0.1f
#define BN_EPS 1e-5f

static nncl_status bn_infer(net_layer *l, size_t max_batch)
{
    (void)max_batch;
    l->out = l->in;
    l->w_len = l->in.c;     /* gamma */
    l->b_len = l->in.c;     /* beta */
    l->s_len = 2 * l->in.c; /* running mean, running var */
    l->aux_len = 2 * l->in.c;
    return NNCL_OK;
}

static void bn_init(const net_layer *l, float *params, nncl_init_kind kind, float param, nncl_rng *r)
{
    (void)kind, (void)param, (void)r;
    size_t c = l->in.c;
    for (size_t i = 0; i < c; i++) {
        params[l->w_off + i] = 1.0f;
        params[l->b_off + i] = 0.0f;
        params[l->s_off + i] = 0.0f;
        params[l->s_off + c + i] = 1.0f;
    }
}

static nncl_status bn_forward(nncl_net *net, const net_layer *l, const layer_io *io)
{
    size_t c = l->in.c;
    nncl_batchnorm_fwd_args a = {
        .n = io->rows, .c = c, .hw = l->in.h * l->in.w, .x = io->x, .y = io->y,
        .gamma = nncl_net_params_view(net, l->w_off), .beta = nncl_net_params_view(net, l->b_off),
        .run_mean = nncl_net_params_view(net, l->s_off), .run_var = nncl_net_params_view(net, l->s_off + c),
        .save = nncl_net_aux_view(net, l->aux_off), .train = io->train, .momentum = BN_MOMENTUM, .eps = BN_EPS,
    };
    return nncl_batchnorm_fwd(net->dev, &a);
}

static nncl_status bn_backward(nncl_net *net, const net_layer *l, const layer_io *io)
{
    nncl_batchnorm_bwd_args a = {
        .n = io->rows, .c = l->in.c, .hw = l->in.h * l->in.w, .x = io->x, .dy = io->dy,
        .gamma = nncl_net_params_view(net, l->w_off), .save = nncl_net_aux_view(net, l->aux_off), .dx = io->dx,
        .dgamma = nncl_net_grads_view(net, l->w_off), .dbeta = nncl_net_grads_view(net, l->b_off),
    };
    return nncl_batchnorm_bwd(net->dev, &a);
}

static int bn_tensors(const net_layer *l, nncl_tensor_info *t)
{
    size_t c = l->in.c;
    t[0] = (nncl_tensor_info){.name = "weight", .ndim = 1, .dims = {c}, .offset = l->w_off, .len = c, .trained = true};
    t[1] = (nncl_tensor_info){.name = "bias", .ndim = 1, .dims = {c}, .offset = l->b_off, .len = c, .trained = true};
    t[2] = (nncl_tensor_info){.name = "running_mean", .ndim = 1, .dims = {c}, .offset = l->s_off, .len = c};
    t[3] = (nncl_tensor_info){.name = "running_var", .ndim = 1, .dims = {c}, .offset = l->s_off + c, .len = c};
    return 4;
}

const layer_ops nncl_layer_batchnorm_ops = {
    .kind = NNCL_LAYER_BATCHNORM, .infer = bn_infer, .init = bn_init,
    .forward = bn_forward, .backward = bn_backward, .tensors = bn_tensors,
};
