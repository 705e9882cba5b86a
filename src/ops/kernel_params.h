/* The ops' kernel parameters on an OpenCL device (src/ops/kernel_params.c):
 * the GEMM's, read by its dispatcher and set by its tuner, and the NNCL_TUNE
 * policy. The device's side is device/op_params.h. */
#ifndef NNCL_KERNEL_PARAMS_H
#define NNCL_KERNEL_PARAMS_H

#include "device/op_params.h"
#include "ops/gemm_impl.h"

const nncl_gemm_params *nncl_gemm_params_on(const nncl_device *dev);
void nncl_gemm_params_set(nncl_device *dev, const nncl_gemm_params *p);

typedef enum nncl_tune_policy {
    NNCL_TUNE_POLICY_AUTO,      /* NNCL_TUNE unset or "auto" */
    NNCL_TUNE_POLICY_CACHED,    /* "cached": use an entry, never search */
    NNCL_TUNE_POLICY_OFF,       /* "off" */
} nncl_tune_policy;
nncl_tune_policy nncl_tune_policy_get(void);

#endif
