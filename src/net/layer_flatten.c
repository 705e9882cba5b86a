/* flatten: [c, h, w] -> [c*h*w, 1, 1]. Rows are stored flat already, so y is
 * x itself and dy is dx itself (the layout gives both the same place):
 * nothing runs. Implied before a dense layer; written out it shows the
 * shape change in the layer list. */
#include "net/network_impl.h"

static nncl_status flatten_infer(net_layer *l, size_t max_batch)
{
    (void)max_batch;
    l->out = (nncl_shape3){shape3_len(l->in), 1, 1};
    l->y_is_x = true;
    return NNCL_OK;
}

static nncl_status flatten_nothing(nncl_net *net, const net_layer *l, const layer_io *io)
{
    (void)net, (void)l, (void)io;
    return NNCL_OK;
}

const layer_ops nncl_layer_flatten_ops = {
    .kind = NNCL_LAYER_FLATTEN, .infer = flatten_infer, .forward = flatten_nothing, .backward = flatten_nothing,
};
