// Batch normalisation's passes over [N, C, plane] rows (row r is image r / C, channel
// r % C), compiled for AVX2 (8 lanes) and portably: the statistics, the normalisation,
// and the backward's sums and input gradient. The formulas are in
// Tensor+Normalization.swift; here each row is one loop.
#include "FoveaKernels.h"
#include "reductions.h"

// Row r of a call is row first_row + r of the tensor; its channel is stepped along with r.
#define BN_ROWS for (long r = 0, c = first_row % C; r < rows; r++, c = c + 1 == C ? 0 : c + 1)

static inline __attribute__((always_inline))
void statistics_body(long rows, long n, long C, long first_row, const float *x, const float *mean, double *out) {
    BN_ROWS {
        const float *row = x + r * n;
        out[r] = mean ? fovea_row_reduce(row, NULL, mean[c], n, FOVEA_SQUARED_DEVIATION)
                      : fovea_row_reduce(row, NULL, 0.0f, n, FOVEA_SUM);
    }
}

// The PReLU that may follow the normalisation: slope[c] when per_channel, slope[0]
// otherwise; no activation when slope is NULL.
#define BN_SLOPE(c) (slope ? slope[per_channel ? (c) : 0] : 1.0f)

static inline __attribute__((always_inline))
void forward_body(long rows, long n, long C, long first_row, const float *restrict x, const float *mean,
                  const float *invstd, const float *gamma, const float *beta, const float *slope, int per_channel,
                  float *restrict xh, float *restrict y) {
    BN_ROWS {
        const float m = mean[c], s = invstd[c], g = gamma ? gamma[c] : 1.0f, b = beta ? beta[c] : 0.0f;
        const float *xr = x + r * n;
        float *hr = xh + r * n, *yr = y + r * n;
        if (slope) {
            const float a = BN_SLOPE(c);
            for (long i = 0; i < n; i++) {
                const float h = (xr[i] - m) * s;
                hr[i] = h;
                const float v = g * h + b;
                yr[i] = v > 0 ? v : a * v;
            }
        } else {
            for (long i = 0; i < n; i++) {
                const float h = (xr[i] - m) * s;
                hr[i] = h;
                yr[i] = g * h + b;
            }
        }
    }
}

// With a PReLU after the normalisation, the gradient reaching the normalisation is
// d = dy where v = gamma * xh + beta > 0 and slope * dy elsewhere; v is recomputed from
// xh exactly as the forward computed it, so the mask is the forward's. The slope's
// gradient is the sum of dy * v over v <= 0. The three sums keep eight float lanes each,
// combined as fovea_row_reduce combines them.
static inline __attribute__((always_inline))
void prelu_sums_row(const float *restrict dr, const float *restrict hr, long n, float g, float b, float a,
                    double *sum_d, double *sum_d_xh, double *sum_da) {
    float s0[8] = {0}, s1[8] = {0}, s2[8] = {0};
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        for (int l = 0; l < 8; l++) {
            const float v = g * hr[i + l] + b, dy = dr[i + l];
            const float d = v > 0 ? dy : a * dy;
            s0[l] += d;
            s1[l] += d * hr[i + l];
            s2[l] += v > 0 ? 0.0f : dy * v;
        }
    }
#define BN_LANES(t) (((t[0] + t[1]) + (t[2] + t[3])) + ((t[4] + t[5]) + (t[6] + t[7])))
    float t0 = BN_LANES(s0), t1 = BN_LANES(s1), t2 = BN_LANES(s2);
#undef BN_LANES
    for (; i < n; i++) {
        const float v = g * hr[i] + b, dy = dr[i];
        const float d = v > 0 ? dy : a * dy;
        t0 += d;
        t1 += d * hr[i];
        t2 += v > 0 ? 0.0f : dy * v;
    }
    *sum_d = t0;
    *sum_d_xh = t1;
    *sum_da = t2;
}

static inline __attribute__((always_inline))
void backward_sums_body(long rows, long n, long C, long first_row, const float *dy, const float *xh,
                        const float *gamma, const float *beta, const float *slope, int per_channel,
                        double *sum_dy, double *sum_dy_xh, double *sum_da) {
    BN_ROWS {
        if (slope) {
            prelu_sums_row(dy + r * n, xh + r * n, n, gamma ? gamma[c] : 1.0f, beta ? beta[c] : 0.0f, BN_SLOPE(c),
                           sum_dy + r, sum_dy_xh + r, sum_da + r);
        } else {
            sum_dy[r] = fovea_row_reduce(dy + r * n, NULL, 0.0f, n, FOVEA_SUM);
            sum_dy_xh[r] = fovea_row_reduce(dy + r * n, xh + r * n, 0.0f, n, FOVEA_DOT);
        }
    }
}

static inline __attribute__((always_inline))
void backward_body(long rows, long n, long C, long first_row, const float *restrict dy, const float *restrict xh,
                   const float *gamma, const float *beta, const float *slope, int per_channel,
                   const float *k, float a, const float *sd, const float *sdx, float *restrict dx) {
    BN_ROWS {
        const float kc = k[c];
        const float *dr = dy + r * n, *hr = xh + r * n;
        float *out = dx + r * n;
        const float s = sd ? sd[c] : 0.0f, t = sd ? sdx[c] : 0.0f;
        if (slope) {
            const float g = gamma ? gamma[c] : 1.0f, b = beta ? beta[c] : 0.0f, p = BN_SLOPE(c);
            if (sd) {
                for (long i = 0; i < n; i++) {
                    const float v = g * hr[i] + b;
                    const float d = v > 0 ? dr[i] : p * dr[i];
                    out[i] = kc * (a * d - s - hr[i] * t);
                }
            } else {
                for (long i = 0; i < n; i++) {
                    const float v = g * hr[i] + b;
                    out[i] = kc * (v > 0 ? dr[i] : p * dr[i]);
                }
            }
        } else if (sd) {
            for (long i = 0; i < n; i++) out[i] = kc * (a * dr[i] - s - hr[i] * t);
        } else {
            for (long i = 0; i < n; i++) out[i] = kc * dr[i];
        }
    }
}

// Short rows (n < 8; n = 1 for [N, C]), one call for the whole tensor: sample by sample,
// channel by channel, each channel's sums accumulated in double in that order. The n == 1
// case is a contiguous loop over the channels, which the compiler vectorises.
#define BN_AT(s, c, i) ((((s) * C) + (c)) * n + (i))

static inline __attribute__((always_inline))
void columns_statistics_body(long N, long C, long n, const float *x, const float *mean, double *out) {
    for (long c = 0; c < C; c++) out[c] = 0;
    for (long s = 0; s < N; s++) {
        for (long c = 0; c < C; c++) {
            const float m = mean ? mean[c] : 0.0f;
            for (long i = 0; i < n; i++) {
                const float v = x[BN_AT(s, c, i)];
                out[c] += mean ? (double)((v - m) * (v - m)) : (double)v;
            }
        }
    }
}

static inline __attribute__((always_inline))
void columns_sums_body(long N, long C, long n, const float *dy, const float *xh, const float *gamma, const float *beta,
                       const float *slope, int per_channel, double *sum_dy, double *sum_dy_xh, double *sum_da) {
    for (long c = 0; c < C; c++) {
        sum_dy[c] = sum_dy_xh[c] = 0;
        if (slope) sum_da[c] = 0;
    }
    for (long s = 0; s < N; s++) {
        for (long c = 0; c < C; c++) {
            const float g = gamma ? gamma[c] : 1.0f, b = beta ? beta[c] : 0.0f, a = BN_SLOPE(c);
            for (long i = 0; i < n; i++) {
                const float h = xh[BN_AT(s, c, i)], g_out = dy[BN_AT(s, c, i)];
                if (slope) {
                    const float v = g * h + b;
                    const float d = v > 0 ? g_out : a * g_out;
                    sum_dy[c] += (double)d;
                    sum_dy_xh[c] += (double)(d * h);
                    sum_da[c] += (double)(v > 0 ? 0.0f : g_out * v);
                } else {
                    sum_dy[c] += (double)g_out;
                    sum_dy_xh[c] += (double)(g_out * h);
                }
            }
        }
    }
}

// The elementwise passes of short rows: the row bodies over N * C rows of n, with the
// channel stepped instead of divided out, so a row of one value costs no division.
#define BN_VARIANTS(suffix, attributes)                                                                       \
    attributes static void statistics_##suffix(long rows, long n, long C, long first_row, const float *x,   \
                                                const float *mean, double *out) {                             \
        statistics_body(rows, n, C, first_row, x, mean, out);                                                 \
    }                                                                                                         \
    attributes static void forward_##suffix(long rows, long n, long C, long first_row, const float *x,      \
                                             const float *mean, const float *invstd, const float *gamma,      \
                                             const float *beta, const float *slope, int per_channel,          \
                                             float *xh, float *y) {                                           \
        forward_body(rows, n, C, first_row, x, mean, invstd, gamma, beta, slope, per_channel, xh, y);         \
    }                                                                                                         \
    attributes static void backward_sums_##suffix(long rows, long n, long C, long first_row, const float *dy, \
                                                   const float *xh, const float *gamma, const float *beta,    \
                                                   const float *slope, int per_channel, double *sum_dy,       \
                                                   double *sum_dy_xh, double *sum_da) {                       \
        backward_sums_body(rows, n, C, first_row, dy, xh, gamma, beta, slope, per_channel, sum_dy, sum_dy_xh, \
                           sum_da);                                                                           \
    }                                                                                                         \
    attributes static void backward_##suffix(long rows, long n, long C, long first_row, const float *dy,    \
                                              const float *xh, const float *gamma, const float *beta,         \
                                              const float *slope, int per_channel, const float *k, float a,   \
                                              const float *sd, const float *sdx, float *dx) {                 \
        backward_body(rows, n, C, first_row, dy, xh, gamma, beta, slope, per_channel, k, a, sd, sdx, dx);     \
    }                                                                                                         \
    attributes static void columns_statistics_##suffix(long N, long C, long n, const float *x,              \
                                                        const float *mean, double *out) {                     \
        if (n == 1) columns_statistics_body(N, C, 1, x, mean, out);                                           \
        else columns_statistics_body(N, C, n, x, mean, out);                                                  \
    }                                                                                                         \
    attributes static void columns_sums_##suffix(long N, long C, long n, const float *dy, const float *xh,  \
                                                  const float *gamma, const float *beta, const float *slope,  \
                                                  int per_channel, double *sum_dy, double *sum_dy_xh,         \
                                                  double *sum_da) {                                           \
        if (n == 1) columns_sums_body(N, C, 1, dy, xh, gamma, beta, slope, per_channel, sum_dy, sum_dy_xh,   \
                                      sum_da);                                                                \
        else columns_sums_body(N, C, n, dy, xh, gamma, beta, slope, per_channel, sum_dy, sum_dy_xh, sum_da);  \
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
                      float *xh, float *y) {
    BN_DISPATCH(forward, rows, n, C, first_row, x, mean, invstd, gamma, beta, slope, per_channel, xh, y)
}

void fovea_bn_backward_sums(long rows, long n, long C, long first_row, const float *dy, const float *xh,
                            const float *gamma, const float *beta, const float *slope, int per_channel,
                            double *sum_dy, double *sum_dy_xh, double *sum_da) {
    BN_DISPATCH(backward_sums, rows, n, C, first_row, dy, xh, gamma, beta, slope, per_channel, sum_dy, sum_dy_xh,
                sum_da)
}

void fovea_bn_backward(long rows, long n, long C, long first_row, const float *dy, const float *xh,
                       const float *gamma, const float *beta, const float *slope, int per_channel, const float *k,
                       float a, const float *sd, const float *sdx, float *dx) {
    BN_DISPATCH(backward, rows, n, C, first_row, dy, xh, gamma, beta, slope, per_channel, k, a, sd, sdx, dx)
}

void fovea_bn_columns_statistics(long N, long C, long n, const float *x, const float *mean, double *out) {
    BN_DISPATCH(columns_statistics, N, C, n, x, mean, out)
}

void fovea_bn_columns_backward_sums(long N, long C, long n, const float *dy, const float *xh, const float *gamma,
                                    const float *beta, const float *slope, int per_channel, double *sum_dy,
                                    double *sum_dy_xh, double *sum_da) {
    BN_DISPATCH(columns_sums, N, C, n, dy, xh, gamma, beta, slope, per_channel, sum_dy, sum_dy_xh, sum_da)
}
