import XCTest
import TensorCore
import FoveaTestSupport

/// Every op's hand-written gradient against central finite differences.
final class GradientTests: XCTestCase {
    /// Moves values near 0 to 0.3 so kinks at 0 (ReLU, |x|) are not straddled by ±eps.
    func awayFromZero(_ x: Tensor) -> Tensor {
        for i in 0..<x.count where Swift.abs(x.pointer[i]) < 0.05 { x.pointer[i] = 0.3 }
        return x
    }

    func testBroadcastingArithmetic() throws {
        let a = randomTensor([2, 3, 4], seed: 1), b = randomTensor([3, 1], seed: 2)
        try checkGradients([a, b]) { try a + b }
        try checkGradients([a, b]) { try a - b }
        try checkGradients([a, b]) { try a * b }
        let d = randomTensor([4], seed: 3, low: 0.5, high: 2)
        try checkGradients([a, d]) { try a / d }
        let s = randomTensor([1], seed: 4)
        try checkGradients([a, s]) { try a * s }
    }

    func testScalarAndUnaryMath() throws {
        let x = awayFromZero(randomTensor([3, 5], seed: 5))
        try checkGradients([x]) { x * 3 + 1 }
        try checkGradients([x]) { -x / 2 - 1 }
        try checkGradients([x]) { x.exp() }
        try checkGradients([x]) { x.squared() }
        try checkGradients([x]) { x.abs() }
        let pos = randomTensor([3, 5], seed: 6, low: 0.5, high: 2)
        try checkGradients([pos]) { pos.log() }
        try checkGradients([pos]) { pos.sqrt() }
        try checkGradients([pos]) { pos.pow(1.5) }
    }

    func testReductions() throws {
        let x = randomTensor([2, 3, 4], seed: 7)
        try checkGradients([x]) { x.sum() }
        try checkGradients([x]) { x.mean() }
        try checkGradients([x]) { try x.sum(axes: [1]) }
        try checkGradients([x]) { try x.sum(axes: [0, 2], keepDims: true) }
        try checkGradients([x]) { try x.mean(axes: [-1]) }
        try checkGradients([x]) { try x.max(axis: 1).values }
        try checkGradients([x]) { x.max() }
    }

    func testShapeOps() throws {
        let x = randomTensor([2, 3, 4], seed: 8)
        try checkGradients([x]) { try x.reshaped([6, -1]) }
        try checkGradients([x]) { try x.flattened() }
        try checkGradients([x]) { try x.permuted([2, 0, 1]) }
        try checkGradients([x]) { try x.transposed() }
        try checkGradients([x]) { try x.slice(axis: 1, 1..<3) }
        let y = randomTensor([2, 2, 4], seed: 9)
        try checkGradients([x, y]) { try Tensor.concatenate([x, y, x], axis: 1) }
        try checkGradients([x]) { try x.flippedSpatially() }
    }

    func testMatmulAndLinear() throws {
        let a = randomTensor([5, 7], seed: 10), b = randomTensor([7, 3], seed: 11)
        try checkGradients([a, b]) { try a.matmul(b) }
        let x = randomTensor([4, 6], seed: 12), w = randomTensor([3, 6], seed: 13), bias = randomTensor([3], seed: 14)
        try checkGradients([x, w, bias]) { try Tensor.linear(x, weight: w, bias: bias) }
        try checkGradients([x, w]) { try Tensor.linear(x, weight: w, bias: nil) }
    }

    /// `linearReLU` (the ReLU in the product's epilogue, the mask in its backward): by finite
    /// differences (fixed seeds whose pre-activations stay clear of 0 by more than the step),
    /// and against `linear(...).relu()` bit for bit, recorded and at inference, for one row
    /// (the dot-product path LeNet's single images take) and for several.
    func testLinearReLU() throws {
        let x = randomTensor([4, 6], seed: 105), w = randomTensor([3, 6], seed: 205), bias = randomTensor([3], seed: 305)
        // These seeds keep every pre-activation at least 0.15 from the ReLU's kink, farther
        // than a step of 1e-2 can move it, so the finite differences see no kink.
        for b in [bias, nil] {
            XCTAssertGreaterThan(try Tensor.linear(x, weight: w, bias: b).values.map { abs($0) }.min()!, 0.15)
            XCTAssertTrue(try Tensor.linear(x, weight: w, bias: b).values.contains { $0 < 0 }, "the ReLU clips some")
            try checkGradients([x, w] + (b.map { [$0] } ?? [])) { try Tensor.linearReLU(x, weight: w, bias: b) }
        }
        for rows in [1, 5] {
            let x = randomTensor([rows, 40], seed: 15, requiresGrad: true), w = randomTensor([30, 40], seed: 16, requiresGrad: true)
            let b = randomTensor([30], seed: 17, requiresGrad: true)
            let fused = try Tensor.linearReLU(x, weight: w, bias: b), plain = try Tensor.linear(x, weight: w, bias: b).relu()
            XCTAssertEqual(fused.values.map(\.bitPattern), plain.values.map(\.bitPattern), "\(rows) rows")
            XCTAssertTrue(fused.values.contains(0) && fused.values.contains { $0 > 0 }, "the ReLU clipped some, \(rows) rows")
            let inferred = try withNoGrad { try Tensor.linearReLU(x, weight: w, bias: b) }
            XCTAssertNil(inferred.gradFunction)
            XCTAssertEqual(inferred.values.map(\.bitPattern), plain.values.map(\.bitPattern), "\(rows) rows at inference")
            let dy = randomTensor(fused.shape, seed: 18)
            try (fused * dy).sum().backward()
            let fusedGrads = [x.grad!.values, w.grad!.values, b.grad!.values]
            x.grad = nil; w.grad = nil; b.grad = nil
            try (plain * dy).sum().backward()
            XCTAssertEqual(fusedGrads, [x.grad!.values, w.grad!.values, b.grad!.values], "\(rows) rows")
        }
    }

    func testConvolutionVariants() throws {
        struct Case { var n, c, h, w, cout, kh, kw: Int; var stride: Size2D; var padding: Padding; var dilation: Size2D; var groups: Int }
        let cases = [
            Case(n: 2, c: 3, h: 7, w: 6, cout: 4, kh: 3, kw: 3, stride: 1, padding: .valid, dilation: 1, groups: 1),
            Case(n: 2, c: 2, h: 8, w: 7, cout: 3, kh: 3, kw: 2, stride: Size2D(2, 1), padding: .uniform(1), dilation: 1, groups: 1),
            Case(n: 1, c: 2, h: 9, w: 9, cout: 2, kh: 3, kw: 3, stride: 2, padding: .same, dilation: 1, groups: 1),
            Case(n: 1, c: 1, h: 5, w: 6, cout: 2, kh: 2, kw: 3, stride: 1, padding: .full, dilation: 1, groups: 1),
            Case(n: 2, c: 2, h: 9, w: 8, cout: 2, kh: 3, kw: 3, stride: 1, padding: .explicit(top: 0, bottom: 2, left: 1, right: 0), dilation: 2, groups: 1),
            Case(n: 2, c: 4, h: 6, w: 6, cout: 6, kh: 3, kw: 3, stride: 1, padding: .uniform(1), dilation: 1, groups: 2),
            Case(n: 1, c: 3, h: 5, w: 5, cout: 3, kh: 3, kw: 3, stride: 2, padding: .uniform(1), dilation: 1, groups: 3),
        ]
        for (i, c) in cases.enumerated() {
            let x = randomTensor([c.n, c.c, c.h, c.w], seed: UInt64(20 + i))
            let w = randomTensor([c.cout, c.c / c.groups, c.kh, c.kw], seed: UInt64(40 + i))
            let b = randomTensor([c.cout], seed: UInt64(60 + i))
            try checkGradients([x, w, b]) {
                try Tensor.conv2d(x, weight: w, bias: b, stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups)
            }
        }
    }

    /// Winograd F(2x2, 3x3)'s forward, input gradient and weight gradient by finite
    /// differences: an odd plane (half tiles), uneven padding, and no padding.
    func testWinogradConvolution() throws {
        let cases: [(x: [Int], cout: Int, padding: Padding)] = [
            ([2, 3, 7, 6], 4, .uniform(1)),
            ([1, 2, 6, 7], 3, .explicit(top: 2, bottom: 0, left: 1, right: 2)),
            ([2, 2, 5, 6], 2, .valid),
        ]
        for (i, c) in cases.enumerated() {
            let x = randomTensor(c.x, seed: UInt64(80 + i))
            let w = randomTensor([c.cout, c.x[1], 3, 3], seed: UInt64(90 + i))
            let b = randomTensor([c.cout], seed: UInt64(100 + i))
            try Tensor.withConvolutionMethod(.winograd) {
                try checkGradients([x, w, b]) { try Tensor.conv2d(x, weight: w, bias: b, padding: c.padding) }
            }
        }
    }

    func testPooling() throws {
        // Distinct values keep max pooling away from ties, where the derivative is undefined.
        var values = (0..<(2 * 2 * 7 * 7)).map { Float($0) * 0.37 }
        var gen = SeededGenerator(seed: 3)
        values.shuffle(using: &gen)
        let x = try Tensor(shape: [2, 2, 7, 7], values: values.map { $0 / 10 })
        try checkGradients([x]) { try Tensor.maxPool2d(x, kernel: 2) }
        try checkGradients([x]) { try Tensor.maxPool2d(x, kernel: 3, stride: 2, padding: .uniform(1)) }
        try checkGradients([x]) { try Tensor.maxPool2d(x, kernel: 2, ceilMode: true) }
        try checkGradients([x]) { try Tensor.avgPool2d(x, kernel: 3, stride: 2, padding: .uniform(1)) }
        try checkGradients([x]) { try Tensor.avgPool2d(x, kernel: 2, ceilMode: true, countIncludePad: false) }
        try checkGradients([x]) { try Tensor.sumPool2d(x, kernel: Size2D(2, 3)) }
    }

    func testActivations() throws {
        // Values away from 0 so ReLU's kink is not straddled by the finite difference.
        let x = awayFromZero(randomTensor([3, 8], seed: 70))
        try checkGradients([x]) { x.relu() }
        try checkGradients([x]) { x.tanh() }
        try checkGradients([x]) { x.sigmoid() }
        try checkGradients([x]) { try x.softmax() }
        try checkGradients([x]) { try x.softmax(axis: 0) }
        try checkGradients([x]) { try x.logSoftmax() }
        try checkGradients([x]) { try x.logSoftmax(axis: 0) }
    }

    /// The fused residual output `max(0, a + b)`: values as `(a + b).relu()` on a tensor big
    /// enough to split over threads, gradients to both inputs by finite differences (sums
    /// kept away from ReLU's kink), and a clear error for mismatched shapes.
    func testReLUOfSum() throws {
        let big = randomTensor([3, 50_000], seed: 71), other = randomTensor([3, 50_000], seed: 72)
        let expected = try (big + other).relu()
        let fused = try Tensor.reluOfSum(big, other)
        XCTAssertEqual(fused.values, expected.values)
        let b = awayFromZero(randomTensor([4, 9], seed: 73))
        let a = try Tensor(shape: [4, 9], values: randomTensor([4, 9], seed: 74).values.map { $0 * 0.01 })
        try checkGradients([a, b]) { try Tensor.reluOfSum(a, b) }
        XCTAssertThrowsError(try Tensor.reluOfSum(a, Tensor(zeros: [9, 4]))) { error in
            XCTAssertTrue("\(error)".contains("[4, 9]") && "\(error)".contains("[9, 4]"), "\(error)")
        }
    }

    func testLosses() throws {
        let logits = randomTensor([5, 4], seed: 80)
        try checkGradients([logits]) { try Tensor.crossEntropy(logits: logits, targets: [0, 3, 1, 1, 2]) }
        let p = randomTensor([3, 4], seed: 81), t = randomTensor([3, 4], seed: 82)
        try checkGradients([p, t]) { try Tensor.mseLoss(p, t) }
    }
}
