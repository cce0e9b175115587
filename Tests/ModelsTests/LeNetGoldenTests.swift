import Foundation
import FoveaTestSupport
import Interop
import Models
import TensorCore
import XCTest

/// Fovea's LeNet-5 loads a PyTorch LeNet-5 state dict by name and computes the same logits
/// (weights, inputs and logits recorded by `Golden/make_lenet_golden.py`).
final class LeNetGoldenTests: XCTestCase {
    func testPyTorchStateDictGivesPyTorchLogits() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Golden/lenet5_pytorch.safetensors")
        let (tensors, _) = try Safetensors.read(from: url)
        let byName = Dictionary(tensors, uniquingKeysWith: { a, _ in a })
        var state: [String: Tensor] = [:]
        for (name, tensor) in tensors where name.hasPrefix("model.") {
            state[String(name.dropFirst("model.".count))] = tensor
        }
        XCTAssertEqual(state.count, 10, "conv1..fc3, weight and bias each")

        let net = try LeNet5()
        try net.loadStateDict(state)
        net.eval()
        let input = try XCTUnwrap(byName["input"]), expected = try XCTUnwrap(byName["logits"])
        let logits = try withNoGrad { try net(input) }
        XCTAssertEqual(logits.shape, [3, 10])
        assertClose(logits.values, expected.values, rtol: 1e-4, atol: 1e-5)
    }
}
