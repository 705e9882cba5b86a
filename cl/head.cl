/* head.cl: a narrow output layer with softmax cross-entropy, forward and
 * backward fused (the contract is nncl_head_xent_args in include/nncl/ops.h).
 * Host twin: nncl_host_head_xent in src/ops/head.c.
 *
 * One work-item walks a chunk of consecutive rows and keeps everything in
 * float16 vectors: the logits as one vector over the classes (lane c = class
 * c, lanes past `classes` padded), W both as columns (over classes, for the
 * logits and dW) and as rows (over inputs, for da). Each chunk writes its
 * sums (dW, db, the sum of da, loss, correct) to its own slice of part; head_xent_sum then
 * adds the chunks in order 0, 1, ... So the result does not depend on how
 * work-items are scheduled. */

#define HEAD_MAX 16
#define HEAD_ROWS 4     /* rows in flight per work-item (the float4 of logs) */

INLINE float head_hsum(const float16 v)
{
    const float8 h8 = v.lo + v.hi;
    const float4 h4 = h8.lo + h8.hi;
    const float2 h2 = h4.lo + h4.hi;
    return h2.x + h2.y;
}

/* Maximum ignoring NaN (fmax), -Inf for an all-NaN or all-padding vector. */
INLINE float head_hmax(const float16 v)
{
    const float8 h8 = fmax(v.lo, v.hi);
    const float4 h4 = fmax(h8.lo, h8.hi);
    const float2 h2 = fmax(h4.lo, h4.hi);
    return fmax(h2.x, h2.y);
}

INLINE int head_hmin(const int16 v)
{
    const int8 h8 = min(v.lo, v.hi);
    const int4 h4 = min(h8.lo, h8.hi);
    const int2 h2 = min(h4.lo, h4.hi);
    return min(h2.x, h2.y);
}

/* exp on all 16 lanes at once, without a call per lane: e^x = 2^n e^r with
 * n = round(x / ln 2), r = x - n ln 2 (ln 2 in two parts, so r is exact to
 * float precision) and e^r from Cephes' expf polynomial on |r| <= ln 2 / 2
 * (relative error about 1 ulp). Below -87.3 the result is 0 (no
 * subnormals; -Inf gives 0), above 88.7 it is +Inf, NaN stays NaN. */
INLINE float16 head_exp16(const float16 x)
{
    const float16 n = rint(clamp(x, -87.3f, 88.7f) * 1.44269504088896341f);
    const float16 r = fma(n, (float16)(-0.693359375f), fma(n, (float16)2.12194440e-4f, x));
    float16 p = (float16)1.9875691500e-4f;
    p = fma(p, r, (float16)1.3981999507e-3f);
    p = fma(p, r, (float16)8.3334519073e-3f);
    p = fma(p, r, (float16)4.1665795894e-2f);
    p = fma(p, r, (float16)1.6666665459e-1f);
    p = fma(p, r, (float16)5.0000001201e-1f);
    const float16 er = fma(p, r * r, r + 1.0f);
    /* 2^n as n + 127 in the exponent field; n is within [-126, 128] */
    const int16 ni = convert_int16(n);
    float16 y = er * as_float16((min(ni, 127) + 127) << 23);
    y = select(y, y * 2.0f, ni > 127);
    y = select(y, (float16)0.0f, x < -87.3f);
    y = select(y, (float16)INFINITY, x > 88.7f);
    return select(y, x, isnan(x));
}

/* act_derivative (activation.cl) on 16 lanes: f'(z) from y = f(z), NaN
 * for a NaN y. */
INLINE float16 head_dact16(const int act, const float a, const float16 y)
{
    const int16 nan = isnan(y);
    switch (act) {
    case ACT_RELU: return select(select((float16)0.0f, (float16)1.0f, y > 0.0f), y, nan);
    case ACT_LEAKY_RELU: return select(select((float16)a, (float16)1.0f, y > 0.0f), y, nan);
    case ACT_SIGMOID: return y * (1.0f - y);
    case ACT_TANH: return 1.0f - y * y;
    default: return select((float16)1.0f, y, nan);
    }
}

/* Partial sums of chunk k at part + k * (classes * in + classes + 2):
 * dW (classes x in, row-major), db (classes), da_sum (in), loss, correct. */
__kernel void head_xent(const int rows, const int in, const int classes,
                        __global const float *a, const ulong a_off,
                        __global const float *W, const ulong w_off,
                        __global const float *b, const ulong b_off,
                        __global const int *labels, const ulong l_off,
                        __global float *da, const ulong da_off, const int has_da,
                        __global float *part, const ulong p_off, const int chunk_rows,
                        const int act, const float act_param, const float grad_scale)
{
    const int chunk = (int)get_global_id(0);
    const int i_begin = chunk * chunk_rows, i_end = min(rows, i_begin + chunk_rows);
    if (i_begin >= rows)
        return;
    const int16 lane = (int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const int16 pad = lane >= (int16)classes;   /* lanes past the classes */

    float tmp[HEAD_MAX];
    float16 wcol[HEAD_MAX], wrow[HEAD_MAX];      /* W's columns j < in, rows c < classes */
    for (int j = 0; j < in; ++j) {
        for (int c = 0; c < HEAD_MAX; ++c)
            tmp[c] = c < classes ? W[w_off + (size_t)c * in + j] : 0.0f;
        wcol[j] = vload16(0, tmp);
    }
    for (int c = 0; c < classes; ++c) {
        for (int j = 0; j < HEAD_MAX; ++j)
            tmp[j] = j < in ? W[w_off + (size_t)c * in + j] : 0.0f;
        wrow[c] = vload16(0, tmp);
    }
    for (int c = 0; c < HEAD_MAX; ++c)
        tmp[c] = c < classes ? b[b_off + c] : 0.0f;
    const float16 bias = vload16(0, tmp);

    float16 dwcol[HEAD_MAX];                    /* dW's columns, over classes */
    for (int j = 0; j < in; ++j)
        dwcol[j] = (float16)0.0f;
    float16 db = (float16)0.0f, da_sum = (float16)0.0f;
    float loss_sum = 0.0f, correct_sum = 0.0f;

    /* HEAD_ROWS rows at a time: one row is a long chain of dependent vector
     * operations (logits, max, exp, sum, gradient, da), so several rows in
     * flight keep the core busy. Rows past the chunk's end read as zeros
     * and count for nothing; the sums still add the rows in order. */
    float ar[HEAD_ROWS][HEAD_MAX], dzs[HEAD_MAX], gs[HEAD_MAX];
    for (int i0 = i_begin; i0 < i_end; i0 += HEAD_ROWS) {
        bool live[HEAD_ROWS];
#pragma unroll
        for (int k = 0; k < HEAD_ROWS; ++k) {
            live[k] = i0 + k < i_end;
            __global const float *arow = a + a_off + (size_t)min(i0 + k, i_end - 1) * in;
            for (int j = 0; j < HEAD_MAX; ++j)     /* zeros past in, for the vector f' */
                ar[k][j] = live[k] && j < in ? arow[j] : 0.0f;
        }

        /* logits, with -Inf in the padding lanes (exp gives 0 there) */
        float16 z[HEAD_ROWS];
#pragma unroll
        for (int k = 0; k < HEAD_ROWS; ++k)
            z[k] = bias;
        for (int j = 0; j < in; ++j) {
            const float16 w = wcol[j];
#pragma unroll
            for (int k = 0; k < HEAD_ROWS; ++k)
                z[k] = fma((float16)ar[k][j], w, z[k]);
        }

        /* softmax_xent's row, on the vector: m, s, loss and the first
         * maximal class (NaN counting as maximal: the first NaN, if any);
         * then dlogits, 0 in the padding lanes, NaN for a bad label */
        float16 dz[HEAD_ROWS];
        float sums[HEAD_ROWS], shifted_t[HEAD_ROWS];    /* s and z_t - m of each row */
        bool counts[HEAD_ROWS];                         /* live with a valid label */
#pragma unroll
        for (int k = 0; k < HEAD_ROWS; ++k) {
            const float16 zk = select(z[k], (float16)(-INFINITY), pad);
            const int t = live[k] ? labels[l_off + i0 + k] : 0;
            const bool valid = t >= 0 && t < classes;
            const float m = head_hmax(zk);
            const float16 e = head_exp16(zk - m);
            const float s = head_hsum(e);
            const int16 is_t = lane == (int16)t;
            const float zt = head_hsum(select((float16)0.0f, zk, is_t));
            const int first_nan = head_hmin(select((int16)HEAD_MAX, lane, isnan(zk)));
            const int first_max = head_hmin(select((int16)HEAD_MAX, lane, zk == (float16)m));
            const int arg = first_nan < HEAD_MAX ? first_nan : first_max;
            sums[k] = s;
            shifted_t[k] = zt - m;
            counts[k] = live[k] && valid;
            correct_sum += counts[k] && arg == t ? 1.0f : 0.0f;
            const float16 g = (e / s - select((float16)0.0f, (float16)1.0f, is_t)) * grad_scale;
            dz[k] = !live[k] ? (float16)0.0f : valid ? select(g, (float16)0.0f, pad) : (float16)NAN;
        }
        /* one vector log for the rows in flight, added in row order */
        const float4 logs = log(vload4(0, sums));
#pragma unroll
        for (int k = 0; k < HEAD_ROWS; ++k)
            loss_sum += !live[k] ? 0.0f : counts[k] ? logs[k] - shifted_t[k] : NAN;
#pragma unroll
        for (int k = 0; k < HEAD_ROWS; ++k)
            db += dz[k];
        for (int j = 0; j < in; ++j) {
            float16 acc = dwcol[j];
#pragma unroll
            for (int k = 0; k < HEAD_ROWS; ++k)
                acc = fma((float16)ar[k][j], dz[k], acc);
            dwcol[j] = acc;
        }

        if (has_da) {
            /* da_j = (sum_c dz_c W[c][j]) * f'(a_j) */
#pragma unroll
            for (int k = 0; k < HEAD_ROWS; ++k) {
                if (!live[k])
                    break;
                vstore16(dz[k], 0, dzs);
                float16 g = (float16)0.0f;
                for (int c = 0; c < classes; ++c)
                    g = fma((float16)dzs[c], wrow[c], g);
                const float16 gd = g * head_dact16(act, act_param, vload16(0, ar[k]));
                da_sum += gd;
                vstore16(gd, 0, gs);
                __global float *drow = da + da_off + (size_t)(i0 + k) * in;
                if (in == HEAD_MAX)
                    vstore16(vload16(0, gs), 0, drow);
                else
                    for (int j = 0; j < in; ++j)
                        drow[j] = gs[j];
            }
        }
    }

    const size_t P = (size_t)classes * in + classes + in + 2;
    __global float *out = part + p_off + (size_t)chunk * P;
    for (int j = 0; j < in; ++j) {
        vstore16(dwcol[j], 0, tmp);
        for (int c = 0; c < classes; ++c)
            out[(size_t)c * in + j] = tmp[c];
    }
    vstore16(db, 0, tmp);
    for (int c = 0; c < classes; ++c)
        out[(size_t)classes * in + c] = tmp[c];
    vstore16(da_sum, 0, tmp);
    for (int j = 0; j < in; ++j)
        out[(size_t)classes * in + classes + j] = tmp[j];
    out[P - 2] = loss_sum;
    out[P - 1] = correct_sum;
}

/* The fixed-order second stage: element e of the chunks' sums, added over
 * chunks 0, 1, ..., goes to dW, db, da_sum (overwritten; da_sum only with
 * has_da_sum) or acc (added to). */
__kernel void head_xent_sum(__global const float *part, const ulong p_off, const int chunks,
                            const int in, const int classes,
                            __global float *dw, const ulong dw_off,
                            __global float *db, const ulong db_off,
                            __global float *da_sum, const ulong ds_off, const int has_da_sum,
                            __global float *acc, const ulong acc_off)
{
    const int nw = classes * in, P = nw + classes + in + 2;
    const int e = (int)get_global_id(0);
    if (e >= P)
        return;
    float s = 0.0f;
    for (int k = 0; k < chunks; ++k)
        s += part[p_off + (size_t)k * P + e];
    if (e < nw)
        dw[dw_off + e] = s;
    else if (e < nw + classes)
        db[db_off + e - nw] = s;
    else if (e < nw + classes + in) {
        if (has_da_sum)
            da_sum[ds_off + e - nw - classes] = s;
    } else
        acc[acc_off + e - nw - classes - in] += s;
}
