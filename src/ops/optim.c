/* optim_step: SGD, momentum (optionally Nesterov), Adam and AdamW over a
 * flat parameter vector in one launch, PyTorch's conventions. Kernel:
 * cl/optim.cl. The scalars that depend on the step (the bias corrections
 * folded into a step size and a reciprocal square root, the AdamW decay
 * factor) are computed here once, in double, for both twins. */
#include <math.h>

#include "device/opencl_impl.h"
#include "nncl_config.h"
#include "ops/host_split.h"
#include "ops/kernel_params.h"
#include "ops/optim_host.h"

#define OPT_NAME(x) x##_generic
#include "optim_host_loops.inc"

/* Adam's update as PyTorch computes it: with bc1 = 1 - b1^t and
 * bc2 = 1 - b2^t, step = lr / bc1 and rbc2 = 1 / sqrt(bc2),
 *   w -= step * (m / (sqrt(v) * rbc2 + eps))
 * which is lr (m / bc1) / (sqrt(v / bc2) + eps) with one division and one
 * square root per element instead of three divisions: the step is
 * memory- and divider-bound on CPUs. */
typedef struct optim_scalars {
    float step, rbc2, keep;
} optim_scalars;

static optim_scalars scalars_of(const nncl_optim_step_args *a)
{
    optim_scalars s = {a->lr, 1.0f, 1.0f};
    if (a->kind == NNCL_OPTIM_ADAM || a->kind == NNCL_OPTIM_ADAMW) {
        double bc1 = 1.0 - pow((double)a->beta1, (double)a->step);
        double bc2 = 1.0 - pow((double)a->beta2, (double)a->step);
        s.step = (float)((double)a->lr / bc1);
        s.rbc2 = (float)(1.0 / sqrt(bc2));
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
    nncl_status st = nncl_view_check_out(dev, a->w, sizeof(float), a->n, "optim_step: w");
    if (st == NNCL_OK)
        st = nncl_view_check(dev, a->grad, sizeof(float), a->n, "optim_step: grad");
    if (st == NNCL_OK && a->kind != NNCL_OPTIM_SGD)
        st = nncl_view_check_out(dev, a->m, sizeof(float), a->n, "optim_step: m (optimiser state)");
    if (st == NNCL_OK && adam)
        st = nncl_view_check_out(dev, a->v, sizeof(float), a->n, "optim_step: v (optimiser state)");
    return st;
}

/* The host twin: the loops of optim_host_loops.inc, in the widest vectors
 * the CPU has (AVX2's 8 floats ran Adam over the default network's 203,530
 * parameters in about half SSE2's time, bound by the divider), the bits
 * of the plain loop in each. A large vector is cut in two halves, one per core, or more parts on more
 * (nncl_host_range): the step is memory-bound, and the default network's
 * Adam step was 40% of its host step on one core. */
typedef struct host_optim_job {
    const nncl_optim_step_args *a;
    optim_scalars s;
} host_optim_job;

/* The widest instruction set the CPU has for the loops
 * (optim_host_loops.inc): the same bits in each. */
static nncl_optim_host_range_fn *host_range(void)
{
#if NNCL_HAVE_X86_KERNELS
    if (__builtin_cpu_supports("avx512f"))
        return nncl_optim_host_range_avx512;
    if (__builtin_cpu_supports("avx2"))
        return nncl_optim_host_range_avx2;
#endif
    return nncl_optim_host_range_generic;
}

static void host_optim_range(void *arg, size_t lo, size_t hi)
{
    const host_optim_job *j = arg;
    const nncl_optim_step_args *a = j->a;
    host_range()(a, nncl_host_f32(a->w), nncl_host_f32(a->grad),
                 a->kind != NNCL_OPTIM_SGD ? nncl_host_f32(a->m) : NULL,
                 a->kind >= NNCL_OPTIM_ADAM ? nncl_host_f32(a->v) : NULL, lo, hi, j->s.step, j->s.rbc2, j->s.keep);
}

enum { HOST_OPTIM_SPLIT_MIN = 1 << 16 };

nncl_status nncl_host_optim_step(nncl_device *dev, const nncl_optim_step_args *a)
{
    (void)dev;
    host_optim_job job = {a, scalars_of(a)};
    if (a->n >= HOST_OPTIM_SPLIT_MIN)
        nncl_host_range(a->n, HOST_OPTIM_SPLIT_MIN / 2, host_optim_range, &job);
    else
        host_optim_range(&job, 0, a->n);
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
    size_t vw = (size_t)nncl_optim_params_on(dev)->vw; /* parameters per work-item */
    size_t global = (a->n + vw - 1) / vw;
    return nncl_cl_launch(
        dev, "optim_step", 1, &global, NULL,
        NNCL_CL_ARGS(nncl_arg_int((int)a->kind), nncl_arg_buf(a->w.buf), nncl_arg_ulong(a->w.off),
                     nncl_arg_buf(a->grad.buf), nncl_arg_ulong(a->grad.off), nncl_arg_buf(m.buf),
                     nncl_arg_ulong(m.off), nncl_arg_buf(v.buf), nncl_arg_ulong(v.off),
                     nncl_arg_ulong(a->n), nncl_arg_float(a->lr), nncl_arg_float(a->weight_decay),
                     nncl_arg_float(a->momentum), nncl_arg_int(a->nesterov), nncl_arg_float(a->beta1),
                     nncl_arg_float(a->beta2), nncl_arg_float(a->eps), nncl_arg_float(s.step),
                     nncl_arg_float(s.rbc2), nncl_arg_float(s.keep)));
}
