/* optim.cl: one optimiser step over a flat parameter vector, OPTIM_VW
 * parameters per work-item. Host twin: nncl_host_optim_step in src/ops/optim.c.
 * kind: 0 SGD, 1 momentum, 2 Adam, 3 AdamW (nncl_optim). The host computes
 * (in double) step = lr / (1 - b1^t), rbc2 = 1 / sqrt(1 - b2^t) and
 * keep = 1 - lr*wd (AdamW).
 *   g = grad[i] + wd * w              (SGD, momentum, Adam; AdamW: g = grad[i])
 *   SGD:       w = w - lr * g
 *   momentum:  m = mu * m + g;  w = w - lr * (nesterov ? g + mu * m : m)
 *   Adam:      m = b1 * m + (1 - b1) * g;  v = b2 * v + (1 - b2) * g * g;
 *              w = w - step * (m / (sqrt(v) * rbc2 + eps))
 *              (= lr (m / bc1) / (sqrt(v / bc2) + eps), as PyTorch computes it:
 *              one division per element)
 *   AdamW:     w = w * keep first, then the Adam update with the plain g. */
/* One element's update, for OPTIM_VEC (OPTIM_VW consecutive elements) or
 * float (the tail). The arithmetic is the same per lane either way. */
#define OPTIM_UPDATE(T, wi, g, mp, vp)                                                   \
    do {                                                                                 \
        if (kind == 3)                                                                   \
            wi = wi * keep;                                                              \
        else                                                                             \
            g = g + wd * wi;                                                             \
        if (kind == 0) {                                                                 \
            wi = wi - lr * g;                                                            \
        } else if (kind == 1) {                                                          \
            const T m_new = mu * (mp) + g;                                               \
            (mp) = m_new;                                                                \
            wi = wi - lr * (nesterov ? g + mu * m_new : m_new);                          \
        } else {                                                                         \
            const T m_new = b1 * (mp) + (1.0f - b1) * g;                                 \
            const T v_new = b2 * (vp) + (1.0f - b2) * g * g;                             \
            (mp) = m_new;                                                                \
            (vp) = v_new;                                                                \
            wi = wi - step * (m_new / (sqrt(v_new) * rbc2 + eps));                       \
        }                                                                                \
    } while (0)

/* OPTIM_VW: parameters per work-item, 4, 8 or 16, from the build options
 * (src/ops/kernel_params.c; tuned per device like the GEMM's shape). */
#if !defined(OPTIM_VW)
#error "OPTIM_VW comes from the build options (src/ops/kernel_params.c)"
#elif OPTIM_VW == 16
#define OPTIM_VEC float16
#define OPTIM_LOAD vload16
#define OPTIM_STORE vstore16
#elif OPTIM_VW == 8
#define OPTIM_VEC float8
#define OPTIM_LOAD vload8
#define OPTIM_STORE vstore8
#elif OPTIM_VW == 4
#define OPTIM_VEC float4
#define OPTIM_LOAD vload4
#define OPTIM_STORE vstore4
#else
#error "OPTIM_VW must be 4, 8 or 16"
#endif

/* Work-item k updates elements OPTIM_VW k .. OPTIM_VW k + OPTIM_VW - 1 as
 * one vector (or the scalar tail past the last whole one): CPUs then run the
 * square roots and divisions that wide. */
__kernel void optim_step(const int kind, __global float *w, const ulong w_off,
                         __global const float *grad, const ulong g_off,
                         __global float *m, const ulong m_off, __global float *v,
                         const ulong v_off, const ulong n, const float lr, const float wd,
                         const float mu, const int nesterov, const float b1, const float b2,
                         const float eps, const float step, const float rbc2, const float keep)
{
    const size_t i0 = get_global_id(0) * OPTIM_VW;
    if (i0 >= n)
        return;
    w += w_off;
    grad += g_off;
    m += m_off;
    v += v_off;
    if (i0 + OPTIM_VW <= n) {
        OPTIM_VEC wi = OPTIM_LOAD(0, w + i0), g = OPTIM_LOAD(0, grad + i0);
        OPTIM_VEC mi = kind != 0 ? OPTIM_LOAD(0, m + i0) : (OPTIM_VEC)0.0f;
        OPTIM_VEC vi = kind >= 2 ? OPTIM_LOAD(0, v + i0) : (OPTIM_VEC)0.0f;
        OPTIM_UPDATE(OPTIM_VEC, wi, g, mi, vi);
        OPTIM_STORE(wi, 0, w + i0);
        if (kind != 0)
            OPTIM_STORE(mi, 0, m + i0);
        if (kind >= 2)
            OPTIM_STORE(vi, 0, v + i0);
        return;
    }
    for (size_t i = i0; i < n; ++i) {
        float wi = w[i], g = grad[i];
        float mi = kind != 0 ? m[i] : 0.0f, vi = kind >= 2 ? v[i] : 0.0f;
        OPTIM_UPDATE(float, wi, g, mi, vi);
        w[i] = wi;
        if (kind != 0)
            m[i] = mi;
        if (kind >= 2)
            v[i] = vi;
    }
}
