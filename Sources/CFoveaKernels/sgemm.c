// fovea_sgemm: the GEMM driver. Blocks the product GotoBLAS/BLIS-style, packs panels of
// op(A) and op(B) into contiguous slivers, and hands 6x16 tiles of C to a micro-kernel
// (AVX2+FMA where the CPU has it, chosen once at run time; plain C otherwise).
//
// Names: C is M x N, op(A) is M x K, op(B) is K x N, all row-major with row strides
// lda, ldb, ldc. The loops of the general path, outermost first:
//   jc over N in steps of nc <= NC  (a panel of op(B): kc x nc, lives in L3)
//   pc over K in steps of kc <= KC  (the depth of both packed panels)
//   ic over M in steps of mc <= MC  (a panel of op(A): mc x kc, lives in L2)
//   jr over nc in steps of NR = 16  (one B sliver, kc x 16, lives in L1)
//   ir over mc in steps of MR = 6   (one A sliver; the micro-kernel's 6x16 tile of C)
// Each element of C is loaded and stored once per kc-deep pass, so kc sets how well the
// cost of touching C is amortised; mc and nc set how often the packed panels are reused.
//
// Convolutions mostly produce products with few rows (M = output channels), so there are
// three shortcuts for small M, each measured to beat the general path on such shapes:
//   - M fits in one A panel: B slivers are packed one at a time, just before use;
//   - moreover M <= 6 and op(B) = B: B is not packed at all, the kernel reads its rows;
//   - M <= 6, op(A) = A, op(B) = B^T, K >= 128 (AVX2 only): dot products of rows.
#include "FoveaKernels.h"
#include "sgemm_internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

enum { MR = FOVEA_MR, NR = FOVEA_NR };

// Block sizes. KC: a 256-deep B sliver is 16 KiB, half of a 32 KiB L1 (Zen 3/4; Zen 5 has
// 48 KiB), leaving room for the A sliver and C's lines. MC: the packed A panel, MC x KC x 4
// bytes = 144 KiB, sits comfortably in a 512 KiB (Zen 3) or 1 MiB (Zen 4/5) L2. NC: the
// packed B panel, KC x NC x 4 bytes = 512 KiB. A 4 MiB panel meant for L3 streamed through
// L2 past the A panel; on this Zen 3, squares from 768 to 2000 ran a few percent faster
// with 512 in alternating runs (noisy, shared machine). KC from 192 to 384 and MC from 72
// to 240 measured the same within noise.
// MC is a multiple of MR and NC of NR so that only the last block has edge tiles.
enum { KC = FOVEA_KC, MC = FOVEA_MC, NC = FOVEA_NC };

// Widest product whose op(A) the AVX2 driver reads in place rather than packs (measured
// on the 7x7 planes of ResNet-50's last stage, N = 49: 5-15% faster than packing).
enum { A_IN_PLACE_MAX_N = 64 };

// ---------------------------------------------------------------------------------------
// Choosing the implementation.

typedef struct {
    fovea_microkernel_fn kernel;
    fovea_pack_a_fn pack_a;
    fovea_pack_b_fn pack_b;
} sgemm_impl;

static const sgemm_impl portable_impl = {
    fovea_microkernel_portable, fovea_pack_a_portable, fovea_pack_b_portable,
};
#if defined(__x86_64__) || defined(__i386__)
static const sgemm_impl avx2_impl = {
    fovea_microkernel_avx2, fovea_pack_a_avx2, fovea_pack_b_avx2,
};
#endif
#if defined(__aarch64__)
// NEON micro-kernel; the portable packers are plain copies the compiler vectorises.
static const sgemm_impl neon_impl = {
    fovea_microkernel_neon, fovea_pack_a_portable, fovea_pack_b_portable,
};
#endif

// -1 until the first call has looked at the CPU, then 1 (AVX2+FMA) or 0 (portable).
// Atomic because the first calls may come from several threads at once; they all compute
// the same answer, so a race only repeats the (cheap) check.
static _Atomic int cached_uses_avx2 = -1;

static int detect_avx2(void) {
    // FOVEA_NO_AVX2 (any non-empty value but "0") forces the portable kernel, so the
    // fallback can be tested on machines that do have AVX2.
    const char *off = getenv("FOVEA_NO_AVX2");
    if (off && off[0] && strcmp(off, "0") != 0) return 0;
#if defined(__x86_64__) || defined(__i386__)
    // __builtin_cpu_init is normally run by a constructor, but calling it is harmless and
    // makes the check safe even if we are reached from another library's constructor.
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

int fovea_sgemm_uses_avx2(void) {
    int v = atomic_load_explicit(&cached_uses_avx2, memory_order_relaxed);
    if (v < 0) {
        v = detect_avx2();
        atomic_store_explicit(&cached_uses_avx2, v, memory_order_relaxed);
    }
    return v;
}

// 1 while the portable kernels are forced (tests), for the CPUs whose SIMD kernels need no
// run-time check (NEON on arm64).
static _Atomic int portable_forced = 0;

void fovea_use_portable_kernels(int on) {
    atomic_store_explicit(&portable_forced, on ? 1 : 0, memory_order_relaxed);
    atomic_store_explicit(&cached_uses_avx2, on ? 0 : detect_avx2(), memory_order_relaxed);
}

static const sgemm_impl *select_impl(void) {
#if defined(__x86_64__) || defined(__i386__)
    if (fovea_sgemm_uses_avx2()) return &avx2_impl;
#endif
#if defined(__aarch64__)
    if (!atomic_load_explicit(&portable_forced, memory_order_relaxed)) return &neon_impl;
#endif
    return &portable_impl;
}

const char *fovea_sgemm_kernel_name(void) {
    const sgemm_impl *impl = select_impl();
#if defined(__x86_64__) || defined(__i386__)
    if (impl == &avx2_impl) return "AVX2/FMA";
#endif
#if defined(__aarch64__)
    if (impl == &neon_impl) return "NEON";
#endif
    return "portable C";
}

// ---------------------------------------------------------------------------------------
// Packing buffers: one pair per thread, grown on demand and then reused, so the hot path
// never allocates and concurrent callers never share. A pthread key frees them when a
// thread exits (the main thread's are reclaimed with the process).

typedef struct {
    float *a, *b;        // 64-byte aligned
    size_t a_cap, b_cap; // capacities in floats
    int registered;      // whether the exit destructor has been armed for this thread
} pack_buffers;

static _Thread_local pack_buffers tls_buffers;
static pthread_key_t buffers_key;
static pthread_once_t buffers_key_once = PTHREAD_ONCE_INIT;
static int buffers_key_ok;

static void free_buffers(void *p) {
    // Runs on the exiting thread itself, so its thread-locals are still valid here.
    pack_buffers *buf = p;
    free(buf->a);
    free(buf->b);
    buf->a = buf->b = NULL;
    buf->a_cap = buf->b_cap = 0;
    buf->registered = 0;
}

static void make_buffers_key(void) {
    buffers_key_ok = pthread_key_create(&buffers_key, free_buffers) == 0;
}

// Makes *p hold at least `need` floats (plus a little slack: the AVX2 A packer's last
// 8-wide store runs 2 floats past the panel). Returns 0 on allocation failure.
static int ensure_capacity(float **p, size_t *cap, size_t need) {
    need += 16;
    if (*cap >= need) return 1;
    free(*p);
    *p = NULL;
    *cap = 0;
    // aligned_alloc wants the size to be a multiple of the alignment.
    need = (need + 15) / 16 * 16;
    float *mem = aligned_alloc(64, need * sizeof(float));
    if (!mem) return 0;
    *p = mem;
    *cap = need;
    return 1;
}

static pack_buffers *get_buffers(size_t a_need, size_t b_need);

int fovea_sgemm_buffers(size_t a_need, size_t b_need, float **Ap, float **Bp) {
    pack_buffers *buf = get_buffers(a_need, b_need);
    if (!buf) return 0;
    *Ap = buf->a;
    *Bp = buf->b;
    return 1;
}

static pack_buffers *get_buffers(size_t a_need, size_t b_need) {
    pack_buffers *buf = &tls_buffers;
    if (!ensure_capacity(&buf->a, &buf->a_cap, a_need)) return NULL;
    if (!ensure_capacity(&buf->b, &buf->b_cap, b_need)) return NULL;
    if (!buf->registered) {
        pthread_once(&buffers_key_once, make_buffers_key);
        if (buffers_key_ok) pthread_setspecific(buffers_key, buf);
        buf->registered = 1;
    }
    return buf;
}

// ---------------------------------------------------------------------------------------
// Small helpers.

/// C = beta * C over M x N (beta == 0 writes zeros without reading C).
static void scale_c(long M, long N, float beta, float *C, long ldc) {
    if (beta == 1.0f) return;
    for (long i = 0; i < M; i++) {
        float *c = C + i * ldc;
        if (beta == 0.0f) {
            memset(c, 0, (size_t)N * sizeof(float));
        } else {
            for (long j = 0; j < N; j++) c[j] *= beta;
        }
    }
}

/// The unblocked product, used only if the packing buffers cannot be allocated: slow but
/// needs no memory. Accumulates in float along k, like the packed path.
static void sgemm_unpacked(bool transA, bool transB, long M, long N, long K, float alpha,
                           const float *A, long lda, const float *B, long ldb,
                           float beta, float *C, long ldc) {
    for (long i = 0; i < M; i++) {
        for (long j = 0; j < N; j++) {
            float s = 0.0f;
            for (long k = 0; k < K; k++) {
                const float a = transA ? A[k * lda + i] : A[i * lda + k];
                const float b = transB ? B[j * ldb + k] : B[k * ldb + j];
                s += a * b;
            }
            float *c = C + i * ldc + j;
            *c = beta == 0.0f ? alpha * s : alpha * s + beta * *c;
        }
    }
}

// ---------------------------------------------------------------------------------------
// The driver.

void fovea_epilogue_block_portable(const fovea_gemm_epilogue *ep, long i0, long j0, long m, long n, float *C, long ldc) {
    fovea_epilogue_rows(ep, i0, j0, m, n, C, ldc);
}

/// The epilogue on C's block at rows i0.., columns j0.. (C points at that block).
static inline void epilogue_block(const sgemm_impl *impl, const fovea_gemm_epilogue *ep, long i0, long j0, long m, long n,
                                  float *C, long ldc) {
#if defined(__x86_64__) || defined(__i386__)
    if (impl == &avx2_impl) {
        fovea_epilogue_block_avx2(ep, i0, j0, m, n, C, ldc);
        return;
    }
#endif
    (void)impl;
    fovea_epilogue_block_portable(ep, i0, j0, m, n, C, ldc);
}

/// Runs the micro-kernel over every tile of one B sliver (kc x n, n <= NR, k steps rsb
/// floats apart) against the mc rows of the packed A panel, writing C's mc x n block at C.
/// With `ep` (on the last pass over K), each tile gets the epilogue as soon as it is
/// written, C's block being at rows i0.., columns j0.. of the product: a whole panel's
/// column of tiles, ldc apart, would not all stay in L1. The tile's residual lines are
/// requested before the kernel runs, so they have arrived by the time the epilogue reads them.
static inline void sliver_times_panel(const sgemm_impl *impl, long mc, long n, long kc,
                                      const float *Ap, const float *Bs, long rsb,
                                      float *C, long ldc, float alpha, float beta,
                                      const fovea_gemm_epilogue *ep, long i0, long j0) {
    for (long ir = 0; ir < mc; ir += MR) {
        const long m = mc - ir < MR ? mc - ir : MR;
        if (ep && ep->residual)
            for (long r = 0; r < m; r++) __builtin_prefetch(ep->residual + (i0 + ir + r) * ep->ldr + j0);
        impl->kernel(kc, Ap + ir * kc, Bs, rsb, C + ir * ldc, ldc, m, n, alpha, beta);
        if (ep) epilogue_block(impl, ep, i0 + ir, j0, m, n, C + ir * ldc, ldc);
    }
}

void fovea_sgemm(bool transA, bool transB, long M, long N, long K,
                 float alpha, const float *A, long lda,
                 const float *B, long ldb,
                 float beta, float *C, long ldc) {
    fovea_sgemm_epilogue(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, NULL);
}

void fovea_sgemm_epilogue(bool transA, bool transB, long M, long N, long K,
                          float alpha, const float *A, long lda,
                          const float *B, long ldb,
                          float beta, float *C, long ldc, const fovea_gemm_epilogue *ep) {
    if (M <= 0 || N <= 0) return;
    const sgemm_impl *impl = select_impl();
    if (K <= 0 || alpha == 0.0f) {
        // No product to add (BLAS convention: alpha == 0 does not read A or B).
        scale_c(M, N, beta, C, ldc);
        if (ep) epilogue_block(impl, ep, 0, 0, M, N, C, ldc);
        return;
    }

#if defined(__x86_64__) || defined(__i386__)
    // A * B^T with at most one tile's worth of rows (a convolution's weight gradient with
    // few output channels, a linear layer on a few samples): dot products of rows beat
    // transposing B into slivers, once K is long enough (measured: from about 128) to
    // amortise each dot product's final horizontal sum.
    // A single row (a linear layer on one sample) takes this path from K = 16: packing B
    // would read and write all of it to feed a tile with one live row.
    if (impl == &avx2_impl && !transA && transB && M <= MR && (K >= 128 || (M == 1 && K >= 16))) {
        fovea_sgemm_nt_few_rows_avx2(M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        if (ep) epilogue_block(impl, ep, 0, 0, M, N, C, ldc);
        return;
    }
#endif

#if defined(__x86_64__) || defined(__i386__)
    // Few columns (the 7x7 planes of a single image): each element of op(A), the weights of
    // a convolution, meets at most N columns of B, so packing it costs about as much as
    // using it. The kernel reads A's rows in place instead, each 6-row sliver against all of
    // B's packed slivers while its rows are in L1.
    if (impl == &avx2_impl && !transA && N <= A_IN_PLACE_MAX_N && M > MR) {
        const long kc_max = fovea_balanced_block(K, KC, 8);
        // A right edge of a few columns (one, for 7x7 planes) is dot products of A's rows
        // with those columns laid out along k: op(B)'s rows themselves when transB, else
        // copied after the slivers. Measured 512 x 49 x 4608 on one thread: 3.16 ms with the
        // 49th column in an 8-wide edge tile, 2.45 ms with it as dot products (48 columns
        // alone: 2.41 ms).
        const long tail = N % NR <= FOVEA_DOT_TAIL_MAX ? N % NR : 0, wide = N - tail;
        const size_t sliver_floats = (size_t)((wide + NR - 1) / NR * NR) * (size_t)kc_max;
        pack_buffers *buf = get_buffers(0, sliver_floats + (size_t)tail * (size_t)kc_max);
        if (buf) {
            float *const Bt = buf->b + sliver_floats;
            for (long pc = 0; pc < K; pc += kc_max) {
                const long kc = K - pc < kc_max ? K - pc : kc_max;
                const float beta_pass = pc == 0 ? beta : 1.0f;
                if (wide > 0) impl->pack_b(transB, kc, wide, transB ? B + pc : B + pc * ldb, ldb, buf->b);
                const float *tail_cols = Bt;
                long ldt = kc;
                if (transB) {
                    tail_cols = B + wide * ldb + pc;
                    ldt = ldb;
                } else {
                    for (long j = 0; j < tail; j++)
                        for (long k = 0; k < kc; k++) Bt[j * kc + k] = B[(pc + k) * ldb + wide + j];
                }
                for (long ir = 0; ir < M; ir += MR) {
                    const long m = M - ir < MR ? M - ir : MR;
                    for (long jr = 0; jr < wide; jr += NR) {
                        const long n = wide - jr < NR ? wide - jr : NR;
                        fovea_microkernel_a_rows_avx2(kc, A + ir * lda + pc, lda, buf->b + jr * kc, C + ir * ldc + jr, ldc,
                                                      m, n, alpha, beta_pass);
                    }
                    if (tail > 0)
                        fovea_tail_dot_avx2(kc, A + ir * lda + pc, lda, tail_cols, ldt, tail, C + ir * ldc + wide, ldc,
                                            m, alpha, beta_pass);
                    if (ep && pc + kc == K) epilogue_block(impl, ep, ir, 0, m, N, C + ir * ldc, ldc);
                }
            }
            return;
        }
    }
#endif

    const long kc_max = fovea_balanced_block(K, KC, 8);
    const long mc_max = fovea_balanced_block(M, MC, MR);
    // When all of M fits in one A panel, each packed B sliver is used by that one panel
    // only, so there is nothing to gain from packing a whole kc x nc panel of B first
    // (it would be written out to L2/L3 and read back). Instead each B sliver is packed
    // just before use and is still in L1 when the kernel reads it. This is the common
    // case for convolutions, whose M (output channels) is small.
    const int one_panel = M <= mc_max;
    const long nc_max = one_panel ? NR : fovea_balanced_block(N, NC, NR);
    // With more than one B panel (jc block), every A panel would be packed once per jc
    // block; instead all of op(A) is packed during the first jc block and reused by the
    // others (ResNet-50's 56x56 layers at batch 1 have 7 jc blocks). Panel (ic, pc) sits at
    // pc * m_pad + ic * kc, m_pad being M padded to whole slivers.
    const int keep_a = !one_panel && N > nc_max;
    const long m_pad = (M + MR - 1) / MR * MR;
    // Panels are padded out to whole slivers.
    const size_t a_need = keep_a ? (size_t)m_pad * (size_t)K : (size_t)((mc_max + MR - 1) / MR * MR) * (size_t)kc_max;
    const size_t b_need = (size_t)((nc_max + NR - 1) / NR * NR) * (size_t)kc_max;
    pack_buffers *buf = get_buffers(a_need, b_need);
    if (!buf) {
        sgemm_unpacked(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        if (ep) epilogue_block(impl, ep, 0, 0, M, N, C, ldc);
        return;
    }
    float *const Ap = buf->a, *const Bp = buf->b;

    // op(B) = B can be read in place (16 contiguous floats per k step) when only one A
    // sliver will ever read it.
    const int direct_b = !transB && M <= MR;
    if (one_panel) {
        for (long pc = 0; pc < K; pc += kc_max) {
            const long kc = K - pc < kc_max ? K - pc : kc_max;
            // The first pass over K applies the caller's beta; later passes accumulate; the
            // last applies the epilogue.
            const float beta_pass = pc == 0 ? beta : 1.0f;
            const int last = pc + kc == K;
            impl->pack_a(transA, M, kc, transA ? A + pc * lda : A + pc, lda, Ap);
            for (long jr = 0; jr < N; jr += NR) {
                const long n = N - jr < NR ? N - jr : NR;
                // op(B) rows pc.., columns jr..
                const float *Bsrc = transB ? B + jr * ldb + pc : B + pc * ldb + jr;
                if (direct_b && n == NR) {
                    // A single A sliver uses each B sliver once: packing it would only add
                    // a copy, so the kernel reads B's rows in place.
                    sliver_times_panel(impl, M, NR, kc, Ap, Bsrc, ldb, C + jr, ldc, alpha, beta_pass, last ? ep : NULL, 0, jr);
                } else {
                    impl->pack_b(transB, kc, n, Bsrc, ldb, Bp);
                    sliver_times_panel(impl, M, n, kc, Ap, Bp, NR, C + jr, ldc, alpha, beta_pass, last ? ep : NULL, 0, jr);
                }
            }
        }
        return;
    }

    for (long jc = 0; jc < N; jc += nc_max) {
        const long nc = N - jc < nc_max ? N - jc : nc_max;
        for (long pc = 0; pc < K; pc += kc_max) {
            const long kc = K - pc < kc_max ? K - pc : kc_max;
            const float beta_pass = pc == 0 ? beta : 1.0f;
            const int last = pc + kc == K;

            // op(B) rows pc.., columns jc..
            const float *Bpanel = transB ? B + jc * ldb + pc : B + pc * ldb + jc;
            impl->pack_b(transB, kc, nc, Bpanel, ldb, Bp);

            for (long ic = 0; ic < M; ic += mc_max) {
                const long mc = M - ic < mc_max ? M - ic : mc_max;
                // op(A) rows ic.., columns pc..
                const float *Apanel = transA ? A + pc * lda + ic : A + ic * lda + pc;
                float *const Apk = keep_a ? Ap + pc * m_pad + ic * kc : Ap;
                if (!keep_a || jc == 0) impl->pack_a(transA, mc, kc, Apanel, lda, Apk);

                // Macro-kernel: one B sliver stays in L1 while every A sliver of the
                // panel streams past it from L2.
                for (long jr = 0; jr < nc; jr += NR) {
                    const long n = nc - jr < NR ? nc - jr : NR;
                    sliver_times_panel(impl, mc, n, kc, Apk, Bp + jr * kc, NR, C + ic * ldc + jc + jr, ldc, alpha, beta_pass,
                                       last ? ep : NULL, ic, jc + jr);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Products with op(A) packed once up front (fovea_sgemm_pack_a), for callers that multiply
// the same A by many B's (the 16 transformed weight matrices of a Winograd convolution,
// each against every block of tiles): the packing is paid once, not once per product.

size_t fovea_sgemm_packed_a_size(long M, long K) {
    return (size_t)((M + MR - 1) / MR * MR) * (size_t)(K > 0 ? K : 0) + 16;
}

void fovea_sgemm_pack_a(bool transA, long M, long K, const float *A, long lda, float *Ap) {
    if (M <= 0 || K <= 0) return;
    const sgemm_impl *impl = select_impl();
    const long kc_max = fovea_balanced_block(K, KC, 8);
    const long m_pad = (M + MR - 1) / MR * MR;
    for (long pc = 0; pc < K; pc += kc_max) {
        const long kc = K - pc < kc_max ? K - pc : kc_max;
        // Block pc holds every row's slivers for depths pc ..< pc + kc.
        impl->pack_a(transA, M, kc, transA ? A + pc * lda : A + pc, lda, Ap + pc * m_pad);
    }
}

void fovea_sgemm_packed(long M, long K, const float *Ap, long row0, long rows, long N, float alpha,
                        bool transB, const float *B, long ldb, float beta, float *C, long ldc) {
    if (rows <= 0 || N <= 0) return;
    if (K <= 0 || alpha == 0.0f) {
        scale_c(rows, N, beta, C, ldc);
        return;
    }
    const sgemm_impl *impl = select_impl();
    const long kc_max = fovea_balanced_block(K, KC, 8);
    const long m_pad = (M + MR - 1) / MR * MR;
    const long nc_max = fovea_balanced_block(N, NC, NR);
    pack_buffers *buf = get_buffers(0, (size_t)((nc_max + NR - 1) / NR * NR) * (size_t)kc_max);
    if (!buf) {
        // No memory for a B panel: one sliver at a time, packed on the stack, each used by
        // every row sliver before the next is packed.
        float Bs[NR * KC] __attribute__((aligned(64)));
        for (long pc = 0; pc < K; pc += kc_max) {
            const long kc = K - pc < kc_max ? K - pc : kc_max;
            const float beta_pass = pc == 0 ? beta : 1.0f;
            for (long jr = 0; jr < N; jr += NR) {
                const long n = N - jr < NR ? N - jr : NR;
                impl->pack_b(transB, kc, n, transB ? B + jr * ldb + pc : B + pc * ldb + jr, ldb, Bs);
                sliver_times_panel(impl, rows, n, kc, Ap + pc * m_pad + row0 * kc, Bs, NR, C + jr, ldc, alpha, beta_pass,
                                   NULL, 0, 0);
            }
        }
        return;
    }
    float *const Bp = buf->b;
    for (long jc = 0; jc < N; jc += nc_max) {
        const long nc = N - jc < nc_max ? N - jc : nc_max;
        for (long pc = 0; pc < K; pc += kc_max) {
            const long kc = K - pc < kc_max ? K - pc : kc_max;
            const float beta_pass = pc == 0 ? beta : 1.0f;
            impl->pack_b(transB, kc, nc, transB ? B + jc * ldb + pc : B + pc * ldb + jc, ldb, Bp);
            const float *Apc = Ap + pc * m_pad + row0 * kc;
            for (long ic = 0; ic < rows; ic += MC) {
                const long mc = rows - ic < MC ? rows - ic : MC;
                for (long jr = 0; jr < nc; jr += NR) {
                    const long n = nc - jr < NR ? nc - jr : NR;
                    sliver_times_panel(impl, mc, n, kc, Apc + ic * kc, Bp + jr * kc, NR,
                                       C + ic * ldc + jc + jr, ldc, alpha, beta_pass, NULL, 0, 0);
                }
            }
        }
    }
}
