// Batch normalisation's passes over [N, C, plane] rows (row r is image r / C, channel
// r % C), compiled for AVX2 (8 lanes) and portably: the statistics, the normalisation
// (optionally followed by a PReLU), and the backward's sums and input gradient. The
// formulas are in Tensor+Normalization.swift; here each row is one loop.
//
// Only the input is kept between forward and backward: the backward recomputes
// x^ = (x - mean) * invstd, and with a PReLU v = gamma * x^ + beta, with the same
// expressions as the forward, so it sees the forward's values and the forward's mask.
#include "FoveaKernels.h"
#include "reductions.h"

// Row r of a call is row first_row + r of the tensor; its channel is stepped along with r.
#define BN_ROWS for (long r = 0, c = first_row % C; r < rows; r++, c = c + 1 == C ? 0 : c + 1)
// The PReLU that may follow the normalisation: slope[c] when per_channel, slope[0]
// otherwise; no activation when slope is NULL.
#define BN_SLOPE(c) (slope ? slope[per_channel ? (c) : 0] : 1.0f)
#define BN_GAMMA(c) (gamma ? gamma[c] : 1.0f)
#define BN_BETA(c) (beta ? beta[c] : 0.0f)
#define BN_INLINE static inline __attribute__((always_inline))

// x^, the normalised value, and d, the gradient that reaches batch norm from dy: dy
// itself, or through the PReLU a * dy where v <= 0. has_slope is a literal at each use.
#define BN_XHAT(xv) (((xv) - m) * s)
#define BN_GRAD(v, dy) (has_slope && !((v) > 0) ? a * (dy) : (dy))

BN_INLINE void statistics_body(long rows, long n, long C, long first_row, const float *x, const float *mean,
                               double *out) {
    BN_ROWS {
        const float *row = x + r * n;
        out[r] = mean ? fovea_row_reduce(row, NULL, mean[c], n, FOVEA_SQUARED_DEVIATION)
                      : fovea_row_reduce(row, NULL, 0.0f, n, FOVEA_SUM);
    }
}

BN_INLINE void forward_row(int has_slope, const float *restrict xr, long n, float m, float s, float g, float b,
                           float a, float *restrict yr) {
    for (long i = 0; i < n; i++) {
        const float v = g * BN_XHAT(xr[i]) + b;
        yr[i] = has_slope && !(v > 0) ? a * v : v;
    }
}

BN_INLINE void forward_body(long rows, long n, long C, long first_row, const float *restrict x, const float *mean,
                            const float *invstd, const float *gamma, const float *beta, const float *slope,
                            int per_channel, float *restrict y) {
    BN_ROWS {
        const float m = mean[c], s = invstd[c], g = BN_GAMMA(c), b = BN_BETA(c);
        if (slope) forward_row(1, x + r * n, n, m, s, g, b, BN_SLOPE(c), y + r * n);
        else forward_row(0, x + r * n, n, m, s, g, b, 1.0f, y + r * n);
    }
}

// The sums of d and d * x^ over one row, and with a PReLU the slope's gradient, the sum
// of dy * v over v <= 0: eight float lanes each, combined as fovea_row_reduce does.
BN_INLINE void sums_row(int has_slope, const float *restrict dr, const float *restrict xr, long n, float m, float s,
                        float g, float b, float a, double *sum_d, double *sum_d_xh, double *sum_da) {
    float s0[8] = {0}, s1[8] = {0}, s2[8] = {0};
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        for (int l = 0; l < 8; l++) {
            const float h = BN_XHAT(xr[i + l]), v = g * h + b, dy = dr[i + l], d = BN_GRAD(v, dy);
            s0[l] += d;
            s1[l] += d * h;
            if (has_slope) s2[l] += v > 0 ? 0.0f : dy * v;
        }
    }
#define BN_LANES(t) (((t[0] + t[1]) + (t[2] + t[3])) + ((t[4] + t[5]) + (t[6] + t[7])))
    float t0 = BN_LANES(s0), t1 = BN_LANES(s1), t2 = BN_LANES(s2);
#undef BN_LANES
    for (; i < n; i++) {
        const float h = BN_XHAT(xr[i]), v = g * h + b, dy = dr[i], d = BN_GRAD(v, dy);
        t0 += d;
        t1 += d * h;
        if (has_slope) t2 += v > 0 ? 0.0f : dy * v;
    }
    *sum_d = t0;
    *sum_d_xh = t1;
    if (has_slope) *sum_da = t2;
}

BN_INLINE void backward_sums_body(long rows, long n, long C, long first_row, const float *dy, const float *x,
                                  const float *mean, const float *invstd, const float *gamma, const float *beta,
                                  const float *slope, int per_channel, double *sum_dy, double *sum_dy_xh,
                                  double *sum_da) {
    BN_ROWS {
        const float m = mean[c], s = invstd[c], g = BN_GAMMA(c), b = BN_BETA(c);
        if (slope) sums_row(1, dy + r * n, x + r * n, n, m, s, g, b, BN_SLOPE(c), sum_dy + r, sum_dy_xh + r, sum_da + r);
        else sums_row(0, dy + r * n, x + r * n, n, m, s, g, b, 1.0f, sum_dy + r, sum_dy_xh + r, NULL);
    }
}

// dx over one row: k * (M * d - sd - x^ * sdx) with batch statistics, k * d without.
BN_INLINE void backward_row(int has_slope, int batch, const float *restrict dr, const float *restrict xr, long n,
                            float m, float s, float g, float b, float a, float k, float count, float sd, float sdx,
                            float *restrict out) {
    for (long i = 0; i < n; i++) {
        const float h = BN_XHAT(xr[i]), v = g * h + b, d = BN_GRAD(v, dr[i]);
        out[i] = batch ? k * (count * d - sd - h * sdx) : k * d;
    }
}

BN_INLINE void backward_body(long rows, long n, long C, long first_row, const float *restrict dy,
                             const float *restrict x, const float *mean, const float *invstd, const float *gamma,
                             const float *beta, const float *slope, int per_channel, const float *k, float count,
                             const float *sd, const float *sdx, float *restrict dx) {
    BN_ROWS {
        const float m = mean[c], s = invstd[c], g = BN_GAMMA(c), b = BN_BETA(c), a = BN_SLOPE(c);
        const float *dr = dy + r * n, *xr = x + r * n;
        float *out = dx + r * n;
        if (slope && sd) backward_row(1, 1, dr, xr, n, m, s, g, b, a, k[c], count, sd[c], sdx[c], out);
        else if (slope) backward_row(1, 0, dr, xr, n, m, s, g, b, a, k[c], count, 0, 0, out);
        else if (sd) backward_row(0, 1, dr, xr, n, m, s, g, b, a, k[c], count, sd[c], sdx[c], out);
        else backward_row(0, 0, dr, xr, n, m, s, g, b, a, k[c], count, 0, 0, out);
    }
}

// Short rows (n < 8; n = 1 for [N, C]), one call for the whole tensor: sample by sample,
// channel by channel, each channel's sums accumulated in double in that order. The n == 1
// case is a contiguous loop over the channels, which the compiler vectorises.
#define BN_AT(sample, c, i) ((((sample) * C) + (c)) * n + (i))

BN_INLINE void columns_statistics_body(long N, long C, long n, const float *x, const float *mean, double *out) {
    for (long c = 0; c < C; c++) out[c] = 0;
    for (long sample = 0; sample < N; sample++) {
        for (long c = 0; c < C; c++) {
            const float m = mean ? mean[c] : 0.0f;
            for (long i = 0; i < n; i++) {
                const float v = x[BN_AT(sample, c, i)];
                out[c] += mean ? (double)((v - m) * (v - m)) : (double)v;
            }
        }
    }
}

BN_INLINE void columns_sums_body(int has_slope, long N, long C, long n, const float *dy, const float *x,
                                 const float *mean, const float *invstd, const float *gamma, const float *beta,
                                 const float *slope, int per_channel, double *sum_dy, double *sum_dy_xh,
                                 double *sum_da) {
    for (long c = 0; c < C; c++) {
        sum_dy[c] = sum_dy_xh[c] = 0;
        if (has_slope) sum_da[c] = 0;
    }
    for (long sample = 0; sample < N; sample++) {
        for (long c = 0; c < C; c++) {
            const float m = mean[c], s = invstd[c], g = BN_GAMMA(c), b = BN_BETA(c), a = BN_SLOPE(c);
            for (long i = 0; i < n; i++) {
                const float h = BN_XHAT(x[BN_AT(sample, c, i)]), v = g * h + b, g_out = dy[BN_AT(sample, c, i)];
                const float d = BN_GRAD(v, g_out);
                sum_dy[c] += (double)d;
                sum_dy_xh[c] += (double)(d * h);
                if (has_slope) sum_da[c] += (double)(v > 0 ? 0.0f : g_out * v);
            }
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
                                             const float *beta, const float *slope, int per_channel,          \
                                             float *y) {                                                      \
        forward_body(rows, n, C, first_row, x, mean, invstd, gamma, beta, slope, per_channel, y);             \
    }                                                                                                         \
    attributes static void backward_sums_##suffix(long rows, long n, long C, long first_row, const float *dy, \
                                                   const float *x, const float *mean, const float *invstd,    \
                                                   const float *gamma, const float *beta, const float *slope, \
                                                   int per_channel, double *sum_dy, double *sum_dy_xh,        \
                                                   double *sum_da) {                                          \
        backward_sums_body(rows, n, C, first_row, dy, x, mean, invstd, gamma, beta, slope, per_channel,       \
                           sum_dy, sum_dy_xh, sum_da);                                                        \
    }                                                                                                         \
    attributes static void backward_##suffix(long rows, long n, long C, long first_row, const float *dy,    \
                                              const float *x, const float *mean, const float *invstd,         \
                                              const float *gamma, const float *beta, const float *slope,      \
                                              int per_channel, const float *k, float count, const float *sd,  \
                                              const float *sdx, float *dx) {                                  \
        backward_body(rows, n, C, first_row, dy, x, mean, invstd, gamma, beta, slope, per_channel, k, count,  \
                      sd, sdx, dx);                                                                           \
    }                                                                                                         \
    attributes static void columns_statistics_##suffix(long N, long C, long n, const float *x,              \
                                                        const float *mean, double *out) {                     \
        if (n == 1) columns_statistics_body(N, C, 1, x, mean, out);                                           \
        else columns_statistics_body(N, C, n, x, mean, out);                                                  \
    }                                                                                                         \
    attributes static void columns_sums_##suffix(long N, long C, long n, const float *dy, const float *x,   \
                                                  const float *mean, const float *invstd, const float *gamma, \
                                                  const float *beta, const float *slope, int per_channel,     \
                                                  double *sum_dy, double *sum_dy_xh, double *sum_da) {        \
        if (slope && n == 1)                                                                                  \
            columns_sums_body(1, N, C, 1, dy, x, mean, invstd, gamma, beta, slope, per_channel, sum_dy,       \
                              sum_dy_xh, sum_da);                                                             \
        else if (slope)                                                                                       \
            columns_sums_body(1, N, C, n, dy, x, mean, invstd, gamma, beta, slope, per_channel, sum_dy,       \
                              sum_dy_xh, sum_da);                                                             \
        else if (n == 1)                                                                                      \
            columns_sums_body(0, N, C, 1, dy, x, mean, invstd, gamma, beta, slope, per_channel, sum_dy,       \
                              sum_dy_xh, sum_da);                                                             \
        else                                                                                                  \
            columns_sums_body(0, N, C, n, dy, x, mean, invstd, gamma, beta, slope, per_channel, sum_dy,       \
                              sum_dy_xh, sum_da);                                                             \
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
                      const float *invstd, const float *gamma, const float *beta, const float *slope, int per_channel,
                      float *y) {
    BN_DISPATCH(forward, rows, n, C, first_row, x, mean, invstd, gamma, beta, slope, per_channel, y)
}

void fovea_bn_backward_sums(long rows, long n, long C, long first_row, const float *dy, const float *x,
                            const float *mean, const float *invstd, const float *gamma, const float *beta,
                            const float *slope, int per_channel, double *sum_dy, double *sum_dy_xh, double *sum_da) {
    BN_DISPATCH(backward_sums, rows, n, C, first_row, dy, x, mean, invstd, gamma, beta, slope, per_channel, sum_dy,
                sum_dy_xh, sum_da)
}

void fovea_bn_backward(long rows, long n, long C, long first_row, const float *dy, const float *x, const float *mean,
                       const float *invstd, const float *gamma, const float *beta, const float *slope, int per_channel,
                       const float *k, float count, const float *sd, const float *sdx, float *dx) {
    BN_DISPATCH(backward, rows, n, C, first_row, dy, x, mean, invstd, gamma, beta, slope, per_channel, k, count, sd,
                sdx, dx)
}

void fovea_bn_columns_statistics(long N, long C, long n, const float *x, const float *mean, double *out) {
    BN_DISPATCH(columns_statistics, N, C, n, x, mean, out)
}

void fovea_bn_columns_backward_sums(long N, long C, long n, const float *dy, const float *x, const float *mean,
                                    const float *invstd, const float *gamma, const float *beta, const float *slope,
                                    int per_channel, double *sum_dy, double *sum_dy_xh, double *sum_da) {
    BN_DISPATCH(columns_sums, N, C, n, dy, x, mean, invstd, gamma, beta, slope, per_channel, sum_dy, sum_dy_xh,
                sum_da)
}
