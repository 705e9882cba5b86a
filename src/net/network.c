/* The MLP: parameters, activations, forward, loss and backward, built only
 * from the device ops in nncl/ops.h.
 *
 * Shapes, for a batch of B rows and layer l = 1..L with n_l = sizes[l]:
 *   a_0            B x n_0     the input batch (gathered and transformed)
 *   z_l = a_{l-1} W_l^T + b_l,  W_l: n_l x n_{l-1}, b_l: n_l
 *   a_l = f(z_l)   B x n_l     (f = act on hidden layers, identity on L)
 *   d_l            B x n_l     a_l after dropout (hidden layers, training only)
 *   loss           softmax + cross-entropy (or MSE) of a_L
 * Backward, from g_L = dloss/dz_L:
 *   dW_l = g_l^T a_{l-1}     db_l = sum over rows of g_l
 *   g_{l-1} = f'(a_{l-1}) * dropout(g_l W_l)
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "net/network_impl.h"

static size_t in_features(const nncl_net *net, int l) { return net->cfg.sizes[l]; }

/* The view a layer reads as input: a_0, or the previous layer's (dropped) output. */
static nncl_view layer_input(const nncl_net *net, int l)
{
    if (l == 1)
        return nncl_view_of(net->acts, net->act_off[0]);
    if (net->drop)
        return nncl_view_of(net->drop, net->drop_off[l - 1]);
    return nncl_view_of(net->acts, net->act_off[l - 1]);
}

static nncl_status validate(const nncl_net_config *cfg, size_t max_batch)
{
    if (cfg->layers < 1 || cfg->layers > NNCL_MAX_LAYERS)
        return nncl_fail(NNCL_E_INVALID, "a network needs 1 to %d layers, not %d", NNCL_MAX_LAYERS,
                         cfg->layers);
    for (int l = 0; l <= cfg->layers; l++)
        if (cfg->sizes[l] == 0)
            return nncl_fail(NNCL_E_INVALID, "layer %d has size 0", l);
    if (max_batch == 0)
        return nncl_fail(NNCL_E_INVALID, "the batch size must be at least 1");
    if (!(cfg->dropout >= 0.0f && cfg->dropout < 1.0f))
        return nncl_fail(NNCL_E_INVALID, "dropout must be in [0, 1), not %g", cfg->dropout);
    if (cfg->task == NNCL_TASK_CLASSIFY && cfg->sizes[cfg->layers] < 2)
        return nncl_fail(NNCL_E_INVALID, "classification needs at least 2 classes");
    /* A dataset has one regression target per row (nncl_dataset.targets),
     * and evaluation returns one value per row. */
    if (cfg->task == NNCL_TASK_REGRESS && cfg->sizes[cfg->layers] != 1)
        return nncl_fail(NNCL_E_INVALID, "regression has 1 output, not %zu", cfg->sizes[cfg->layers]);
    return NNCL_OK;
}

/* The output layer can run fused with the loss and its backward (head_xent):
 * a classifier with a hidden layer, both the last hidden layer and the
 * classes narrow, and no dropout (head_xent does not apply a mask). */
static bool head_fits(const nncl_net_config *cfg)
{
    const int L = cfg->layers;
    return cfg->task == NNCL_TASK_CLASSIFY && L >= 2 && cfg->dropout == 0.0f &&
           cfg->sizes[L - 1] <= NNCL_HEAD_MAX && cfg->sizes[L] <= NNCL_HEAD_MAX;
}

/* The whole step can run fused (linear_u8_head) on byte data: a narrow
 * classifier with exactly one hidden layer. Its kernel gives each core a
 * chunk of rows, a CPU's shape; a GPU runs the separate ops. */
static bool step_fits(nncl_device *dev, const nncl_net_config *cfg)
{
    const nncl_device_info *info = nncl_device_get_info(dev);
    return head_fits(cfg) && cfg->layers == 2 && info->backend == NNCL_BACKEND_OPENCL &&
           info->type == NNCL_DEVICE_CPU;
}

static nncl_status alloc(nncl_device *dev, size_t bytes, nncl_buffer **out)
{
    return nncl_buffer_alloc(dev, bytes ? bytes : 4, out);
}

nncl_status nncl_net_create(nncl_device *dev, const nncl_net_config *cfg, size_t max_batch,
                            nncl_net **out)
{
    *out = NULL;
    nncl_status st = validate(cfg, max_batch);
    if (st != NNCL_OK)
        return st;
    nncl_net *net = calloc(1, sizeof *net);
    if (!net)
        return nncl_fail(NNCL_E_NOMEM, "out of memory creating a network");
    net->dev = dev;
    net->cfg = *cfg;
    net->max_batch = max_batch;
    net->t_scale = 1.0f;

    const int L = cfg->layers;
    size_t p = 0, acts = 0, drops = 0, widest = 0;
    for (int l = 1; l <= L; l++) {
        net->w_off[l - 1] = p;
        p += cfg->sizes[l] * cfg->sizes[l - 1];
        net->b_off[l - 1] = p;
        p += cfg->sizes[l];
    }
    net->n_params = p;
    for (int l = 0; l <= L; l++) {
        net->act_off[l] = acts;
        acts += max_batch * cfg->sizes[l];
        if (cfg->sizes[l] > widest)
            widest = cfg->sizes[l];
    }
    /* d_l, the hidden layers' outputs after dropout: only with dropout. */
    for (int l = 1; l < L && cfg->dropout > 0.0f; l++) {
        net->drop_off[l] = drops;
        drops += max_batch * cfg->sizes[l];
    }
    /* Gradients of z_l for l >= 1; layer 0 needs none (no input gradient). */
    size_t grads = 0;
    for (int l = 1; l <= L; l++) {
        net->dact_off[l] = grads;
        grads += max_batch * cfg->sizes[l];
    }
    size_t outputs = cfg->sizes[L];
    size_t f = sizeof(float);

    if ((st = alloc(dev, p * f, &net->params)) || (st = alloc(dev, p * f, &net->grads)) ||
        (st = alloc(dev, p * f, &net->m)) || (st = alloc(dev, p * f, &net->v)) ||
        (st = alloc(dev, p * f, &net->best)) || (st = alloc(dev, acts * f, &net->acts)) ||
        (st = alloc(dev, grads * f, &net->dacts)) ||
        (st = alloc(dev, max_batch * sizeof(int32_t), &net->labels)) ||
        (st = alloc(dev, max_batch * outputs * f, &net->targets)) ||
        (st = alloc(dev, max_batch * sizeof(int32_t), &net->argmax)) ||
        (st = alloc(dev, 2 * max_batch * f, &net->scratch)) || (st = alloc(dev, 2 * f, &net->acc)) ||
        (st = alloc(dev, cfg->sizes[0] * f, &net->shift)) ||
        (st = alloc(dev, cfg->sizes[0] * f, &net->scale)) ||
        (st = alloc(dev, (widest + 1) * f, &net->ones)) ||
        (drops && (st = alloc(dev, drops * f, &net->drop)))) {
        nncl_net_free(net);
        return nncl_fail_context(st, "allocating a %zu-parameter network for batches of %zu", p,
                                 max_batch);
    }
    /* Room for the first layer's byte-path weight gradient to sum chunks of
     * 512 rows separately (at most 64 chunks, at most 32 MB). */
    size_t w1 = cfg->sizes[1] * cfg->sizes[0], chunks = (max_batch + 511) / 512;
    if (chunks > 64)
        chunks = 64;
    if (chunks > ((size_t)32 << 20) / (w1 * f))
        chunks = ((size_t)32 << 20) / (w1 * f);
    if (chunks >= 2 && (st = alloc(dev, chunks * w1 * f, &net->wg_scratch)) == NNCL_OK)
        net->wg_scratch_len = chunks * w1;
    if (st == NNCL_OK && head_fits(cfg)) {
        size_t len = nncl_head_xent_scratch_len(max_batch, cfg->sizes[L - 1], outputs);
        st = alloc(dev, len * f, &net->head_scratch);
    }
    if (st == NNCL_OK && step_fits(dev, cfg)) {
        size_t len = nncl_linear_u8_head_scratch_len(max_batch, cfg->sizes[0], cfg->sizes[1], outputs);
        st = alloc(dev, len * f, &net->step_scratch);
    }
    if (st != NNCL_OK) {
        nncl_net_free(net);
        return nncl_fail_context(st, "allocating a %zu-parameter network for batches of %zu", p,
                                 max_batch);
    }
    /* Defaults: identity input transform; ones for the tutorial's scalar bias. */
    nncl_fill_args fa = {nncl_view_of(net->shift, 0), cfg->sizes[0], 0.0f};
    if ((st = nncl_fill(dev, &fa)) == NNCL_OK) {
        fa = (nncl_fill_args){nncl_view_of(net->scale, 0), cfg->sizes[0], 1.0f};
        st = nncl_fill(dev, &fa);
    }
    if (st == NNCL_OK) {
        fa = (nncl_fill_args){nncl_view_of(net->ones, 0), widest + 1, 1.0f};
        st = nncl_fill(dev, &fa);
    }
    if (st == NNCL_OK)
        st = nncl_net_optim_reset(net);
    if (st == NNCL_OK)
        st = nncl_net_acc_reset(net);
    if (st != NNCL_OK) {
        nncl_net_free(net);
        return st;
    }
    *out = net;
    return NNCL_OK;
}

void nncl_net_free(nncl_net *net)
{
    if (!net)
        return;
    nncl_buffer *bufs[] = {net->params, net->grads, net->m, net->v, net->best, net->acts,
                           net->dacts, net->drop, net->labels, net->targets, net->argmax,
                           net->scratch, net->acc, net->shift, net->scale, net->ones, net->wg_scratch,
                           net->head_scratch, net->step_scratch};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        nncl_buffer_free(bufs[i]);
    free(net);
}

const nncl_net_config *nncl_net_get_config(const nncl_net *net) { return &net->cfg; }
size_t nncl_net_param_count(const nncl_net *net) { return net->n_params; }
nncl_device *nncl_net_device(const nncl_net *net) { return net->dev; }
size_t nncl_net_max_batch(const nncl_net *net) { return net->max_batch; }
size_t nncl_net_weight_offset(const nncl_net *net, int layer) { return net->w_off[layer]; }
size_t nncl_net_bias_offset(const nncl_net *net, int layer) { return net->b_off[layer]; }

void nncl_net_set_tutorial_quirks(nncl_net *net, size_t grad_rows, bool scalar_bias)
{
    net->quirk_grad_rows = grad_rows;
    net->quirk_scalar_bias = scalar_bias;
}

void nncl_net_set_target_transform(nncl_net *net, float shift, float scale)
{
    net->t_shift = shift;
    net->t_scale = scale;
}

void nncl_net_get_target_transform(const nncl_net *net, float *shift, float *scale)
{
    *shift = net->t_shift;
    *scale = net->t_scale;
}

/* ---- parameters ------------------------------------------------------------ */

/* Standard normal by Box-Muller, in double, from the shared generator. */
static double normal(nncl_rng *r)
{
    double u1 = ((double)(nncl_rng_next(r) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
    double u2 = (double)(nncl_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

static double uniform(nncl_rng *r, double a)
{
    return a * (2.0 * ((double)(nncl_rng_next(r) >> 11) * (1.0 / 9007199254740992.0)) - 1.0);
}

nncl_status nncl_net_init(nncl_net *net, nncl_init_kind kind, float param, uint64_t seed)
{
    float *w = malloc(net->n_params * sizeof *w);
    if (!w)
        return nncl_fail(NNCL_E_NOMEM, "out of memory initialising parameters");
    nncl_rng r;
    nncl_rng_seed(&r, seed);
    for (int l = 1; l <= net->cfg.layers; l++) {
        size_t fan_in = net->cfg.sizes[l - 1], fan_out = net->cfg.sizes[l];
        float *W = w + net->w_off[l - 1], *b = w + net->b_off[l - 1];
        double he = sqrt(2.0 / (double)fan_in);
        double xa = sqrt(6.0 / (double)(fan_in + fan_out));
        for (size_t i = 0; i < fan_in * fan_out; i++) {
            switch (kind) {
            case NNCL_INIT_HE: W[i] = (float)(he * normal(&r)); break;
            case NNCL_INIT_XAVIER: W[i] = (float)uniform(&r, xa); break;
            case NNCL_INIT_UNIFORM: W[i] = (float)uniform(&r, param); break;
            }
        }
        for (size_t j = 0; j < fan_out; j++)
            b[j] = kind == NNCL_INIT_UNIFORM ? (float)uniform(&r, param) : 0.0f;
    }
    nncl_status st = nncl_net_set_params(net, w);
    free(w);
    return st;
}

nncl_status nncl_net_get_params(const nncl_net *net, float *out)
{
    return nncl_buffer_read(net->params, 0, out, net->n_params * sizeof(float));
}

nncl_status nncl_net_copy_params(const nncl_net *net, nncl_buffer *dst)
{
    return nncl_buffer_copy(dst, 0, net->params, 0, net->n_params * sizeof(float));
}

nncl_status nncl_net_get_grads(const nncl_net *net, float *out)
{
    return nncl_buffer_read(net->grads, 0, out, net->n_params * sizeof(float));
}

nncl_status nncl_net_set_params(nncl_net *net, const float *in)
{
    return nncl_buffer_write(net->params, 0, in, net->n_params * sizeof(float));
}

nncl_status nncl_net_set_transform(nncl_net *net, const float *shift, const float *scale)
{
    size_t bytes = net->cfg.sizes[0] * sizeof(float);
    net->loaded = NULL;
    nncl_status st = nncl_buffer_write(net->shift, 0, shift, bytes);
    return st ? st : nncl_buffer_write(net->scale, 0, scale, bytes);
}

nncl_status nncl_net_get_transform(const nncl_net *net, float *shift, float *scale)
{
    size_t bytes = net->cfg.sizes[0] * sizeof(float);
    nncl_status st = nncl_buffer_read(net->shift, 0, shift, bytes);
    return st ? st : nncl_buffer_read(net->scale, 0, scale, bytes);
}

nncl_status nncl_net_snapshot(nncl_net *net)
{
    return nncl_buffer_copy(net->best, 0, net->params, 0, net->n_params * sizeof(float));
}

nncl_status nncl_net_restore(nncl_net *net)
{
    return nncl_buffer_copy(net->params, 0, net->best, 0, net->n_params * sizeof(float));
}

nncl_status nncl_net_get_best(const nncl_net *net, float *out)
{
    return nncl_buffer_read(net->best, 0, out, net->n_params * sizeof(float));
}

nncl_status nncl_net_set_best(nncl_net *net, const float *in)
{
    return nncl_buffer_write(net->best, 0, in, net->n_params * sizeof(float));
}

/* ---- forward --------------------------------------------------------------- */

/* The rows of the byte dataset the batch uses: its order list from the
 * batch's first row, or none for the whole dataset in natural order. */
static nncl_view direct_index(const nncl_net *net)
{
    if (!net->direct_indexed)
        return (nncl_view){0};
    return nncl_view_of(net->direct->order, net->direct_first);
}

nncl_status nncl_net_load_batch(nncl_net *net, const nncl_device_data *dd, size_t first, size_t rows)
{
    if (rows == 0 || rows > net->max_batch || first + rows > dd->rows)
        return nncl_fail(NNCL_E_INVALID, "batch of %zu rows at %zu: outside 1..%zu rows of %zu", rows,
                         first, net->max_batch, dd->rows);
    if (dd->cols != net->cfg.sizes[0])
        return nncl_fail(NNCL_E_INVALID, "the data has %zu features, the network %zu inputs", dd->cols,
                         net->cfg.sizes[0]);
    /* labels would be read as targets, or the reverse */
    if (dd->has_y && dd->task != net->cfg.task)
        return nncl_fail(NNCL_E_INVALID, "the data is for %s, the network for %s",
                         dd->task == NNCL_TASK_CLASSIFY ? "classification" : "regression",
                         net->cfg.task == NNCL_TASK_CLASSIFY ? "classification" : "regression");
    bool classify = net->cfg.task == NNCL_TASK_CLASSIFY;
    net->pending_from = 0;          /* a deferred step belongs to the old batch */
    /* Byte data on an OpenCL device: the first layer reads the dataset's
     * bytes through the order list (linear_u8_*), a quarter of the traffic of
     * a float copy, and only labels or targets are gathered; a whole dataset
     * in its natural order reads its labels in place. The host backend trains
     * through a float copy and BLAS instead. */
    net->direct = NULL;
    if (dd->u8 && nncl_device_get_info(net->dev)->backend == NNCL_BACKEND_OPENCL) {
        net->direct = dd;
        net->direct_first = first;
        net->direct_indexed = !(first == 0 && rows == dd->rows && dd->identity);
        if (!dd->has_y || (classify && !net->direct_indexed))
            return NNCL_OK;
    }
    /* The same rows in the same order are already there (full-batch training). */
    if (net->loaded == dd && net->loaded_first == first && net->loaded_rows == rows &&
        net->loaded_version == dd->version)
        return NNCL_OK;
    net->loaded = NULL;
    nncl_gather_args g = {
        .data = nncl_view_of(dd->x, 0), .u8 = dd->u8, .data_rows = dd->rows, .cols = dd->cols,
        .index = nncl_view_of(dd->order, first), .rows = rows,
        .shift = nncl_view_of(net->shift, 0), .scale = nncl_view_of(net->scale, 0),
        .x = net->direct ? (nncl_view){0} : nncl_view_of(net->acts, net->act_off[0]),
        .outputs = 1, .t_shift = net->t_shift, .t_scale = net->t_scale,
    };
    if (dd->has_y && classify) {
        g.labels = nncl_view_of(dd->y, 0);
        g.labels_out = nncl_view_of(net->labels, 0);
    } else if (dd->has_y) {
        g.targets = nncl_view_of(dd->y, 0);
        g.targets_out = nncl_view_of(net->targets, 0);
    }
    nncl_status st = nncl_gather(net->dev, &g);
    if (st == NNCL_OK) {
        net->loaded = dd;
        net->loaded_first = first;
        net->loaded_rows = rows;
        net->loaded_version = dd->version;
    }
    return st;
}

/* z_l and a_l for the loaded batch (and d_l under dropout). */
static nncl_status forward_layer(nncl_net *net, int l, size_t rows, bool train, uint64_t seed, uint64_t step)
{
    size_t in = in_features(net, l - 1), out = net->cfg.sizes[l];
    bool hidden = l < net->cfg.layers;
    nncl_gemm_args g = {
        .trans_a = false, .trans_b = true, .m = rows, .n = out, .k = in,
        .alpha = 1.0f, .beta = 0.0f,
        .a = layer_input(net, l), .lda = in,
        .b = nncl_view_of(net->params, net->w_off[l - 1]), .ldb = in,
        .c = nncl_view_of(net->acts, net->act_off[l]), .ldc = out,
        .bias = nncl_view_of(net->params, net->b_off[l - 1]),
        .act = hidden ? net->cfg.act : NNCL_ACT_IDENTITY, .act_param = net->cfg.act_param,
    };
    nncl_status st;
    if (l == 1 && net->direct) {
        nncl_linear_u8_fwd_args d = {
            .x = nncl_view_of(net->direct->x, 0), .index = direct_index(net), .x_rows = net->direct->rows,
            .shift = nncl_view_of(net->shift, 0), .scale = nncl_view_of(net->scale, 0),
            .w = g.b, .b = g.bias, .y = g.c, .rows = rows, .in = in, .out = out, .ldy = out,
            .act = g.act, .act_param = g.act_param,
        };
        st = nncl_linear_u8_fwd(net->dev, &d);
    } else {
        st = nncl_gemm(net->dev, &g);
    }
    if (st == NNCL_OK && hidden && net->drop) {
        /* Without training the dropout layer is the identity: copy, so the
         * next layer can always read d_l. */
        size_t n = rows * out;
        if (train) {
            nncl_dropout_args d = {nncl_view_of(net->acts, net->act_off[l]),
                                   nncl_view_of(net->drop, net->drop_off[l]), n,
                                   net->cfg.dropout, seed + (uint64_t)l, step};
            st = nncl_dropout(net->dev, &d);
        } else {
            st = nncl_buffer_copy(net->drop, net->drop_off[l] * sizeof(float), net->acts,
                                  net->act_off[l] * sizeof(float), n * sizeof(float));
        }
    }
    return st;
}

nncl_status nncl_net_forward(nncl_net *net, size_t rows, bool train, uint64_t seed, uint64_t step)
{
    const int L = net->cfg.layers;
    /* The layers nncl_net_loss will run fused: all of them (byte data
     * read directly), the output layer, or none. */
    int fused_from = L + 1;
    if (train && net->step_scratch && net->direct)
        fused_from = 1;
    else if (train && net->head_scratch)
        fused_from = L;
    net->pending_from = 0;
    nncl_status st = NNCL_OK;
    for (int l = 1; l < fused_from && st == NNCL_OK; l++)
        st = forward_layer(net, l, rows, train, seed, step);
    if (st == NNCL_OK && fused_from <= L) {
        net->pending_from = fused_from;
        net->pending_rows = rows;
    }
    return st;
}

/* Run the layers a training forward left to the loss (there is no dropout
 * when any are: seed and step are unused). */
static nncl_status flush_pending(nncl_net *net)
{
    int from = net->pending_from;
    net->pending_from = 0;
    nncl_status st = NNCL_OK;
    for (int l = from; from > 0 && l <= net->cfg.layers && st == NNCL_OK; l++)
        st = forward_layer(net, l, net->pending_rows, true, 0, 0);
    return st;
}

/* ---- loss and backward --------------------------------------------------------- */

/* The labels of the loaded batch: in place for a whole byte dataset in its
 * own order, else the gathered copy. */
static nncl_view batch_labels(const nncl_net *net)
{
    if (net->direct && !net->direct_indexed)
        return nncl_view_of(net->direct->y, 0);
    return nncl_view_of(net->labels, 0);
}

/* The gradient of the mean loss is scaled by 1/rows (or the tutorial's m). */
static float grad_scale(const nncl_net *net, size_t rows)
{
    return 1.0f / (float)(net->quirk_grad_rows ? net->quirk_grad_rows : rows);
}

static nncl_status output_loss(nncl_net *net, size_t rows, bool backward)
{
    const int L = net->cfg.layers;
    size_t outputs = net->cfg.sizes[L];
    float scale = grad_scale(net, rows);
    nncl_view out = nncl_view_of(net->acts, net->act_off[L]);
    nncl_view dz = backward ? nncl_view_of(net->dacts, net->dact_off[L]) : (nncl_view){0};
    if (net->cfg.task == NNCL_TASK_CLASSIFY) {
        nncl_softmax_xent_args a = {
            .z = out,
            .labels = batch_labels(net),
            .dz = dz,
            .acc = nncl_view_of(net->acc, 0), .scratch = nncl_view_of(net->scratch, 0),
            .rows = rows, .classes = outputs, .grad_scale = scale,
        };
        return nncl_softmax_xent(net->dev, &a);
    }
    nncl_mse_args a = {
        .y = out, .t = nncl_view_of(net->targets, 0), .dy = dz, .acc = nncl_view_of(net->acc, 0),
        .scratch = nncl_view_of(net->scratch, 0), .rows = rows, .outputs = outputs,
        .grad_scale = scale,
    };
    return nncl_mse(net->dev, &a);
}

/* The tutorial quirk: every unit of layer l gets the sum of db_l over units. */
static nncl_status scalar_bias_quirk(nncl_net *net, int l)
{
    if (!net->quirk_scalar_bias)
        return NNCL_OK;
    size_t out = net->cfg.sizes[l];
    nncl_view db = nncl_view_of(net->grads, net->b_off[l - 1]);
    nncl_status st;
    /* s = sum_j db_j (a column sum of db as an out x 1 matrix), parked in
     * ones[widest]; then db_j = 1 * s for every j, as a rank-1 GEMM. */
    size_t widest = nncl_buffer_size(net->ones) / sizeof(float) - 1;
    nncl_view s = nncl_view_of(net->ones, widest);
    nncl_colsum_args total = {db, 1, s, out, 1, 1.0f, 0.0f};
    if ((st = nncl_colsum(net->dev, &total)) != NNCL_OK)
        return st;
    nncl_gemm_args bcast = {
        .trans_a = false, .trans_b = false, .m = out, .n = 1, .k = 1, .alpha = 1.0f, .beta = 0.0f,
        .a = nncl_view_of(net->ones, 0), .lda = 1, .b = s, .ldb = 1, .c = db, .ldc = 1,
    };
    return nncl_gemm(net->dev, &bcast);
}

/* db_l = sum over rows of g_l (then the tutorial quirk, if set). */
static nncl_status bias_gradient(nncl_net *net, int l, size_t rows)
{
    size_t out = net->cfg.sizes[l];
    nncl_view g = nncl_view_of(net->dacts, net->dact_off[l]);
    nncl_view db = nncl_view_of(net->grads, net->b_off[l - 1]);
    nncl_colsum_args c = {g, out, db, rows, out, 1.0f, 0.0f};
    nncl_status st = nncl_colsum(net->dev, &c);
    return st ? st : scalar_bias_quirk(net, l);
}

/* The output layer, the loss and their backward as one head_xent: dW_L,
 * db_L, g_{L-1}, its column sums db_{L-1}, and the accumulator. */
static nncl_status fused_head(nncl_net *net, size_t rows)
{
    const int L = net->cfg.layers;
    size_t in = net->cfg.sizes[L - 1];
    nncl_head_xent_args h = {
        .a = layer_input(net, L), .w = nncl_view_of(net->params, net->w_off[L - 1]),
        .b = nncl_view_of(net->params, net->b_off[L - 1]), .labels = batch_labels(net),
        .dw = nncl_view_of(net->grads, net->w_off[L - 1]), .db = nncl_view_of(net->grads, net->b_off[L - 1]),
        .da = nncl_view_of(net->dacts, net->dact_off[L - 1]),
        .da_sum = nncl_view_of(net->grads, net->b_off[L - 2]), .acc = nncl_view_of(net->acc, 0),
        .scratch = nncl_view_of(net->head_scratch, 0), .rows = rows, .in = in, .classes = net->cfg.sizes[L],
        .act = net->cfg.act, .act_param = net->cfg.act_param, .grad_scale = grad_scale(net, rows),
    };
    nncl_status st = nncl_head_xent(net->dev, &h);
    return st ? st : scalar_bias_quirk(net, L);
}

/* The whole step as one linear_u8_head: every gradient and the accumulator. */
static nncl_status fused_step(nncl_net *net, size_t rows)
{
    const nncl_net_config *cfg = &net->cfg;
    nncl_linear_u8_head_args h = {
        .x = nncl_view_of(net->direct->x, 0), .index = direct_index(net), .x_rows = net->direct->rows,
        .shift = nncl_view_of(net->shift, 0), .scale = nncl_view_of(net->scale, 0),
        .w1 = nncl_view_of(net->params, net->w_off[0]), .b1 = nncl_view_of(net->params, net->b_off[0]),
        .w2 = nncl_view_of(net->params, net->w_off[1]), .b2 = nncl_view_of(net->params, net->b_off[1]),
        .labels = batch_labels(net),
        .dw1 = nncl_view_of(net->grads, net->w_off[0]), .db1 = nncl_view_of(net->grads, net->b_off[0]),
        .dw2 = nncl_view_of(net->grads, net->w_off[1]), .db2 = nncl_view_of(net->grads, net->b_off[1]),
        .acc = nncl_view_of(net->acc, 0), .scratch = nncl_view_of(net->step_scratch, 0),
        .rows = rows, .in = cfg->sizes[0], .hidden = cfg->sizes[1], .classes = cfg->sizes[2],
        .act = cfg->act, .act_param = cfg->act_param, .grad_scale = grad_scale(net, rows),
    };
    nncl_status st = nncl_linear_u8_head(net->dev, &h);
    if (st == NNCL_OK)
        st = scalar_bias_quirk(net, 2);
    return st ? st : scalar_bias_quirk(net, 1);
}

nncl_status nncl_net_loss(nncl_net *net, size_t rows, bool backward, uint64_t seed, uint64_t step)
{
    /* top: the highest layer whose gradient g_l is known after the loss. */
    int top = net->cfg.layers;
    nncl_status st;
    int from = net->pending_from;
    if (from && backward && net->pending_rows == rows) {
        net->pending_from = 0;
        if (from == 1)          /* set only with byte data read directly */
            return fused_step(net, rows);
        st = fused_head(net, rows);
        top = net->cfg.layers - 1;
    } else {
        st = flush_pending(net);
        if (st == NNCL_OK)
            st = output_loss(net, rows, backward);
        if (st != NNCL_OK || !backward)
            return st;
    }
    for (int l = top; l >= 1 && st == NNCL_OK; l--) {
        size_t in = in_features(net, l - 1), out = net->cfg.sizes[l];
        nncl_view g = nncl_view_of(net->dacts, net->dact_off[l]);
        /* dW_l = g_l^T a_{l-1}: (out x B) (B x in) */
        nncl_gemm_args dw = {
            .trans_a = true, .trans_b = false, .m = out, .n = in, .k = rows,
            .alpha = 1.0f, .beta = 0.0f, .a = g, .lda = out,
            .b = layer_input(net, l), .ldb = in,
            .c = nncl_view_of(net->grads, net->w_off[l - 1]), .ldc = in,
        };
        if (l == 1 && net->direct) {
            nncl_linear_u8_wgrad_args d = {
                .x = nncl_view_of(net->direct->x, 0), .index = direct_index(net), .x_rows = net->direct->rows,
                .shift = nncl_view_of(net->shift, 0), .scale = nncl_view_of(net->scale, 0),
                .g = g, .dw = dw.c, .rows = rows, .in = in, .out = out, .ldg = out,
                .scratch = net->wg_scratch ? nncl_view_of(net->wg_scratch, 0) : (nncl_view){0},
                .scratch_len = net->wg_scratch_len,
            };
            st = nncl_linear_u8_wgrad(net->dev, &d);
        } else {
            st = nncl_gemm(net->dev, &dw);
        }
        if (st != NNCL_OK)
            break;
        /* head_xent has summed g_top into db_top already */
        st = l == top && top < net->cfg.layers ? scalar_bias_quirk(net, l) : bias_gradient(net, l, rows);
        if (st != NNCL_OK || l == 1)
            break;
        /* g_{l-1} = f'(a_{l-1}) * dropout(g_l W_l): (B x out) (out x in) */
        nncl_view prev = nncl_view_of(net->dacts, net->dact_off[l - 1]);
        nncl_gemm_args dx = {
            .trans_a = false, .trans_b = false, .m = rows, .n = in, .k = out,
            .alpha = 1.0f, .beta = 0.0f, .a = g, .lda = out,
            .b = nncl_view_of(net->params, net->w_off[l - 1]), .ldb = in,
            .c = prev, .ldc = in,
        };
        if ((st = nncl_gemm(net->dev, &dx)) != NNCL_OK)
            break;
        if (net->drop && net->cfg.dropout > 0.0f) {
            nncl_dropout_args d = {prev, prev, rows * in, net->cfg.dropout, seed + (uint64_t)(l - 1), step};
            if ((st = nncl_dropout(net->dev, &d)) != NNCL_OK)
                break;
        }
        nncl_act_bwd_args ab = {nncl_view_of(net->acts, net->act_off[l - 1]), prev, prev, rows * in,
                                net->cfg.act, net->cfg.act_param};
        st = nncl_act_bwd(net->dev, &ab);
    }
    return st;
}

/* ---- the optimiser and the accumulator ------------------------------------------ */

nncl_status nncl_net_optim_reset(nncl_net *net)
{
    nncl_fill_args f = {nncl_view_of(net->m, 0), net->n_params, 0.0f};
    nncl_status st = nncl_fill(net->dev, &f);
    if (st != NNCL_OK)
        return st;
    f.y = nncl_view_of(net->v, 0);
    return nncl_fill(net->dev, &f);
}

nncl_status nncl_net_get_optim_state(const nncl_net *net, float *m, float *v)
{
    size_t bytes = net->n_params * sizeof(float);
    nncl_status st = nncl_buffer_read(net->m, 0, m, bytes);
    return st ? st : nncl_buffer_read(net->v, 0, v, bytes);
}

nncl_status nncl_net_set_optim_state(nncl_net *net, const float *m, const float *v)
{
    size_t bytes = net->n_params * sizeof(float);
    nncl_status st = nncl_buffer_write(net->m, 0, m, bytes);
    return st ? st : nncl_buffer_write(net->v, 0, v, bytes);
}

nncl_status nncl_net_optim_step(nncl_net *net, const nncl_optim_config *opt, float lr, unsigned long t)
{
    nncl_optim_step_args a = {
        .kind = opt->kind, .w = nncl_view_of(net->params, 0), .grad = nncl_view_of(net->grads, 0),
        .m = nncl_view_of(net->m, 0), .v = nncl_view_of(net->v, 0), .n = net->n_params,
        .lr = lr, .weight_decay = opt->weight_decay, .momentum = opt->momentum,
        .nesterov = opt->nesterov, .beta1 = opt->beta1, .beta2 = opt->beta2, .eps = opt->eps,
        .step = t,
    };
    return nncl_optim_step(net->dev, &a);
}

nncl_status nncl_net_train_step(nncl_net *net, const nncl_device_data *dd, size_t first, size_t rows,
                                const nncl_optim_config *opt, float lr, uint64_t seed, unsigned long t)
{
    nncl_status st = nncl_net_load_batch(net, dd, first, rows);
    if (st == NNCL_OK)
        st = nncl_net_forward(net, rows, true, seed, t);
    if (st == NNCL_OK)
        st = nncl_net_loss(net, rows, true, seed, t);
    return st ? st : nncl_net_optim_step(net, opt, lr, t);
}

nncl_status nncl_net_acc_reset(nncl_net *net)
{
    nncl_fill_args f = {nncl_view_of(net->acc, 0), 2, 0.0f};
    return nncl_fill(net->dev, &f);
}

nncl_status nncl_net_acc_set(nncl_net *net, double sum0, double sum1)
{
    float acc[2] = {(float)sum0, (float)sum1};
    return nncl_buffer_write(net->acc, 0, acc, sizeof acc);
}

nncl_status nncl_net_acc_read(nncl_net *net, double *sum0, double *sum1)
{
    float acc[2];
    nncl_status st = nncl_buffer_read(net->acc, 0, acc, sizeof acc);
    if (st != NNCL_OK)
        return st;
    *sum0 = acc[0];
    *sum1 = acc[1];
    return NNCL_OK;
}

/* ---- outputs and evaluation -------------------------------------------------------- */

nncl_status nncl_net_read_output(nncl_net *net, size_t rows, float *out)
{
    const int L = net->cfg.layers;
    nncl_status st = flush_pending(net);
    if (st != NNCL_OK)
        return st;
    return nncl_buffer_read(net->acts, net->act_off[L] * sizeof(float), out,
                            rows * net->cfg.sizes[L] * sizeof(float));
}

nncl_status nncl_net_read_argmax(nncl_net *net, size_t rows, int32_t *out)
{
    const int L = net->cfg.layers;
    nncl_argmax_rows_args a = {nncl_view_of(net->acts, net->act_off[L]), nncl_view_of(net->argmax, 0),
                               rows, net->cfg.sizes[L]};
    nncl_status st = flush_pending(net);
    if (st == NNCL_OK)
        st = nncl_argmax_rows(net->dev, &a);
    return st ? st : nncl_buffer_read(net->argmax, 0, out, rows * sizeof(int32_t));
}

nncl_status nncl_net_evaluate(nncl_net *net, const nncl_device_data *dd, int32_t *pred_classes,
                              float *pred_values, nncl_eval_result *out)
{
    memset(out, 0, sizeof *out);
    bool classify = net->cfg.task == NNCL_TASK_CLASSIFY;
    nncl_status st = nncl_net_acc_reset(net);
    for (size_t first = 0; first < dd->rows && st == NNCL_OK; first += net->max_batch) {
        size_t rows = dd->rows - first < net->max_batch ? dd->rows - first : net->max_batch;
        st = nncl_net_load_batch(net, dd, first, rows);
        if (st == NNCL_OK)
            st = nncl_net_forward(net, rows, false, 0, 0);
        if (st == NNCL_OK && dd->has_y)
            st = nncl_net_loss(net, rows, false, 0, 0);
        if (st == NNCL_OK && classify && pred_classes)
            st = nncl_net_read_argmax(net, rows, pred_classes + first);
        if (st == NNCL_OK && !classify && pred_values) {
            st = nncl_net_read_output(net, rows, pred_values + first);
            for (size_t i = 0; st == NNCL_OK && i < rows; i++)
                pred_values[first + i] = pred_values[first + i] / net->t_scale + net->t_shift;
        }
    }
    if (st != NNCL_OK)
        return st;
    double s0 = 0, s1 = 0;
    if (dd->has_y && (st = nncl_net_acc_read(net, &s0, &s1)) != NNCL_OK)
        return st;
    out->rows = dd->rows;
    out->loss = s0 / (double)dd->rows;
    if (classify) {
        out->accuracy = s1 / (double)dd->rows;
    } else {
        /* Trained on standardised targets t' = (t - shift) * scale: the
         * loss and MAE are given in the target's own units. */
        double sd = 1.0 / (double)net->t_scale;
        out->loss *= sd * sd;
        out->mae = s1 / (double)dd->rows * sd;
    }
    return NNCL_OK;
}
