// Element-wise loops on the hot path, compiled for AVX2 (8 lanes) and portably: the ReLU of
// a sum (a residual block's output), the ReLU's backward mask, and PReLU both ways.
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

// PReLU with one slope s over a run of values.
static inline __attribute__((always_inline))
void prelu_forward_loop(long n, const float *restrict x, float s, float *restrict y) {
    for (long i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : s * x[i];
}

// dx = dy where x > 0, s * dy elsewhere; returns the sum of dy * x where x <= 0 (the
// slope's gradient) in eight lanes combined in a fixed order, as reductions.h does.
static inline __attribute__((always_inline))
float prelu_backward_loop(long n, const float *restrict x, float s, const float *restrict dy, float *restrict dx) {
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        for (int l = 0; l < 8; l++) {
            const float v = x[i + l], g = dy[i + l];
            const int positive = v > 0.0f;
            dx[i + l] = positive ? g : s * g;
            acc[l] += positive ? 0.0f : g * v;
        }
    }
    float total = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for (; i < n; i++) {
        const float v = x[i], g = dy[i];
        const int positive = v > 0.0f;
        dx[i] = positive ? g : s * g;
        total += positive ? 0.0f : g * v;
    }
    return total;
}

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx2,fma")))
static void add_relu_avx2(long n, const float *a, const float *b, float *out) { add_relu_loop(n, a, b, out); }
__attribute__((target("avx2,fma")))
static void relu_mask_avx2(long n, const float *y, const float *g, float *d) { relu_mask_loop(n, y, g, d); }
__attribute__((target("avx2,fma")))
static void prelu_forward_avx2(long n, const float *x, float s, float *y) { prelu_forward_loop(n, x, s, y); }
__attribute__((target("avx2,fma")))
static float prelu_backward_avx2(long n, const float *x, float s, const float *dy, float *dx) {
    return prelu_backward_loop(n, x, s, dy, dx);
}
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

void fovea_prelu_forward(long n, const float *x, float slope, float *y) {
#if defined(__x86_64__) || defined(__i386__)
    if (fovea_sgemm_uses_avx2()) { prelu_forward_avx2(n, x, slope, y); return; }
#endif
    prelu_forward_loop(n, x, slope, y);
}

float fovea_prelu_backward(long n, const float *x, float slope, const float *dy, float *dx) {
#if defined(__x86_64__) || defined(__i386__)
    if (fovea_sgemm_uses_avx2()) return prelu_backward_avx2(n, x, slope, dy, dx);
#endif
    return prelu_backward_loop(n, x, slope, dy, dx);
}
