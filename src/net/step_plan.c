/* The step plan: compiling a network's training step into op calls, the
 * fusion rules, and running a plan. See step_plan.h.
 *
 * Every rule is a row of one table: a name, a predicate on the network and
 * the plan, and a rewrite of the plan. A new fusion is a new row; the
 * network never tests a device's type: it asks the device whether it
 * prefers the fused op (nncl_device_prefers). */
#include <stdio.h>
#include <string.h>

#include "net/network_impl.h"

static const net_layer *layer_at(const nncl_net *net, int i) { return &net->lay.layers[i]; }

static bool is_dense(const nncl_net *net, int i)
{
    return i >= 0 && i < net->lay.n && layer_at(net, i)->spec.kind == NNCL_LAYER_DENSE;
}

static bool narrow_head(const nncl_net *net)
{
    const int n = net->lay.n;
    return net->cfg.task == NNCL_TASK_CLASSIFY && n >= 2 && is_dense(net, n - 1) && is_dense(net, n - 2) &&
           layer_at(net, n - 2)->spec.units <= NNCL_HEAD_MAX && layer_at(net, n - 1)->spec.units <= NNCL_HEAD_MAX;
}

/* A classifier of exactly two dense layers, the hidden one narrow, on a
 * device that prefers the fused byte-input step (its kernel gives each core
 * a chunk of rows: a CPU's shape). */
static bool u8_head_fits(const nncl_net *net)
{
    return net->lay.n == 2 && narrow_head(net) && net->step_scratch &&
           nncl_device_prefers(net->dev, NNCL_OP_linear_u8_head);
}

/* Whether the first layer reads the dataset's bytes: on a device that
 * prefers the byte-input layers, or whose only byte-reading step is the
 * fused one (the host) when that step fits. */
bool nncl_plan_reads_bytes(const nncl_net *net)
{
    if (!is_dense(net, 0))
        return false;
    return (nncl_device_prefers(net->dev, NNCL_OP_linear_u8_fwd) &&
            nncl_device_prefers(net->dev, NNCL_OP_linear_u8_wgrad)) ||
           u8_head_fits(net);
}

/* ---- the fusion rules ------------------------------------------------------ */

/* linear_u8_head: the whole step of such a classifier in one op. */
static bool u8_head_applies(const nncl_net *net, const step_plan *p, bool u8)
{
    (void)p;
    return u8 && u8_head_fits(net);
}

static void u8_head_rewrite(const nncl_net *net, step_plan *p)
{
    (void)net;
    p->n = 1;
    p->loss_at = 0;
    p->s[0] = (plan_step){.op = PLAN_U8_HEAD, .layer = 1, .rule = "linear_u8_head"};
}

/* head_xent: a classifier whose output layer is narrow and reads a narrow
 * dense layer: its forward, the loss and its backward in one op, which also
 * gives the lower layer's pre-activation gradient and bias gradient. */
static bool head_applies(const nncl_net *net, const step_plan *p, bool u8)
{
    (void)u8;
    return narrow_head(net) && net->head_scratch && p->s[p->loss_at].op == PLAN_LOSS &&
           nncl_device_prefers(net->dev, NNCL_OP_head_xent);
}

static void head_rewrite(const nncl_net *net, step_plan *p)
{
    const int n = net->lay.n, at = p->loss_at;   /* F(n-1), LOSS, B(n-1) at at-1, at, at+1 */
    plan_step fused = {.op = PLAN_HEAD_XENT, .layer = n - 1, .rule = "head_xent"};
    p->s[at - 1] = fused;
    memmove(&p->s[at], &p->s[at + 2], (size_t)(p->n - at - 2) * sizeof p->s[0]);
    p->n -= 2;
    p->loss_at = at - 1;
    /* the lower layer's backward: its gradient is pre-activation, its bias summed */
    p->s[at].dy_is_pre_act = true;
    p->s[at].bias_done = true;
}

typedef struct fusion_rule {
    const char *name;
    bool (*applies)(const nncl_net *net, const step_plan *p, bool u8);
    void (*rewrite)(const nncl_net *net, step_plan *p);
} fusion_rule;

/* Tried in order; a rule that fires changes the plan the next one sees. */
static const fusion_rule fusion_rules[] = {
    {"linear_u8_head", u8_head_applies, u8_head_rewrite},
    {"head_xent", head_applies, head_rewrite},
};

void nncl_plan_compile(const nncl_net *net, bool u8, bool fused, step_plan *out)
{
    const int n = net->lay.n;
    memset(out, 0, sizeof *out);
    bool trainable_below = false;
    bool below[NNCL_MAX_SPECS];
    for (int i = 0; i < n; i++) {
        below[i] = trainable_below;
        trainable_below = trainable_below || layer_at(net, i)->w_len + layer_at(net, i)->b_len > 0;
    }
    for (int i = 0; i < n; i++)
        out->s[out->n++] = (plan_step){.op = PLAN_FORWARD, .layer = i, .x_u8 = u8 && i == 0};
    out->loss_at = out->n;
    out->s[out->n++] = (plan_step){.op = PLAN_LOSS, .layer = n - 1};
    for (int i = n - 1; i >= 0; i--)
        out->s[out->n++] = (plan_step){.op = PLAN_BACKWARD, .layer = i, .x_u8 = u8 && i == 0, .want_dx = below[i]};
    for (size_t r = 0; fused && r < sizeof fusion_rules / sizeof fusion_rules[0]; r++)
        if (fusion_rules[r].applies(net, out, u8))
            fusion_rules[r].rewrite(net, out);
}

/* ---- running a plan ---------------------------------------------------------- */

static nncl_status run_loss(nncl_net *net, size_t rows, bool backward)
{
    const int n = net->lay.n;
    size_t outputs = net->cfg.sizes[net->cfg.layers];
    float scale = nncl_net_grad_scale(net, rows);
    nncl_view out = nncl_net_layer_y(net, n - 1);
    nncl_view dz = backward ? nncl_view_of(net->dacts, layer_at(net, n - 1)->g_off) : (nncl_view){0};
    if (net->cfg.task == NNCL_TASK_CLASSIFY) {
        nncl_softmax_xent_args a = {
            .z = out, .labels = nncl_net_batch_labels(net), .dz = dz, .acc = nncl_view_of(net->acc, 0),
            .scratch = nncl_view_of(net->scratch, 0), .rows = rows, .classes = outputs, .grad_scale = scale,
        };
        return nncl_softmax_xent(net->dev, &a);
    }
    nncl_mse_args a = {
        .y = out, .t = nncl_view_of(net->targets, 0), .dy = dz, .acc = nncl_view_of(net->acc, 0),
        .scratch = nncl_view_of(net->scratch, 0), .rows = rows, .outputs = outputs, .grad_scale = scale,
    };
    return nncl_mse(net->dev, &a);
}

/* The output layer L, the loss and their backward as one head_xent: dW_L,
 * db_L, the gradient of the layer below's z, its column sums (that layer's
 * bias gradient), and the accumulator. */
static nncl_status run_head_xent(nncl_net *net, int i, size_t rows)
{
    const net_layer *out = layer_at(net, i), *hid = layer_at(net, i - 1);
    nncl_head_xent_args h = {
        .a = nncl_net_layer_x(net, i), .w = nncl_net_params_view(net, out->w_off),
        .b = nncl_net_params_view(net, out->b_off), .labels = nncl_net_batch_labels(net),
        .dw = nncl_net_grads_view(net, out->w_off), .db = nncl_net_grads_view(net, out->b_off),
        .da = nncl_view_of(net->dacts, hid->g_off), .da_sum = nncl_net_grads_view(net, hid->b_off),
        .acc = nncl_view_of(net->acc, 0), .scratch = nncl_view_of(net->head_scratch, 0), .rows = rows,
        .in = hid->spec.units, .classes = out->spec.units, .act = hid->act, .act_param = hid->act_param,
        .grad_scale = nncl_net_grad_scale(net, rows),
    };
    nncl_status st = nncl_head_xent(net->dev, &h);
    return st ? st : nncl_net_scalar_bias_quirk(net, out->b_off, out->spec.units);
}

/* The whole step as one linear_u8_head: every gradient and the accumulator. */
static nncl_status run_u8_head(nncl_net *net, size_t rows)
{
    const net_layer *l1 = layer_at(net, 0), *l2 = layer_at(net, 1);
    nncl_linear_u8_head_args h = {
        .x = nncl_view_of(net->direct->x, 0), .index = nncl_net_direct_index(net), .x_rows = net->direct->rows,
        .shift = nncl_view_of(net->shift, 0), .scale = nncl_view_of(net->scale, 0),
        .w1 = nncl_net_params_view(net, l1->w_off), .b1 = nncl_net_params_view(net, l1->b_off),
        .w2 = nncl_net_params_view(net, l2->w_off), .b2 = nncl_net_params_view(net, l2->b_off),
        .labels = nncl_net_batch_labels(net),
        .dw1 = nncl_net_grads_view(net, l1->w_off), .db1 = nncl_net_grads_view(net, l1->b_off),
        .dw2 = nncl_net_grads_view(net, l2->w_off), .db2 = nncl_net_grads_view(net, l2->b_off),
        .acc = nncl_view_of(net->acc, 0), .scratch = nncl_view_of(net->step_scratch, 0), .rows = rows,
        .in = shape3_len(l1->in), .hidden = l1->spec.units, .classes = l2->spec.units,
        .act = l1->act, .act_param = l1->act_param, .grad_scale = nncl_net_grad_scale(net, rows),
    };
    nncl_status st = nncl_linear_u8_head(net->dev, &h);
    if (st == NNCL_OK)
        st = nncl_net_scalar_bias_quirk(net, l2->b_off, l2->spec.units);
    return st ? st : nncl_net_scalar_bias_quirk(net, l1->b_off, l1->spec.units);
}

static layer_io io_for(const nncl_net *net, const plan_step *s, size_t rows, bool train, uint64_t seed,
                       uint64_t step)
{
    const net_layer *l = layer_at(net, s->layer);
    layer_io io = {
        .x = nncl_net_layer_x(net, s->layer), .y = nncl_net_layer_y(net, s->layer),
        .dy = nncl_view_of(net->dacts, l->g_off), .rows = rows, .train = train, .seed = seed, .step = step,
        .dy_is_pre_act = s->dy_is_pre_act, .bias_done = s->bias_done,
    };
    if (s->want_dx && s->layer > 0)
        io.dx = nncl_view_of(net->dacts, layer_at(net, s->layer - 1)->g_off);
    if (s->x_u8 && net->direct) {
        io.x_u8 = true;
        io.x = nncl_view_of(net->direct->x, 0);
        io.u8_index = nncl_net_direct_index(net);
        io.u8_rows = net->direct->rows;
    }
    return io;
}

nncl_status nncl_plan_run(nncl_net *net, const step_plan *p, int from, int to, size_t rows, bool train,
                          bool backward, uint64_t seed, uint64_t step)
{
    nncl_status st = NNCL_OK;
    for (int k = from; k < to && st == NNCL_OK; k++) {
        const plan_step *s = &p->s[k];
        const net_layer *l = layer_at(net, s->layer);
        layer_io io = io_for(net, s, rows, train, seed, step);
        switch (s->op) {
        case PLAN_FORWARD: st = l->ops->forward(net, l, &io); break;
        case PLAN_LOSS: st = run_loss(net, rows, backward); break;
        case PLAN_BACKWARD: st = l->ops->backward(net, l, &io); break;
        case PLAN_HEAD_XENT: st = run_head_xent(net, s->layer, rows); break;
        case PLAN_U8_HEAD: st = run_u8_head(net, rows); break;
        }
    }
    return st;
}

nncl_status nncl_plan_describe(const nncl_net *net, const step_plan *p, char *out, size_t len)
{
    static const char *const verbs[] = {
        [PLAN_FORWARD] = "forward", [PLAN_LOSS] = "loss", [PLAN_BACKWARD] = "backward",
        [PLAN_HEAD_XENT] = "head_xent", [PLAN_U8_HEAD] = "linear_u8_head",
    };
    size_t used = 0;
    out[0] = '\0';
    for (int k = 0; k < p->n; k++) {
        const plan_step *s = &p->s[k];
        const net_layer *l = layer_at(net, s->layer);
        char spec[48];
        if (nncl_layers_format(&l->spec, 1, spec, sizeof spec) != NNCL_OK)
            snprintf(spec, sizeof spec, "%s", nncl_layer_kind_name(l->spec.kind));
        int w = snprintf(out + used, len - used, "  %2d  %-14s layer %d (%s)%s%s%s\n", k + 1, verbs[s->op],
                         s->layer + 1, s->op == PLAN_LOSS ? (net->cfg.task == NNCL_TASK_CLASSIFY ? "softmax_xent" : "mse") : spec,
                         s->x_u8 ? ", reads bytes (linear_u8)" : "", s->rule ? ", fused by rule " : "",
                         s->rule ? s->rule : "");
        if (w < 0 || (size_t)w >= len - used)
            return nncl_fail(NNCL_E_INVALID, "the step plan does not fit %zu bytes", len);
        used += (size_t)w;
    }
    return NNCL_OK;
}
