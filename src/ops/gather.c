/* gather: a mini-batch from a device-resident dataset: rows picked by index,
 * bytes or floats to normalised floats, plus labels or regression targets.
 * Kernels: cl/data.cl (gather_u8 / gather_f32 over (cols, rows), gather_y
 * over rows). On host buffers the check reads the indices and refuses one
 * out of range; kernels cannot be checked that way, so they guard and write
 * NaN (label -1) instead of reading out of bounds. */
#include <math.h>

#include "device/opencl_impl.h"
#include "ops/host_split.h"
#include "ops/op_util.h"

nncl_status nncl_check_gather(const nncl_device *dev, const nncl_gather_args *a)
{
    if (a->cols == 0)
        return nncl_fail(NNCL_E_INVALID, "gather: cols must be >= 1");
    if (a->rows > 0 && a->data_rows == 0)
        return nncl_fail(NNCL_E_INVALID, "gather: the dataset has no rows");
    if (a->data_rows > (size_t)INT32_MAX + 1)
        return nncl_fail(NNCL_E_INVALID, "gather: %zu data rows do not fit an int32 index",
                         a->data_rows);
    if (!a->x.buf && !a->labels.buf && !a->targets.buf)
        return nncl_fail(NNCL_E_INVALID, "gather: nothing to gather (no x, labels or targets)");
    if ((a->labels.buf != NULL) != (a->labels_out.buf != NULL))
        return nncl_fail(NNCL_E_INVALID, "gather: labels and labels_out go together");
    if ((a->targets.buf != NULL) != (a->targets_out.buf != NULL))
        return nncl_fail(NNCL_E_INVALID, "gather: targets and targets_out go together");
    if (a->targets.buf && a->outputs == 0)
        return nncl_fail(NNCL_E_INVALID, "gather: outputs must be >= 1 with targets");
    size_t nd = 0, nx = 0;
    nncl_status st = nncl_size_mul(a->data_rows, a->cols, &nd, "gather: data");
    if (st == NNCL_OK)
        st = nncl_size_mul(a->rows, a->cols, &nx, "gather: x");
    if (st == NNCL_OK)
        st = nncl_view_check(dev, a->data, a->u8 ? 1 : sizeof(float), nd, "gather: data");
    if (st == NNCL_OK)
        st = nncl_view_check(dev, a->index, sizeof(int32_t), a->rows, "gather: index");
    if (st == NNCL_OK)
        st = nncl_view_check(dev, a->shift, sizeof(float), a->cols, "gather: shift");
    if (st == NNCL_OK)
        st = nncl_view_check(dev, a->scale, sizeof(float), a->cols, "gather: scale");
    if (st == NNCL_OK && a->x.buf)
        st = nncl_view_check_out(dev, a->x, sizeof(float), nx, "gather: x");
    if (st == NNCL_OK && a->labels.buf)
        st = nncl_view_check(dev, a->labels, sizeof(int32_t), a->data_rows, "gather: labels");
    if (st == NNCL_OK && a->labels.buf)
        st = nncl_view_check_out(dev, a->labels_out, sizeof(int32_t), a->rows, "gather: labels_out");
    if (st == NNCL_OK && a->targets.buf) {
        size_t nt = 0, nto = 0;
        st = nncl_size_mul(a->data_rows, a->outputs, &nt, "gather: targets");
        if (st == NNCL_OK)
            st = nncl_size_mul(a->rows, a->outputs, &nto, "gather: targets_out");
        if (st == NNCL_OK)
            st = nncl_view_check(dev, a->targets, sizeof(float), nt, "gather: targets");
        if (st == NNCL_OK)
            st = nncl_view_check_out(dev, a->targets_out, sizeof(float), nto, "gather: targets_out");
    }
    if (st == NNCL_OK)
        st = nncl_check_host_index(dev, a->index, a->rows, a->data_rows, "gather");
    return st;
}

/* Guards the indices too (writing NaN, label -1), like the kernels, so it is
 * safe when called directly. */
/* The host twin, rows [lo, hi): a row's columns in one branch-free loop per
 * element type, so that the compiler vectorises it. */
static void host_gather_rows(const nncl_gather_args *a, size_t lo, size_t hi)
{
    const int32_t *index = nncl_host_i32(a->index);
    const float *restrict shift = nncl_host_f32(a->shift), *restrict scale = nncl_host_f32(a->scale);
    float *x = a->x.buf ? nncl_host_f32(a->x) : NULL;
    size_t C = a->cols, O = a->outputs;
    for (size_t r = lo; r < hi; r++) {
        int32_t s = index[r];
        bool ok = s >= 0 && (size_t)s < a->data_rows;
        float *restrict row = x ? x + r * C : NULL;
        if (row && !ok) {
            for (size_t j = 0; j < C; j++)
                row[j] = NAN;
        } else if (row && a->u8) {
            const uint8_t *restrict src = nncl_host_u8(a->data) + (size_t)s * C;
            for (size_t j = 0; j < C; j++)
                row[j] = ((float)src[j] - shift[j]) * scale[j];
        } else if (row) {
            const float *restrict src = nncl_host_f32(a->data) + (size_t)s * C;
            for (size_t j = 0; j < C; j++)
                row[j] = (src[j] - shift[j]) * scale[j];
        }
        if (a->labels.buf)
            nncl_host_i32(a->labels_out)[r] = ok ? nncl_host_i32(a->labels)[s] : -1;
        if (a->targets.buf) {
            const float *t = nncl_host_f32(a->targets);
            float *to = nncl_host_f32(a->targets_out);
            for (size_t k = 0; k < O; k++)
                to[r * O + k] = ok ? (t[(size_t)s * O + k] - a->t_shift) * a->t_scale : NAN;
        }
    }
}

static void host_gather_range(void *arg, size_t lo, size_t hi) { host_gather_rows(arg, lo, hi); }

/* A large batch (the tutorial's whole training set) is cut in two halves
 * of rows, one per core, or more parts on more (nncl_host_range); rows are
 * independent, so the bits are the same. */
enum { HOST_GATHER_SPLIT_MIN = 1 << 16 };

nncl_status nncl_host_gather(nncl_device *dev, const nncl_gather_args *a)
{
    (void)dev;
    size_t row = a->cols + a->outputs + 1;
    if (a->rows * row >= HOST_GATHER_SPLIT_MIN)
        nncl_host_range(a->rows, HOST_GATHER_SPLIT_MIN / 2 / row + 1, host_gather_range, (void *)a);
    else
        host_gather_rows(a, 0, a->rows);
    return NNCL_OK;
}

nncl_status nncl_cl_gather(nncl_device *dev, const nncl_gather_args *a)
{
    if (a->rows == 0)
        return NNCL_OK;
    size_t global[2] = {a->cols, a->rows}, local[2] = {64, 1};
    nncl_status st = !a->x.buf ? NNCL_OK : nncl_cl_launch(
        dev, a->u8 ? "gather_u8" : "gather_f32", 2, global, local,
        NNCL_CL_ARGS(nncl_arg_buf(a->data.buf), nncl_arg_ulong(a->data.off),
                     nncl_arg_ulong(a->data_rows), nncl_arg_ulong(a->cols),
                     nncl_arg_buf(a->index.buf), nncl_arg_ulong(a->index.off),
                     nncl_arg_ulong(a->rows), nncl_arg_buf(a->shift.buf),
                     nncl_arg_ulong(a->shift.off), nncl_arg_buf(a->scale.buf),
                     nncl_arg_ulong(a->scale.off), nncl_arg_buf(a->x.buf), nncl_arg_ulong(a->x.off)));
    if (st != NNCL_OK || (!a->labels.buf && !a->targets.buf))
        return st;
    /* Absent views are passed as index's buffer, never touched (the flags say so). */
    bool hl = a->labels.buf != NULL, ht = a->targets.buf != NULL;
    nncl_view l = hl ? a->labels : a->index, lo = hl ? a->labels_out : a->index;
    nncl_view t = ht ? a->targets : a->index, to = ht ? a->targets_out : a->index;
    size_t g = a->rows;
    return nncl_cl_launch(
        dev, "gather_y", 1, &g, NULL,
        NNCL_CL_ARGS(nncl_arg_buf(a->index.buf), nncl_arg_ulong(a->index.off),
                     nncl_arg_ulong(a->rows), nncl_arg_ulong(a->data_rows), nncl_arg_int(hl),
                     nncl_arg_buf(l.buf), nncl_arg_ulong(l.off), nncl_arg_buf(lo.buf),
                     nncl_arg_ulong(lo.off), nncl_arg_int(ht), nncl_arg_buf(t.buf),
                     nncl_arg_ulong(t.off), nncl_arg_buf(to.buf), nncl_arg_ulong(to.off),
                     nncl_arg_ulong(a->outputs), nncl_arg_float(a->t_shift),
                     nncl_arg_float(a->t_scale)));
}
