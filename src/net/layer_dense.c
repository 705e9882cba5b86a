/* dense: y = f(x W^T + b), W [out, in] (PyTorch's nn.Linear), for a batch of
 * rows x in (anything before it is read flattened).
 * Backward, from dy = dL/dy:
 *   g = dy * f'(y)         (in place; skipped when a fused step gave g)
 *   dW = g^T x     db = sum over rows of g     dx = g W
 * With byte input (io->x_u8: the first layer reads the dataset's bytes
 * through the order list) the forward is linear_u8_fwd and dW is
 * linear_u8_wgrad: a quarter of the memory traffic of a float copy (on the
 * host, the nonzero bytes alone: u8_sparse_host.c). */
#include "net/network_impl.h"

static nncl_status dense_infer(net_layer *l, size_t max_batch)
{
    (void)max_batch;
    if (l->spec.units == 0)
        return nncl_fail(NNCL_E_INVALID, "a dense layer needs at least 1 output");
    size_t in = shape3_len(l->in);
    l->out = (nncl_shape3){l->spec.units, 1, 1};
    l->w_len = l->spec.units * in;
    l->b_len = l->spec.units;
    return NNCL_OK;
}

static void dense_init(const net_layer *l, float *params, nncl_init_kind kind, float param, nncl_rng *r)
{
    size_t in = shape3_len(l->in), out = l->spec.units;
    float *W = params + l->w_off, *b = params + l->b_off;
    for (size_t i = 0; i < in * out; i++)
        W[i] = nncl_init_weight(kind, param, in, out, r);
    for (size_t j = 0; j < out; j++)
        b[j] = kind == NNCL_INIT_UNIFORM ? (float)nncl_init_uniform(r, param) : 0.0f;
}

static nncl_status dense_forward(nncl_net *net, const net_layer *l, const layer_io *io)
{
    size_t in = shape3_len(l->in), out = l->spec.units;
    nncl_view w = nncl_net_params_view(net, l->w_off), b = nncl_net_params_view(net, l->b_off);
    if (io->x_u8) {
        nncl_linear_u8_fwd_args d = {
            .x = io->x, .index = io->u8_index, .x_rows = io->u8_rows,
            .shift = nncl_view_of(net->shift, 0), .scale = nncl_view_of(net->scale, 0),
            .w = w, .b = b, .y = io->y, .rows = io->rows, .in = in, .out = out, .ldy = out,
            .act = l->act, .act_param = l->act_param,
        };
        return nncl_linear_u8_fwd(net->dev, &d);
    }
    nncl_gemm_args g = {
        .trans_a = false, .trans_b = true, .m = io->rows, .n = out, .k = in, .alpha = 1.0f, .beta = 0.0f,
        .a = io->x, .lda = in, .b = w, .ldb = in, .c = io->y, .ldc = out, .bias = b,
        .act = l->act, .act_param = l->act_param,
    };
    return nncl_gemm(net->dev, &g);
}

static nncl_status dense_backward(nncl_net *net, const net_layer *l, const layer_io *io)
{
    size_t in = shape3_len(l->in), out = l->spec.units, rows = io->rows;
    nncl_status st = io->dy_is_pre_act ? NNCL_OK : nncl_layer_act_bwd(net, l, io);
    nncl_view g = io->dy, dw = nncl_net_grads_view(net, l->w_off);
    if (st != NNCL_OK)
        return st;
    if (io->x_u8) {
        nncl_linear_u8_wgrad_args d = {
            .x = io->x, .index = io->u8_index, .x_rows = io->u8_rows,
            .shift = nncl_view_of(net->shift, 0), .scale = nncl_view_of(net->scale, 0),
            .g = g, .dw = dw, .rows = rows, .in = in, .out = out, .ldg = out,
            .scratch = net->wg_scratch ? nncl_view_of(net->wg_scratch, 0) : (nncl_view){0},
            .scratch_len = net->wg_scratch_len,
        };
        st = nncl_linear_u8_wgrad(net->dev, &d);
    } else {
        /* dW = g^T x: (out x B) (B x in) */
        nncl_gemm_args a = {
            .trans_a = true, .trans_b = false, .m = out, .n = in, .k = rows, .alpha = 1.0f, .beta = 0.0f,
            .a = g, .lda = out, .b = io->x, .ldb = in, .c = dw, .ldc = in,
        };
        st = nncl_gemm(net->dev, &a);
    }
    if (st == NNCL_OK && !io->bias_done) {
        nncl_colsum_args c = {g, out, nncl_net_grads_view(net, l->b_off), rows, out, 1.0f, 0.0f};
        st = nncl_colsum(net->dev, &c);
    }
    if (st == NNCL_OK)
        st = nncl_net_scalar_bias_quirk(net, l->b_off, out);
    if (st != NNCL_OK || !io->dx.buf)
        return st;
    /* dx = g W: (B x out) (out x in) */
    nncl_gemm_args x = {
        .trans_a = false, .trans_b = false, .m = rows, .n = in, .k = out, .alpha = 1.0f, .beta = 0.0f,
        .a = g, .lda = out, .b = nncl_net_params_view(net, l->w_off), .ldb = in, .c = io->dx, .ldc = in,
    };
    return nncl_gemm(net->dev, &x);
}

static int dense_tensors(const net_layer *l, nncl_tensor_info *t)
{
    size_t in = shape3_len(l->in), out = l->spec.units;
    t[0] = (nncl_tensor_info){.name = "weight", .ndim = 2, .dims = {out, in}, .offset = l->w_off,
                              .len = l->w_len, .trained = true};
    t[1] = (nncl_tensor_info){.name = "bias", .ndim = 1, .dims = {out}, .offset = l->b_off, .len = l->b_len,
                              .trained = true};
    return 2;
}

const layer_ops nncl_layer_dense_ops = {
    .kind = NNCL_LAYER_DENSE, .infer = dense_infer, .init = dense_init,
    .forward = dense_forward, .backward = dense_backward, .tensors = dense_tensors,
};
