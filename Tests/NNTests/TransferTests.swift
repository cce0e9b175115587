import FoveaTestSupport
import NN
import TensorCore
import XCTest

/// Freezing by prefix, loading the part of a state dict that fits, and features from a layer.
final class TransferTests: XCTestCase {
    func net(classes: Int = 3) throws -> Sequential {
        try Sequential(Conv2D(1, 2, kernelSize: 3), ReLU(), Flatten(), Dense(2 * 4 * 4, 5), ReLU(), Dense(5, classes))
    }

    func testPrefixesMatchAtComponentBoundaries() {
        XCTAssertTrue(Layer.name("features.1.weight", isUnder: "features.1"))
        XCTAssertTrue(Layer.name("features.1.weight", isUnder: "features"))
        XCTAssertTrue(Layer.name("features.1.weight", isUnder: "features.1.weight"))
        XCTAssertFalse(Layer.name("features.10.weight", isUnder: "features.1"))
        XCTAssertFalse(Layer.name("features2.weight", isUnder: "features"))
        XCTAssertTrue(Layer.name("anything", isUnder: "*"))
    }

    func testFrozenParametersGetNoGradientAndDoNotMove() throws {
        GlobalRandom.seed(1)
        let model = try net()
        let frozen = try model.freeze(["0", "3"])
        XCTAssertEqual(frozen, ["0.weight", "0.bias", "3.weight", "3.bias"])
        XCTAssertEqual(model.frozenParameterNames, frozen)
        XCTAssertEqual(model.trainableParameters().count, 2)
        XCTAssertEqual(model.trainableParameters(under: ["5"]).count, 2)
        let before = model.namedParameters().map { $0.tensor.values }
        var g = SeededGenerator(seed: 2)
        let x = Tensor.normal([4, 1, 6, 6], generator: &g)
        let loss = try Tensor.crossEntropy(logits: model(x), targets: [0, 1, 2, 0])
        try loss.backward()
        for (name, p) in model.namedParameters() {
            if frozen.contains(name) { XCTAssertNil(p.grad, name) } else { XCTAssertNotNil(p.grad, name) }
        }
        // A plain update of every parameter with a gradient leaves the frozen ones unchanged.
        for p in model.parameters { if let grad = p.grad { for i in 0..<p.count { p.pointer[i] -= 0.1 * grad.pointer[i] } } }
        let after = model.namedParameters().map { $0.tensor.values }
        for (i, (name, _)) in model.namedParameters().enumerated() {
            if frozen.contains(name) { XCTAssertEqual(after[i], before[i], name) } else { XCTAssertNotEqual(after[i], before[i], name) }
        }
        try model.unfreeze(["*"])
        XCTAssertTrue(model.frozenParameterNames.isEmpty)
    }

    func testUnknownPrefixIsAnErrorNamingTheModelsParts() throws {
        let model = try net()
        XCTAssertThrowsError(try model.freeze(["0", "classifier"])) { error in
            XCTAssertTrue("\(error)".contains("'classifier'"), "\(error)")
            XCTAssertTrue("\(error)".contains("0, 3, 5"), "\(error)")
        }
        XCTAssertTrue(model.frozenParameterNames.isEmpty, "nothing changes on error")
    }

    func testLoadMatchingStateKeepsTheBodyAndReportsTheNewHead() throws {
        GlobalRandom.seed(3)
        let pretrained = try net(classes: 10)
        GlobalRandom.seed(4)
        let model = try net(classes: 3)
        let headBefore = model.namedParameters().last!.tensor.values
        var state = Dictionary(pretrained.stateDict().map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
        state["extra.weight"] = Tensor(zeros: [1])
        let report = model.loadMatchingState(state)
        XCTAssertEqual(report.loaded, ["0.weight", "0.bias", "3.weight", "3.bias"])
        XCTAssertEqual(report.skipped, ["5.weight ([10, 5] in the weights, [3, 5] here)", "5.bias ([10] in the weights, [3] here)",
                                        "extra.weight (not in this model)"])
        XCTAssertEqual(report.missing, [])
        XCTAssertEqual(model.namedParameters()[0].tensor.values, pretrained.namedParameters()[0].tensor.values)
        XCTAssertEqual(model.namedParameters().last!.tensor.values, headBefore, "the new head keeps its fresh weights")
    }

    func testFeaturesAtALayerEqualTheLayersRunAlone() throws {
        GlobalRandom.seed(5)
        let model = try net()
        var g = SeededGenerator(seed: 6)
        let x = Tensor.normal([2, 1, 6, 6], generator: &g)
        let features = try model.features(of: x, at: "3")
        XCTAssertEqual(features.shape, [2, 5])
        let layers = model.children.map(\.layer)
        let direct = try withNoGrad { try layers[3](layers[2](layers[1](layers[0](x)))) }
        XCTAssertEqual(features.values, direct.values)
        XCTAssertTrue(model.isTraining, "the mode is restored")
        XCTAssertThrowsError(try model.features(of: x, at: "fc")) { XCTAssertTrue("\($0)".contains("'fc'"), "\($0)") }
    }
}
