import XCTest
import TensorCore
import FoveaTestSupport

/// The fast convolution (im2col + packed GEMM, split over threads) against a direct
/// seven-loop reference written for clarity, on many geometries.
final class ConvolutionReferenceTests: XCTestCase {
    /// Direct definition: `y[n,o,i,j] = b[o] + Σ_{c,p,q} x[n, g*Cg + c, i*sh - pt + p*dh, j*sw - pl + q*dw] w[o,c,p,q]`.
    func reference(_ x: Tensor, _ w: Tensor, _ b: Tensor?, _ geo: ConvGeometry) -> [Float] {
        var y = [Float](repeating: 0, count: geo.batch * geo.outChannels * geo.outPlane)
        let cg = geo.groupChannels, cog = geo.groupOutChannels
        for n in 0..<geo.batch { for o in 0..<geo.outChannels {
            let g = o / cog
            for i in 0..<geo.outHeight { for j in 0..<geo.outWidth {
                var acc = Double(b?.pointer[o] ?? 0)
                for c in 0..<cg { for p in 0..<geo.kernel.h { for q in 0..<geo.kernel.w {
                    let ih = i * geo.stride.h - geo.padTop + p * geo.dilation.h
                    let iw = j * geo.stride.w - geo.padLeft + q * geo.dilation.w
                    guard ih >= 0, ih < geo.height, iw >= 0, iw < geo.width else { continue }
                    acc += Double(x[n, g * cg + c, ih, iw]) * Double(w[o, c, p, q])
                }}}
                y[((n * geo.outChannels + o) * geo.outHeight + i) * geo.outWidth + j] = Float(acc)
            }}
        }}
        return y
    }

    func testFastPathMatchesReference() throws {
        var gen = SeededGenerator(seed: 2024)
        for trial in 0..<40 {
            let groups = [1, 1, 2, 3][Int(gen.next() % 4)]
            let c = groups * Int(1 + gen.next() % 3), cout = groups * Int(1 + gen.next() % 4)
            let kh = Int(1 + gen.next() % 4), kw = Int(1 + gen.next() % 4)
            let stride = Size2D(Int(1 + gen.next() % 3), Int(1 + gen.next() % 3))
            let dilation = Size2D(Int(1 + gen.next() % 2), Int(1 + gen.next() % 2))
            let h = Int(gen.next() % 9) + dilation.h * (kh - 1) + 1, w = Int(gen.next() % 9) + dilation.w * (kw - 1) + 1
            let padding: Padding = [.valid, .same, .full, .explicit(top: 1, bottom: 0, left: 2, right: 1)][Int(gen.next() % 4)]
            let n = Int(1 + gen.next() % 5)
            let x = Tensor.uniform([n, c, h, w], low: -1, high: 1, generator: &gen)
            let wt = Tensor.uniform([cout, c / groups, kh, kw], low: -1, high: 1, generator: &gen)
            let b = Tensor.uniform([cout], low: -1, high: 1, generator: &gen)
            let geo = try Tensor.convolutionGeometry(input: x.shape, weight: wt.shape, stride: stride, padding: padding, dilation: dilation, groups: groups)
            let y = try Tensor.conv2d(x, weight: wt, bias: b, stride: stride, padding: padding, dilation: dilation, groups: groups)
            XCTAssertEqual(y.shape, [n, cout, geo.outHeight, geo.outWidth])
            assertClose(y.values, reference(x, wt, b, geo), rtol: 1e-4, atol: 1e-4, "trial \(trial): \(geo)")
        }
    }

    /// A batch big enough to be split over threads gives the same bits as one thread.
    func testThreadSplitIsDeterministic() throws {
        let x = randomTensor([16, 3, 20, 20], seed: 5, requiresGrad: true)
        let w = randomTensor([8, 3, 5, 5], seed: 6, requiresGrad: true)
        var results: [[Float]] = []
        for threads in [1, 2, 1, 2] {
            try Parallel.withThreads(threads) {
                x.grad = nil; w.grad = nil
                let y = try Tensor.conv2d(x, weight: w, padding: .uniform(2))
                try y.sum().backward()
                results.append(y.values + x.grad!.values + w.grad!.values)
            }
        }
        XCTAssertEqual(results[0], results[2], "same thread count, same bits")
        XCTAssertEqual(results[1], results[3], "same thread count, same bits")
        assertClose(results[0], results[1], rtol: 1e-4, atol: 1e-4, "1 vs 2 threads")
    }

    func testShapeErrorsQuoteTheShapes() {
        XCTAssertThrowsError(try Tensor.conv2d(Tensor(zeros: [1, 3, 8, 8]), weight: Tensor(zeros: [4, 2, 3, 3]))) { error in
            XCTAssertTrue("\(error)".contains("[1, 3, 8, 8]") && "\(error)".contains("[4, 2, 3, 3]"), "\(error)")
        }
        XCTAssertThrowsError(try Tensor.conv2d(Tensor(zeros: [1, 1, 2, 2]), weight: Tensor(zeros: [1, 1, 3, 3]))) { error in
            XCTAssertTrue("\(error)".contains("2x2"), "\(error)")
        }
        XCTAssertThrowsError(try Tensor.conv2d(Tensor(zeros: [3, 8, 8]), weight: Tensor(zeros: [1, 3, 3, 3])))
        XCTAssertThrowsError(try Tensor.conv2d(Tensor(zeros: [1, 4, 8, 8]), weight: Tensor(zeros: [3, 2, 3, 3]), groups: 2))
    }
}
