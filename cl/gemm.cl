/*
 * gemm.cl - single-precision GEMM with fused epilogue for nncl.
 *
 *   C = act( alpha * op(A) * op(B) + beta * C + bias[col] )
 *
 * Row-major storage.  op(A) is M x K, op(B) is K x N, C is M x N.
 *   transa = N : op(A)[i][p] = A[i*lda + p]      (A stored M x K)
 *   transa = T : op(A)[i][p] = A[p*lda + i]      (A stored K x M)
 *   transb = N : op(B)[p][j] = B[p*ldb + j]      (B stored K x N)
 *   transb = T : op(B)[p][j] = B[j*ldb + p]      (B stored N x K)
 * Every pointer comes with an element offset (offA, offB, offC, offBias).
 * beta == 0  -> C is never read (it may hold NaN poison).
 * has_bias==0-> bias is never read.
 * act: 0 identity, 1 relu, 2 leaky relu (slope act_param), 3 sigmoid, 4 tanh.
 * No fast-math: NaN/Inf propagate as in plain IEEE arithmetic.
 *
 * Four entry points: gemm_nn, gemm_nt, gemm_tn, gemm_tt (same arguments).
 * Any M, N, K >= 1 is allowed; every edge is guarded.
 *
 * Two code paths, chosen at compile time with -DUSE_LOCAL=0/1:
 *
 * USE_LOCAL=0  "register-blocked" path (for CPUs, e.g. PoCL).
 *   One work-item computes a whole block of C in registers, using explicit
 *   OpenCL vectors (floatVW) for SIMD.  No local memory and no barriers.
 *   Why: PoCL runs the work-items of a group as a loop and tries to vectorise
 *   that loop across get_local_id(0); it can only do so when the loop body
 *   has no inner loop, and everything live across a barrier() is spilled to
 *   memory ("context arrays").  A GEMM inner loop over K defeats the first,
 *   and local-memory tiling (barriers every K-tile) triggers the second, so
 *   on PoCL we vectorise by hand inside one work-item and keep the
 *   accumulators in registers for the whole K loop.
 *   The SIMD direction must be a direction in which memory is contiguous:
 *     NN, TN : "row" form - vector over columns j of C (rows of B contiguous),
 *              A element broadcast.  Work-item block: TM rows x (TNV*VW) cols.
 *     TT     : "col" form - vector over rows i of C (rows of A^T contiguous),
 *              B element broadcast.  Work-item block: (TNV*VW) rows x TM cols.
 *     NT     : "dot" form - vector over the K dimension (both A rows and B^T
 *              rows are contiguous along K), horizontal sum at the end.
 *              Work-item block: DM rows x DN cols.
 *   Global dimension 0 runs over column blocks, dimension 1 over row blocks.
 *   Edge blocks clamp their load indices into the matrix (so loads are always
 *   in bounds) and only store the valid part.
 *
 * USE_LOCAL=1  "local-memory tiled" path (for GPUs).
 *   A work-group computes a TSM x TSN tile of C; per K-step of TSK it copies a
 *   TSM x TSK tile of op(A) and a TSK x TSN tile of op(B) into local memory
 *   (coalesced: consecutive work-items read consecutive addresses), then each
 *   work-item accumulates WPTM x WPTN outputs from local memory.
 *   Work-item (tx,ty) owns rows ty + r*(TSM/WPTM) and cols tx + c*(TSN/WPTN)
 *   (strided, so that neighbouring work-items store neighbouring columns).
 *   With LVW > 1 it owns runs of LVW: rows (ty + r'*(TSM/WPTM))*LVW + v and
 *   columns (tx + c'*(TSN/WPTN))*LVW + w, and reads each run from the local
 *   tiles as one vector: LVW times fewer local-memory reads per k, which
 *   otherwise bound a GPU's inner loop (CLBlast's VWM/VWN): 64 FMAs to 16
 *   scalar local reads per k at 8x8 outputs, 4 with LVW = 4.
 *   With GVW > 1 a K-tile that lies wholly inside a matrix whose rows start
 *   at multiples of GVW floats is read from global memory in vectors of GVW
 *   (one load instruction, no bounds tests); edge tiles and unaligned
 *   matrices take the scalar loads. With PF = 1 the next K-tile's loads go
 *   to registers before the current tile's sums (latency hidden). With
 *   KU = 1 the loop over a K-tile's TSK steps is unrolled (its local reads
 *   at constant offsets, no counter; LLVM leaves a 16-step loop of 64 FMAs
 *   rolled by itself). With DB = 1 (and PF = 1) the local tiles are two
 *   each: the prefetched tile is stored into one while the other is summed,
 *   one barrier a K-tile instead of two (twice the local memory). With
 *   WL = 4 or 8 a warp's 32 work-items own a block of 32/WL x WL work-items'
 *   outputs instead of two rows (grid_position). RC, where
 *   set, is no define the kernel reads: the host builds the program with
 *   -cl-nv-maxrregcount=RC (src/ops/gemm_program.c).
 *   Local size must be exactly (TSN/WPTN, TSM/WPTM).
 *
 * Recommended sets (measured, see REPORT.md):
 *   PoCL CPU : -DVW=16 -DTM=12 -DTNV=2 -DDM=5 -DDN=5 (the defaults),
 *              local size (1,4)
 *   GPU      : -DUSE_LOCAL=1 -DTSM=64 -DTSN=64 -DTSK=16 -DWPTM=4 -DWPTN=4
 *              -DGVW=4, local size (16,16); on the H200 the tuner took
 *              128x128 tiles of 8x8 (tools/BENCHMARKS.md)
 *
 * NDRange (see gemm_ndrange() in harness.c):
 *   rows_per_item x cols_per_item =
 *     USE_LOCAL=1 : WPTM x WPTN, local = (TSN/WPTN, TSM/WPTM)
 *     NT          : DM x DN
 *     TT          : (TNV*VW) x TM
 *     NN, TN      : TM x (TNV*VW)
 *   global[0] = roundup(ceil(N / cols_per_item), local[0])
 *   global[1] = roundup(ceil(M / rows_per_item), local[1])
 *   (for USE_LOCAL=1 additionally round M up to TSM and N up to TSN first,
 *    which the roundup to the local size already does).
 */

/* ---------------- compile-time parameters ---------------- */
#ifndef USE_LOCAL
#define USE_LOCAL 0
#endif
/* register-blocked path */
#ifndef VW          /* SIMD width of the vector type: 1, 2, 4, 8 or 16 */
#define VW 16
#endif
#ifndef TM          /* row form: rows per work-item (col form: columns)   */
#define TM 12
#endif
#ifndef TNV         /* row form: vectors of VW columns per work-item      */
#define TNV 2
#endif
#ifndef DM          /* dot form (NT): rows per work-item                  */
#define DM 5
#endif
#ifndef DN          /* dot form (NT): columns per work-item               */
#define DN 5
#endif
/* local-memory path */
#ifndef TSM         /* rows of C per work-group                           */
#define TSM 64
#endif
#ifndef TSN         /* columns of C per work-group                        */
#define TSN 64
#endif
#ifndef TSK         /* K-depth of one local-memory tile                   */
#define TSK 16
#endif
#ifndef WPTM        /* rows per work-item                                 */
#define WPTM 4
#endif
#ifndef WPTN        /* columns per work-item                              */
#define WPTN 4
#endif
#ifndef LVW         /* local tiles read as vectors of LVW floats (0, 1: scalars) */
#define LVW 1
#endif
#ifndef PF          /* 1: the next K-tile's global loads go to registers   */
#define PF 0        /* before the current tile's sums (a GPU's load latency */
#endif              /* hidden behind them), stored to local memory after    */
#ifndef GVW         /* a tile wholly inside an aligned matrix is read from */
#define GVW 1       /* global memory in vectors of GVW floats (0, 1: scalars) */
#endif
#ifndef KU          /* 1: the sums over a K-tile unrolled (#pragma unroll): */
#define KU 0        /* local addresses become constants, no loop counter;  */
#endif              /* about 20 more registers for 8x8 outputs (sm_90)      */
#ifndef DB          /* 1: two local tiles each, the next K-tile stored into */
#define DB 0        /* one while the other is summed (one barrier a tile   */
#endif              /* instead of two; with PF = 1 only)                    */
#if DB && !PF
#error "DB=1 needs PF=1: the second local tile is filled from the prefetch"
#endif
#define NBUF (DB ? 2 : 1)
#ifndef WL          /* 4 or 8: each 32 consecutive work-items (a warp) own */
#define WL 0        /* a block of 32/WL x WL work-items' outputs; 0: two  */
#endif              /* rows of TSN/WPTN (the work-group's own order)      */
#ifndef LPAD        /* padding of the local tiles' rows (bank conflicts;  */
#if LVW > 1         /* a multiple of LVW keeps the vector reads aligned)  */
#define LPAD LVW
#else
#define LPAD 1
#endif
#endif

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)

#if VW == 1
typedef float floatv;
#define VLOAD(ptr) (*(ptr))
#else
typedef CAT(float, VW) floatv;
#define VLOAD(ptr) CAT(vload, VW)(0, (ptr))
#endif

/* ---------------- epilogue ---------------- */
/* Activation written with ?: so it works for float and floatVW alike.
 * relu uses (x < 0 ? 0 : x) so that NaN stays NaN. */
#define ACTIVATE(T, x, act, act_param)                                                \
    ((act) == ACT_RELU ? ((x) < (T)0.0f ? (T)0.0f : (x))                              \
   : (act) == ACT_LEAKY_RELU ? ((x) < (T)0.0f ? (x) * (T)(act_param) : (x))           \
   : (act) == ACT_SIGMOID ? (T)1.0f / ((T)1.0f + exp(-(x)))                           \
   : (act) == ACT_TANH ? tanh(x)                                                      \
   : (x))

/* One element: v = act(alpha*acc + beta*C[idx] + bias[j]) -> C[idx] */
INLINE void store_one(__global float *C, const size_t idx, const float acc,
                      const float alpha, const float beta,
                      __global const float *bias, const int has_bias,
                      const int j, const int act, const float act_param)
{
    float v = alpha * acc;
    if (beta != 0.0f)
        v = fma(beta, C[idx], v);
    if (has_bias)
        v += bias[j];
    C[idx] = ACTIVATE(float, v, act, act_param);
}

#if !USE_LOCAL
/* ================= register-blocked path (CPU) ================= */

/* VW consecutive elements of one row (columns j..j+VW-1, all in bounds). */
INLINE void store_vec(__global float *C, const size_t idx, const floatv acc,
                      const float alpha, const float beta,
                      __global const float *bias, const int has_bias,
                      const int j, const int act, const float act_param)
{
    floatv v = alpha * acc;
    if (beta != 0.0f)
        v = fma((floatv)beta, VLOAD(C + idx), v);
    if (has_bias)
        v += VLOAD(bias + j);
    v = ACTIVATE(floatv, v, act, act_param);
#if VW == 1
    C[idx] = v;
#else
    CAT(vstore, VW)(v, 0, C + idx);
#endif
}

#if VW == 1
#define VSTORE_PRIV(v, p) (*(p) = (v))
#else
#define VSTORE_PRIV(v, p) CAT(vstore, VW)((v), 0, (p))
#endif

/* Sum of the VW lanes of a vector. */
INLINE float hsum(floatv v)
{
#if VW == 16
    return hsum16(v);
#elif VW == 8
    float4 b = v.lo + v.hi; float2 c = b.lo + b.hi; return c.x + c.y;
#elif VW == 4
    float2 c = v.lo + v.hi; return c.x + c.y;
#elif VW == 2
    return v.x + v.y;
#else
    return v;
#endif
}

/* Load VW consecutive elements p[0..VW-1] where only the first `valid`
 * (>= 1) are inside the matrix: out-of-range lanes re-read the last valid
 * element (their results are computed but never stored). */
INLINE floatv load_clamped(__global const float *p, const int valid)
{
    float t[VW];
    for (int l = 0; l < VW; ++l)
        t[l] = p[min(l, valid - 1)];
#if VW == 1
    return t[0];
#else
    return CAT(vload, VW)(0, t);
#endif
}


/* Row form (transb = N, or B packed).  Work-item block: rows i0..i0+TM-1,
 * columns j0..j0+TNV*VW-1.  For every p:
 *   b[v]      = B[p][j0 + v*VW .. +VW-1]          (TNV vector loads)
 *   acc[r][v] += op(A)[i0+r][p] * b[v]             (TM*TNV vector FMAs)
 * TM*TNV accumulators + TNV B vectors must fit the vector registers.
 * brow points at op(B)[0][j0] and steps by bstep per p: ldb in B itself, or
 * TNV*VW in a packed panel (gemm_pack_b, _bt), whose columns past N are zeros, so
 * a packed block never needs the clamped right-edge loop (edge = false). */
ALWAYS_INLINE void gemm_row(const int transa, const bool a_packed, const int M, const int N, const int K,
                            const float alpha, const float beta,
                            __global const float *A, const int lda,
                            __global const float *brow, const int bstep, const bool edge,
                            __global float *C, const int ldc,
                            __global const float *bias, const int has_bias,
                            const int act, const float act_param,
                            const int i0, const int j0)
{
    /* Step in A when i grows by one, and when p grows by one. A packed
     * panel (gemm_pack_a) is the block's rows transposed, TM floats per p,
     * zeros past M. */
    const size_t a_si = transa || a_packed ? 1 : (size_t)lda;
    const size_t a_sp = a_packed ? TM : transa ? (size_t)lda : 1;

    /* Bottom-edge rows are clamped to M-1: always in bounds, not stored. */
    __global const float *arow[TM];
#pragma unroll
    for (int r = 0; r < TM; ++r)
        arow[r] = A + (size_t)(a_packed ? r : min(i0 + r, M - 1)) * a_si;

    floatv acc[TM][TNV];
#pragma unroll
    for (int r = 0; r < TM; ++r)
#pragma unroll
        for (int v = 0; v < TNV; ++v)
            acc[r][v] = (floatv)0.0f;

    const int cols = min(TNV * VW, N - j0);
    if (!edge) {
        /* interior block: plain vector loads */
        for (int p = 0; p < K; ++p) {
            floatv b[TNV];
#pragma unroll
            for (int v = 0; v < TNV; ++v)
                b[v] = VLOAD(brow + v * VW);
#pragma unroll
            for (int r = 0; r < TM; ++r) {
                const floatv a = (floatv)arow[r][p * a_sp];
#pragma unroll
                for (int v = 0; v < TNV; ++v)
                    acc[r][v] = fma(a, b[v], acc[r][v]);
            }
            brow += bstep;
        }
    } else {
        /* right-edge block: clamped loads */
        for (int p = 0; p < K; ++p) {
            floatv b[TNV];
#pragma unroll
            for (int v = 0; v < TNV; ++v)
                b[v] = load_clamped(brow + min(v * VW, cols - 1),
                                    max(cols - v * VW, 1));
#pragma unroll
            for (int r = 0; r < TM; ++r) {
                const floatv a = (floatv)arow[r][p * a_sp];
#pragma unroll
                for (int v = 0; v < TNV; ++v)
                    acc[r][v] = fma(a, b[v], acc[r][v]);
            }
            brow += bstep;
        }
    }

    /* Epilogue.  The accumulators are parked in a private array and the
     * store loop is NOT unrolled: the activation expands exp()/tanh()
     * inline, and one copy instead of TM*TNV of them cuts PoCL's first-call
     * JIT time several-fold.  Cost: one pass over TM*TNV*VW floats. */
    float res[TM][TNV * VW];
#pragma unroll
    for (int r = 0; r < TM; ++r)
#pragma unroll
        for (int v = 0; v < TNV; ++v)
            VSTORE_PRIV(acc[r][v], &res[r][v * VW]);

    const int rows = min(TM, M - i0);
#pragma unroll 1
    for (int r = 0; r < rows; ++r) {
        const size_t crow = (size_t)(i0 + r) * ldc + j0;
        int c = 0;
#pragma unroll 1
        for (; c + VW <= cols; c += VW)
            store_vec(C, crow + c, VLOAD(&res[r][c]), alpha, beta, bias,
                      has_bias, j0 + c, act, act_param);
#pragma unroll 1
        for (; c < cols; ++c)
            store_one(C, crow + c, res[r][c], alpha, beta, bias, has_bias,
                      j0 + c, act, act_param);
    }
}

/* Col form (transa = T, transb = T), the transpose of the row form.
 * Work-item block: rows i0..i0+TNV*VW-1, columns j0..j0+TM-1.  For every p:
 *   a[v]      = A[p][i0 + v*VW .. +VW-1]  (row p of the stored K x M A)
 *   acc[c][v] += op(B)[p][j0+c] * a[v]     (op(B)[p][j] = B[j*ldb + p]) */
INLINE void gemm_col(const int M, const int N, const int K,
                     const float alpha, const float beta,
                     __global const float *A, const int lda,
                     __global const float *B, const int ldb,
                     __global float *C, const int ldc,
                     __global const float *bias, const int has_bias,
                     const int act, const float act_param)
{
    const int j0 = (int)get_global_id(0) * TM;
    const int i0 = (int)get_global_id(1) * (TNV * VW);
    if (i0 >= M || j0 >= N)
        return;

    __global const float *bcol[TM];
#pragma unroll
    for (int c = 0; c < TM; ++c)
        bcol[c] = B + (size_t)min(j0 + c, N - 1) * ldb;

    floatv acc[TM][TNV];
#pragma unroll
    for (int c = 0; c < TM; ++c)
#pragma unroll
        for (int v = 0; v < TNV; ++v)
            acc[c][v] = (floatv)0.0f;

    __global const float *arow = A + i0;
    const int rows = min(TNV * VW, M - i0);
    if (rows == TNV * VW) {
        for (int p = 0; p < K; ++p) {
            floatv a[TNV];
#pragma unroll
            for (int v = 0; v < TNV; ++v)
                a[v] = VLOAD(arow + v * VW);
#pragma unroll
            for (int c = 0; c < TM; ++c) {
                const floatv b = (floatv)bcol[c][p];
#pragma unroll
                for (int v = 0; v < TNV; ++v)
                    acc[c][v] = fma(b, a[v], acc[c][v]);
            }
            arow += lda;
        }
    } else {
        for (int p = 0; p < K; ++p) {
            floatv a[TNV];
#pragma unroll
            for (int v = 0; v < TNV; ++v)
                a[v] = load_clamped(arow + min(v * VW, rows - 1),
                                    max(rows - v * VW, 1));
#pragma unroll
            for (int c = 0; c < TM; ++c) {
                const floatv b = (floatv)bcol[c][p];
#pragma unroll
                for (int v = 0; v < TNV; ++v)
                    acc[c][v] = fma(b, a[v], acc[c][v]);
            }
            arow += lda;
        }
    }

    /* Epilogue (not unrolled, see gemm_row).  Lanes run down a column of
     * C, so the stores are scalar. */
    float res[TM][TNV * VW];
#pragma unroll
    for (int c = 0; c < TM; ++c)
#pragma unroll
        for (int v = 0; v < TNV; ++v)
            VSTORE_PRIV(acc[c][v], &res[c][v * VW]);

    const int cols = min(TM, N - j0);
#pragma unroll 1
    for (int l = 0; l < rows; ++l) {
        const size_t crow = (size_t)(i0 + l) * ldc + j0;
#pragma unroll 1
        for (int c = 0; c < cols; ++c)
            store_one(C, crow + c, res[c][l], alpha, beta, bias, has_bias,
                      j0 + c, act, act_param);
    }
}

/* Dot form (transa = N, transb = T): op(A) rows and op(B) columns are both
 * contiguous along K, so vectorise along K:
 *   acc[r][c] += A[i0+r][p .. p+VW-1] * B[j0+c][p .. p+VW-1]
 *   C[i0+r][j0+c] = sum of the VW lanes of acc[r][c] (+ scalar K tail).
 * Per VW-step of K: DM + DN vector loads, DM*DN vector FMAs. */
INLINE void gemm_dot(const int M, const int N, const int K,
                     const float alpha, const float beta,
                     __global const float *A, const int lda,
                     __global const float *B, const int ldb,
                     __global float *C, const int ldc,
                     __global const float *bias, const int has_bias,
                     const int act, const float act_param)
{
    const int j0 = (int)get_global_id(0) * DN;
    const int i0 = (int)get_global_id(1) * DM;
    if (i0 >= M || j0 >= N)
        return;

    __global const float *arow[DM];
    __global const float *bcol[DN];
#pragma unroll
    for (int r = 0; r < DM; ++r)
        arow[r] = A + (size_t)min(i0 + r, M - 1) * lda;
#pragma unroll
    for (int c = 0; c < DN; ++c)
        bcol[c] = B + (size_t)min(j0 + c, N - 1) * ldb;

    floatv acc[DM][DN];
#pragma unroll
    for (int r = 0; r < DM; ++r)
#pragma unroll
        for (int c = 0; c < DN; ++c)
            acc[r][c] = (floatv)0.0f;

    const int Kv = K - K % VW;
    for (int p = 0; p < Kv; p += VW) {
        floatv a[DM], b[DN];
#pragma unroll
        for (int r = 0; r < DM; ++r)
            a[r] = VLOAD(arow[r] + p);
#pragma unroll
        for (int c = 0; c < DN; ++c)
            b[c] = VLOAD(bcol[c] + p);
#pragma unroll
        for (int r = 0; r < DM; ++r)
#pragma unroll
            for (int c = 0; c < DN; ++c)
                acc[r][c] = fma(a[r], b[c], acc[r][c]);
    }

    /* horizontal sums, plus the K % VW tail in scalar code */
    float res[DM][DN];
#pragma unroll
    for (int r = 0; r < DM; ++r)
#pragma unroll
        for (int c = 0; c < DN; ++c)
            res[r][c] = hsum(acc[r][c]);
    if (Kv < K) {
#pragma unroll
        for (int r = 0; r < DM; ++r)
#pragma unroll
            for (int c = 0; c < DN; ++c)
                for (int p = Kv; p < K; ++p)
                    res[r][c] = fma(arow[r][p], bcol[c][p], res[r][c]);
    }

    /* Epilogue (not unrolled, see gemm_row). */
    const int rows = min(DM, M - i0);
    const int cols = min(DN, N - j0);
#pragma unroll 1
    for (int r = 0; r < rows; ++r)
#pragma unroll 1
        for (int c = 0; c < cols; ++c)
            store_one(C, (size_t)(i0 + r) * ldc + j0 + c, res[r][c], alpha,
                      beta, bias, has_bias, j0 + c, act, act_param);
}

#define GEMM_DISPATCH(TA, TB)                                                  \
    if (!(TA) && (TB))                                                         \
        gemm_dot(M, N, K, alpha, beta, A, lda, B, ldb, C, ldc, bias,           \
                 has_bias, act, act_param);                                    \
    else if ((TA) && (TB))                                                     \
        gemm_col(M, N, K, alpha, beta, A, lda, B, ldb, C, ldc, bias,           \
                 has_bias, act, act_param);                                    \
    else {                                                                     \
        /* the row form reading B itself (transb = N) */                       \
        const int j0 = (int)get_global_id(0) * (TNV * VW);                     \
        const int i0 = (int)get_global_id(1) * TM;                             \
        if (i0 < M && j0 < N)          /* else a padding work-item */          \
            gemm_row(TA, false, M, N, K, alpha, beta, A, lda, B + j0, ldb,     \
                     N - j0 < TNV * VW, C, ldc, bias, has_bias, act,           \
                     act_param, i0, j0);                                       \
    }

#else /* USE_LOCAL */
/* ================= local-memory tiled path (GPU) ================= */

#define RTSM (TSM / WPTM)        /* work-items along rows    = local size 1 */
#define RTSN (TSN / WPTN)        /* work-items along columns = local size 0 */
#define NTHREADS (RTSM * RTSN)
#define LDA_SUB (TSM + LPAD)     /* row stride of Asub[TSK][TSM] */
#define LDB_SUB (TSN + LPAD)     /* row stride of Bsub[TSK][TSN] */
/* A run of LVW floats of a local tile, read as one vector. Through a vector
 * pointer, not vloadn: vloadn promises only a float's alignment, so a
 * compiler that cannot prove more (clang's NVPTX back end, and by the H200's
 * timings NVIDIA's) splits it into LVW scalar reads, and LVW saved nothing.
 * The tiles are aligned to 16 bytes and every run starts at a multiple of
 * LVW floats (LDA_SUB and LDB_SUB are multiples of LPAD = LVW). */
#define LOCAL_ALIGN __attribute__((aligned(16)))
#define LOCAL_VEC(p) (*(__local const CAT(float, LVW) *)(p))
/* Where work-item tid (its linear local id) sits in the RTSM x RTSN grid of
 * work-items: row ty, column tx. In the work-group's own order (WL = 0) a
 * warp, 32 consecutive ids on NVIDIA's GPUs, is two rows of 16 (at
 * RTSN = 16); with WL it is a block of 32/WL rows by WL columns. At LVW = 4
 * and 8x8 outputs a warp's step of k reads 2 distinct float4 of A and 16 of
 * B in the first order (one 128-byte local-memory wavefront and two, for
 * each of the two vector reads of each): 6 wavefronts; as 4x8 (WL = 8) it
 * reads 4 and 8 (64 and 128 bytes, one wavefront each): 4 wavefronts for
 * the same 64 FMAs. Only the outputs' owners move: the tiles' loads number
 * the work-items by tid either way. */
#if WL
#if (WL != 4 && WL != 8) || RTSN % WL || RTSM % (32 / WL)
#error "WL: 4 or 8, dividing TSN/WPTN, with 32/WL dividing TSM/WPTM"
#endif
INLINE void grid_position(const int tid, int *tx, int *ty)
{
    const int warp = tid / 32, lane = tid % 32;
    *tx = (warp % (RTSN / WL)) * WL + lane % WL;
    *ty = (warp / (RTSN / WL)) * (32 / WL) + lane / WL;
}
#else
INLINE void grid_position(const int tid, int *tx, int *ty)
{
    *tx = tid % RTSN;
    *ty = tid / RTSN;
}
#endif

/* The row (column) of the tile that work-item t's r-th row (column) is. */
#if LVW > 1
#define LOCAL_OWN(t, r, R) (((t) + ((r) / LVW) * (R)) * LVW + (r) % LVW)
#else
#define LOCAL_OWN(t, r, R) ((t) + (r) * (R))
#endif

/* Element e of a K-tile, numbered so that consecutive e are consecutive in
 * memory (coalesced loads): op(A)[gi0+i][k0+k] and op(B)[k0+k][gj0+j], 0
 * outside the matrix, and where each goes in Asub[k][i] / Bsub[k][j]. */
INLINE void tile_a_ik(const int transa, const int e, int *i, int *k)
{
    if (transa) { *i = e % TSM; *k = e / TSM; }   /* A stored K x M */
    else        { *k = e % TSK; *i = e / TSK; }   /* A stored M x K */
}

INLINE void tile_b_kj(const int transb, const int e, int *k, int *j)
{
    if (transb) { *k = e % TSK; *j = e / TSK; }   /* B stored N x K */
    else        { *j = e % TSN; *k = e / TSN; }   /* B stored K x N */
}

INLINE float tile_a(const int transa, const int M, const int K, __global const float *A, const int lda,
                    const int gi0, const int k0, const int e)
{
    int i, k;
    tile_a_ik(transa, e, &i, &k);
    const int gi = gi0 + i, gk = k0 + k;
    if (e >= TSM * TSK || gi >= M || gk >= K)
        return 0.0f;
    return transa ? A[(size_t)gk * lda + gi] : A[(size_t)gi * lda + gk];
}

INLINE float tile_b(const int transb, const int N, const int K, __global const float *B, const int ldb,
                    const int gj0, const int k0, const int e)
{
    int k, j;
    tile_b_kj(transb, e, &k, &j);
    const int gj = gj0 + j, gk = k0 + k;
    if (e >= TSK * TSN || gj >= N || gk >= K)
        return 0.0f;
    return transb ? B[(size_t)gj * ldb + gk] : B[(size_t)gk * ldb + gj];
}

INLINE int slot_a(const int transa, const int e)
{
    int i, k;
    tile_a_ik(transa, e, &i, &k);
    return k * LDA_SUB + i;
}

INLINE int slot_b(const int transb, const int e)
{
    int k, j;
    tile_b_kj(transb, e, &k, &j);
    return k * LDB_SUB + j;
}

#if GVW > 1
#if GVW != 2 && GVW != 4
#error "GVW must be 1, 2 or 4"
#endif
#if TSK % GVW || TSM % GVW || TSN % GVW
#error "GVW: no run of GVW floats may cross a row of a tile"
#endif
#endif
/* Whether a matrix whose first element is `off` floats into its buffer, rows
 * `ld` apart, can be read in aligned vectors of GVW (a buffer's start is
 * aligned far more than 16 bytes: CL_DEVICE_MEM_BASE_ADDR_ALIGN); always,
 * for scalars. */
#define GLOBAL_VEC_OK(off, ld) (GVW <= 1 || ((off) % GVW == 0 && (ld) % GVW == 0))
/* A run of GVW consecutive elements e in the local tiles: along a row of
 * the tile (step 1) where memory runs along i (A^T) or j (B), else down K. */
#define RUN_STEP_A(transa) ((transa) ? 1 : LDA_SUB)
#define RUN_STEP_B(transb) ((transb) ? LDB_SUB : 1)

/* How a work-item loads a K-tile: in runs of GW consecutive elements,
 * e = tid*GW, tid*GW + NTHREADS*GW, ... (with GVW > 1 whole runs that never
 * cross a row of the tile: the #error above). A tile wholly inside its
 * matrix ("inner") loads each run from one address with no bounds tests:
 * with GVW > 1 as one vector (a GPU's load unit moves a float4 in one
 * instruction where scalars cost a load, the bounds' tests and the address
 * arithmetic per float), which needs the matrix GLOBAL_VEC_OK; an edge tile
 * loads each float bounds tested (0 outside). With PF only inner tiles are
 * loaded ahead into registers, edge tiles when they are stored: keeping
 * both kinds of addresses live for the prefetch cost 218 registers at
 * 128x128 tiles (tools/gemmlab/ptx.sh). */
#define GW (GVW > 1 ? GVW : 1)          /* floats per run */
#define RUNS_A ((TSM * TSK + NTHREADS * GW - 1) / (NTHREADS * GW))  /* runs per work-item */
#define RUNS_B ((TSK * TSN + NTHREADS * GW - 1) / (NTHREADS * GW))

INLINE bool inner_a(const int M, const int K, const bool vec, const int gi0, const int k0)
{
    return vec && gi0 + TSM <= M && k0 + TSK <= K;
}

INLINE bool inner_b(const int N, const int K, const bool vec, const int gj0, const int k0)
{
    return vec && gj0 + TSN <= N && k0 + TSK <= K;
}

/* The run at element e of an inner tile into r[0..GW-1]. */
INLINE void run_a(const int transa, __global const float *A, const int lda, const int gi0, const int k0,
                  const int e, float *r)
{
    int i, k;
    tile_a_ik(transa, e, &i, &k);
    const size_t at = transa ? (size_t)(k0 + k) * lda + gi0 + i : (size_t)(gi0 + i) * lda + k0 + k;
#if GVW > 1
    CAT(vstore, GVW)(*(__global const CAT(float, GVW) *)(A + at), 0, r);
#else
    r[0] = A[at];
#endif
}

INLINE void run_b(const int transb, __global const float *B, const int ldb, const int gj0, const int k0,
                  const int e, float *r)
{
    int k, j;
    tile_b_kj(transb, e, &k, &j);
    const size_t at = transb ? (size_t)(gj0 + j) * ldb + k0 + k : (size_t)(k0 + k) * ldb + gj0 + j;
#if GVW > 1
    CAT(vstore, GVW)(*(__global const CAT(float, GVW) *)(B + at), 0, r);
#else
    r[0] = B[at];
#endif
}

/* A run into the local tiles: its GW elements are RUN_STEP apart there. */
INLINE void put_a(const int transa, const int e, const float *r, __local float *Asub)
{
    const int s0 = slot_a(transa, e);
#pragma unroll
    for (int c = 0; c < GW; ++c)
        Asub[s0 + c * RUN_STEP_A(transa)] = r[c];
}

INLINE void put_b(const int transb, const int e, const float *r, __local float *Bsub)
{
    const int s0 = slot_b(transb, e);
#pragma unroll
    for (int c = 0; c < GW; ++c)
        Bsub[s0 + c * RUN_STEP_B(transb)] = r[c];
}

/* The K-tile at k0 straight into the local tiles, each run stored before
 * the next is loaded (holding a whole share in registers first took the
 * H200's set from 108 registers to 155: half the work-groups per compute
 * unit). */
INLINE void copy_a(const int transa, const int M, const int K, __global const float *A, const int lda,
                   const bool vec, const int gi0, const int k0, const int tid, __local float *Asub)
{
    const bool inner = inner_a(M, K, vec, gi0, k0);
    for (int e = tid * GW; e < TSM * TSK; e += NTHREADS * GW) {
        float r[GW];
        if (inner)
            run_a(transa, A, lda, gi0, k0, e, r);
        else
#pragma unroll
            for (int c = 0; c < GW; ++c)
                r[c] = tile_a(transa, M, K, A, lda, gi0, k0, e + c);
        put_a(transa, e, r, Asub);
    }
}

INLINE void copy_b(const int transb, const int N, const int K, __global const float *B, const int ldb,
                   const bool vec, const int gj0, const int k0, const int tid, __local float *Bsub)
{
    const bool inner = inner_b(N, K, vec, gj0, k0);
    for (int e = tid * GW; e < TSK * TSN; e += NTHREADS * GW) {
        float r[GW];
        if (inner)
            run_b(transb, B, ldb, gj0, k0, e, r);
        else
#pragma unroll
            for (int c = 0; c < GW; ++c)
                r[c] = tile_b(transb, N, K, B, ldb, gj0, k0, e + c);
        put_b(transb, e, r, Bsub);
    }
}

#if PF || DB
/* This work-item's runs of the inner K-tile at k0 into r (run l at
 * r[l*GW]); store_a / store_b put them in the local tiles. */
INLINE void prefetch_a(const int transa, __global const float *A, const int lda, const int gi0, const int k0,
                       const int tid, float *r)
{
#pragma unroll
    for (int l = 0; l < RUNS_A; ++l) {
        const int e = (tid + l * NTHREADS) * GW;
        if (e < TSM * TSK)
            run_a(transa, A, lda, gi0, k0, e, r + l * GW);
    }
}

INLINE void prefetch_b(const int transb, __global const float *B, const int ldb, const int gj0, const int k0,
                       const int tid, float *r)
{
#pragma unroll
    for (int l = 0; l < RUNS_B; ++l) {
        const int e = (tid + l * NTHREADS) * GW;
        if (e < TSK * TSN)
            run_b(transb, B, ldb, gj0, k0, e, r + l * GW);
    }
}

INLINE void store_a(const int transa, const float *r, const int tid, __local float *Asub)
{
#pragma unroll
    for (int l = 0; l < RUNS_A; ++l) {
        const int e = (tid + l * NTHREADS) * GW;
        if (e < TSM * TSK)
            put_a(transa, e, r + l * GW, Asub);
    }
}

INLINE void store_b(const int transb, const float *r, const int tid, __local float *Bsub)
{
#pragma unroll
    for (int l = 0; l < RUNS_B; ++l) {
        const int e = (tid + l * NTHREADS) * GW;
        if (e < TSK * TSN)
            put_b(transb, e, r + l * GW, Bsub);
    }
}

/* Where the K-tile at k0 is inner (*pa, *pb), this work-item's share of it
 * into ra, rb. */
ALWAYS_INLINE void prefetch_tiles(const int transa, const int transb, const int M, const int N, const int K,
                                  __global const float *A, const int lda, const bool a_vec,
                                  __global const float *B, const int ldb, const bool b_vec, const int gi0,
                                  const int gj0, const int k0, const int tid, bool *pa, bool *pb, float *ra,
                                  float *rb)
{
    *pa = inner_a(M, K, a_vec, gi0, k0);
    *pb = inner_b(N, K, b_vec, gj0, k0);
    if (*pa)
        prefetch_a(transa, A, lda, gi0, k0, tid, ra);
    if (*pb)
        prefetch_b(transb, B, ldb, gj0, k0, tid, rb);
}

/* The K-tile at k0 into the local tiles: from ra, rb where it was
 * prefetched (pa, pb), else loaded now. */
ALWAYS_INLINE void fill_tiles(const int transa, const int transb, const int M, const int N, const int K,
                              __global const float *A, const int lda, const bool a_vec, __global const float *B,
                              const int ldb, const bool b_vec, const int gi0, const int gj0, const int k0,
                              const int tid, const bool pa, const bool pb, const float *ra, const float *rb,
                              __local float *Asub, __local float *Bsub)
{
    if (pa)
        store_a(transa, ra, tid, Asub);
    else
        copy_a(transa, M, K, A, lda, a_vec, gi0, k0, tid, Asub);
    if (pb)
        store_b(transb, rb, tid, Bsub);
    else
        copy_b(transb, N, K, B, ldb, b_vec, gj0, k0, tid, Bsub);
}
#endif

/* One K-tile's sums: acc[r][c] += sum_k Asub[k][own(ty,r)] * Bsub[k][own(tx,c)]. */
ALWAYS_INLINE void tile_sums(__local const float *Asub, __local const float *Bsub, const int tx, const int ty,
                             float acc[WPTM][WPTN])
{
#if KU
#pragma unroll
#endif
    for (int k = 0; k < TSK; ++k) {
        float a[WPTM], b[WPTN];
#if LVW > 1
#pragma unroll
        for (int r = 0; r < WPTM / LVW; ++r)
            CAT(vstore, LVW)(LOCAL_VEC(Asub + k * LDA_SUB + (ty + r * RTSM) * LVW), 0, a + r * LVW);
#pragma unroll
        for (int c = 0; c < WPTN / LVW; ++c)
            CAT(vstore, LVW)(LOCAL_VEC(Bsub + k * LDB_SUB + (tx + c * RTSN) * LVW), 0, b + c * LVW);
#else
#pragma unroll
        for (int r = 0; r < WPTM; ++r)
            a[r] = Asub[k * LDA_SUB + ty + r * RTSM];
#pragma unroll
        for (int c = 0; c < WPTN; ++c)
            b[c] = Bsub[k * LDB_SUB + tx + c * RTSN];
#endif
#pragma unroll
        for (int r = 0; r < WPTM; ++r)
#pragma unroll
            for (int c = 0; c < WPTN; ++c)
                acc[r][c] = fma(a[r], b[c], acc[r][c]);
    }
}

/* Work-group tile: rows gi0..gi0+TSM-1, cols gj0..gj0+TSN-1.
 * For every K-tile k0:
 *   Asub[k][i] = op(A)[gi0+i][k0+k]   (0 outside the matrix)
 *   Bsub[k][j] = op(B)[k0+k][gj0+j]   (0 outside the matrix)
 *   barrier; acc[r][c] += sum_k Asub[k][own(ty,r)] * Bsub[k][own(tx,c)]; barrier
 * (own = LOCAL_OWN: ty + r*RTSM, or its runs of LVW). With PF the loads of
 * tile k0 + TSK, where it lies inside the matrix, are issued into registers
 * after the first barrier, before tile k0's sums, and stored to Asub/Bsub at
 * the next iteration's start (an edge tile is loaded there). */
ALWAYS_INLINE void gemm_local(const int transa, const int transb,
                       const int M, const int N, const int K,
                       const float alpha, const float beta,
                       __global const float *A, const int lda, const bool a_vec,
                       __global const float *B, const int ldb, const bool b_vec,
                       __global float *C, const int ldc,
                       __global const float *bias, const int has_bias,
                       const int act, const float act_param,
                       __local float *Asub, __local float *Bsub)
{
    const int tid = (int)get_local_id(1) * RTSN + (int)get_local_id(0);
    int tx, ty;
    grid_position(tid, &tx, &ty);
    const int gj0 = (int)get_group_id(0) * TSN;
    const int gi0 = (int)get_group_id(1) * TSM;

    float acc[WPTM][WPTN];
#pragma unroll
    for (int r = 0; r < WPTM; ++r)
#pragma unroll
        for (int c = 0; c < WPTN; ++c)
            acc[r][c] = 0.0f;

#if DB
    /* Two local tiles each: tile k0 is summed from one while tile k0 + TSK
     * (prefetched into registers before the sums where it is inner, else
     * loaded after them) is stored into the other, which every work-item
     * finished reading before the previous barrier: one barrier a K-tile. */
    float ra[RUNS_A * GW], rb[RUNS_B * GW];
    fill_tiles(transa, transb, M, N, K, A, lda, a_vec, B, ldb, b_vec, gi0, gj0, 0, tid, false, false, ra, rb,
               Asub, Bsub);
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int k0 = 0, cur = 0; k0 < K; k0 += TSK, cur ^= 1) {
        const int next = k0 + TSK;
        /* (next < K adds nothing to inner_a's test, but lets the compiler
         * see that nothing is loaded after the last tile: without it this
         * loop took 141 registers for sm_90, not 127) */
        bool pa = false, pb = false;
        if (next < K)
            prefetch_tiles(transa, transb, M, N, K, A, lda, a_vec, B, ldb, b_vec, gi0, gj0, next, tid, &pa, &pb,
                           ra, rb);
        tile_sums(Asub + cur * TSK * LDA_SUB, Bsub + cur * TSK * LDB_SUB, tx, ty, acc);
        if (next < K)
            fill_tiles(transa, transb, M, N, K, A, lda, a_vec, B, ldb, b_vec, gi0, gj0, next, tid, pa, pb, ra, rb,
                       Asub + (cur ^ 1) * TSK * LDA_SUB, Bsub + (cur ^ 1) * TSK * LDB_SUB);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
#else
#if PF
    /* this work-item's share of the next K-tile, held in registers while
     * the current one is summed, where that tile is inner */
    float ra[RUNS_A * GW], rb[RUNS_B * GW];
    bool pa, pb;
    prefetch_tiles(transa, transb, M, N, K, A, lda, a_vec, B, ldb, b_vec, gi0, gj0, 0, tid, &pa, &pb, ra, rb);
#endif
    for (int k0 = 0; k0 < K; k0 += TSK) {
#if PF
        fill_tiles(transa, transb, M, N, K, A, lda, a_vec, B, ldb, b_vec, gi0, gj0, k0, tid, pa, pb, ra, rb, Asub,
                   Bsub);
        barrier(CLK_LOCAL_MEM_FENCE);
        prefetch_tiles(transa, transb, M, N, K, A, lda, a_vec, B, ldb, b_vec, gi0, gj0, k0 + TSK, tid, &pa, &pb, ra,
                       rb);
#else
        copy_a(transa, M, K, A, lda, a_vec, gi0, k0, tid, Asub);
        copy_b(transb, N, K, B, ldb, b_vec, gj0, k0, tid, Bsub);
        barrier(CLK_LOCAL_MEM_FENCE);
#endif

        tile_sums(Asub, Bsub, tx, ty, acc);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
#endif

#pragma unroll
    for (int r = 0; r < WPTM; ++r) {
        const int i = gi0 + LOCAL_OWN(ty, r, RTSM);
#pragma unroll
        for (int c = 0; c < WPTN; ++c) {
            const int j = gj0 + LOCAL_OWN(tx, c, RTSN);
            if (i < M && j < N)
                store_one(C, (size_t)i * ldc + j, acc[r][c], alpha, beta,
                          bias, has_bias, j, act, act_param);
        }
    }
}

#define GEMM_DISPATCH(TA, TB)                                                  \
    __local float Asub[NBUF * TSK * LDA_SUB] LOCAL_ALIGN;                      \
    __local float Bsub[NBUF * TSK * LDB_SUB] LOCAL_ALIGN;                      \
    gemm_local(TA, TB, M, N, K, alpha, beta, A, lda, GLOBAL_VEC_OK(offA, lda), \
               B, ldb, GLOBAL_VEC_OK(offB, ldb), C, ldc, bias, has_bias, act,   \
               act_param, Asub, Bsub);

#endif /* USE_LOCAL */

/* ---------------- entry points ---------------- */
#if USE_LOCAL
#define KERNEL_ATTR __attribute__((reqd_work_group_size(RTSN, RTSM, 1)))
#else
#define KERNEL_ATTR
#endif

#define GEMM_KERNEL(NAME, TA, TB)                                              \
__kernel KERNEL_ATTR void NAME(const int M, const int N, const int K,                      \
                   const float alpha, const float beta,                        \
                   __global const float *A, const ulong offA, const int lda,   \
                   __global const float *B, const ulong offB, const int ldb,   \
                   __global float *C, const ulong offC, const int ldc,         \
                   __global const float *bias, const ulong offBias,            \
                   const int has_bias, const int act, const float act_param)   \
{                                                                              \
    A += offA;                                                                 \
    B += offB;                                                                 \
    C += offC;                                                                 \
    if (has_bias)                                                              \
        bias += offBias;                                                       \
    GEMM_DISPATCH(TA, TB)                                                      \
}

/* C = act(alpha * A   * B   + beta*C + bias) */
GEMM_KERNEL(gemm_nn, 0, 0)
/* C = act(alpha * A   * B^T + beta*C + bias) */
GEMM_KERNEL(gemm_nt, 0, 1)
/* C = act(alpha * A^T * B   + beta*C + bias) */
GEMM_KERNEL(gemm_tn, 1, 0)
/* C = act(alpha * A^T * B^T + beta*C + bias) */
GEMM_KERNEL(gemm_tt, 1, 1)

#if USE_LOCAL
/* ---------------- split K (local-memory path) ----------------
 * A product with few tiles of C (a mini-batch's forward pass: 128 x 256 is
 * 8 tiles of 64 x 64, on a GPU of 132 compute units) leaves most of the
 * device idle while each work-group walks a long K. gemm_split_* cut K into
 * slices of kc (a multiple of TSK), slice z = get_group_id(2) covering
 *   k in [z*kc, min(K, (z+1)*kc)),
 * and write the plain partial product of their slice,
 *   P[z][i][j] = sum_{k in slice z} op(A)[i][k] op(B)[k][j]   (P is M x N, ldp = N),
 * which gemm_split_sum adds up in slice order and finishes with the epilogue:
 *   C[i][j] = act(alpha * sum_z P[z][i][j] + beta*C[i][j] + bias[j]).
 * Same arguments as the plain entry points, then kc and P. The slice's
 * offset into A and B: k columns of a stored row (A: transa = N; B: transb
 * = T) or k rows of lda / ldb floats. */
#define GEMM_SPLIT_KERNEL(NAME, TA, TB)                                                          \
__kernel KERNEL_ATTR void NAME(const int M, const int N, const int K,                            \
                               __global const float *A, const ulong offA, const int lda,         \
                               __global const float *B, const ulong offB, const int ldb,         \
                               const int kc, __global float *P)                                  \
{                                                                                                \
    const int z = (int)get_group_id(2);                                                          \
    const int k0 = z * kc;                                                                       \
    const ulong a_at = offA + (TA ? (size_t)k0 * lda : (size_t)k0);                              \
    const ulong b_at = offB + (TB ? (size_t)k0 : (size_t)k0 * ldb);                              \
    A += a_at;                                                                                   \
    B += b_at;                                                                                   \
    __global float *Pz = P + (size_t)z * M * N;                                                  \
    __local float Asub[NBUF * TSK * LDA_SUB] LOCAL_ALIGN;                                        \
    __local float Bsub[NBUF * TSK * LDB_SUB] LOCAL_ALIGN;                                        \
    gemm_local(TA, TB, M, N, min(kc, K - k0), 1.0f, 0.0f, A, lda, GLOBAL_VEC_OK(a_at, lda), B, ldb, \
               GLOBAL_VEC_OK(b_at, ldb), Pz, N, Pz, 0, ACT_IDENTITY, 0.0f, Asub, Bsub);           \
}

GEMM_SPLIT_KERNEL(gemm_split_nn, 0, 0)
GEMM_SPLIT_KERNEL(gemm_split_nt, 0, 1)
GEMM_SPLIT_KERNEL(gemm_split_tn, 1, 0)
GEMM_SPLIT_KERNEL(gemm_split_tt, 1, 1)

/* Work-item (j, i): C[i][j] from the slices' partial products (above). */
__kernel void gemm_split_sum(const int M, const int N, const int slices, __global const float *P,
                             const float alpha, const float beta, __global float *C, const ulong offC,
                             const int ldc, __global const float *bias, const ulong offBias,
                             const int has_bias, const int act, const float act_param)
{
    const int j = (int)get_global_id(0), i = (int)get_global_id(1);
    if (i >= M || j >= N)
        return;
    const size_t mn = (size_t)M * N, at = (size_t)i * N + j;
    float s = 0.0f;
    for (int z = 0; z < slices; ++z)
        s += P[z * mn + at];
    store_one(C + offC, (size_t)i * ldc + j, s, alpha, beta, has_bias ? bias + offBias : bias, has_bias, j,
              act, act_param);
}
#endif /* USE_LOCAL */

#if !USE_LOCAL
/* ---------------- packed panels (register-blocked path) ----------------
 * In the row form every k step loads TNV*VW floats from a new row of B, ldb
 * floats from the last, and TM floats of A^T from a new row of A when A is
 * transposed: at a leading dimension of 1024 all of those rows fall in the
 * same L1 set, and the strips a work-group shares thrash the caches. The
 * dot form, for NT, spends its time in horizontal sums when K is short.
 * For products big enough to pay for one more pass over the inputs,
 * gemm_pack_b (gemm_pack_bt when B is transposed) first copies op(B)
 * into column panels, each contiguous along k,
 *   Bp[(jb*K + p)*NR + l] = op(B)[p][jb*NR + l]   (0 for jb*NR + l >= N),
 * NR = TNV*VW, gemm_pack_a (when A is transposed) op(A) into row panels,
 *   Ap[(ib*K + p)*TM + r] = op(A)[ib*TM + r][p]   (0 for ib*TM + r >= M),
 * and gemm_packed_{n,p} run the row form on them: sequential streams,
 * whatever the transposes were, and no right-edge loop. Which products
 * are packed: nncl_gemm_packing (src/ops/gemm.c), and for NT the
 * parameter PK (host-side only, like LX and LY), which the tuner sets. */
#define NR (TNV * VW)

/* B stored K x N (transb = N). Work-item (p, jb): row p of panel jb. */
__kernel void gemm_pack_b(const int K, const int N, __global const float *B, const ulong offB,
                          const int ldb, __global float *Bp)
{
    const int p = (int)get_global_id(0), jb = (int)get_global_id(1);
    const int j0 = jb * NR;
    if (p >= K || j0 >= N)
        return;
    B += offB;
    __global float *dst = Bp + ((size_t)jb * K + p) * NR;
    __global const float *src = B + (size_t)p * ldb + j0;
    if (j0 + NR <= N) {
#pragma unroll
        for (int v = 0; v < TNV; ++v) {
#if VW == 1
            dst[v] = src[v];
#else
            CAT(vstore, VW)(VLOAD(src + v * VW), 0, dst + v * VW);
#endif
        }
        return;
    }
    for (int l = 0; l < NR; ++l)
        dst[l] = j0 + l < N ? src[l] : 0.0f;
}

/* The same panels from B stored N x K (transb = T): work-item (q, jb)
 * fills rows p0 = q*PB .. p0+PB-1 of panel jb from PB consecutive floats
 * of each of the panel's NR rows of B, a tile transposed in private
 * memory, so that both the loads and the stores are whole vectors. An
 * element per load and store, as gemm_pack_b does, took about a third of
 * the 128x128x784 forward on the AVX2 EPYC; this ran it 8-23% faster. */
#define PB 8
__kernel void gemm_pack_bt(const int K, const int N, __global const float *B, const ulong offB,
                           const int ldb, __global float *Bp)
{
    const int p0 = (int)get_global_id(0) * PB, jb = (int)get_global_id(1);
    const int j0 = jb * NR;
    if (p0 >= K || j0 >= N)
        return;
    B += offB;
    float t[NR][PB];
    const int rows = min(PB, K - p0);
#pragma unroll
    for (int l = 0; l < NR; ++l) {
        /* rows past N read row N-1 (in bounds) and are zeroed below */
        __global const float *src = B + (size_t)min(j0 + l, N - 1) * ldb + p0;
        if (rows == PB) {
            vstore8(vload8(0, src), 0, t[l]);
        } else {
            for (int q = 0; q < PB; ++q)
                t[l][q] = q < rows ? src[q] : 0.0f;
        }
    }
    const int cols = min(NR, N - j0);
    for (int q = 0; q < rows; ++q) {
        float v[NR];
#pragma unroll
        for (int l = 0; l < NR; ++l)
            v[l] = l < cols ? t[l][q] : 0.0f;
        __global float *dst = Bp + ((size_t)jb * K + p0 + q) * NR;
#pragma unroll
        for (int c = 0; c < TNV; ++c) {
#if VW == 1
            dst[c] = v[c];
#else
            CAT(vstore, VW)(VLOAD(&v[c * VW]), 0, dst + c * VW);
#endif
        }
    }
}

/* Work-item (p, ib): row p of panel ib. */
__kernel void gemm_pack_a(const int K, const int M, __global const float *A, const ulong offA,
                          const int lda, const int transa, __global float *Ap, const ulong offAp)
{
    const int p = (int)get_global_id(0), ib = (int)get_global_id(1);
    const int i0 = ib * TM;
    if (p >= K || i0 >= M)
        return;
    A += offA;
    __global float *dst = Ap + offAp + ((size_t)ib * K + p) * TM;
#pragma unroll
    for (int r = 0; r < TM; ++r) {
        const int i = i0 + r;
        dst[r] = i >= M ? 0.0f : transa ? A[(size_t)p * lda + i] : A[(size_t)i * lda + p];
    }
}

/* C = act(alpha * op(A) * B + beta*C + bias), B packed by gemm_pack_b, and
 * A too when PACKED_A (the panels given as A and offA; lda unused).
 * Work-item (jb, ib): the TM x NR block of C at rows ib*TM, columns jb*NR. */
#define GEMM_PACKED_KERNEL(NAME, TA, PACKED_A)                                                        \
__kernel void NAME(const int M, const int N, const int K, const float alpha, const float beta,        \
                   __global const float *A, const ulong offA, const int lda,                          \
                   __global const float *Bp, __global float *C, const ulong offC, const int ldc,      \
                   __global const float *bias, const ulong offBias, const int has_bias,               \
                   const int act, const float act_param)                                              \
{                                                                                                     \
    const int ib = (int)get_global_id(1), jb = (int)get_global_id(0);                                 \
    const int i0 = ib * TM, j0 = jb * NR;                                                             \
    if (i0 >= M || j0 >= N)                                                                           \
        return;                                                                                       \
    gemm_row(TA, PACKED_A, M, N, K, alpha, beta,                                                      \
             A + offA + (PACKED_A ? (size_t)ib * K * TM : 0), lda, Bp + (size_t)jb * K * NR, NR, false,     \
             C + offC, ldc, has_bias ? bias + offBias : bias, has_bias, act, act_param, i0, j0);      \
}

/* C = act(alpha * A   * packed B + ...) */
GEMM_PACKED_KERNEL(gemm_packed_n, 0, false)
/* C = act(alpha * op(A) * packed B + ...), op(A) packed */
GEMM_PACKED_KERNEL(gemm_packed_p, 1, true)
#endif /* !USE_LOCAL */
