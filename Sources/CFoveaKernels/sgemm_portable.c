// Portable GEMM pieces: packing routines and a 6x16 micro-kernel in plain C, for CPUs
// without AVX2+FMA (and every non-x86 CPU). Written so that a compiler can keep the
// accumulator tile in vector registers and auto-vectorise the inner loops over j.
//
// Names: C is M x N, the shared dimension is K, row-major. MR x NR (6 x 16) is one
// micro-tile; kc is the depth of a packed panel; m <= MR and n <= NR are the live rows and
// columns of a tile; mc / nc are the rows / columns of op(A) / op(B) being packed; rsb is
// the distance between k steps of a B sliver (NR when packed).
// See sgemm_internal.h for the packed layouts.
#include "sgemm_internal.h"

#include <string.h>

enum { MR = FOVEA_MR, NR = FOVEA_NR };

void fovea_merge_tile(const float *T, float *C, long ldc, long m, long n, float beta) {
    // beta == 0 is a separate branch, not a multiplication by zero, so NaN or Inf left in
    // C from earlier use never leaks into the result.
    if (beta == 0.0f) {
        for (long i = 0; i < m; i++)
            for (long j = 0; j < n; j++) C[i * ldc + j] = T[i * NR + j];
    } else {
        for (long i = 0; i < m; i++)
            for (long j = 0; j < n; j++) C[i * ldc + j] = T[i * NR + j] + beta * C[i * ldc + j];
    }
}

void fovea_microkernel_portable(long kc, const float *Ap, const float *Bs, long rsb,
                                float *C, long ldc, long m, long n, float alpha, float beta) {
    // The whole 6x16 tile is computed even at edges: the packed slivers are zero-padded,
    // so the dead rows/columns are just zeros that never get stored. (An unpacked B,
    // rsb == ldb, only ever comes with all 16 columns live.) With 32 vector registers, as
    // on arm64, compilers keep acc in registers and turn the j loop into NEON FMAs.
    float acc[MR][NR];
    memset(acc, 0, sizeof acc);
    for (long k = 0; k < kc; k++) {
        const float *a = Ap + k * MR, *b = Bs + k * rsb;
        for (int i = 0; i < MR; i++) {
            const float ai = a[i];
            for (int j = 0; j < NR; j++) acc[i][j] += ai * b[j];
        }
    }
    float T[MR * NR];
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++) T[i * NR + j] = alpha * acc[i][j];
    fovea_merge_tile(T, C, ldc, m, n, beta);
}

void fovea_pack_a_portable(int transA, long mc, long kc, const float *A, long lda, float *Ap) {
    for (long i0 = 0; i0 < mc; i0 += MR) {
        const long m = mc - i0 < MR ? mc - i0 : MR;
        float *dst = Ap + i0 * kc;
        if (!transA) {
            // op(A) rows are A rows: read each of the m rows once, along k.
            for (long i = 0; i < m; i++) {
                const float *src = A + (i0 + i) * lda;
                for (long k = 0; k < kc; k++) dst[k * MR + i] = src[k];
            }
        } else {
            // op(A)(i, k) = A[k * lda + i]: the m values of one k step are contiguous.
            for (long k = 0; k < kc; k++) {
                const float *src = A + k * lda + i0;
                for (long i = 0; i < m; i++) dst[k * MR + i] = src[i];
            }
        }
        // Zero the rows past the bottom edge so the kernel can multiply them blindly.
        for (long i = m; i < MR; i++)
            for (long k = 0; k < kc; k++) dst[k * MR + i] = 0.0f;
    }
}

void fovea_pack_b_portable(int transB, long kc, long nc, const float *B, long ldb, float *Bp) {
    for (long j0 = 0; j0 < nc; j0 += NR) {
        const long n = nc - j0 < NR ? nc - j0 : NR;
        float *dst = Bp + j0 * kc;
        if (!transB) {
            // op(B)(k, j) = B[k * ldb + j]: each k step is a contiguous run of n values.
            for (long k = 0; k < kc; k++) {
                const float *src = B + k * ldb + j0;
                for (long j = 0; j < n; j++) dst[k * NR + j] = src[j];
                for (long j = n; j < NR; j++) dst[k * NR + j] = 0.0f;
            }
        } else {
            // op(B)(k, j) = B[j * ldb + k]: read each of the n source rows once, along k.
            for (long j = 0; j < n; j++) {
                const float *src = B + (j0 + j) * ldb;
                for (long k = 0; k < kc; k++) dst[k * NR + j] = src[k];
            }
            for (long k = 0; k < kc; k++)
                for (long j = n; j < NR; j++) dst[k * NR + j] = 0.0f;
        }
    }
}
