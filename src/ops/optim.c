/* optim_step: SGD, momentum (optionally Nesterov), Adam and AdamW over a
 * flat parameter vector in one launch, PyTorch's conventions. Kernel:
 * cl/optim.cl. The scalars that depend on the step (bias corrections, the
 * AdamW decay factor) are computed here once, in double, for both twins. */
#include <math.h>

#include "device/opencl_impl.h"

typedef struct optim_scalars {
    float bc1, bc2, keep;
} optim_scalars;

static optim_scalars scalars_of(const nncl_optim_step_args *a)
{
    optim_scalars s = {1.0f, 1.0f, 1.0f};
    if (a->kind == NNCL_OPTIM_ADAM || a->kind == NNCL_OPTIM_ADAMW) {
        s.bc1 = (float)(1.0 - pow((double)a->beta1, (double)a->step));
        s.bc2 = (float)(1.0 - pow((double)a->beta2, (double)a->step));
    }
    if (a->kind == NNCL_OPTIM_ADAMW)
        s.keep = (float)(1.0 - (double)a->lr * (double)a->weight_decay);
    return s;
}

static bool finite_nonneg(float x) { return x >= 0.0f && isfinite(x); }

nncl_status nncl_check_optim_step(const nncl_device *dev, const nncl_optim_step_args *a)
{
    const char *name;
    switch (a->kind) {
    case NNCL_OPTIM_SGD: name = "sgd"; break;
    case NNCL_OPTIM_MOMENTUM: name = "momentum"; break;
    case NNCL_OPTIM_ADAM: name = "adam"; break;
    case NNCL_OPTIM_ADAMW: name = "adamw"; break;
    default: return nncl_fail(NNCL_E_INVALID, "optim_step: unknown optimiser %d", (int)a->kind);
    }
    if (!finite_nonneg(a->lr))
        return nncl_fail(NNCL_E_INVALID, "optim_step (%s): learning rate %g must be finite and >= 0",
                         name, (double)a->lr);
    if (!finite_nonneg(a->weight_decay))
        return nncl_fail(NNCL_E_INVALID, "optim_step (%s): weight decay %g must be finite and >= 0",
                         name, (double)a->weight_decay);
    if (a->kind == NNCL_OPTIM_MOMENTUM && !finite_nonneg(a->momentum))
        return nncl_fail(NNCL_E_INVALID, "optim_step (%s): momentum %g must be finite and >= 0",
                         name, (double)a->momentum);
    bool adam = a->kind == NNCL_OPTIM_ADAM || a->kind == NNCL_OPTIM_ADAMW;
    if (adam) {
        if (!(a->beta1 >= 0.0f && a->beta1 < 1.0f) || !(a->beta2 >= 0.0f && a->beta2 < 1.0f))
            return nncl_fail(NNCL_E_INVALID, "optim_step (%s): betas (%g, %g) must lie in [0, 1)",
                             name, (double)a->beta1, (double)a->beta2);
        if (!finite_nonneg(a->eps))
            return nncl_fail(NNCL_E_INVALID, "optim_step (%s): eps %g must be finite and >= 0", name,
                             (double)a->eps);
        if (a->step == 0)
            return nncl_fail(NNCL_E_INVALID, "optim_step (%s): step counts from 1", name);
    }
    nncl_status st = nncl_view_check(dev, a->w, sizeof(float), a->n, "optim_step: w");
    if (st == NNCL_OK)
        st = nncl_view_check(dev, a->grad, sizeof(float), a->n, "optim_step: grad");
    if (st == NNCL_OK && a->kind != NNCL_OPTIM_SGD)
        st = nncl_view_check(dev, a->m, sizeof(float), a->n, "optim_step: m (optimiser state)");
    if (st == NNCL_OK && adam)
        st = nncl_view_check(dev, a->v, sizeof(float), a->n, "optim_step: v (optimiser state)");
    return st;
}

nncl_status nncl_host_optim_step(nncl_device *dev, const nncl_optim_step_args *a)
{
    (void)dev;
    optim_scalars s = scalars_of(a);
    float *w = nncl_host_f32(a->w);
    const float *grad = nncl_host_f32(a->grad);
    float *m = a->kind != NNCL_OPTIM_SGD ? nncl_host_f32(a->m) : NULL;
    float *v = a->kind >= NNCL_OPTIM_ADAM ? nncl_host_f32(a->v) : NULL;
    float lr = a->lr, wd = a->weight_decay, mu = a->momentum, b1 = a->beta1, b2 = a->beta2;
    for (size_t i = 0; i < a->n; i++) {
        float wi = w[i], g = grad[i];
        if (a->kind == NNCL_OPTIM_ADAMW)
            wi = wi * s.keep;
        else
            g = g + wd * wi;
        if (a->kind == NNCL_OPTIM_SGD) {
            wi = wi - lr * g;
        } else if (a->kind == NNCL_OPTIM_MOMENTUM) {
            float mi = mu * m[i] + g;
            m[i] = mi;
            wi = wi - lr * (a->nesterov ? g + mu * mi : mi);
        } else {
            float mi = b1 * m[i] + (1.0f - b1) * g;
            float vi = b2 * v[i] + (1.0f - b2) * g * g;
            m[i] = mi;
            v[i] = vi;
            wi = wi - lr * (mi / s.bc1) / (sqrtf(vi / s.bc2) + a->eps);
        }
        w[i] = wi;
    }
    return NNCL_OK;
}

nncl_status nncl_cl_optim_step(nncl_device *dev, const nncl_optim_step_args *a)
{
    if (a->n == 0)
        return NNCL_OK;
    optim_scalars s = scalars_of(a);
    /* Absent state is passed as w's buffer, never touched (kind says so). */
    nncl_view m = a->kind != NNCL_OPTIM_SGD ? a->m : a->w;
    nncl_view v = a->kind >= NNCL_OPTIM_ADAM ? a->v : a->w;
    size_t global = (a->n + 15) / 16;         /* 16 parameters per work-item */
    return nncl_cl_launch(
        dev, "optim_step", 1, &global, NULL,
        NNCL_CL_ARGS(nncl_arg_int((int)a->kind), nncl_arg_buf(a->w.buf), nncl_arg_ulong(a->w.off),
                     nncl_arg_buf(a->grad.buf), nncl_arg_ulong(a->grad.off), nncl_arg_buf(m.buf),
                     nncl_arg_ulong(m.off), nncl_arg_buf(v.buf), nncl_arg_ulong(v.off),
                     nncl_arg_ulong(a->n), nncl_arg_float(a->lr), nncl_arg_float(a->weight_decay),
                     nncl_arg_float(a->momentum), nncl_arg_int(a->nesterov), nncl_arg_float(a->beta1),
                     nncl_arg_float(a->beta2), nncl_arg_float(a->eps), nncl_arg_float(s.bc1),
                     nncl_arg_float(s.bc2), nncl_arg_float(s.keep)));
}
