// Plane helpers around the convolution kernels: spreading planes into padded or wide
// buffers, gathering them back with a per-plane scale, shift and ReLU, and the same
// epilogue in place. Each loop is compiled for AVX2 (8 lanes) and portably; relu and
// accumulate are literals at each call site, so every variant is its own vectorised loop.
#include "FoveaKernels.h"

#include <string.h>

void fovea_spread_planes(long planes, long H, long W, const float *src, float *dst, long dst_len,
                         long plane_stride, long row_stride, long first) {
    memset(dst, 0, (size_t)dst_len * sizeof(float));
    for (long p = 0; p < planes; p++) {
        for (long y = 0; y < H; y++) {
            memcpy(dst + p * plane_stride + first + y * row_stride, src + (p * H + y) * W, (size_t)W * sizeof(float));
        }
    }
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
