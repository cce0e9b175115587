import XCTest
import TensorCore
import NN
import FoveaTestSupport

final class LayerTests: XCTestCase {
    func testConv2DShapesNamesAndGradients() throws {
        GlobalRandom.seed(1)
        let conv = try Conv2D(3, 8, kernelSize: 3, stride: 2, padding: .uniform(1))
        XCTAssertEqual(conv.weight.shape, [8, 3, 3, 3])
        XCTAssertEqual(conv.namedParameters().map(\.name), ["weight", "bias"])
        let x = randomTensor([2, 3, 9, 9], seed: 2)
        XCTAssertEqual(try conv(x).shape, [2, 8, 5, 5])
        try checkGradients([x, conv.weight, conv.bias!]) { try conv(x) }
    }

    func testDenseComputesXWTransposePlusB() throws {
        let dense = try Dense(3, 2)
        try dense.weight.assign(Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6]))
        try dense.bias!.assign(Tensor([10, 20]))
        let y = try dense(Tensor(shape: [1, 3], values: [1, 0, -1]))
        assertTensor(y, shape: [1, 2], [1 - 3 + 10, 4 - 6 + 20])
    }

    func testSequentialNamesFollowPyTorch() throws {
        let model = try Sequential(Conv2D(1, 4, kernelSize: 3), ReLU(), MaxPool2D(2), Flatten(), Dense(4 * 3 * 3, 5))
        XCTAssertEqual(model.namedParameters().map(\.name), ["0.weight", "0.bias", "4.weight", "4.bias"])
        XCTAssertEqual(model.parameterCount, 4 * 9 + 4 + 36 * 5 + 5)
        let y = try model(randomTensor([2, 1, 8, 8], seed: 3))
        XCTAssertEqual(y.shape, [2, 5])
    }

    func testTrainAndEvalModeReachEveryLayer() throws {
        let inner = Sequential(ReLU())
        let model = Sequential(inner, Flatten())
        model.eval()
        XCTAssertFalse(inner.layers[0].isTraining)
        model.train()
        XCTAssertTrue(inner.layers[0].isTraining)
    }

    func testStateDictRoundTripAndMismatches() throws {
        GlobalRandom.seed(4)
        let a = try Sequential(Dense(3, 4), ReLU(), Dense(4, 2))
        let b = try Sequential(Dense(3, 4), ReLU(), Dense(4, 2))
        XCTAssertNotEqual(a.parameters[0].values, b.parameters[0].values)
        try b.loadStateDict(Dictionary(uniqueKeysWithValues: a.stateDict().map { ($0.name, $0.tensor) }))
        XCTAssertEqual(a.parameters[0].values, b.parameters[0].values)
        var state = Dictionary(uniqueKeysWithValues: a.stateDict().map { ($0.name, $0.tensor) })
        state["2.weight"] = Tensor(zeros: [3, 4])
        XCTAssertThrowsError(try b.loadStateDict(state)) { XCTAssertTrue("\($0)".contains("2.weight") && "\($0)".contains("[3, 4]"), "\($0)") }
        state.removeValue(forKey: "2.weight")
        XCTAssertThrowsError(try b.loadStateDict(state)) { XCTAssertTrue("\($0)".contains("missing"), "\($0)") }
    }

    func testBadConfigurationsThrowWithTheValues() {
        XCTAssertThrowsError(try Conv2D(3, 8, kernelSize: 3, groups: 2)) { XCTAssertTrue("\($0)".contains("groups 2"), "\($0)") }
        XCTAssertThrowsError(try Conv2D(0, 8, kernelSize: 3))
        XCTAssertThrowsError(try Dense(0, 3)) { XCTAssertTrue("\($0)".contains("0 -> 3"), "\($0)") }
        XCTAssertThrowsError(try MaxPool2D(0))
        XCTAssertThrowsError(try Dense(4, 2)(Tensor(zeros: [1, 5]))) { XCTAssertTrue("\($0)".contains("[1, 5]"), "\($0)") }
    }
}

final class InitializerTests: XCTestCase {
    func testFans() {
        XCTAssertTrue(Initializer.fans([16, 6, 5, 5]) == (150, 400))
        XCTAssertTrue(Initializer.fans([120, 400]) == (400, 120))
    }

    /// The sample statistics of each rule match its formula (64k samples: the standard
    /// error of the variance estimate is under 1%).
    func testVarianceMatchesTheFormulas() {
        let shape = [256, 64, 2, 2]  // fanIn 256, fanOut 1024
        func variance(_ t: Tensor) -> Double {
            let v = t.values.map(Double.init); let m = v.reduce(0, +) / Double(v.count)
            return v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(v.count)
        }
        var g = SeededGenerator(seed: 9)
        let cases: [(Initializer, Double)] = [
            (.kaimingNormal, 2.0 / 256), (.kaimingUniform, 2.0 / 256),
            (.xavierNormal, 2.0 / 1280), (.xavierUniform, 2.0 / 1280),
            (.pytorchDefault, 1.0 / (3 * 256)),
        ]
        for (rule, expected) in cases {
            let v = variance(rule.make(shape, generator: &g))
            XCTAssertEqual(v, expected, accuracy: expected * 0.03, "\(rule)")
        }
        XCTAssertEqual(Initializer.zeros.make([3], generator: &g).values, [0, 0, 0])
        XCTAssertEqual(Initializer.constant(2).make([2], generator: &g).values, [2, 2])
    }

    func testSameSeedSameWeights() throws {
        GlobalRandom.seed(11)
        let a = try Conv2D(1, 6, kernelSize: 5)
        GlobalRandom.seed(11)
        let b = try Conv2D(1, 6, kernelSize: 5)
        XCTAssertEqual(a.weight.values, b.weight.values)
    }
}
