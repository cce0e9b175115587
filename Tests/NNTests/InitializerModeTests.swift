import FoveaTestSupport
import NN
import TensorCore
import XCTest

/// Fan modes and gains against the `torch.nn.init` formulas, on large draws.
final class InitializerModeTests: XCTestCase {
    func std(_ t: Tensor) -> Float {
        let v = t.values, m = v.reduce(0, +) / Float(v.count)
        return (v.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Float(v.count)).squareRoot()
    }

    func testGains() {
        XCTAssertEqual(Initializer.gain(for: .linear), 1)
        XCTAssertEqual(Initializer.gain(for: .tanh), 5.0 / 3, accuracy: 1e-6)
        XCTAssertEqual(Initializer.gain(for: .relu), Float(2).squareRoot(), accuracy: 1e-6)
        XCTAssertEqual(Initializer.gain(for: .leakyRelu(slope: 0.2)), Float(2 / 1.04).squareRoot(), accuracy: 1e-6)
        XCTAssertEqual(Initializer.gain(for: .selu), 0.75)
    }

    func testFanModesAndDistributions() {
        let shape = [64, 32, 3, 3]   // fanIn 288, fanOut 576
        var g = SeededGenerator(seed: 1)
        let cases: [(Initializer, Float)] = [
            (.kaiming(normal: true, mode: .fanIn), (2 / 288.0).squareRoot()),
            (.kaiming(normal: true, mode: .fanOut), (2 / 576.0).squareRoot()),
            (.kaiming(normal: false, mode: .fanOut, nonlinearity: .tanh), (25.0 / 9 / 576).squareRoot()),
            (.xavier(normal: true), (2 / 864.0).squareRoot()),
            (.xavier(normal: false, gain: 2), (4 * 2 / 864.0).squareRoot()),
            (.varianceScaling(scale: 1, mode: .fanIn, normal: true), (1 / 288.0).squareRoot()),   // seed 004's "Xavier"
            (.kaimingUniform, (2 / 288.0).squareRoot()),
        ]
        for (initializer, expected) in cases {
            let t = initializer.make(shape, generator: &g)
            XCTAssertEqual(std(t), expected, accuracy: expected * 0.03, "\(initializer)")
        }
        // Uniform draws stay inside bound √(3 Var).
        let u = Initializer.kaiming(mode: .fanIn).make(shape, generator: &g)
        XCTAssertLessThanOrEqual(u.values.map(abs).max()!, (6 / 288.0).squareRoot())
    }
}
