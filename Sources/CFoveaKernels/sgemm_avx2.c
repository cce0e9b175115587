// AVX2+FMA GEMM pieces: the 6x16 micro-kernel, the packing routines that benefit from 8x8
// register transposes, and a dot-product path for A * B^T with few rows. Every function
// here carries __attribute__((target("avx2,fma"))) so the file needs no compiler flags;
// sgemm.c only calls them after checking the CPU.
//
// Names: C is M x N, the shared dimension is K, row-major. MR x NR (6 x 16) is one
// micro-tile; kc is the depth of a packed panel; m <= MR and n <= NR are the live rows and
// columns of a tile; mc / nc are the rows / columns of op(A) / op(B) being packed; rsb is
// the distance between k steps of a B sliver; kb is the length of one piece of K in the
// dot-product path. See sgemm_internal.h for the packed layouts.
#include "sgemm_internal.h"

#if defined(__x86_64__) || defined(__i386__)

#include <immintrin.h>

#include "lanes_avx2.h"
#include "transpose_avx2.h"

#define FOVEA_AVX2 __attribute__((target("avx2,fma")))
#define FOVEA_INLINE static inline __attribute__((always_inline))

enum { MR = FOVEA_MR, NR = FOVEA_NR };

// One k step of the micro-kernel for row r: broadcast op(A)(r, k) and multiply-add it into
// the two accumulators of that row. `rows` is a compile-time constant at every call site,
// so the rows a short tile does not have vanish, along with their accumulators.
#define FOVEA_ROW_FMA(r, off)                                                     \
    if (rows > r) {                                                               \
        const __m256 ar = _mm256_broadcast_ss(a + (off) * aks + (r) * ars);       \
        c##r##0 = _mm256_fmadd_ps(ar, b0, c##r##0);                               \
        c##r##1 = _mm256_fmadd_ps(ar, b1, c##r##1);                               \
    }

// One full k step: one row of the B sliver (two vectors), then up to 6 broadcasts of A
// and 12 FMAs. The loads of B come first so both are in flight while the FMAs issue.
#define FOVEA_K_STEP(off)                                                         \
    {                                                                             \
        const __m256 b0 = _mm256_loadu_ps(b + (off) * rsb);                       \
        const __m256 b1 = _mm256_loadu_ps(b + (off) * rsb + 8);                   \
        if (!packed)                                                              \
            _mm_prefetch((const char *)(b + (off) * rsb + 2 * NR), _MM_HINT_T0);      \
        FOVEA_ROW_FMA(0, off) FOVEA_ROW_FMA(1, off) FOVEA_ROW_FMA(2, off)         \
        FOVEA_ROW_FMA(3, off) FOVEA_ROW_FMA(4, off) FOVEA_ROW_FMA(5, off)         \
    }

// Stores row r of the tile: C = alpha * acc (+ beta * C). beta == 0 never reads C.
#define FOVEA_ROW_STORE(r)                                                        \
    if (rows > r) {                                                               \
        float *cr = C + (r) * ldc;                                                \
        __m256 lo = _mm256_mul_ps(va, c##r##0), hi = _mm256_mul_ps(va, c##r##1);  \
        if (beta != 0.0f) {                                                       \
            lo = _mm256_fmadd_ps(vb, _mm256_loadu_ps(cr), lo);                    \
            hi = _mm256_fmadd_ps(vb, _mm256_loadu_ps(cr + 8), hi);                \
        }                                                                         \
        _mm256_storeu_ps(cr, lo);                                                 \
        _mm256_storeu_ps(cr + 8, hi);                                             \
    }

// The micro-kernel proper for a tile of `rows` x 16. `rows` (1..6), `packed` and
// `a_in_place` are literals at every call site, so each combination compiles to its own
// straight-line loop. Up to twelve ymm accumulators stay in registers for the whole depth
// kc. A comes from its packed sliver (element (r, k) at a[k * MR + r]) or, a_in_place, from
// the rows of op(A) = A themselves (a[r * lda + k]); B from its packed sliver (packed:
// rsb == NR, the k steps are contiguous and the loads stream from L1) or straight from the
// rows of B (rsb == ldb), when packing it would cost more than it saves.
FOVEA_INLINE FOVEA_AVX2 void tile_rows_x16(const int rows, const int packed, const int a_in_place, long kc,
                                          const float *a, long lda, const float *b, long rsb,
                                          float *C, long ldc, float alpha, float beta) {
    if (packed) rsb = NR; // a constant the compiler can fold into the addressing
    const long aks = a_in_place ? 1 : MR, ars = a_in_place ? lda : 1;
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
    __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
    __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
    __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
    __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
    __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();

    // Touch the tile of C early: its lines are needed only after the k loop, and by then
    // they have had the whole loop to arrive.
    for (int r = 0; r < rows; r++) {
        _mm_prefetch((const char *)(C + r * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(C + r * ldc + NR - 1), _MM_HINT_T0);
    }

    long k = 0;
    // Unrolled by 4 so the loop overhead and pointer bumps are spread over 48 FMAs.
    for (; k + 4 <= kc; k += 4) {
        FOVEA_K_STEP(0) FOVEA_K_STEP(1) FOVEA_K_STEP(2) FOVEA_K_STEP(3)
        a += 4 * aks;
        b += 4 * rsb;
    }
    for (; k < kc; k++) {
        FOVEA_K_STEP(0)
        a += aks;
        b += rsb;
    }

    const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    FOVEA_ROW_STORE(0) FOVEA_ROW_STORE(1) FOVEA_ROW_STORE(2)
    FOVEA_ROW_STORE(3) FOVEA_ROW_STORE(4) FOVEA_ROW_STORE(5)
}

// Calls the tile body with `rows` as a literal, giving one specialised copy per row count:
// a bottom-edge tile of 4 rows then costs 8 FMAs per k step, not 12.
FOVEA_INLINE FOVEA_AVX2 void tile_any_rows(const int packed, const int a_in_place, long m, long kc, const float *a,
                                          long lda, const float *b, long rsb,
                                          float *C, long ldc, float alpha, float beta) {
    switch (m) {
    case 6: tile_rows_x16(6, packed, a_in_place, kc, a, lda, b, rsb, C, ldc, alpha, beta); break;
    case 5: tile_rows_x16(5, packed, a_in_place, kc, a, lda, b, rsb, C, ldc, alpha, beta); break;
    case 4: tile_rows_x16(4, packed, a_in_place, kc, a, lda, b, rsb, C, ldc, alpha, beta); break;
    case 3: tile_rows_x16(3, packed, a_in_place, kc, a, lda, b, rsb, C, ldc, alpha, beta); break;
    case 2: tile_rows_x16(2, packed, a_in_place, kc, a, lda, b, rsb, C, ldc, alpha, beta); break;
    default: tile_rows_x16(1, packed, a_in_place, kc, a, lda, b, rsb, C, ldc, alpha, beta); break;
    }
}

// A right-edge tile with at most 8 live columns (7x7 planes leave 1, 14x14 ones 4): only the
// sliver's first 8 columns are multiplied, 6 FMAs per k step instead of 12, and only the n
// live columns are stored (fovea_store_lanes).
#define FOVEA_ROW_FMA8(r, off)                                                    \
    if (rows > r) c##r = _mm256_fmadd_ps(_mm256_broadcast_ss(a + (off) * aks + (r) * ars), b0, c##r);

#define FOVEA_K_STEP8(off)                                                        \
    {                                                                             \
        const __m256 b0 = _mm256_loadu_ps(b + (off) * NR);                        \
        FOVEA_ROW_FMA8(0, off) FOVEA_ROW_FMA8(1, off) FOVEA_ROW_FMA8(2, off)      \
        FOVEA_ROW_FMA8(3, off) FOVEA_ROW_FMA8(4, off) FOVEA_ROW_FMA8(5, off)      \
    }

#define FOVEA_ROW_STORE8(r)                                                       \
    if (rows > r) {                                                               \
        float *cr = C + (r) * ldc;                                                \
        __m256 v = _mm256_mul_ps(va, c##r);                                       \
        if (beta != 0.0f) v = _mm256_fmadd_ps(vb, _mm256_maskload_ps(cr, mask), v); \
        fovea_store_lanes(cr, v, n);                                              \
    }

FOVEA_INLINE FOVEA_AVX2 void tile_rows_x8(const int rows, const int a_in_place, long kc, const float *a, long lda,
                                         const float *b, long n, float *C, long ldc, float alpha, float beta) {
    const long aks = a_in_place ? 1 : MR, ars = a_in_place ? lda : 1;
    __m256 c0 = _mm256_setzero_ps(), c1 = _mm256_setzero_ps(), c2 = _mm256_setzero_ps();
    __m256 c3 = _mm256_setzero_ps(), c4 = _mm256_setzero_ps(), c5 = _mm256_setzero_ps();
    long k = 0;
    for (; k + 4 <= kc; k += 4) {
        FOVEA_K_STEP8(0) FOVEA_K_STEP8(1) FOVEA_K_STEP8(2) FOVEA_K_STEP8(3)
        a += 4 * aks;
        b += 4 * NR;
    }
    for (; k < kc; k++) {
        FOVEA_K_STEP8(0)
        a += aks;
        b += NR;
    }
    const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    const __m256i mask = fovea_lanes_below(n);
    FOVEA_ROW_STORE8(0) FOVEA_ROW_STORE8(1) FOVEA_ROW_STORE8(2)
    FOVEA_ROW_STORE8(3) FOVEA_ROW_STORE8(4) FOVEA_ROW_STORE8(5)
}

// The 8-column edge tile with `rows` as a literal.
FOVEA_INLINE FOVEA_AVX2 void tile_any_rows_x8(const int a_in_place, long m, long kc, const float *a, long lda,
                                             const float *b, long n, float *C, long ldc, float alpha, float beta) {
    switch (m) {
    case 6: tile_rows_x8(6, a_in_place, kc, a, lda, b, n, C, ldc, alpha, beta); break;
    case 5: tile_rows_x8(5, a_in_place, kc, a, lda, b, n, C, ldc, alpha, beta); break;
    case 4: tile_rows_x8(4, a_in_place, kc, a, lda, b, n, C, ldc, alpha, beta); break;
    case 3: tile_rows_x8(3, a_in_place, kc, a, lda, b, n, C, ldc, alpha, beta); break;
    case 2: tile_rows_x8(2, a_in_place, kc, a, lda, b, n, C, ldc, alpha, beta); break;
    default: tile_rows_x8(1, a_in_place, kc, a, lda, b, n, C, ldc, alpha, beta); break;
    }
}

// A tile whose B sliver is packed, with A packed (a_in_place 0) or in place: the right
// edge's tiles go through the 8-column tile or a scratch tile.
FOVEA_INLINE FOVEA_AVX2 void tile_packed_b(const int a_in_place, long kc, const float *a, long lda, const float *Bs,
                                          float *C, long ldc, long m, long n, float alpha, float beta) {
    if (n == NR) {
        tile_any_rows(1, a_in_place, m, kc, a, lda, Bs, NR, C, ldc, alpha, beta);
    } else if (n <= 8) {
        tile_any_rows_x8(a_in_place, m, kc, a, lda, Bs, n, C, ldc, alpha, beta);
    } else {
        // Right-edge tile: the 16-wide stores would run past column N, so compute into a
        // scratch tile (B's dead columns are zero-padded) and copy only the n live columns.
        float T[MR * NR] __attribute__((aligned(32)));
        tile_any_rows(1, a_in_place, m, kc, a, lda, Bs, NR, T, NR, alpha, 0.0f);
        fovea_merge_tile(T, C, ldc, m, n, beta);
    }
}

FOVEA_AVX2 void fovea_microkernel_avx2(long kc, const float *Ap, const float *Bs, long rsb,
                                       float *C, long ldc, long m, long n, float alpha, float beta) {
    if (rsb != NR) {
        // Unpacked rows of B (the driver only does this for whole 16-column slivers).
        // The prefetch in each k step fetches the same row's columns two tiles to the
        // right, which a later call will want: the kc rows are too far apart for the
        // hardware prefetcher, and one tile ahead is too little time when kc is small.
        tile_any_rows(0, 0, m, kc, Ap, 0, Bs, rsb, C, ldc, alpha, beta);
    } else {
        tile_packed_b(0, kc, Ap, 0, Bs, C, ldc, m, n, alpha, beta);
    }
}

FOVEA_AVX2 void fovea_microkernel_a_rows_avx2(long kc, const float *A, long lda, const float *Bs, float *C, long ldc,
                                              long m, long n, float alpha, float beta) {
    tile_packed_b(1, kc, A, lda, Bs, C, ldc, m, n, alpha, beta);
}

// Packs one A sliver from m <= 6 rows of A (op(A) = A, so each row is contiguous along k).
// Reads 8 consecutive k of each row, transposes, and writes 8 k steps; rows m..7 are zero,
// which also gives the sliver its zero padding. Each store is 8 wide though a k step is 6:
// the 2 extra lanes land on the next k step, which the following store overwrites. The
// very last store spills 2 floats past the sliver; the driver's buffer has slack for that.
FOVEA_INLINE FOVEA_AVX2 void pack_a_sliver_rows(long m, long kc, const float *src, long lda, float *dst) {
    long k = 0;
    for (; k + 8 <= kc; k += 8) {
        __m256 r[8];
        for (int i = 0; i < 8; i++) r[i] = i < m ? _mm256_loadu_ps(src + i * lda + k) : _mm256_setzero_ps();
        fovea_transpose8x8(r);
        for (int t = 0; t < 8; t++) _mm256_storeu_ps(dst + (k + t) * MR, r[t]);
    }
    for (; k < kc; k++)
        for (int i = 0; i < MR; i++) dst[k * MR + i] = i < m ? src[i * lda + k] : 0.0f;
}

FOVEA_AVX2 void fovea_pack_a_avx2(int transA, long mc, long kc, const float *A, long lda, float *Ap) {
    if (transA) {
        // Each k step of a sliver is 6 contiguous floats of one row of A: a straight copy
        // that the portable loop already does at memory speed.
        fovea_pack_a_portable(transA, mc, kc, A, lda, Ap);
        return;
    }
    for (long i0 = 0; i0 < mc; i0 += MR) {
        const long m = mc - i0 < MR ? mc - i0 : MR;
        if (m == MR) pack_a_sliver_rows(MR, kc, A + i0 * lda, lda, Ap + i0 * kc);
        else pack_a_sliver_rows(m, kc, A + i0 * lda, lda, Ap + i0 * kc);
    }
}

// Packs 8 columns (half a B sliver) of op(B) = B^T, i.e. n8 <= 8 rows of B read along k,
// into lanes [0, 8) of each k step at dst (stride NR). Rows past n8 become zero padding.
FOVEA_INLINE FOVEA_AVX2 void pack_bt_half(long n8, long kc, const float *src, long ldb, float *dst) {
    long k = 0;
    for (; k + 8 <= kc; k += 8) {
        __m256 r[8];
        for (int j = 0; j < 8; j++) r[j] = j < n8 ? _mm256_loadu_ps(src + j * ldb + k) : _mm256_setzero_ps();
        fovea_transpose8x8(r);
        for (int t = 0; t < 8; t++) _mm256_store_ps(dst + (k + t) * NR, r[t]);
    }
    for (; k < kc; k++)
        for (int j = 0; j < 8; j++) dst[k * NR + j] = j < n8 ? src[j * ldb + k] : 0.0f;
}

FOVEA_AVX2 void fovea_pack_b_avx2(int transB, long kc, long nc, const float *B, long ldb, float *Bp) {
    for (long j0 = 0; j0 < nc; j0 += NR) {
        const long n = nc - j0 < NR ? nc - j0 : NR;
        float *dst = Bp + j0 * kc;
        if (!transB) {
            // A k step of the sliver is 16 contiguous floats of one row of B.
            const float *src = B + j0;
            if (n == NR) {
                for (long k = 0; k < kc; k++) {
                    // The kc rows are far apart, too many streams for the hardware
                    // prefetcher; ask for the next sliver's piece of this row now, so it
                    // arrives while the kernel works on this one.
                    _mm_prefetch((const char *)(src + k * ldb + NR), _MM_HINT_T0);
                    _mm256_store_ps(dst + k * NR, _mm256_loadu_ps(src + k * ldb));
                    _mm256_store_ps(dst + k * NR + 8, _mm256_loadu_ps(src + k * ldb + 8));
                }
            } else {
                // Right edge: masked loads read only the n live columns (they never fault
                // on the masked-off ones) and leave zeros in the rest.
                const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
                const __m256i m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), lane);
                const __m256i m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n - 8), lane);
                for (long k = 0; k < kc; k++) {
                    _mm256_store_ps(dst + k * NR, _mm256_maskload_ps(src + k * ldb, m0));
                    _mm256_store_ps(dst + k * NR + 8, _mm256_maskload_ps(src + k * ldb + 8, m1));
                }
            }
        } else {
            // op(B)(k, j) = B[j * ldb + k]: the sliver's 16 source rows are read along k,
            // 8 at a time, and turned into k steps by two 8x8 transposes.
            const float *src = B + j0 * ldb;
            if (n == NR) {
                pack_bt_half(8, kc, src, ldb, dst);
                pack_bt_half(8, kc, src + 8 * ldb, ldb, dst + 8);
            } else {
                pack_bt_half(n < 8 ? n : 8, kc, src, ldb, dst);
                pack_bt_half(n > 8 ? n - 8 : 0, kc, src + 8 * ldb, ldb, dst + 8);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Inner-product path for C = alpha * A * B^T + beta * C when M is at most one tile high
// (!transA, transB, M <= 6): weight gradients of convolutions with few output channels,
// and linear layers run on one or a few samples. Both A's rows and B's rows are then
// contiguous along k, so each C element is a dot product of two contiguous vectors and no
// packing (here a transpose of B, as costly as the arithmetic when M is this small) is
// needed. A register block is 3 rows of A x 4 rows of B: 12 accumulators of 8 partial
// sums, fed by 7 loads per 12 FMAs. K is cut into DOT_KB-long pieces so that the 6 rows of
// A and 4 rows of B in use stay in L1 while they are reused.

enum { DOT_ROWS = 3, DOT_COLS = 4, DOT_KB = 512 };

// {sum of v0's 8 lanes, of v1's, of v2's, of v3's}.
FOVEA_INLINE FOVEA_AVX2 __m128 hsum4(__m256 v0, __m256 v1, __m256 v2, __m256 v3) {
    // hadd works within 128-bit halves: two rounds leave each half holding 4 partial sums
    // (of lanes 0-3 and of lanes 4-7), and adding the halves finishes them.
    const __m256 s = _mm256_hadd_ps(_mm256_hadd_ps(v0, v1), _mm256_hadd_ps(v2, v3));
    return _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
}

// Dot products of `rows` (1..3, a literal) rows of A against 4 rows of B over kb values of
// k; out[r] holds row r's 4 results. The last kb % 8 values use masked loads, which never
// read past the end of a row.
FOVEA_INLINE FOVEA_AVX2 void dot_block(const int rows, long kb, const float *const a[DOT_ROWS],
                                      const float *const b[DOT_COLS], __m128 out[DOT_ROWS]) {
    __m256 acc[DOT_ROWS][DOT_COLS];
    for (int r = 0; r < DOT_ROWS; r++)
        for (int c = 0; c < DOT_COLS; c++) acc[r][c] = _mm256_setzero_ps();
    long k = 0;
    if (rows == 1) {
        // One row has only 4 chains of FMAs, too few to hide their latency: a second set of
        // 4 takes every other 8 values of k, and the two sets are added at the end.
        __m256 odd[DOT_COLS];
        for (int c = 0; c < DOT_COLS; c++) odd[c] = _mm256_setzero_ps();
        for (; k + 16 <= kb; k += 16) {
            const __m256 a0 = _mm256_loadu_ps(a[0] + k), a1 = _mm256_loadu_ps(a[0] + k + 8);
            for (int c = 0; c < DOT_COLS; c++) {
                acc[0][c] = _mm256_fmadd_ps(a0, _mm256_loadu_ps(b[c] + k), acc[0][c]);
                odd[c] = _mm256_fmadd_ps(a1, _mm256_loadu_ps(b[c] + k + 8), odd[c]);
            }
        }
        for (int c = 0; c < DOT_COLS; c++) acc[0][c] = _mm256_add_ps(acc[0][c], odd[c]);
    }
    for (; k + 8 <= kb; k += 8) {
        // 12 accumulators + 3 rows of A + 1 row of B at a time: exactly the 16 ymm
        // registers, so nothing is spilled inside the loop.
        __m256 av[DOT_ROWS];
        for (int r = 0; r < rows; r++) av[r] = _mm256_loadu_ps(a[r] + k);
        for (int c = 0; c < DOT_COLS; c++) {
            const __m256 bv = _mm256_loadu_ps(b[c] + k);
            for (int r = 0; r < rows; r++) acc[r][c] = _mm256_fmadd_ps(av[r], bv, acc[r][c]);
        }
    }
    if (k < kb) {
        const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(kb - k)),
                                                _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        __m256 bv[DOT_COLS];
        for (int c = 0; c < DOT_COLS; c++) bv[c] = _mm256_maskload_ps(b[c] + k, mask);
        for (int r = 0; r < rows; r++) {
            const __m256 av = _mm256_maskload_ps(a[r] + k, mask);
            for (int c = 0; c < DOT_COLS; c++) acc[r][c] = _mm256_fmadd_ps(av, bv[c], acc[r][c]);
        }
    }
    for (int r = 0; r < rows; r++) out[r] = hsum4(acc[r][0], acc[r][1], acc[r][2], acc[r][3]);
}

FOVEA_AVX2 void fovea_sgemm_nt_few_rows_avx2(long M, long N, long K, float alpha,
                                             const float *A, long lda, const float *B, long ldb,
                                             float beta, float *C, long ldc) {
    const __m128 va = _mm_set1_ps(alpha);
    for (long k0 = 0; k0 < K; k0 += DOT_KB) {
        const long kb = K - k0 < DOT_KB ? K - k0 : DOT_KB;
        // The first piece of K applies the caller's beta; later pieces accumulate.
        const float beta_pass = k0 == 0 ? beta : 1.0f;
        for (long j = 0; j < N; j += DOT_COLS) {
            const long nj = N - j < DOT_COLS ? N - j : DOT_COLS;
            // Past the right edge, repeat the last row of B: valid memory, results unused.
            const float *b[DOT_COLS];
            for (int c = 0; c < DOT_COLS; c++) b[c] = B + (j + (c < nj ? c : nj - 1)) * ldb + k0;
            for (long i = 0; i < M; i += DOT_ROWS) {
                const long mi = M - i < DOT_ROWS ? M - i : DOT_ROWS;
                const float *a[DOT_ROWS];
                for (int r = 0; r < DOT_ROWS; r++) a[r] = A + (i + (r < mi ? r : mi - 1)) * lda + k0;
                __m128 out[DOT_ROWS];
                switch (mi) {
                case 3: dot_block(3, kb, a, b, out); break;
                case 2: dot_block(2, kb, a, b, out); break;
                default: dot_block(1, kb, a, b, out); break;
                }
                for (long r = 0; r < mi; r++) {
                    float *c = C + (i + r) * ldc + j;
                    __m128 v = _mm_mul_ps(va, out[r]);
                    if (nj == DOT_COLS) {
                        if (beta_pass != 0.0f) v = _mm_fmadd_ps(_mm_set1_ps(beta_pass), _mm_loadu_ps(c), v);
                        _mm_storeu_ps(c, v);
                    } else {
                        float t[DOT_COLS];
                        _mm_storeu_ps(t, v);
                        for (long q = 0; q < nj; q++) c[q] = beta_pass == 0.0f ? t[q] : t[q] + beta_pass * c[q];
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// The right edge's last few columns (tail <= FOVEA_DOT_TAIL_MAX) of a product whose A rows
// are read in place, as dot products along k: a 7x7 plane leaves one column past its
// three 16-wide slivers, and the 8-column edge tile would still cost 6 broadcasts and 6
// FMAs per k step for it; a dot product of the row with the k-contiguous column costs
// 7 loads and 6 FMAs per 8 k steps. Columns go two at a time (12 accumulators, the 6 rows
// of A loaded one by one, 2 of B): 15 of the 16 ymm registers.
FOVEA_INLINE FOVEA_AVX2 void tail_dot_block(const int rows, const int cols, long kc, const float *A, long lda,
                                           const float *const b[2], float *C, long ldc, float alpha, float beta) {
    __m256 acc[MR][2];
    for (int r = 0; r < MR; r++) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    long k = 0;
    for (; k + 8 <= kc; k += 8) {
        const __m256 b0 = _mm256_loadu_ps(b[0] + k);
        const __m256 b1 = cols > 1 ? _mm256_loadu_ps(b[1] + k) : b0;
        for (int r = 0; r < rows; r++) {
            const __m256 a = _mm256_loadu_ps(A + r * lda + k);
            acc[r][0] = _mm256_fmadd_ps(a, b0, acc[r][0]);
            if (cols > 1) acc[r][1] = _mm256_fmadd_ps(a, b1, acc[r][1]);
        }
    }
    if (k < kc) {
        // Masked loads never read past the end of a row.
        const __m256i mask = fovea_lanes_below(kc - k);
        const __m256 b0 = _mm256_maskload_ps(b[0] + k, mask);
        const __m256 b1 = cols > 1 ? _mm256_maskload_ps(b[1] + k, mask) : b0;
        for (int r = 0; r < rows; r++) {
            const __m256 a = _mm256_maskload_ps(A + r * lda + k, mask);
            acc[r][0] = _mm256_fmadd_ps(a, b0, acc[r][0]);
            if (cols > 1) acc[r][1] = _mm256_fmadd_ps(a, b1, acc[r][1]);
        }
    }
    for (int r = 0; r < rows; r += 2) {
        // Sums of acc[r][0], acc[r][1], acc[r + 1][0], acc[r + 1][1] (the last two unused
        // past the rows).
        float s[4];
        _mm_storeu_ps(s, hsum4(acc[r][0], acc[r][1], acc[r + 1 < MR ? r + 1 : r][0], acc[r + 1 < MR ? r + 1 : r][1]));
        for (int q = 0; q < 2 && r + q < rows; q++) {
            float *c = C + (r + q) * ldc;
            for (int j = 0; j < cols; j++) c[j] = beta == 0.0f ? alpha * s[2 * q + j] : alpha * s[2 * q + j] + beta * c[j];
        }
    }
}

FOVEA_AVX2 void fovea_tail_dot_avx2(long kc, const float *A, long lda, const float *Bt, long ldbt, long tail,
                                    float *C, long ldc, long m, float alpha, float beta) {
    for (long j = 0; j < tail; j += 2) {
        const int cols = tail - j >= 2 ? 2 : 1;
        const float *const b[2] = {Bt + j * ldbt, Bt + (j + cols - 1) * ldbt};
#define FOVEA_TAIL_ROWS(rows)                                                                                   \
        if (cols == 2) tail_dot_block(rows, 2, kc, A, lda, b, C + j, ldc, alpha, beta);                          \
        else tail_dot_block(rows, 1, kc, A, lda, b, C + j, ldc, alpha, beta);
        switch (m) {
        case 6: FOVEA_TAIL_ROWS(6) break;
        case 5: FOVEA_TAIL_ROWS(5) break;
        case 4: FOVEA_TAIL_ROWS(4) break;
        case 3: FOVEA_TAIL_ROWS(3) break;
        case 2: FOVEA_TAIL_ROWS(2) break;
        default: FOVEA_TAIL_ROWS(1) break;
        }
#undef FOVEA_TAIL_ROWS
    }
}

// One tile row of 16 columns of the epilogue: fmadd is what `a * c + b` contracts to, and
// max(v, 0) gives 0 for a NaN v, as `v > 0 ? v : 0` does.
FOVEA_INLINE FOVEA_AVX2 void epilogue_row16(const int add, const int relu, float a, float b, const float *r, float *c) {
    const __m256 va = _mm256_set1_ps(a), vb = _mm256_set1_ps(b), zero = _mm256_setzero_ps();
    __m256 lo = _mm256_fmadd_ps(va, _mm256_loadu_ps(c), vb), hi = _mm256_fmadd_ps(va, _mm256_loadu_ps(c + 8), vb);
    if (add) {
        lo = _mm256_add_ps(lo, _mm256_loadu_ps(r));
        hi = _mm256_add_ps(hi, _mm256_loadu_ps(r + 8));
    }
    if (relu) {
        lo = _mm256_max_ps(lo, zero);
        hi = _mm256_max_ps(hi, zero);
    }
    _mm256_storeu_ps(c, lo);
    _mm256_storeu_ps(c + 8, hi);
}

FOVEA_AVX2 void fovea_epilogue_block_avx2(const fovea_gemm_epilogue *ep, long i0, long j0, long m, long n, float *C,
                                          long ldc) {
    if (n != NR) {
        fovea_epilogue_rows(ep, i0, j0, m, n, C, ldc);
        return;
    }
    // A whole tile's width: two vectors a row.
    for (long i = 0; i < m; i++) {
        const float a = ep->scale ? ep->scale[i0 + i] : 1.0f, b = ep->shift ? ep->shift[i0 + i] : 0.0f;
        const float *r = ep->residual ? ep->residual + (i0 + i) * ep->ldr + j0 : NULL;
        float *c = C + i * ldc;
        if (r) {
            if (ep->relu) epilogue_row16(1, 1, a, b, r, c);
            else epilogue_row16(1, 0, a, b, r, c);
        } else {
            if (ep->relu) epilogue_row16(0, 1, a, b, NULL, c);
            else epilogue_row16(0, 0, a, b, NULL, c);
        }
    }
}

#endif
