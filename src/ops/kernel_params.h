/* The ops' kernel parameters on an OpenCL device (src/ops/kernel_params.c):
 * the GEMM's, read by its dispatcher and set by its tuner, the byte-input
 * kernels', and the NNCL_TUNE policy. The device's side is device/op_params.h. */
#ifndef NNCL_KERNEL_PARAMS_H
#define NNCL_KERNEL_PARAMS_H

#include "device/op_params.h"
#include "ops/gemm_impl.h"

const nncl_gemm_params *nncl_gemm_params_on(const nncl_device *dev);
void nncl_gemm_params_set(nncl_device *dev, const nncl_gemm_params *p);
/* The large products' set (gemm_impl.h); setting it drops its program. */
void nncl_gemm_large_set(nncl_device *dev, const nncl_gemm_large *l);
/* Whether g runs with the large products' set on dev. */
bool nncl_gemm_is_large(const nncl_device *dev, const nncl_gemm_args *g);
/* The m*n*k from which dev's large set runs (products it would not cut
 * into K slices); 0 where it has none (host, CPUs, untuned, refused). */
uint64_t nncl_gemm_large_from(const nncl_device *dev);

/* The byte-input kernels' shape (cl/linear_u8.cl): floats per vector, rows
 * and outputs per fwd work-item, outputs per wgrad work-item (whose column
 * block is 2 vw wide). */
typedef struct nncl_u8_params {
    int vw, dm, dn, tm;
} nncl_u8_params;
static inline int nncl_u8_wcols(const nncl_u8_params *p) { return 2 * p->vw; }

/* The optimiser step's parameters per work-item (cl/optim.cl). */
typedef struct nncl_optim_params {
    int vw;
} nncl_optim_params;

/* The fused ops' parameters, searched by src/ops/fused_tuner.c and kept in
 * the tuning cache entry with the GEMM's. Without an entry they follow the
 * device's native vector width (the accumulators must fit its registers);
 * NNCL_U8_PARAMS="VW=8 DM=2 DN=5 TM=5" overrides the byte kernels' shape
 * whatever the cache says (the tests run every shape on one machine). In
 * the cache and the tuner's messages they read as their -D defines:
 * "U8_VW=8 U8_DM=2 U8_DN=5 U8_TM=5 OPTIM_VW=16". */
typedef struct nncl_fused_params {
    nncl_u8_params u8;
    nncl_optim_params optim;
} nncl_fused_params;

void nncl_fused_params_for(const nncl_device_info *info, nncl_fused_params *p);
/* Whether the kernels accept p (VW 4, 8 or 16; DM, DN, TM from 1 to 16);
 * the failure names the field. */
nncl_status nncl_fused_params_check(const nncl_fused_params *p);
void nncl_fused_params_format(const nncl_fused_params *p, char *out, size_t len);
nncl_status nncl_fused_params_parse(const char *text, nncl_fused_params *p);
bool nncl_fused_params_equal(const nncl_fused_params *a, const nncl_fused_params *b);

const nncl_u8_params *nncl_u8_params_on(const nncl_device *dev);
/* NNCL_U8_PARAMS on dev's byte-kernel shape, when set and valid. */
void nncl_u8_params_override(nncl_device *dev);
const nncl_optim_params *nncl_optim_params_on(const nncl_device *dev);
const nncl_fused_params *nncl_fused_params_on(const nncl_device *dev);
void nncl_fused_params_set(nncl_device *dev, const nncl_fused_params *p);

/* Every kernel parameter as -D build options: the GEMM's, the fused ops',
 * and the constants kernels and dispatchers share (kernel_consts.h). */
void nncl_kernel_options(const nncl_gemm_params *gemm, const nncl_fused_params *fused, char *out, size_t len);

typedef enum nncl_tune_policy {
    NNCL_TUNE_POLICY_AUTO,      /* NNCL_TUNE unset or "auto" */
    NNCL_TUNE_POLICY_CACHED,    /* "cached": use an entry, never search */
    NNCL_TUNE_POLICY_OFF,       /* "off" */
} nncl_tune_policy;
nncl_tune_policy nncl_tune_policy_get(void);

#endif
