import Foundation
import FoveaTestSupport
import Interop
import Models
import NN
import TensorCore
import XCTest

/// Fovea's LeNet-5 loads a PyTorch LeNet-5 state dict by name and computes the same logits
/// (weights, inputs and logits recorded by `Golden/make_lenet_golden.py`).
final class LeNetGoldenTests: XCTestCase {
    func testPyTorchStateDictGivesPyTorchLogits() throws {
        try check("lenet5_pytorch", model: LeNet5(), parameterTensors: 10)
    }

    /// The seed's LeNet_modify with batch-norm running statistics moved by training passes,
    /// compared in evaluation mode (dropout off, running statistics on).
    func testLeNetBNFromPyTorch() throws {
        try check("lenet_bn_pytorch", model: LeNetBN(), parameterTensors: 24)
    }

    func check(_ file: String, model net: Layer, parameterTensors: Int) throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Golden/\(file).safetensors")
        let (tensors, _) = try Safetensors.read(from: url)
        let byName = Dictionary(tensors, uniquingKeysWith: { a, _ in a })
        var state: [String: Tensor] = [:]
        for (name, tensor) in tensors where name.hasPrefix("model.") {
            state[String(name.dropFirst("model.".count))] = tensor
        }
        XCTAssertEqual(state.count, parameterTensors, "every parameter and buffer")
        try net.loadStateDict(state)
        net.eval()
        let input = try XCTUnwrap(byName["input"]), expected = try XCTUnwrap(byName["logits"])
        let logits = try withNoGrad { try net(input) }
        XCTAssertEqual(logits.shape, [input.shape[0], 10])
        assertClose(logits.values, expected.values, rtol: 1e-4, atol: 1e-5)
    }
}
