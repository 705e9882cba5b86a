/* One layer of a network, and the table of functions each layer kind
 * provides (kann's op table, applied to layers). Private to src/net.
 *
 * A layer reads x (its input, [rows, in]) and writes y ([rows, out]), both
 * in the network's activation buffer; backward reads dy, the gradient of the
 * loss with respect to y, and writes dx. Shapes are [c, h, w] per row; a
 * table's features are [n, 1, 1]. Parameters live in the network's one flat
 * buffer: the trained ones first (every layer's, in order), then the state
 * that is kept but not trained (batch normalisation's running statistics),
 * so the optimiser updates the first part in one launch and everything that
 * saves parameters saves both. */
#ifndef NNCL_LAYER_H
#define NNCL_LAYER_H

#include "nncl/layers.h"
#include "nncl/net.h"

typedef struct nncl_shape3 {
    size_t c, h, w;
} nncl_shape3;

static inline size_t shape3_len(nncl_shape3 s) { return s.c * s.h * s.w; }

typedef struct net_layer net_layer;
typedef struct layer_ops layer_ops;

/* What one call of a layer's forward or backward works on. */
typedef struct layer_io {
    nncl_view x, y;             /* input and output, [rows, in] and [rows, out] */
    nncl_view dy, dx;           /* their gradients (dx {NULL}: none wanted) */
    size_t rows;
    bool train;                 /* dropout and batch statistics on */
    uint64_t seed, step;        /* dropout's key */
    /* backward: dy is already the pre-activation gradient (a fused step
     * applied f'), and the bias gradient is already summed */
    bool dy_is_pre_act, bias_done;
    /* x is the dataset's bytes (u8) read through u8_index (or rows 0..rows-1
     * when {NULL}) of u8_rows rows, with the network's input transform */
    bool x_u8;
    nncl_view u8_index;
    size_t u8_rows;
} layer_io;

struct net_layer {
    const layer_ops *ops;
    nncl_layer_spec spec;
    int index;                  /* position in the network, 0-based */
    bool implied;               /* a dropout layer --dropout added (no name in files) */
    int pos;                    /* its place in the config's layer list (-1 when implied) */
    nncl_shape3 in, out;
    nncl_act act;               /* dense and conv: the network's, identity on the last; others identity */
    float act_param;
    size_t w_off, w_len;        /* trained: weight ... */
    size_t b_off, b_len;        /* ... and bias (or batchnorm's gamma, beta) */
    size_t s_off, s_len;        /* kept, not trained: batchnorm's running mean, var */
    size_t y_off;               /* y in the activation buffer (max_batch rows) */
    size_t g_off;               /* dy in the gradient buffer */
    size_t aux_off, aux_len;    /* own room in the aux buffer (pool argmax, batch stats) */
    size_t scratch_len;         /* floats of the shared scratch it needs */
    bool y_is_x;                /* flatten: y is x itself */
    uint64_t seed_offset;       /* dropout: added to the run's seed */
    union {
        nncl_conv2d_shape conv; /* for max_batch rows; n is set per call */
        nncl_pool2d_shape pool;
    } geo;
};

struct layer_ops {
    nncl_layer_kind kind;
    /* Fill out, act, w_len, b_len, s_len, aux_len, scratch_len and geo from
     * spec and in for batches of max_batch, or fail saying why. */
    nncl_status (*infer)(net_layer *l, size_t max_batch);
    /* Draw the layer's parameters (params: the whole flat vector). */
    void (*init)(const net_layer *l, float *params, nncl_init_kind kind, float param, nncl_rng *r);
    nncl_status (*forward)(nncl_net *net, const net_layer *l, const layer_io *io);
    nncl_status (*backward)(nncl_net *net, const net_layer *l, const layer_io *io);
    /* Names and shapes of its tensors in the model file: fills t (at most
     * 4) and returns how many. */
    int (*tensors)(const net_layer *l, nncl_tensor_info *t);
};

extern const layer_ops nncl_layer_dense_ops, nncl_layer_conv2d_ops, nncl_layer_pool_ops,
    nncl_layer_batchnorm_ops, nncl_layer_dropout_ops, nncl_layer_flatten_ops;

/* The table entry for a kind. */
const layer_ops *nncl_layer_ops_for(nncl_layer_kind kind);

/* Lay out the layers of cfg for batches of max_batch: shapes, then every
 * offset (params, activations, gradients, aux), and the sizes of each
 * buffer. Fails naming the layer and why when a shape does not work. */
typedef struct net_layout {
    int n;
    net_layer layers[NNCL_MAX_SPECS];
    size_t n_trained, n_params;     /* trained parameters, then all (with kept state) */
    size_t acts_len, grads_len, aux_len, scratch_len;
    size_t widest;                  /* the widest layer output (for the ones vector) */
} net_layout;

nncl_status nncl_net_layout(const nncl_net_config *cfg, size_t max_batch, net_layout *out);

/* Helpers the layer kinds share. */
nncl_view nncl_net_params_view(const nncl_net *net, size_t off);
nncl_view nncl_net_grads_view(const nncl_net *net, size_t off);
nncl_view nncl_net_aux_view(const nncl_net *net, size_t off);
nncl_view nncl_net_scratch_view(const nncl_net *net);
/* The tutorial's quirk for a bias gradient (a no-op unless it is set). */
nncl_status nncl_net_scalar_bias_quirk(nncl_net *net, size_t b_off, size_t len);
/* f'(y) applied to dy in place, for a layer with an activation. */
nncl_status nncl_layer_act_bwd(nncl_net *net, const net_layer *l, const layer_io *io);

double nncl_init_normal(nncl_rng *r);
double nncl_init_uniform(nncl_rng *r, double a);
/* One weight from the init kind for a layer with these fans. */
float nncl_init_weight(nncl_init_kind kind, float param, size_t fan_in, size_t fan_out, nncl_rng *r);

#endif
