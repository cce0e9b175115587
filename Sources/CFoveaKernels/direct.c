// Direct stride-1 convolution on "wide" planes: the kernels that replace im2col + GEMM for
// convolutions with few channels (LeNet's), where writing and re-reading the column matrix
// costs more than the arithmetic.
//
// The idea: pad each input plane into Hp x Wp (Wp = W + pl + pr) and number its pixels
// row-major. Output pixel (y, x) of a stride-1 convolution then sits at j = y * Wp + x, and
// kernel tap (c, ky, kx) reads input position j + off, off = c * plane + ky*dh * Wp + kx*dw,
// the same offset for every output pixel. So the convolution is a product C[M, L] =
// W[M, T] * B[T, L] whose B row t is the input itself shifted by off[t]: no copy at all.
// Positions with x >= OW ("wide" columns) are computed too and thrown away; for LeNet's
// 28-wide first layer that is 4 columns in 32.
//
// Names: M output rows (channels), T taps, L positions, off[t] the tap offsets, ldd / ldg
// row strides of the wide output / gradient. Packed weights: blocks of DR = 6 rows, each
// T x 6 (tap-major, rows zero-padded), so one tap's six weights are adjacent.
#include "FoveaKernels.h"

enum { DR = 6, DN = 16 };

void fovea_direct_pack(long M, long outer, long inner, const float *w, long row_stride, long outer_stride,
                       long inner_stride, float *packed) {
    const long T = outer * inner;
    for (long rb = 0; rb < M; rb += DR) {
        float *blk = packed + rb * T;
        for (long o = 0; o < outer; o++) {
            for (long i = 0; i < inner; i++) {
                float *dst = blk + (o * inner + i) * DR;
                const float *src = w + rb * row_stride + o * outer_stride + i * inner_stride;
                if (rb + DR <= M) {
                    for (long r = 0; r < DR; r++) dst[r] = src[r * row_stride];
                } else {
                    for (long r = 0; r < DR; r++) dst[r] = rb + r < M ? src[r * row_stride] : 0.0f;
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Portable kernels.

static void direct_conv_portable(long M, long L, long T, const long *off, const float *packed,
                                 const float *src, float *dst, long ldd) {
    for (long rb = 0; rb < M; rb += DR) {
        const long m = M - rb < DR ? M - rb : DR;
        const float *blk = packed + rb * T;
        for (long j0 = 0; j0 < L; j0 += DN) {
            const long n = L - j0 < DN ? L - j0 : DN;
            float acc[DR][DN] = {{0}};
            for (long t = 0; t < T; t++) {
                const float *s = src + j0 + off[t];
                const float *w = blk + t * DR;
                for (long r = 0; r < DR; r++) {
                    for (long q = 0; q < DN; q++) acc[r][q] += w[r] * s[q];
                }
            }
            for (long r = 0; r < m; r++) {
                for (long q = 0; q < n; q++) dst[(rb + r) * ldd + j0 + q] = acc[r][q];
            }
        }
    }
}

static void direct_weight_grad_portable(long M, long T, long L, long images, const long *off,
                                        const float *g, long ldg, long g_image_stride,
                                        const float *src, long src_image_stride, float beta, float *dw, long ldw) {
    for (long r = 0; r < M; r++) {
        for (long t = 0; t < T; t++) {
            float s = 0.0f;
            for (long b = 0; b < images; b++) {
                const float *gr = g + b * g_image_stride + r * ldg;
                const float *x = src + b * src_image_stride + off[t];
                for (long j = 0; j < L; j++) s += gr[j] * x[j];
            }
            float *d = dw + r * ldw + t;
            *d = beta == 0.0f ? s : beta * *d + s;
        }
    }
}

// The input gradient, scattered: for each tap t (the kernel's in-plane offsets only) and
// position j, dx[r, j + off[t]] += sum_o W[o, r, t] * g[o, j]. The gradient's positions
// are the output's, so nothing is computed for the zeros an input-side (gather) form
// would read around the borders. Packed weights: blocks of DR rows r, each taps x O x DR.
static void direct_scatter_portable(long M, long O, long taps, const long *off, const float *packed,
                                    const float *g, long ldg, long L, float *dx, long ldx) {
    for (long rb = 0; rb < M; rb += DR) {
        const long m = M - rb < DR ? M - rb : DR;
        const float *blk = packed + rb * taps * O;
        for (long j0 = 0; j0 < L; j0 += DN) {
            for (long t = 0; t < taps; t++) {
                float acc[DR][DN] = {{0}};
                for (long o = 0; o < O; o++) {
                    const float *s = g + o * ldg + j0;
                    const float *w = blk + (t * O + o) * DR;
                    for (long r = 0; r < DR; r++) {
                        for (long q = 0; q < DN; q++) acc[r][q] += w[r] * s[q];
                    }
                }
                for (long r = 0; r < m; r++) {
                    float *d = dx + (rb + r) * ldx + j0 + off[t];
                    for (long q = 0; q < DN; q++) d[q] += acc[r][q];
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// AVX2 kernels.

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#include "lanes_avx2.h"

#define FOVEA_AVX2 __attribute__((target("avx2,fma")))

// One row of the 6 x 16 tile: broadcast the tap's weight for row r, two FMAs.
#define DIRECT_ROW(r)                                                   \
    {                                                                   \
        const __m256 a = _mm256_broadcast_ss(w + r);                    \
        c##r##0 = _mm256_fmadd_ps(a, b0, c##r##0);                      \
        c##r##1 = _mm256_fmadd_ps(a, b1, c##r##1);                      \
    }

#define DIRECT_STORE(r)                                                 \
    if (r < m) {                                                        \
        _mm256_storeu_ps(d + r * ldd, c##r##0);                         \
        _mm256_storeu_ps(d + r * ldd + 8, c##r##1);                     \
    }

// A last block of at most 4 rows (16 channels = 6 + 6 + 4): the same tile with four rows,
// so the two zero rows of the packed block cost nothing.
FOVEA_AVX2 static void direct_conv_4rows_avx2(long m, long L, long T, const long *off, const float *blk,
                                              const float *src, float *dst, long ldd) {
    for (long j0 = 0; j0 < L; j0 += DN) {
        __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
        __m256 c30 = c00, c31 = c00;
        const float *s = src + j0;
        const float *w = blk;
        for (long t = 0; t < T; t++, w += DR) {
            const float *p = s + off[t];
            const __m256 b0 = _mm256_loadu_ps(p), b1 = _mm256_loadu_ps(p + 8);
            DIRECT_ROW(0) DIRECT_ROW(1) DIRECT_ROW(2) DIRECT_ROW(3)
        }
        float *d = dst + j0;
        DIRECT_STORE(0) DIRECT_STORE(1) DIRECT_STORE(2) DIRECT_STORE(3)
    }
}

FOVEA_AVX2 static void direct_conv_avx2(long M, long L, long T, const long *off, const float *packed,
                                        const float *src, float *dst, long ldd) {
    for (long rb = 0; rb < M; rb += DR) {
        const long m = M - rb < DR ? M - rb : DR;
        const float *blk = packed + rb * T;
        if (m <= 4) {
            direct_conv_4rows_avx2(m, L, T, off, blk, src, dst + rb * ldd, ldd);
            continue;
        }
        for (long j0 = 0; j0 < L; j0 += DN) {
            __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
            __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
            const float *s = src + j0;
            const float *w = blk;
            for (long t = 0; t < T; t++, w += DR) {
                const float *p = s + off[t];
                const __m256 b0 = _mm256_loadu_ps(p), b1 = _mm256_loadu_ps(p + 8);
                DIRECT_ROW(0) DIRECT_ROW(1) DIRECT_ROW(2) DIRECT_ROW(3) DIRECT_ROW(4) DIRECT_ROW(5)
            }
            // The wide rows are padded to whole 16-float blocks (the caller's contract).
            float *d = dst + rb * ldd + j0;
            DIRECT_STORE(0) DIRECT_STORE(1) DIRECT_STORE(2) DIRECT_STORE(3) DIRECT_STORE(4) DIRECT_STORE(5)
        }
    }
}

#define SCATTER_ADD(r)                                                                      \
    if (r < m) {                                                                            \
        float *d = dx + (rb + r) * ldx + j0 + off[t];                                       \
        _mm256_storeu_ps(d, _mm256_add_ps(_mm256_loadu_ps(d), c##r##0));                   \
        _mm256_storeu_ps(d + 8, _mm256_add_ps(_mm256_loadu_ps(d + 8), c##r##1));           \
    }

FOVEA_AVX2 static void direct_scatter_avx2(long M, long O, long taps, const long *off, const float *packed,
                                           const float *g, long ldg, long L, float *dx, long ldx) {
    for (long rb = 0; rb < M; rb += DR) {
        const long m = M - rb < DR ? M - rb : DR;
        const float *blk = packed + rb * taps * O;
        for (long j0 = 0; j0 < L; j0 += DN) {
            const float *s = g + j0;
            for (long t = 0; t < taps; t++) {
                __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
                __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
                const float *w = blk + t * O * DR;
                for (long o = 0; o < O; o++, w += DR) {
                    const float *p = s + o * ldg;
                    const __m256 b0 = _mm256_loadu_ps(p), b1 = _mm256_loadu_ps(p + 8);
                    DIRECT_ROW(0) DIRECT_ROW(1) DIRECT_ROW(2) DIRECT_ROW(3) DIRECT_ROW(4) DIRECT_ROW(5)
                }
                SCATTER_ADD(0) SCATTER_ADD(1) SCATTER_ADD(2) SCATTER_ADD(3) SCATTER_ADD(4) SCATTER_ADD(5)
            }
        }
    }
}

FOVEA_AVX2 static inline float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// The weight gradient in tiles of R rows x Q taps, R x Q = 12 accumulators: 4 x 3 (per 8
// positions four gradient loads, three shifted input loads, twelve FMAs) or 6 x 2 (six and
// two), whichever computes fewer padded rows and taps: 6 x 2 for LeNet's first layer (6
// rows, 25 taps: 156 products against 216), 4 x 3 for its second (16 rows, 150 taps). Rows
// and taps past the end of a tile repeat the last real one and are not stored.
#define WG_STORE(r, q)                                                              \
    if (r < m && q < nt) {                                                          \
        float *d = dw + (r0 + r) * ldw + t0 + q;                                    \
        const float v = hsum256(a[r][q]);                                           \
        *d = beta == 0.0f ? v : beta * *d + v;                                      \
    }

FOVEA_AVX2 static inline __attribute__((always_inline))
void direct_weight_grad_tiles(const int R, const int Q, long M, long T, long L, long images, const long *off,
                              const float *g, long ldg, long g_image_stride, const float *src, long src_image_stride,
                              float beta, float *dw, long ldw) {
    const long tail = L % 8, whole = L - tail;
    const __m256i mask = fovea_lanes_below(tail);
    for (long r0 = 0; r0 < M; r0 += R) {
        const long m = M - r0 < R ? M - r0 : R;
        long rows[6];
        for (int r = 0; r < R; r++) rows[r] = (r < m ? r : m - 1) * ldg;
        for (long t0 = 0; t0 < T; t0 += Q) {
            const long nt = T - t0 < Q ? T - t0 : Q;
            long o[3];
            for (int q = 0; q < Q; q++) o[q] = off[t0 + (q < nt ? q : nt - 1)];
            __m256 a[6][3];
            for (int r = 0; r < R; r++)
                for (int q = 0; q < Q; q++) a[r][q] = _mm256_setzero_ps();
            for (long b = 0; b < images; b++) {
                const float *gr = g + b * g_image_stride + r0 * ldg;
                const float *x = src + b * src_image_stride;
                long j = 0;
                for (; j < whole; j += 8) {
                    __m256 xv[3];
                    for (int q = 0; q < Q; q++) xv[q] = _mm256_loadu_ps(x + j + o[q]);
                    for (int r = 0; r < R; r++) {
                        const __m256 gv = _mm256_loadu_ps(gr + rows[r] + j);
                        for (int q = 0; q < Q; q++) a[r][q] = _mm256_fmadd_ps(gv, xv[q], a[r][q]);
                    }
                }
                if (tail) {
                    // Masked gradient loads: the lanes past L are zero, and the input
                    // lanes they meet are real (the caller pads the input).
                    __m256 xv[3];
                    for (int q = 0; q < Q; q++) xv[q] = _mm256_loadu_ps(x + j + o[q]);
                    for (int r = 0; r < R; r++) {
                        const __m256 gv = _mm256_maskload_ps(gr + rows[r] + j, mask);
                        for (int q = 0; q < Q; q++) a[r][q] = _mm256_fmadd_ps(gv, xv[q], a[r][q]);
                    }
                }
            }
            for (int r = 0; r < R; r++)
                for (int q = 0; q < Q; q++) WG_STORE(r, q)
        }
    }
}

FOVEA_AVX2 static void direct_weight_grad_avx2(long M, long T, long L, long images, const long *off,
                                               const float *g, long ldg, long g_image_stride,
                                               const float *src, long src_image_stride, float beta,
                                               float *dw, long ldw) {
    const long work4x3 = (M + 3) / 4 * 4 * ((T + 2) / 3 * 3), work6x2 = (M + 5) / 6 * 6 * ((T + 1) / 2 * 2);
    if (work6x2 < work4x3) {
        direct_weight_grad_tiles(6, 2, M, T, L, images, off, g, ldg, g_image_stride, src, src_image_stride, beta, dw, ldw);
    } else {
        direct_weight_grad_tiles(4, 3, M, T, L, images, off, g, ldg, g_image_stride, src, src_image_stride, beta, dw, ldw);
    }
}
#endif

void fovea_direct_conv(long M, long L, long T, const long *offsets, const float *packed,
                       const float *src, float *dst, long ldd) {
#if defined(__x86_64__) || defined(__i386__)
    if (fovea_sgemm_uses_avx2()) { direct_conv_avx2(M, L, T, offsets, packed, src, dst, ldd); return; }
#endif
    direct_conv_portable(M, L, T, offsets, packed, src, dst, ldd);
}

void fovea_direct_weight_grad(long M, long T, long L, long images, const long *offsets,
                              const float *g, long ldg, long g_image_stride,
                              const float *src, long src_image_stride, float beta, float *dw, long ldw) {
#if defined(__x86_64__) || defined(__i386__)
    if (fovea_sgemm_uses_avx2()) {
        direct_weight_grad_avx2(M, T, L, images, offsets, g, ldg, g_image_stride, src, src_image_stride, beta, dw, ldw);
        return;
    }
#endif
    direct_weight_grad_portable(M, T, L, images, offsets, g, ldg, g_image_stride, src, src_image_stride, beta, dw, ldw);
}

void fovea_direct_scatter(long M, long O, long taps, const long *offsets, const float *packed,
                          const float *g, long ldg, long L, float *dx, long ldx) {
#if defined(__x86_64__) || defined(__i386__)
    if (fovea_sgemm_uses_avx2()) { direct_scatter_avx2(M, O, taps, offsets, packed, g, ldg, L, dx, ldx); return; }
#endif
    direct_scatter_portable(M, O, taps, offsets, packed, g, ldg, L, dx, ldx);
}
