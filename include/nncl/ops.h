/* nncl/ops.h: the operations every device implements.
 *
 * Each op takes the device and one argument struct. The list NNCL_OPS below
 * is the single table of ops: it declares the public wrapper nncl_<op>(), the
 * backend interface member, and the two implementations every backend must
 * provide, nncl_host_<op>() (plain C, src/ops/) and nncl_cl_<op>() (an
 * OpenCL dispatcher beside it, running a kernel from cl/), plus one shared
 * nncl_check_<op>() that validates shapes and view bounds before either runs.
 * Adding an op means one argument struct and one line here, one kernel, one
 * host twin and its dispatcher: the tables and wrappers follow from the list.
 *
 * Tensors are nncl_view (buffer + element offset); matrices are row-major.
 * Ops are asynchronous on OpenCL: results are visible after a buffer read or
 * nncl_device_finish(). */
#ifndef NNCL_OPS_H
#define NNCL_OPS_H

#include "nncl/device.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Activation functions, the same codes as cl/common.cl. Backward passes read
 * the forward *output* y = f(z), never z: every f here has a derivative that
 * is a function of its output (relu: y > 0; leaky relu: y > 0 ? 1 : slope,
 * valid because the slope is positive; sigmoid: y(1 - y); tanh: 1 - y^2). */
typedef enum nncl_act {
    NNCL_ACT_IDENTITY = 0,
    NNCL_ACT_RELU = 1,
    NNCL_ACT_LEAKY_RELU = 2,    /* slope for z < 0 in act_param (e.g. 0.01) */
    NNCL_ACT_SIGMOID = 3,
    NNCL_ACT_TANH = 4,
} nncl_act;

/* ---- fill: y[i] = value for i < n (the trivial end-to-end kernel) ------ */
typedef struct nncl_fill_args {
    nncl_view y;    /* float[n] */
    size_t n;
    float value;
} nncl_fill_args;

/* ---- fma_chains: the kernel of the FP32 multiply-add peak ----------------
 * out[i] = the sum over j = 0..15, in that order, of chain j of item i after
 * `iters` steps a <- fma(a, m, c), from a = 1 + (16 (i mod 4096) + j) 2^-20.
 * Sixteen independent chains an item and nothing read: the device's
 * multiply-add throughput, timed by nncl_device_fma_peak. Each step is one
 * rounding (fma), so every device gives the host's bits. |m| < 1 keeps the
 * chains bounded for any iters (they tend to c / (1 - m)). */
typedef struct nncl_fma_chains_args {
    nncl_view out;  /* float[n] */
    size_t n;
    int iters;      /* >= 0 */
    float m, c;
} nncl_fma_chains_args;

/* ---- gemm ----------------------------------------------------------------
 * C = act(alpha * op(A) * op(B) + beta * C + bias[j]), row-major, where
 * op(X) = X or X^T. op(A) is M x K, op(B) is K x N, C is M x N. Leading
 * dimensions are row strides of the matrices as stored: A[i*lda + p] when
 * A is not transposed, A[p*lda + i] when it is (likewise B). beta == 0 means
 * C is not read (it may hold garbage). bias (optional, buf NULL = none) is
 * float[N]. Any M, N, K >= 1. */
typedef struct nncl_gemm_args {
    bool trans_a, trans_b;
    size_t m, n, k;
    float alpha, beta;
    nncl_view a; size_t lda;
    nncl_view b; size_t ldb;
    nncl_view c; size_t ldc;
    nncl_view bias;             /* float[n] or {NULL} */
    nncl_act act;
    float act_param;
} nncl_gemm_args;

/* ---- act_fwd: y[i] = f(x[i]) for i < n. x and y may be the same view. */
typedef struct nncl_act_fwd_args {
    nncl_view x, y;             /* float[n] */
    size_t n;
    nncl_act act;
    float act_param;
} nncl_act_fwd_args;

/* ---- act_bwd: dx[i] = dy[i] * f'(y[i]), from the forward output y.
 * dx may be the same view as dy. */
typedef struct nncl_act_bwd_args {
    nncl_view y, dy, dx;        /* float[n] */
    size_t n;
    nncl_act act;
    float act_param;
} nncl_act_bwd_args;

/* ---- softmax_xent: softmax + cross-entropy, fused --------------------------
 * For each row r of logits z (rows x classes) with label t = labels[r]:
 *   p_j = exp(z_j - max z) / sum_k exp(z_k - max z)
 *   loss_r = log(sum_k exp(z_k - max z)) + max z - z_t        (log-sum-exp)
 * If dz.buf is set: dz[r,j] = (p_j - [j == t]) * grad_scale   (1/batch for a mean).
 *   dz may be the same view as z.
 * If acc.buf is set: acc[0] += sum_r loss_r and acc[1] += number of rows whose
 * argmax_j z_j == t (first maximum, NaN counting as maximal, as argmax_rows),
 * summed in a fixed order: no atomics, the same bits every run. The sum goes
 * through scratch (float[2 * rows], needed only with acc: the per-row loss and
 * correct flag), which the caller provides so that no op allocates.
 * Labels outside [0, classes) give loss NaN and, with dz, a NaN row of dz.
 * NaN or Inf logits are not clamped: they give NaN for that row. classes >= 1. */
typedef struct nncl_softmax_xent_args {
    nncl_view z;                /* float[rows * classes] */
    nncl_view labels;           /* int32[rows] */
    nncl_view dz;               /* float[rows * classes] or {NULL} */
    nncl_view acc;              /* float[2] or {NULL} */
    size_t rows, classes;
    float grad_scale;
    nncl_view scratch;          /* float[2 * rows] when acc is set, else unused */
} nncl_softmax_xent_args;

/* ---- mse: mean squared error, for regression ---------------------------------
 * For each row r of predictions y and targets t (rows x outputs):
 *   loss_r = (1/outputs) sum_j (y_j - t_j)^2
 * If dy.buf is set: dy[r,j] = 2 (y_j - t_j) / outputs * grad_scale (1/batch for a mean).
 * If acc.buf is set: acc[0] += sum_r loss_r, acc[1] += sum_r (1/outputs) sum_j |y_j - t_j|,
 * in a fixed order, through scratch (float[2 * rows], as softmax_xent).
 * dy may be the same view as y. outputs >= 1. */
typedef struct nncl_mse_args {
    nncl_view y, t;             /* float[rows * outputs] */
    nncl_view dy;               /* float[rows * outputs] or {NULL} */
    nncl_view acc;              /* float[2] or {NULL} */
    size_t rows, outputs;
    float grad_scale;
    nncl_view scratch;          /* float[2 * rows] when acc is set, else unused */
} nncl_mse_args;

/* ---- colsum: y[j] = alpha * sum_i x[i, j] + beta * y[j] (the bias gradient).
 * x is rows x cols, row stride ldx. Fixed-order tree: deterministic. beta == 0
 * means y is not read. */
typedef struct nncl_colsum_args {
    nncl_view x; size_t ldx;
    nncl_view y;                /* float[cols] */
    size_t rows, cols;
    float alpha, beta;
} nncl_colsum_args;

/* ---- argmax_rows: idx[i] = the first j with x[i, j] maximal (NaN counts as
 * maximal, so a NaN row points at its first NaN). */
typedef struct nncl_argmax_rows_args {
    nncl_view x;                /* float[rows * cols] */
    nncl_view idx;              /* int32[rows] */
    size_t rows, cols;
} nncl_argmax_rows_args;

/* ---- optim_step: one update of a flat parameter vector --------------------
 * g = grad[i] (+ weight_decay * w for SGD, momentum and Adam: L2 in the gradient)
 *   SGD:       w -= lr * g
 *   momentum:  v = mu * v + g;  w -= lr * (nesterov ? g + mu * v : v)
 *   Adam:      m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
 *              w -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
 *              (computed as PyTorch does, with one division per element:
 *              w -= (lr / (1 - b1^t)) * (m / (sqrt(v) / sqrt(1 - b2^t) + eps)),
 *              the reciprocal square root of 1 - b2^t taken once per step)
 *   AdamW:     as Adam on the plain gradient, then w -= lr * weight_decay * w
 *              (decoupled; applied before the Adam update, like PyTorch).
 * t is the 1-based step count. m and v are optimiser state, float[n] each,
 * zeroed by the caller before the first step (momentum uses m only; SGD neither). */
typedef enum nncl_optim {
    NNCL_OPTIM_SGD = 0,
    NNCL_OPTIM_MOMENTUM = 1,
    NNCL_OPTIM_ADAM = 2,
    NNCL_OPTIM_ADAMW = 3,
} nncl_optim;

typedef struct nncl_optim_step_args {
    nncl_optim kind;
    nncl_view w, grad;          /* float[n] */
    nncl_view m, v;             /* float[n] or {NULL} where the optimiser has no such state */
    size_t n;
    float lr, weight_decay;
    float momentum;             /* mu */
    bool nesterov;
    float beta1, beta2, eps;
    unsigned long step;         /* t >= 1 */
} nncl_optim_step_args;

/* ---- gather: a mini-batch from a device-resident dataset ---------------------
 * For r < rows, with s = index[r]:
 *   x[r, j] = ((float)data[s * cols + j] - shift[j]) * scale[j]
 * data is bytes (u8 = true) or floats. If labels.buf is set, also
 *   labels_out[r] = labels[s]   (int32; classification), and if targets.buf is
 * set, targets_out[r * outputs + k] = (targets[s * outputs + k] - t_shift) * t_scale
 * (regression). Indices must be < data_rows: the check reads them only on
 * host buffers, so kernels also guard (an index out of range writes NaN). */
typedef struct nncl_gather_args {
    nncl_view data;             /* u8 or float [data_rows * cols] */
    bool u8;
    size_t data_rows, cols;
    nncl_view index;            /* int32[rows] */
    size_t rows;
    nncl_view shift, scale;     /* float[cols] */
    nncl_view x;                /* float[rows * cols], or {NULL} to gather only labels / targets */
    nncl_view labels, labels_out;       /* int32[data_rows], int32[rows], or {NULL} */
    nncl_view targets, targets_out;     /* float[data_rows * outputs], float[rows * outputs], or {NULL} */
    size_t outputs;
    float t_shift, t_scale;
} nncl_gather_args;

/* ---- dropout: y[i] = x[i] * keep(i) / (1 - p), keep(i) = u(seed, step, i) >= p
 * with u uniform in [0, 1) from a counter-based generator (Philox-4x32-10,
 * keyed by seed; counter = (i, step)). The mask is recomputed, not stored: the
 * backward pass is the same call on dy -> dx with the same seed and step. The
 * same bits on every device. x and y may be the same view. p in [0, 1). */
typedef struct nncl_dropout_args {
    nncl_view x, y;             /* float[n] */
    size_t n;
    float p;
    uint64_t seed;
    uint64_t step;
} nncl_dropout_args;

/* ---- linear_u8_fwd, linear_u8_wgrad: a dense layer reading byte inputs ----
 * For full-batch training on byte data (MNIST pixels) the first layer reads
 * the dataset's bytes directly instead of a gathered float copy: a quarter of
 * the memory traffic. With x'[i, j] = ((float)x[i, j] - shift[j]) * scale[j]:
 *   fwd:   y[i, o] = act(sum_j x'[i, j] W[o, j] + b[o])       (y has row stride ldy)
 *   wgrad: dW[o, j] = sum_i g[i, o] x'[i, j]                   (g has row stride ldg)
 * x is x_rows x in bytes (row stride in); row i of the batch is row index[i]
 * of x (an index out of range gives NaN), or row i without an index. W and dW
 * are out x in. */
typedef struct nncl_linear_u8_fwd_args {
    nncl_view x;                /* u8[x_rows * in] */
    nncl_view index;            /* int32[rows]: the rows of x to use, or {NULL} for 0..rows-1 */
    size_t x_rows;              /* rows in x (with an index; else taken as rows) */
    nncl_view shift, scale;     /* float[in] */
    nncl_view w;                /* float[out * in] */
    nncl_view b;                /* float[out] */
    nncl_view y;                /* float[rows * ldy] */
    size_t rows, in, out, ldy;
    nncl_act act;
    float act_param;
} nncl_linear_u8_fwd_args;

typedef struct nncl_linear_u8_wgrad_args {
    nncl_view x;                /* u8[x_rows * in] */
    nncl_view index;            /* int32[rows]: the rows of x to use, or {NULL} for 0..rows-1 */
    size_t x_rows;              /* rows in x (with an index; else taken as rows) */
    nncl_view shift, scale;     /* float[in] */
    nncl_view g;                /* float[rows * ldg] */
    nncl_view dw;               /* float[out * in] */
    size_t rows, in, out, ldg;
    /* Optional room for partial sums over chunks of rows (float[scratch_len]):
     * with it, devices sum cache-sized chunks of x separately and then add
     * the chunks in a fixed order, instead of streaming all of x per column
     * block. {NULL} works, more slowly for many rows. */
    nncl_view scratch;
    size_t scratch_len;
} nncl_linear_u8_wgrad_args;

/* ---- head_xent: a narrow output layer and its softmax cross-entropy,
 * forward and backward in one pass -------------------------------------------
 * For row r of a (rows x in: the last hidden layer's output y = f(z)), W
 * (classes x in), b (classes) and t = labels[r]:
 *   logits = a W^T + b;  loss, correct and dlogits exactly as softmax_xent
 *   (dlogits = (softmax - onehot(t)) * grad_scale; a label out of range
 *   gives loss NaN and a NaN row)
 *   dW = dlogits^T a       db = sum over rows of dlogits
 *   da = (dlogits W) * f'(a)    (rows x in, the gradient of the hidden
 *                                layer's z; f = act, read from its output)
 *   da_sum = sum over rows of da (in: the bias gradient of that layer)
 *   acc[0] += sum of the losses, acc[1] += the number of correct rows
 * For in <= 16 and classes <= 16 only (NNCL_HEAD_MAX): a network that narrow
 * (the tutorial's 784-10-10) otherwise spends its steps launching a GEMM of
 * 10 x 10 blocks, the softmax, another two GEMMs, a column sum and the
 * activation's gradient over every row. Rows are summed in chunks, each
 * chunk's sums go to scratch, and the chunks are then added in a fixed
 * order: no atomics, the same bits every run.
 * scratch: float[nncl_head_xent_scratch_len(rows, in, classes)]. */
#define NNCL_HEAD_MAX 16

typedef struct nncl_head_xent_args {
    nncl_view a;                /* float[rows * in] */
    nncl_view w;                /* float[classes * in] */
    nncl_view b;                /* float[classes] */
    nncl_view labels;           /* int32[rows] */
    nncl_view dw;               /* float[classes * in] (overwritten) */
    nncl_view db;               /* float[classes] (overwritten) */
    nncl_view da;               /* float[rows * in], or {NULL} when no layer below needs it */
    nncl_view da_sum;           /* float[in], or {NULL}; needs da */
    nncl_view acc;              /* float[2] (added to) */
    nncl_view scratch;          /* float[nncl_head_xent_scratch_len(rows, in, classes)] */
    size_t rows, in, classes;
    nncl_act act;               /* f of the layer that produced a */
    float act_param;
    float grad_scale;
} nncl_head_xent_args;

/* Floats of scratch head_xent needs for these sizes (0 if they do not fit
 * NNCL_HEAD_MAX). */
size_t nncl_head_xent_scratch_len(size_t rows, size_t in, size_t classes);

/* ---- linear_u8_head: a whole training step of a byte-input network with
 * one narrow hidden layer, forward and backward in one pass -----------------
 * The network x' -> f(x' W1^T + b1) -> W2, b2 -> softmax cross-entropy, with
 * x' as in linear_u8 (bytes through index, shift, scale) and the head as in
 * head_xent (labels, grad_scale, loss and correct exactly as there). For row
 * i of the batch, with a = f(x'_i W1^T + b1), dz = dlogits and
 * g = (dz W2) * f'(a):
 *   dW2 = sum_i dz^T a    db2 = sum_i dz
 *   dW1 = sum_i g^T x'_i  db1 = sum_i g
 *   acc[0] += sum of the losses, acc[1] += the number of correct rows
 * dW1, db1, dW2, db2 are overwritten. For hidden <= 16 and classes <= 16
 * (NNCL_HEAD_MAX): the tutorial's 784-10-10 spends its whole step reading x,
 * once for the forward and once for dW1; here each block of rows is read
 * from memory once and used for both while it is in the cache. Rows are
 * summed in chunks whose partial sums go to scratch and are then added in a
 * fixed order: no atomics, the same bits every run. The kernel is shaped for
 * CPUs (at most 64 work-items, each with about 35 KB of private arrays): on
 * a GPU it is correct but slow, and the network uses it on CPU devices only.
 * scratch: float[nncl_linear_u8_head_scratch_len(rows, in, hidden, classes)]. */
typedef struct nncl_linear_u8_head_args {
    nncl_view x;                /* u8[x_rows * in] */
    nncl_view index;            /* int32[rows]: the rows of x to use, or {NULL} for 0..rows-1 */
    size_t x_rows;              /* rows in x (with an index; else taken as rows) */
    nncl_view shift, scale;     /* float[in] */
    nncl_view w1, b1;           /* float[hidden * in], float[hidden] */
    nncl_view w2, b2;           /* float[classes * hidden], float[classes] */
    nncl_view labels;           /* int32[rows], by batch row */
    nncl_view dw1, db1;         /* float[hidden * in], float[hidden] (overwritten) */
    nncl_view dw2, db2;         /* float[classes * hidden], float[classes] (overwritten) */
    nncl_view acc;              /* float[2] (added to) */
    nncl_view scratch;          /* float[nncl_linear_u8_head_scratch_len(...)] */
    size_t rows, in, hidden, classes;
    nncl_act act;               /* f of the hidden layer */
    float act_param;
    float grad_scale;
} nncl_linear_u8_head_args;

/* Floats of scratch linear_u8_head needs for these sizes: enough for any
 * number of rows up to `rows`. 0 if in, hidden or classes is 0, hidden or
 * classes is above NNCL_HEAD_MAX, or in is too large. */
size_t nncl_linear_u8_head_scratch_len(size_t rows, size_t in, size_t hidden, size_t classes);

/* ---- convolution and pooling ------------------------------------------------
 * Images are NCHW: x[n, c, h, w] at ((n*C + c)*H + h)*W + w, as PyTorch.
 * Filters are [K, C, KH, KW] (PyTorch's Conv2d weight), the bias is [K].
 * One shape describes a convolution for every op that takes part in it. */
typedef struct nncl_conv2d_shape {
    size_t n, c, h, w;          /* input [n, c, h, w] */
    size_t k, kh, kw;           /* filters [k, c, kh, kw] (im2col and col2im ignore k) */
    size_t stride_h, stride_w;  /* >= 1 */
    size_t pad_h, pad_w;        /* zero rows above and columns left of the input */
    size_t oh, ow;              /* output [n, k, oh, ow] */
} nncl_conv2d_shape;

/* Padding for nncl_conv2d_shape_make: "same" (an output of ceil(in / stride),
 * the zeros split with any odd one after, as TensorFlow, and PyTorch's
 * padding='same' for stride 1), "valid" (none), or a count >= 0 on every side. */
enum { NNCL_PAD_SAME = -1, NNCL_PAD_VALID = 0 };

/* Fill *s for input [n, c, h, w], k filters of kh x kw, one stride for both
 * dimensions and a padding as above. Fails (NNCL_E_INVALID, saying why) when
 * a size is 0 or the filter does not fit the padded input. */
nncl_status nncl_conv2d_shape_make(size_t n, size_t c, size_t h, size_t w, size_t k, size_t kh, size_t kw,
                                   size_t stride, int padding, nncl_conv2d_shape *s);

/* Floats of scratch conv2d_fwd and conv2d_bwd need for shape s: the patch
 * matrix (c*kh*kw x n*oh*ow) and one output-sized matrix (k x n*oh*ow).
 * 0 if that overflows. */
size_t nncl_conv2d_scratch_len(const nncl_conv2d_shape *s);

/* ---- im2col: the patch matrix ------------------------------------------------
 * col[(c*KH + a)*KW + e, (n*OH + i)*OW + j] = x[n, c, i*SH - PH + a, j*SW - PW + e],
 * 0 where that lies in the padding: one row per filter tap, one column per
 * output position (c*kh*kw rows of n*oh*ow), so a convolution is the
 * product W col, W seen as a k x c*kh*kw matrix. */
typedef struct nncl_im2col_args {
    nncl_conv2d_shape s;
    nncl_view x;                /* float[n*c*h*w] */
    nncl_view col;              /* float[n*oh*ow * c*kh*kw] */
} nncl_im2col_args;

/* ---- col2im: the adjoint of im2col (an input gradient from a patch gradient)
 * x[n, c, y, z] = the sum of col[(c*KH + a)*KW + e, (n*OH + i)*OW + j] over
 * every (i, j, a, e) with i*SH - PH + a = y and j*SW - PW + e = z. x is
 * overwritten; each element sums its taps in a fixed order (no atomics). */
typedef struct nncl_col2im_args {
    nncl_conv2d_shape s;
    nncl_view col;              /* float[n*oh*ow * c*kh*kw] */
    nncl_view x;                /* float[n*c*h*w] (overwritten) */
} nncl_col2im_args;

/* ---- conv2d_fwd ----------------------------------------------------------------
 * y[n, k, i, j] = act(b[k] + sum_{c,a,e} w[k, c, a, e] x[n, c, i*SH - PH + a, j*SW - PW + e])
 * with x zero outside the input. Every backend runs it as im2col and gemm
 * (per chunk of images on CPUs) and a reordering to NCHW that adds the bias
 * and applies the activation (scratch: float[nncl_conv2d_scratch_len(&s)]).
 * y may not alias x. */
typedef struct nncl_conv2d_fwd_args {
    nncl_conv2d_shape s;
    nncl_view x;                /* float[n*c*h*w] */
    nncl_view w;                /* float[k*c*kh*kw] */
    nncl_view b;                /* float[k], or {NULL} for none */
    nncl_view y;                /* float[n*k*oh*ow] */
    nncl_act act;
    float act_param;
    nncl_view scratch;          /* float[nncl_conv2d_scratch_len(&s)] */
} nncl_conv2d_fwd_args;

/* ---- conv2d_bwd: the gradients of conv2d_fwd before its activation (dy is
 * dL/d(pre-activation): act_bwd's output when there is an activation) ---------
 *   dw[k, c, a, e] = sum_{n,i,j} dy[n, k, i, j] x[n, c, i*SH - PH + a, j*SW - PW + e]
 *   db[k]          = sum_{n,i,j} dy[n, k, i, j]
 *   dx[n, c, y, z] = sum of dy[n, k, i, j] w[k, c, a, e] over the (k, i, j, a, e)
 *                    with i*SH - PH + a = y and j*SW - PW + e = z
 * dw, db and dx are overwritten; db and dx are optional ({NULL}: a first
 * layer needs no dx). scratch as conv2d_fwd. */
typedef struct nncl_conv2d_bwd_args {
    nncl_conv2d_shape s;
    nncl_view x;                /* float[n*c*h*w] */
    nncl_view w;                /* float[k*c*kh*kw] */
    nncl_view dy;               /* float[n*k*oh*ow] */
    nncl_view dx;               /* float[n*c*h*w], or {NULL} */
    nncl_view dw;               /* float[k*c*kh*kw] */
    nncl_view db;               /* float[k], or {NULL} */
    nncl_view scratch;          /* float[nncl_conv2d_scratch_len(&s)] */
} nncl_conv2d_bwd_args;

/* ---- pool2d_fwd, pool2d_bwd: max and average pooling ---------------------------
 * Square windows of `window` pixels, `stride` apart, no padding: an output of
 * oh = (h - window) / stride + 1 (floor: the last rows and columns of an odd
 * input that no window covers are dropped, as PyTorch does). Per plane (n, c):
 *   max: y[i, j] = the maximum over the window at (i*S, j*S) (NaN counts as
 *        maximal); idx[i, j] = r*w + q of its first maximum (r, q) in the plane
 *   avg: y[i, j] = (1/window^2) * the sum over the window
 * Backward, for every input pixel (r, q) (all written, each in a fixed order):
 *   max: dx[r, q] = the sum of dy[i, j] over the windows whose idx[i, j] is (r, q)
 *   avg: dx[r, q] = (1/window^2) * the sum of dy[i, j] over the windows holding (r, q) */
typedef enum nncl_pool {
    NNCL_POOL_MAX = 0,
    NNCL_POOL_AVG = 1,
} nncl_pool;

typedef struct nncl_pool2d_shape {
    size_t n, c, h, w;          /* input [n, c, h, w] */
    size_t window, stride;      /* >= 1 */
    size_t oh, ow;              /* output [n, c, oh, ow] */
} nncl_pool2d_shape;

/* Fill *s for input [n, c, h, w]; stride 0 means stride = window. Fails
 * when a size is 0 or the window is larger than the input. */
nncl_status nncl_pool2d_shape_make(size_t n, size_t c, size_t h, size_t w, size_t window, size_t stride,
                                   nncl_pool2d_shape *s);

typedef struct nncl_pool2d_fwd_args {
    nncl_pool kind;
    nncl_pool2d_shape s;
    nncl_view x;                /* float[n*c*h*w] */
    nncl_view y;                /* float[n*c*oh*ow] */
    nncl_view idx;              /* int32[n*c*oh*ow] for max (its backward needs it), or {NULL} */
} nncl_pool2d_fwd_args;

typedef struct nncl_pool2d_bwd_args {
    nncl_pool kind;
    nncl_pool2d_shape s;
    nncl_view dy;               /* float[n*c*oh*ow] */
    nncl_view idx;              /* int32[n*c*oh*ow] from pool2d_fwd (max); unused for avg */
    nncl_view dx;               /* float[n*c*h*w] (overwritten) */
} nncl_pool2d_bwd_args;

/* ---- batchnorm_fwd, batchnorm_bwd: batch normalisation per channel ------------
 * x is [n, c, hw] row-major: x[(i*c + ch)*hw + p] (NCHW images with hw = h*w,
 * or dense features [n, c] with hw = 1). Per channel ch, over its
 * M = n*hw values, summed in a fixed order (no atomics, the same bits every
 * run), the variance by two passes (the mean first):
 * Forward, training (train = true):
 *   mean = (1/M) sum x;  var = (1/M) sum (x - mean)^2  (biased, to normalise)
 *   invstd = 1/sqrt(var + eps);  y = gamma * (x - mean) * invstd + beta
 *   save[ch] = mean, save[c + ch] = invstd  (for the backward pass)
 *   run_mean = (1 - momentum) run_mean + momentum mean
 *   run_var  = (1 - momentum) run_var + momentum var M/(M - 1)  (unbiased;
 *              var itself when M = 1), as PyTorch's BatchNorm
 * Forward, eval (train = false): y = gamma * (x - run_mean) / sqrt(run_var + eps)
 *   + beta; save and the running statistics are not touched (save may be {NULL}).
 * Backward, from the training forward's save (mean, invstd), with
 * xhat = (x - mean) * invstd:
 *   dbeta = sum dy;  dgamma = sum dy xhat
 *   dx = gamma invstd / M * (M dy - dbeta - xhat dgamma)
 * dgamma, dbeta and dx are overwritten; dx is optional ({NULL}). No view may
 * alias another (y not x, dx not dy). eps >= 0, momentum in [0, 1]. */
typedef struct nncl_batchnorm_fwd_args {
    size_t n, c, hw;            /* x, y: float[n*c*hw], x[(i*c + ch)*hw + p] */
    nncl_view x, y;
    nncl_view gamma, beta;      /* float[c] */
    nncl_view run_mean, run_var; /* float[c]: read in eval, updated in training */
    nncl_view save;             /* float[2c]: mean, invstd (written in training) */
    bool train;
    float momentum, eps;        /* 0.1, 1e-5 as PyTorch */
} nncl_batchnorm_fwd_args;

typedef struct nncl_batchnorm_bwd_args {
    size_t n, c, hw;
    nncl_view x, dy;            /* float[n*c*hw] */
    nncl_view gamma;            /* float[c] */
    nncl_view save;             /* float[2c] from the training forward */
    nncl_view dx;               /* float[n*c*hw] or {NULL} */
    nncl_view dgamma, dbeta;    /* float[c] (overwritten) */
} nncl_batchnorm_bwd_args;

#define NNCL_OPS(X) \
    X(fill)         \
    X(fma_chains)   \
    X(gemm)         \
    X(act_fwd)      \
    X(act_bwd)      \
    X(softmax_xent) \
    X(mse)          \
    X(colsum)       \
    X(argmax_rows)  \
    X(optim_step)   \
    X(gather)       \
    X(dropout)      \
    X(linear_u8_fwd) \
    X(linear_u8_wgrad) \
    X(head_xent) \
    X(linear_u8_head) \
    X(im2col) \
    X(col2im) \
    X(conv2d_fwd) \
    X(conv2d_bwd) \
    X(pool2d_fwd) \
    X(pool2d_bwd) \
    X(batchnorm_fwd) \
    X(batchnorm_bwd)

#define NNCL_DECLARE_OP(name) \
    nncl_status nncl_##name(nncl_device *dev, const nncl_##name##_args *args);
NNCL_OPS(NNCL_DECLARE_OP)
#undef NNCL_DECLARE_OP

/* Every op by name: NNCL_OP_gemm, NNCL_OP_head_xent, ... */
#define NNCL_OP_ID(name) NNCL_OP_##name,
typedef enum nncl_op_id { NNCL_OPS(NNCL_OP_ID) NNCL_OP_COUNT } nncl_op_id;
#undef NNCL_OP_ID

/* Whether dev runs op and prefers it where the network could compose the
 * same result from other ops (the fused ops, the byte-input layers): the
 * way ggml's backends answer supports_op. The step plan's fusion rules ask
 * this; nothing tests a device's type or vendor. */
bool nncl_device_prefers(const nncl_device *dev, nncl_op_id op);

#ifdef __cplusplus
}
#endif
#endif
