/* The ops' kernel parameters on an OpenCL device (src/ops/kernel_params.c):
 * the GEMM's, read by its dispatcher and set by its tuner, the byte-input
 * kernels', and the NNCL_TUNE policy. The device's side is device/op_params.h. */
#ifndef NNCL_KERNEL_PARAMS_H
#define NNCL_KERNEL_PARAMS_H

#include "device/op_params.h"
#include "ops/gemm_impl.h"

const nncl_gemm_params *nncl_gemm_params_on(const nncl_device *dev);
void nncl_gemm_params_set(nncl_device *dev, const nncl_gemm_params *p);

/* The byte-input kernels' shape (cl/linear_u8.cl): floats per vector, rows
 * and outputs per fwd work-item, outputs per wgrad work-item (whose column
 * block is 2 vw wide). Chosen by the device's native vector width, so that
 * the accumulators fit its registers; NNCL_U8_PARAMS="VW=8 DM=2 DN=5 TM=5"
 * overrides it (the tests run both shapes on one machine). */
typedef struct nncl_u8_params {
    int vw, dm, dn, tm;
} nncl_u8_params;
const nncl_u8_params *nncl_u8_params_on(const nncl_device *dev);
static inline int nncl_u8_wcols(const nncl_u8_params *p) { return 2 * p->vw; }

typedef enum nncl_tune_policy {
    NNCL_TUNE_POLICY_AUTO,      /* NNCL_TUNE unset or "auto" */
    NNCL_TUNE_POLICY_CACHED,    /* "cached": use an entry, never search */
    NNCL_TUNE_POLICY_OFF,       /* "off" */
} nncl_tune_policy;
nncl_tune_policy nncl_tune_policy_get(void);

#endif
