import XCTest
import TensorCore
import NN
import FoveaTestSupport

/// Conv + batch norm (+ ReLU), and conv + ReLU, fused at inference against the same layers
/// run one by one.
final class ConvFusionTests: XCTestCase {
    /// A convolution and a batch norm with non-trivial running statistics and affine terms.
    func layers(_ cin: Int, _ cout: Int, kernel: Size2D, stride: Size2D = 1, padding: Padding = .valid,
                groups: Int = 1, bias: Bool) throws -> (Conv2D, BatchNorm2D) {
        let conv = try Conv2D(cin, cout, kernelSize: kernel, stride: stride, padding: padding, groups: groups, bias: bias)
        func fill(_ t: Tensor?, seed: UInt64, low: Float = -1, high: Float = 1) {
            guard let t else { return }
            for (i, v) in randomTensor([cout], seed: seed, low: low, high: high).values.enumerated() { t.pointer[i] = v }
        }
        fill(conv.bias, seed: 1)
        let bn = try BatchNorm2D(cout, eps: 1e-3)
        fill(bn.runningMean, seed: 2)
        fill(bn.runningVar, seed: 3, low: 0.2, high: 2)
        fill(bn.weight, seed: 4, low: 0.5, high: 1.5)
        fill(bn.bias, seed: 5)
        conv.eval(); bn.eval()
        return (conv, bn)
    }

    func testFusedInferenceMatchesTheLayersOneByOne() throws {
        let cases: [(x: [Int], cout: Int, k: Size2D, stride: Size2D, padding: Padding, groups: Int, bias: Bool)] = [
            ([2, 3, 20, 20], 8, 3, 1, .uniform(1), 1, false),   // 400-wide planes: image by image
            ([3, 16, 7, 7], 12, 1, 1, .valid, 1, true),         // pointwise, small planes: batched
            ([2, 8, 9, 11], 6, 3, 2, .uniform(1), 2, true),     // grouped, strided
            ([1, 16, 20, 21], 18, 3, 1, .uniform(1), 1, true),  // Winograd: scale, shift, ReLU on its output tiles
        ]
        for c in cases {
            let (conv, bn) = try layers(c.x[1], c.cout, kernel: c.k, stride: c.stride, padding: c.padding, groups: c.groups, bias: c.bias)
            let x = randomTensor(c.x, seed: 6)
            for relu in [nil, ReLU()] as [ReLU?] {
                let expected = try withNoGrad { () throws -> Tensor in
                    let y = try bn(conv(x))
                    return relu.map { _ in y.relu() } ?? y
                }
                let fused = try withNoGrad { try conv(x, normalizedBy: bn, then: relu) }
                XCTAssertEqual(fused.shape, expected.shape)
                assertClose(fused.values, expected.values, rtol: 1e-5, atol: 1e-5, "\(c) relu \(relu != nil)")
            }
        }
    }

    /// `relu?(bn(conv(x)) + residual)` as one op at inference, against the layers one by one
    /// and the sum: added by the product as it writes each block (single images, planes of
    /// 400 and of 49, the latter read through the dot-product edge; 1 and 2 threads), and
    /// after the convolution where its path cannot (Winograd, direct, batched small planes).
    func testResidualAddedByTheConvolution() throws {
        let cases: [(x: [Int], cout: Int, k: Size2D, padding: Padding)] = [
            ([1, 24, 20, 20], 40, 1, .valid),      // image by image, split by columns
            ([1, 64, 7, 7], 96, 1, .valid),        // image by image, 49 columns, split by rows
            ([1, 16, 20, 21], 18, 3, .uniform(1)), // Winograd
            ([3, 16, 7, 7], 12, 1, .valid),        // batched: gathered and scattered
            ([2, 1, 12, 12], 6, 5, .valid),        // direct
        ]
        for threads in [1, 2] {
            try Parallel.withThreads(threads) {
                for c in cases {
                    let (conv, bn) = try layers(c.x[1], c.cout, kernel: c.k, padding: c.padding, bias: true)
                    let x = randomTensor(c.x, seed: 12)
                    let outShape = try withNoGrad { try conv(x).shape }
                    let residual = randomTensor(outShape, seed: 13)
                    for relu in [nil, ReLU()] as [ReLU?] {
                        let expected = try withNoGrad { () throws -> Tensor in
                            let y = try bn(conv(x)) + residual
                            return relu.map { _ in y.relu() } ?? y
                        }
                        let fused = try withNoGrad { try conv(x, normalizedBy: bn, adding: residual, then: relu) }
                        XCTAssertEqual(fused.shape, expected.shape)
                        assertClose(fused.values, expected.values, rtol: 1e-5, atol: 1e-5, "\(c) relu \(relu != nil), \(threads) threads")
                        if relu != nil {
                            XCTAssertTrue(fused.values.contains(0) && fused.values.contains { $0 > 0 }, "\(c): the ReLU clipped some")
                        }
                    }
                    // A residual of another shape is not fused: it broadcasts as `+` does, or throws.
                    let column = randomTensor([1, c.cout, 1, 1], seed: 14)
                    let broadcast = try withNoGrad { try conv(x, normalizedBy: bn, adding: column, then: ReLU()) }
                    let stepwise = try withNoGrad { try (bn(conv(x)) + column).relu() }
                    assertClose(broadcast.values, stepwise.values, rtol: 1e-5, atol: 1e-5, "\(c) broadcast residual")
                }
            }
        }
        // With the tape on, nothing is fused and the gradient reaches the residual.
        let (conv, bn) = try layers(4, 6, kernel: 1, bias: false)
        let residual = randomTensor([1, 6, 5, 5], seed: 15)
        residual.requiresGrad = true
        try conv(randomTensor([1, 4, 5, 5], seed: 16), normalizedBy: bn, adding: residual, then: ReLU()).sum().backward()
        XCTAssertNotNil(residual.grad, "the residual's gradient")
    }

    /// The epilogue (and a plain bias) applied by each thread to the block of the GEMM it
    /// computed: single images whose product is split over 2 threads by columns (a 20x20
    /// output, 24 channels) and by rows (8x8, 96 channels), against the layers one by one
    /// and against the bias added to a bias-free convolution.
    func testEpilogueOnEachThreadsBlockOfTheProduct() throws {
        try Parallel.withThreads(2) {
            for (x, cout) in [([1, 16, 40, 40], 24), ([1, 32, 16, 16], 96)] {
                let (conv, bn) = try layers(x[1], cout, kernel: 3, stride: 2, padding: .uniform(1), bias: true)
                let input = randomTensor(x, seed: 9)
                for relu in [nil, ReLU()] as [ReLU?] {
                    let expected = try withNoGrad { () throws -> Tensor in
                        let y = try bn(conv(input))
                        return relu.map { _ in y.relu() } ?? y
                    }
                    let fused = try withNoGrad { try conv(input, normalizedBy: bn, then: relu) }
                    assertClose(fused.values, expected.values, rtol: 1e-5, atol: 1e-5, "\(x) -> \(cout), relu \(relu != nil)")
                }
                let biased = try withNoGrad { try conv(input) }
                let plain = try withNoGrad {
                    try Tensor.conv2d(input, weight: conv.weight, bias: nil, stride: 2, padding: .uniform(1))
                }
                let plane = biased.count / cout
                let added = plain.values.enumerated().map { i, v in v + conv.bias!.values[i / plane] }
                assertClose(biased.values, added, rtol: 1e-5, atol: 1e-5, "bias, \(x) -> \(cout)")
            }
        }
    }

    /// Conv + ReLU fused at inference (the bias and the ReLU applied as the output is
    /// written) against `relu(conv(x))`, on a direct (stride 1, LeNet-like) and a lowered
    /// (strided) geometry, with and without bias; and with the tape on it is the plain path.
    func testConvReLUFusionMatchesTheLayersOneByOne() throws {
        for (cin, cout, stride, bias) in [(1, 6, 1, true), (6, 16, 1, false), (3, 8, 2, true)] {
            let conv = try Conv2D(cin, cout, kernelSize: 5, stride: Size2D(stride, stride), padding: .uniform(2), bias: bias)
            let x = randomTensor([2, cin, 14, 14], seed: 8)
            let expected = try withNoGrad { try conv(x).relu() }
            let fused = try withNoGrad { try conv(x, then: ReLU()) }
            XCTAssertEqual(fused.shape, expected.shape)
            assertClose(fused.values, expected.values, rtol: 1e-5, atol: 1e-5, "cin \(cin) stride \(stride) bias \(bias)")
            XCTAssertTrue(fused.values.contains(0) && fused.values.contains { $0 > 0 }, "the ReLU clipped some values and kept others")
            let viaTensor = try withNoGrad { try conv.reluOutput(x) }
            assertClose(viaTensor.values, expected.values, rtol: 1e-5, atol: 1e-5, "reluOutput, cin \(cin)")
            let taped = try conv(x, then: ReLU())
            XCTAssertTrue(taped.requiresGrad, "with the tape on, gradients flow to the weights")
            XCTAssertTrue(try conv.reluOutput(x).requiresGrad, "reluOutput with the tape on")
        }
    }

    func testTrainingAndGradientsTakeThePlainPath() throws {
        let (conv, bn) = try layers(3, 4, kernel: 3, bias: true)
        let x = randomTensor([2, 3, 8, 8], seed: 7)
        // Evaluation with the tape on: the result must carry gradients to the parameters.
        let y = try conv(x, normalizedBy: bn, then: ReLU())
        XCTAssertTrue(y.requiresGrad, "with the tape on, nothing is fused and gradients flow")
        try y.sum().backward()
        XCTAssertNotNil(conv.weight.grad)
        XCTAssertNotNil(bn.weight!.grad)
        // Training: batch statistics, and the running statistics move.
        bn.train()
        let before = bn.runningMean.values
        _ = try withNoGrad { try conv(x, normalizedBy: bn) }
        XCTAssertNotEqual(bn.runningMean.values, before, "training batch norm updates its running mean")
    }
}
