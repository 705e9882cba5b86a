/* nncl/model.h: a trained network on the host, and its file format.
 *
 * Models are stored as safetensors: an 8-byte little-endian header length, a
 * JSON header, then raw little-endian float32 data, so numpy or PyTorch can
 * load them. Tensors:
 *   layers.{i}.weight  [out, in]   (PyTorch's nn.Linear layout)
 *   layers.{i}.bias    [out]
 *   input.shift, input.scale [in]  the preprocessing x' = (x - shift) * scale
 *   target.shift, target.scale [1] regression only: t' = (t - shift) * scale
 * __metadata__ (strings): format "nncl", nncl_version, layers ("784,128,10"),
 * activation, activation_param, task ("classify" or "regress"), class_names
 * (a JSON array), image_shape ("28,28" or ""), feature_names (a JSON array,
 * for tables), dataset. */
#ifndef NNCL_MODEL_H
#define NNCL_MODEL_H

#include "nncl/net.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nncl_model {
    nncl_net_config cfg;
    float *params;              /* flat: W_1, b_1, W_2, b_2, ... (nncl_net layout) */
    size_t n_params;
    float *shift, *scale;       /* [inputs] */
    float t_shift, t_scale;     /* regression targets */
    int num_classes;
    char **class_names;         /* num_classes, or NULL */
    int image_h, image_w;       /* 0 when not images */
    char **feature_names;       /* inputs names, or NULL */
    char *dataset;              /* where the training data came from, or NULL */
} nncl_model;

void nncl_model_free(nncl_model *m);

/* Copy a network's parameters and input transform into m->params, m->shift
 * and m->scale (allocating them) and its configuration into m->cfg. */
nncl_status nncl_model_from_net(const nncl_net *net, nncl_model *m);

/* A network on dev holding the model, for batches of up to max_batch. */
nncl_status nncl_model_to_net(const nncl_model *m, nncl_device *dev, size_t max_batch, nncl_net **out);

/* Save atomically (temporary file, then rename) / load with every size and
 * offset checked against the file. */
nncl_status nncl_model_save(const char *path, const nncl_model *m);
nncl_status nncl_model_load(const char *path, nncl_model *m);

/* Names for activations, and back ("relu" -> NNCL_ACT_RELU). */
const char *nncl_act_name(nncl_act act);
nncl_status nncl_act_parse(const char *name, nncl_act *out);

#ifdef __cplusplus
}
#endif
#endif
