import FoveaTestSupport
import NN
import TensorCore
import XCTest

/// Every initialiser against the `torch.nn.init` formulas: the exact bounds and standard
/// deviations `distribution(for:)` reports for each fan mode and gain, and the statistics of
/// large draws (mean, standard deviation, range).
final class InitializerStatisticsTests: XCTestCase {
    /// A convolution weight `[out 64, in 32, 3, 3]`: fanIn 288, fanOut 576.
    let conv = [64, 32, 3, 3]
    let nonlinearities: [Initializer.Nonlinearity] = [.linear, .sigmoid, .tanh, .relu, .leakyRelu(slope: 0.2), .selu]

    func statistics(_ t: Tensor) -> (mean: Double, std: Double, min: Float, max: Float) {
        let v = t.values
        let mean = v.reduce(0.0) { $0 + Double($1) } / Double(v.count)
        let variance = v.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(v.count)
        return (mean, variance.squareRoot(), v.min()!, v.max()!)
    }

    func assertClose(_ a: Float, _ b: Float, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a, b, accuracy: 1e-6 * Swift.max(1, abs(b)), message, file: file, line: line)
    }

    func testFansFollowPyTorch() {
        XCTAssertTrue(Initializer.fans(conv) == (288, 576))
        XCTAssertTrue(Initializer.fans([10, 20]) == (20, 10), "dense [out, in]")
        XCTAssertTrue(Initializer.fans([16, 3, 5, 5]) == (75, 400))
        XCTAssertTrue(Initializer.fans([7]) == (7, 7))
    }

    func testGainsAreCalculateGain() {
        let expected: [Float] = [1, 1, 5.0 / 3, Float(2).squareRoot(), (2 / (1 + 0.04) as Float).squareRoot(), 0.75]
        for (nl, g) in zip(nonlinearities, expected) { assertClose(Initializer.gain(for: nl), g, "\(nl)") }
        assertClose(Initializer.gain(for: .leakyRelu(slope: 0)), Initializer.gain(for: .relu), "kaiming's default a = 0")
    }

    /// `kaiming_uniform_`: bound `gain √(3 / fan)`; `kaiming_normal_`: std `gain / √fan`.
    func testKaimingBoundsAndStdForEveryModeAndGain() {
        for nl in nonlinearities {
            let g = Initializer.gain(for: nl)
            for (mode, fan) in [(Initializer.FanMode.fanIn, Float(288)), (.fanOut, 576)] {
                guard case .uniform(let lo, let hi) = Initializer.kaiming(normal: false, mode: mode, nonlinearity: nl).distribution(for: conv),
                      case .normal(let mean, let std) = Initializer.kaiming(normal: true, mode: mode, nonlinearity: nl).distribution(for: conv) else {
                    return XCTFail("kaiming \(mode) \(nl): wrong distribution kind")
                }
                assertClose(hi, g * (3 / fan).squareRoot(), "kaiming uniform \(mode) \(nl)")
                assertClose(lo, -hi, "symmetric")
                XCTAssertEqual(mean, 0)
                assertClose(std, g / fan.squareRoot(), "kaiming normal \(mode) \(nl)")
            }
        }
        // Fan-out spreads over twice as many units here, so its bound is 1/√2 of fan-in's.
        guard case .uniform(_, let fanInBound) = Initializer.kaiming(mode: .fanIn).distribution(for: conv),
              case .uniform(_, let fanOutBound) = Initializer.kaiming(mode: .fanOut).distribution(for: conv) else { return XCTFail() }
        assertClose(fanOutBound * Float(2).squareRoot(), fanInBound, "fan-out vs fan-in")
    }

    /// `xavier_uniform_`: bound `gain √(6 / (fanIn + fanOut))`; `xavier_normal_`: std `gain √(2 / (fanIn + fanOut))`.
    func testXavierBoundsAndStd() {
        for nl in nonlinearities {
            let g = Initializer.gain(for: nl)
            guard case .uniform(_, let hi) = Initializer.xavier(normal: false, nonlinearity: nl).distribution(for: conv),
                  case .normal(_, let std) = Initializer.xavier(normal: true, nonlinearity: nl).distribution(for: conv) else {
                return XCTFail("xavier \(nl): wrong distribution kind")
            }
            assertClose(hi, g * (6 / 864 as Float).squareRoot(), "xavier uniform \(nl)")
            assertClose(std, g * (2 / 864 as Float).squareRoot(), "xavier normal \(nl)")
        }
    }

    /// The named cases are the torch defaults; `pytorchDefault` is `kaiming_uniform_(a: √5)`.
    func testNamedCasesAreTheTorchDefaults() {
        func parameters(_ d: Initializer.Distribution) -> [Float] {
            switch d {
            case .constant(let v): return [v]
            case .uniform(let lo, let hi): return [lo, hi]
            case .normal(let m, let s): return [m, s]
            }
        }
        let pairs: [(Initializer, Initializer)] = [
            (.kaimingUniform, .kaiming(normal: false)), (.kaimingNormal, .kaiming(normal: true)),
            (.xavierUniform, .xavier(normal: false)), (.xavierNormal, .xavier(normal: true)),
            (.pytorchDefault, .kaiming(nonlinearity: .leakyRelu(slope: Float(5).squareRoot()))),
        ]
        for shape in [conv, [10, 20]] {
            for (named, general) in pairs {
                FoveaTestSupport.assertClose(parameters(named.distribution(for: shape)), parameters(general.distribution(for: shape)),
                                             rtol: 1e-6, "\(named) \(shape)")
            }
        }
        XCTAssertEqual(Initializer.zeros.distribution(for: conv), .constant(0))
        XCTAssertEqual(Initializer.constant(0.3).distribution(for: conv), .constant(0.3))
    }

    /// Large draws have the mean, spread and range their distributions promise.
    func testDrawsMatchTheirDistributions() {
        var generator = SeededGenerator(seed: 7)
        let shape = [256, 128]   // fanIn 128, fanOut 256; 32768 draws, so std is within about 1%.
        let cases: [Initializer] = [
            .uniform(low: -0.5, high: 1.5), .normal(mean: 0.25, std: 2),
            .kaimingUniform, .kaimingNormal, .xavierUniform, .xavierNormal, .pytorchDefault,
            .kaiming(normal: false, mode: .fanOut, nonlinearity: .tanh), .kaiming(normal: true, mode: .fanOut, nonlinearity: .leakyRelu(slope: 0.1)),
            .xavier(normal: false, nonlinearity: .selu), .xavier(normal: true, gain: 2),
        ]
        for initializer in cases {
            let s = statistics(initializer.make(shape, generator: &generator))
            switch initializer.distribution(for: shape) {
            case .uniform(let lo, let hi):
                XCTAssertGreaterThanOrEqual(s.min, lo, "\(initializer)"); XCTAssertLessThan(s.max, hi, "\(initializer)")
                XCTAssertLessThan(s.min, lo + 0.01 * (hi - lo)); XCTAssertGreaterThan(s.max, hi - 0.01 * (hi - lo))
                XCTAssertEqual(s.mean, Double(lo + hi) / 2, accuracy: 0.01 * Double(hi - lo), "\(initializer)")
                XCTAssertEqual(s.std, Double(hi - lo) / 12.0.squareRoot(), accuracy: 0.02 * Double(hi - lo) / 12.0.squareRoot(), "\(initializer)")
            case .normal(let mean, let std):
                XCTAssertEqual(s.mean, Double(mean), accuracy: 0.03 * Double(std), "\(initializer)")
                XCTAssertEqual(s.std, Double(std), accuracy: 0.02 * Double(std), "\(initializer)")
            case .constant:
                XCTFail("not a random initialiser: \(initializer)")
            }
        }
        XCTAssertEqual(Set(Initializer.constant(0.3).make(shape, generator: &generator).values), [0.3])
        XCTAssertEqual(Set(Initializer.zeros.make(shape, generator: &generator).values), [0])
    }

    func testSameSeedSameDraw() {
        var a = SeededGenerator(seed: 11), b = SeededGenerator(seed: 11)
        XCTAssertEqual(Initializer.kaiming(normal: true, mode: .fanOut).make(conv, generator: &a).values,
                       Initializer.kaiming(normal: true, mode: .fanOut).make(conv, generator: &b).values)
    }
}
