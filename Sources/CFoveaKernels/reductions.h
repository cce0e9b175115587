// Sums over a row of floats shared by the kernels (not part of the public header): eight
// running float lanes, then the lanes and the tail in a fixed order, so the portable and
// the AVX2 builds (which vectorise the lanes differently) give the same result.
#ifndef FOVEA_REDUCTIONS_H
#define FOVEA_REDUCTIONS_H

#include <stddef.h>

enum { FOVEA_SUM = 0, FOVEA_SQUARED_DEVIATION = 1, FOVEA_DOT = 2 };

// kind (a literal at each use): FOVEA_SUM sums a[i]; FOVEA_SQUARED_DEVIATION sums
// (a[i] - m)^2; FOVEA_DOT sums a[i] * b[i].
static inline __attribute__((always_inline))
double fovea_row_reduce(const float *restrict a, const float *restrict b, float m, long n, int kind) {
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    long i = 0;
#define FOVEA_TERM(j) (kind == FOVEA_SUM ? a[j] : kind == FOVEA_DOT ? a[j] * b[j] : (a[j] - m) * (a[j] - m))
    for (; i + 8 <= n; i += 8) {
        for (int l = 0; l < 8; l++) acc[l] += FOVEA_TERM(i + l);
    }
    float total = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for (; i < n; i++) total += FOVEA_TERM(i);
#undef FOVEA_TERM
    return (double)total;
}

#endif
