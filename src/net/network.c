/* The network: its buffers, parameters, batches, and the plan runner's
 * entry points, built only from the device ops in nncl/ops.h. What each
 * layer computes is in its kind's file (src/net/layer_*.c); how a step is
 * put together, and fused, is the step plan (src/net/step_plan.c).
 *
 * Buffers, for batches of up to B rows:
 *   params   trained parameters (every layer's, in order), then kept state
 *   grads    the same layout (the state's part stays 0)
 *   acts     a_0 (the input batch, gathered and transformed), then each
 *            layer's output y
 *   dacts    each layer's dL/dy
 *   aux      what a layer keeps between its forward and backward (max
 *            pooling's argmax, batch normalisation's batch statistics)
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "net/network_impl.h"

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

static nncl_status alloc(nncl_device *dev, size_t bytes, nncl_buffer **out)
{
    return nncl_buffer_alloc(dev, bytes ? bytes : 4, out);
}

/* The config's weight layers by their place in it, for the dense form's
 * callers (nncl_net_weight_offset). */
static void index_weights(nncl_net *net)
{
    for (int i = 0; i < net->lay.n; i++) {
        const net_layer *l = &net->lay.layers[i];
        if (l->pos >= 0 && l->pos < NNCL_MAX_LAYERS) {
            net->w_off[l->pos] = l->w_off;
            net->b_off[l->pos] = l->b_off;
        }
    }
}

static nncl_status alloc_buffers(nncl_net *net)
{
    nncl_device *dev = net->dev;
    const net_layout *lay = &net->lay;
    const nncl_net_config *cfg = &net->cfg;
    size_t p = lay->n_params, f = sizeof(float), B = net->max_batch;
    size_t inputs = cfg->sizes[0], outputs = cfg->sizes[cfg->layers];
    nncl_status st;
    if ((st = alloc(dev, p * f, &net->params)) || (st = alloc(dev, p * f, &net->grads)) ||
        (st = alloc(dev, p * f, &net->m)) || (st = alloc(dev, p * f, &net->v)) ||
        (st = alloc(dev, p * f, &net->best)) || (st = alloc(dev, lay->acts_len * f, &net->acts)) ||
        (st = alloc(dev, lay->grads_len * f, &net->dacts)) ||
        (lay->aux_len && (st = alloc(dev, lay->aux_len * f, &net->aux))) ||
        (lay->scratch_len && (st = alloc(dev, lay->scratch_len * f, &net->conv_scratch))) ||
        (st = alloc(dev, B * sizeof(int32_t), &net->labels)) ||
        (st = alloc(dev, B * outputs * f, &net->targets)) ||
        (st = alloc(dev, B * sizeof(int32_t), &net->argmax)) ||
        (st = alloc(dev, 2 * B * f, &net->scratch)) || (st = alloc(dev, 2 * f, &net->acc)) ||
        (st = alloc(dev, inputs * f, &net->shift)) || (st = alloc(dev, inputs * f, &net->scale)) ||
        (st = alloc(dev, (lay->widest + 1) * f, &net->ones)))
        return st;
    const net_layer *first = &lay->layers[0];
    /* Room for a dense first layer's byte-path weight gradient to sum chunks
     * of 512 rows separately (at most 64 chunks, at most 32 MB). */
    if (first->spec.kind == NNCL_LAYER_DENSE) {
        size_t w1 = first->w_len, chunks = (B + 511) / 512;
        if (chunks > 64)
            chunks = 64;
        if (chunks > ((size_t)32 << 20) / (w1 * f))
            chunks = ((size_t)32 << 20) / (w1 * f);
        if (chunks >= 2 && (st = alloc(dev, chunks * w1 * f, &net->wg_scratch)) == NNCL_OK)
            net->wg_scratch_len = chunks * w1;
        if (st != NNCL_OK)
            return st;
    }
    /* The fused ops' partials, where their rules can fire. */
    const int n = lay->n;
    if (n >= 2 && cfg->task == NNCL_TASK_CLASSIFY && lay->layers[n - 1].spec.kind == NNCL_LAYER_DENSE &&
        lay->layers[n - 2].spec.kind == NNCL_LAYER_DENSE) {
        size_t hidden = lay->layers[n - 2].spec.units, len = nncl_head_xent_scratch_len(B, hidden, outputs);
        if (len && (st = alloc(dev, len * f, &net->head_scratch)) != NNCL_OK)
            return st;
        if (n == 2 && nncl_device_prefers(dev, NNCL_OP_linear_u8_head)) {
            len = nncl_linear_u8_head_scratch_len(B, inputs, hidden, outputs);
            if (len && (st = alloc(dev, len * f, &net->step_scratch)) != NNCL_OK)
                return st;
        }
    }
    return NNCL_OK;
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
    if ((st = nncl_net_layout(cfg, max_batch, &net->lay)) != NNCL_OK) {
        free(net);
        return st;
    }
    if (shape3_len(net->lay.layers[0].in) != cfg->sizes[0] ||
        shape3_len(net->lay.layers[net->lay.n - 1].out) != cfg->sizes[cfg->layers]) {
        free(net);
        return nncl_fail(NNCL_E_INVALID, "the layer list and the sizes disagree (resolve the config first)");
    }
    net->n_params = net->lay.n_params;
    net->n_trained = net->lay.n_trained;
    index_weights(net);
    if ((st = alloc_buffers(net)) != NNCL_OK) {
        nncl_net_free(net);
        return nncl_fail_context(st, "allocating a %zu-parameter network for batches of %zu", net->n_params,
                                 max_batch);
    }
    for (int u8 = 0; u8 < 2; u8++)
        for (int fused = 0; fused < 2; fused++)
            nncl_plan_compile(net, u8, fused, &net->plans[u8][fused]);
    /* Defaults: identity input transform; ones for the tutorial's scalar
     * bias; zero gradients (the kept state's part is never written). */
    size_t inputs = cfg->sizes[0];
    nncl_fill_args fa = {nncl_view_of(net->shift, 0), inputs, 0.0f};
    if ((st = nncl_fill(dev, &fa)) == NNCL_OK) {
        fa = (nncl_fill_args){nncl_view_of(net->scale, 0), inputs, 1.0f};
        st = nncl_fill(dev, &fa);
    }
    if (st == NNCL_OK) {
        fa = (nncl_fill_args){nncl_view_of(net->ones, 0), net->lay.widest + 1, 1.0f};
        st = nncl_fill(dev, &fa);
    }
    if (st == NNCL_OK) {
        fa = (nncl_fill_args){nncl_view_of(net->grads, 0), net->n_params, 0.0f};
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
                           net->dacts, net->aux, net->conv_scratch, net->labels, net->targets, net->argmax,
                           net->scratch, net->acc, net->shift, net->scale, net->ones, net->wg_scratch,
                           net->head_scratch, net->step_scratch};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        nncl_buffer_free(bufs[i]);
    free(net);
}

const nncl_net_config *nncl_net_get_config(const nncl_net *net) { return &net->cfg; }
size_t nncl_net_param_count(const nncl_net *net) { return net->n_params; }
size_t nncl_net_trained_count(const nncl_net *net) { return net->n_trained; }
nncl_device *nncl_net_device(const nncl_net *net) { return net->dev; }
size_t nncl_net_max_batch(const nncl_net *net) { return net->max_batch; }
size_t nncl_net_weight_offset(const nncl_net *net, int layer) { return net->w_off[layer]; }
size_t nncl_net_bias_offset(const nncl_net *net, int layer) { return net->b_off[layer]; }

size_t nncl_net_weight_count(const nncl_net *net, int layer)
{
    for (int i = 0; i < net->lay.n; i++)
        if (net->lay.layers[i].pos == layer)
            return net->lay.layers[i].w_len;
    return 0;
}

/* ---- views the layers share --------------------------------------------------- */

nncl_view nncl_net_params_view(const nncl_net *net, size_t off) { return nncl_view_of(net->params, off); }
nncl_view nncl_net_grads_view(const nncl_net *net, size_t off) { return nncl_view_of(net->grads, off); }
nncl_view nncl_net_aux_view(const nncl_net *net, size_t off) { return nncl_view_of(net->aux, off); }
nncl_view nncl_net_scratch_view(const nncl_net *net) { return nncl_view_of(net->conv_scratch, 0); }

nncl_view nncl_net_layer_x(const nncl_net *net, int i)
{
    return i == 0 ? nncl_view_of(net->acts, 0) : nncl_view_of(net->acts, net->lay.layers[i - 1].y_off);
}

nncl_view nncl_net_layer_y(const nncl_net *net, int i) { return nncl_view_of(net->acts, net->lay.layers[i].y_off); }

nncl_status nncl_layer_act_bwd(nncl_net *net, const net_layer *l, const layer_io *io)
{
    if (l->act == NNCL_ACT_IDENTITY)
        return NNCL_OK;
    nncl_act_bwd_args ab = {io->y, io->dy, io->dy, io->rows * shape3_len(l->out), l->act, l->act_param};
    return nncl_act_bwd(net->dev, &ab);
}

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
double nncl_init_normal(nncl_rng *r)
{
    double u1 = ((double)(nncl_rng_next(r) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
    double u2 = (double)(nncl_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

double nncl_init_uniform(nncl_rng *r, double a)
{
    return a * (2.0 * ((double)(nncl_rng_next(r) >> 11) * (1.0 / 9007199254740992.0)) - 1.0);
}

float nncl_init_weight(nncl_init_kind kind, float param, size_t fan_in, size_t fan_out, nncl_rng *r)
{
    switch (kind) {
    case NNCL_INIT_HE: return (float)(sqrt(2.0 / (double)fan_in) * nncl_init_normal(r));
    case NNCL_INIT_XAVIER: return (float)nncl_init_uniform(r, sqrt(6.0 / (double)(fan_in + fan_out)));
    case NNCL_INIT_UNIFORM: return (float)nncl_init_uniform(r, param);
    }
    return 0.0f;
}

/* Each layer draws its parameters in order from one generator: the same
 * numbers on every device. */
nncl_status nncl_net_init(nncl_net *net, nncl_init_kind kind, float param, uint64_t seed)
{
    float *w = calloc(net->n_params ? net->n_params : 1, sizeof *w);
    if (!w)
        return nncl_fail(NNCL_E_NOMEM, "out of memory initialising parameters");
    nncl_rng r;
    nncl_rng_seed(&r, seed);
    for (int i = 0; i < net->lay.n; i++) {
        const net_layer *l = &net->lay.layers[i];
        if (l->ops->init)
            l->ops->init(l, w, kind, param, &r);
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

nncl_status nncl_net_set_grads(nncl_net *net, const float *in, size_t n)
{
    if (n > net->n_params)
        return nncl_fail(NNCL_E_INVALID, "%zu gradients for a network of %zu parameters", n, net->n_params);
    return nncl_buffer_write(net->grads, 0, in, n * sizeof(float));
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
nncl_view nncl_net_direct_index(const nncl_net *net)
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
    /* Byte data on a device that prefers it, into a dense first layer: that
     * layer reads the dataset's bytes through the order list (linear_u8_*), a
     * quarter of the traffic of a float copy, and only labels or targets are
     * gathered; a whole dataset in its natural order reads its labels in
     * place. The host reads only the nonzero bytes (u8_sparse_host.c). */
    net->direct = NULL;
    if (dd->u8 && nncl_plan_reads_bytes(net)) {
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
        .x = net->direct ? (nncl_view){0} : nncl_view_of(net->acts, 0),
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

/* ---- forward, loss, backward: the step plan ---------------------------------- */

static const step_plan *plan_for(const nncl_net *net, bool fused)
{
    return &net->plans[net->direct != NULL][fused];
}

nncl_status nncl_net_forward(nncl_net *net, size_t rows, bool train, uint64_t seed, uint64_t step)
{
    const step_plan *p = plan_for(net, false);
    return nncl_plan_run(net, p, 0, p->loss_at, rows, train, false, seed, step);
}

nncl_status nncl_net_loss(nncl_net *net, size_t rows, bool backward, uint64_t seed, uint64_t step)
{
    const step_plan *p = plan_for(net, false);
    return nncl_plan_run(net, p, p->loss_at, backward ? p->n : p->loss_at + 1, rows, true, backward, seed,
                         step);
}

nncl_status nncl_net_forward_backward(nncl_net *net, size_t rows, uint64_t seed, uint64_t step)
{
    const step_plan *p = plan_for(net, true);
    return nncl_plan_run(net, p, 0, p->n, rows, true, true, seed, step);
}

nncl_status nncl_net_describe_plan(nncl_net *net, char *out, size_t len)
{
    return nncl_plan_describe(net, plan_for(net, true), out, len);
}

/* The labels of the loaded batch: in place for a whole byte dataset in its
 * own order, else the gathered copy. */
nncl_view nncl_net_batch_labels(const nncl_net *net)
{
    if (net->direct && !net->direct_indexed)
        return nncl_view_of(net->direct->y, 0);
    return nncl_view_of(net->labels, 0);
}

/* The gradient of the mean loss is scaled by 1/rows (or the tutorial's m). */
float nncl_net_grad_scale(const nncl_net *net, size_t rows)
{
    return 1.0f / (float)(net->quirk_grad_rows ? net->quirk_grad_rows : rows);
}

/* The tutorial quirk: every unit of a layer gets the sum of its db over units. */
nncl_status nncl_net_scalar_bias_quirk(nncl_net *net, size_t b_off, size_t out)
{
    if (!net->quirk_scalar_bias)
        return NNCL_OK;
    nncl_view db = nncl_view_of(net->grads, b_off);
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
        .m = nncl_view_of(net->m, 0), .v = nncl_view_of(net->v, 0), .n = net->n_trained,
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
        st = nncl_net_forward_backward(net, rows, seed, t);
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
    return nncl_buffer_read(net->acts, net->lay.layers[net->lay.n - 1].y_off * sizeof(float), out,
                            rows * net->cfg.sizes[L] * sizeof(float));
}

nncl_status nncl_net_read_argmax(nncl_net *net, size_t rows, int32_t *out)
{
    const int L = net->cfg.layers;
    nncl_argmax_rows_args a = {nncl_net_layer_y(net, net->lay.n - 1), nncl_view_of(net->argmax, 0), rows,
                               net->cfg.sizes[L]};
    nncl_status st = nncl_argmax_rows(net->dev, &a);
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
