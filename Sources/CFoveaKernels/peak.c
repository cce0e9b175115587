// A probe of the core's peak FP32 throughput, for the benchmark's "% of peak": a loop of
// independent fused multiply-adds with nothing else to wait on (no loads, no stores), so
// it runs at the FMA units' issue rate. On AVX2+FMA that is 8-wide FMAs into 12 separate
// accumulators (enough to cover the FMA latency on two pipes); elsewhere a scalar loop.
#include "FoveaKernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

__attribute__((target("avx2,fma")))
static float fma_loop_avx2(long iterations) {
    __m256 acc[12];
    for (int i = 0; i < 12; i++) acc[i] = _mm256_set1_ps((float)i * 1e-3f);
    const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
    for (long it = 0; it < iterations; it++) {
        for (int i = 0; i < 12; i++) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
        // Keeps the compiler from collapsing iterations: the accumulators stay live.
        __asm__ volatile("" : "+x"(acc[0]), "+x"(acc[1]), "+x"(acc[2]), "+x"(acc[3]), "+x"(acc[4]),
                         "+x"(acc[5]), "+x"(acc[6]), "+x"(acc[7]), "+x"(acc[8]), "+x"(acc[9]),
                         "+x"(acc[10]), "+x"(acc[11]));
    }
    __m256 s = acc[0];
    for (int i = 1; i < 12; i++) s = _mm256_add_ps(s, acc[i]);
    float out[8];
    _mm256_storeu_ps(out, s);
    return out[0];
}
#endif

long fovea_fma_probe(long iterations, float *sink) {
#if defined(__x86_64__) || defined(__i386__)
    if (fovea_sgemm_uses_avx2()) {
        *sink = fma_loop_avx2(iterations);
        return iterations * 12 * 8 * 2;
    }
#endif
    float acc[4] = {0.1f, 0.2f, 0.3f, 0.4f};
    for (long it = 0; it < iterations; it++)
        for (int i = 0; i < 4; i++) acc[i] = acc[i] * 0.999999f + 1e-7f;
    *sink = acc[0] + acc[1] + acc[2] + acc[3];
    return iterations * 4 * 2;
}
