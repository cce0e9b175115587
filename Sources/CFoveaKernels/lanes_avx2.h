// Partial-vector stores shared by the AVX2 kernels. Private to the kernels; include it only
// inside an x86 section, after <immintrin.h>.
//
// Why not _mm256_maskstore_ps: measured on this project's AMD machines (Zen 4), a masked
// 256-bit store costs about 14 cycles of throughput against under 1 for a plain store, and
// the kernels issue one at the end of nearly every short row (LeNet's 14- and 5-wide pooled
// rows, Winograd's partial tile groups, the GEMM's 8-column edge). Storing the live lanes
// as at most one 16-, one 8- and one 4-byte store is several times cheaper there and no
// slower on Intel. Masked loads stay: they are cheap on both.
#ifndef FOVEA_LANES_AVX2_H
#define FOVEA_LANES_AVX2_H

// Lanes 0 ..< n set (n clamped to 0 ... 8): the mask for _mm256_maskload_ps.
static inline __attribute__((always_inline, target("avx2"))) __m256i fovea_lanes_below(long n) {
    const int k = (int)(n < 0 ? 0 : n > 8 ? 8 : n);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(k), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// Stores lanes 0 ..< n of v at d (0 <= n <= 8); memory past d + n is not touched.
static inline __attribute__((always_inline, target("avx2"))) void fovea_store_lanes(float *d, __m256 v, long n) {
    if (n >= 8) {
        _mm256_storeu_ps(d, v);
        return;
    }
    __m128 part = _mm256_castps256_ps128(v);
    if (n >= 4) {
        _mm_storeu_ps(d, part);
        part = _mm256_extractf128_ps(v, 1);
        d += 4;
        n -= 4;
    }
    if (n >= 2) {
        _mm_storel_pi((__m64 *)d, part);
        part = _mm_movehl_ps(part, part);
        d += 2;
        n -= 2;
    }
    if (n >= 1) _mm_store_ss(d, part);
}

// The same for eight 32-bit integers.
static inline __attribute__((always_inline, target("avx2"))) void fovea_store_lanes_epi32(int *d, __m256i v, long n) {
    fovea_store_lanes((float *)d, _mm256_castsi256_ps(v), n);
}

#endif
