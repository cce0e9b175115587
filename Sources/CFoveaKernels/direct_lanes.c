// Direct stride-1 convolution with the output channels across the vector lanes, pooled
// 2x2 as it goes: the inference kernel for small planes with a few dozen channels (LeNet's
// second layer), where the wide kernels of direct.c compute many thrown-away columns.
//
// direct.c puts output positions across the lanes and computes whole 16-wide runs of the
// wide plane: for a 10x10 output in 14-wide rows that is 144 positions for 100 kept. Here
// one accumulator holds 8 output channels of one position, so only the positions that are
// kept are computed, and a 2x2 pooling window is one tile: its four positions (two
// broadcasts a row) times 16 channels (two vectors of weights) are eight accumulators,
// eight FMAs per tap for six loads. The pooled value, max over the window of
// max(0, acc + shift), goes to a small [window, channel] buffer, which is transposed into
// the NCHW output at the end.
//
// Names: M output channels, Mp = M rounded up to 16 (the packed weights' row length), T
// taps, off[t] the tap offsets into the (padded) image as in direct.c, Wp its row stride,
// OH x OW the pooled plane (window (oy, ox) covers positions (2oy + a, 2ox + b)).
#include "FoveaKernels.h"

enum { LANES = 16 };

long fovea_lanes_width(long M) { return (M + LANES - 1) / LANES * LANES; }

static void lanes_pack_portable(long M, long T, const float *w, long ldw, float *packed, long Mp) {
    for (long t = 0; t < T; t++) {
        for (long m = 0; m < Mp; m++) packed[t * Mp + m] = m < M ? w[m * ldw + t] : 0.0f;
    }
}

// max(0, v + s): the ReLU rule of fovea_gather_planes and the pooling kernels (NaN gives +0).
static inline float relu_shift(float v, float s) {
    v = v + s;
    return v > 0.0f ? v : 0.0f;
}

static void lanes_conv_pool_portable(long Mp, long T, const long *off, const float *packed, const float *src,
                                     long Wp, long OH, long OW, const float *shift, long M, float *pooled) {
    for (long blk = 0; blk < Mp; blk += LANES) {
        for (long oy = 0; oy < OH; oy++) {
            for (long ox = 0; ox < OW; ox++) {
                const float *base = src + 2 * oy * Wp + 2 * ox;
                float acc[4][LANES] = {{0}};
                for (long t = 0; t < T; t++) {
                    const float *p = base + off[t], *w = packed + t * Mp + blk;
                    const float v[4] = {p[0], p[1], p[Wp], p[Wp + 1]};
                    for (int q = 0; q < 4; q++) {
                        for (int l = 0; l < LANES; l++) acc[q][l] += v[q] * w[l];
                    }
                }
                float *dst = pooled + (oy * OW + ox) * Mp + blk;
                for (int l = 0; l < LANES; l++) {
                    const float s = blk + l < M && shift ? shift[blk + l] : 0.0f;
                    float best = relu_shift(acc[0][l], s);
                    for (int q = 1; q < 4; q++) {
                        const float r = relu_shift(acc[q][l], s);
                        if (r > best) best = r;
                    }
                    dst[l] = best;
                }
            }
        }
    }
}

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#include "transpose_avx2.h"

#define FOVEA_AVX2 __attribute__((target("avx2,fma")))

// Whole 8 x 8 blocks (8 channels, 8 taps) through the register transpose, the ragged edges
// one float at a time.
FOVEA_AVX2 static void lanes_pack_avx2(long M, long T, const float *w, long ldw, float *packed, long Mp) {
    const long M8 = M / 8 * 8, T8 = T / 8 * 8;
    for (long m = 0; m < M8; m += 8) {
        for (long t = 0; t < T8; t += 8) {
            __m256 r[8];
            for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(w + (m + i) * ldw + t);
            fovea_transpose8x8(r);
            for (int i = 0; i < 8; i++) _mm256_storeu_ps(packed + (t + i) * Mp + m, r[i]);
        }
        for (long t = T8; t < T; t++) {
            for (long i = 0; i < 8; i++) packed[t * Mp + m + i] = w[(m + i) * ldw + t];
        }
    }
    for (long t = 0; t < T; t++) {
        for (long m = M8; m < Mp; m++) packed[t * Mp + m] = m < M ? w[m * ldw + t] : 0.0f;
    }
}

#define LANES_TAP(q, at)                                                \
    {                                                                   \
        const __m256 a = _mm256_broadcast_ss(p + (at));                 \
        c##q##0 = _mm256_fmadd_ps(a, w0, c##q##0);                      \
        c##q##1 = _mm256_fmadd_ps(a, w1, c##q##1);                      \
    }

// max(0, c + s) as the scalar rule: c + s > 0 keeps it, anything else (NaN too) is +0.
#define LANES_RELU(x, s) _mm256_and_ps(_mm256_add_ps(x, s), _mm256_cmp_ps(_mm256_add_ps(x, s), zero, _CMP_GT_OQ))

FOVEA_AVX2 static void lanes_conv_pool_avx2(long Mp, long T, const long *off, const float *packed, const float *src,
                                            long Wp, long OH, long OW, const float *shift, long M, float *pooled) {
    const __m256 zero = _mm256_setzero_ps();
    for (long blk = 0; blk < Mp; blk += LANES) {
        float s[LANES];
        for (long l = 0; l < LANES; l++) s[l] = blk + l < M && shift ? shift[blk + l] : 0.0f;
        const __m256 s0 = _mm256_loadu_ps(s), s1 = _mm256_loadu_ps(s + 8);
        for (long oy = 0; oy < OH; oy++) {
            for (long ox = 0; ox < OW; ox++) {
                const float *base = src + 2 * oy * Wp + 2 * ox;
                __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
                __m256 c30 = c00, c31 = c00;
                const float *w = packed + blk;
                for (long t = 0; t < T; t++, w += Mp) {
                    const float *p = base + off[t];
                    const __m256 w0 = _mm256_loadu_ps(w), w1 = _mm256_loadu_ps(w + 8);
                    LANES_TAP(0, 0) LANES_TAP(1, 1) LANES_TAP(2, Wp) LANES_TAP(3, Wp + 1)
                }
                const __m256 m0 = _mm256_max_ps(_mm256_max_ps(LANES_RELU(c00, s0), LANES_RELU(c10, s0)),
                                                _mm256_max_ps(LANES_RELU(c20, s0), LANES_RELU(c30, s0)));
                const __m256 m1 = _mm256_max_ps(_mm256_max_ps(LANES_RELU(c01, s1), LANES_RELU(c11, s1)),
                                                _mm256_max_ps(LANES_RELU(c21, s1), LANES_RELU(c31, s1)));
                float *dst = pooled + (oy * OW + ox) * Mp + blk;
                _mm256_storeu_ps(dst, m0);
                _mm256_storeu_ps(dst + 8, m1);
            }
        }
    }
}
#undef LANES_TAP
#undef LANES_RELU
#endif

void fovea_lanes_pack(long M, long T, const float *w, long ldw, float *packed) {
    const long Mp = fovea_lanes_width(M);
#if defined(__x86_64__) || defined(__i386__)
    if (fovea_sgemm_uses_avx2()) { lanes_pack_avx2(M, T, w, ldw, packed, Mp); return; }
#endif
    lanes_pack_portable(M, T, w, ldw, packed, Mp);
}

void fovea_lanes_conv_maxpool_relu(long M, long T, const long *offsets, const float *packed, const float *src,
                                   long Wp, long OH, long OW, const float *shift, float *pooled, float *output) {
    const long Mp = fovea_lanes_width(M), windows = OH * OW;
#if defined(__x86_64__) || defined(__i386__)
    if (fovea_sgemm_uses_avx2()) {
        lanes_conv_pool_avx2(Mp, T, offsets, packed, src, Wp, OH, OW, shift, M, pooled);
    } else
#endif
    {
        lanes_conv_pool_portable(Mp, T, offsets, packed, src, Wp, OH, OW, shift, M, pooled);
    }
    // [window, channel] -> [channel, window].
    for (long m = 0; m < M; m++) {
        for (long i = 0; i < windows; i++) output[m * windows + i] = pooled[i * Mp + m];
    }
}
