// Implicit GEMM for unpadded, stride-1, undilated convolutions: the two products of the
// lowered convolution that read the column matrix (the forward, W * col, and the weight
// gradient, dOut * col^T) pack their B slivers straight from the images, so im2col's
// matrix is never written to memory and read back.
//
// Names: the geometry is a fovea_conv_shape with sh = sw = dh = dw = 1 and pt = pl = 0.
// The column matrix col[k, p] of `images` images has K = Cg * kh * kw rows, k = (c, i, j),
// and P = images * OH * OW columns, p = (n, y, x), with
//   col[k, p] = x[base(p) + off(k)],  base(p) = n * image_stride + y * W + x,
//                                     off(k) = c * H * W + i * W + j.
// A run of 8 columns whose bases are consecutive (8 pixels of one output row) reads 8
// consecutive floats; other runs are gathered. The driver loops are those of the general
// GEMM's single-A-panel path (sgemm.c), with the micro-kernels and A packers of the GEMM.
#include "FoveaKernels.h"
#include "sgemm_internal.h"

#include <limits.h>
#include <string.h>

enum { MR = FOVEA_MR, NR = FOVEA_NR, KC = FOVEA_KC, MC = FOVEA_MC };

/// base(p) of `count` consecutive columns from p0 (count <= NR); columns past the matrix's
/// last get base 0 and valid[t] = 0.
static void column_bases(const fovea_conv_shape *g, long image_stride, long columns, long p0, long count,
                         int base[NR], int valid[NR]) {
    const long plane = g->out_height * g->out_width;
    for (long t = 0; t < NR; t++) {
        const long p = p0 + t;
        valid[t] = t < count && p < columns;
        if (!valid[t]) { base[t] = 0; continue; }
        const long n = p / plane, r = p % plane;
        base[t] = (int)(n * image_stride + (r / g->out_width) * g->width + r % g->out_width);
    }
}

/// off(k) for k0 <= k < k0 + count (count <= NR); rows past K get 0 and valid[t] = 0.
static void row_offsets(const fovea_conv_shape *g, long K, long k0, long count, int off[NR], int valid[NR]) {
    const long taps = g->kh * g->kw;
    for (long t = 0; t < NR; t++) {
        const long k = k0 + t;
        valid[t] = t < count && k < K;
        if (!valid[t]) { off[t] = 0; continue; }
        const long c = k / taps, i = (k % taps) / g->kw, j = k % g->kw;
        off[t] = (int)(c * g->height * g->width + i * g->width + j);
    }
}

/// Whether lanes [h, h + 8) of base are 8 consecutive valid offsets.
static inline int consecutive8(const int base[NR], const int valid[NR], int h) {
    return valid[h + 7] && base[h + 7] - base[h] == 7;
}

// ---------------------------------------------------------------------------------------
// Portable packers.

/// The forward's B sliver: rows k0 .. k0 + kc of col, columns p0 .. p0 + 15 (zero past P).
static void pack_columns_portable(const fovea_conv_shape *g, const float *x, long image_stride, long columns,
                                  long k0, long kc, long p0, long n, float *dst) {
    int base[NR], valid[NR], off[NR], vk[NR];
    column_bases(g, image_stride, columns, p0, n, base, valid);
    const long K = g->channels * g->kh * g->kw;
    for (long k = 0; k < kc; k++) {
        row_offsets(g, K, k0 + k, 1, off, vk);
        for (int t = 0; t < NR; t++) dst[k * NR + t] = valid[t] ? x[base[t] + off[0]] : 0.0f;
    }
}

/// The weight gradient's B sliver (op(B) = col^T): rows p0 .. p0 + kc (columns of col),
/// columns k0 .. k0 + 15 (rows of col, zero past K).
static void pack_columns_t_portable(const fovea_conv_shape *g, const float *x, long image_stride, long columns,
                                    long p0, long kc, long k0, long n, float *dst) {
    int off[NR], valid[NR], base[NR], vp[NR];
    const long K = g->channels * g->kh * g->kw;
    row_offsets(g, K, k0, n, off, valid);
    for (long p = 0; p < kc; p++) {
        column_bases(g, image_stride, columns, p0 + p, 1, base, vp);
        for (int t = 0; t < NR; t++) dst[p * NR + t] = valid[t] ? x[base[0] + off[t]] : 0.0f;
    }
}

// ---------------------------------------------------------------------------------------
// AVX2 packers.

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#include "transpose_avx2.h"

#define FOVEA_AVX2 __attribute__((target("avx2,fma")))

FOVEA_AVX2 static inline __m256i lane_mask(const int valid[NR], int h) {
    return _mm256_setr_epi32(-valid[h], -valid[h + 1], -valid[h + 2], -valid[h + 3], -valid[h + 4],
                             -valid[h + 5], -valid[h + 6], -valid[h + 7]);
}

/// Where lanes [h, h + 8) of base, all valid, are two runs of consecutive offsets (the end
/// of one output row, then the start of the next): the first lane of the second run, else 0.
static inline int second_run8(const int base[NR], const int valid[NR], int h) {
    if (!valid[h + 7]) return 0;
    int split = 0;
    for (int t = h + 1; t < h + 8; t++) {
        if (base[t] == base[t - 1] + 1) continue;
        if (split) return 0;
        split = t - h;
    }
    return split;
}

/// Lanes [h, h + 8) of a k step: one load for a run, two loads and a blend for two runs,
/// a gather otherwise. With two runs split at s, the first load's lanes past s and the
/// second's (it starts s floats before the second run) before s are dropped; both read
/// between the first and the last lane's pixels, so nothing outside the image.
#define FOVEA_HALF_ROW(run, split, blend, h, index, mask)                                              \
    ((run) ? _mm256_loadu_ps(src + base[h])                                                            \
     : (split) ? _mm256_blendv_ps(_mm256_loadu_ps(src + base[h]), _mm256_loadu_ps(src + base[(h) + (split)] - (split)), \
                                  (blend))                                                             \
               : _mm256_mask_i32gather_ps(zero, src, (index), (mask), 4))

FOVEA_AVX2 static void pack_columns_avx2(const fovea_conv_shape *g, const float *x, long image_stride, long columns,
                                         long k0, long kc, long p0, long n, float *dst) {
    int base[NR], valid[NR];
    column_bases(g, image_stride, columns, p0, n, base, valid);
    const int run0 = consecutive8(base, valid, 0), run1 = consecutive8(base, valid, 8);
    const int split0 = run0 ? 0 : second_run8(base, valid, 0), split1 = run1 ? 0 : second_run8(base, valid, 8);
    const __m256i i0 = _mm256_loadu_si256((const __m256i *)base), i1 = _mm256_loadu_si256((const __m256i *)(base + 8));
    const __m256 m0 = _mm256_castsi256_ps(lane_mask(valid, 0)), m1 = _mm256_castsi256_ps(lane_mask(valid, 8));
    // Lanes from the second run: t >= split.
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256 b0 = _mm256_castsi256_ps(_mm256_cmpgt_epi32(lane, _mm256_set1_epi32(split0 - 1)));
    const __m256 b1 = _mm256_castsi256_ps(_mm256_cmpgt_epi32(lane, _mm256_set1_epi32(split1 - 1)));
    const __m256 zero = _mm256_setzero_ps();
    // Step k = (c, i, j) without divisions.
    const long taps = g->kh * g->kw;
    long c = k0 / taps, i = (k0 % taps) / g->kw, j = k0 % g->kw;
    for (long k = 0; k < kc; k++) {
        const float *src = x + c * g->height * g->width + i * g->width + j;
        const __m256 lo = FOVEA_HALF_ROW(run0, split0, b0, 0, i0, m0);
        const __m256 hi = FOVEA_HALF_ROW(run1, split1, b1, 8, i1, m1);
        _mm256_store_ps(dst + k * NR, lo);
        _mm256_store_ps(dst + k * NR + 8, hi);
        if (++j == g->kw) {
            j = 0;
            if (++i == g->kh) { i = 0; c++; }
        }
    }
}

FOVEA_AVX2 static void pack_columns_t_avx2(const fovea_conv_shape *g, const float *x, long image_stride, long columns,
                                           long p0, long kc, long k0, long n, float *dst) {
    int off[NR], valid[NR];
    const long K = g->channels * g->kh * g->kw;
    row_offsets(g, K, k0, n, off, valid);
    const __m256i o0 = _mm256_loadu_si256((const __m256i *)off), o1 = _mm256_loadu_si256((const __m256i *)(off + 8));
    const __m256 m0 = _mm256_castsi256_ps(lane_mask(valid, 0)), m1 = _mm256_castsi256_ps(lane_mask(valid, 8));
    const __m256 zero = _mm256_setzero_ps();
    long p = 0;
    while (p < kc) {
        int base[NR], vp[NR];
        column_bases(g, image_stride, columns, p0 + p, 8, base, vp);
        if (p + 8 <= kc && consecutive8(base, vp, 0)) {
            // 8 pixels of one output row: each of the 16 rows of col gives 8 consecutive
            // floats, and two 8x8 transposes turn them into 8 k steps of the sliver.
            const float *src = x + base[0];
            __m256 r[8];
            for (int half = 0; half < 2; half++) {
                for (int t = 0; t < 8; t++) {
                    const int lane = half * 8 + t;
                    r[t] = valid[lane] ? _mm256_loadu_ps(src + off[lane]) : zero;
                }
                fovea_transpose8x8(r);
                for (int s = 0; s < 8; s++) _mm256_store_ps(dst + (p + s) * NR + half * 8, r[s]);
            }
            p += 8;
        } else {
            // A row boundary or the end: one pixel at a time, its 16 values gathered.
            for (int s = 0; s < 8 && p < kc; s++, p++) {
                const float *src = x + (vp[s] ? base[s] : 0);
                const __m256 lo = vp[s] ? _mm256_mask_i32gather_ps(zero, src, o0, m0, 4) : zero;
                const __m256 hi = vp[s] ? _mm256_mask_i32gather_ps(zero, src, o1, m1, 4) : zero;
                _mm256_store_ps(dst + p * NR, lo);
                _mm256_store_ps(dst + p * NR + 8, hi);
            }
        }
    }
}
#endif

// ---------------------------------------------------------------------------------------
// The drivers.

typedef void (*columns_packer)(const fovea_conv_shape *g, const float *x, long image_stride, long columns,
                               long a0, long kc, long b0, long n, float *dst);

/// Adds an m x NR tile T (row stride NR) of the column gradient onto the pixels im2col read
/// it from: dx[base[q] + off[r]] += T[r, q], off[r] being off(k) of the tile's row r and
/// base / valid (column_bases) those of its columns.
typedef void (*tile_scatter)(const float *T, long m, const int *off, const int base[NR], const int valid[NR],
                             float *dx);

typedef struct {
    fovea_microkernel_fn kernel;
    fovea_pack_a_fn pack_a;
    fovea_pack_b_fn pack_b;
    columns_packer pack_columns, pack_columns_t;
    tile_scatter scatter;
    fovea_epilogue_block_fn epilogue;
} implicit_impl;

// The scatter's body: a half-tile of 8 columns with consecutive bases is one contiguous run of
// 8 pixels per row (compiled to one vector add where the target has them); others go lane
// by lane.
static inline __attribute__((always_inline))
void scatter_tile_body(const float *T, long m, const int *off, const int base[NR], const int valid[NR], float *dx) {
    for (int h = 0; h < NR; h += 8) {
        if (consecutive8(base, valid, h)) {
            for (long r = 0; r < m; r++) {
                float *d = dx + base[h] + off[r];
                const float *t = T + r * NR + h;
                for (int q = 0; q < 8; q++) d[q] += t[q];
            }
        } else {
            for (long r = 0; r < m; r++) {
                for (int q = h; q < h + 8; q++) {
                    if (valid[q]) dx[base[q] + off[r]] += T[r * NR + q];
                }
            }
        }
    }
}

static void scatter_tile_portable(const float *T, long m, const int *off, const int base[NR], const int valid[NR],
                                  float *dx) {
    scatter_tile_body(T, m, off, base, valid, dx);
}

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx2,fma")))
static void scatter_tile_avx2(const float *T, long m, const int *off, const int base[NR], const int valid[NR],
                              float *dx) {
    scatter_tile_body(T, m, off, base, valid, dx);
}
#endif

static implicit_impl select_implicit(void) {
#if defined(__x86_64__) || defined(__i386__)
    if (fovea_sgemm_uses_avx2())
        return (implicit_impl){fovea_microkernel_avx2, fovea_pack_a_avx2, fovea_pack_b_avx2, pack_columns_avx2,
                               pack_columns_t_avx2, scatter_tile_avx2, fovea_epilogue_block_avx2};
#endif
    return (implicit_impl){fovea_microkernel_portable, fovea_pack_a_portable, fovea_pack_b_portable,
                           pack_columns_portable, pack_columns_t_portable, scatter_tile_portable,
                           fovea_epilogue_block_portable};
}

/// C[M, N] = A[M, depth] * B[depth, j0 .. j0 + N] + beta * C, B's slivers coming from
/// `pack`: pack(.., d0, kc, j, n, dst) writes depth d0 .. d0 + kc of columns j .. j + n.
/// With `ep`, each tile gets it (fovea_sgemm_epilogue's, rows and columns counted from C's
/// first) as the last pass over the depth leaves the tile. Returns 0 (and computes
/// nothing) when the packing buffers cannot be had.
static int implicit_product(const implicit_impl *impl, columns_packer pack, const fovea_conv_shape *g,
                            const float *x, long image_stride, long columns, long M, long j0, long N, long depth,
                            const float *A, long lda, float beta, float *C, long ldc, const fovea_gemm_epilogue *ep) {
    const long kc_max = fovea_balanced_block(depth, KC, 8);
    const long mc_max = fovea_balanced_block(M, MC, MR);
    float *Ap, *Bp;
    if (!fovea_sgemm_buffers((size_t)((mc_max + MR - 1) / MR * MR) * (size_t)kc_max, (size_t)NR * (size_t)kc_max,
                             &Ap, &Bp))
        return 0;
    for (long ic = 0; ic < M; ic += mc_max) {
        const long mc = M - ic < mc_max ? M - ic : mc_max;
        for (long pc = 0; pc < depth; pc += kc_max) {
            const long kc = depth - pc < kc_max ? depth - pc : kc_max;
            const float beta_pass = pc == 0 ? beta : 1.0f;
            const fovea_gemm_epilogue *tile_ep = pc + kc == depth ? ep : NULL;
            impl->pack_a(0, mc, kc, A + ic * lda + pc, lda, Ap);
            for (long jr = 0; jr < N; jr += NR) {
                const long n = N - jr < NR ? N - jr : NR;
                pack(g, x, image_stride, columns, pc, kc, j0 + jr, n, Bp);
                for (long ir = 0; ir < mc; ir += MR) {
                    const long m = mc - ir < MR ? mc - ir : MR;
                    float *tile = C + (ic + ir) * ldc + jr;
                    // As the GEMM does: the tile's residual lines are on their way while it is computed.
                    if (tile_ep && tile_ep->residual)
                        for (long r = 0; r < m; r++) __builtin_prefetch(tile_ep->residual + (ic + ir + r) * tile_ep->ldr + jr);
                    impl->kernel(kc, Ap + ir * kc, Bp, NR, tile, ldc, m, n, 1.0f, beta_pass);
                    if (tile_ep) impl->epilogue(tile_ep, ic + ir, jr, m, n, tile, ldc);
                }
            }
        }
    }
    return 1;
}

int fovea_implicit_forward(const fovea_conv_shape *g, const float *x, long image_stride, long images, long M,
                           const float *W, long ldw, float *C, long ldc) {
    const long P = images * g->out_height * g->out_width;
    return fovea_implicit_forward_block(g, x, image_stride, images, M, W, ldw, 0, P, C, ldc, NULL);
}

int fovea_implicit_forward_block(const fovea_conv_shape *g, const float *x, long image_stride, long images, long M,
                                 const float *W, long ldw, long col0, long N, float *C, long ldc,
                                 const fovea_gemm_epilogue *ep) {
    if (images * image_stride > INT_MAX) return 0;
    const implicit_impl impl = select_implicit();
    const long K = g->channels * g->kh * g->kw, P = images * g->out_height * g->out_width;
    return implicit_product(&impl, impl.pack_columns, g, x, image_stride, P, M, col0, N, K, W, ldw, 0.0f, C, ldc, ep);
}

void fovea_pad_planes(long planes, long height, long width, long pt, long pb, long pl, long pr, const float *src,
                      float *dst) {
    const long pw = width + pl + pr;
    for (long p = 0; p < planes; p++) {
        const float *s = src + p * height * width;
        float *d = dst + p * (height + pt + pb) * pw;
        memset(d, 0, (size_t)(pt * pw) * sizeof(float));
        d += pt * pw;
        for (long y = 0; y < height; y++, d += pw, s += width) {
            memset(d, 0, (size_t)pl * sizeof(float));
            memcpy(d + pl, s, (size_t)width * sizeof(float));
            memset(d + pl + width, 0, (size_t)pr * sizeof(float));
        }
        memset(d, 0, (size_t)(pb * pw) * sizeof(float));
    }
}

int fovea_implicit_weight_grad(const fovea_conv_shape *g, const float *x, long image_stride, long images, long M,
                               const float *dout, long ldd, float beta, float *dw, long ldw) {
    if (images * image_stride > INT_MAX) return 0;
    const implicit_impl impl = select_implicit();
    const long K = g->channels * g->kh * g->kw, P = images * g->out_height * g->out_width;
    return implicit_product(&impl, impl.pack_columns_t, g, x, image_stride, P, M, 0, K, P, dout, ldd, beta, dw, ldw, NULL);
}

int fovea_implicit_input_grad(const fovea_conv_shape *g, const float *dout, long ldd, long images, long M,
                              const float *W, long ldw, float *dx, long image_stride) {
    if (images * image_stride > INT_MAX || M > KC) return 0;
    const implicit_impl impl = select_implicit();
    const long K = g->channels * g->kh * g->kw, P = images * g->out_height * g->out_width;
    // The whole depth (M, the output channels) in one pass, so each tile is final when the
    // micro-kernel leaves it and can be scattered at once.
    const long mc_max = fovea_balanced_block(K, MC, MR);
    float *Ap, *Bp;
    if (!fovea_sgemm_buffers((size_t)((mc_max + MR - 1) / MR * MR) * (size_t)M, (size_t)NR * (size_t)M, &Ap, &Bp))
        return 0;
    int off[MC + NR], base[NR], valid[NR], unused[NR]; // row_offsets writes NR entries a call
    float T[MR * NR] __attribute__((aligned(32)));
    for (long ic = 0; ic < K; ic += mc_max) {
        const long mc = K - ic < mc_max ? K - ic : mc_max;
        // op(A) = W^T: rows ic .. ic + mc of the column matrix, depth M.
        impl.pack_a(1, mc, M, W + ic, ldw, Ap);
        for (long r = 0; r < mc; r += NR) row_offsets(g, K, ic + r, mc - r < NR ? mc - r : NR, off + r, unused);
        for (long jr = 0; jr < P; jr += NR) {
            const long n = P - jr < NR ? P - jr : NR;
            impl.pack_b(0, M, n, dout + jr, ldd, Bp);
            column_bases(g, image_stride, P, jr, n, base, valid);
            for (long ir = 0; ir < mc; ir += MR) {
                const long m = mc - ir < MR ? mc - ir : MR;
                // B's columns past n are zero, so the whole 16-wide tile can be computed.
                impl.kernel(M, Ap + ir * M, Bp, NR, T, NR, m, NR, 1.0f, 0.0f);
                impl.scatter(T, m, off + ir, base, valid, dx);
            }
        }
    }
    return 1;
}
