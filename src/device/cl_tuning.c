/* Per-device kernel parameters, passed to the compiler as -D defines. The
 * kernels carry defaults (#ifndef); this table overrides them per device.
 * Decided on capabilities (device type, local memory), never on vendor
 * names: a CPU device (PoCL, Intel's CPU runtime) gets register blocks over
 * wide vectors, since its "local memory" is ordinary memory and values held
 * across barriers are spilled; a GPU gets local-memory tiles. */
#include <stdio.h>

#include "device/opencl_impl.h"
#include "ops/gemm_impl.h"
#include "ops/kernel_consts.h"

void nncl_gemm_params_for(const nncl_device_info *info, nncl_gemm_params *p)
{
    bool cpu = info->type == NNCL_DEVICE_CPU;
    *p = (nncl_gemm_params){
        .use_local = cpu ? 0 : 1,
        .vw = 16, .tm = 12, .tnv = 2, .dm = 5, .dn = 5, .lx = 1, .ly = 4,
        .tsm = 64, .tsn = 64, .tsk = 16, .wptm = 4, .wptn = 4,
    };
    /* A device with little local memory or small work-groups gets small tiles. */
    if (!cpu && (info->local_mem_bytes < 16384 || info->max_work_group_size < 256)) {
        p->tsm = p->tsn = 32;
        p->wptm = p->wptn = 4;
    }
}

void nncl_cl_tuning_options(const nncl_device_info *info, char *out, size_t len)
{
    nncl_gemm_params p;
    nncl_gemm_params_for(info, &p);
    snprintf(out, len,
             "-DUSE_LOCAL=%d -DVW=%d -DTM=%d -DTNV=%d -DDM=%d -DDN=%d -DLX=%d -DLY=%d "
             "-DTSM=%d -DTSN=%d -DTSK=%d -DWPTM=%d -DWPTN=%d "
             "-DU8_DM=%d -DU8_DN=%d -DU8_TM=%d -DU8H_BLOCK=%d -DHEAD_MAX=%d -DCOLSUM_TILE=%d "
             "-DREDUCE_GROUP_MAX=%d",
             p.use_local, p.vw, p.tm, p.tnv, p.dm, p.dn, p.lx, p.ly, p.tsm, p.tsn, p.tsk, p.wptm, p.wptn,
             (int)NNCL_U8_DM, (int)NNCL_U8_DN, (int)NNCL_U8_TM, (int)NNCL_U8H_BLOCK, (int)NNCL_HEAD_MAX,
             (int)NNCL_COLSUM_TILE, (int)NNCL_REDUCE_GROUP_MAX);
}
