import XCTest
import Dispatch
import CFoveaKernels

/// `fovea_sgemm` (the packed, blocked C kernel) against a naive triple loop in Double.
///
/// Names: C is M x N, op(A) is M x K, op(B) is K x N, all row-major; lda, ldb, ldc are row
/// strides. A is stored M x K (K x M when transA) and B is stored K x N (N x K when transB).
/// The shapes are chosen to hit the kernel's edges: M not a multiple of the 6-row tile, N not
/// a multiple of the 16-column tile, K not a multiple of the 256-deep block, and the tiny
/// and degenerate cases.
final class GEMMTests: XCTestCase {
    /// A small deterministic LCG (Knuth's MMIX constants): uniform floats in [-1, 1).
    struct LCG {
        var state: UInt64
        init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 &+ 1 }
        mutating func next() -> Float {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(state >> 40) / Float(1 << 24) * 2 - 1
        }
        mutating func fill(_ count: Int) -> [Float] { (0..<count).map { _ in next() } }
    }

    /// One product to check. Padding makes the strides larger than the rows they hold.
    struct Case: CustomStringConvertible {
        var transA = false, transB = false
        var m: Int, n: Int, k: Int
        var alpha: Float = 1, beta: Float = 0
        var padA = 0, padB = 0, padC = 0
        /// Fill C with NaN first (only meaningful with beta == 0, which must not read C).
        var nanC = false

        var lda: Int { max(1, (transA ? m : k) + padA) }
        var ldb: Int { max(1, (transB ? k : n) + padB) }
        var ldc: Int { max(1, n + padC) }
        var description: String {
            "\(transA ? "T" : "N")\(transB ? "T" : "N") M=\(m) N=\(n) K=\(k) alpha=\(alpha) beta=\(beta) "
                + "lda=\(lda) ldb=\(ldb) ldc=\(ldc)\(nanC ? " NaN-C" : "")"
        }
    }

    /// Runs `c` through fovea_sgemm and checks every element of C (and that C's padding
    /// columns are untouched) against the Double reference.
    func check(_ c: Case, seed: UInt64 = 1, file: StaticString = #filePath, line: UInt = #line) {
        var rng = LCG(seed: seed)
        let aRows = c.transA ? c.k : c.m, bRows = c.transB ? c.n : c.k
        let a = rng.fill(aRows * c.lda), b = rng.fill(bRows * c.ldb)
        let c0: [Float] = c.nanC ? Array(repeating: .nan, count: c.m * c.ldc) : rng.fill(c.m * c.ldc)
        var out = c0
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                out.withUnsafeMutableBufferPointer { pc in
                    fovea_sgemm(c.transA, c.transB, c.m, c.n, c.k, c.alpha, pa.baseAddress, c.lda,
                                pb.baseAddress, c.ldb, c.beta, pc.baseAddress, c.ldc)
                }
            }
        }
        // Float accumulation over K terms: allow 1e-5 * sqrt(K) relative to the sum of the
        // magnitudes of the terms (cancellation can make the result itself tiny).
        let tolerance = 1e-5 * Double(max(c.k, 1)).squareRoot()
        for i in 0..<c.m {
            for j in 0..<c.ldc {
                let got = out[i * c.ldc + j]
                if j >= c.n {
                    // Past column N: padding the kernel must leave alone.
                    XCTAssertEqual(got.bitPattern, c0[i * c.ldc + j].bitPattern,
                                   "padding (\(i), \(j)) touched: \(c)", file: file, line: line)
                    if got.bitPattern != c0[i * c.ldc + j].bitPattern { return }
                    continue
                }
                var sum = 0.0, magnitude = 0.0
                for p in 0..<c.k {
                    let x = Double(c.transA ? a[p * c.lda + i] : a[i * c.lda + p])
                    let y = Double(c.transB ? b[j * c.ldb + p] : b[p * c.ldb + j])
                    sum += x * y
                    magnitude += abs(x * y)
                }
                let old = c.beta == 0 ? 0 : Double(c0[i * c.ldc + j])
                let expected = Double(c.alpha) * sum + Double(c.beta) * old
                let scale = abs(Double(c.alpha)) * magnitude + abs(Double(c.beta) * old)
                let error = abs(Double(got) - expected)
                if !(error <= tolerance * scale + 1e-6) {
                    XCTFail("C(\(i), \(j)) = \(got), expected \(expected) (error \(error)): \(c)",
                            file: file, line: line)
                    return
                }
            }
        }
    }

    static let oddShapes: [(m: Int, n: Int, k: Int)] = [
        (1, 1, 1), (7, 17, 3), (13, 33, 300), (6, 16, 256), (65, 129, 513),
        (1, 40, 37), (40, 1, 37), (5, 15, 1), (12, 32, 8), (6, 100, 27), (17, 47, 257),
        (150, 20, 30), // more rows than one A panel holds
    ]

    func testAllTransposeCombinationsOnOddShapes() {
        for (m, n, k) in Self.oddShapes {
            for t in 0..<4 {
                check(Case(transA: t & 1 != 0, transB: t & 2 != 0, m: m, n: n, k: k), seed: UInt64(m * 7 + n * 3 + k + t))
            }
        }
    }

    func testAlphaAndBetaVariants() {
        let scalars: [(alpha: Float, beta: Float)] = [(1, 0), (2.5, 0), (1, 1), (-0.5, 2), (1, -1), (0.25, 0.75)]
        for (m, n, k) in [(7, 17, 3), (13, 33, 300), (65, 129, 513)] {
            for t in 0..<4 {
                // The big shape gets fewer variants: the Double reference is slow in debug.
                for s in m > 60 ? [scalars[1], scalars[3]] : scalars {
                    check(Case(transA: t & 1 != 0, transB: t & 2 != 0, m: m, n: n, k: k,
                               alpha: s.alpha, beta: s.beta), seed: UInt64(t + 11))
                }
            }
        }
    }

    func testBetaZeroOverwritesNaN() {
        for (m, n, k) in [(1, 1, 1), (7, 17, 3), (6, 16, 256), (13, 33, 300), (65, 129, 513)] {
            for t in 0..<4 {
                check(Case(transA: t & 1 != 0, transB: t & 2 != 0, m: m, n: n, k: k,
                           alpha: 1.5, beta: 0, nanC: true))
            }
        }
    }

    func testStridesWiderThanTheRows() {
        for (m, n, k) in [(7, 17, 3), (13, 33, 300), (6, 16, 256), (65, 129, 513), (1, 1, 1)] {
            for t in 0..<4 {
                check(Case(transA: t & 1 != 0, transB: t & 2 != 0, m: m, n: n, k: k,
                           alpha: 1, beta: 0.5, padA: 3, padB: 5, padC: 7), seed: 5)
                check(Case(transA: t & 1 != 0, transB: t & 2 != 0, m: m, n: n, k: k,
                           alpha: -2, beta: 0, padA: 16, padB: 1, padC: 16, nanC: true), seed: 6)
            }
        }
    }

    func testConvolutionLikeThinShapes() {
        // Forward (op(B) = im2col columns), weight gradient (transB, long K) and input
        // gradient (transA, short K), at reduced sizes.
        check(Case(m: 6, n: 1000, k: 25))
        check(Case(m: 16, n: 600, k: 150, beta: 1))
        check(Case(transB: true, m: 16, n: 150, k: 1200))
        check(Case(transB: true, m: 6, n: 25, k: 3000, beta: 1))
        check(Case(transA: true, m: 150, n: 400, k: 16))
        // A * B^T with at most 6 rows and K >= 128 takes the dot-product path: odd K
        // (masked tails), K longer than its 512-long pieces, N not a multiple of 4.
        check(Case(transB: true, m: 5, n: 33, k: 1301, alpha: 0.5, beta: 0.5))
        check(Case(transB: true, m: 1, n: 7, k: 200, beta: 0, padA: 3, padB: 1, padC: 2, nanC: true))
        check(Case(transB: true, m: 2, n: 4, k: 513, alpha: -1, beta: 2))
        // A one-row block (its two sets of chains, then the 8-wide and masked rest of K):
        // the fourth row of 4, and a single row with K of 2 x 16 + 8 + 3.
        check(Case(transB: true, m: 4, n: 9, k: 1030, beta: 1))
        check(Case(transB: true, m: 1, n: 6, k: 43))
    }

    /// Few columns (a 7x7 or 14x14 plane of one image): op(A) is read in place, right edges
    /// of 1 to 4 columns are dot products along k (B's tail copied out, or B's own rows when
    /// transB) and wider edges take the 8-wide tile. K longer than one 256 block and not a
    /// multiple of 8 (masked ends), rows not a multiple of 6 (bottom slivers of 1 to 5 rows),
    /// edges of 1 to 4 and of 8 columns, no full sliver at all, strides wider than the rows.
    func testFewColumnsReadAInPlace() {
        check(Case(m: 70, n: 49, k: 600))
        check(Case(m: 70, n: 49, k: 600, alpha: 0.5, beta: 0.5, padA: 3, padC: 2))
        check(Case(transB: true, m: 20, n: 52, k: 300, beta: 0, padB: 1, nanC: true))
        check(Case(m: 13, n: 4, k: 1030, alpha: -1, beta: 2))
        check(Case(m: 7, n: 64, k: 9))
        for (m, n) in [(71, 50), (9, 35), (8, 19), (10, 3), (11, 1), (12, 24)] {
            for transB in [false, true] {
                check(Case(transB: transB, m: m, n: n, k: 531, alpha: 0.75, beta: 0.5, padA: 2, padB: 3, padC: 1),
                      seed: UInt64(m * 100 + n))
                check(Case(transB: transB, m: m, n: n, k: 13, beta: 0, nanC: true), seed: UInt64(n))
            }
        }
    }

    /// `fovea_sgemm_packed`: op(A) packed once, then row ranges starting at multiples of 6
    /// multiplied by op(B), against the same rows of the Double reference.
    func testPrepackedAWithRowRanges() {
        var rng = LCG(seed: 12)
        for (m, n, k, transB) in [(20, 37, 300, false), (13, 16, 7, true), (150, 40, 513, false)] {
            let a = rng.fill(m * k), b = rng.fill(n * k)
            var packed = [Float](repeating: 0, count: fovea_sgemm_packed_a_size(m, k))
            fovea_sgemm_pack_a(false, m, k, a, k, &packed)
            for (row0, rows) in [(0, m), (6, m - 6), (12, Swift.min(7, m - 12))] where rows > 0 {
                var c = [Float](repeating: .nan, count: rows * n)
                fovea_sgemm_packed(m, k, packed, row0, rows, n, 1, transB, b, transB ? k : n, 0, &c, n)
                for i in 0..<rows {
                    for j in 0..<n {
                        var sum = 0.0, magnitude = 0.0
                        for p in 0..<k {
                            let x = Double(a[(row0 + i) * k + p]) * Double(transB ? b[j * k + p] : b[p * n + j])
                            sum += x
                            magnitude += abs(x)
                        }
                        XCTAssertEqual(Double(c[i * n + j]), sum, accuracy: 1e-5 * Double(k).squareRoot() * magnitude + 1e-6,
                                       "M=\(m) N=\(n) K=\(k) rows \(row0)..<\(row0 + rows) (\(i), \(j))")
                    }
                }
            }
        }
    }

    func testRandomSmallShapes() {
        var rng = LCG(seed: 99)
        for r in 0..<120 {
            let m = 1 + Int((rng.next() + 1) * 20), n = 1 + Int((rng.next() + 1) * 40)
            let k = 1 + Int((rng.next() + 1) * 150)
            check(Case(transA: r & 1 != 0, transB: r & 2 != 0, m: m, n: n, k: k,
                       alpha: 1.5, beta: r % 3 == 0 ? 0 : 0.25,
                       padA: r % 5, padB: r % 7, padC: r % 3, nanC: r % 3 == 0), seed: UInt64(r))
        }
    }

    func testDegenerateSizes() {
        // M == 0 or N == 0: nothing is touched, whatever the pointers.
        var c: [Float] = [1, 2, 3, 4]
        c.withUnsafeMutableBufferPointer { pc in
            fovea_sgemm(false, false, 0, 2, 3, 1, nil, 3, nil, 2, 0, pc.baseAddress, 2)
            fovea_sgemm(false, false, 2, 0, 3, 1, nil, 3, nil, 2, 0, pc.baseAddress, 2)
        }
        XCTAssertEqual(c, [1, 2, 3, 4])
        // K == 0: C = beta * C, and A and B are not read.
        c.withUnsafeMutableBufferPointer { pc in
            fovea_sgemm(false, false, 2, 2, 0, 1, nil, 1, nil, 2, 0.5, pc.baseAddress, 2)
        }
        XCTAssertEqual(c, [0.5, 1, 1.5, 2])
        // K == 0 and beta == 0: zeros, even over NaN.
        var d: [Float] = [.nan, .nan, .nan, .nan]
        d.withUnsafeMutableBufferPointer { pd in
            fovea_sgemm(true, true, 2, 2, 0, 1, nil, 2, nil, 1, 0, pd.baseAddress, 2)
        }
        XCTAssertEqual(d, [0, 0, 0, 0])
        check(Case(m: 3, n: 5, k: 0, alpha: 1, beta: 2))
        check(Case(transA: true, transB: true, m: 3, n: 5, k: 0, beta: 0, nanC: true))
        // alpha == 0 (BLAS convention): C = beta * C.
        check(Case(m: 9, n: 20, k: 30, alpha: 0, beta: -1.5))
    }

    func testConcurrentCallsOnDisjointBlocksMatchOneCall() {
        // Callers split products across threads by rows of C; each thread has its own
        // packing buffers, so the pieces must agree with a single call.
        let m = 96, n = 200, k = 300
        var rng = LCG(seed: 3)
        let a = rng.fill(m * k), b = rng.fill(k * n)
        var whole = [Float](repeating: 0, count: m * n)
        var pieces = [Float](repeating: .nan, count: m * n)
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                whole.withUnsafeMutableBufferPointer { pc in
                    fovea_sgemm(false, false, m, n, k, 1, pa.baseAddress, k, pb.baseAddress, n, 0, pc.baseAddress, n)
                }
                pieces.withUnsafeMutableBufferPointer { pc in
                    // Raw addresses, so the closure captures nothing non-Sendable.
                    let aAddress = UInt(bitPattern: pa.baseAddress), bAddress = UInt(bitPattern: pb.baseAddress)
                    let cAddress = UInt(bitPattern: pc.baseAddress)
                    DispatchQueue.concurrentPerform(iterations: 8) { t in
                        let rows = m / 8, i0 = t * rows
                        let ap = UnsafePointer<Float>(bitPattern: aAddress)! + i0 * k
                        let bp = UnsafePointer<Float>(bitPattern: bAddress)!
                        let cp = UnsafeMutablePointer<Float>(bitPattern: cAddress)! + i0 * n
                        for _ in 0..<5 {
                            fovea_sgemm(false, false, rows, n, k, 1, ap, k, bp, n, 0, cp, n)
                        }
                    }
                }
            }
        }
        for i in 0..<(m * n) where !(abs(whole[i] - pieces[i]) <= 1e-5 * max(1, abs(whole[i]))) {
            XCTFail("element \(i): threaded \(pieces[i]) vs single \(whole[i])")
            return
        }
    }

    func testReportsWhichKernelIsInUse() {
        let uses = fovea_sgemm_uses_avx2()
        XCTAssertTrue(uses == 0 || uses == 1)
        XCTAssertEqual(fovea_sgemm_uses_avx2(), uses, "the choice is made once")
        let name = String(cString: fovea_sgemm_kernel_name())
        #if arch(x86_64)
        XCTAssertEqual(name, uses == 1 ? "AVX2/FMA" : "portable C")
        #elseif arch(arm64)
        XCTAssertEqual(name, "NEON")
        #endif
        fovea_use_portable_kernels(1)
        XCTAssertEqual(String(cString: fovea_sgemm_kernel_name()), "portable C", "forced portable")
        fovea_use_portable_kernels(0)
        XCTAssertEqual(String(cString: fovea_sgemm_kernel_name()), name)
    }
}
