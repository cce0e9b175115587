// Private to the GEMM: the shapes shared by the driver (sgemm.c), the AVX2/FMA kernels
// (sgemm_avx2.c) and the portable kernels (sgemm_portable.c). Not part of the public API.
//
// Names: C is M x N, the shared dimension is K, all row-major. A panel of op(A) is packed
// into "A slivers" of FOVEA_MR rows, a panel of op(B) into "B slivers" of FOVEA_NR columns;
// kc is the depth of one packed panel (<= K). m <= MR and n <= NR are the live rows and
// columns of one micro-tile of C (less than MR / NR only at the bottom and right edges).
#ifndef FOVEA_SGEMM_INTERNAL_H
#define FOVEA_SGEMM_INTERNAL_H

#include <stddef.h>

#include "FoveaKernels.h"

// Micro-tile: 6 rows x 16 columns. On AVX2 that is 6 x 2 = 12 ymm accumulators, leaving
// 2 registers for a row of B and 1-2 for broadcasts of A, inside the 16 ymm registers.
#define FOVEA_MR 6
#define FOVEA_NR 16

// Block sizes of the driver (the reasons are in sgemm.c): the depth of a packed panel, the
// rows of an A panel, the columns of a B panel.
#define FOVEA_KC 256
#define FOVEA_MC 144
#define FOVEA_NC 512

// Right edges of at most this many columns, in products that read A's rows in place, are
// dot products (fovea_tail_dot_avx2) rather than a zero-padded sliver.
#define FOVEA_DOT_TAIL_MAX 4

/// The block size for splitting `total` into pieces of at most `max`, balanced so the
/// last piece is not a sliver (K = 300 gives 152 + 148, not 256 + 44), rounded up to a
/// multiple of `align` (max must be a multiple of align).
static inline long fovea_balanced_block(long total, long max, long align) {
    if (total <= max) return total;
    const long pieces = (total + max - 1) / max;
    long size = (total + pieces - 1) / pieces;
    size = (size + align - 1) / align * align;
    return size < max ? size : max;
}

// One row of fovea_epilogue_rows, with `add` and `relu` literals at each call site: each
// combination is its own plain loop (a residual read under a condition became masked loads,
// which fault-check a NULL residual's addresses at great cost on AMD CPUs).
static inline __attribute__((always_inline)) void fovea_epilogue_row(const int add, const int relu, long n, float a,
                                                                     float b, const float *r, float *c) {
    for (long j = 0; j < n; j++) {
        float v = a * c[j] + b;
        if (add) v += r[j];
        if (relu) v = v > 0.0f ? v : 0.0f;
        c[j] = v;
    }
}

/// The epilogue `ep` on the m x n block of C at C (row stride ldc) whose first element is
/// C's (i0, j0): rows take scale[i0 + i], shift[i0 + i] and the residual's row i0 + i from
/// column j0. `scale * c + shift` is one expression, so a caller compiled for FMA fuses it
/// as fovea_scale_shift_planes does; the residual is added after it and the ReLU last, as
/// the unfused ops (epilogue, then fovea_add_relu) round.
static inline __attribute__((always_inline)) void fovea_epilogue_rows(const fovea_gemm_epilogue *ep, long i0, long j0,
                                                                      long m, long n, float *C, long ldc) {
    for (long i = 0; i < m; i++) {
        const float a = ep->scale ? ep->scale[i0 + i] : 1.0f, b = ep->shift ? ep->shift[i0 + i] : 0.0f;
        float *c = C + i * ldc;
        if (ep->residual) {
            const float *r = ep->residual + (i0 + i) * ep->ldr + j0;
            if (ep->relu) fovea_epilogue_row(1, 1, n, a, b, r, c);
            else fovea_epilogue_row(1, 0, n, a, b, r, c);
        } else {
            if (ep->relu) fovea_epilogue_row(0, 1, n, a, b, NULL, c);
            else fovea_epilogue_row(0, 0, n, a, b, NULL, c);
        }
    }
}

/// An epilogue applied to one block of C (fovea_epilogue_rows' arguments).
typedef void (*fovea_epilogue_block_fn)(const fovea_gemm_epilogue *ep, long i0, long j0, long m, long n, float *C,
                                        long ldc);
/// fovea_epilogue_rows compiled for any CPU (sgemm.c).
void fovea_epilogue_block_portable(const fovea_gemm_epilogue *ep, long i0, long j0, long m, long n, float *C, long ldc);

/// The calling thread's packing buffers (sgemm.c), grown to hold a_need and b_need floats
/// (64-byte aligned, with slack for the A packer's last store). 0 when memory ran out.
int fovea_sgemm_buffers(size_t a_need, size_t b_need, float **Ap, float **Bp);

// Packed layouts (both zero-padded past the live rows / columns, so the micro-kernel
// never needs to know about edges while multiplying):
//   A sliver: kc steps of MR floats, element (i, k) at Ap[k * MR + i].
//   B sliver: kc steps of NR floats, element (k, j) at Bp[k * NR + j].

/// Computes the m x n micro-tile C = alpha * (Ap * Bs) + beta * C from one A sliver and a
/// B sliver of depth kc (kc >= 1). beta == 0 must not read C. The B sliver's k steps are
/// rsb floats apart: rsb == NR for a packed sliver; otherwise Bs points straight into
/// op(B) = B (rsb = ldb), which the driver only does for full slivers (n == NR).
typedef void (*fovea_microkernel_fn)(long kc, const float *Ap, const float *Bs, long rsb,
                                     float *C, long ldc, long m, long n,
                                     float alpha, float beta);

/// Packs rows [0, mc) x depth [0, kc) of op(A) into ceil(mc / MR) A slivers at Ap.
/// A points at op(A)'s element (0, 0): for !transA op(A)(i, k) = A[i * lda + k],
/// for transA op(A)(i, k) = A[k * lda + i].
typedef void (*fovea_pack_a_fn)(int transA, long mc, long kc, const float *A, long lda, float *Ap);

/// Packs depth [0, kc) x columns [0, nc) of op(B) into ceil(nc / NR) B slivers at Bp.
/// B points at op(B)'s element (0, 0): for !transB op(B)(k, j) = B[k * ldb + j],
/// for transB op(B)(k, j) = B[j * ldb + k].
typedef void (*fovea_pack_b_fn)(int transB, long kc, long nc, const float *B, long ldb, float *Bp);

// Portable versions (plain C; sgemm_portable.c), used on every CPU without AVX2+FMA.
void fovea_microkernel_portable(long kc, const float *Ap, const float *Bs, long rsb,
                                float *C, long ldc, long m, long n, float alpha, float beta);
void fovea_pack_a_portable(int transA, long mc, long kc, const float *A, long lda, float *Ap);
void fovea_pack_b_portable(int transB, long kc, long nc, const float *B, long ldb, float *Bp);

/// Writes the m x n tile T (row stride FOVEA_NR, already multiplied by alpha) into C
/// as C = T + beta * C; beta == 0 does not read C. Shared by every kernel's edge path.
void fovea_merge_tile(const float *T, float *C, long ldc, long m, long n, float beta);

#if defined(__aarch64__)
// The NEON micro-kernel (sgemm_neon.c); AArch64 always has Advanced SIMD.
void fovea_microkernel_neon(long kc, const float *Ap, const float *Bs, long rsb,
                            float *C, long ldc, long m, long n, float alpha, float beta);
#endif

#if defined(__x86_64__) || defined(__i386__)
// AVX2+FMA versions (sgemm_avx2.c); only called after a run-time CPU check.
void fovea_microkernel_avx2(long kc, const float *Ap, const float *Bs, long rsb,
                            float *C, long ldc, long m, long n, float alpha, float beta);
void fovea_pack_a_avx2(int transA, long mc, long kc, const float *A, long lda, float *Ap);
void fovea_pack_b_avx2(int transB, long kc, long nc, const float *B, long ldb, float *Bp);
/// The micro-kernel with op(A) = A read in place: element (i, k) of the tile's rows at
/// A[i * lda + k], against a packed B sliver.
void fovea_microkernel_a_rows_avx2(long kc, const float *A, long lda, const float *Bs, float *C, long ldc,
                                   long m, long n, float alpha, float beta);
/// fovea_epilogue_rows compiled for AVX2+FMA.
void fovea_epilogue_block_avx2(const fovea_gemm_epilogue *ep, long i0, long j0, long m, long n, float *C, long ldc);
/// The m x tail block C = alpha * A * Bt^T + beta * C (m <= FOVEA_MR, tail <= FOVEA_DOT_TAIL_MAX)
/// as dot products along k: A's rows at A[i * lda + k], the columns of op(B) contiguous
/// along k at Bt[j * ldbt + k], k < kc. beta == 0 does not read C.
void fovea_tail_dot_avx2(long kc, const float *A, long lda, const float *Bt, long ldbt, long tail,
                         float *C, long ldc, long m, float alpha, float beta);
/// The whole product C = alpha * A * B^T + beta * C for M <= FOVEA_MR, !transA, transB,
/// as dot products of A's rows with B's rows (no packing). beta == 0 does not read C.
void fovea_sgemm_nt_few_rows_avx2(long M, long N, long K, float alpha,
                                  const float *A, long lda, const float *B, long ldb,
                                  float beta, float *C, long ldc);
#endif

#endif
