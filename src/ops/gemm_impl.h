/* The GEMM kernel's compile-time parameters and launch geometry, shared by
 * the tuning table (src/ops/kernel_params.c) and the dispatcher (gemm.c). */
#ifndef NNCL_GEMM_IMPL_H
#define NNCL_GEMM_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nncl/ops.h"
#include "nncl/status.h"

/* See cl/gemm.cl for what each parameter shapes. */
typedef struct nncl_gemm_params {
    int use_local;              /* 1: local-memory tiles (GPUs); 0: register blocks (CPUs) */
    /* register-blocked path */
    int vw;                     /* vector width */
    int tm, tnv;                /* NN/TN: TM rows x TNV*VW columns per work-item (TT: transposed) */
    int dm, dn;                 /* NT: DM rows x DN columns per work-item */
    int lx, ly;                 /* work-group size */
    int pk;                     /* 1: NT products large enough run packed (gemm.c), 0: the dot form */
    /* local-memory path */
    int tsm, tsn, tsk;          /* tile of C per group, and its K depth */
    int wptm, wptn;             /* outputs per work-item */
    int lvw;                    /* local tiles read as vectors of LVW floats (2, 4); 0 or 1: one float at a time */
    int pf;                     /* 1: the next K-tile loaded into registers during the current one's sums */
    int gvw;                    /* tiles wholly inside an aligned matrix loaded as vectors of GVW floats (2, 4); 0, 1: scalars */
    int ku;                     /* 1: the sums over a K-tile unrolled (#pragma unroll), 0: as the compiler sees fit */
    int db;                     /* 1: two local tiles each, one barrier a K-tile (needs pf) */
    int wl;                     /* 4, 8: a warp's 32 work-items own a block of 32/wl x wl work-items'
                                 * outputs; 0: two rows of tsn/wptn (cl/gemm.cl, grid_position) */
    int rc;                     /* registers a work-item at most (-cl-nv-maxrregcount, where the device takes
                                 * cl_nv_compiler_options) for a GEMM program of its own; 0: the compiler's choice */
} nncl_gemm_params;

/* A second set for large products, tuned apart on devices whose GEMM uses
 * local memory (gemm_tuner.c): a product of at least min_mnk = m*n*k that
 * the set runs without cutting K (nncl_gemm_slices) runs with p, from a
 * program of its own built on first use (kernel_params.c). The training
 * shapes and a large square rank sets differently (a GPU's occupancy and
 * waves of work-groups), and one set had to serve both. min_mnk 0: none. */
typedef struct nncl_gemm_large {
    uint64_t min_mnk;
    nncl_gemm_params p;
} nncl_gemm_large;

/* Rows and columns of C per work-item, and the NDRange covering M x N. */
static inline void nncl_gemm_ndrange(const nncl_gemm_params *p, bool ta, bool tb, size_t m, size_t n,
                                     size_t global[2], size_t local[2])
{
    size_t rows, cols;
    if (p->use_local) {
        rows = (size_t)p->wptm;
        cols = (size_t)p->wptn;
        local[0] = (size_t)(p->tsn / p->wptn);
        local[1] = (size_t)(p->tsm / p->wptm);
    } else {
        if (!ta && tb) {
            rows = (size_t)p->dm;
            cols = (size_t)p->dn;
        } else if (ta && tb) {
            rows = (size_t)(p->tnv * p->vw);
            cols = (size_t)p->tm;
        } else {
            rows = (size_t)p->tm;
            cols = (size_t)(p->tnv * p->vw);
        }
        local[0] = (size_t)p->lx;
        local[1] = (size_t)p->ly;
    }
    /* nncl_cl_launch rounds these up to multiples of the local size. */
    global[0] = (n + cols - 1) / cols;
    global[1] = (m + rows - 1) / rows;
}

/* The parameters for a device without a tuning entry: the capability
 * table in src/ops/kernel_params.c. */
void nncl_gemm_params_for(const nncl_device_info *info, nncl_gemm_params *p);

/* The parameters as text, "USE_LOCAL=0 VW=16 TM=12 ..." (every field, in
 * the kernel's define names; gemm_params.c), and back. Parsing fails on an
 * unknown or missing name or a value out of range. */
void nncl_gemm_params_format(const nncl_gemm_params *p, char *out, size_t len);
/* The same, only the fields the chosen path reads (for people). */
void nncl_gemm_params_describe(const nncl_gemm_params *p, char *out, size_t len);
nncl_status nncl_gemm_params_parse(const char *text, nncl_gemm_params *p);
/* NNCL_OK when the kernel can be built and launched with p on a device
 * with this work-group size and local memory; the reason otherwise. */
nncl_status nncl_gemm_params_check(const nncl_gemm_params *p, size_t max_work_group, uint64_t local_mem);
bool nncl_gemm_params_equal(const nncl_gemm_params *a, const nncl_gemm_params *b);
/* The -D defines for p ("-DUSE_LOCAL=0 -DVW=16 ..."). */
void nncl_gemm_params_defines(const nncl_gemm_params *p, char *out, size_t len);

/* The plain-loop oracle: C = act(alpha op(A) op(B) + beta C + bias), with
 * A, B, C, bias pointing at the first element of each view. */
void nncl_gemm_reference(const nncl_gemm_args *g, const float *A, const float *B, float *C, const float *bias);

/* The host backend's C = alpha op(A) op(B) + beta C on plain pointers (g's
 * views, bias and act are ignored): OpenBLAS where built with it, else the
 * oracle. For host ops that work on parts of their buffers (conv2d). */
void nncl_host_sgemm(const nncl_gemm_args *g, const float *A, const float *B, float *C);

/* The host device's gemm (its bias and activation, both cores for a large
 * product) on plain pointers: for host ops that build an operand
 * themselves (u8_sparse_host.c's float copy of a dense batch). */
void nncl_host_gemm_on(const nncl_gemm_args *g, const float *A, const float *B, float *C, const float *bias);

#endif
