// SGD's element-wise update (PyTorch's torch.optim.SGD rule), as one loop compiled twice:
// for the CPU's AVX2 (8 lanes) and portably, like adam.c. The Swift loop it replaces could
// not assume its three arrays distinct and ran one element at a time.
#include "FoveaKernels.h"

// first and nesterov are literals at each call site, so every variant is its own
// branch-free loop that the compiler vectorises. v == NULL: no momentum.
static inline __attribute__((always_inline))
void sgd_loop(long n, float *restrict theta, const float *restrict g, float *restrict v, const fovea_sgd_settings *s,
              int momentum, int first, int nesterov) {
    const float lr = s->lr, mu = s->momentum, damp = s->damping, wd = s->weight_decay;
    for (long j = 0; j < n; j++) {
        const float t = theta[j];
        const float gj = g[j] + wd * t;
        if (!momentum) {
            theta[j] = t - lr * gj;
            continue;
        }
        const float vj = first ? gj : mu * v[j] + damp * gj;
        v[j] = vj;
        theta[j] = t - lr * (nesterov ? gj + mu * vj : vj);
    }
}

#define SGD_VARIANTS                                                                          \
    if (!v) sgd_loop(n, theta, g, v, s, 0, 0, 0);                                             \
    else if (first) {                                                                         \
        if (s->nesterov) sgd_loop(n, theta, g, v, s, 1, 1, 1);                                \
        else sgd_loop(n, theta, g, v, s, 1, 1, 0);                                            \
    } else {                                                                                  \
        if (s->nesterov) sgd_loop(n, theta, g, v, s, 1, 0, 1);                                \
        else sgd_loop(n, theta, g, v, s, 1, 0, 0);                                            \
    }

static void sgd_portable(long n, float *theta, const float *g, float *v, int first, const fovea_sgd_settings *s) {
    SGD_VARIANTS
}

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx2,fma")))
static void sgd_avx2(long n, float *theta, const float *g, float *v, int first, const fovea_sgd_settings *s) {
    SGD_VARIANTS
}
#endif

void fovea_sgd_update(long n, float *theta, const float *g, float *v, int first, const fovea_sgd_settings *s) {
#if defined(__x86_64__) || defined(__i386__)
    if (fovea_sgemm_uses_avx2()) { sgd_avx2(n, theta, g, v, first, s); return; }
#endif
    sgd_portable(n, theta, g, v, first, s);
}
