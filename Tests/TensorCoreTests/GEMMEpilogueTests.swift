import XCTest
import CFoveaKernels
import TensorCore

/// `fovea_sgemm_epilogue` and `GEMM.sgemm(..., epilogue:)`: each element of the product
/// (the plain `fovea_sgemm`'s, computed alongside) becomes `relu?(scale[i] * c + shift[i] +
/// residual[i][j])`, on every path of the driver (A's rows in place with a dot-product or
/// 8-wide right edge, one A panel with B packed or read in place, the general blocked path
/// with several B panels, the few-rows dot products, K = 0), with a residual whose stride
/// is wider than its rows, with and without scale, shift and ReLU, over 1 and 2 threads
/// split by rows and by columns, AVX2 and portable.
final class GEMMEpilogueTests: XCTestCase {
    struct Shape {
        var m: Int, n: Int, k: Int
        var transB = false
        var path: String
    }

    static let shapes: [Shape] = [
        Shape(m: 20, n: 49, k: 300, path: "A in place, 1-column dot edge, two passes over K"),
        Shape(m: 13, n: 40, k: 70, transB: true, path: "A in place, 8-wide edge"),
        Shape(m: 30, n: 100, k: 300, path: "one A panel, B packed, two passes over K"),
        Shape(m: 5, n: 64, k: 20, path: "one A sliver reading B in place"),
        Shape(m: 200, n: 1100, k: 300, path: "general: two A panels, three B panels"),
        Shape(m: 4, n: 30, k: 200, transB: true, path: "few rows, dot products"),
        Shape(m: 9, n: 21, k: 0, path: "K = 0"),
    ]

    /// Deterministic values in [-1, 1).
    func values(_ count: Int, seed: Int) -> [Float] {
        (0..<count).map { Float((($0 + 1) * 7919 + seed * 104_729) % 2001) / 1000 - 1 }
    }

    /// Checks `got` (m x n, row stride ldc) against the epilogue applied to `plain`.
    func assertEpilogue(_ got: [Float], plain: [Float], m: Int, n: Int, ldc: Int, scale: [Float]?, shift: [Float]?,
                        residual: [Float]?, ldr: Int, relu: Bool, _ what: String, file: StaticString = #filePath,
                        line: UInt = #line) {
        for i in 0..<m {
            for j in 0..<n {
                let a = scale?[i] ?? 1, b = shift?[i] ?? 0, r = residual?[i * ldr + j] ?? 0
                let c = plain[i * ldc + j]
                var expected = a * c + b + r
                if relu { expected = Swift.max(expected, 0) }
                let got = got[i * ldc + j]
                // Fused or separate rounding of a * c + b: a few ulps of the terms.
                let tolerance = 1e-6 * (abs(a * c) + abs(b) + abs(r)) + 1e-7
                if !(abs(got - expected) <= tolerance) {
                    XCTFail("(\(i), \(j)): \(got), expected \(expected): \(what)", file: file, line: line)
                    return
                }
            }
        }
    }

    func testEveryPathOfTheDriver() {
        for portable in [false, true] {
            for s in Self.shapes {
                let ldb = s.transB ? s.k : s.n, ldc = s.n + 3, ldr = s.n + 5
                let a = values(s.m * s.k, seed: 1), bm = values(s.n * s.k, seed: 2)
                let scale = values(s.m, seed: 3), shift = values(s.m, seed: 4), residual = values(s.m * ldr, seed: 5)
                for (useScale, useShift, useResidual, relu) in [(true, true, true, true), (true, true, false, false),
                                                                  (false, true, true, false), (true, false, false, true)] {
                    let what = "\(s.path), M=\(s.m) N=\(s.n) K=\(s.k), scale \(useScale) shift \(useShift) "
                        + "residual \(useResidual) relu \(relu), portable \(portable)"
                    var plain = values(s.m * ldc, seed: 6), fused = plain
                    let run = {
                        fovea_sgemm(false, s.transB, s.m, s.n, s.k, 1.5, a, s.k, bm, ldb, 0.5, &plain, ldc)
                        scale.withUnsafeBufferPointer { sc in
                            shift.withUnsafeBufferPointer { sh in
                                residual.withUnsafeBufferPointer { re in
                                    var ep = fovea_gemm_epilogue(scale: useScale ? sc.baseAddress : nil,
                                                                 shift: useShift ? sh.baseAddress : nil,
                                                                 residual: useResidual ? re.baseAddress : nil, ldr: ldr,
                                                                 relu: relu ? 1 : 0)
                                    fovea_sgemm_epilogue(false, s.transB, s.m, s.n, s.k, 1.5, a, s.k, bm, ldb, 0.5, &fused, ldc,
                                                         &ep)
                                }
                            }
                        }
                    }
                    if portable { GEMM.withPortableKernels(run) } else { run() }
                    assertEpilogue(fused, plain: plain, m: s.m, n: s.n, ldc: ldc, scale: useScale ? scale : nil,
                                   shift: useShift ? shift : nil, residual: useResidual ? residual : nil, ldr: ldr,
                                   relu: relu, what)
                    for i in 0..<s.m {
                        for j in s.n..<ldc where fused[i * ldc + j] != plain[i * ldc + j] {
                            XCTFail("padding (\(i), \(j)) touched: \(what)")
                        }
                    }
                }
            }
        }
    }

    /// `GEMM.sgemm` hands each thread's block its rows of scale and shift and its block of
    /// the residual: split by rows (M > N) and by columns (N >= M).
    func testThreadsBlocksTakeTheirRowsAndColumns() {
        for (m, n, k) in [(300, 64, 64), (24, 700, 40)] {
            let ldr = n + 2
            let a = values(m * k, seed: 7), b = values(k * n, seed: 8)
            let scale = values(m, seed: 9), shift = values(m, seed: 10), residual = values(m * ldr, seed: 11)
            for threads in [1, 2] {
                var plain = [Float](repeating: 0, count: m * n), fused = plain
                a.withUnsafeBufferPointer { pa in
                    b.withUnsafeBufferPointer { pb in
                        plain.withUnsafeMutableBufferPointer { pc in
                            GEMM.sgemm(m: m, n: n, k: k, a: pa.baseAddress!, lda: k, b: pb.baseAddress!, ldb: n,
                                       c: pc.baseAddress!, ldc: n, threads: threads)
                        }
                        scale.withUnsafeBufferPointer { sc in
                            shift.withUnsafeBufferPointer { sh in
                                residual.withUnsafeBufferPointer { re in
                                    fused.withUnsafeMutableBufferPointer { pc in
                                        GEMM.sgemm(m: m, n: n, k: k, a: pa.baseAddress!, lda: k, b: pb.baseAddress!, ldb: n,
                                                   c: pc.baseAddress!, ldc: n, threads: threads,
                                                   epilogue: GEMM.Epilogue(scale: sc.baseAddress, shift: sh.baseAddress,
                                                                           residual: re.baseAddress, residualStride: ldr,
                                                                           relu: true))
                                    }
                                }
                            }
                        }
                    }
                }
                assertEpilogue(fused, plain: plain, m: m, n: n, ldc: n, scale: scale, shift: shift, residual: residual,
                               ldr: ldr, relu: true, "M=\(m) N=\(n) K=\(k), \(threads) threads")
                XCTAssertTrue(fused.contains(0) && fused.contains { $0 > 0 }, "the ReLU clipped some values and kept others")
            }
        }
    }
}
