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
 * capability table; else a valid tuning cache entry, or (auto) a quick
 * search now, or the table. A search that fails keeps what passed its check
 * with a warning, unless the parameters in use failed their check against
 * the host and nothing could replace them: then the device computes wrong
 * results with its kernels (the cache remembers it, for this driver and
 * kernel source), and this fails (NNCL_E_DEVICE) rather than let it train.
 * checking (nncl check): no search and no refusal: the cache entry's
 * parameters or the table's, as they are, to be checked. */
nncl_status nncl_op_params_resolve(nncl_device *dev, bool checking);

/* The parameters as -D build options. */
void nncl_op_params_build_options(const nncl_device *dev, char *out, size_t len);

#endif
