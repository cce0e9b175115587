// im2col and its adjoint col2im: the lowering that turns a convolution into one GEMM.
//
// Names: Cg input channels (of one group), H x W input, OH x OW output, P = OH * OW,
// kh x kw kernel, sh / sw stride, dh / dw dilation, pt / pl top / left padding,
// K = Cg * kh * kw the rows of the column matrix. The column matrix of one image is
// K x P: row (c, i, j) holds, for every output position, the input pixel under kernel tap
// (i, j) of channel c, or 0 where that tap falls in the padding. Several images sit side
// by side: image b's columns start at b * P, and ldc is the whole matrix's row stride.
//
// Every output row (oh) of a tap is one run of input pixels between two runs of padding,
// so both directions work on whole runs: short copies the compiler vectorises, with no
// per-row call into memcpy (LeNet's rows are 10 to 28 floats, where a call costs as much
// as the copy).
#include "FoveaKernels.h"

/// The output columns ow in [lo, hi) whose input column ow * sw + off lies in [0, W).
static inline void inside_columns(long OW, long W, long sw, long off, long *lo, long *hi) {
    long a = off >= 0 ? 0 : (-off + sw - 1) / sw;
    if (a > OW) a = OW;
    long b = W - off > 0 ? (W - off + sw - 1) / sw : 0;
    if (b > OW) b = OW;
    if (b < a) b = a;
    *lo = a;
    *hi = b;
}

// The two row operations, for one output row of one tap: `get` writes the OW floats of dst
// (s[ow * sw] for ow in [lo, hi), 0 elsewhere), `put` adds them back (d[ow * sw] += s[ow]).
typedef void (*get_row_fn)(float *dst, const float *s, long OW, long lo, long hi, long sw, const float *end,
                           const float *src_end);
typedef void (*put_row_fn)(float *d, const float *s, long lo, long hi, long sw);

static inline __attribute__((always_inline))
void get_row_portable(float *restrict dst, const float *restrict s, long OW, long lo, long hi, long sw,
                      const float *end, const float *src_end) {
    (void)end;
    (void)src_end;
    for (long ow = 0; ow < lo; ow++) dst[ow] = 0.0f;
    if (sw == 1) {
        for (long ow = lo; ow < hi; ow++) dst[ow] = s[ow];
    } else {
        for (long ow = lo; ow < hi; ow++) dst[ow] = s[ow * sw];
    }
    for (long ow = hi; ow < OW; ow++) dst[ow] = 0.0f;
}

static inline __attribute__((always_inline))
void put_row_portable(float *restrict d, const float *restrict s, long lo, long hi, long sw) {
    if (sw == 1) {
        for (long ow = lo; ow < hi; ow++) d[ow] += s[ow];
    } else {
        for (long ow = lo; ow < hi; ow++) d[ow * sw] += s[ow];
    }
}

// The loop nests, written once; each public entry point below inlines them with its own
// row operations, so the AVX2 build's rows compile as AVX2 code.
static inline __attribute__((always_inline))
void im2col_nest(const fovea_conv_shape *g, const float *input, long image_stride, long images,
                 float *col, long ldc, get_row_fn get_row) {
    const long H = g->height, W = g->width, OH = g->out_height, OW = g->out_width, P = OH * OW;
    // One past the last float written: the last row's images * P columns; and one past the
    // last input float these images' channels span (reading up to there is safe).
    const float *end = col + (g->channels * g->kh * g->kw - 1) * ldc + images * P;
    const float *src_end = input + (images - 1) * image_stride + g->channels * H * W;
    for (long c = 0; c < g->channels; c++) {
        for (long i = 0; i < g->kh; i++) {
            for (long j = 0; j < g->kw; j++) {
                float *row = col + ((c * g->kh + i) * g->kw + j) * ldc;
                const long off = j * g->dw - g->pl;
                long lo, hi;
                inside_columns(OW, W, g->sw, off, &lo, &hi);
                for (long b = 0; b < images; b++) {
                    const float *src = input + b * image_stride + c * H * W;
                    float *dst_image = row + b * P;
                    for (long oh = 0; oh < OH; oh++) {
                        const long ih = oh * g->sh - g->pt + i * g->dh;
                        float *dst = dst_image + oh * OW;
                        if (ih < 0 || ih >= H) {
                            get_row(dst, src, OW, 0, 0, 1, end, src_end);
                        } else {
                            get_row(dst, src + ih * W + off, OW, lo, hi, g->sw, end, src_end);
                        }
                    }
                }
            }
        }
    }
}

static inline __attribute__((always_inline))
void col2im_nest(const fovea_conv_shape *g, const float *col, long ldc, long images,
                 float *input, long image_stride, put_row_fn put_row) {
    const long H = g->height, W = g->width, OH = g->out_height, OW = g->out_width, P = OH * OW;
    for (long c = 0; c < g->channels; c++) {
        for (long i = 0; i < g->kh; i++) {
            for (long j = 0; j < g->kw; j++) {
                const float *row = col + ((c * g->kh + i) * g->kw + j) * ldc;
                const long off = j * g->dw - g->pl;
                long lo, hi;
                inside_columns(OW, W, g->sw, off, &lo, &hi);
                for (long b = 0; b < images; b++) {
                    float *dst_image = input + b * image_stride + c * H * W;
                    const float *src_image = row + b * P;
                    for (long oh = 0; oh < OH; oh++) {
                        const long ih = oh * g->sh - g->pt + i * g->dh;
                        if (ih < 0 || ih >= H) continue;
                        put_row(dst_image + ih * W + off, src_image + oh * OW, lo, hi, g->sw);
                    }
                }
            }
        }
    }
}

static void im2col_portable(const fovea_conv_shape *g, const float *input, long image_stride, long images,
                            float *col, long ldc) {
    im2col_nest(g, input, image_stride, images, col, ldc, get_row_portable);
}

static void col2im_portable(const fovea_conv_shape *g, const float *col, long ldc, long images,
                            float *input, long image_stride) {
    col2im_nest(g, col, ldc, images, input, image_stride, put_row_portable);
}

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define FOVEA_AVX2 __attribute__((target("avx2,fma")))

/// Lanes ow0 + t (t in 0..<8) with lo <= ow0 + t < hi.
static inline __attribute__((always_inline)) FOVEA_AVX2 __m256i lanes_between(long ow0, long lo, long hi) {
    const __m256i ow = _mm256_add_epi32(_mm256_set1_epi32((int)ow0), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    return _mm256_and_si256(_mm256_cmpgt_epi32(ow, _mm256_set1_epi32((int)lo - 1)),
                            _mm256_cmpgt_epi32(_mm256_set1_epi32((int)hi), ow));
}

// Stride 1: eight output columns per step. A masked load reads only the lanes inside the
// image (masked-off lanes never fault, even left of the row) and gives 0 elsewhere, which is
// exactly the padding. Stores are never masked (a masked store is microcoded and slow on
// AMD cores): a row's last 8-wide store may run up to 7 floats into the next row, which is
// written after it; only where that would pass `end` does the tail go 4 and 1 at a time.
static inline __attribute__((always_inline)) FOVEA_AVX2
void get_row_avx2(float *dst, const float *s, long OW, long lo, long hi, long sw, const float *end,
                  const float *src_end) {
    if (sw != 1) { get_row_portable(dst, s, OW, lo, hi, sw, end, src_end); return; }
    const long whole = (OW + 7) & ~7L; // the row rounded up to whole vectors
    if (dst + whole <= end) {
        if (lo == 0 && hi == OW && s + whole <= src_end) {
            // A row with no padding in it: whole vectors, whose extra lanes read the next
            // input pixels (inside the tensor) and land on the next row, written after this.
            for (long ow = 0; ow < whole; ow += 8) _mm256_storeu_ps(dst + ow, _mm256_loadu_ps(s + ow));
            return;
        }
        if (lo >= hi) {
            for (long ow = 0; ow < whole; ow += 8) _mm256_storeu_ps(dst + ow, _mm256_setzero_ps());
            return;
        }
    }
    long ow = 0;
    for (; ow + 8 <= OW; ow += 8) {
        if (ow >= lo && ow + 8 <= hi) _mm256_storeu_ps(dst + ow, _mm256_loadu_ps(s + ow));
        else _mm256_storeu_ps(dst + ow, _mm256_maskload_ps(s + ow, lanes_between(ow, lo, hi)));
    }
    if (ow == OW) return;
    const __m256 v = _mm256_maskload_ps(s + ow, lanes_between(ow, lo, hi));
    if (dst + ow + 8 <= end) { _mm256_storeu_ps(dst + ow, v); return; }
    float t[8];
    _mm256_storeu_ps(t, v);
    for (long q = 0; ow + q < OW; q++) dst[ow + q] = t[q];
}

// Adds s[lo..<hi) onto d[lo..<hi): eight at a time, then four, then one, never touching a
// float outside the range (the next row may be another thread's image).
static inline __attribute__((always_inline)) FOVEA_AVX2
void put_row_avx2(float *d, const float *s, long lo, long hi, long sw) {
    if (sw != 1) { put_row_portable(d, s, lo, hi, sw); return; }
    long ow = lo;
    for (; ow + 8 <= hi; ow += 8) _mm256_storeu_ps(d + ow, _mm256_add_ps(_mm256_loadu_ps(d + ow), _mm256_loadu_ps(s + ow)));
    if (ow + 4 <= hi) { _mm_storeu_ps(d + ow, _mm_add_ps(_mm_loadu_ps(d + ow), _mm_loadu_ps(s + ow))); ow += 4; }
    for (; ow < hi; ow++) d[ow] += s[ow];
}

FOVEA_AVX2 static void im2col_avx2(const fovea_conv_shape *g, const float *input, long image_stride, long images,
                                   float *col, long ldc) {
    im2col_nest(g, input, image_stride, images, col, ldc, get_row_avx2);
}

FOVEA_AVX2 static void col2im_avx2(const fovea_conv_shape *g, const float *col, long ldc, long images,
                                   float *input, long image_stride) {
    col2im_nest(g, col, ldc, images, input, image_stride, put_row_avx2);
}
#endif

void fovea_im2col(const fovea_conv_shape *g, const float *input, long image_stride, long images,
                  float *col, long ldc) {
#if defined(__x86_64__) || defined(__i386__)
    if (fovea_sgemm_uses_avx2()) { im2col_avx2(g, input, image_stride, images, col, ldc); return; }
#endif
    im2col_portable(g, input, image_stride, images, col, ldc);
}

void fovea_col2im(const fovea_conv_shape *g, const float *col, long ldc, long images,
                  float *input, long image_stride) {
#if defined(__x86_64__) || defined(__i386__)
    if (fovea_sgemm_uses_avx2()) { col2im_avx2(g, col, ldc, images, input, image_stride); return; }
#endif
    col2im_portable(g, col, ldc, images, input, image_stride);
}
