/* The step plan: a network bound to a device and a kind of data, compiled
 * into the list of calls that run it. A training step is
 *   forward 0 .. n-1, loss, backward n-1 .. 0
 * and fusion rules (one table, src/net/step_plan.c) rewrite spans of it into
 * fused ops where their predicate holds. Forward and backward of each layer
 * come from its kind's table (src/net/layer.h). */
#ifndef NNCL_STEP_PLAN_H
#define NNCL_STEP_PLAN_H

#include "nncl/net.h"

typedef enum plan_op {
    PLAN_FORWARD,       /* a layer's forward */
    PLAN_LOSS,          /* the loss of the outputs (and its gradient) */
    PLAN_BACKWARD,      /* a layer's backward */
    PLAN_HEAD_XENT,     /* the output layer, loss and backward: head_xent */
    PLAN_U8_HEAD,       /* a whole byte-input step: linear_u8_head */
} plan_op;

typedef struct plan_step {
    plan_op op;
    int layer;
    bool x_u8;                  /* the layer reads the dataset's bytes */
    bool want_dx;               /* backward: a layer below needs the input gradient */
    bool dy_is_pre_act, bias_done;  /* backward after a fused head */
    const char *rule;           /* the fusion rule that made this step, or NULL */
} plan_step;

typedef struct step_plan {
    int n;
    int loss_at;                /* index of the loss step (or of the fused step holding it) */
    plan_step s[2 * NNCL_MAX_SPECS + 2];
} step_plan;

/* Whether the first layer reads byte data directly on this net's device. */
bool nncl_plan_reads_bytes(const nncl_net *net);

/* Compile net's training step for byte input read directly (u8) or floats,
 * with the fusion rules (fused) or without. */
void nncl_plan_compile(const nncl_net *net, bool u8, bool fused, step_plan *out);

/* Run steps [from, to) of a plan on the loaded batch. */
nncl_status nncl_plan_run(nncl_net *net, const step_plan *p, int from, int to, size_t rows, bool train,
                          bool backward, uint64_t seed, uint64_t step);

/* One line per step into out. */
nncl_status nncl_plan_describe(const nncl_net *net, const step_plan *p, char *out, size_t len);

#endif
