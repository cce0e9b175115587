import Foundation
import XCTest
import TensorCore
import NN
import Optimizers
import ONNX
import FoveaTestSupport

/// `Golden/pytorch_cnn.onnx` and `.json`, written by `Golden/make_pytorch_fixture.py` (torch 2.15).
struct PyTorchFixture {
    static let modelURL = goldenDirectory.appendingPathComponent("pytorch_cnn.onnx")
    let input: Tensor
    let output: Tensor
    let parameterNames: [String]

    static func load() throws -> PyTorchFixture {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: goldenDirectory.appendingPathComponent("pytorch_cnn.json"))) as! [String: Any]
        func tensor(_ key: String) throws -> Tensor {
            try Tensor(shape: json[key + "_shape"] as! [Int], values: (json[key] as! [Double]).map { Float($0) })
        }
        return PyTorchFixture(input: try tensor("input"), output: try tensor("output"), parameterNames: json["parameters"] as! [String])
    }
}

/// A network exported by PyTorch imports into Fovea and computes what PyTorch did.
final class PyTorchFixtureTests: XCTestCase {
    func testPyTorchExportMatchesPyTorchOutputs() throws {
        let fixture = try PyTorchFixture.load()
        let model = try ONNXImporter.load(contentsOf: PyTorchFixture.modelURL)
        XCTAssertTrue(model.producer.hasPrefix("pytorch"), model.producer)
        let y = try withNoGrad { try model(fixture.input) }
        XCTAssertEqual(y.shape, fixture.output.shape)
        assertClose(y.values, fixture.output.values, rtol: 1e-4, atol: 1e-5)
        // PyTorch's parameter names survive (the PReLU slope is renamed by the exporter's reshape).
        let names = Set(model.namedParameters().map(\.name))
        for name in fixture.parameterNames where name != "prelu.weight" { XCTAssertTrue(names.contains(name), name) }
        XCTAssertEqual(Set(model.operators.map(\.node.opType)), [
            "Conv", "Relu", "BatchNormalization", "PRelu", "LeakyRelu", "MaxPool", "AveragePool", "Sigmoid", "Mul",
            "ConvTranspose", "Tanh", "Concat", "Clip", "GlobalAveragePool", "Reshape", "Flatten", "Gemm", "MatMul", "Add", "Softmax",
        ])
        XCTAssertEqual(Set(model.bufferSlots.map(\.name)), ["bn1.running_mean", "bn1.running_var", "bn2.running_mean", "bn2.running_var"])
    }

    /// The imported network fine-tunes: SGD steps on a fixed batch lower its loss.
    func testImportedPyTorchNetworkFineTunes() throws {
        let fixture = try PyTorchFixture.load()
        let model = try ONNXImporter.load(contentsOf: PyTorchFixture.modelURL)
        model.train()
        let sgd = try SGD(parameters: model.parameters, learningRate: 0.1, momentum: 0.9)
        // The file fixes the batch at 2. The net ends in a softmax; fit its probabilities to one-hot targets.
        let x = fixture.input
        let targets = [3, 1]
        let onehot = try Tensor(shape: [2, 5], values: (0..<10).map { targets[$0 / 5] == $0 % 5 ? 1 : 0 })
        func loss() throws -> Tensor { try (model(x) - onehot).squared().mean() }
        let before = try withNoGrad { try loss().item }
        for _ in 0..<10 {
            model.zeroGrad()
            try loss().backward()
            sgd.step()
        }
        let after = try withNoGrad { try loss().item }
        XCTAssertLessThan(after, before * 0.9, "loss \(before) -> \(after)")
    }
}
