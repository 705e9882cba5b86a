/* nncl/net.h: a multi-layer perceptron on one device.
 *
 * The network is a stack of dense layers, z_l = a_{l-1} W_l^T + b_l, with one
 * activation on every hidden layer and, on the output, softmax + cross-entropy
 * (classification) or identity + mean squared error (regression). W_l is
 * [out, in] row-major, the layout of PyTorch's nn.Linear.
 *
 * All parameters live in one flat buffer (W_1, b_1, W_2, b_2, ...) with a
 * gradient buffer of the same layout, so the optimiser updates every
 * parameter in one launch (llm.c's malloc_and_point_parameters). Activations
 * for the largest batch are allocated once, at creation: nothing is allocated
 * during training. */
#ifndef NNCL_NET_H
#define NNCL_NET_H

#include "nncl/data.h"
#include "nncl/device.h"
#include "nncl/layers.h"
#include "nncl/ops.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NNCL_MAX_LAYERS 16     /* in the dense form; a layer list may hold NNCL_MAX_LAYERS too */

/* Two forms. A dense network (n_specs 0) is given by layers and sizes alone.
 * Any other network lists its layers in specs (the output layer included,
 * see nncl/layers.h) with its input shape in_c x in_h x in_w; for it,
 * nncl_net_config_resolve fills layers (= n_specs) and sizes (sizes[0] the
 * inputs, sizes[l] the values layer l puts out per row). Either way sizes[0]
 * is the inputs and sizes[layers] the outputs. */
typedef struct nncl_net_config {
    int layers;                         /* dense layers (hidden + output), >= 1 */
    size_t sizes[NNCL_MAX_LAYERS + 1];  /* sizes[0] inputs ... sizes[layers] outputs */
    nncl_act act;                       /* on every hidden dense or conv layer */
    float act_param;                    /* leaky ReLU slope */
    nncl_task task;                     /* classify: softmax + xent; regress: MSE */
    float dropout;                      /* after hidden dense layers while training, [0, 1) */
    int n_specs;                        /* 0: the dense network of sizes */
    nncl_layer_spec specs[NNCL_MAX_SPECS];
    size_t in_c, in_h, in_w;            /* the input's shape, with specs */
} nncl_net_config;

/* Check a config with specs and fill its layers and sizes; a list of plain
 * dense layers becomes the dense form (n_specs 0), so it trains and saves
 * exactly as before. Fails (NNCL_E_INVALID) naming the layer and why: an
 * odd shape, a pool larger than its input, a last layer that is not dense. */
nncl_status nncl_net_config_resolve(nncl_net_config *cfg);
/* True for the dense form: every layer dense, W_l of sizes[l] x sizes[l-1]. */
static inline bool nncl_net_config_is_dense(const nncl_net_config *cfg) { return cfg->n_specs == 0; }

/* The tensors of the flat parameter vector, in order, as the model file
 * names them ("layers.0.weight" [out, in] or [k, c, kh, kw], "layers.2.bias",
 * "layers.3.running_mean", PyTorch's names and layouts). */
typedef struct nncl_tensor_info {
    char name[48];
    int layer;                  /* its layer, 0-based */
    int ndim;
    size_t dims[4];
    size_t offset, len;         /* in the flat parameter vector */
    bool trained;               /* false: kept but not trained (running statistics) */
} nncl_tensor_info;

#define NNCL_MAX_TENSORS (4 * NNCL_MAX_SPECS)

/* Every parameter cfg's network holds (trained and kept), without creating it. */
nncl_status nncl_net_config_param_count(const nncl_net_config *cfg, size_t *count);

/* Fill t (NNCL_MAX_TENSORS entries) with cfg's tensors; *count of them. */
nncl_status nncl_net_config_tensors(const nncl_net_config *cfg, nncl_tensor_info *t, int *count);

/* A line per layer for people: "conv 5x5, 32 filters, same  [1,28,28] -> [32,28,28]  832 params".
 * Fills out (len bytes) with the lines. */
nncl_status nncl_net_config_describe(const nncl_net_config *cfg, char *out, size_t len);

typedef enum nncl_init_kind {
    NNCL_INIT_HE = 0,       /* W ~ N(0, 2/fan_in), b = 0 */
    NNCL_INIT_XAVIER,       /* W ~ U(-a, a), a = sqrt(6/(fan_in + fan_out)), b = 0 */
    NNCL_INIT_UNIFORM,      /* W, b ~ U(-A, A) (the numpy tutorial: A = 0.5) */
} nncl_init_kind;

typedef struct nncl_net nncl_net;

/* Allocate a network for batches of up to max_batch rows on dev. */
nncl_status nncl_net_create(nncl_device *dev, const nncl_net_config *cfg, size_t max_batch,
                            nncl_net **out);
void nncl_net_free(nncl_net *net);
const nncl_net_config *nncl_net_get_config(const nncl_net *net);
nncl_device *nncl_net_device(const nncl_net *net);
/* Every parameter (the trained ones, then kept state such as running
 * statistics), and the trained ones alone (the optimiser's share). */
size_t nncl_net_param_count(const nncl_net *net);
size_t nncl_net_trained_count(const nncl_net *net);
size_t nncl_net_max_batch(const nncl_net *net);
/* Element offsets of W_l and b_l (l = 0 .. layers-1) in the flat vector
 * (any layer with a weight; 0 for the others). */
size_t nncl_net_weight_offset(const nncl_net *net, int layer);
size_t nncl_net_bias_offset(const nncl_net *net, int layer);
/* How many weights layer l has (0 for a layer without: pooling, dropout). */
size_t nncl_net_weight_count(const nncl_net *net, int layer);

/* Draw parameters on the host from a seeded generator (the same numbers on
 * every device) and upload them. param: A for NNCL_INIT_UNIFORM. */
nncl_status nncl_net_init(nncl_net *net, nncl_init_kind kind, float param, uint64_t seed);
/* The flat parameter vector, host side (nncl_net_param_count floats). */
nncl_status nncl_net_get_params(const nncl_net *net, float *out);
/* Copy the parameters into dst (n_params floats, on the net's device) on
 * the device, without waiting: a copy to read later, costing no sync now. */
nncl_status nncl_net_copy_params(const nncl_net *net, nncl_buffer *dst);
nncl_status nncl_net_set_params(nncl_net *net, const float *in);
/* The gradient buffer as the last backward pass left it (same layout). */
nncl_status nncl_net_get_grads(const nncl_net *net, float *out);
/* Replace the first n floats of the gradient buffer (n <= the parameter
 * count): data-parallel training puts the ranks' summed gradients back
 * before the optimiser step. */
nncl_status nncl_net_set_grads(nncl_net *net, const float *in, size_t n);

/* The input transform x' = (x - shift) * scale, float[inputs] each. */
nncl_status nncl_net_set_transform(nncl_net *net, const float *shift, const float *scale);
nncl_status nncl_net_get_transform(const nncl_net *net, float *shift, float *scale);
/* Regression: targets are trained as t' = (t - shift) * scale (default 0, 1). */
void nncl_net_set_target_transform(nncl_net *net, float shift, float scale);
void nncl_net_get_target_transform(const nncl_net *net, float *shift, float *scale);

/* ---- data on the device ---------------------------------------------------- */

/* A dataset uploaded once: features (bytes or floats) and labels or targets. */
typedef struct nncl_device_data {
    nncl_buffer *x;             /* u8 or float [rows * cols] */
    nncl_buffer *y;             /* int32 labels or float targets [rows] */
    nncl_buffer *order;         /* int32 [rows]: the row order of an epoch */
    size_t rows, cols;
    bool u8;
    nncl_task task;
    bool has_y;
    unsigned long version;      /* bumped whenever the order changes */
    bool identity;              /* the order is 0, 1, 2, ... */
} nncl_device_data;

nncl_status nncl_device_data_upload(nncl_device *dev, const nncl_dataset *ds,
                                    nncl_device_data *out);
void nncl_device_data_free(nncl_device_data *dd);
/* Write the order in which rows are visited (int32, rows entries). */
nncl_status nncl_device_data_set_order(nncl_device_data *dd, const int32_t *order);

/* ---- one step ------------------------------------------------------------- */

/* Gather rows [first, first + rows) of dd's order into the input batch (and
 * its labels or targets), applying the input transform. */
nncl_status nncl_net_load_batch(nncl_net *net, const nncl_device_data *dd, size_t first,
                                size_t rows);

/* Forward pass on the loaded batch, every layer. train: dropout keyed by
 * (seed, step) and batch statistics in batch normalisation. */
nncl_status nncl_net_forward(nncl_net *net, size_t rows, bool train, uint64_t seed, uint64_t step);

/* Loss of the loaded batch after nncl_net_forward: adds (loss sum, correct
 * count) to the device accumulator (classification) or (squared-error sum,
 * absolute-error sum) (regression). With backward, also the gradient of the
 * mean loss w.r.t. every trained parameter, into the gradient buffer. */
nncl_status nncl_net_loss(nncl_net *net, size_t rows, bool backward, uint64_t seed, uint64_t step);

/* Forward, loss and backward of a training step on the loaded batch, as the
 * network's step plan runs them: the same results as nncl_net_forward(train)
 * then nncl_net_loss(backward), with the fusion rules applied (a narrow
 * output layer runs with its loss as head_xent; a byte-input network with
 * one narrow hidden layer as one linear_u8_head where the device prefers
 * it). The layers' outputs a fused step does not store are not readable
 * afterwards (run nncl_net_forward to read them). */
nncl_status nncl_net_forward_backward(nncl_net *net, size_t rows, uint64_t seed, uint64_t step);

/* The step plan for the loaded batch's data, one line per op call ("fused"
 * steps say which rule made them), for --profile. */
nncl_status nncl_net_describe_plan(nncl_net *net, char *out, size_t len);

/* Backward quirks of the numpy tutorial (--preset tutorial-faithful): divide
 * by grad_rows instead of the batch size, and one scalar bias gradient per
 * layer, the sum over all units, added to every unit. 0 / false: off. */
void nncl_net_set_tutorial_quirks(nncl_net *net, size_t grad_rows, bool scalar_bias);

typedef struct nncl_optim_config {
    nncl_optim kind;
    float weight_decay;
    float momentum;
    bool nesterov;
    float beta1, beta2, eps;
} nncl_optim_config;

/* Zero the optimiser state (m, v). */
nncl_status nncl_net_optim_reset(nncl_net *net);
/* The optimiser state, host side: m (momentum, or Adam's first moment) and v
 * (Adam's second moment), nncl_net_param_count floats each, in the flat
 * parameter layout. Reading and writing them back gives the same bits, so a
 * checkpoint continues training exactly. */
nncl_status nncl_net_get_optim_state(const nncl_net *net, float *m, float *v);
nncl_status nncl_net_set_optim_state(nncl_net *net, const float *m, const float *v);
/* One optimiser step over all parameters with learning rate lr, step t >= 1. */
nncl_status nncl_net_optim_step(nncl_net *net, const nncl_optim_config *opt, float lr,
                                unsigned long t);

/* One training step: load rows [first, first + rows) of dd's order, forward,
 * loss with backward (adding to the accumulator), then the optimiser step t
 * (also the dropout mask's counter, with seed). */
nncl_status nncl_net_train_step(nncl_net *net, const nncl_device_data *dd, size_t first, size_t rows,
                                const nncl_optim_config *opt, float lr, uint64_t seed, unsigned long t);

/* The device accumulator: zero it, or read its two sums. */
nncl_status nncl_net_acc_reset(nncl_net *net);
nncl_status nncl_net_acc_read(nncl_net *net, double *sum0, double *sum1);
/* Set the accumulator's sums (stored as floats: values read with
 * nncl_net_acc_read go back exactly). */
nncl_status nncl_net_acc_set(nncl_net *net, double sum0, double sum1);

/* Save / restore the parameters to / from a second buffer on the device
 * (for keeping the best weights under early stopping). */
nncl_status nncl_net_snapshot(nncl_net *net);
nncl_status nncl_net_restore(nncl_net *net);
/* That second buffer, host side (nncl_net_param_count floats). */
nncl_status nncl_net_get_best(const nncl_net *net, float *out);
nncl_status nncl_net_set_best(nncl_net *net, const float *in);

/* Outputs of the last forward pass: logits or predictions, rows x outputs,
 * and for classification the argmax per row (int32). Host copies. */
nncl_status nncl_net_read_output(nncl_net *net, size_t rows, float *out);
nncl_status nncl_net_read_argmax(nncl_net *net, size_t rows, int32_t *out);

/* Evaluate a whole device dataset in batches (its order must be set): fills
 * the mean loss and accuracy (classification) or mean squared error and mean
 * absolute error (regression), in the target's own units (not the
 * standardised ones the network trains on). If
 * predictions is not NULL it receives argmax classes (classify, int32) for
 * every row in order; for regression, values (float) via pred_values. */
typedef struct nncl_eval_result {
    double loss;            /* mean cross-entropy, or mean squared error */
    double accuracy;        /* fraction correct (classification) */
    double mae;             /* mean absolute error (regression) */
    size_t rows;
} nncl_eval_result;

nncl_status nncl_net_evaluate(nncl_net *net, const nncl_device_data *dd, int32_t *pred_classes,
                              float *pred_values, nncl_eval_result *out);

/* Between training steps, without changing them (the training sums in the
 * accumulator are kept): evaluate dd (its order must be set) and, for
 * ReLU networks (not leaky), the fraction of each hidden layer's units that are 0 on
 * every row of dd (dead_fraction[l - 1] for hidden layer l; NAN for the
 * output layer and other activations; L entries). */
nncl_status nncl_net_probe(nncl_net *net, const nncl_device_data *dd, nncl_eval_result *ev,
                           float *dead_fraction);

/* The outputs for every row of dd in its order (rows x outputs floats):
 * logits for classification, standardised predictions for regression. */
nncl_status nncl_net_outputs(nncl_net *net, const nncl_device_data *dd, float *out);

#ifdef __cplusplus
}
#endif
#endif
