/* A GEMM program of its own (see gemm_cl.h): cl/common.cl and cl/gemm.cl
 * alone, built with one parameter set's defines. The tuner builds one per
 * candidate; the dispatcher one for the large-products set. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device/opencl_impl.h"
#include "ops/gemm_cl.h"

nncl_status nncl_gemm_source(char **src, size_t *len)
{
    static const char *const files[] = {"common.cl", "gemm.cl"};
    return nncl_cl_source(files, 2, src, len);
}

void nncl_gemm_program_release(cl_program *prog, nncl_gemm_kernels *ks)
{
    for (int i = 0; i < NNCL_GEMM_KERNELS; i++)
        if (ks->k[i])
            clReleaseKernel(ks->k[i]);
    memset(ks, 0, sizeof *ks);
    if (*prog)
        clReleaseProgram(*prog);
    *prog = NULL;
}

nncl_status nncl_gemm_program_create(nncl_device *dev, const char *src, size_t src_len, const nncl_gemm_params *p,
                                     const char *extra, cl_program *prog, char *options, size_t options_len)
{
    char defines[512], cap[48] = "";
    nncl_gemm_params_defines(p, defines, sizeof defines);
    /* a register cap (RC) only where NVIDIA's compiler takes its options;
     * elsewhere RC is a define nothing reads */
    if (p->use_local && p->rc > 0 && dev->info.nv_compiler_options)
        snprintf(cap, sizeof cap, " -cl-nv-maxrregcount=%d", p->rc);
    snprintf(options, options_len, "-cl-std=CL1.2 %s%s%s%s", defines, cap, extra ? " " : "", extra ? extra : "");
    cl_int err;
    *prog = clCreateProgramWithSource(nncl_cl_of(dev)->context, 1, &src, &src_len, &err);
    if (err != CL_SUCCESS) {
        *prog = NULL;
        return nncl_cl_fail(err, "clCreateProgramWithSource", NULL);
    }
    return NNCL_OK;
}

nncl_status nncl_gemm_program_build(nncl_device *dev, const char *src, size_t src_len, const nncl_gemm_params *p,
                                    const char *extra, cl_program *prog, nncl_gemm_kernels *ks, bool *ok, char *why,
                                    size_t why_len)
{
    char options[1024];
    *ok = false;
    memset(ks, 0, sizeof *ks);
    nncl_status st = nncl_gemm_program_create(dev, src, src_len, p, extra, prog, options, sizeof options);
    if (st != NNCL_OK)
        return st;
    cl_int err = nncl_cl_build_quietly(*prog, nncl_cl_of(dev)->device, options);
    if (err != CL_SUCCESS) {
        snprintf(why, why_len, "does not build (%s)", nncl_cl_error_name(err));
        nncl_gemm_program_release(prog, ks);
        return NNCL_OK;
    }
    return nncl_gemm_program_kernels(p, prog, ks, ok, why, why_len);
}

nncl_status nncl_gemm_program_kernels(const nncl_gemm_params *p, cl_program *prog, nncl_gemm_kernels *ks, bool *ok,
                                      char *why, size_t why_len)
{
    *ok = false;
    memset(ks, 0, sizeof *ks);
    cl_int err;
    for (int i = 0; i < NNCL_GEMM_KERNELS; i++) {
        if (!nncl_gemm_has_kernel(p, i))
            continue;
        ks->k[i] = clCreateKernel(*prog, nncl_gemm_kernel_names[i], &err);
        if (err != CL_SUCCESS) {
            snprintf(why, why_len, "no kernel %s (%s)", nncl_gemm_kernel_names[i], nncl_cl_error_name(err));
            nncl_gemm_program_release(prog, ks);
            return NNCL_OK;
        }
    }
    *ok = true;
    return NNCL_OK;
}
