/* conv: y = f(conv(x, W) + b) with K filters W [K, C, S, S] (PyTorch's
 * Conv2d layout), stride and padding from the spec ("same" by default: an
 * output of ceil(in / stride)). The ops conv2d_fwd and conv2d_bwd do the
 * work (ops.h states their math); backward first turns dy into the
 * pre-activation gradient, in place. */
#include <math.h>

#include "net/network_impl.h"

static nncl_status conv_infer(net_layer *l, size_t max_batch)
{
    const nncl_layer_spec *s = &l->spec;
    nncl_conv2d_shape *g = &l->geo.conv;
    if (s->units == 0 || s->kernel == 0)
        return nncl_fail(NNCL_E_INVALID, "a convolution needs at least 1 filter of at least 1x1");
    nncl_status st = nncl_conv2d_shape_make(max_batch, l->in.c, l->in.h, l->in.w, s->units, s->kernel, s->kernel,
                                            s->stride ? s->stride : 1, s->padding, g);
    if (st != NNCL_OK)
        return st;
    l->out = (nncl_shape3){g->k, g->oh, g->ow};
    l->w_len = g->k * g->c * g->kh * g->kw;
    l->b_len = g->k;
    l->scratch_len = nncl_conv2d_scratch_len(g);
    if (l->scratch_len == 0)
        return nncl_fail(NNCL_E_INVALID, "the convolution's patch matrix for %zu images is too large", max_batch);
    return NNCL_OK;
}

/* Fans as PyTorch counts them for a convolution: C*S*S in, K*S*S out. */
static void conv_init(const net_layer *l, float *params, nncl_init_kind kind, float param, nncl_rng *r)
{
    const nncl_conv2d_shape *g = &l->geo.conv;
    size_t area = g->kh * g->kw, fan_in = g->c * area, fan_out = g->k * area;
    float *W = params + l->w_off, *b = params + l->b_off;
    for (size_t i = 0; i < l->w_len; i++)
        W[i] = nncl_init_weight(kind, param, fan_in, fan_out, r);
    for (size_t j = 0; j < l->b_len; j++)
        b[j] = kind == NNCL_INIT_UNIFORM ? (float)nncl_init_uniform(r, param) : 0.0f;
}

static nncl_conv2d_shape shape_for(const net_layer *l, size_t rows)
{
    nncl_conv2d_shape s = l->geo.conv;
    s.n = rows;
    return s;
}

static nncl_status conv_forward(nncl_net *net, const net_layer *l, const layer_io *io)
{
    nncl_conv2d_fwd_args a = {
        .s = shape_for(l, io->rows), .x = io->x, .w = nncl_net_params_view(net, l->w_off),
        .b = nncl_net_params_view(net, l->b_off), .y = io->y, .act = l->act, .act_param = l->act_param,
        .scratch = nncl_net_scratch_view(net),
    };
    return nncl_conv2d_fwd(net->dev, &a);
}

static nncl_status conv_backward(nncl_net *net, const net_layer *l, const layer_io *io)
{
    nncl_status st = io->dy_is_pre_act ? NNCL_OK : nncl_layer_act_bwd(net, l, io);
    if (st != NNCL_OK)
        return st;
    nncl_conv2d_bwd_args a = {
        .s = shape_for(l, io->rows), .x = io->x, .w = nncl_net_params_view(net, l->w_off), .dy = io->dy,
        .dx = io->dx, .dw = nncl_net_grads_view(net, l->w_off), .db = nncl_net_grads_view(net, l->b_off),
        .scratch = nncl_net_scratch_view(net),
    };
    return nncl_conv2d_bwd(net->dev, &a);
}

static int conv_tensors(const net_layer *l, nncl_tensor_info *t)
{
    const nncl_conv2d_shape *g = &l->geo.conv;
    t[0] = (nncl_tensor_info){.name = "weight", .ndim = 4, .dims = {g->k, g->c, g->kh, g->kw},
                              .offset = l->w_off, .len = l->w_len, .trained = true};
    t[1] = (nncl_tensor_info){.name = "bias", .ndim = 1, .dims = {g->k}, .offset = l->b_off, .len = l->b_len,
                              .trained = true};
    return 2;
}

const layer_ops nncl_layer_conv2d_ops = {
    .kind = NNCL_LAYER_CONV2D, .infer = conv_infer, .init = conv_init,
    .forward = conv_forward, .backward = conv_backward, .tensors = conv_tensors,
};
