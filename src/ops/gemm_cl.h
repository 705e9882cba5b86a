/* The GEMM's OpenCL launch (src/ops/gemm.c), shared by the dispatcher,
 * which takes the kernels from the device's program, and the tuner, which
 * builds one program per candidate: both run a product the same way, so
 * the tuner times what training runs. */
#ifndef NNCL_GEMM_CL_H
#define NNCL_GEMM_CL_H

#include "device/opencl_impl.h"
#include "ops/gemm_impl.h"

/* The entry points of cl/gemm.cl, indexes into nncl_gemm_kernels. The
 * plain four are [ta * 2 + tb]; the packed forms exist only in the
 * register-blocked path (USE_LOCAL=0), NULL in a local-memory program. */
enum {
    NNCL_GEMM_NN, NNCL_GEMM_NT, NNCL_GEMM_TN, NNCL_GEMM_TT,
    NNCL_GEMM_PLAIN,                         /* count of the plain four */
    NNCL_GEMM_PACK_B_KERNEL = NNCL_GEMM_PLAIN, NNCL_GEMM_PACK_BT_KERNEL, NNCL_GEMM_PACK_A_KERNEL,
    NNCL_GEMM_PACKED_N, NNCL_GEMM_PACKED_P,
    /* split K, in the local-memory path only: [NNCL_GEMM_SPLIT + ta * 2 + tb], then the sum */
    NNCL_GEMM_SPLIT, NNCL_GEMM_SPLIT_SUM = NNCL_GEMM_SPLIT + NNCL_GEMM_PLAIN,
    NNCL_GEMM_KERNELS
};
extern const char *const nncl_gemm_kernel_names[NNCL_GEMM_KERNELS];

typedef struct nncl_gemm_kernels {
    cl_kernel k[NNCL_GEMM_KERNELS];
} nncl_gemm_kernels;

/* Whether a program built with parameters p has entry point k (the packed
 * forms are the register-blocked path's, split K the local-memory path's). */
bool nncl_gemm_has_kernel(const nncl_gemm_params *p, int k);

/* Into how many slices of K the local-memory path cuts g on dev (1: none),
 * and each slice's length *kc (a multiple of TSK): enough slices for about
 * one work-group per compute unit when C has too few tiles to keep the
 * device busy. NNCL_GEMM_SPLITK=off, or a count, overrides it (tests). */
size_t nncl_gemm_slices(const nncl_device *dev, const nncl_gemm_params *p, const nncl_gemm_args *g, size_t *kc);

/* How a product runs with parameters p: the plain kernel (0), or with B
 * packed into panels first, and A too. */
enum { NNCL_GEMM_PACK_B = 1, NNCL_GEMM_PACK_A = 2 };
int nncl_gemm_packing(const nncl_gemm_params *p, const nncl_gemm_args *g);

/* Floats of panel that packing g needs. */
size_t nncl_gemm_panel_floats(const nncl_gemm_params *p, const nncl_gemm_args *g, int packing);

/* The kernel that writes C. */
int nncl_gemm_form(const nncl_gemm_params *p, const nncl_gemm_args *g);

/* The device's panel buffer, at least `bytes` long (src/ops/kernel_params.c
 * owns it; it lives as long as the device): CL_SUCCESS or clCreateBuffer's
 * error. */
cl_int nncl_gemm_panels(nncl_device *dev, size_t bytes, cl_mem *out);

/* Enqueue the product g with kernels ks built with parameters p (no wait).
 * On an OpenCL error returns it, with the failing call and kernel in
 * *call and *kernel. When the panel buffer cannot be made the product runs
 * with the plain kernel. */
cl_int nncl_gemm_enqueue(nncl_device *dev, const nncl_gemm_kernels *ks, const nncl_gemm_params *p,
                         const nncl_gemm_args *g, const char **call, const char **kernel);

/* A GEMM program of its own (gemm_program.c): cl/common.cl and cl/gemm.cl
 * alone (the other kernels do not depend on the GEMM's defines), built
 * with p's defines and `extra` (NULL, or more defines: the tests' broken
 * candidate), with every entry point p has, and p's register cap (RC) as
 * -cl-nv-maxrregcount where the device has cl_nv_compiler_options (the
 * device's own set never has one: it would cap every kernel of the program
 * it is built into). The source (malloc'd): */
nncl_status nncl_gemm_source(char **src, size_t *len);
/* *ok false, with the reason in why and nothing held, when the compiler
 * refuses p; the status is for failures of the device itself. */
nncl_status nncl_gemm_program_build(nncl_device *dev, const char *src, size_t src_len, const nncl_gemm_params *p,
                                    const char *extra, cl_program *prog, nncl_gemm_kernels *ks, bool *ok, char *why,
                                    size_t why_len);
/* The same in two halves, for programs built together (the tuner's,
 * nncl_cl_build_batch): the program made from the source, unbuilt, with
 * the options to build it with; then, once built, its kernels (*ok false
 * with the reason, and nothing held, when one is missing). */
nncl_status nncl_gemm_program_create(nncl_device *dev, const char *src, size_t src_len, const nncl_gemm_params *p,
                                     const char *extra, cl_program *prog, char *options, size_t options_len);
nncl_status nncl_gemm_program_kernels(const nncl_gemm_params *p, cl_program *prog, nncl_gemm_kernels *ks, bool *ok,
                                      char *why, size_t why_len);
void nncl_gemm_program_release(cl_program *prog, nncl_gemm_kernels *ks);

/* The parameters and kernels that run g on dev: the large-products set's
 * (built on first use) where g qualifies (nncl_gemm_large), else the
 * device program's set with ks NULL. */
nncl_status nncl_gemm_set_for(nncl_device *dev, const nncl_gemm_args *g, const nncl_gemm_params **p,
                              const nncl_gemm_kernels **ks);

#endif
