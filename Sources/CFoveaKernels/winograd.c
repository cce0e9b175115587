// Winograd F(2x2, 3x3) convolution (A. Lavin and S. Gray, "Fast Algorithms for
// Convolutional Neural Networks", CVPR 2016) for 3x3, stride-1, undilated kernels: each
// 2x2 block of outputs costs 16 multiplies per channel pair instead of 36, the 16 products
// of a tile batched into 16 GEMMs over channels.
//
// Names: Ci input channels, Co output channels, H x W input planes, OH x OW output planes
// (OH = H + pt + pb - 2). Outputs are cut into 2x2 tiles, tH = ceil(OH / 2) by
// tW = ceil(OW / 2) per image, numbered p = n * tH * tW + ty * tW + tx over a run of images;
// tile (ty, tx) reads the 4x4 input patch whose corner is (2 ty - pt, 2 tx - pl), zero
// outside the plane. xi = 4 * row + column numbers the 16 points of the transformed domain.
//   U[xi] (Co x Ci) = (G g G^T)[xi] of each kernel g = w[co][ci]
//   V[xi] (Ci x tiles) = (B^T d B)[xi] of each input patch d
//   M[xi] (Co x tiles) = U[xi] * V[xi]
//   the 2x2 outputs of a tile = A^T m A, m[xi] = M[xi][co][p]
// with B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1], G = [1 0 0; 1/2 1/2 1/2;
// 1/2 -1/2 1/2; 0 0 1] and A^T = [1 1 1 0; 0 1 -1 -1]. Every constant is exact in binary,
// so the transforms only add and halve; the rounding differs from a direct sum's in
// order, not in size.
//
// A block of tiles is transformed into V, multiplied by U (packed once per call with
// fovea_sgemm_pack_a's layout) and transformed back while V and M are still in cache.
#include "FoveaKernels.h"
#include "sgemm_internal.h"

#include <string.h>

enum { MR = FOVEA_MR, KC = FOVEA_KC };

size_t fovea_winograd_weights_size(long Co, long Ci) { return 16 * fovea_sgemm_packed_a_size(Co, Ci); }

// The 4x4 G g G^T of one 3x3 kernel g (row-major), into u[16].
static void transform_kernel(const float g[9], float u[16]) {
    float t[4][3]; // G g: 4 x 3
    for (int j = 0; j < 3; j++) {
        const float g0 = g[j], g1 = g[3 + j], g2 = g[6 + j];
        t[0][j] = g0;
        t[1][j] = 0.5f * (g0 + g1 + g2);
        t[2][j] = 0.5f * (g0 - g1 + g2);
        t[3][j] = g2;
    }
    for (int i = 0; i < 4; i++) { // (G g) G^T: 4 x 4
        const float a = t[i][0], b = t[i][1], c = t[i][2];
        u[4 * i + 0] = a;
        u[4 * i + 1] = 0.5f * (a + b + c);
        u[4 * i + 2] = 0.5f * (a - b + c);
        u[4 * i + 3] = c;
    }
}

void fovea_winograd_weights(long A, long B, const float *w, long a_stride, long b_stride, int flip,
                            long a0, long a1, float *Up) {
    // Packed layout (fovea_sgemm_pack_a): depth blocks of kcm, each holding every row's
    // slivers of MR rows; element (a, b) of block pc is at pc * apad + (a / MR) * MR * kc +
    // (b - pc) * MR + a % MR. One sliver's MR rows are transformed for a run of up to 8
    // depths at a time, so each of the 16 matrices receives MR * run contiguous floats.
    const long kcm = fovea_balanced_block(B, KC, 8), apad = (A + MR - 1) / MR * MR;
    const size_t per = fovea_sgemm_packed_a_size(A, B);
    const long end = a1 >= A ? apad : a1;
    for (long s0 = a0; s0 < end; s0 += MR) {
        for (long pc = 0; pc < B; pc += kcm) {
            const long kc = B - pc < kcm ? B - pc : kcm;
            float *block = Up + pc * apad + s0 * kc; // this sliver's part of block pc
            for (long b0 = pc; b0 < pc + kc; b0 += 8) {
                const long run = pc + kc - b0 < 8 ? pc + kc - b0 : 8;
                float u[16][8 * MR];
                for (long i = 0; i < MR; i++) {
                    const long a = s0 + i;
                    for (long t = 0; t < run; t++) {
                        float ut[16];
                        if (a < A) {
                            float g[9];
                            const float *src = w + a * a_stride + (b0 + t) * b_stride;
                            for (int q = 0; q < 9; q++) g[q] = flip ? src[8 - q] : src[q];
                            transform_kernel(g, ut);
                        } else {
                            memset(ut, 0, sizeof ut); // the padding rows of the last sliver
                        }
                        for (int xi = 0; xi < 16; xi++) u[xi][t * MR + i] = ut[xi];
                    }
                }
                for (int xi = 0; xi < 16; xi++)
                    memcpy(block + xi * per + (b0 - pc) * MR, u[xi], (size_t)(run * MR) * sizeof(float));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Input and output transforms, one tile at a time (the portable path, and the edges of the
// AVX2 path). Rows r of the patch come from `row[r]`, already padded: row[r][u] is input
// column u - pl (zero outside the plane).

static inline void input_tile(const float *const row[4], long tx, float v[16]) {
    float w[4][4];
    for (int r = 0; r < 4; r++) {
        const float *d = row[r] + 2 * tx;
        w[r][0] = d[0] - d[2];
        w[r][1] = d[1] + d[2];
        w[r][2] = d[2] - d[1];
        w[r][3] = d[1] - d[3];
    }
    for (int c = 0; c < 4; c++) {
        v[0 + c] = w[0][c] - w[2][c];
        v[4 + c] = w[1][c] + w[2][c];
        v[8 + c] = w[2][c] - w[1][c];
        v[12 + c] = w[1][c] - w[3][c];
    }
}

// The 2x2 outputs y[i][j] of the 16 values m[xi].
static inline void output_tile(const float m[16], float y[2][2]) {
    float t[4][2];
    for (int r = 0; r < 4; r++) {
        t[r][0] = m[4 * r] + m[4 * r + 1] + m[4 * r + 2];
        t[r][1] = m[4 * r + 1] - m[4 * r + 2] - m[4 * r + 3];
    }
    for (int j = 0; j < 2; j++) {
        y[0][j] = t[0][j] + t[1][j] + t[2][j];
        y[1][j] = t[1][j] - t[2][j] - t[3][j];
    }
}

static inline float epilogue(float v, float s, float t, int relu) {
    v = s * v + t;
    return relu ? (v > 0.0f ? v : 0.0f) : v;
}

// One padded input row: dst[u] = src[u - pl] for pl <= u < pl + W, zero elsewhere in
// [0, len) (src NULL: a row above or below the plane, all zeros).
static void pad_row(float *dst, const float *src, long W, long pl, long len) {
    long u = 0;
    if (src) {
        for (; u < pl && u < len; u++) dst[u] = 0.0f;
        for (long i = 0; i < W && u < len; i++, u++) dst[u] = src[i];
    }
    for (; u < len; u++) dst[u] = 0.0f;
}

size_t fovea_winograd_row_stride(const fovea_winograd_shape *s) { return (size_t)(2 * s->tW + 2 + 24); }

// ---------------------------------------------------------------------------------------
// AVX2 transforms: 8 tiles of a tile row at once.

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#include "lanes_avx2.h"

#define FOVEA_AVX2 __attribute__((target("avx2,fma")))

// Lanes 0, 2, 4, ... and 1, 3, 5, ... of the 16 floats at p.
FOVEA_AVX2 static inline void deinterleave(const float *p, __m256 *even, __m256 *odd) {
    const __m256 a = _mm256_loadu_ps(p), b = _mm256_loadu_ps(p + 8);
    const __m256 e = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
    const __m256 o = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
    *even = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), _MM_SHUFFLE(3, 1, 2, 0)));
    *odd = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(o), _MM_SHUFFLE(3, 1, 2, 0)));
}

FOVEA_AVX2 static void pad_row_avx2(float *dst, const float *src, long W, long pl, long len) {
    if (!src || pl + W > len) {
        pad_row(dst, src, W, pl, len);
        return;
    }
    const __m256 zero = _mm256_setzero_ps();
    // Zero the whole row 8 at a time (len has slack past the last read), then copy over it.
    for (long u = 0; u < len; u += 8) {
        if (len - u >= 8) _mm256_storeu_ps(dst + u, zero);
        else for (long v = u; v < len; v++) dst[v] = 0.0f;
    }
    float *d = dst + pl;
    long i = 0;
    for (; i + 8 <= W; i += 8) _mm256_storeu_ps(d + i, _mm256_loadu_ps(src + i));
    if (i < W) {
        fovea_store_lanes(d + i, _mm256_maskload_ps(src + i, fovea_lanes_below(W - i)), W - i);
    }
}

// V[xi][.][t] for the n <= 8 tiles tx0 ..< tx0 + n of one padded tile row, at dst + xi * xstride.
FOVEA_AVX2 static void input_tiles_avx2(const float *const row[4], long tx0, long n, float *dst, long xstride) {
    __m256 w[4][4];
    for (int r = 0; r < 4; r++) {
        __m256 e0, o0, e1, o1;
        deinterleave(row[r] + 2 * tx0, &e0, &o0);     // d0, d1 of each tile
        deinterleave(row[r] + 2 * tx0 + 2, &e1, &o1); // d2, d3
        w[r][0] = _mm256_sub_ps(e0, e1);
        w[r][1] = _mm256_add_ps(o0, e1);
        w[r][2] = _mm256_sub_ps(e1, o0);
        w[r][3] = _mm256_sub_ps(o0, o1);
    }
    __m256 v[16];
    for (int c = 0; c < 4; c++) {
        v[0 + c] = _mm256_sub_ps(w[0][c], w[2][c]);
        v[4 + c] = _mm256_add_ps(w[1][c], w[2][c]);
        v[8 + c] = _mm256_sub_ps(w[2][c], w[1][c]);
        v[12 + c] = _mm256_sub_ps(w[1][c], w[3][c]);
    }
    for (int xi = 0; xi < 16; xi++) fovea_store_lanes(dst + xi * xstride, v[xi], n);
}

// The outputs of n <= 8 tiles tx0 ..< tx0 + n of tile row ty, output channel plane `out`
// (OH x OW), from m[xi] at src + xi * xstride.
FOVEA_AVX2 static void output_tiles_avx2(const fovea_winograd_shape *s, const float *src, long xstride, long ty,
                                         long tx0, long n, float scale, float shift, int relu, int accumulate,
                                         float *out) {
    const __m256i mask = fovea_lanes_below(n);
    __m256 t[4][2];
    for (int r = 0; r < 4; r++) {
        const __m256 m0 = _mm256_maskload_ps(src + (4 * r + 0) * xstride, mask);
        const __m256 m1 = _mm256_maskload_ps(src + (4 * r + 1) * xstride, mask);
        const __m256 m2 = _mm256_maskload_ps(src + (4 * r + 2) * xstride, mask);
        const __m256 m3 = _mm256_maskload_ps(src + (4 * r + 3) * xstride, mask);
        t[r][0] = _mm256_add_ps(_mm256_add_ps(m0, m1), m2);
        t[r][1] = _mm256_sub_ps(_mm256_sub_ps(m1, m2), m3);
    }
    const __m256 vs = _mm256_set1_ps(scale), vt = _mm256_set1_ps(shift), zero = _mm256_setzero_ps();
    for (int i = 0; i < 2; i++) {
        const long oy = 2 * ty + i;
        if (oy >= s->OH) break;
        __m256 y[2];
        for (int j = 0; j < 2; j++) {
            const __m256 v = i == 0 ? _mm256_add_ps(_mm256_add_ps(t[0][j], t[1][j]), t[2][j])
                                    : _mm256_sub_ps(_mm256_sub_ps(t[1][j], t[2][j]), t[3][j]);
            y[j] = _mm256_fmadd_ps(vs, v, vt);
            if (relu) y[j] = _mm256_max_ps(y[j], zero);
        }
        // Interleave columns 2 tx and 2 tx + 1: 16 consecutive outputs of row oy.
        const __m256 lo = _mm256_unpacklo_ps(y[0], y[1]), hi = _mm256_unpackhi_ps(y[0], y[1]);
        const __m256 first = _mm256_permute2f128_ps(lo, hi, 0x20), second = _mm256_permute2f128_ps(lo, hi, 0x31);
        float *dst = out + oy * s->OW + 2 * tx0;
        const long cols = s->OW - 2 * tx0 < 2 * n ? s->OW - 2 * tx0 : 2 * n;
        if (cols == 16) {
            if (accumulate) {
                _mm256_storeu_ps(dst, _mm256_add_ps(_mm256_loadu_ps(dst), first));
                _mm256_storeu_ps(dst + 8, _mm256_add_ps(_mm256_loadu_ps(dst + 8), second));
            } else {
                _mm256_storeu_ps(dst, first);
                _mm256_storeu_ps(dst + 8, second);
            }
        } else {
            float tmp[16];
            _mm256_storeu_ps(tmp, first);
            _mm256_storeu_ps(tmp + 8, second);
            for (long c = 0; c < cols; c++) dst[c] = accumulate ? dst[c] + tmp[c] : tmp[c];
        }
    }
}
#endif

// ---------------------------------------------------------------------------------------
// A block of tiles.

/// A run of a block's tiles along one tile row: image n, tile row ty, tiles tx0 ..< tx1,
/// the first of them at place `offset` in the block.
typedef struct {
    long n, ty, tx0, tx1, offset;
} tile_run;

/// The run starting at tile p of the block [p0, end).
static tile_run run_at(const fovea_winograd_shape *s, long p0, long end, long p) {
    const long plane_tiles = s->tH * s->tW, r = p % plane_tiles;
    tile_run run = {p / plane_tiles, r / s->tW, r % s->tW, 0, p - p0};
    run.tx1 = s->tW - run.tx0 < end - p ? s->tW : run.tx0 + (end - p);
    return run;
}

/// V[xi][ci][t] = (B^T d B)[xi] for every input channel and tile t of the block [p0, p0 +
/// count), image by image: the rows an image's tile rows read are padded once into
/// `padded` (neighbouring tile rows share two of them).
static void input_block(const fovea_winograd_shape *s, const float *x, long in_image_stride, long p0, long count,
                        float *V, float *padded) {
    const long Ci = s->Ci, plane_tiles = s->tH * s->tW, end = p0 + count;
    const long rs = (long)fovea_winograd_row_stride(s);
#if defined(__x86_64__) || defined(__i386__)
    const int avx2 = fovea_sgemm_uses_avx2();
#endif
    for (long ci = 0; ci < Ci; ci++) {
        for (long p = p0; p < end;) {
            const long n = p / plane_tiles;
            const long image_end = (n + 1) * plane_tiles < end ? (n + 1) * plane_tiles : end;
            const long ty_first = (p % plane_tiles) / s->tW, ty_last = ((image_end - 1) % plane_tiles) / s->tW;
            const float *plane = x + n * in_image_stride + ci * s->H * s->W;
            for (long r = 0; r < 2 * (ty_last - ty_first) + 4; r++) {
                const long yy = 2 * ty_first - s->pt + r;
                const float *src = yy >= 0 && yy < s->H ? plane + yy * s->W : NULL;
#if defined(__x86_64__) || defined(__i386__)
                if (avx2) { pad_row_avx2(padded + r * rs, src, s->W, s->pl, rs); continue; }
#endif
                pad_row(padded + r * rs, src, s->W, s->pl, rs);
            }
            while (p < image_end) {
                const tile_run run = run_at(s, p0, end, p);
                const long tx0 = run.tx0, tx1 = run.tx1;
                p += tx1 - tx0;
                const float *row[4];
                for (int r = 0; r < 4; r++) row[r] = padded + (2 * (run.ty - ty_first) + r) * rs;
                float *dst = V + ci * count + run.offset;
                long tx = tx0;
#if defined(__x86_64__) || defined(__i386__)
                if (avx2) {
                    for (; tx < tx1; tx += 8) {
                        const long k = tx1 - tx < 8 ? tx1 - tx : 8;
                        input_tiles_avx2(row, tx, k, dst + (tx - tx0), Ci * count);
                    }
                }
#endif
                for (; tx < tx1; tx++) {
                    float v[16];
                    input_tile(row, tx, v);
                    for (int xi = 0; xi < 16; xi++) dst[xi * Ci * count + (tx - tx0)] = v[xi];
                }
            }
        }
    }

}

size_t fovea_winograd_block_scratch(const fovea_winograd_shape *s, long co_count, long count) {
    return (size_t)(16 * (s->Ci + co_count) * count) + (size_t)(2 * s->tH + 2) * fovea_winograd_row_stride(s) + 64;
}

void fovea_winograd_block(const fovea_winograd_shape *s, const float *x, long in_image_stride, const float *Up,
                          long Co, long co0, long co_count, long p0, long count, float *y, long out_image_stride,
                          const float *scale, const float *shift, int relu, int accumulate, float *scratch) {
    if (count <= 0 || co_count <= 0) return;
    const long Ci = s->Ci, OHW = s->OH * s->OW;
    float *const V = scratch;                       // [16][Ci][count]
    float *const M = V + 16 * Ci * count;           // [16][co_count][count]
    float *const padded = M + 16 * co_count * count; // an image's padded input rows
#if defined(__x86_64__) || defined(__i386__)
    const int avx2 = fovea_sgemm_uses_avx2();
#endif

    input_block(s, x, in_image_stride, p0, count, V, padded);

    // M[xi] = U[xi] (rows co0 ..< co0 + co_count) * V[xi].
    const size_t per = fovea_sgemm_packed_a_size(Co, Ci);
    for (int xi = 0; xi < 16; xi++)
        fovea_sgemm_packed(Co, Ci, Up + xi * per, co0, co_count, count, 1.0f, false, V + xi * Ci * count, count, 0.0f,
                           M + xi * co_count * count, count);

    // y = A^T m A, then the per-channel scale, shift and ReLU.
    for (long r = 0; r < co_count; r++) {
        const long co = co0 + r;
        const float sc = scale ? scale[co] : 1.0f, sh = shift ? shift[co] : 0.0f;
        const float *src = M + r * count;
        for (long p = p0; p < p0 + count;) {
            const tile_run run = run_at(s, p0, p0 + count, p);
            const long tx0 = run.tx0, tx1 = run.tx1, ty = run.ty, offset = run.offset;
            p += tx1 - tx0;
            float *out = y + run.n * out_image_stride + co * OHW;
            long tx = tx0;
#if defined(__x86_64__) || defined(__i386__)
            if (avx2) {
                for (; tx < tx1; tx += 8) {
                    const long k = tx1 - tx < 8 ? tx1 - tx : 8;
                    output_tiles_avx2(s, src + offset + (tx - tx0), co_count * count, ty, tx, k, sc, sh, relu,
                                      accumulate, out);
                }
            }
#endif
            for (; tx < tx1; tx++) {
                float m[16], yt[2][2];
                for (int xi = 0; xi < 16; xi++) m[xi] = src[xi * co_count * count + offset + (tx - tx0)];
                output_tile(m, yt);
                for (int i = 0; i < 2; i++) {
                    const long oy = 2 * ty + i;
                    if (oy >= s->OH) break;
                    for (int j = 0; j < 2; j++) {
                        const long ox = 2 * tx + j;
                        if (ox >= s->OW) break;
                        const float v = epilogue(yt[i][j], sc, sh, relu);
                        out[oy * s->OW + ox] = accumulate ? out[oy * s->OW + ox] + v : v;
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Weight gradient. With Y_t = A^T (U . V_t) A for every tile t (. elementwise) and
// U = G g G^T, the loss's gradient with respect to U is sum_t (A dY_t A^T) . V_t, and with
// respect to g it is G^T dU G. So, per block of tiles, the output gradient's 2x2 tiles are
// lifted to Z_t = A dY_t A^T (4x4) and dU[xi] += Z[xi] * V[xi]^T, a GEMM over the tiles;
// the 3x3 gradients come from dU once every block has been added.

// Z = A g A^T of one 2x2 output-gradient tile g (row-major), A = [1 0; 1 1; 1 -1; 0 -1].
static inline void lift_tile(const float g[4], float z[16]) {
    const float q[4][2] = {{g[0], g[1]}, {g[0] + g[2], g[1] + g[3]}, {g[0] - g[2], g[1] - g[3]}, {-g[2], -g[3]}};
    for (int r = 0; r < 4; r++) {
        z[4 * r + 0] = q[r][0];
        z[4 * r + 1] = q[r][0] + q[r][1];
        z[4 * r + 2] = q[r][0] - q[r][1];
        z[4 * r + 3] = -q[r][1];
    }
}

#if defined(__x86_64__) || defined(__i386__)
// Z[xi][t] of 8 whole tiles tx0 ..< tx0 + 8 of tile row ty (rows 2 ty, 2 ty + 1 and columns
// 2 tx0 ..< 2 tx0 + 16 inside the plane), at dst + xi * xstride.
FOVEA_AVX2 static void lift_tiles_avx2(const float *plane, long OW, long ty, long tx0, float *dst, long xstride) {
    __m256 g00, g01, g10, g11;
    deinterleave(plane + 2 * ty * OW + 2 * tx0, &g00, &g01);
    deinterleave(plane + (2 * ty + 1) * OW + 2 * tx0, &g10, &g11);
    const __m256 zero = _mm256_setzero_ps();
    const __m256 q[4][2] = {{g00, g01},
                            {_mm256_add_ps(g00, g10), _mm256_add_ps(g01, g11)},
                            {_mm256_sub_ps(g00, g10), _mm256_sub_ps(g01, g11)},
                            {_mm256_sub_ps(zero, g10), _mm256_sub_ps(zero, g11)}};
    for (int r = 0; r < 4; r++) {
        _mm256_storeu_ps(dst + (4 * r + 0) * xstride, q[r][0]);
        _mm256_storeu_ps(dst + (4 * r + 1) * xstride, _mm256_add_ps(q[r][0], q[r][1]));
        _mm256_storeu_ps(dst + (4 * r + 2) * xstride, _mm256_sub_ps(q[r][0], q[r][1]));
        _mm256_storeu_ps(dst + (4 * r + 3) * xstride, _mm256_sub_ps(zero, q[r][1]));
    }
}
#endif

size_t fovea_winograd_grad_scratch(const fovea_winograd_shape *s, long Co, long count) {
    return fovea_winograd_block_scratch(s, Co, count);
}

void fovea_winograd_grad_block(const fovea_winograd_shape *s, const float *x, long in_image_stride, const float *dy,
                               long Co, long out_image_stride, long p0, long count, float beta, float *dU,
                               float *scratch) {
    if (count <= 0 || Co <= 0) return;
    const long Ci = s->Ci, OHW = s->OH * s->OW;
    float *const V = scratch;               // [16][Ci][count]
    float *const Z = V + 16 * Ci * count;   // [16][Co][count]
    float *const padded = Z + 16 * Co * count;
#if defined(__x86_64__) || defined(__i386__)
    const int avx2 = fovea_sgemm_uses_avx2();
#endif
    input_block(s, x, in_image_stride, p0, count, V, padded);

    for (long co = 0; co < Co; co++) {
        for (long p = p0; p < p0 + count;) {
            const tile_run run = run_at(s, p0, p0 + count, p);
            const long tx0 = run.tx0, tx1 = run.tx1, ty = run.ty;
            p += tx1 - tx0;
            const float *plane = dy + run.n * out_image_stride + co * OHW;
            float *dst = Z + co * count + run.offset;
            long tx = tx0;
#if defined(__x86_64__) || defined(__i386__)
            // Whole tiles only: both rows inside the plane and 16 columns inside each row.
            if (avx2 && 2 * ty + 1 < s->OH)
                for (; tx + 8 <= tx1 && 2 * (tx + 8) <= s->OW; tx += 8)
                    lift_tiles_avx2(plane, s->OW, ty, tx, dst + (tx - tx0), Co * count);
#endif
            for (; tx < tx1; tx++) {
                float g[4], z[16];
                for (int i = 0; i < 2; i++)
                    for (int j = 0; j < 2; j++) {
                        const long oy = 2 * ty + i, ox = 2 * tx + j;
                        g[2 * i + j] = oy < s->OH && ox < s->OW ? plane[oy * s->OW + ox] : 0.0f;
                    }
                lift_tile(g, z);
                for (int xi = 0; xi < 16; xi++) dst[xi * Co * count + (tx - tx0)] = z[xi];
            }
        }
    }

    // dU[xi] (Co x Ci) = Z[xi] * V[xi]^T + beta * dU[xi].
    for (int xi = 0; xi < 16; xi++)
        fovea_sgemm(false, true, Co, Ci, count, 1.0f, Z + xi * Co * count, count, V + xi * Ci * count, count, beta,
                    dU + xi * Co * Ci, Ci);
}

void fovea_winograd_grad_finish(long A, long B, const float *dU, long parts, long part_stride, long a0, long a1,
                                float *dw, long a_stride, long b_stride) {
    const long plane = A * B;
    for (long a = a0; a < a1; a++) {
        for (long b = 0; b < B; b++) {
            float X[16];
            for (int xi = 0; xi < 16; xi++) {
                float v = dU[xi * plane + a * B + b];
                for (long q = 1; q < parts; q++) v += dU[q * part_stride + xi * plane + a * B + b];
                X[xi] = v;
            }
            // G^T X G, G^T = [1 1/2 1/2 0; 0 1/2 -1/2 0; 0 1/2 1/2 1].
            float t[3][4];
            for (int j = 0; j < 4; j++) {
                const float x0 = X[j], x1 = X[4 + j], x2 = X[8 + j], x3 = X[12 + j];
                t[0][j] = x0 + 0.5f * (x1 + x2);
                t[1][j] = 0.5f * (x1 - x2);
                t[2][j] = 0.5f * (x1 + x2) + x3;
            }
            float *g = dw + a * a_stride + b * b_stride;
            for (int i = 0; i < 3; i++) {
                g[3 * i + 0] = t[i][0] + 0.5f * (t[i][1] + t[i][2]);
                g[3 * i + 1] = 0.5f * (t[i][1] - t[i][2]);
                g[3 * i + 2] = 0.5f * (t[i][1] + t[i][2]) + t[i][3];
            }
        }
    }
}
