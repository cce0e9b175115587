// Checks fovea_sgemm on the CPU it runs on (on arm64: the NEON micro-kernel) against a
// Double reference, then again with the portable kernels forced, over shapes that hit
// every edge: rows not a multiple of the 6-row tile, columns not a multiple of 16, depths
// past one 256 block, both transposes, alpha and beta, strides wider than the rows, and
// beta == 0 over a C full of NaN (which must not leak). Run by check_arm64_kernels.sh under
// qemu-aarch64; prints one line per kernel and exits non-zero on the first mismatch.
#include "FoveaKernels.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static unsigned long long state = 88172645463325252ULL;
static float uniform(void) { // xorshift64: uniform in [-1, 1)
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return (float)((state >> 40) & 0xFFFFFF) / 8388608.0f - 1.0f;
}

static int check(int transA, int transB, long M, long N, long K, float alpha, float beta, long pad, int nan_c) {
    const long lda = (transA ? M : K) + pad, ldb = (transB ? K : N) + pad, ldc = N + pad;
    const long a_rows = transA ? K : M, b_rows = transB ? N : K;
    float *A = malloc(sizeof(float) * (size_t)(a_rows * lda + 1));
    float *B = malloc(sizeof(float) * (size_t)(b_rows * ldb + 1));
    float *C = malloc(sizeof(float) * (size_t)(M * ldc + 1));
    float *C0 = malloc(sizeof(float) * (size_t)(M * ldc + 1));
    for (long i = 0; i < a_rows * lda; i++) A[i] = uniform();
    for (long i = 0; i < b_rows * ldb; i++) B[i] = uniform();
    for (long i = 0; i < M * ldc; i++) C[i] = C0[i] = nan_c ? NAN : uniform();
    fovea_sgemm(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    int ok = 1;
    for (long i = 0; i < M && ok; i++) {
        for (long j = 0; j < ldc && ok; j++) {
            const float got = C[i * ldc + j];
            if (j >= N) { // padding columns must be untouched
                if (!(got == C0[i * ldc + j] || (isnan(got) && isnan(C0[i * ldc + j])))) ok = 0;
                continue;
            }
            double sum = 0, magnitude = 0;
            for (long p = 0; p < K; p++) {
                const double x = transA ? A[p * lda + i] : A[i * lda + p];
                const double y = transB ? B[j * ldb + p] : B[p * ldb + j];
                sum += x * y;
                magnitude += fabs(x * y);
            }
            const double old = beta == 0.0f ? 0.0 : C0[i * ldc + j];
            const double expected = alpha * sum + beta * old;
            const double tolerance = 1e-5 * sqrt((double)(K > 1 ? K : 1)) * (fabs(alpha) * magnitude + fabs(beta * old)) + 1e-6;
            if (!(fabs(got - expected) <= tolerance)) {
                fprintf(stderr, "mismatch %c%c M=%ld N=%ld K=%ld alpha=%g beta=%g pad=%ld: C(%ld,%ld) = %g, expected %g\n",
                        transA ? 'T' : 'N', transB ? 'T' : 'N', M, N, K, alpha, beta, pad, i, j, got, expected);
                ok = 0;
            }
        }
    }
    free(A); free(B); free(C); free(C0);
    return ok;
}

static int run_all(void) {
    static const long shapes[][3] = {
        {1, 1, 1}, {7, 17, 3}, {13, 33, 300}, {6, 16, 256}, {65, 129, 513}, {1, 40, 37}, {40, 1, 37},
        {5, 15, 1}, {12, 32, 8}, {6, 100, 27}, {17, 47, 257}, {150, 20, 30}, {70, 49, 600}, {200, 700, 40},
    };
    int checked = 0;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        for (int t = 0; t < 4; t++) {
            const long M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
            if (!check(t & 1, t & 2, M, N, K, 1.0f, 0.0f, 0, 0)) return -1;
            if (!check(t & 1, t & 2, M, N, K, -2.0f, 0.5f, 3, 0)) return -1;
            if (!check(t & 1, t & 2, M, N, K, 1.5f, 0.0f, 5, 1)) return -1;
            checked += 3;
        }
    }
    return checked;
}

int main(void) {
    const int simd = run_all();
    printf("%s kernel: %s\n", fovea_sgemm_kernel_name(), simd < 0 ? "MISMATCH" : "all products match the Double reference");
    fovea_use_portable_kernels(1);
    const int portable = run_all();
    printf("%s kernel: %s\n", fovea_sgemm_kernel_name(), portable < 0 ? "MISMATCH" : "all products match the Double reference");
    if (simd < 0 || portable < 0) return 1;
    printf("%d products checked on each kernel\n", simd);
    return 0;
}
