// Fovea's C kernels. Row-major throughout.
//
// Names: M, N, K are the GEMM dimensions (C is M x N, the shared dimension is K);
// lda, ldb, ldc are row strides in elements.
#ifndef FOVEA_KERNELS_H
#define FOVEA_KERNELS_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C[M,N], row-major, single-threaded.
/// op(A) is A (M x K, row stride lda) or, when transA, the transpose of A stored K x M.
/// op(B) is B (K x N, row stride ldb) or, when transB, the transpose of B stored N x K.
/// beta == 0 overwrites C without reading it (NaNs in C are not propagated).
/// Callers split large products across threads by calling this on disjoint blocks of C.
void fovea_sgemm(bool transA, bool transB, long M, long N, long K,
                 float alpha, const float *A, long lda,
                 const float *B, long ldb,
                 float beta, float *C, long ldc);

/// What fovea_sgemm_epilogue does to each element of C once its product is complete:
/// c[i][j] = scale[i] * c[i][j] + shift[i] (+ residual[i * ldr + j]), then `c > 0 ? c : 0`
/// when relu. A NULL scale is 1, a NULL shift 0, a NULL residual nothing: a convolution's
/// folded batch norm (or bias), a residual block's shortcut and its ReLU, applied to each
/// block of C while it is still in L1.
typedef struct fovea_gemm_epilogue {
    const float *scale;
    const float *shift;
    const float *residual;
    long ldr;
    int relu;
} fovea_gemm_epilogue;

/// fovea_sgemm, then `ep` (if not NULL) on every element of C, block by block as the
/// product finishes them rather than in a pass of its own. Row i of C takes scale[i],
/// shift[i] and residual row i: callers splitting C offset the pointers with it.
void fovea_sgemm_epilogue(bool transA, bool transB, long M, long N, long K,
                          float alpha, const float *A, long lda,
                          const float *B, long ldb,
                          float beta, float *C, long ldc, const fovea_gemm_epilogue *ep);

/// Floats that fovea_sgemm_pack_a writes for an M x K op(A) (rows padded to whole slivers).
size_t fovea_sgemm_packed_a_size(long M, long K);
/// Packs all of op(A) (M x K; transA as in fovea_sgemm) once, for fovea_sgemm_packed.
void fovea_sgemm_pack_a(bool transA, long M, long K, const float *A, long lda, float *Ap);
/// C[rows, N] = alpha * A[row0 ..< row0 + rows, K] * op(B)[K, N] + beta * C, with A the M x K
/// matrix that fovea_sgemm_pack_a packed into Ap; row0 must be a multiple of 6. C points at
/// the first computed row. Single-threaded; threads take disjoint row or column ranges.
void fovea_sgemm_packed(long M, long K, const float *Ap, long row0, long rows, long N, float alpha,
                        bool transB, const float *B, long ldb, float beta, float *C, long ldc);

/// 1 when the AVX2+FMA micro-kernel is in use on this CPU, 0 when another one is.
int fovea_sgemm_uses_avx2(void);
/// The GEMM micro-kernel in use: "AVX2/FMA" (x86-64 with AVX2 and FMA), "NEON" (arm64) or
/// "portable C" (elsewhere, or while fovea_use_portable_kernels forces it).
const char *fovea_sgemm_kernel_name(void);

/// Runs `iterations` rounds of independent multiply-adds (AVX2+FMA: 12 accumulators of 8
/// lanes) and returns the floating-point operations done; time it to measure the core's
/// peak FP32 rate. The result goes to *sink so the loop cannot be optimised away.
long fovea_fma_probe(long iterations, float *sink);

/// One chunk of a parallel region: called as fn(ctx, index).
typedef void (*fovea_task_fn)(void *ctx, long index);

/// Runs fn(ctx, i) for every i in [0, count) on up to `threads` threads (the caller and the
/// pool's persistent workers, threadpool.c) and returns 1 when all have run. Returns 0,
/// running nothing, when the pool is already running a region (a nested call, or another
/// thread's) or a worker could not be started: the caller then runs the chunks itself.
int fovea_pool_run(long count, int threads, fovea_task_fn fn, void *ctx);

/// Switches every kernel to its portable C version (on != 0) or back to the CPU's best,
/// so tests can check both paths on one machine. Call it only while no kernel runs.
void fovea_use_portable_kernels(int on);

/// The geometry of one group of a 2-D convolution, for the lowering kernels (lowering.c):
/// channels is the group's input channels Cg; the column matrix has K = Cg * kh * kw rows.
typedef struct {
    long channels, height, width, out_height, out_width;
    long kh, kw, sh, sw, dh, dw, pt, pl;
} fovea_conv_shape;

/// Writes the column matrix of `images` consecutive images (each Cg x H x W, image_stride
/// floats apart) into col: K rows of images * OH * OW columns, row stride ldc. Up to 7
/// floats past a row's last column may be overwritten, never past the last row's; so with
/// ldc > images * OH * OW the gap columns are scratch (Fovea passes ldc = images * OH * OW).
void fovea_im2col(const fovea_conv_shape *g, const float *input, long image_stride, long images,
                  float *col, long ldc);

/// The adjoint of fovea_im2col: adds every column-matrix entry onto the input pixel it
/// was read from (entries that came from the padding are dropped).
void fovea_col2im(const fovea_conv_shape *g, const float *col, long ldc, long images,
                  float *input, long image_stride);

// Implicit GEMM (implicit.c) for a group with sh = sw = dh = dw = 1 and pt = pl = 0 (no
// padding): the products that read the column matrix of fovea_im2col, with its B slivers
// packed straight from the images instead. Both return 0, computing nothing, when the
// packing buffers cannot be allocated or the images span more than INT_MAX floats.
/// C[M, images * OH * OW] = W[M, K] * col (C's row stride ldc; W's ldw).
int fovea_implicit_forward(const fovea_conv_shape *g, const float *x, long image_stride, long images, long M,
                           const float *W, long ldw, float *C, long ldc);
/// Columns col0 .. col0 + N of that product, C[M, N] (C at the block's first element), with
/// fovea_sgemm_epilogue's epilogue (NULL: none) on each tile as it is finished, rows and
/// columns counted from C's first. For a padded geometry, pass the images padded
/// (fovea_pad_planes) and their shape with the padding in height and width and pt = pl = 0.
int fovea_implicit_forward_block(const fovea_conv_shape *g, const float *x, long image_stride, long images, long M,
                                 const float *W, long ldw, long col0, long N, float *C, long ldc,
                                 const fovea_gemm_epilogue *ep);
/// Copies `planes` planes of height x width into (pt + height + pb) x (pl + width + pr)
/// planes with zeros around them, consecutive in dst.
void fovea_pad_planes(long planes, long height, long width, long pt, long pb, long pl, long pr, const float *src,
                      float *dst);
/// dw[M, K] = dout[M, images * OH * OW] * col^T + beta * dw (beta == 0 does not read dw).
int fovea_implicit_weight_grad(const fovea_conv_shape *g, const float *x, long image_stride, long images, long M,
                               const float *dout, long ldd, float beta, float *dw, long ldw);
/// dx += col2im(W[M, K]^T * dout[M, images * OH * OW]): the input gradient, each tile of the
/// column gradient added onto its pixels as the micro-kernel leaves it, so the column matrix
/// is never written. Also returns 0 for M > 256 (the depth must fit one packed pass).
int fovea_implicit_input_grad(const fovea_conv_shape *g, const float *dout, long ldd, long images, long M,
                              const float *W, long ldw, float *dx, long image_stride);

// Winograd F(2x2, 3x3) convolution (winograd.c) for 3x3, stride-1, undilated kernels.
/// One image's geometry: Ci input channels of H x W, OH x OW outputs (OH = H + pt + pb - 2),
/// tH = ceil(OH / 2) by tW = ceil(OW / 2) tiles of 2x2 outputs.
typedef struct {
    long Ci, H, W, OH, OW, pt, pl, tH, tW;
} fovea_winograd_shape;
/// Floats of the 16 packed transformed-weight matrices of an A x B kernel set.
size_t fovea_winograd_weights_size(long A, long B);
/// Writes rows [a0, a1) of the 16 matrices U[xi] = (G g G^T)[xi] (A x B each, packed as
/// fovea_sgemm_pack_a packs, fovea_winograd_weights_size floats) from the 3x3 kernels
/// g(a, b) at w + a * a_stride + b * b_stride, rotated by 180 degrees when flip (the input
/// gradient's kernels). a0 must be a multiple of 6; a1 >= A also writes the padding rows.
void fovea_winograd_weights(long A, long B, const float *w, long a_stride, long b_stride, int flip,
                            long a0, long a1, float *Up);
/// Scratch floats fovea_winograd_block needs for co_count output channels and count tiles.
size_t fovea_winograd_block_scratch(const fovea_winograd_shape *s, long co_count, long count);
/// Floats of one padded input row in that scratch.
size_t fovea_winograd_row_stride(const fovea_winograd_shape *s);
/// Convolves tiles [p0, p0 + count) of a run of images (x: image n at x + n * in_image_stride,
/// Ci planes of H x W) into output channels [co0, co0 + co_count) of y (image n at
/// y + n * out_image_stride, Co planes of OH x OW), with U from fovea_winograd_weights (Co x Ci;
/// co0 a multiple of 6). Each output becomes scale[co] * v + shift[co] (NULL: 1 and 0), then
/// max(0, .) when relu, and is added to y when accumulate, else written.
void fovea_winograd_block(const fovea_winograd_shape *s, const float *x, long in_image_stride, const float *Up,
                          long Co, long co0, long co_count, long p0, long count, float *y, long out_image_stride,
                          const float *scale, const float *shift, int relu, int accumulate, float *scratch);

/// Scratch floats fovea_winograd_grad_block needs for Co output channels and count tiles.
size_t fovea_winograd_grad_scratch(const fovea_winograd_shape *s, long Co, long count);
/// The weight gradient's sums over tiles [p0, p0 + count): dU[xi] (Co x Ci, 16 of them
/// back to back) = Z[xi] * V[xi]^T + beta * dU[xi], with V the transformed input tiles of x
/// (as the forward reads it) and Z = A dY A^T the lifted 2x2 tiles of the output gradient
/// dy (image n at dy + n * out_image_stride, Co planes of OH x OW). beta == 0 overwrites.
void fovea_winograd_grad_block(const fovea_winograd_shape *s, const float *x, long in_image_stride, const float *dy,
                               long Co, long out_image_stride, long p0, long count, float beta, float *dU,
                               float *scratch);
/// dw's 3x3 kernels (a, b) at dw + a * a_stride + b * b_stride = G^T X G, X the sum of `parts`
/// dU sets (each 16 A x B matrices, part_stride floats apart, added in order), for a in [a0, a1).
void fovea_winograd_grad_finish(long A, long B, const float *dU, long parts, long part_stride, long a0, long a1,
                                float *dw, long a_stride, long b_stride);

/// 2x2, stride-2, unpadded max pooling of `planes` H x W planes into OH x OW ones
/// (2*OH <= H, 2*OW <= W). argmax receives each maximum's flat in-plane index; the first
/// maximum wins ties, as in PyTorch.
void fovea_maxpool2x2_forward(long planes, long H, long W, long OH, long OW,
                              const float *input, float *output, int *argmax);

/// fovea_maxpool2x2_forward of max(0, v + shift[p]) (the values a bias and a ReLU give, with
/// fovea_gather_planes' exact arithmetic), reading plane p's row y at src + p * plane_stride +
/// y * row_stride: a direct convolution's wide rows, pooled without writing its output.
/// argmax indices are flat in an H x W plane, as fovea_maxpool2x2_forward's. shift may be NULL (0),
/// and argmax NULL (inference: values only).
void fovea_maxpool2x2_relu_rows(long planes, long H, long W, long OH, long OW, const float *src, long plane_stride,
                                long row_stride, const float *shift, float *output, int *argmax);

/// Max pooling of `planes` H x W planes into OH x OW with kh x kw windows, strides sh, sw and
/// top / left padding pt, pl (padding never wins; a window wholly in the padding gives
/// -inf), values only, the first maximum of each window kept as the argmax loop keeps it.
/// row is scratch for W floats.
void fovea_maxpool_values(long planes, long H, long W, long OH, long OW, long kh, long kw, long sh, long sw,
                          long pt, long pl, const float *input, float *output, float *row);
/// The backward of fovea_maxpool2x2_forward when the windows tile the input exactly
/// (H = 2*OH, W = 2*OW): writes every element of d_input, each window's gradient at its
/// argmax and 0 at the other three, so d_input needs no zeroing first.
void fovea_maxpool2x2_backward(long planes, long OH, long OW, const float *d_output, const int *argmax,
                               float *d_input);

// Direct stride-1 convolution on wide planes (direct.c). A plane padded to Hp x Wp is
// numbered row-major; tap t of the kernel reads position j + offsets[t] for output
// position j, so C[M, L] = W[M, T] * B[T, L] with B's rows the input shifted (no copy).
/// Packs M rows of weights for fovea_direct_conv: tap t = o * inner + i of row r is
/// w[r * row_stride + o * outer_stride + i * inner_stride]. packed holds ceil(M/6)*6 * T
/// floats (T = outer * inner), rows past M zero.
void fovea_direct_pack(long M, long outer, long inner, const float *w, long row_stride, long outer_stride,
                       long inner_stride, float *packed);
/// dst[r * ldd + j] = sum_t W[r, t] * src[j + offsets[t]] for r < M, j < L. Rows of dst must
/// hold L rounded up to 16 floats (the last block is stored whole), and src must be
/// readable up to that rounded L - 1 + max(offsets).
void fovea_direct_conv(long M, long L, long T, const long *offsets, const float *packed,
                       const float *src, float *dst, long ldd);
/// dw[r * ldw + t] = beta * dw[r * ldw + t] + sum over images b and j < L of
/// g[b * g_image_stride + r * ldg + j] * src[b * src_image_stride + j + offsets[t]]
/// (beta == 0 overwrites). src must be readable up to L rounded up to 8, minus 1, plus
/// max(offsets) in each image; the lanes past L meet zero gradients.
void fovea_direct_weight_grad(long M, long T, long L, long images, const long *offsets,
                              const float *g, long ldg, long g_image_stride,
                              const float *src, long src_image_stride, float beta, float *dw, long ldw);
/// The input gradient as a scatter: dx[r * ldx + j + offsets[t]] += sum_o W[o, r, t] *
/// g[o * ldg + j] for r < M, taps t, j < L rounded up to 16 (packed by fovea_direct_pack with
/// rows r, outer t, inner o). Rows of g must be readable, and zero past L, up to that
/// rounded L; rows of dx must hold it plus max(offsets).
void fovea_direct_scatter(long M, long O, long taps, const long *offsets, const float *packed,
                          const float *g, long ldg, long L, float *dx, long ldx);
// Direct stride-1 convolution with the output channels across the lanes, 2x2-max-pooled
// (direct_lanes.c): only the kept positions are computed, a pooling window at a time.
/// The packed weights' row length for M output channels: M rounded up to 16.
long fovea_lanes_width(long M);
/// Packs w[m * ldw + t] (M rows, T taps) as packed[t * fovea_lanes_width(M) + m], lanes past
/// M zero.
void fovea_lanes_pack(long M, long T, const float *w, long ldw, float *packed);
/// output[m * OH * OW + oy * OW + ox] = max over a, b in {0, 1} of max(0, acc + shift[m]) with
/// acc = sum_t packed[t * Mp + m] * src[(2oy + a) * Wp + 2ox + b + offsets[t]] (taps summed in
/// order t = 0, 1, ..., as fovea_direct_conv sums them), for m < M; shift may be NULL (0).
/// pooled is scratch for OH * OW * fovea_lanes_width(M) floats. Every position read must be
/// inside src: no wide columns are computed.
void fovea_lanes_conv_maxpool_relu(long M, long T, const long *offsets, const float *packed, const float *src,
                                   long Wp, long OH, long OW, const float *shift, float *pooled, float *output);
// Batch normalisation over rows of n floats (batchnorm.c): row r of a call is row
// first_row + r of an [N, C, n] tensor, whose channel c is (first_row + r) % C. Sums use
// eight float lanes per row, combined in a fixed order, and are returned per row in double.
// The backward takes the forward's input and recomputes xh = (x - mean[c]) * invstd[c]
// (and v below) exactly as the forward computed them.
/// out[r] = sum of row r, or with mean the sum of (x - mean[channel])^2.
void fovea_bn_statistics(long rows, long n, long C, long first_row, const float *x, const float *mean, double *out);
/// v = gamma[c] * xh + beta[c] (gamma, beta may be NULL: 1, 0), and y = v, or with slope
/// y = prelu(v) = v > 0 ? v : a * v, a being slope[c] when per_channel and slope[0] otherwise.
void fovea_bn_forward(long rows, long n, long C, long first_row, const float *x, const float *mean,
                      const float *invstd, const float *gamma, const float *beta, const float *slope, int per_channel,
                      float *y);
/// sum_dy[r] = sum of d over row r and sum_dy_xh[r] = sum of d * xh, where d = dy, or with
/// slope d = v > 0 ? dy : a * dy; then also sum_da[r] = sum of dy * v over v <= 0
/// (sum_da is not touched without slope).
void fovea_bn_backward_sums(long rows, long n, long C, long first_row, const float *dy, const float *x,
                            const float *mean, const float *invstd, const float *gamma, const float *beta,
                            const float *slope, int per_channel, double *sum_dy, double *sum_dy_xh, double *sum_da);
/// dx = k[c] * (count * d - sd[c] - xh * sdx[c]) (batch statistics), or k[c] * d when sd
/// is NULL, with d as in fovea_bn_backward_sums.
void fovea_bn_backward(long rows, long n, long C, long first_row, const float *dy, const float *x, const float *mean,
                       const float *invstd, const float *gamma, const float *beta, const float *slope, int per_channel,
                       const float *k, float count, const float *sd, const float *sdx, float *dx);
// Batch normalisation of short rows (n < 8; [N, C] is n = 1), whole tensor per call: sums
// per channel ([C] doubles), accumulated sample by sample in double. The elementwise
// passes of short rows use fovea_bn_forward and fovea_bn_backward over all N * C rows.
/// out[c] = sum of channel c's values, or with mean the sum of (x - mean[c])^2.
void fovea_bn_columns_statistics(long N, long C, long n, const float *x, const float *mean, double *out);
/// fovea_bn_backward_sums' sums, per channel.
void fovea_bn_columns_backward_sums(long N, long C, long n, const float *dy, const float *x, const float *mean,
                                    const float *invstd, const float *gamma, const float *beta, const float *slope,
                                    int per_channel, double *sum_dy, double *sum_dy_xh, double *sum_da);
/// data[p, i] = scale[p] * data[p, i] + shift[p], then max(0, .) when relu, over `planes`
/// contiguous planes of `plane` floats (planes.c). scale and shift may be NULL (1 and 0).
void fovea_scale_shift_planes(long planes, long plane, float *data, const float *scale, const float *shift, int relu);
/// Copies planes of H x W floats (contiguous in src) to dst[p * plane_stride + first +
/// y * row_stride + x] and zeroes the rest of dst[0 ..< dst_len) (rows must not overlap and
/// must come in increasing order, W <= row_stride).
void fovea_spread_planes(long planes, long H, long W, const float *src, float *dst, long dst_len,
                         long plane_stride, long row_stride, long first);
/// fovea_spread_planes of src where mask > 0 and of zeros elsewhere (mask shaped as src):
/// a ReLU's backward on the way into a convolution's backward.
void fovea_spread_planes_masked(long planes, long H, long W, const float *src, const float *mask, float *dst,
                                long dst_len, long plane_stride, long row_stride, long first);
/// The backward of a ReLU then a 2x2, stride-2 max pool that tiles its input (H = 2 * OH,
/// W = 2 * OW), spread as fovea_spread_planes spreads: each window's gradient d_pooled goes
/// to its argmax (the flat in-plane index of fovea_maxpool2x2_forward) where the pooled
/// value is positive; every other element of dst[0 ..< dst_len) is zero. With sums non-NULL,
/// sums[p] receives the total that plane p received (the bias gradient's share of its image).
void fovea_spread_pooled(long planes, long OH, long OW, const float *d_pooled, const int *argmax, const float *pooled,
                         float *dst, long dst_len, long plane_stride, long row_stride, long first, double *sums);
/// out[p] = the sum of src[p * n ..< (p + 1) * n], for `planes` contiguous planes (planes.c):
/// eight float lanes, combined in a fixed order, so every build gives the same sums.
void fovea_plane_sums(long planes, long n, const float *src, double *out);
/// The reverse of fovea_spread_planes (planes.c): dst[p, y, x] (contiguous planes) = scale[p] * src[p * plane_stride + first +
/// y * row_stride + x] + shift[p], then max(0, .) when relu, added to dst when accumulate.
/// scale and shift may be NULL (1 and 0).
void fovea_gather_planes(long planes, long H, long W, const float *src, long plane_stride, long row_stride,
                         long first, const float *scale, const float *shift, int relu, int accumulate, float *dst);
/// One Adam step's settings: the bias corrections are 1 - beta^t and sqrt(1 - beta2^t);
/// decoupled != 0 is AdamW (theta *= 1 - lr * weight_decay), else L2 (g += wd * theta).
typedef struct {
    float beta1, beta2, eps, lr, weight_decay, bias_correction1, root_bias_correction2;
    int decoupled;
} fovea_adam_settings;
/// Adam on n elements: m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2, with AMSGrad (vmax
/// non-NULL) vmax = max(vmax, v) as the second moment; theta -= (lr / c1) m / (sqrt(v') /
/// sqrt(c2) + eps), PyTorch's placement of eps.
void fovea_adam_update(long n, float *theta, const float *g, float *m, float *v, float *vmax,
                       const fovea_adam_settings *s);
/// One SGD step's settings (sgd.c): learning rate, momentum, damping = 1 - dampening, L2
/// weight decay, Nesterov != 0.
typedef struct {
    float lr, momentum, damping, weight_decay;
    int nesterov;
} fovea_sgd_settings;
/// SGD on n elements, PyTorch's rule: g' = g + wd theta; with momentum (v non-NULL)
/// v = g' on the first step (first != 0), else v = momentum v + damping g', and
/// theta -= lr (g' + momentum v) with Nesterov, lr v without; no momentum: theta -= lr g'.
void fovea_sgd_update(long n, float *theta, const float *g, float *v, int first, const fovea_sgd_settings *s);
/// out[i] = max(0, a[i] + b[i]) (elementwise.c): a residual block's output.
void fovea_add_relu(long n, const float *a, const float *b, float *out);
/// d[i] = y[i] > 0 ? g[i] : 0: the backward of a ReLU whose output is y.
void fovea_relu_mask(long n, const float *y, const float *g, float *d);
/// y = x > 0 ? x : slope * x (PReLU with one slope over n values; elementwise.c).
void fovea_prelu_forward(long n, const float *x, float slope, float *y);
/// dx = x > 0 ? dy : slope * dy; returns the sum of dy * x over x <= 0 (eight float lanes,
/// combined in a fixed order).
float fovea_prelu_backward(long n, const float *x, float slope, const float *dy, float *dx);
/// Moves the pages of [from, from + bytes) to [to, to + bytes) without copying them
/// (Linux's mremap with MREMAP_FIXED; whatever was mapped at `to` is unmapped first).
/// Returns 0, or -1 where it fails or the system cannot do it.
int fovea_move_pages(void *from, size_t bytes, void *to);

#ifdef __cplusplus
}
#endif
#endif
