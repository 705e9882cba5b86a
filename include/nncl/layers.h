/* nncl/layers.h: the kinds of layer a network is built from, and the
 * --layers grammar that names them.
 *
 * A network is an input shape [c, h, w] (a table's features are [n, 1, 1])
 * followed by a list of layer specs. Every spec keeps the shape it is given
 * except as said here:
 *   dense:N          N outputs from everything before it (flattened)
 *   conv:K:S[:opts]  K filters of S x S; options (any order, ':'-separated):
 *                    "same" (default; output ceil(in / stride)), "valid",
 *                    "sN" (stride N, default 1), "pN" (N zeros on every side)
 *   maxpool:S[:sN]   S x S windows, stride S unless "sN"; avgpool likewise
 *   batchnorm        per channel (per feature after a dense layer)
 *   dropout:P        zero each value with probability P while training
 *   flatten          [c, h, w] -> [c*h*w]; implied before a dense layer
 * A plain number is a dense layer ("128" is "dense:128"). Dense and conv
 * layers apply the network's activation, except the last layer, whose
 * outputs are the logits (or the regression's prediction). */
#ifndef NNCL_LAYERS_H
#define NNCL_LAYERS_H

#include <stddef.h>

#include "nncl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NNCL_MAX_SPECS 32

typedef enum nncl_layer_kind {
    NNCL_LAYER_DENSE = 0,
    NNCL_LAYER_CONV2D,
    NNCL_LAYER_MAXPOOL,
    NNCL_LAYER_AVGPOOL,
    NNCL_LAYER_BATCHNORM,
    NNCL_LAYER_DROPOUT,
    NNCL_LAYER_FLATTEN,
} nncl_layer_kind;

typedef struct nncl_layer_spec {
    nncl_layer_kind kind;
    size_t units;       /* dense: outputs; conv: filters */
    size_t kernel;      /* conv: filter side; pools: window side */
    size_t stride;      /* conv: default 1; pools: 0 means the window */
    int padding;        /* conv: NNCL_PAD_SAME (-1), NNCL_PAD_VALID (0) or zeros per side */
    float rate;         /* dropout: the probability of dropping, [0, 1) */
} nncl_layer_spec;

/* Parse a --layers text ("conv:32:3,maxpool:2,128") into at most max specs.
 * On failure returns NNCL_E_INVALID with a message naming the item (its
 * position, 1-based, and its text) and what was expected. "" gives 0 specs. */
nncl_status nncl_layers_parse(const char *text, nncl_layer_spec *out, int max, int *count);

/* The canonical text of specs (parse(format(s)) == s): dense layers as plain
 * numbers, defaults left out ("conv:32:5", "conv:32:3:valid:s2", "maxpool:2",
 * "dropout:0.25"). Fails when it does not fit in len bytes. */
nncl_status nncl_layers_format(const nncl_layer_spec *specs, int count, char *out, size_t len);

/* "dense", "conv", "maxpool", ... */
const char *nncl_layer_kind_name(nncl_layer_kind kind);

#ifdef __cplusplus
}
#endif
#endif
