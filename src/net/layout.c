/* From a config to laid-out layers: shapes, parameter offsets, and where each
 * layer's output and gradient live. The same code serves the network, the
 * model file (tensor names and shapes) and the CLI (a line per layer). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/layer.h"
#include "nncl/model.h"

const layer_ops *nncl_layer_ops_for(nncl_layer_kind kind)
{
    static const layer_ops *const table[] = {
        [NNCL_LAYER_DENSE] = &nncl_layer_dense_ops,         [NNCL_LAYER_CONV2D] = &nncl_layer_conv2d_ops,
        [NNCL_LAYER_MAXPOOL] = &nncl_layer_pool_ops,        [NNCL_LAYER_AVGPOOL] = &nncl_layer_pool_ops,
        [NNCL_LAYER_BATCHNORM] = &nncl_layer_batchnorm_ops, [NNCL_LAYER_DROPOUT] = &nncl_layer_dropout_ops,
        [NNCL_LAYER_FLATTEN] = &nncl_layer_flatten_ops,
    };
    if ((unsigned)kind >= sizeof table / sizeof table[0])
        return NULL;
    return table[kind];
}

/* The dense form as specs: each dense layer, with a dropout layer after every
 * hidden one when cfg->dropout is set. */
static int dense_specs(const nncl_net_config *cfg, nncl_layer_spec *specs, bool *implied)
{
    int n = 0;
    for (int l = 1; l <= cfg->layers && n < NNCL_MAX_SPECS; l++) {
        implied[n] = false;
        specs[n++] = (nncl_layer_spec){.kind = NNCL_LAYER_DENSE, .units = cfg->sizes[l]};
        if (l < cfg->layers && cfg->dropout > 0.0f && n < NNCL_MAX_SPECS) {
            implied[n] = true;
            specs[n++] = (nncl_layer_spec){.kind = NNCL_LAYER_DROPOUT, .rate = cfg->dropout};
        }
    }
    return n;
}

/* The spec list a config describes, with --dropout's layers added after the
 * hidden dense layers of a network given by specs too. */
static nncl_status expand(const nncl_net_config *cfg, nncl_layer_spec *specs, bool *implied, int *count,
                          nncl_shape3 *in)
{
    if (nncl_net_config_is_dense(cfg)) {
        if (cfg->layers < 1 || cfg->layers > NNCL_MAX_LAYERS)
            return nncl_fail(NNCL_E_INVALID, "a network needs 1 to %d layers, not %d", NNCL_MAX_LAYERS,
                             cfg->layers);
        *in = (nncl_shape3){cfg->sizes[0], 1, 1};
        *count = dense_specs(cfg, specs, implied);
        return NNCL_OK;
    }
    *in = (nncl_shape3){cfg->in_c, cfg->in_h, cfg->in_w};
    int n = 0;
    for (int i = 0; i < cfg->n_specs; i++) {
        if (n == NNCL_MAX_SPECS)
            return nncl_fail(NNCL_E_INVALID, "at most %d layers, dropout included", NNCL_MAX_SPECS);
        implied[n] = false;
        specs[n++] = cfg->specs[i];
        bool hidden_dense = cfg->specs[i].kind == NNCL_LAYER_DENSE && i + 1 < cfg->n_specs;
        if (hidden_dense && cfg->dropout > 0.0f) {
            if (n == NNCL_MAX_SPECS)
                return nncl_fail(NNCL_E_INVALID, "at most %d layers, dropout included", NNCL_MAX_SPECS);
            implied[n] = true;
            specs[n++] = (nncl_layer_spec){.kind = NNCL_LAYER_DROPOUT, .rate = cfg->dropout};
        }
    }
    *count = n;
    return NNCL_OK;
}

static void describe_spec(const nncl_layer_spec *s, char *out, size_t len)
{
    nncl_layer_spec one = *s;
    if (nncl_layers_format(&one, 1, out, len) != NNCL_OK)
        snprintf(out, len, "%s", nncl_layer_kind_name(s->kind));
}

nncl_status nncl_net_layout(const nncl_net_config *cfg, size_t max_batch, net_layout *out)
{
    memset(out, 0, sizeof *out);
    nncl_layer_spec specs[NNCL_MAX_SPECS];
    bool implied[NNCL_MAX_SPECS];
    nncl_shape3 in;
    int n = 0;
    nncl_status st = expand(cfg, specs, implied, &n, &in);
    if (st != NNCL_OK)
        return st;
    if (n < 1)
        return nncl_fail(NNCL_E_INVALID, "a network needs at least one layer");
    if (shape3_len(in) == 0)
        return nncl_fail(NNCL_E_INVALID, "the input has size 0");
    if (specs[n - 1].kind != NNCL_LAYER_DENSE)
        return nncl_fail(NNCL_E_INVALID, "the last layer must be dense (the outputs), not %s",
                         nncl_layer_kind_name(specs[n - 1].kind));
    /* Pass 1: shapes and sizes; the last dense or conv layer before the
     * output is "hidden" and gets the activation, the output does not. */
    out->n = n;
    int weight_layers = 0, pos = 0;
    for (int i = 0; i < n; i++) {
        net_layer *l = &out->layers[i];
        l->spec = specs[i];
        l->index = i;
        l->implied = implied[i];
        l->pos = implied[i] ? -1 : pos++;
        l->ops = nncl_layer_ops_for(specs[i].kind);
        l->in = in;
        /* only dense and conv layers apply the activation, the last one not */
        bool weighted = specs[i].kind == NNCL_LAYER_DENSE || specs[i].kind == NNCL_LAYER_CONV2D;
        l->act = weighted && i + 1 < n ? cfg->act : NNCL_ACT_IDENTITY;
        l->act_param = cfg->act_param;
        if (!l->ops)
            return nncl_fail(NNCL_E_INVALID, "layer %d: unknown kind %d", i + 1, (int)specs[i].kind);
        if ((st = l->ops->infer(l, max_batch)) != NNCL_OK) {
            char text[64];
            describe_spec(&specs[i], text, sizeof text);
            return nncl_fail_context(st, "layer %d (%s) on input [%zu,%zu,%zu]", i + 1, text, in.c, in.h, in.w);
        }
        if (shape3_len(l->out) == 0)
            return nncl_fail(NNCL_E_INVALID, "layer %d leaves nothing", i + 1);
        /* Dropout after dropout, or any key clash: each dropout layer's mask
         * is keyed by the weight layers before it (seed + l for the dense
         * form, as before) and how many dropouts follow the same one. */
        if (l->ops->kind == NNCL_LAYER_DENSE || l->ops->kind == NNCL_LAYER_CONV2D)
            weight_layers++;
        if (l->spec.kind == NNCL_LAYER_DROPOUT) {
            int since = 0;
            for (int j = i - 1; j >= 0 && out->layers[j].spec.kind != NNCL_LAYER_DENSE &&
                                out->layers[j].spec.kind != NNCL_LAYER_CONV2D; j--)
                since += out->layers[j].spec.kind == NNCL_LAYER_DROPOUT;
            l->seed_offset = (uint64_t)weight_layers + 1000u * (uint64_t)since;
        }
        in = l->out;
    }
    /* Pass 2: offsets. Trained parameters first, kept state after them. */
    size_t p = 0;
    for (int i = 0; i < n; i++) {
        net_layer *l = &out->layers[i];
        l->w_off = p;
        p += l->w_len;
        l->b_off = p;
        p += l->b_len;
    }
    out->n_trained = p;
    for (int i = 0; i < n; i++) {
        net_layer *l = &out->layers[i];
        l->s_off = p;
        p += l->s_len;
    }
    out->n_params = p;
    /* a_0 first, then each layer's output (flatten's is its input). */
    size_t acts = max_batch * shape3_len(out->layers[0].in), grads = 0, aux = 0, scratch = 0;
    size_t prev_y = 0, prev_g = 0;
    out->widest = shape3_len(out->layers[0].in);
    for (int i = 0; i < n; i++) {
        net_layer *l = &out->layers[i];
        size_t len = max_batch * shape3_len(l->out);
        /* flatten: y is x and dy is dx, the same floats in the same order */
        if (l->y_is_x) {
            l->y_off = prev_y;
        } else {
            l->y_off = acts;
            acts += len;
        }
        if (l->y_is_x && i > 0) {
            l->g_off = prev_g;
        } else {
            l->g_off = grads;
            grads += len;
        }
        prev_y = l->y_off;
        prev_g = l->g_off;
        l->aux_off = aux;
        aux += l->aux_len;
        if (l->scratch_len > scratch)
            scratch = l->scratch_len;
        if (shape3_len(l->out) > out->widest)
            out->widest = shape3_len(l->out);
    }
    out->acts_len = acts;
    out->grads_len = grads;
    out->aux_len = aux;
    out->scratch_len = scratch;
    return NNCL_OK;
}

nncl_status nncl_net_config_resolve(nncl_net_config *cfg)
{
    if (nncl_net_config_is_dense(cfg))
        return NNCL_OK;
    if (cfg->n_specs < 1 || cfg->n_specs > NNCL_MAX_LAYERS)
        return nncl_fail(NNCL_E_INVALID, "a network needs 1 to %d layers, not %d", NNCL_MAX_LAYERS, cfg->n_specs);
    net_layout *lay = malloc(sizeof *lay);
    if (!lay)
        return nncl_fail(NNCL_E_NOMEM, "out of memory laying out a network");
    /* Dropout keeps shapes: lay out the specs alone for their sizes. */
    nncl_net_config plain = *cfg;
    plain.dropout = 0.0f;
    nncl_status st = nncl_net_layout(&plain, 1, lay);
    if (st == NNCL_OK) {
        bool all_dense = true;
        for (int i = 0; i < cfg->n_specs; i++)
            all_dense = all_dense && cfg->specs[i].kind == NNCL_LAYER_DENSE;
        cfg->layers = cfg->n_specs;
        cfg->sizes[0] = cfg->in_c * cfg->in_h * cfg->in_w;
        for (int i = 0; i < cfg->n_specs; i++)
            cfg->sizes[i + 1] = shape3_len(lay->layers[i].out);
        if (all_dense)
            cfg->n_specs = 0;   /* the dense form: exactly the network it always was */
    }
    free(lay);
    return st;
}

nncl_status nncl_net_config_param_count(const nncl_net_config *cfg, size_t *count)
{
    *count = 0;
    net_layout *lay = malloc(sizeof *lay);
    if (!lay)
        return nncl_fail(NNCL_E_NOMEM, "out of memory laying out a network");
    nncl_status st = nncl_net_layout(cfg, 1, lay);
    if (st == NNCL_OK)
        *count = lay->n_params;
    free(lay);
    return st;
}

nncl_status nncl_net_config_tensors(const nncl_net_config *cfg, nncl_tensor_info *t, int *count)
{
    *count = 0;
    net_layout *lay = malloc(sizeof *lay);
    if (!lay)
        return nncl_fail(NNCL_E_NOMEM, "out of memory laying out a network");
    nncl_status st = nncl_net_layout(cfg, 1, lay);
    /* Named by position in the spec list, as an nn.ModuleList of the same
     * layers would name them; the dropout layers --dropout adds take no
     * position (the dense form's names stay layers.0, layers.1, ...). */
    int pos = 0;
    for (int i = 0; st == NNCL_OK && i < lay->n; i++) {
        const net_layer *l = &lay->layers[i];
        if (l->implied)
            continue;
        if (l->ops->tensors) {
            nncl_tensor_info *mine = t + *count;
            int k = l->ops->tensors(l, mine);
            for (int j = 0; j < k; j++) {
                char base[16];
                snprintf(base, sizeof base, "%s", mine[j].name);
                snprintf(mine[j].name, sizeof mine[j].name, "layers.%d.%s", pos, base);
                mine[j].layer = pos;
            }
            *count += k;
        }
        pos++;
    }
    free(lay);
    return st;
}

nncl_status nncl_net_config_describe(const nncl_net_config *cfg, char *out, size_t len)
{
    net_layout *lay = malloc(sizeof *lay);
    if (!lay)
        return nncl_fail(NNCL_E_NOMEM, "out of memory laying out a network");
    nncl_status st = nncl_net_layout(cfg, 1, lay);
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; st == NNCL_OK && i < lay->n; i++) {
        const net_layer *l = &lay->layers[i];
        char text[64];
        describe_spec(&l->spec, text, sizeof text);
        size_t params = l->w_len + l->b_len;
        bool act = l->act != NNCL_ACT_IDENTITY;
        int k = snprintf(out + used, len - used, "  %-2d %-18s [%zu,%zu,%zu] -> [%zu,%zu,%zu]%s%s  %zu params\n",
                         i + 1, text, l->in.c, l->in.h, l->in.w, l->out.c, l->out.h, l->out.w, act ? ", " : "",
                         act ? nncl_act_name(l->act) : "", params);
        if (k < 0 || (size_t)k >= len - used) {
            st = nncl_fail(NNCL_E_INVALID, "the description of the network does not fit %zu bytes", len);
            break;
        }
        used += (size_t)k;
    }
    free(lay);
    return st;
}
