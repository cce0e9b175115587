// 2x2, stride-2, unpadded max pooling (LeNet, VGG, AlexNet-style nets), forward, with the
// flat in-plane index of each window's maximum kept for the backward pass.
//
// Names: planes N*C, H x W input plane, OH x OW output plane (2*OH <= H, 2*OW <= W).
// A window's four values are taken in the order top-left, top-right, bottom-left,
// bottom-right, and a later one wins only when strictly greater: the first maximum wins
// ties and a NaN never replaces a number (the comparisons are false), exactly as the
// scalar loop does, so both paths give the same bits.
#include "FoveaKernels.h"

static void maxpool2x2_rows_portable(long OW, long W, long row_index, const float *top,
                                     float *dst, int *idx, long from) {
    const float *bottom = top + W;
    for (long ow = from; ow < OW; ow++) {
        float best = top[2 * ow];
        int bi = 0;
        if (top[2 * ow + 1] > best) { best = top[2 * ow + 1]; bi = 1; }
        if (bottom[2 * ow] > best) { best = bottom[2 * ow]; bi = (int)W; }
        if (bottom[2 * ow + 1] > best) { best = bottom[2 * ow + 1]; bi = (int)W + 1; }
        dst[ow] = best;
        idx[ow] = (int)(row_index + 2 * ow) + bi;
    }
}

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

// Eight windows at a time: the 16 floats of each input row are split into even and odd
// columns (shuffle, then a 64-bit permute to undo the shuffle's per-lane order).
__attribute__((target("avx2")))
static void maxpool2x2_rows_avx2(long OW, long W, long row_index, const float *top,
                                 float *dst, int *idx) {
    const float *bottom = top + W;
    const __m256i lane2 = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
    const __m256i one = _mm256_set1_epi32(1), w0 = _mm256_set1_epi32((int)W),
                  w1 = _mm256_set1_epi32((int)W + 1);
    long ow = 0;
    for (; ow + 8 <= OW; ow += 8) {
        const __m256 t0 = _mm256_loadu_ps(top + 2 * ow), t1 = _mm256_loadu_ps(top + 2 * ow + 8);
        const __m256 b0 = _mm256_loadu_ps(bottom + 2 * ow), b1 = _mm256_loadu_ps(bottom + 2 * ow + 8);
#define FOVEA_EVEN(x, y) _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(x, y, 0x88)), 0xD8))
#define FOVEA_ODD(x, y) _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(x, y, 0xDD)), 0xD8))
        const __m256 a = FOVEA_EVEN(t0, t1), b = FOVEA_ODD(t0, t1);
        const __m256 c = FOVEA_EVEN(b0, b1), d = FOVEA_ODD(b0, b1);
#undef FOVEA_EVEN
#undef FOVEA_ODD
        __m256 best = a;
        __m256i bi = _mm256_setzero_si256();
        __m256 m = _mm256_cmp_ps(b, best, _CMP_GT_OQ);
        best = _mm256_blendv_ps(best, b, m);
        bi = _mm256_blendv_epi8(bi, one, _mm256_castps_si256(m));
        m = _mm256_cmp_ps(c, best, _CMP_GT_OQ);
        best = _mm256_blendv_ps(best, c, m);
        bi = _mm256_blendv_epi8(bi, w0, _mm256_castps_si256(m));
        m = _mm256_cmp_ps(d, best, _CMP_GT_OQ);
        best = _mm256_blendv_ps(best, d, m);
        bi = _mm256_blendv_epi8(bi, w1, _mm256_castps_si256(m));
        _mm256_storeu_ps(dst + ow, best);
        const __m256i base = _mm256_add_epi32(_mm256_set1_epi32((int)(row_index + 2 * ow)), lane2);
        _mm256_storeu_si256((__m256i *)(idx + ow), _mm256_add_epi32(base, bi));
    }
    maxpool2x2_rows_portable(OW, W, row_index, top, dst, idx, ow);
}
#endif

void fovea_maxpool2x2_forward(long planes, long H, long W, long OH, long OW,
                              const float *input, float *output, int *argmax) {
#if defined(__x86_64__) || defined(__i386__)
    const int avx2 = fovea_sgemm_uses_avx2();
#endif
    for (long q = 0; q < planes; q++) {
        const float *src = input + q * H * W;
        for (long oh = 0; oh < OH; oh++) {
            const long row_index = 2 * oh * W;
            float *dst = output + (q * OH + oh) * OW;
            int *idx = argmax + (q * OH + oh) * OW;
#if defined(__x86_64__) || defined(__i386__)
            if (avx2) {
                maxpool2x2_rows_avx2(OW, W, row_index, src + row_index, dst, idx);
                continue;
            }
#endif
            maxpool2x2_rows_portable(OW, W, row_index, src + row_index, dst, idx, 0);
        }
    }
}

void fovea_maxpool2x2_backward(long planes, long OH, long OW, const float *d_output, const int *argmax,
                               float *d_input) {
    const long W = 2 * OW;
    for (long q = 0; q < planes; q++) {
        float *dst = d_input + q * 4 * OH * OW;
        const float *g = d_output + q * OH * OW;
        const int *arg = argmax + q * OH * OW;
        for (long oh = 0; oh < OH; oh++) {
            float *top = dst + 2 * oh * W, *bottom = top + W;
            const long row = 2 * oh * W;
            for (long ow = 0; ow < OW; ow++) {
                const long o = oh * OW + ow, at = arg[o] - (row + 2 * ow);
                const float v = g[o];
                top[2 * ow] = at == 0 ? v : 0.0f;
                top[2 * ow + 1] = at == 1 ? v : 0.0f;
                bottom[2 * ow] = at == W ? v : 0.0f;
                bottom[2 * ow + 1] = at == W + 1 ? v : 0.0f;
            }
        }
    }
}
