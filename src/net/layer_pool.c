/* maxpool, avgpool: S x S windows, stride S unless given, per channel (the
 * ops pool2d_fwd and pool2d_bwd; ops.h states their math). Max pooling keeps
 * each window's argmax (int32, in the aux buffer) for its backward pass. */
#include "net/network_impl.h"

static nncl_pool pool_kind(const net_layer *l)
{
    return l->spec.kind == NNCL_LAYER_MAXPOOL ? NNCL_POOL_MAX : NNCL_POOL_AVG;
}

static nncl_status pool_infer(net_layer *l, size_t max_batch)
{
    if (l->spec.kernel == 0)
        return nncl_fail(NNCL_E_INVALID, "a pool needs a window of at least 1");
    if (l->spec.kernel > l->in.h || l->spec.kernel > l->in.w)
        return nncl_fail(NNCL_E_INVALID, "a %zux%zu window is larger than its %zux%zu input", l->spec.kernel,
                         l->spec.kernel, l->in.h, l->in.w);
    nncl_status st = nncl_pool2d_shape_make(max_batch, l->in.c, l->in.h, l->in.w, l->spec.kernel, l->spec.stride,
                                            &l->geo.pool);
    if (st != NNCL_OK)
        return st;
    l->out = (nncl_shape3){l->in.c, l->geo.pool.oh, l->geo.pool.ow};
    l->aux_len = pool_kind(l) == NNCL_POOL_MAX ? max_batch * shape3_len(l->out) : 0;
    return NNCL_OK;
}

static nncl_pool2d_shape shape_for(const net_layer *l, size_t rows)
{
    nncl_pool2d_shape s = l->geo.pool;
    s.n = rows;
    return s;
}

static nncl_status pool_forward(nncl_net *net, const net_layer *l, const layer_io *io)
{
    nncl_pool2d_fwd_args a = {
        .kind = pool_kind(l), .s = shape_for(l, io->rows), .x = io->x, .y = io->y,
        .idx = l->aux_len ? nncl_net_aux_view(net, l->aux_off) : (nncl_view){0},
    };
    return nncl_pool2d_fwd(net->dev, &a);
}

static nncl_status pool_backward(nncl_net *net, const net_layer *l, const layer_io *io)
{
    if (!io->dx.buf)
        return NNCL_OK;
    nncl_pool2d_bwd_args a = {
        .kind = pool_kind(l), .s = shape_for(l, io->rows), .dy = io->dy,
        .idx = l->aux_len ? nncl_net_aux_view(net, l->aux_off) : (nncl_view){0}, .dx = io->dx,
    };
    return nncl_pool2d_bwd(net->dev, &a);
}

const layer_ops nncl_layer_pool_ops = {
    .kind = NNCL_LAYER_MAXPOOL, .infer = pool_infer, .forward = pool_forward, .backward = pool_backward,
};
