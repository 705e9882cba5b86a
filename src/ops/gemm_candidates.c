/* The GEMM tuner's candidates (see gemm_tuner.h): tables of parameter
 * sets, filtered by what the device can build and launch. */
#include <stdio.h>

#include "device/opencl_impl.h"
#include "ops/gemm_tuner.h"
#include "ops/kernel_params.h"

/* Register-blocked sets (devices whose local memory is ordinary memory).
 * Sized by vector registers: a row-form block holds TM x TNV accumulators
 * plus TNV vectors of B and a broadcast, a dot-form block DM x DN
 * accumulators plus DN vectors; a float16 takes two registers where the
 * native width is 8. Most promising first: the quick search takes the
 * first few that fit the device. */
typedef struct reg_row {
    int vw, tm, tnv, dm, dn, ly;
} reg_row;

static const reg_row reg_table[] = {
    {16, 12, 2, 5, 5, 4},       /* AVX-512: 24 accumulators (tools/gemmlab) */
    {16, 8, 3, 4, 6, 4},        /* 24 accumulators, three B vectors */
    {16, 14, 2, 5, 5, 8},
    {16, 8, 2, 4, 4, 4},
    {16, 12, 2, 6, 4, 8},
    {8, 6, 2, 4, 3, 4},         /* AVX2: 12 accumulators (OpenBLAS's Haswell block) */
    {16, 6, 1, 2, 2, 4},        /* AVX2 through float16: the same 6x16 in pairs of registers (PoCL
                                 * ran it 1.2-2x faster than float8 x 2 on the AVX2 EPYC) */
    {8, 4, 3, 3, 4, 4},
    {8, 8, 1, 4, 3, 4},
    {8, 3, 4, 3, 3, 4},
    {8, 6, 2, 3, 3, 8},
    {8, 12, 2, 5, 5, 4},        /* AVX-512 registers, 8 lanes */
    {16, 4, 2, 2, 4, 4},
    {4, 6, 2, 4, 3, 4},         /* 128-bit SIMD */
    {4, 4, 3, 3, 3, 4},
    {4, 8, 2, 4, 4, 4},
};

/* Local-memory sets (devices with on-chip local memory): C tile, K depth,
 * outputs per work-item, local reads as vectors of LVW, the next K-tile
 * prefetched into registers (PF), tiles inside aligned matrices loaded from
 * global memory as vectors of GVW, the sums over a K-tile unrolled (KU),
 * two local tiles each (DB), registers capped (RC, 0: not), a warp's
 * work-items as a block of 32/WL x WL (WL, 0: two rows).
 * The quick search tries the first six. On the H200 of 2026-12-04 (K split
 * for products of few tiles) 128x128 tiles of 8x8 with scalar reads won
 * over 64x64 of 4x4 by 1.2-1.5x on the larger training shapes and ran
 * 2048^3 at 36% of the FP32 peak; LVW=4 did not win there, but its reads
 * were then vloadn, which NVIDIA's compiler (as clang's NVPTX back end
 * does) splits into scalar loads: now they are vector loads (ld.shared.v4
 * in the PTX: tools/gemmlab/ptx.sh). They, GVW, PF and KU have not yet been
 * timed on a GPU. Registers for sm_90 by ptx.sh, 128x128 of 8x8: LVW=4
 * GVW=4 108, with KU 127 (two work-groups of 256 still fit an SM's 64K),
 * with PF 125, with both 137 (one); KU with scalar reads (LVW=1) spills.
 * Outputs of 8x16 per work-item read 6 float4 for 128 FMAs a step where
 * 8x8 read 4 for 64 (an SM's local memory serves one 128-byte wavefront a
 * clock to 128 FMA lanes: a warp's step at 8x8 is 64 FMA instructions, 64
 * clocks of a sub-partition's 32 lanes, and 16 wavefronts with scalar reads,
 * 6 with LVW=4, 4 with WL=8 too; four sub-partitions share the local
 * memory; README, Tuning per device),
 * at 179 registers (193 with KU): one work-group of 256 per SM. */
typedef struct local_row {
    int tsm, tsn, tsk, wptm, wptn, lvw, pf, gvw, ku, db, rc, wl;
} local_row;

static const local_row local_table[] = {
    {64, 64, 16, 4, 4, 1, 0, 4, 0, 0, 0, 0},     /* 16x16 work-items (CLBlast's shape) */
    {128, 128, 16, 8, 8, 4, 0, 4, 1, 0, 0, 0},   /* 1024 FMAs, 64 float4 local reads a K-tile, no loop */
    {128, 128, 16, 8, 8, 4, 1, 4, 0, 0, 0, 0},
    {128, 128, 16, 8, 8, 4, 0, 4, 0, 0, 0, 0},
    {128, 128, 16, 8, 8, 1, 0, 1, 0, 0, 0, 0},   /* the H200's pick of 2026-12-04 */
    {128, 256, 16, 8, 16, 4, 0, 4, 0, 0, 0, 0},  /* 8x16: 128 FMAs to 6 float4 reads a step, 179 registers */
    /* two local tiles each (DB): one barrier a K-tile; 127 registers
     * (sm_90, ptx.sh), and with KU too at TSK=8 */
    {128, 128, 16, 8, 8, 4, 1, 4, 0, 1, 0, 0},
    {128, 128, 8, 8, 8, 4, 1, 4, 1, 1, 0, 0},
    /* registers capped at 128 (RC; NVIDIA's compiler only): PF with KU
     * takes 137, DB with KU 155, one work-group of 256 an SM; capped, two
     * fit, PF with KU with no spills, DB with KU spilling 32 bytes (ptxas
     * -maxrregcount=128) */
    {128, 128, 16, 8, 8, 4, 1, 4, 1, 1, 128, 0},
    {128, 128, 16, 8, 8, 4, 1, 4, 1, 0, 128, 0},
    {64, 64, 16, 4, 4, 4, 1, 4, 0, 1, 0, 0},
    {64, 64, 16, 4, 4, 4, 1, 4, 0, 0, 0, 0},
    {128, 128, 16, 8, 8, 1, 1, 4, 0, 0, 0, 0},
    {128, 128, 8, 8, 8, 4, 0, 4, 1, 0, 0, 0},
    {128, 128, 16, 8, 8, 4, 1, 4, 1, 0, 0, 0},
    {128, 128, 32, 8, 8, 4, 1, 4, 0, 0, 0, 0},
    {128, 128, 8, 8, 8, 4, 1, 4, 0, 0, 0, 0},
    {64, 64, 16, 4, 4, 4, 0, 4, 1, 0, 0, 0},
    {64, 64, 16, 4, 4, 1, 0, 1, 0, 0, 0, 0},
    {128, 128, 16, 8, 8, 4, 0, 1, 0, 0, 0, 0},
    {64, 64, 32, 4, 4, 1, 0, 4, 0, 0, 0, 0},
    {64, 64, 16, 4, 4, 1, 1, 4, 0, 0, 0, 0},
    {128, 64, 16, 8, 4, 4, 1, 4, 0, 0, 0, 0},
    {64, 128, 16, 4, 8, 4, 1, 4, 0, 0, 0, 0},
    {64, 64, 16, 8, 8, 4, 1, 4, 0, 0, 0, 0},
    {256, 128, 16, 16, 8, 4, 0, 4, 0, 0, 0, 0},
    {128, 256, 16, 8, 16, 4, 0, 4, 1, 0, 0, 0},
    {128, 128, 16, 8, 16, 4, 0, 4, 0, 0, 0, 0},  /* 8x16 on 128 work-items */
    {32, 32, 16, 4, 4, 1, 0, 4, 0, 0, 0, 0},
    {32, 32, 8, 2, 2, 1, 0, 1, 0, 0, 0, 0},
    {16, 16, 8, 4, 4, 1, 0, 1, 0, 0, 0, 0},
    /* the rest of tools/gemmlab/sweep_sets.txt (gpu_check's gemm-sweep),
     * so that the full search times every set the sweep does */
    {64, 64, 16, 4, 4, 4, 0, 4, 0, 0, 0, 0},
    {128, 128, 16, 8, 8, 1, 0, 4, 0, 0, 0, 0},
    {128, 128, 8, 8, 8, 4, 0, 4, 0, 0, 0, 0},
    {128, 128, 32, 8, 8, 4, 0, 4, 0, 0, 0, 0},
    {128, 128, 16, 8, 8, 1, 1, 1, 0, 0, 0, 0},
    {64, 64, 32, 4, 4, 4, 0, 4, 0, 0, 0, 0},
    /* a warp's 32 work-items as 4 rows by 8 columns of them (WL=8), not 2
     * by 16: 4 local-memory wavefronts a step of k at LVW=4, not 6 (cl/gemm.cl,
     * grid_position); the same registers (ptx.sh) */
    {128, 128, 16, 8, 8, 4, 0, 4, 1, 0, 0, 8},
    {128, 128, 16, 8, 8, 4, 1, 4, 1, 0, 128, 8},
    {128, 128, 8, 8, 8, 4, 1, 4, 1, 1, 0, 8},
};

static int vector_registers(const nncl_device_info *info)
{
    return info->native_vector_float >= 16 ? 32 : 16;
}

/* Registers a register-blocked set needs, in the worse of its two forms. */
static int registers_needed(const reg_row *r, unsigned native)
{
    int f = native && (unsigned)r->vw > native ? r->vw / (int)native : 1;
    int row = f * (r->tm * r->tnv + r->tnv) + 1;
    int dot = f * (r->dm * r->dn + r->dn) + 1;
    return row > dot ? row : dot;
}

/* Appends p to out[*n] when it can be built on this device (work-group
 * size, local memory); a set that cannot is skipped. */
static void offer(nncl_gemm_candidate *out, int *n, const nncl_gemm_params *p, size_t wg, uint64_t local_mem)
{
    if (nncl_gemm_params_check(p, wg, local_mem) != NNCL_OK) {
        nncl_clear_error();
        return;
    }
    out[(*n)++] = (nncl_gemm_candidate){*p, NULL};
}

int nncl_gemm_candidates(const nncl_device_info *info, nncl_tune_mode mode, nncl_gemm_candidate *out, int max)
{
    int n = 0;
    /* the quick search tries at most 6 */
    int cap = mode == NNCL_TUNE_QUICK && max > 6 ? 6 : max;
    size_t wg = info->max_work_group_size ? info->max_work_group_size : 1;
    if (info->local_mem_dedicated) {
        for (size_t i = 0; i < sizeof local_table / sizeof local_table[0] && n < cap; i++) {
            const local_row *r = &local_table[i];
            nncl_gemm_params p;
            nncl_gemm_params_for(info, &p);
            p.use_local = 1;
            p.tsm = r->tsm, p.tsn = r->tsn, p.tsk = r->tsk, p.wptm = r->wptm, p.wptn = r->wptn, p.lvw = r->lvw;
            p.pf = r->pf, p.gvw = r->gvw, p.ku = r->ku, p.db = r->db, p.rc = r->rc, p.wl = r->wl;
            if (p.rc && !info->nv_compiler_options)
                continue; /* a cap no compiler here would take: the same set as without */
            offer(out, &n, &p, wg, info->local_mem_bytes);
        }
        return n;
    }
    unsigned native = info->native_vector_float ? info->native_vector_float : 1;
    for (size_t i = 0; i < sizeof reg_table / sizeof reg_table[0] && n < cap; i++) {
        const reg_row *r = &reg_table[i];
        /* vectors from half to twice the native width */
        if ((unsigned)r->vw * 2 < native || (unsigned)r->vw > native * 2)
            continue;
        if (mode == NNCL_TUNE_QUICK && registers_needed(r, native) > vector_registers(info))
            continue;
        nncl_gemm_params p = {.use_local = 0, .vw = r->vw, .tm = r->tm, .tnv = r->tnv, .dm = r->dm, .dn = r->dn,
                              .lx = 1, .ly = r->ly, .pk = 1, .tsm = 64, .tsn = 64, .tsk = 16, .wptm = 4,
                              .wptn = 4};
        offer(out, &n, &p, wg, info->local_mem_bytes);
    }
    return n;
}
