/* head.cl: a narrow output layer with softmax cross-entropy, forward and
 * backward fused (the contract is nncl_head_xent_args in include/nncl/ops.h).
 * Host twin: nncl_host_head_xent in src/ops/head.c.
 *
 * One work-item walks a chunk of consecutive rows, 16 rows to a float16
 * (see head_xent). Each chunk writes its sums (dW, db, the sum of da, loss,
 * correct) to its own slice of part; head_xent_sum then adds the chunks in
 * order 0, 1, ... So the result does not depend on how work-items are
 * scheduled. */

/* HEAD_MAX: NNCL_HEAD_MAX (include/nncl/ops.h), from the build options. */
#ifndef HEAD_MAX
#error "HEAD_MAX comes from the build options (src/device/cl_tuning.c)"
#endif

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
    /* 2^n as n + 127 in the exponent field; n is within [-126, 128].
     * The bound is an int16, not the scalar 127: min(int16, int) is valid
     * OpenCL C 1.2, but Oclgrind (21.10, Debian's) reads lanes 1..15 of a
     * scalar integer argument of min/max/clamp from beyond the scalar, so
     * some lanes got min(n, garbage): a wrong e^x in random lanes, which
     * made head_xent's dW, db and da wrong on the simulated GPU (test_grad's
     * byte network off by 7.6%, or NaN, from run to run: its "network" case
     * under tools/oclgrind_check.sh). Float min/clamp with scalars are not
     * affected. */
    const int16 ni = convert_int16(n);
    float16 y = er * as_float16((min(ni, (int16)127) + 127) << 23);
    y = select(y, y * 2.0f, ni > 127);
    y = select(y, (float16)0.0f, x < -87.3f);
    y = select(y, (float16)INFINITY, x > 88.7f);
    return select(y, x, isnan(x));
}

/* 16 floats p[0], p[stride], ..., p[15 * stride]: one column of a block of
 * 16 rows, as a vector over the rows. */
#define HEAD_COLUMN(p, stride)                                                                      \
    ((float16)((p)[0], (p)[(stride)], (p)[2 * (stride)], (p)[3 * (stride)], (p)[4 * (stride)],      \
               (p)[5 * (stride)], (p)[6 * (stride)], (p)[7 * (stride)], (p)[8 * (stride)],         \
               (p)[9 * (stride)], (p)[10 * (stride)], (p)[11 * (stride)], (p)[12 * (stride)],      \
               (p)[13 * (stride)], (p)[14 * (stride)], (p)[15 * (stride)]))

/* The head on one block of 16 rows, lane l being row l of the block: x[j]
 * holds input j of the 16 rows, t their labels, live the lanes that are
 * rows (the others count for nothing, provided their x is finite: dz is 0
 * there, and 0 times NaN would not be). Adds to the per-lane sums dw
 * (classes x in), db, loss and correct; with want_g also sets g[j], the
 * gradient of the hidden layer's z (0 in dead lanes), and adds it to
 * g_sum[j]. Two kernels call it: ALWAYS_INLINE, see common.cl. */
ALWAYS_INLINE void head_rows16(const int in, const int classes, const float *w, const float *bias, const float16 *x,
                        const int16 t, const int16 live, float16 *dw, float16 *db, float16 *loss,
                        float16 *correct, const int want_g, float16 *g, float16 *g_sum, const int act,
                        const float act_param, const float grad_scale)
{
    float16 z[HEAD_MAX];
    /* logits; m = their maximum (NaN skipped: exp then turns s NaN) */
    float16 m = (float16)(-INFINITY);
    for (int c = 0; c < classes; ++c) {
        float16 s = (float16)bias[c];
        for (int j = 0; j < in; ++j)
            s = fma(x[j], (float16)w[c * in + j], s);
        z[c] = s;
        m = fmax(m, s);
    }
    /* s, z_t, and the first maximal class (the first NaN, if any) */
    float16 s = (float16)0.0f, zt = (float16)0.0f;
    int16 first_max = (int16)HEAD_MAX, first_nan = (int16)HEAD_MAX;
    for (int c = 0; c < classes; ++c) {
        const int16 is_t = t == (int16)c;
        zt = select(zt, z[c], is_t);
        first_nan = select(first_nan, (int16)c, isnan(z[c]) && first_nan == (int16)HEAD_MAX);
        first_max = select(first_max, (int16)c, z[c] == m && first_max == (int16)HEAD_MAX);
        z[c] = head_exp16(z[c] - m);        /* z now holds e = exp(z - m) */
        s += z[c];
    }
    const int16 arg = select(first_max, first_nan, first_nan != (int16)HEAD_MAX);
    const int16 valid = live & (t >= (int16)0) & (t < (int16)classes);
    *loss += select(select((float16)NAN, log(s) - (zt - m), valid), (float16)0.0f, ~live);
    *correct += select((float16)0.0f, (float16)1.0f, valid & (arg == t));

    /* dlogits = (e / s - [c == t]) * grad_scale (NaN for a bad label, 0
     * for a lane past the end), into z; dW, db */
    const float16 inv = 1.0f / s;
    for (int c = 0; c < classes; ++c) {
        float16 d = (z[c] * inv - select((float16)0.0f, (float16)1.0f, t == (int16)c)) * grad_scale;
        d = select(select((float16)NAN, d, valid), (float16)0.0f, ~live);
        z[c] = d;
        db[c] += d;
        for (int j = 0; j < in; ++j)
            dw[c * in + j] = fma(d, x[j], dw[c * in + j]);
    }

    /* g_j = (sum_c dz_c W[c][j]) * f'(x_j) */
    if (want_g)
        for (int j = 0; j < in; ++j) {
            float16 gj = (float16)0.0f;
            for (int c = 0; c < classes; ++c)
                gj = fma(z[c], (float16)w[c * in + j], gj);
            gj *= act_derivative16(act, act_param, x[j]);     /* 0 past the end: dz and x are */
            g_sum[j] += gj;
            g[j] = gj;
        }
}

/* One work-item walks a chunk of rows 16 at a time, lane l of every vector
 * being row r0 + l: a[.][j] is one vector per input, the logits one per
 * class, and W's elements are scalars. The row's work (logits, max, exp,
 * loss, dlogits, da) is then plain vector arithmetic with every lane busy,
 * and the sums over rows (dW, db, da_sum, loss, correct) stay per lane until
 * the chunk's end, where each is summed over its lanes in a fixed tree.
 * Lanes past the chunk's end read row i_end - 1 and count for nothing.
 * Partial sums of chunk k at part + k * (classes * in + classes + in + 2):
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
    const int nw = classes * in;

    float w[HEAD_MAX * HEAD_MAX], bias[HEAD_MAX];
    float16 dw[HEAD_MAX * HEAD_MAX], db[HEAD_MAX], da_sum[HEAD_MAX];
    for (int e = 0; e < nw; ++e) {
        w[e] = W[w_off + e];
        dw[e] = (float16)0.0f;
    }
    for (int c = 0; c < classes; ++c) {
        bias[c] = b[b_off + c];
        db[c] = (float16)0.0f;
    }
    for (int j = 0; j < in; ++j)
        da_sum[j] = (float16)0.0f;
    float16 loss = (float16)0.0f, correct = (float16)0.0f;

    float16 x[HEAD_MAX];
    for (int r0 = i_begin; r0 < i_end; r0 += 16) {
        const int16 live = r0 + lane < (int16)i_end;
        const bool full = r0 + 16 <= i_end;
        __global const float *arow = a + a_off + (size_t)r0 * in;
        int16 t;
        if (full) {
            for (int j = 0; j < in; ++j)
                x[j] = HEAD_COLUMN(arow + j, in);
            t = vload16(0, labels + l_off + r0);
        } else {
            float col[16];
            int lab[16];
            for (int l = 0; l < 16; ++l)
                lab[l] = labels[l_off + min(r0 + l, i_end - 1)];
            t = vload16(0, lab);
            for (int j = 0; j < in; ++j) {
                for (int l = 0; l < 16; ++l)
                    col[l] = r0 + l < i_end ? arow[(size_t)l * in + j] : 0.0f;
                x[j] = vload16(0, col);
            }
        }

        float16 g[HEAD_MAX];
        head_rows16(in, classes, w, bias, x, t, live, dw, db, &loss, &correct, has_da, g, da_sum, act,
                    act_param, grad_scale);
        if (has_da) {
            __global float *drow = da + da_off + (size_t)r0 * in;
            const int n = full ? 16 : i_end - r0;
            for (int j = 0; j < in; ++j) {
                float gl[16];
                vstore16(g[j], 0, gl);
                for (int l = 0; l < n; ++l)
                    drow[(size_t)l * in + j] = gl[l];
            }
        }
    }

    const size_t P = (size_t)nw + classes + in + 2;
    __global float *out = part + p_off + (size_t)chunk * P;
    for (int e = 0; e < nw; ++e)
        out[e] = hsum16(dw[e]);
    for (int c = 0; c < classes; ++c)
        out[nw + c] = hsum16(db[c]);
    for (int j = 0; j < in; ++j)
        out[nw + classes + j] = hsum16(da_sum[j]);
    out[P - 2] = hsum16(loss);
    out[P - 1] = hsum16(correct);
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
