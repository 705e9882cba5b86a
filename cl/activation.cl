/* activation.cl: elementwise activations and their backward passes.
 * Host twins: nncl_host_act_fwd / nncl_host_act_bwd in src/ops/act.c.
 * act_forward and act_derivative are plain functions other kernels may call
 * (a fused bias + activation, for instance). */

/* y = f(x):  identity x;  relu x < 0 ? 0 : x;  leaky x < 0 ? a*x : x;
 * sigmoid 1 / (1 + exp(-x));  tanh tanh(x).  NaN stays NaN for every f. */
float act_forward(int act, float a, float x)
{
    switch (act) {
    case ACT_RELU: return x < 0.0f ? 0.0f : x;
    case ACT_LEAKY_RELU: return x < 0.0f ? a * x : x;
    case ACT_SIGMOID: return 1.0f / (1.0f + exp(-x));
    case ACT_TANH: return tanh(x);
    default: return x;
    }
}

/* f'(z) from y = f(z):  identity 1;  relu y > 0 ? 1 : 0;  leaky y > 0 ? 1 : a;
 * sigmoid y*(1 - y);  tanh 1 - y*y.  A NaN y gives a NaN
 * derivative (identity included). */
float act_derivative(int act, float a, float y)
{
    switch (act) {
    case ACT_RELU: return y > 0.0f ? 1.0f : (y <= 0.0f ? 0.0f : y);
    case ACT_LEAKY_RELU: return y > 0.0f ? 1.0f : (y <= 0.0f ? a : y);
    case ACT_SIGMOID: return y * (1.0f - y);
    case ACT_TANH: return 1.0f - y * y;
    default: return isnan(y) ? y : 1.0f;
    }
}

/* act_derivative on 16 lanes at once (head.cl's rows). */
INLINE float16 act_derivative16(const int act, const float a, const float16 y)
{
    const int16 nan = isnan(y);
    switch (act) {
    case ACT_RELU: return select(select((float16)0.0f, (float16)1.0f, y > 0.0f), y, nan);
    case ACT_LEAKY_RELU: return select(select((float16)a, (float16)1.0f, y > 0.0f), y, nan);
    case ACT_SIGMOID: return y * (1.0f - y);
    case ACT_TANH: return 1.0f - y * y;
    default: return select((float16)1.0f, y, nan);
    }
}

/* y[i] = f(x[i]) for i < n; x and y may alias. */
__kernel void act_fwd(__global const float *x, const ulong x_off, __global float *y,
                      const ulong y_off, const ulong n, const int act, const float a)
{
    size_t i = get_global_id(0);
    if (i < n)
        y[y_off + i] = act_forward(act, a, x[x_off + i]);
}

/* dx[i] = dy[i] * f'(y[i]) for i < n; dx and dy may alias. */
__kernel void act_bwd(__global const float *y, const ulong y_off, __global const float *dy,
                      const ulong dy_off, __global float *dx, const ulong dx_off, const ulong n,
                      const int act, const float a)
{
    size_t i = get_global_id(0);
    if (i < n)
        dx[dx_off + i] = dy[dy_off + i] * act_derivative(act, a, y[y_off + i]);
}
