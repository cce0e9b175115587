import XCTest
import TensorCore
import FoveaTestSupport

/// The pooled inference kernel with the output channels across the lanes (`direct_lanes.c`,
/// `Tensor.lanesPooledForward`): `conv2dReLUMaxPool2x2` without a gradient, where it
/// computes fewer multiply-adds than the wide kernels. Checked against the definition in
/// Double (the convolution summed in Double, then bias, ReLU and the 2x2 max), and against
/// the wide kernels (forced with `.direct`) bit for bit, since both sum the taps in the
/// same order with the same FMAs.
final class LanesConvolutionTests: XCTestCase {
    struct Case {
        var n, c, h, w, cout, k: Int
        var padding: Padding = .valid
    }

    /// LeNet-5's second layer; 32 channels in two blocks of 16 lanes, padded; 12 channels
    /// (lanes past the channels) in small planes.
    let cases = [
        Case(n: 3, c: 6, h: 14, w: 14, cout: 16, k: 5),
        Case(n: 2, c: 3, h: 10, w: 12, cout: 32, k: 3, padding: .uniform(1)),
        Case(n: 2, c: 2, h: 6, w: 6, cout: 12, k: 3),
    ]

    /// `maxpool2x2(max(0, conv(x, w) + b))` by the definition, in Double until the end.
    func reference(_ x: [Float], _ w: [Float], _ b: [Float], _ c: Case, _ g: ConvGeometry) -> [Float] {
        let OH = g.outHeight / 2, OW = g.outWidth / 2
        var out: [Float] = []
        for n in 0..<c.n { for o in 0..<c.cout { for py in 0..<OH { for px in 0..<OW {
            var best = 0.0
            for (dy, dx) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                let y = 2 * py + dy, xo = 2 * px + dx
                var acc = Double(b[o])
                for ci in 0..<c.c { for ky in 0..<c.k { for kx in 0..<c.k {
                    let iy = y + ky - g.padTop, ix = xo + kx - g.padLeft
                    guard iy >= 0, iy < c.h, ix >= 0, ix < c.w else { continue }
                    acc += Double(x[((n * c.c + ci) * c.h + iy) * c.w + ix]) * Double(w[((o * c.c + ci) * c.k + ky) * c.k + kx])
                }}}
                best = Swift.max(best, acc)
            }
            out.append(Float(best))
        }}}}
        return out
    }

    func testLanesKernelMatchesTheDefinitionAndTheWideKernels() throws {
        for c in cases {
            let x = randomTensor([c.n, c.c, c.h, c.w], seed: UInt64(c.h * 13 + c.cout))
            let w = randomTensor([c.cout, c.c, c.k, c.k], seed: UInt64(c.cout * 5 + c.k))
            let b = randomTensor([c.cout], seed: 7)
            let g = try Tensor.convolutionGeometry(input: x.shape, weight: w.shape, stride: 1, padding: c.padding,
                                                   dilation: 1, groups: 1)
            XCTAssertTrue(Tensor.usesLanesPooling(g), "\(c) takes the lanes kernel")
            let expected = reference(x.values, w.values, b.values, c, g)
            for threads in [1, 2] {
                try Parallel.withThreads(threads) {
                    for portable in [false, true] {
                        let what = "\(c), \(threads) threads, \(portable ? "portable" : "AVX2")"
                        func infer(_ method: Tensor.ConvolutionMethod) throws -> Tensor {
                            try Tensor.withConvolutionMethod(method) {
                                try withNoGrad {
                                    let body = { try Tensor.conv2dReLUMaxPool2x2(x, weight: w, bias: b, padding: c.padding) }
                                    return portable ? try GEMM.withPortableKernels(body) : try body()
                                }
                            }
                        }
                        let lanes = try infer(.automatic), wide = try infer(.direct)
                        XCTAssertEqual(lanes.shape, [c.n, c.cout, g.outHeight / 2, g.outWidth / 2], what)
                        assertClose(lanes.values, expected, rtol: 1e-4, atol: 1e-5, what)
                        XCTAssertEqual(lanes.values.map(\.bitPattern), wide.values.map(\.bitPattern), what)
                        XCTAssertTrue(lanes.values.contains(0) && lanes.values.contains { $0 > 0 }, "the ReLU clipped some, \(what)")
                    }
                }
            }
        }
    }

    /// Ties, zeroed windows and NaN: a NaN input makes NaN sums, which the ReLU turns into
    /// +0 as the wide kernels' pooling does, so neither path lets a NaN through.
    func testLanesKernelTiesAndNaNAsTheWideKernels() throws {
        let c = cases[0]
        var values = randomTensor([c.n, c.c, c.h, c.w], seed: 3).values.map { ($0 * 2).rounded() / 2 }
        values[17] = .nan
        values[c.h * c.w + 40] = .nan
        let x = try Tensor(shape: [c.n, c.c, c.h, c.w], values: values)
        let w = try Tensor(shape: [c.cout, c.c, c.k, c.k],
                           values: randomTensor([c.cout, c.c, c.k, c.k], seed: 4).values.map { ($0 * 2).rounded() / 4 })
        let b = try Tensor(shape: [c.cout], values: (0..<c.cout).map { Float($0 % 3) - 1 })
        let lanes = try withNoGrad { try Tensor.conv2dReLUMaxPool2x2(x, weight: w, bias: b) }
        let wide = try Tensor.withConvolutionMethod(.direct) { try withNoGrad { try Tensor.conv2dReLUMaxPool2x2(x, weight: w, bias: b) } }
        XCTAssertEqual(lanes.values.map(\.bitPattern), wide.values.map(\.bitPattern))
        XCTAssertFalse(lanes.values.contains { $0.isNaN })
        // The NaN inputs do reach the sums.
        XCTAssertTrue(try Tensor.conv2d(x, weight: w, bias: b).values.contains { $0.isNaN })
    }

    /// LeNet-5's first layer (6 channels, 28x28 outputs in 32-wide rows) stays on the wide
    /// kernels: 6 channels would fill 6 of 16 lanes.
    func testWideKernelsKeepFewChannels() throws {
        let g = try Tensor.convolutionGeometry(input: [1, 1, 28, 28], weight: [6, 1, 5, 5], stride: 1, padding: .uniform(2),
                                                 dilation: 1, groups: 1)
        XCTAssertFalse(Tensor.usesLanesPooling(g))
        let grouped = try Tensor.convolutionGeometry(input: [1, 32, 14, 14], weight: [32, 16, 5, 5], stride: 1, padding: .valid,
                                                       dilation: 1, groups: 2)
        XCTAssertFalse(Tensor.usesLanesPooling(grouped))
    }
}
