/* What the OpenCL backend needs from the ops about their kernels' parameters
 * (the GEMM's block sizes, the fused ops' constants), and nothing more: the
 * parameters belong to the ops that use them (src/ops/kernel_params.c, the
 * GEMM's tuner and its cache); the device keeps them as an opaque object and
 * asks for them as build options. */
#ifndef NNCL_OP_PARAMS_H
#define NNCL_OP_PARAMS_H

#include "nncl/device.h"

typedef struct nncl_op_params nncl_op_params;

/* The capability table's parameters for a device (never a search). */
nncl_status nncl_op_params_create(const nncl_device_info *info, nncl_op_params **out);
void nncl_op_params_free(nncl_op_params *p);

/* Settle dev's parameters before its program is built: NNCL_TUNE=off: the
 * capability table; else a valid tuning cache entry, or (auto, allow_search)
 * a quick search now, or the table. A search that fails falls back to the
 * table with a warning, unless the table's own parameters failed their
 * check against the host: then the device computes wrong results with its
 * kernels, and this fails (NNCL_E_DEVICE) rather than let it train. */
nncl_status nncl_op_params_resolve(nncl_device *dev, bool allow_search);

/* The parameters as -D build options. */
void nncl_op_params_build_options(const nncl_device *dev, char *out, size_t len);

#endif
