// 2x2, stride-2, unpadded max pooling (LeNet, VGG, AlexNet-style nets), forward, with the
// flat in-plane index of each window's maximum kept for the backward pass; and the same
// pooling of max(0, v + bias) read straight from a direct convolution's wide rows
// (fovea_maxpool2x2_relu_rows), so conv + bias + ReLU + pool never writes the full output.
//
// Names: planes N*C, H x W input plane, OH x OW output plane (2*OH <= H, 2*OW <= W).
// A window's four values are taken in the order top-left, top-right, bottom-left,
// bottom-right, and a later one wins only when strictly greater: the first maximum wins
// ties and a NaN never replaces a number (the comparisons are false), exactly as the
// scalar loop does, so both paths give the same bits.
#include "FoveaKernels.h"

// One row of windows. `ld` is the input's row stride (W for a plane, wider for the direct
// convolution's wide rows); indices are flat in an H x W plane either way. With
// `relu_shift` (a literal at every call site) each value is first max(0, v + b), exactly as
// fovea_gather_planes computes a convolution's output with a bias and a ReLU.
static inline __attribute__((always_inline))
float pool_value(float v, float b, int relu_shift) {
    if (!relu_shift) return v;
    v = v + b;
    return v > 0.0f ? v : 0.0f;
}

static inline __attribute__((always_inline))
void maxpool2x2_rows_scalar(long OW, long W, long ld, long row_index, const float *top, float *dst, int *idx,
                            float b, int relu_shift) {
    const float *bottom = top + ld;
    for (long ow = 0; ow < OW; ow++) {
        float best = pool_value(top[2 * ow], b, relu_shift);
        int bi = 0;
        const float tr = pool_value(top[2 * ow + 1], b, relu_shift);
        const float bl = pool_value(bottom[2 * ow], b, relu_shift);
        const float br = pool_value(bottom[2 * ow + 1], b, relu_shift);
        if (tr > best) { best = tr; bi = 1; }
        if (bl > best) { best = bl; bi = (int)W; }
        if (br > best) { best = br; bi = (int)W + 1; }
        dst[ow] = best;
        if (idx) idx[ow] = (int)(row_index + 2 * ow) + bi;
    }
}

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#include "lanes_avx2.h"

// Eight windows at a time: the 16 floats of each input row are split into even and odd
// columns (shuffle, then a 64-bit permute to undo the shuffle's per-lane order).
__attribute__((target("avx2"))) static inline __attribute__((always_inline))
void maxpool2x2_rows_avx2(long OW, long W, long ld, long row_index, const float *top, float *dst, int *idx,
                          float shift, int relu_shift, int with_index) {
    const float *bottom = top + ld;
    const __m256i lane2 = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
    const __m256i one = _mm256_set1_epi32(1), w0 = _mm256_set1_epi32((int)W),
                  w1 = _mm256_set1_epi32((int)W + 1);
    const __m256 vb = _mm256_set1_ps(shift), zero = _mm256_setzero_ps();
    for (long ow = 0; ow < OW; ow += 8) {
        // A last group of fewer than 8 windows in a row of at least 8 is taken as the row's
        // last 8 windows: those it shares with the group before are computed again, to the
        // same values, and stored again (LeNet's 14-wide rows: windows 0-7, then 6-13).
        // In a shorter row it loads under masks and stores only its live lanes (masked-off
        // lanes are never touched in memory, and their values are dropped).
        if (OW - ow < 8 && OW >= 8) ow = OW - 8;
        const long left = OW - ow;
        __m256 t0, t1, b0, b1;
        if (left >= 8) {
            t0 = _mm256_loadu_ps(top + 2 * ow), t1 = _mm256_loadu_ps(top + 2 * ow + 8);
            b0 = _mm256_loadu_ps(bottom + 2 * ow), b1 = _mm256_loadu_ps(bottom + 2 * ow + 8);
        } else {
            const __m256i in0 = fovea_lanes_below(2 * left), in1 = fovea_lanes_below(2 * left - 8);
            t0 = _mm256_maskload_ps(top + 2 * ow, in0), t1 = _mm256_maskload_ps(top + 2 * ow + 8, in1);
            b0 = _mm256_maskload_ps(bottom + 2 * ow, in0), b1 = _mm256_maskload_ps(bottom + 2 * ow + 8, in1);
        }
#define FOVEA_EVEN(x, y) _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(x, y, 0x88)), 0xD8))
#define FOVEA_ODD(x, y) _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(x, y, 0xDD)), 0xD8))
        __m256 a = FOVEA_EVEN(t0, t1), b = FOVEA_ODD(t0, t1);
        __m256 c = FOVEA_EVEN(b0, b1), d = FOVEA_ODD(b0, b1);
#undef FOVEA_EVEN
#undef FOVEA_ODD
        if (relu_shift) {
            // max(0, v + b) as the scalar form: v > 0 keeps v, anything else (NaN too) is +0.
#define FOVEA_RELU_SHIFT(x) x = _mm256_add_ps(x, vb); x = _mm256_and_ps(x, _mm256_cmp_ps(x, zero, _CMP_GT_OQ));
            FOVEA_RELU_SHIFT(a) FOVEA_RELU_SHIFT(b) FOVEA_RELU_SHIFT(c) FOVEA_RELU_SHIFT(d)
#undef FOVEA_RELU_SHIFT
        }
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
        const __m256i base = _mm256_add_epi32(_mm256_set1_epi32((int)(row_index + 2 * ow)), lane2);
        if (left >= 8) {
            _mm256_storeu_ps(dst + ow, best);
            if (with_index) _mm256_storeu_si256((__m256i *)(idx + ow), _mm256_add_epi32(base, bi));
        } else {
            fovea_store_lanes(dst + ow, best, left);
            if (with_index) fovea_store_lanes_epi32(idx + ow, _mm256_add_epi32(base, bi), left);
        }
    }
}

// The AVX2 variants, each its own function so the shifted one's extra work and the index
// arithmetic compile away where they are not wanted.
__attribute__((target("avx2")))
static void maxpool2x2_plain_rows_avx2(long OW, long W, long ld, long row_index, const float *top, float *dst,
                                       int *idx, float shift) {
    maxpool2x2_rows_avx2(OW, W, ld, row_index, top, dst, idx, shift, 0, 1);
}

__attribute__((target("avx2")))
static void maxpool2x2_relu_rows_avx2(long OW, long W, long ld, long row_index, const float *top, float *dst,
                                      int *idx, float shift) {
    maxpool2x2_rows_avx2(OW, W, ld, row_index, top, dst, idx, shift, 1, 1);
}

__attribute__((target("avx2")))
static void maxpool2x2_relu_values_avx2(long OW, long W, long ld, long row_index, const float *top, float *dst,
                                        int *idx, float shift) {
    maxpool2x2_rows_avx2(OW, W, ld, row_index, top, dst, idx, shift, 1, 0);
}
#endif

// Both entry points: planes of H x W live values at src + p * plane_stride, rows ld apart.
static inline __attribute__((always_inline))
void maxpool2x2_planes(long planes, long W, long OH, long OW, const float *input, long plane_stride, long ld,
                       const float *shift, int relu_shift, float *output, int *argmax) {
#if defined(__x86_64__) || defined(__i386__)
    const int avx2 = fovea_sgemm_uses_avx2();
#endif
    for (long q = 0; q < planes; q++) {
        const float *src = input + q * plane_stride;
        const float b = shift ? shift[q] : 0.0f;
        for (long oh = 0; oh < OH; oh++) {
            const long row_index = 2 * oh * W;
            const float *top = src + 2 * oh * ld;
            float *dst = output + (q * OH + oh) * OW;
            int *idx = argmax ? argmax + (q * OH + oh) * OW : NULL;
#if defined(__x86_64__) || defined(__i386__)
            if (avx2) {
                if (relu_shift && !idx) maxpool2x2_relu_values_avx2(OW, W, ld, row_index, top, dst, idx, b);
                else if (relu_shift) maxpool2x2_relu_rows_avx2(OW, W, ld, row_index, top, dst, idx, b);
                else maxpool2x2_plain_rows_avx2(OW, W, ld, row_index, top, dst, idx, b);
                continue;
            }
#endif
            maxpool2x2_rows_scalar(OW, W, ld, row_index, top, dst, idx, b, relu_shift);
        }
    }
}

void fovea_maxpool2x2_forward(long planes, long H, long W, long OH, long OW,
                              const float *input, float *output, int *argmax) {
    maxpool2x2_planes(planes, W, OH, OW, input, H * W, W, NULL, 0, output, argmax);
}

void fovea_maxpool2x2_relu_rows(long planes, long H, long W, long OH, long OW, const float *src, long plane_stride,
                                long row_stride, const float *shift, float *output, int *argmax) {
    (void)H; // the rows read are 2 * OH <= H
    maxpool2x2_planes(planes, W, OH, OW, src, plane_stride, row_stride, shift, 1, output, argmax);
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

// ---------------------------------------------------------------------------------------
// Max pooling of any window, stride and padding, values only (inference: no argmax), as
// a column pass then a row pass: each output row first takes the maximum of its window's
// input rows column by column (a loop the compiler vectorises), then each window the
// maximum of its columns of that. The comparisons keep the first value unless a later one
// is strictly greater, rows before columns, which is the order the argmax loop visits a
// window in: the same value (and the same NaN handling) either way.

void fovea_maxpool_values(long planes, long H, long W, long OH, long OW, long kh, long kw, long sh, long sw,
                          long pt, long pl, const float *input, float *output, float *row) {
    for (long q = 0; q < planes; q++) {
        const float *src = input + q * H * W;
        float *dst = output + q * OH * OW;
        for (long oh = 0; oh < OH; oh++) {
            const long h0 = oh * sh - pt;
            const long hlo = h0 > 0 ? h0 : 0, hhi = h0 + kh < H ? h0 + kh : H;
            if (hlo >= hhi) {
                for (long ow = 0; ow < OW; ow++) dst[oh * OW + ow] = -__builtin_inff();
                continue;
            }
            for (long w = 0; w < W; w++) row[w] = src[hlo * W + w];
            for (long h = hlo + 1; h < hhi; h++) {
                const float *r = src + h * W;
                for (long w = 0; w < W; w++) row[w] = r[w] > row[w] ? r[w] : row[w];
            }
            for (long ow = 0; ow < OW; ow++) {
                const long w0 = ow * sw - pl;
                const long wlo = w0 > 0 ? w0 : 0, whi = w0 + kw < W ? w0 + kw : W;
                float best = -__builtin_inff();
                if (wlo < whi) {
                    best = row[wlo];
                    for (long w = wlo + 1; w < whi; w++) best = row[w] > best ? row[w] : best;
                }
                dst[oh * OW + ow] = best;
            }
        }
    }
}
