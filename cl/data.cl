/* data.cl: gather a mini-batch from a device-resident dataset.
 * Host twin: nncl_host_gather in src/ops/gather.c.
 * For r < rows, s = index[r], j < cols (work-item (j, r)):
 *   x[r, j] = ((float)data[s * cols + j] - shift[j]) * scale[j]
 * An index outside [0, data_rows) reads nothing and writes NaN. */
#define GATHER_X(NAME, T)                                                               \
    __kernel void NAME(__global const T *data, const ulong d_off, const ulong data_rows, \
                       const ulong cols, __global const int *index, const ulong i_off,   \
                       const ulong rows, __global const float *shift, const ulong sh_off, \
                       __global const float *scale, const ulong sc_off, __global float *x, \
                       const ulong x_off)                                                  \
    {                                                                                      \
        size_t j = get_global_id(0), r = get_global_id(1);                                 \
        if (j >= cols || r >= rows)                                                        \
            return;                                                                        \
        int s = index[i_off + r];                                                          \
        float val = NAN;                                                                   \
        if (s >= 0 && (ulong)s < data_rows)                                                \
            val = ((float)data[d_off + (ulong)s * cols + j] - shift[sh_off + j]) *          \
                  scale[sc_off + j];                                                       \
        x[x_off + r * cols + j] = val;                                                     \
    }
GATHER_X(gather_u8, uchar)
GATHER_X(gather_f32, float)

/* For r < rows, s = index[r] (work-item r):
 *   labels_out[r] = labels[s]                                       (has_labels)
 *   targets_out[r * outputs + k] = (targets[s * outputs + k] - t_shift) * t_scale
 *                                                                    (has_targets)
 * An index out of range writes label -1 and NaN targets. */
__kernel void gather_y(__global const int *index, const ulong i_off, const ulong rows,
                       const ulong data_rows, const int has_labels, __global const int *labels,
                       const ulong l_off, __global int *labels_out, const ulong lo_off,
                       const int has_targets, __global const float *targets, const ulong t_off,
                       __global float *targets_out, const ulong to_off, const ulong outputs,
                       const float t_shift, const float t_scale)
{
    size_t r = get_global_id(0);
    if (r >= rows)
        return;
    int s = index[i_off + r];
    bool ok = s >= 0 && (ulong)s < data_rows;
    if (has_labels)
        labels_out[lo_off + r] = ok ? labels[l_off + s] : -1;
    if (has_targets)
        for (ulong k = 0; k < outputs; k++)
            targets_out[to_off + r * outputs + k] =
                ok ? (targets[t_off + (ulong)s * outputs + k] - t_shift) * t_scale : NAN;
}
