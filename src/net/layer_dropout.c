/* dropout: while training y = x * keep / (1 - p), the mask drawn by the
 * dropout op from (seed + the layer's offset, step), never stored: the
 * backward pass is the same op on dy with the same key. Outside training it
 * is the identity (a copy, so the next layer always reads y). */
#include "net/network_impl.h"

static nncl_status dropout_infer(net_layer *l, size_t max_batch)
{
    (void)max_batch;
    if (!(l->spec.rate >= 0.0f && l->spec.rate < 1.0f))
        return nncl_fail(NNCL_E_INVALID, "dropout must be in [0, 1), not %g", (double)l->spec.rate);
    l->out = l->in;
    return NNCL_OK;
}

static nncl_status dropout_forward(nncl_net *net, const net_layer *l, const layer_io *io)
{
    size_t n = io->rows * shape3_len(l->out);
    if (!io->train)
        return nncl_buffer_copy(io->y.buf, io->y.off * sizeof(float), io->x.buf, io->x.off * sizeof(float),
                                n * sizeof(float));
    nncl_dropout_args d = {io->x, io->y, n, l->spec.rate, io->seed + l->seed_offset, io->step};
    return nncl_dropout(net->dev, &d);
}

static nncl_status dropout_backward(nncl_net *net, const net_layer *l, const layer_io *io)
{
    if (!io->dx.buf)
        return NNCL_OK;
    nncl_dropout_args d = {io->dy, io->dx, io->rows * shape3_len(l->out), l->spec.rate,
                           io->seed + l->seed_offset, io->step};
    return nncl_dropout(net->dev, &d);
}

const layer_ops nncl_layer_dropout_ops = {
    .kind = NNCL_LAYER_DROPOUT, .infer = dropout_infer, .forward = dropout_forward, .backward = dropout_backward,
};
