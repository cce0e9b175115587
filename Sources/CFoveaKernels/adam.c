// Adam's element-wise update (Kingma & Ba, with PyTorch's placement of epsilon), as one
// loop compiled twice: for the CPU's AVX2 (8 lanes) and portably. Swift's own loops build
// for the baseline x86-64 (4 lanes) and would need compiler flags for more.
#include "FoveaKernels.h"

#include <math.h>

// sqrtf may set errno (for a negative argument), so a loop that calls it stays scalar: one
// vsqrtss and two vdivss per element, measured at about 8% of a LeNet_modify training step.
// Clang's element-wise square root is the same correctly rounded operation without errno,
// so the loop vectorises; other compilers keep sqrtf.
#if defined(__clang__) && defined(__has_builtin)
#if __has_builtin(__builtin_elementwise_sqrt)
#define FOVEA_SQRT(x) __builtin_elementwise_sqrt(x)
#endif
#endif
#ifndef FOVEA_SQRT
#define FOVEA_SQRT(x) sqrtf(x)
#endif

// decoupled and amsgrad are literals at each call site, so every variant is its own
// branch-free loop that the compiler vectorises (with FOVEA_SQRT).
static inline __attribute__((always_inline))
void adam_loop(long n, float *restrict theta, const float *restrict g, float *restrict m, float *restrict v,
               float *restrict vmax, const fovea_adam_settings *s, int decoupled, int amsgrad) {
    const float b1 = s->beta1, b2 = s->beta2, eps = s->eps, lr = s->lr, wd = s->weight_decay;
    const float step = lr / s->bias_correction1, root_c2 = s->root_bias_correction2;
    const float shrink = 1.0f - lr * wd;
    for (long j = 0; j < n; j++) {
        float gj = g[j];
        float t = theta[j];
        if (decoupled) t *= shrink; else gj += wd * t;
        const float mj = b1 * m[j] + (1.0f - b1) * gj;
        const float vj = b2 * v[j] + (1.0f - b2) * gj * gj;
        m[j] = mj;
        v[j] = vj;
        float second = vj;
        if (amsgrad) {
            second = vmax[j] > vj ? vmax[j] : vj;
            vmax[j] = second;
        }
        theta[j] = t - step * mj / (FOVEA_SQRT(second) / root_c2 + eps);
    }
}

#define ADAM_VARIANTS                                                                         \
    if (vmax) {                                                                               \
        if (s->decoupled) adam_loop(n, theta, g, m, v, vmax, s, 1, 1);                        \
        else adam_loop(n, theta, g, m, v, vmax, s, 0, 1);                                     \
    } else {                                                                                  \
        if (s->decoupled) adam_loop(n, theta, g, m, v, vmax, s, 1, 0);                        \
        else adam_loop(n, theta, g, m, v, vmax, s, 0, 0);                                     \
    }

static void adam_portable(long n, float *theta, const float *g, float *m, float *v, float *vmax,
                          const fovea_adam_settings *s) {
    ADAM_VARIANTS
}

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx2,fma")))
static void adam_avx2(long n, float *theta, const float *g, float *m, float *v, float *vmax,
                      const fovea_adam_settings *s) {
    ADAM_VARIANTS
}
#endif

void fovea_adam_update(long n, float *theta, const float *g, float *m, float *v, float *vmax,
                       const fovea_adam_settings *s) {
#if defined(__x86_64__) || defined(__i386__)
    if (fovea_sgemm_uses_avx2()) { adam_avx2(n, theta, g, m, v, vmax, s); return; }
#endif
    adam_portable(n, theta, g, m, v, vmax, s);
}
