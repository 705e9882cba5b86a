/* optim.cl: one optimiser step over a flat parameter vector, one work-item
 * per parameter. Host twin: nncl_host_optim_step in src/ops/optim.c.
 * kind: 0 SGD, 1 momentum, 2 Adam, 3 AdamW (nncl_optim). The host computes
 * bc1 = 1 - b1^t, bc2 = 1 - b2^t (in double) and keep = 1 - lr*wd (AdamW).
 *   g = grad[i] + wd * w              (SGD, momentum, Adam; AdamW: g = grad[i])
 *   SGD:       w = w - lr * g
 *   momentum:  m = mu * m + g;  w = w - lr * (nesterov ? g + mu * m : m)
 *   Adam:      m = b1 * m + (1 - b1) * g;  v = b2 * v + (1 - b2) * g * g;
 *              w = w - lr * (m / bc1) / (sqrt(v / bc2) + eps)
 *   AdamW:     w = w * keep first, then the Adam update with the plain g. */
__kernel void optim_step(const int kind, __global float *w, const ulong w_off,
                         __global const float *grad, const ulong g_off,
                         __global float *m, const ulong m_off, __global float *v,
                         const ulong v_off, const ulong n, const float lr, const float wd,
                         const float mu, const int nesterov, const float b1, const float b2,
                         const float eps, const float bc1, const float bc2, const float keep)
{
    size_t i = get_global_id(0);
    if (i >= n)
        return;
    float wi = w[w_off + i], g = grad[g_off + i];
    if (kind == 3)
        wi = wi * keep;
    else
        g = g + wd * wi;
    if (kind == 0) {
        wi = wi - lr * g;
    } else if (kind == 1) {
        float mi = mu * m[m_off + i] + g;
        m[m_off + i] = mi;
        wi = wi - lr * (nesterov ? g + mu * mi : mi);
    } else {
        float mi = b1 * m[m_off + i] + (1.0f - b1) * g;
        float vi = b2 * v[v_off + i] + (1.0f - b2) * g * g;
        m[m_off + i] = mi;
        v[v_off + i] = vi;
        wi = wi - lr * (mi / bc1) / (sqrt(vi / bc2) + eps);
    }
    w[w_off + i] = wi;
}
