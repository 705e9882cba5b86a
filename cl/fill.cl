/* fill.cl: the trivial kernel, y[i] = value for i < n.
 * Host twin: nncl_host_fill in src/ops/fill.c. */
__kernel void fill(__global float *y, const ulong y_off, const ulong n, const float value)
{
    size_t i = get_global_id(0);
    if (i < n)
        y[y_off + i] = value;
}
