/* `nncl check`: the network's backward pass on the device against central
 * differences of its loss, computed on the host in double precision from
 * the same float parameters.
 *
 * Four small networks, sized afresh from the seed, take the device's four
 * backward paths: a wide last hidden layer (gemm, softmax_xent, colsum,
 * act_bwd), a narrow one (head_xent fused with the loss), one narrow hidden
 * layer on bytes (on CPU OpenCL devices the whole step is linear_u8_head),
 * and a regression (mse). Every parameter is checked.
 *
 * Tolerance: |g - fd| <= 1e-5 + 1e-3 |fd|. The differences (step 1e-5 in
 * double) are good to ~1e-10; the device's float gradients, of order 0.1,
 * carry relative errors of ~1e-6 from float sums; a gradient that misses
 * one row of the batch, or a term of the chain rule, is off by percents. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli/check.h"

enum { MAX_WIDTH = 64 };

typedef struct grad_case {
    const char *name;
    nncl_net_config cfg;
    bool bytes;
} grad_case;

static double act_d(nncl_act act, double z)
{
    switch (act) {
    case NNCL_ACT_RELU: return z > 0 ? z : 0;
    case NNCL_ACT_SIGMOID: return 1 / (1 + exp(-z));
    case NNCL_ACT_TANH: return tanh(z);
    default: return z;
    }
}

/* The network's mean loss in double: x is rows x inputs, already through
 * the input transform; p the flat parameters at the offsets given. */
static double loss_d(const nncl_net_config *cfg, const double *p, const size_t *w_off, const size_t *b_off,
                     const double *x, const int32_t *labels, const float *targets, size_t rows)
{
    double total = 0;
    for (size_t r = 0; r < rows; r++) {
        double a[MAX_WIDTH], z[MAX_WIDTH];
        size_t width = cfg->sizes[0];
        memcpy(a, x + r * width, width * sizeof *a);
        for (int l = 0; l < cfg->layers; l++) {
            size_t out = cfg->sizes[l + 1];
            for (size_t o = 0; o < out; o++) {
                double s = p[b_off[l] + o];
                for (size_t i = 0; i < width; i++)
                    s += p[w_off[l] + o * width + i] * a[i];
                z[o] = s;
            }
            bool last = l == cfg->layers - 1;
            for (size_t o = 0; o < out; o++)
                a[o] = last ? z[o] : act_d(cfg->act, z[o]);
            width = out;
        }
        if (cfg->task == NNCL_TASK_REGRESS) {
            double d = a[0] - targets[r];
            total += d * d;
        } else {
            double m = a[0], se = 0;
            for (size_t k = 1; k < width; k++)
                m = fmax(m, a[k]);
            for (size_t k = 0; k < width; k++)
                se += exp(a[k] - m);
            total += log(se) + m - a[labels[r]];
        }
    }
    return total / (double)rows;
}

/* The device's gradient of one case (in g) and the differences (in fd). */
static nncl_status grad_one(check_ctx *c, check_row *r, const grad_case *gc, size_t rows, double **g_out,
                            double **fd_out, size_t *n_out)
{
    const nncl_net_config *cfg = &gc->cfg;
    size_t in = cfg->sizes[0];
    bool classify = cfg->task == NNCL_TASK_CLASSIFY;
    uint8_t *xb = check_random_bytes(c, rows * in);
    float *xf = check_random(c, rows * in, -1, 1), *targets = check_random(c, rows, -1, 1);
    float *shift = check_alloc(c, in * sizeof *shift), *scale = check_alloc(c, in * sizeof *scale);
    int32_t *labels = check_random_ints(c, rows, cfg->sizes[cfg->layers]);
    double *x = check_alloc(c, rows * in * sizeof *x);
    if (c->nomem)
        return check_nomem();
    for (size_t j = 0; j < in; j++) {
        shift[j] = gc->bytes ? 30.0f : 0.0f;
        scale[j] = gc->bytes ? 1.0f / 80.0f : 1.0f;
    }
    for (size_t i = 0; i < rows * in; i++)
        x[i] = gc->bytes ? ((double)xb[i] - shift[i % in]) * scale[i % in] : xf[i];
    nncl_dataset ds = {.rows = rows, .cols = in, .x_u8 = gc->bytes ? xb : NULL, .x_f32 = gc->bytes ? NULL : xf,
                       .labels = classify ? labels : NULL, .targets = classify ? NULL : targets,
                       .task = cfg->task, .num_classes = classify ? (int)cfg->sizes[cfg->layers] : 0};
    nncl_net *net = NULL;
    nncl_device_data dd = {0};
    size_t n = 0;
    float *p = NULL, *g = NULL;
    nncl_status st = nncl_net_create(c->dev, cfg, rows, &net);
    if (st == NNCL_OK)
        st = nncl_net_init(net, NNCL_INIT_XAVIER, 0, nncl_rng_next(&c->rng));
    if (st == NNCL_OK)
        st = nncl_net_set_transform(net, shift, scale);
    if (st == NNCL_OK)
        st = nncl_device_data_upload(c->dev, &ds, &dd);
    if (st == NNCL_OK) {
        n = nncl_net_param_count(net);
        p = check_alloc(c, n * sizeof *p);
        g = check_alloc(c, n * sizeof *g);
        if (c->nomem)
            st = check_nomem();
    }
    if (st == NNCL_OK)
        st = nncl_net_get_params(net, p);
    if (st == NNCL_OK)
        st = nncl_net_load_batch(net, &dd, 0, rows);
    if (st == NNCL_OK)
        st = nncl_net_forward(net, rows, true, 1, 1);
    if (st == NNCL_OK)
        st = nncl_net_loss(net, rows, true, 1, 1);
    if (st == NNCL_OK)
        st = nncl_net_get_grads(net, g);
    size_t w_off[NNCL_MAX_LAYERS], b_off[NNCL_MAX_LAYERS];
    for (int l = 0; net && l < cfg->layers; l++) {
        w_off[l] = nncl_net_weight_offset(net, l);
        b_off[l] = nncl_net_bias_offset(net, l);
    }
    nncl_device_data_free(&dd);
    nncl_net_free(net);
    if (st != NNCL_OK) {
        if (st == NNCL_E_NOMEM && c->nomem)
            return st;
        check_row_error(r, "%s: %s", gc->name, nncl_last_error());
        return NNCL_OK;
    }
    double *pd = check_alloc(c, n * sizeof *pd), *gd = check_alloc(c, n * sizeof *gd);
    double *fd = check_alloc(c, n * sizeof *fd);
    if (c->nomem)
        return check_nomem();
    for (size_t i = 0; i < n; i++) {
        pd[i] = p[i];
        gd[i] = g[i];
    }
    const double h = 1e-5;
    for (size_t i = 0; i < n; i++) {
        pd[i] = (double)p[i] + h;
        double up = loss_d(cfg, pd, w_off, b_off, x, labels, targets, rows);
        pd[i] = (double)p[i] - h;
        double down = loss_d(cfg, pd, w_off, b_off, x, labels, targets, rows);
        pd[i] = p[i];
        fd[i] = (up - down) / (2 * h);
    }
    *g_out = gd;
    *fd_out = fd;
    *n_out = n;
    return NNCL_OK;
}

nncl_status check_grad(check_ctx *c, check_row *r)
{
    nncl_rng *q = &c->rng;
    size_t rows = check_awkward(q, 5, c->quick ? 19 : 41), in = check_awkward(q, 3, c->quick ? 11 : 29);
    size_t wide = check_awkward(q, NNCL_HEAD_MAX + 1, c->quick ? 24 : 40), narrow = check_awkward(q, 2, NNCL_HEAD_MAX);
    size_t classes = check_awkward(q, 2, NNCL_HEAD_MAX), small = check_awkward(q, 2, NNCL_HEAD_MAX);
    const grad_case cases[] = {
        {"wide (separate ops)",
         {.layers = 2, .sizes = {in, wide, classes}, .act = NNCL_ACT_SIGMOID, .task = NNCL_TASK_CLASSIFY}, false},
        {"narrow (head fused)",
         {.layers = 3, .sizes = {in, wide, narrow, classes}, .act = NNCL_ACT_TANH, .task = NNCL_TASK_CLASSIFY},
         true},
        {"bytes, one narrow (step fused)",
         {.layers = 2, .sizes = {in, small, classes}, .act = NNCL_ACT_TANH, .task = NNCL_TASK_CLASSIFY}, true},
        {"regression",
         {.layers = 3, .sizes = {in, narrow, small, 1}, .act = NNCL_ACT_TANH, .task = NNCL_TASK_REGRESS}, false},
    };
    int len = snprintf(r->shape, sizeof r->shape, "%zu rows:", rows);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0] && len < (int)sizeof r->shape; k++) {
        const nncl_net_config *cfg = &cases[k].cfg;
        for (int l = 0; l <= cfg->layers && len < (int)sizeof r->shape; l++)
            len += snprintf(r->shape + len, sizeof r->shape - (size_t)len, "%s%zu", l ? "-" : " ", cfg->sizes[l]);
    }
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        double *g = NULL, *fd = NULL;
        size_t n = 0;
        nncl_status st = grad_one(c, r, &cases[k], rows, &g, &fd, &n);
        if (st != NNCL_OK)
            return st;
        if (g)
            check_compare_d(c, r, cases[k].name, g, fd, n, 1e-5, 1e-3);
    }
    return NNCL_OK;
}
