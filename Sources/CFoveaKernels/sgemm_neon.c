// The 6x16 GEMM micro-kernel for AArch64 Advanced SIMD (NEON), which every 64-bit Arm CPU
// has, so it needs neither a run-time check nor compiler flags. It reads the same packed
// slivers as the AVX2 and portable kernels (sgemm_internal.h) and is chosen by sgemm.c on
// arm64 unless the portable kernels are forced (tests compare the two).
//
// Names: C is M x N, the shared dimension is K, row-major; MR x NR (6 x 16) is one tile, kc
// the depth of the packed slivers, m <= MR and n <= NR the live rows and columns of a tile,
// rsb the distance between k steps of the B sliver (NR when packed, ldb when read in place).
//
// Registers: a tile is 6 rows of four 4-float vectors, 24 accumulators; a k step loads the
// B sliver's 16 floats (4 vectors) and the A sliver's 6 (one vector and one half), and
// multiplies each accumulator by one lane of A (FMLA by element): 30 of the 32 vector
// registers, 24 FMAs per k step.
#include "sgemm_internal.h"

#if defined(__aarch64__)

#include <arm_neon.h>

enum { MR = FOVEA_MR, NR = FOVEA_NR };

#define NEON_ROW(r, av, lane)                                   \
    c##r##0 = vfmaq_laneq_f32(c##r##0, b0, av, lane);           \
    c##r##1 = vfmaq_laneq_f32(c##r##1, b1, av, lane);           \
    c##r##2 = vfmaq_laneq_f32(c##r##2, b2, av, lane);           \
    c##r##3 = vfmaq_laneq_f32(c##r##3, b3, av, lane);

#define NEON_ROW_HALF(r, av, lane)                              \
    c##r##0 = vfmaq_lane_f32(c##r##0, b0, av, lane);            \
    c##r##1 = vfmaq_lane_f32(c##r##1, b1, av, lane);            \
    c##r##2 = vfmaq_lane_f32(c##r##2, b2, av, lane);            \
    c##r##3 = vfmaq_lane_f32(c##r##3, b3, av, lane);

#define NEON_STORE(r)                                                            \
    if (r < rows) {                                                              \
        float *cr = T + (r) * ldt;                                               \
        float32x4_t v0 = vmulq_f32(va, c##r##0), v1 = vmulq_f32(va, c##r##1);    \
        float32x4_t v2 = vmulq_f32(va, c##r##2), v3 = vmulq_f32(va, c##r##3);    \
        if (beta_here != 0.0f) {                                                 \
            v0 = vfmaq_f32(v0, vb, vld1q_f32(cr));                               \
            v1 = vfmaq_f32(v1, vb, vld1q_f32(cr + 4));                           \
            v2 = vfmaq_f32(v2, vb, vld1q_f32(cr + 8));                           \
            v3 = vfmaq_f32(v3, vb, vld1q_f32(cr + 12));                          \
        }                                                                        \
        vst1q_f32(cr, v0);                                                       \
        vst1q_f32(cr + 4, v1);                                                   \
        vst1q_f32(cr + 8, v2);                                                   \
        vst1q_f32(cr + 12, v3);                                                  \
    }

void fovea_microkernel_neon(long kc, const float *Ap, const float *Bs, long rsb,
                            float *C, long ldc, long m, long n, float alpha, float beta) {
    float32x4_t c00 = vdupq_n_f32(0), c01 = c00, c02 = c00, c03 = c00;
    float32x4_t c10 = c00, c11 = c00, c12 = c00, c13 = c00;
    float32x4_t c20 = c00, c21 = c00, c22 = c00, c23 = c00;
    float32x4_t c30 = c00, c31 = c00, c32 = c00, c33 = c00;
    float32x4_t c40 = c00, c41 = c00, c42 = c00, c43 = c00;
    float32x4_t c50 = c00, c51 = c00, c52 = c00, c53 = c00;

    const float *a = Ap, *b = Bs;
    for (long k = 0; k < kc; k++, a += MR, b += rsb) {
        const float32x4_t b0 = vld1q_f32(b), b1 = vld1q_f32(b + 4), b2 = vld1q_f32(b + 8), b3 = vld1q_f32(b + 12);
        const float32x4_t a03 = vld1q_f32(a); // rows 0-3
        const float32x2_t a45 = vld1_f32(a + 4); // rows 4-5
        NEON_ROW(0, a03, 0) NEON_ROW(1, a03, 1) NEON_ROW(2, a03, 2) NEON_ROW(3, a03, 3)
        NEON_ROW_HALF(4, a45, 0) NEON_ROW_HALF(5, a45, 1)
    }

    // A whole tile is stored in place; an edge tile (the packed slivers are zero-padded,
    // so its dead rows and columns are zeros) goes through a scratch tile, of which only
    // the live part is merged into C.
    const float32x4_t va = vdupq_n_f32(alpha);
    float scratch[MR * NR];
    const int whole = m == MR && n == NR;
    float *T = whole ? C : scratch;
    const long ldt = whole ? ldc : NR;
    const float beta_here = whole ? beta : 0.0f;
    const float32x4_t vb = vdupq_n_f32(beta_here);
    const long rows = whole ? m : MR;
    NEON_STORE(0) NEON_STORE(1) NEON_STORE(2) NEON_STORE(3) NEON_STORE(4) NEON_STORE(5)
    if (!whole) fovea_merge_tile(scratch, C, ldc, m, n, beta);
}

#endif
