import Foundation
import XCTest
import TensorCore
import NN
import ONNX
import FoveaTestSupport

/// A user's own network, written plainly with no ONNX code and listing nothing (its layers
/// and its parameter are found from its properties): a learned per-channel scale, a residual
/// addition, a concatenation, a ReLU, Sequentials, nested arrays and optionals of layers and a
/// reshape that keeps the batch. `[N, 3, 6, 6]` -> `[N, 5]`.
final class ScaledResidualNet: Layer, @unchecked Sendable {
    let scale: Tensor
    let body: Sequential
    let head: Sequential
    let fc: Dense
    let refine: [[Conv2D]]
    let gate: ReLU?
    let unused: Dense? = nil

    init(scaleSeed: UInt64) throws {
        scale = randomTensor([1, 3, 1, 1], seed: scaleSeed, requiresGrad: true, low: 0.5, high: 1.5)
        body = Sequential(try Conv2D(3, 3, kernelSize: 3, padding: .same, weightInit: .pytorchDefault),
                          try BatchNorm2D(3), ReLU(),
                          try Conv2D(3, 3, kernelSize: 3, padding: .uniform(1), weightInit: .pytorchDefault))
        head = Sequential(try Conv2D(6, 4, kernelSize: 3, stride: 2, padding: .uniform(1), weightInit: .pytorchDefault),
                          try Dropout(0.3))
        fc = try Dense(36, 5, weightInit: .pytorchDefault)
        refine = [[try Conv2D(3, 3, kernelSize: 1, weightInit: .pytorchDefault)],
                  [try Conv2D(3, 3, kernelSize: 1, weightInit: .pytorchDefault), try Conv2D(3, 3, kernelSize: 1, weightInit: .pytorchDefault)]]
        gate = ReLU()
        super.init()
    }

    override func forward(_ x: Tensor) throws -> Tensor {
        var residual = try (body(x * scale) + x).relu()
        for stage in refine { for conv in stage { residual = try conv(residual) } }
        if let gate { residual = try gate(residual) }
        let features = try head(Tensor.concatenate([residual, x], axis: 1))
        return try fc(features.reshaped([features.shape[0], 36]))
    }
}

/// A layer the captured graph records whole but the exporter does not know.
final class OpaqueLayer: Layer, PrimitiveLayer, @unchecked Sendable {
    override func forward(_ x: Tensor) throws -> Tensor { x.affine(scale: 2, shift: 0) }
}

/// The exporter needs nothing from a model but its forward: a user's own layer exports.
final class ONNXCustomModelTests: XCTestCase {
    private func makeModel() throws -> ScaledResidualNet {
        GlobalRandom.seed(17)
        let model = try ScaledResidualNet(scaleSeed: 41)
        randomizeBatchNorms(model, seed: 9)
        return model
    }

    func testAUsersOwnModelRoundTripsThroughTheImporter() throws {
        let model = try makeModel()
        let proto = try ONNXExporter.model(model, inputShape: [3, 6, 6], name: "custom")
        XCTAssertTrue(model.isTraining, "the export puts the model back in the mode it was in")

        // Initializers carry the state-dict names; nodes carry their scope.
        let initializers = Set(proto.graph.initializer.map(\.name))
        for name in ["scale", "body.0.weight", "body.0.bias", "body.1.running_mean", "body.1.running_var", "head.0.weight", "fc.weight",
                     "refine.0.0.weight", "refine.1.1.bias"] {
            XCTAssertTrue(initializers.contains(name), "missing initializer \(name): \(initializers.sorted())")
        }
        let nodeNames = proto.graph.node.map(\.name)
        // The model's own forward has the empty scope: its nodes are named by their op alone.
        for name in ["body.0/Conv", "body.1/BatchNormalization", "body.2/Relu", "Mul", "Add", "Relu", "Concat", "head.0/Conv", "Reshape", "fc/Gemm"] {
            XCTAssertTrue(nodeNames.contains(name), "missing node \(name): \(nodeNames)")
        }
        XCTAssertFalse(proto.graph.node.contains { $0.opType == "Dropout" }, "dropout is the identity in evaluation")
        XCTAssertEqual(proto.graph.output.map(\.name), ["logits"])

        // Any batch size: the reshape was written with the batch symbolic.
        model.eval()
        let imported = try ONNXImporter.load(data: try ONNXExporter.serialize(proto), source: "custom")
        for batch in [1, 3] {
            let x = randomTensor([batch, 3, 6, 6], seed: UInt64(50 + batch))
            let expected = try withNoGrad { try model(x) }
            let actual = try withNoGrad { try imported(x) }
            XCTAssertEqual(actual.shape, [batch, 5])
            assertClose(actual.values, expected.values, rtol: 1e-4, atol: 1e-4, "batch \(batch)")
        }
        // The importer lists parameters in the order the graph uses them; the names are the same.
        XCTAssertEqual(imported.namedParameters().map(\.name).sorted(), model.namedParameters().map(\.name).sorted())
    }

    func testAUsersOwnModelRunsInOnnxruntimeLikeFovea() throws {
        guard onnxruntimeInstalled() else {
            throw XCTSkip("onnxruntime is not installed (python3 -m pip install onnxruntime): the export was not run in it")
        }
        let model = try makeModel()
        let dir = try makeTemporaryDirectory()
        let modelFile = dir.appendingPathComponent("custom.onnx")
        let inputFile = dir.appendingPathComponent("input.f32"), outputFile = dir.appendingPathComponent("output.f32")
        try ONNXExporter.write(model, inputShape: [3, 6, 6], to: modelFile, name: "custom")
        model.eval()
        let runner = try OnnxruntimeRunner()
        defer { runner.close() }
        let x = randomTensor([3, 3, 6, 6], seed: 60)
        let expected = try withNoGrad { try model(x) }
        try float32Bytes(x.values).write(to: inputFile)
        let shape = try runner.run(model: modelFile, inputFile: inputFile, shape: x.shape, outputFile: outputFile)
        XCTAssertEqual(shape, [3, 5])
        assertClose(floats(fromFloat32: try Data(contentsOf: outputFile)), expected.values, rtol: 1e-4, atol: 1e-4)
    }

    func testALayerWithoutAnONNXFormIsNamedInTheError() throws {
        let model = Sequential(try Conv2D(1, 2, kernelSize: 3, weightInit: .pytorchDefault), OpaqueLayer())
        XCTAssertThrowsError(try ONNXExporter.model(model, inputShape: [1, 5, 5])) { error in
            guard case ONNXError.unsupportedLayer(let type, let name, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(type, "OpaqueLayer")
            XCTAssertEqual(name, "1")
        }
    }
}
