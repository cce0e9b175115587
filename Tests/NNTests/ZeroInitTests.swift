import FoveaTestSupport
import NN
import TensorCore
import XCTest

/// Seed 004's question: why weights start small and random rather than all zero. With zeros,
/// every hidden unit computes the same thing and gets the same update, so the symmetry never
/// breaks; here it is worse still: with ReLU the first layer's gradient is exactly zero.
final class ZeroInitTests: XCTestCase {
    /// A two-class task: is x0 * x1 positive? (Not linearly separable, so hidden units matter.)
    func task() throws -> (Tensor, [Int]) {
        var g = SeededGenerator(seed: 1)
        let x = Tensor.uniform([256, 2], low: -1, high: 1, generator: &g)
        let labels = (0..<256).map { x.values[2 * $0] * x.values[2 * $0 + 1] > 0 ? 1 : 0 }
        return (x, labels)
    }

    func train(_ initializer: Initializer) throws -> (loss: Float, firstLayer: Tensor) {
        GlobalRandom.seed(2)
        let first = try Dense(2, 16, weightInit: initializer), second = try Dense(16, 2, weightInit: initializer)
        let net = try Sequential(first, ReLU(), second)
        let (x, labels) = try task()
        var loss: Float = 0
        for _ in 0..<300 {
            for p in net.parameters { p.grad = nil }
            let l = try Tensor.crossEntropy(logits: net(x), targets: labels)
            try l.backward()
            for p in net.parameters { if let g = p.grad { for i in 0..<p.count { p.pointer[i] -= 0.5 * g.pointer[i] } } }
            loss = l.item
        }
        return (loss, first.weight)
    }

    func testAllZeroWeightsNeverLearn() throws {
        let (loss, firstLayer) = try train(.zeros)
        XCTAssertEqual(firstLayer.values, [Float](repeating: 0, count: 32), "the first layer never moves")
        XCTAssertEqual(loss, logf(2), accuracy: 0.01, "stuck at chance, ln 2")
    }

    func testRandomInitialisationLearns() throws {
        for initializer in [Initializer.kaimingUniform, .xavierNormal] {
            let (loss, firstLayer) = try train(initializer)
            XCTAssertLessThan(loss, 0.25, "\(initializer)")
            XCTAssertGreaterThan(Set(firstLayer.values).count, 16, "hidden units differ")
        }
    }
}
