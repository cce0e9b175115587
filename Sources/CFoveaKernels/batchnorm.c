// Batch normalisation's passes over [N, C, plane] rows (row r is image r / C, channel
// r % C), compiled for AVX2 (8 lanes) and portably: the statistics, the normalisation,
// and the backward's sums and input gradient. The formulas are in
// Tensor+Normalization.swift; here each row is one loop.
#include "FoveaKernels.h"
#include "reductions.h"

#define BN_CHANNEL(r) ((first_row + (r)) % C)

static inline __attribute__((always_inline))
void statistics_body(long rows, long n, long C, long first_row, const float *x, const float *mean, double *out) {
    for (long r = 0; r < rows; r++) {
        const float *row = x + r * n;
        out[r] = mean ? fovea_row_reduce(row, NULL, mean[BN_CHANNEL(r)], n, FOVEA_SQUARED_DEVIATION)
                      : fovea_row_reduce(row, NULL, 0.0f, n, FOVEA_SUM);
    }
}

static inline __attribute__((always_inline))
void forward_body(long rows, long n, long C, long first_row, const float *restrict x, const float *mean,
                  const float *invstd, const float *gamma, const float *beta, float *restrict xh, float *restrict y) {
    for (long r = 0; r < rows; r++) {
        const long c = BN_CHANNEL(r);
        const float m = mean[c], s = invstd[c], g = gamma ? gamma[c] : 1.0f, b = beta ? beta[c] : 0.0f;
        const float *xr = x + r * n;
        float *hr = xh + r * n, *yr = y + r * n;
        for (long i = 0; i < n; i++) {
            const float h = (xr[i] - m) * s;
            hr[i] = h;
            yr[i] = g * h + b;
        }
    }
}

static inline __attribute__((always_inline))
void backward_sums_body(long rows, long n, const float *dy, const float *xh, double *sum_dy, double *sum_dy_xh) {
    for (long r = 0; r < rows; r++) {
        sum_dy[r] = fovea_row_reduce(dy + r * n, NULL, 0.0f, n, FOVEA_SUM);
        sum_dy_xh[r] = fovea_row_reduce(dy + r * n, xh + r * n, 0.0f, n, FOVEA_DOT);
    }
}

static inline __attribute__((always_inline))
void backward_body(long rows, long n, long C, long first_row, const float *restrict dy, const float *restrict xh,
                   const float *k, float a, const float *sd, const float *sdx, float *restrict dx) {
    for (long r = 0; r < rows; r++) {
        const long c = BN_CHANNEL(r);
        const float kc = k[c];
        const float *dr = dy + r * n;
        float *out = dx + r * n;
        if (sd) {
            const float s = sd[c], t = sdx[c];
            const float *hr = xh + r * n;
            for (long i = 0; i < n; i++) out[i] = kc * (a * dr[i] - s - hr[i] * t);
        } else {
            for (long i = 0; i < n; i++) out[i] = kc * dr[i];
        }
    }
}

#define BN_VARIANTS(suffix, attributes)                                                                       \
    attributes static void statistics_##suffix(long rows, long n, long C, long first_row, const float *x,   \
                                                const float *mean, double *out) {                             \
        statistics_body(rows, n, C, first_row, x, mean, out);                                                 \
    }                                                                                                         \
    attributes static void forward_##suffix(long rows, long n, long C, long first_row, const float *x,      \
                                             const float *mean, const float *invstd, const float *gamma,      \
                                             const float *beta, float *xh, float *y) {                        \
        forward_body(rows, n, C, first_row, x, mean, invstd, gamma, beta, xh, y);                             \
    }                                                                                                         \
    attributes static void backward_sums_##suffix(long rows, long n, const float *dy, const float *xh,      \
                                                   double *sum_dy, double *sum_dy_xh) {                       \
        backward_sums_body(rows, n, dy, xh, sum_dy, sum_dy_xh);                                               \
    }                                                                                                         \
    attributes static void backward_##suffix(long rows, long n, long C, long first_row, const float *dy,    \
                                              const float *xh, const float *k, float a, const float *sd,      \
                                              const float *sdx, float *dx) {                                  \
        backward_body(rows, n, C, first_row, dy, xh, k, a, sd, sdx, dx);                                      \
    }

BN_VARIANTS(portable, )
#if defined(__x86_64__) || defined(__i386__)
BN_VARIANTS(avx2, __attribute__((target("avx2,fma"))))
#define BN_DISPATCH(name, ...)                                                                                \
    if (fovea_sgemm_uses_avx2()) { name##_avx2(__VA_ARGS__); return; }                                       \
    name##_portable(__VA_ARGS__);
#else
#define BN_DISPATCH(name, ...) name##_portable(__VA_ARGS__);
#endif

void fovea_bn_statistics(long rows, long n, long C, long first_row, const float *x, const float *mean, double *out) {
    BN_DISPATCH(statistics, rows, n, C, first_row, x, mean, out)
}

void fovea_bn_forward(long rows, long n, long C, long first_row, const float *x, const float *mean,
                      const float *invstd, const float *gamma, const float *beta, float *xh, float *y) {
    BN_DISPATCH(forward, rows, n, C, first_row, x, mean, invstd, gamma, beta, xh, y)
}

void fovea_bn_backward_sums(long rows, long n, const float *dy, const float *xh, double *sum_dy, double *sum_dy_xh) {
    BN_DISPATCH(backward_sums, rows, n, dy, xh, sum_dy, sum_dy_xh)
}

void fovea_bn_backward(long rows, long n, long C, long first_row, const float *dy, const float *xh, const float *k,
                       float a, const float *sd, const float *sdx, float *dx) {
    BN_DISPATCH(backward, rows, n, C, first_row, dy, xh, k, a, sd, sdx, dx)
}
