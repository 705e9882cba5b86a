/* nncl/ops.h: the operations every device implements.
 *
 * Each op takes the device and one argument struct. The list NNCL_OPS below
 * is the single table of ops: it declares the public wrapper nncl_<op>(), the
 * backend interface member, and the two implementations every backend must
 * provide, nncl_host_<op>() (plain C, src/ops/) and nncl_cl_<op>() (an
 * OpenCL dispatcher beside it, running a kernel from cl/), plus one shared
 * nncl_check_<op>() that validates shapes and view bounds before either runs.
 * Adding an op means one argument struct and one line here, one kernel, one
 * host twin and its dispatcher: the tables and wrappers follow from the list.
 *
 * Tensors are nncl_view (buffer + element offset); matrices are row-major.
 * Ops are asynchronous on OpenCL: results are visible after a buffer read or
 * nncl_device_finish(). */
#ifndef NNCL_OPS_H
#define NNCL_OPS_H

#include "nncl/device.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- fill: y[i] = value for i < n (the trivial end-to-end kernel) ------ */
typedef struct nncl_fill_args {
    nncl_view y;    /* float[n] */
    size_t n;
    float value;
} nncl_fill_args;

#define NNCL_OPS(X) \
    X(fill)

#define NNCL_DECLARE_OP(name) \
    nncl_status nncl_##name(nncl_device *dev, const nncl_##name##_args *args);
NNCL_OPS(NNCL_DECLARE_OP)
#undef NNCL_DECLARE_OP

#ifdef __cplusplus
}
#endif
#endif
