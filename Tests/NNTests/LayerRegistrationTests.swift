import FoveaTestSupport
import NN
import TensorCore
import XCTest

/// A block written plainly: its convolution and batch norm are found by reflection.
private final class Unit: Layer, @unchecked Sendable {
    let conv: Conv2D
    let norm: BatchNorm2D

    init(_ channels: Int) throws {
        conv = try Conv2D(channels, channels, kernelSize: 1, bias: false)
        norm = try BatchNorm2D(channels)
        super.init()
    }

    override func forward(_ x: Tensor) throws -> Tensor { try norm(conv(x)) + x }
}

/// A superclass with a property of its own: registered before the subclass's.
private class Stemmed: Layer, @unchecked Sendable {
    let stem: Conv2D

    init(stem: Conv2D) {
        self.stem = stem
        super.init()
    }
}

/// Lists nothing: every registration rule appears once.
private final class Custom: Stemmed, @unchecked Sendable {
    let blocks: [[Layer]]                      // blocks.0.0, blocks.0.1, blocks.1.0
    let optionals: [Dense?]                    // optionals.1 (element 0 is nil)
    let none: [Layer]? = nil                   // nothing
    let missing: Dense? = nil                  // nothing
    let heads: [String: Dense]                 // heads.a, heads.b: sorted keys
    let gain: Tensor                           // parameter "gain"
    let sizes = [4, 4]                         // configuration: ignored
    let table: [Float] = [1, 2, 3]             // ignored
    @Buffer var seen = Tensor(scalar: 0)       // buffer "seen"
    @Key("aux_logits") var auxiliary: Dense    // child "aux_logits", assigned after super.init()
    @Unregistered var tied: Conv2D             // the stem again: not a second child
    @Unregistered var cache: Tensor? = nil     // not a parameter
    lazy var scratch: Dense = try! Dense(4, 4) // lazy storage: not registered
    var head: Dense                            // a var child, reassigned by a test

    init() throws {
        let stem = try Conv2D(2, 4, kernelSize: 1)
        blocks = [[try Unit(4), ReLU()], [try Dense(4, 3)]]
        optionals = [nil, try Dense(4, 2)]
        heads = ["b": try Dense(4, 1), "a": try Dense(4, 2)]
        gain = Tensor(repeating: 1, shape: [4], requiresGrad: true)
        tied = stem
        head = try Dense(4, 6)
        super.init(stem: stem)
        auxiliary = try Dense(4, 5)
    }

    override func forward(_ x: Tensor) throws -> Tensor { try head(x) }
}

final class LayerRegistrationTests: XCTestCase {
    private static let parameterNames = [
        "gain",
        "stem.weight", "stem.bias",
        "blocks.0.0.conv.weight", "blocks.0.0.norm.weight", "blocks.0.0.norm.bias",
        "blocks.1.0.weight", "blocks.1.0.bias",
        "optionals.1.weight", "optionals.1.bias",
        "heads.a.weight", "heads.a.bias", "heads.b.weight", "heads.b.bias",
        "aux_logits.weight", "aux_logits.bias",
        "head.weight", "head.bias",
    ]

    func testNamesAndOrderFollowThePropertiesAndPyTorchRules() throws {
        let model = try Custom()
        model.cache = Tensor(zeros: [3])
        _ = model.scratch  // the lazy storage now holds a layer, and is still left out
        XCTAssertEqual(model.namedParameters().map(\.name), Self.parameterNames)
        XCTAssertEqual(model.stateDict().map(\.name), [
            "gain", "seen",
            "stem.weight", "stem.bias",
            "blocks.0.0.conv.weight", "blocks.0.0.norm.weight", "blocks.0.0.norm.bias",
            "blocks.0.0.norm.running_mean", "blocks.0.0.norm.running_var", "blocks.0.0.norm.num_batches_tracked",
            "blocks.1.0.weight", "blocks.1.0.bias",
            "optionals.1.weight", "optionals.1.bias",
            "heads.a.weight", "heads.a.bias", "heads.b.weight", "heads.b.bias",
            "aux_logits.weight", "aux_logits.bias",
            "head.weight", "head.bias",
        ])
        XCTAssertEqual(model.children.map(\.name),
                       ["stem", "blocks.0.0", "blocks.0.1", "blocks.1.0", "optionals.1", "heads.a", "heads.b", "aux_logits", "head"])
        XCTAssertEqual(model.bufferSlots.map(\.name), ["seen"])
        // 4 + (8 + 4) + (16 + 4 + 4) + (12 + 3) + (8 + 2) + (8 + 2) + (4 + 1) + (20 + 5) + (24 + 6)
        XCTAssertEqual(model.parameterCount, 135)
        XCTAssertEqual(model.parameters.count, Self.parameterNames.count)
    }

    func testNestedNamesReachTheLayers() throws {
        let model = try Custom()
        XCTAssertTrue(model.layer(named: "blocks.1.0") === model.blocks[1][0])
        XCTAssertTrue(model.layer(named: "blocks.0.0.norm") === (model.blocks[0][0] as! Unit).norm)
        XCTAssertTrue(model.layer(named: "blocks.0.1") is ReLU)
        XCTAssertTrue(model.layer(named: "optionals.1") === model.optionals[1])
        XCTAssertTrue(model.layer(named: "heads.a") === model.heads["a"])
        XCTAssertTrue(model.layer(named: "aux_logits") === model.auxiliary)
        XCTAssertTrue(model.layer(named: "stem") === model.stem)
        for absent in ["blocks", "blocks.2", "blocks.0.2", "optionals.0", "auxiliary", "tied", "scratch", "heads.c", "blocks.1.0.x"] {
            XCTAssertNil(model.layer(named: absent), absent)
        }
        let names = model.dottedNames()
        XCTAssertEqual(names[ObjectIdentifier((model.blocks[0][0] as! Unit).conv)], "blocks.0.0.conv")
        XCTAssertEqual(names[ObjectIdentifier(model.stem)], "stem", "the unregistered second reference adds no name")
        XCTAssertEqual(names.count, model.allLayers.count)
        XCTAssertEqual(try model.freeze(["blocks.0"]), ["blocks.0.0.conv.weight", "blocks.0.0.norm.weight", "blocks.0.0.norm.bias"])
    }

    func testTrainAndEvalReachEveryLayer() throws {
        let model = try Custom()
        // The model, stem, Unit, its conv and norm, ReLU, four dense layers in arrays and the
        // dictionary, aux_logits and head.
        XCTAssertEqual(model.allLayers.count, 12)
        model.eval()
        XCTAssertTrue(model.allLayers.allSatisfy { !$0.isTraining })
        XCTAssertFalse(model.optionals[1]!.isTraining)
        XCTAssertFalse(model.heads["b"]!.isTraining)
        model.train()
        XCTAssertTrue(model.allLayers.allSatisfy(\.isTraining))
        XCTAssertTrue(model.scratch.isTraining, "an unregistered layer is not switched")
        model.eval()
        XCTAssertTrue(model.scratch.isTraining)
    }

    func testStateDictRoundTrip() throws {
        GlobalRandom.seed(1)
        let source = try Custom()
        source.seen.pointer[0] = 7
        (source.blocks[0][0] as! Unit).norm.runningMean.pointer[2] = 0.5
        GlobalRandom.seed(2)
        let target = try Custom()
        XCTAssertNotEqual(target.stem.weight.values, source.stem.weight.values)
        let state = Dictionary(uniqueKeysWithValues: source.stateDict().map { ($0.name, $0.tensor.detached()) })
        try target.loadStateDict(state)
        for ((name, mine), (_, theirs)) in zip(target.stateDict(), source.stateDict()) {
            XCTAssertEqual(mine.values, theirs.values, name)
        }
        XCTAssertEqual(target.seen.values, [7])
        XCTAssertThrowsError(try target.loadStateDict(state.filter { $0.key != "aux_logits.bias" })) {
            XCTAssertTrue("\($0)".contains("aux_logits.bias"), "\($0)")
        }
    }

    /// Registration is cached; after a `var` child is reassigned, `invalidateRegistration()`
    /// on it or any ancestor makes the new layer count.
    func testReassignedChildCountsAfterInvalidation() throws {
        let model = try Custom()
        XCTAssertEqual(model.namedParameters().last?.tensor.shape, [6])
        let head = try Dense(4, 7)
        model.head = head
        XCTAssertFalse(model.parameters.contains { $0 === head.weight }, "the cache still holds the old head")
        model.invalidateRegistration()
        XCTAssertTrue(model.parameters.contains { $0 === head.weight })
        XCTAssertEqual(model.namedParameters().last?.tensor.shape, [7])
        XCTAssertEqual(model.parameterCount, 135 - 30 + 35)

        // A change deep in the tree, invalidated from the root.
        let outer = Sequential(model)
        XCTAssertEqual(outer.parameterCount, 140)
        model.head = try Dense(4, 1)
        outer.invalidateRegistration()
        XCTAssertEqual(outer.parameterCount, 140 - 35 + 5)
        XCTAssertTrue(outer.layer(named: "0.head") === model.head)
    }

    /// Library layers: BatchNorm's buffers under their PyTorch keys, optional parameters.
    func testLibraryLayersKeepTheirNames() throws {
        XCTAssertEqual(try BatchNorm2D(3).stateDict().map(\.name),
                       ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"])
        XCTAssertEqual(try BatchNorm1D(3, affine: false).stateDict().map(\.name), ["running_mean", "running_var", "num_batches_tracked"])
        XCTAssertEqual(try Conv2D(1, 2, kernelSize: 3, bias: false).namedParameters().map(\.name), ["weight"])
        XCTAssertEqual(try Dense(2, 3).namedParameters().map(\.name), ["weight", "bias"])
        XCTAssertEqual(try PReLU().namedParameters().map(\.name), ["weight"])
        XCTAssertEqual(try Embedding(4, 2).namedParameters().map(\.name), ["weight"])
        XCTAssertTrue(try Dropout(0.5).stateDict().isEmpty)
    }
}
