/* The GEMM kernel's compile-time parameters and launch geometry, shared by
 * the tuning table (src/device/cl_tuning.c) and the dispatcher (gemm.c). */
#ifndef NNCL_GEMM_IMPL_H
#define NNCL_GEMM_IMPL_H

#include <stdbool.h>
#include <stddef.h>

#include "nncl/ops.h"

/* See cl/gemm.cl for what each parameter shapes. */
typedef struct nncl_gemm_params {
    int use_local;              /* 1: local-memory tiles (GPUs); 0: register blocks (CPUs) */
    /* register-blocked path */
    int vw;                     /* vector width */
    int tm, tnv;                /* NN/TN: TM rows x TNV*VW columns per work-item (TT: transposed) */
    int dm, dn;                 /* NT: DM rows x DN columns per work-item */
    int lx, ly;                 /* work-group size */
    /* local-memory path */
    int tsm, tsn, tsk;          /* tile of C per group, and its K depth */
    int wptm, wptn;             /* outputs per work-item */
} nncl_gemm_params;

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

/* The parameters for a device (from the table in cl_tuning.c). */
void nncl_gemm_params_for(const nncl_device_info *info, nncl_gemm_params *p);

/* The plain-loop oracle: C = act(alpha op(A) op(B) + beta C + bias), with
 * A, B, C, bias pointing at the first element of each view. */
void nncl_gemm_reference(const nncl_gemm_args *g, const float *A, const float *B, float *C, const float *bias);

#endif
