// Plane helpers around the convolution kernels: spreading planes into padded or wide
// buffers, gathering them back with a per-plane scale, shift and ReLU, and the same
// epilogue in place. Each loop is compiled for AVX2 (8 lanes) and portably; relu and
// accumulate are literals at each call site, so every variant is its own vectorised loop.
#include "FoveaKernels.h"
#include "reductions.h"

// fovea_spread_planes and its masked form. Rows are short (10 to 56 floats in LeNet and
// ResNet), so each row is written together with the gap after it (up to the next row, or
// to dst_len after the last): every float of dst is written once, with no memset of the
// whole buffer and no memcpy call per row. The portable rows are plain loops; the AVX2
// ones use masked loads and stores for the ragged ends.
#define SPREAD_BODY(FILL)                                                                   \
    const long first_row = planes > 0 && H > 0 ? first : dst_len;                          \
    for (long i = 0; i < first_row; i++) dst[i] = 0.0f;                                    \
    for (long p = 0; p < planes; p++) {                                                     \
        for (long y = 0; y < H; y++) {                                                      \
            const long at = p * plane_stride + first + y * row_stride;                      \
            const long next = y + 1 < H ? at + row_stride                                   \
                : p + 1 < planes ? (p + 1) * plane_stride + first : dst_len;               \
            const long i0 = (p * H + y) * W;                                                \
            FILL(dst + at, next - at, src + i0, mask ? mask + i0 : NULL, W);                \
        }                                                                                   \
    }

// d[0 ..< n) = src (masked: where mask > 0) for x < W, zeros after; W <= n.
static inline __attribute__((always_inline))
void fill_row_portable(float *restrict d, long n, const float *restrict s, const float *restrict m, long W) {
    if (m) {
        for (long x = 0; x < W; x++) d[x] = m[x] > 0.0f ? s[x] : 0.0f;
    } else {
        for (long x = 0; x < W; x++) d[x] = s[x];
    }
    for (long x = W; x < n; x++) d[x] = 0.0f;
}

static void spread_portable(long planes, long H, long W, const float *src, const float *mask, float *dst,
                            long dst_len, long plane_stride, long row_stride, long first) {
    SPREAD_BODY(fill_row_portable)
}

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#include "lanes_avx2.h"

__attribute__((target("avx2,fma"))) static inline __attribute__((always_inline))
void fill_row_avx2(float *d, long n, const float *s, const float *m, long W) {
    const __m256 zero = _mm256_setzero_ps();
    long x = 0;
    for (; x + 8 <= W; x += 8) {
        __m256 v = _mm256_loadu_ps(s + x);
        if (m) v = _mm256_and_ps(v, _mm256_cmp_ps(_mm256_loadu_ps(m + x), zero, _CMP_GT_OQ));
        _mm256_storeu_ps(d + x, v);
    }
    if (x < W) {
        // The last values, zeros in the lanes past W (a masked load reads nothing there).
        const __m256i k = fovea_lanes_below(W - x);
        __m256 v = _mm256_maskload_ps(s + x, k);
        if (m) v = _mm256_and_ps(v, _mm256_cmp_ps(_mm256_maskload_ps(m + x, k), zero, _CMP_GT_OQ));
        if (x + 8 <= n) _mm256_storeu_ps(d + x, v);
        else fovea_store_lanes(d + x, v, n - x);
        x += 8;
    }
    for (; x + 8 <= n; x += 8) _mm256_storeu_ps(d + x, zero);
    if (x < n) fovea_store_lanes(d + x, zero, n - x);
}

__attribute__((target("avx2,fma")))
static void spread_avx2(long planes, long H, long W, const float *src, const float *mask, float *dst,
                        long dst_len, long plane_stride, long row_stride, long first) {
    SPREAD_BODY(fill_row_avx2)
}
#endif

static void spread(long planes, long H, long W, const float *src, const float *mask, float *dst, long dst_len,
                   long plane_stride, long row_stride, long first) {
#if defined(__x86_64__) || defined(__i386__)
    if (fovea_sgemm_uses_avx2()) {
        spread_avx2(planes, H, W, src, mask, dst, dst_len, plane_stride, row_stride, first);
        return;
    }
#endif
    spread_portable(planes, H, W, src, mask, dst, dst_len, plane_stride, row_stride, first);
}

void fovea_spread_planes(long planes, long H, long W, const float *src, float *dst, long dst_len,
                         long plane_stride, long row_stride, long first) {
    spread(planes, H, W, src, NULL, dst, dst_len, plane_stride, row_stride, first);
}

void fovea_spread_planes_masked(long planes, long H, long W, const float *src, const float *mask, float *dst,
                                long dst_len, long plane_stride, long row_stride, long first) {
    spread(planes, H, W, src, mask, dst, dst_len, plane_stride, row_stride, first);
}

// fovea_spread_pooled. Every window writes all four of its cells (the gradient at its
// argmax, zeros elsewhere), so no branch depends on the data and only the cells outside
// the windows (wide columns, rows past 2 * OH, the gaps between planes) are zeroed apart.
// A cell receives d_pooled where the pooled value is positive (NaN is not), else +0, in
// both forms: the same bits either way. With `sums`, each plane's total of what it
// received is summed on the way, window ox into lane ox % 8 of eight float lanes (the same
// order in both forms), combined as fovea_plane_sums combines its lanes.
#define SPREAD_POOLED_BODY(ROW)                                                             \
    const long W = 2 * OW, H = 2 * OH;                                                      \
    const long first_row = planes > 0 && H > 0 ? first : dst_len;                          \
    for (long i = 0; i < first_row; i++) dst[i] = 0.0f;                                    \
    for (long p = 0; p < planes; p++) {                                                     \
        float *plane = dst + p * plane_stride + first;                                      \
        float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};                                            \
        for (long oy = 0; oy < OH; oy++) {                                                  \
            const long o = (p * OH + oy) * OW;                                              \
            ROW(OW, W, 2 * oy * W, d_pooled + o, argmax + o, pooled + o,                    \
                plane + 2 * oy * row_stride, plane + (2 * oy + 1) * row_stride, acc);       \
        }                                                                                   \
        if (sums) sums[p] = (double)(((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]))); \
        for (long y = 0; y < H; y++) {                                                      \
            const long at = p * plane_stride + first + y * row_stride;                      \
            const long next = y + 1 < H ? at + row_stride                                   \
                : p + 1 < planes ? (p + 1) * plane_stride + first : dst_len;               \
            for (long i = at + W; i < next; i++) dst[i] = 0.0f;                             \
        }                                                                                   \
    }

// One row of windows: `row_index` is the flat index of the top row's first cell.
static inline __attribute__((always_inline))
void spread_pooled_row_portable(long OW, long W, long row_index, const float *g, const int *arg, const float *pooled,
                                float *top, float *bottom, float acc[8]) {
    for (long ox = 0; ox < OW; ox++) {
        const float v = pooled[ox] > 0 ? g[ox] : 0.0f;
        acc[ox % 8] += v;
        // The argmax is one of the window's four cells: its offset from the window's
        // top-left corner is 0, 1, W or W + 1.
        const long d = arg[ox] - (row_index + 2 * ox);
        top[2 * ox] = d == 0 ? v : 0.0f;
        top[2 * ox + 1] = d == 1 ? v : 0.0f;
        bottom[2 * ox] = d == W ? v : 0.0f;
        bottom[2 * ox + 1] = d == W + 1 ? v : 0.0f;
    }
}

static void spread_pooled_portable(long planes, long OH, long OW, const float *d_pooled, const int *argmax,
                                   const float *pooled, float *dst, long dst_len, long plane_stride, long row_stride,
                                   long first, double *sums) {
    SPREAD_POOLED_BODY(spread_pooled_row_portable)
}

#if defined(__x86_64__) || defined(__i386__)
// Eight windows at a time: the four cell vectors, interleaved into 16 floats per row.
__attribute__((target("avx2,fma"))) static inline __attribute__((always_inline))
void spread_pooled_row_avx2(long OW, long W, long row_index, const float *g, const int *arg, const float *pooled,
                            float *top, float *bottom, float acc[8]) {
    const __m256i two_lanes = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
    const __m256i one = _mm256_set1_epi32(1), w0 = _mm256_set1_epi32((int)W), w1 = _mm256_set1_epi32((int)W + 1);
    const __m256 zero = _mm256_setzero_ps();
    for (long ox = 0; ox < OW; ox += 8) {
        const long left = OW - ox;
        const __m256i k = fovea_lanes_below(left);
        const __m256 gv = _mm256_maskload_ps(g + ox, k), pv = _mm256_maskload_ps(pooled + ox, k);
        const __m256i av = _mm256_maskload_epi32(arg + ox, k);
        const __m256 v = _mm256_and_ps(gv, _mm256_cmp_ps(pv, zero, _CMP_GT_OQ));
        _mm256_storeu_ps(acc, _mm256_add_ps(_mm256_loadu_ps(acc), v)); // lanes past OW add +0
        const __m256i d = _mm256_sub_epi32(av, _mm256_add_epi32(_mm256_set1_epi32((int)(row_index + 2 * ox)), two_lanes));
        const __m256 tl = _mm256_and_ps(v, _mm256_castsi256_ps(_mm256_cmpeq_epi32(d, _mm256_setzero_si256())));
        const __m256 tr = _mm256_and_ps(v, _mm256_castsi256_ps(_mm256_cmpeq_epi32(d, one)));
        const __m256 bl = _mm256_and_ps(v, _mm256_castsi256_ps(_mm256_cmpeq_epi32(d, w0)));
        const __m256 br = _mm256_and_ps(v, _mm256_castsi256_ps(_mm256_cmpeq_epi32(d, w1)));
        const __m256 tlo = _mm256_unpacklo_ps(tl, tr), thi = _mm256_unpackhi_ps(tl, tr);
        const __m256 blo = _mm256_unpacklo_ps(bl, br), bhi = _mm256_unpackhi_ps(bl, br);
        const long cells = 2 * left;
        fovea_store_lanes(top + 2 * ox, _mm256_permute2f128_ps(tlo, thi, 0x20), cells);
        fovea_store_lanes(bottom + 2 * ox, _mm256_permute2f128_ps(blo, bhi, 0x20), cells);
        if (cells > 8) {
            fovea_store_lanes(top + 2 * ox + 8, _mm256_permute2f128_ps(tlo, thi, 0x31), cells - 8);
            fovea_store_lanes(bottom + 2 * ox + 8, _mm256_permute2f128_ps(blo, bhi, 0x31), cells - 8);
        }
    }
}

__attribute__((target("avx2,fma")))
static void spread_pooled_avx2(long planes, long OH, long OW, const float *d_pooled, const int *argmax,
                               const float *pooled, float *dst, long dst_len, long plane_stride, long row_stride,
                               long first, double *sums) {
    SPREAD_POOLED_BODY(spread_pooled_row_avx2)
}
#endif

void fovea_spread_pooled(long planes, long OH, long OW, const float *d_pooled, const int *argmax, const float *pooled,
                         float *dst, long dst_len, long plane_stride, long row_stride, long first, double *sums) {
#if defined(__x86_64__) || defined(__i386__)
    if (fovea_sgemm_uses_avx2()) {
        spread_pooled_avx2(planes, OH, OW, d_pooled, argmax, pooled, dst, dst_len, plane_stride, row_stride, first, sums);
        return;
    }
#endif
    spread_pooled_portable(planes, OH, OW, d_pooled, argmax, pooled, dst, dst_len, plane_stride, row_stride, first, sums);
}

static void plane_sums_portable(long planes, long n, const float *src, double *out) {
    for (long p = 0; p < planes; p++) out[p] = fovea_row_reduce(src + p * n, NULL, 0.0f, n, FOVEA_SUM);
}

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx2,fma")))
static void plane_sums_avx2(long planes, long n, const float *src, double *out) {
    for (long p = 0; p < planes; p++) out[p] = fovea_row_reduce(src + p * n, NULL, 0.0f, n, FOVEA_SUM);
}
#endif

void fovea_plane_sums(long planes, long n, const float *src, double *out) {
#if defined(__x86_64__) || defined(__i386__)
    if (fovea_sgemm_uses_avx2()) { plane_sums_avx2(planes, n, src, out); return; }
#endif
    plane_sums_portable(planes, n, src, out);
}

// One row of fovea_gather_planes; relu and accumulate are constants at each call site, so
// every variant compiles to its own vectorised loop.
static inline __attribute__((always_inline))
void gather_row(float *restrict d, const float *restrict s, long W, float a, float b, int relu, int accumulate) {
    for (long x = 0; x < W; x++) {
        float v = a * s[x] + b;
        if (relu) v = v > 0.0f ? v : 0.0f;
        d[x] = accumulate ? d[x] + v : v;
    }
}

#define GATHER_PLANES(relu, accumulate)                                                     \
    for (long p = 0; p < planes; p++) {                                                     \
        const float a = scale ? scale[p] : 1.0f, b = shift ? shift[p] : 0.0f;              \
        for (long y = 0; y < H; y++) {                                                      \
            gather_row(dst + (p * H + y) * W, src + p * plane_stride + first + y * row_stride, \
                       W, a, b, relu, accumulate);                                          \
        }                                                                                   \
    }

#define GATHER_BODY                                                                         \
    if (accumulate) {                                                                       \
        if (relu) { GATHER_PLANES(1, 1) } else { GATHER_PLANES(0, 1) }                      \
    } else {                                                                                \
        if (relu) { GATHER_PLANES(1, 0) } else { GATHER_PLANES(0, 0) }                      \
    }

static void gather_planes_portable(long planes, long H, long W, const float *src, long plane_stride, long row_stride,
                                   long first, const float *scale, const float *shift, int relu, int accumulate,
                                   float *dst) {
    GATHER_BODY
}

#if defined(__x86_64__) || defined(__i386__)
// The same loops compiled for AVX2 (8 floats per step where the portable build has 4).
__attribute__((target("avx2,fma")))
static void gather_planes_avx2(long planes, long H, long W, const float *src, long plane_stride, long row_stride,
                               long first, const float *scale, const float *shift, int relu, int accumulate,
                               float *dst) {
    GATHER_BODY
}
#endif

void fovea_gather_planes(long planes, long H, long W, const float *src, long plane_stride, long row_stride,
                         long first, const float *scale, const float *shift, int relu, int accumulate, float *dst) {
#if defined(__x86_64__) || defined(__i386__)
    if (fovea_sgemm_uses_avx2()) {
        gather_planes_avx2(planes, H, W, src, plane_stride, row_stride, first, scale, shift, relu, accumulate, dst);
        return;
    }
#endif
    gather_planes_portable(planes, H, W, src, plane_stride, row_stride, first, scale, shift, relu, accumulate, dst);
}

// One plane of fovea_scale_shift_planes, in place.
static inline __attribute__((always_inline))
void scale_shift_row(float *restrict d, long n, float a, float b, int relu) {
    for (long x = 0; x < n; x++) {
        float v = a * d[x] + b;
        if (relu) v = v > 0.0f ? v : 0.0f;
        d[x] = v;
    }
}

#define SCALE_SHIFT_BODY                                                                    \
    for (long p = 0; p < planes; p++) {                                                     \
        const float a = scale ? scale[p] : 1.0f, b = shift ? shift[p] : 0.0f;              \
        if (relu) scale_shift_row(data + p * plane, plane, a, b, 1);                        \
        else scale_shift_row(data + p * plane, plane, a, b, 0);                             \
    }

static void scale_shift_portable(long planes, long plane, float *data, const float *scale, const float *shift,
                                 int relu) {
    SCALE_SHIFT_BODY
}

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx2,fma")))
static void scale_shift_avx2(long planes, long plane, float *data, const float *scale, const float *shift, int relu) {
    SCALE_SHIFT_BODY
}
#endif

void fovea_scale_shift_planes(long planes, long plane, float *data, const float *scale, const float *shift, int relu) {
#if defined(__x86_64__) || defined(__i386__)
    if (fovea_sgemm_uses_avx2()) { scale_shift_avx2(planes, plane, data, scale, shift, relu); return; }
#endif
    scale_shift_portable(planes, plane, data, scale, shift, relu);
}
