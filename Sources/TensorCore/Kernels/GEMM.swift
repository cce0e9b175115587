import CFoveaKernels
import Dispatch

/// Matrix multiplication on raw row-major buffers, the workhorse under `matmul`, `linear`
/// and the convolutions.
///
/// M, N, K: C is M x N, the shared dimension is K. The C kernel (`fovea_sgemm`) packs A and B
/// and runs a 6x16 AVX2/FMA micro-kernel where the CPU has one; this wrapper splits big
/// products over `Parallel.threadCount` threads by disjoint blocks of C.
public enum GEMM {
    /// Products smaller than this many multiply-adds run on one thread: below it the
    /// hand-off costs more than it saves.
    public static let parallelThreshold = 1 << 18

    /// What the product does to each element of C once it is complete, block by block while
    /// the block is in cache (`fovea_sgemm_epilogue`): `c[i][j] = scale[i] * c + shift[i]`,
    /// plus `residual[i * residualStride + j]`, then `max(0, .)` when `relu`. `scale` and
    /// `shift` hold M floats (one per row of C), `residual` M rows of at least N floats,
    /// `residualStride` apart. A nil scale is 1, a nil shift 0, a nil residual nothing: a
    /// convolution's folded batch norm or bias, and a residual block's shortcut and ReLU.
    public struct Epilogue {
        public var scale: UnsafePointer<Float>?
        public var shift: UnsafePointer<Float>?
        public var residual: UnsafePointer<Float>?
        public var residualStride: Int
        public var relu: Bool

        public init(scale: UnsafePointer<Float>?, shift: UnsafePointer<Float>?, residual: UnsafePointer<Float>? = nil,
                    residualStride: Int = 0, relu: Bool) {
            self.scale = scale
            self.shift = shift
            self.residual = residual
            self.residualStride = residualStride
            self.relu = relu
        }

        /// The epilogue of C's block from row `row` and column `column` on.
        func block(row: Int, column: Int) -> fovea_gemm_epilogue {
            fovea_gemm_epilogue(scale: scale.map { $0 + row }, shift: shift.map { $0 + row },
                                residual: residual.map { $0 + row * residualStride + column },
                                ldr: residualStride, relu: relu ? 1 : 0)
        }
    }

    /// `C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C`, row-major, then `epilogue` if
    /// given. `op(A)` is A stored M x K (row stride `lda`), or A stored K x M when `transA`;
    /// `op(B)` is B stored K x N (row stride `ldb`), or B stored N x K when `transB`.
    /// `beta == 0` overwrites C.
    public static func sgemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                             alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
                             b: UnsafePointer<Float>, ldb: Int,
                             beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int,
                             threads: Int = Parallel.threadCount, epilogue: Epilogue? = nil) {
        guard m > 0, n > 0 else { return }
        // One thread's block of C: rows i0..<i1, columns j0..<j1.
        func block(_ i0: Int, _ i1: Int, _ j0: Int, _ j1: Int) {
            let ai = transA ? a + i0 : a + i0 * lda, bj = transB ? b + j0 * ldb : b + j0
            let ci = c + i0 * ldc + j0
            if var ep = epilogue?.block(row: i0, column: j0) {
                fovea_sgemm_epilogue(transA, transB, i1 - i0, j1 - j0, k, alpha, ai, lda, bj, ldb, beta, ci, ldc, &ep)
            } else {
                fovea_sgemm(transA, transB, i1 - i0, j1 - j0, k, alpha, ai, lda, bj, ldb, beta, ci, ldc)
            }
        }
        forEachBlock(m: m, n: n, k: k, threads: threads) { _, rows, columns in
            block(rows.lowerBound, rows.upperBound, columns.lowerBound, columns.upperBound)
        }
    }

    /// Splits the product C[M, N] (depth K) over up to `threads` threads and runs
    /// `body(block, rows, columns)` once for each thread's block of C, `block` counting
    /// from 0 (below `threads`): all of C on the calling thread below `parallelThreshold`
    /// multiply-adds, else 16-column-aligned blocks when N >= M and 6-row-aligned ones
    /// otherwise (so each block is whole micro-tiles). The split of `sgemm`, for products
    /// that pack their own operands (the implicit convolution).
    public static func forEachBlock(m: Int, n: Int, k: Int, threads: Int,
                                    _ body: (_ block: Int, _ rows: Range<Int>, _ columns: Range<Int>) -> Void) {
        guard m > 0, n > 0 else { return }
        let work = m * n * max(k, 1)
        let chunks = work < parallelThreshold ? 1 : min(threads, max(n / 16, m / 6, 1))
        if chunks <= 1 {
            body(0, 0..<m, 0..<n)
        } else if n >= m {
            // Split columns of C (and of op(B)) into 16-wide-aligned blocks.
            let blocks = (n + 15) / 16
            Parallel.forEachChunk(chunks) { i in
                let j0 = min(n, blocks * i / chunks * 16), j1 = min(n, blocks * (i + 1) / chunks * 16)
                if j0 < j1 { body(i, 0..<m, j0..<j1) }
            }
        } else {
            // Split rows of C (and of op(A)) into 6-high-aligned blocks.
            let blocks = (m + 5) / 6
            Parallel.forEachChunk(chunks) { i in
                let i0 = min(m, blocks * i / chunks * 6), i1 = min(m, blocks * (i + 1) / chunks * 6)
                if i0 < i1 { body(i, i0..<i1, 0..<n) }
            }
        }
    }

    /// Whether the AVX2/FMA kernels are in use on this CPU.
    public static var usesAVX2: Bool { fovea_sgemm_uses_avx2() != 0 }

    /// The micro-kernel in use: "AVX2/FMA", "NEON" (arm64) or "portable C".
    public static var kernelName: String { String(cString: fovea_sgemm_kernel_name()) }

    /// This core's peak FP32 rate in GFLOP/s, measured: the best of five runs (a few ms each) of a
    /// loop of independent multiply-adds (`fovea_fma_probe`) on the calling thread.
    public static func measuredPeakGFLOPS() -> Double {
        var sink: Float = 0, best = 0.0
        for _ in 0..<5 {
            let t0 = DispatchTime.now().uptimeNanoseconds
            let flops = fovea_fma_probe(1 << 20, &sink)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            best = Swift.max(best, Double(flops) / seconds / 1e9)
        }
        return sink.isNaN ? 0 : best
    }

    /// Runs `body` with every C kernel (GEMM, im2col, pooling) on its portable version,
    /// for tests that compare both paths; not for use while other threads run kernels.
    public static func withPortableKernels<T>(_ body: () throws -> T) rethrows -> T {
        fovea_use_portable_kernels(1)
        defer { fovea_use_portable_kernels(0) }
        return try body()
    }
}
