import XCTest
import TensorCore
import NN
import FoveaTestSupport

/// A convolution unit written plainly: `relu?(bn(conv(x)) [+ shortcut(x)])`, where the
/// shortcut is a second convolution of the same geometry (so the sum has the output's shape).
private final class ConvolutionUnit: Layer, @unchecked Sendable {
    let conv: Conv2D
    let bn: BatchNorm2D
    let shortcut: Conv2D?
    let relu: Bool

    init(_ conv: Conv2D, _ bn: BatchNorm2D, shortcut: Conv2D?, relu: Bool) {
        (self.conv, self.bn, self.shortcut, self.relu) = (conv, bn, shortcut, relu)
        super.init()
    }

    override func forward(_ x: Tensor) throws -> Tensor {
        var y = try bn(conv(x))
        if let shortcut { y = try y + shortcut(x) }
        return relu ? y.relu() : y
    }
}

/// The compiled plan's fusions against the same layers run eagerly one by one: conv + batch
/// norm (+ residual) (+ ReLU) folded at inference on every convolution path, conv + ReLU in
/// training and inference, and what is not fused with the tape on.
final class PlanFusionTests: XCTestCase {
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
        return (conv, bn)
    }

    /// Runs `unit` eagerly and compiled (twice: the capture, then the plan) without a tape in
    /// evaluation mode; checks they agree and returns the plan's step names.
    @discardableResult
    func checkInference(_ unit: Layer, _ x: Tensor, _ message: String) throws -> [String] {
        unit.eval()
        let compiled = unit.compiled()
        return try withNoGrad {
            let expected = try unit(x)
            _ = try compiled(x)
            let fused = try compiled(x)
            XCTAssertEqual(fused.shape, expected.shape, message)
            assertClose(fused.values, expected.values, rtol: 1e-5, atol: 1e-5, message)
            return compiled.plan(for: x.shape)?.stepNames ?? []
        }
    }

    func testConvolutionBatchNormFoldedOnEveryPath() throws {
        let cases: [(x: [Int], cout: Int, k: Size2D, stride: Size2D, padding: Padding, groups: Int, bias: Bool)] = [
            ([2, 3, 20, 20], 8, 3, 1, .uniform(1), 1, false),   // 400-wide planes: image by image
            ([3, 16, 7, 7], 12, 1, 1, .valid, 1, true),         // pointwise, small planes: batched
            ([2, 8, 9, 11], 6, 3, 2, .uniform(1), 2, true),     // grouped, strided
            ([1, 16, 20, 21], 18, 3, 1, .uniform(1), 1, true),  // Winograd: scale, shift, ReLU on its output tiles
            ([2, 1, 12, 12], 6, 5, 1, .valid, 1, true),         // direct
        ]
        for c in cases {
            let (conv, bn) = try layers(c.x[1], c.cout, kernel: c.k, stride: c.stride, padding: c.padding, groups: c.groups, bias: c.bias)
            let x = randomTensor(c.x, seed: 6)
            for relu in [false, true] {
                let steps = try checkInference(ConvolutionUnit(conv, bn, shortcut: nil, relu: relu), x, "\(c) relu \(relu)")
                XCTAssertEqual(steps, [relu ? "conv2dBatchNormReLU" : "conv2dBatchNorm"], "\(c)")
            }
        }
    }

    /// `relu?(bn(conv(x)) + residual)` as one step: the product adds the residual as it
    /// writes each block, or after the convolution where its path cannot.
    func testResidualAddedByTheConvolution() throws {
        let cases: [(x: [Int], cout: Int, k: Size2D, padding: Padding)] = [
            ([1, 24, 20, 20], 40, 1, .valid),      // image by image, split by columns
            ([1, 64, 7, 7], 96, 1, .valid),        // image by image, 49 columns, split by rows
            ([1, 16, 20, 21], 18, 3, .uniform(1)), // Winograd
            ([3, 16, 7, 7], 12, 1, .valid),        // batched: gathered and scattered
            ([2, 1, 12, 12], 6, 5, .valid),        // direct
        ]
        for c in cases {
            let (conv, bn) = try layers(c.x[1], c.cout, kernel: c.k, padding: c.padding, bias: true)
            let shortcut = try Conv2D(c.x[1], c.cout, kernelSize: c.k, padding: c.padding)
            let x = randomTensor(c.x, seed: 12)
            for relu in [false, true] {
                let steps = try checkInference(ConvolutionUnit(conv, bn, shortcut: shortcut, relu: relu), x, "\(c) relu \(relu)")
                XCTAssertEqual(steps, ["conv2d", relu ? "conv2dBatchNormReLU" : "conv2dBatchNorm"], "\(c)")
            }
        }
    }

    /// The fold is made once and made again when the statistics it was made from change.
    func testFoldFollowsChangedStatistics() throws {
        let (conv, bn) = try layers(3, 4, kernel: 3, bias: true)
        let unit = ConvolutionUnit(conv, bn, shortcut: nil, relu: false)
        let x = randomTensor([2, 3, 8, 8], seed: 7)
        try checkInference(unit, x, "first fold")
        bn.runningMean.pointer[1] += 0.5
        bn.weight!.pointer[2] *= 2
        try checkInference(unit, x, "after the statistics changed")
        // Each of the five vectors, written in place on its own, at its first and last channel.
        let vectors: [(String, Tensor)] = [("conv bias", conv.bias!), ("gamma", bn.weight!), ("beta", bn.bias!),
                                           ("running mean", bn.runningMean), ("running var", bn.runningVar)]
        for (name, vector) in vectors {
            for channel in [0, 3] {
                vector.pointer[channel] *= 1.5
                try checkInference(unit, x, "after \(name)[\(channel)] changed")
            }
        }
    }

    /// Conv + ReLU (+ 2x2 max pool) fused in training, with gradients equal to the layers'.
    func testConvolutionReLUInTraining() throws {
        final class Stage: Layer, @unchecked Sendable {
            let conv: Conv2D, pool: MaxPool2D?
            init(_ conv: Conv2D, pool: MaxPool2D?) { (self.conv, self.pool) = (conv, pool); super.init() }
            override func forward(_ x: Tensor) throws -> Tensor {
                let y = try conv(x).relu()
                return try pool.map { try $0(y) } ?? y
            }
        }
        for (cin, cout, stride, bias, pooled) in [(1, 6, 1, true, true), (6, 16, 1, false, false), (3, 8, 2, true, false)] {
            let conv = try Conv2D(cin, cout, kernelSize: 5, stride: Size2D(stride, stride), padding: .uniform(2), bias: bias)
            let stage = Stage(conv, pool: pooled ? try MaxPool2D(2) : nil)
            let x = randomTensor([2, cin, 16, 16], seed: 8)
            let compiled = stage.compiled()
            func gradients(_ f: (Tensor) throws -> Tensor) throws -> [[Float]] {
                stage.zeroGrad()
                let y = try f(x)
                try (y * randomTensor(y.shape, seed: 9)).sum().backward()
                return stage.parameters.map { $0.grad!.values }
            }
            _ = try gradients { try compiled($0) }
            let fused = try gradients { try compiled($0) }
            let eager = try gradients { try stage($0) }
            XCTAssertEqual(compiled.plan(for: x.shape)?.stepNames, [pooled ? "conv2dReLUMaxPool2x2" : "conv2dReLU"])
            for (f, e) in zip(fused, eager) { assertClose(f, e, rtol: 1e-4, atol: 1e-4, "cin \(cin) stride \(stride)") }
        }
    }

    /// With the tape on in evaluation mode nothing is folded (gradients must reach batch
    /// norm's parameters); in training the running statistics move.
    func testTapeAndTrainingKeepTheLayers() throws {
        let (conv, bn) = try layers(3, 4, kernel: 3, bias: true)
        let unit = ConvolutionUnit(conv, bn, shortcut: nil, relu: true)
        let x = randomTensor([2, 3, 8, 8], seed: 7)
        unit.eval()
        let compiled = unit.compiled()
        _ = try compiled(x)
        let y = try compiled(x)
        XCTAssertEqual(compiled.plan(for: x.shape)?.stepNames, ["conv2d", "BatchNorm2D", "relu"])
        try y.sum().backward()
        XCTAssertNotNil(conv.weight.grad)
        XCTAssertNotNil(bn.weight!.grad)
        unit.train()
        let before = bn.runningMean.values
        _ = try withNoGrad { try compiled(x) }
        _ = try withNoGrad { try compiled(x) }
        XCTAssertNotEqual(bn.runningMean.values, before, "training batch norm updates its running mean")
        XCTAssertEqual(bn.batchesTracked.item, 2)
    }

    /// The capture pass (with the tape on) puts back the random numbers its dropout drew, so a
    /// compiled model draws the masks the eager one draws whichever step it captures at: a
    /// resumed training run captures at another step than the uninterrupted one and must
    /// still end with the same weights.
    func testCaptureDrawsNoRandomNumbers() throws {
        let model = try Sequential(Dense(8, 16), Dropout(0.5), Dense(16, 4))
        model.train()
        let x = randomTensor([3, 8], seed: 11)
        GlobalRandom.seed(42)
        let eager = try (0..<3).map { _ in try model(x).values }
        GlobalRandom.seed(42)
        let compiled = model.compiled()
        let planned = try (0..<3).map { _ in try compiled(x).values }
        XCTAssertNotNil(compiled.plan(for: x.shape), "the model was planned")
        XCTAssertNotEqual(eager[0], eager[1], "dropout drew different masks at each step")
        XCTAssertEqual(planned, eager)
    }
}
