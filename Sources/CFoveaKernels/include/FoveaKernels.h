// Fovea's C kernels. Row-major throughout.
//
// Names: M, N, K are the GEMM dimensions (C is M x N, the shared dimension is K);
// lda, ldb, ldc are row strides in elements.
#ifndef FOVEA_KERNELS_H
#define FOVEA_KERNELS_H

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/// C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C[M,N], row-major, single-threaded.
/// op(A) is A (M x K, row stride lda) or, when transA, the transpose of A stored K x M.
/// op(B) is B (K x N, row stride ldb) or, when transB, the transpose of B stored N x K.
/// beta == 0 overwrites C without reading it (NaNs in C are not propagated).
/// Callers split large products across threads by calling this on disjoint blocks of C.
void fovea_sgemm(bool transA, bool transB, long M, long N, long K,
                 float alpha, const float *A, long lda,
                 const float *B, long ldb,
                 float beta, float *C, long ldc);

/// 1 when the AVX2+FMA micro-kernel is in use on this CPU, 0 when the portable one is.
int fovea_sgemm_uses_avx2(void);

#ifdef __cplusplus
}
#endif
#endif
