#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import FoveaTestSupport
import NN
import TensorCore
import XCTest

/// Seed 004's question: why weights start small and random rather than all zero. With zeros,
/// every hidden unit computes the same thing and gets the same update, so the symmetry never
/// breaks and the layer acts as one unit; with ReLU (relu(0) = 0) it is worse still: the first
/// layer's gradient is exactly zero and it never moves.
final class ZeroInitTests: XCTestCase {
    /// A two-class task: is x0 * x1 positive? (Not linearly separable, so hidden units matter.)
    func task() -> (Tensor, [Int]) {
        var g = SeededGenerator(seed: 1)
        let x = Tensor.uniform([256, 2], low: -1, high: 1, generator: &g)
        let labels = (0..<256).map { x.values[2 * $0] * x.values[2 * $0 + 1] > 0 ? 1 : 0 }
        return (x, labels)
    }

    struct Run {
        var loss: Float
        /// `[16, 2]` first-layer weight after training, and its gradient at the first step.
        var firstLayer: Tensor, firstGradient: Tensor
        /// `[16]` first-layer bias after training.
        var firstBias: Tensor
    }

    /// 2 -> 16 -> 2 Dense network, full-batch gradient descent (lr 0.5, 300 steps).
    func train(_ initializer: Initializer, activation: Layer = ReLU()) throws -> Run {
        GlobalRandom.seed(2)
        let first = try Dense(2, 16, weightInit: initializer), second = try Dense(16, 2, weightInit: initializer)
        let net = Sequential(first, activation, second)
        let (x, labels) = task()
        var loss: Float = 0
        var firstGradient: Tensor?
        for _ in 0..<300 {
            for p in net.parameters { p.grad = nil }
            let l = try Tensor.crossEntropy(logits: net(x), targets: labels)
            try l.backward()
            if firstGradient == nil { firstGradient = first.weight.grad?.detached() ?? Tensor(zeros: [16, 2]) }
            for p in net.parameters { if let g = p.grad { for i in 0..<p.count { p.pointer[i] -= 0.5 * g.pointer[i] } } }
            loss = l.item
        }
        return Run(loss: loss, firstLayer: first.weight, firstGradient: firstGradient!, firstBias: try XCTUnwrap(first.bias))
    }

    /// Whether all 16 hidden units have the same incoming weights and bias.
    func hiddenUnitsIdentical(_ run: Run) -> Bool {
        let w = run.firstLayer.values, b = run.firstBias.values
        return (0..<16).allSatisfy { u in w[2 * u] == w[0] && w[2 * u + 1] == w[1] && b[u] == b[0] }
    }

    func testAllZeroWeightsNeverLearn() throws {
        let run = try train(.zeros)
        XCTAssertEqual(run.firstGradient.values, [Float](repeating: 0, count: 32), "the first layer's gradient is zero")
        XCTAssertEqual(run.firstLayer.values, [Float](repeating: 0, count: 32), "the first layer never moves")
        XCTAssertEqual(run.loss, logf(2), accuracy: 0.01, "stuck at chance, ln 2")
    }

    /// With a sigmoid (σ(0) = 1/2, not 0) the first layer does move after the first step, but
    /// every hidden unit moves the same way: the 16 units stay copies of one, which cannot
    /// separate the quadrants, so the loss stays near chance.
    func testAllZeroWeightsKeepHiddenUnitsIdentical() throws {
        let run = try train(.zeros, activation: Sigmoid())
        XCTAssertEqual(run.firstGradient.values, [Float](repeating: 0, count: 32), "first step: zero gradient")
        XCTAssertTrue(hiddenUnitsIdentical(run), "symmetry never breaks: \(run.firstLayer.values)")
        XCTAssertGreaterThan(run.loss, 0.6, "one effective hidden unit cannot learn the task")
    }

    func testRandomInitialisationLearns() throws {
        for initializer in [Initializer.kaimingUniform, .xavierNormal, .kaiming(normal: true, mode: .fanOut)] {
            let run = try train(initializer)
            XCTAssertLessThan(run.loss, 0.25, "\(initializer)")
            XCTAssertFalse(hiddenUnitsIdentical(run))
            XCTAssertGreaterThan(Set(run.firstLayer.values).count, 16, "hidden units differ")
            XCTAssertNotEqual(run.firstGradient.values, [Float](repeating: 0, count: 32))
        }
    }
}
