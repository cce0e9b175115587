// Element-wise loops on the hot path of residual networks, compiled for AVX2 (8 lanes) and
// portably: the ReLU of a sum (a residual block's output) and its backward mask.
#include "FoveaKernels.h"

static inline __attribute__((always_inline))
void add_relu_loop(long n, const float *restrict a, const float *restrict b, float *restrict out) {
    for (long i = 0; i < n; i++) {
        const float v = a[i] + b[i];
        out[i] = v > 0.0f ? v : 0.0f;
    }
}

static inline __attribute__((always_inline))
void relu_mask_loop(long n, const float *restrict y, const float *restrict g, float *restrict d) {
    for (long i = 0; i < n; i++) d[i] = y[i] > 0.0f ? g[i] : 0.0f;
}

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx2,fma")))
static void add_relu_avx2(long n, const float *a, const float *b, float *out) { add_relu_loop(n, a, b, out); }
__attribute__((target("avx2,fma")))
static void relu_mask_avx2(long n, const float *y, const float *g, float *d) { relu_mask_loop(n, y, g, d); }
#endif

void fovea_add_relu(long n, const float *a, const float *b, float *out) {
#if defined(__x86_64__) || defined(__i386__)
    if (fovea_sgemm_uses_avx2()) { add_relu_avx2(n, a, b, out); return; }
#endif
    add_relu_loop(n, a, b, out);
}

void fovea_relu_mask(long n, const float *y, const float *g, float *d) {
#if defined(__x86_64__) || defined(__i386__)
    if (fovea_sgemm_uses_avx2()) { relu_mask_avx2(n, y, g, d); return; }
#endif
    relu_mask_loop(n, y, g, d);
}
