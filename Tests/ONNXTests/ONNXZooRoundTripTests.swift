import Foundation
import XCTest
import TensorCore
import NN
import Models
import ONNX
import FoveaTestSupport

/// Every zoo model exported to ONNX and imported back gives the Fovea model's outputs.
final class ONNXZooRoundTripTests: XCTestCase {
    func testEveryZooModelRoundTripsThroughONNX() throws {
        for (index, (entry, input)) in zooCases().enumerated() {
            let model = try entry.make(input: input, classes: 3)
            randomizeBatchNorms(model, seed: UInt64(index))
            model.eval()
            let x = randomTensor([2] + input, seed: UInt64(100 + index))
            let expected = try withNoGrad { try model(x) }
            let data = try ONNXExporter.data(model, inputShape: input, name: entry.name)
            let imported = try ONNXImporter.load(data: data, source: entry.name)
            let actual = try withNoGrad { try imported(x) }
            XCTAssertEqual(actual.shape, [2, 3], entry.name)
            assertClose(actual.values, expected.values, rtol: 1e-4, atol: 1e-4, entry.name)
            XCTAssertEqual(imported.opset, 13, entry.name)

            // The initializers carry the state-dict names and values.
            let state = Dictionary(model.stateDict().map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
            for (name, tensor) in imported.stateDict() {
                guard let original = state[name] else { XCTFail("\(entry.name): '\(name)' is not in the state dict"); continue }
                XCTAssertEqual(tensor.shape, original.shape, "\(entry.name) \(name)")
            }
            let trainable = Set(model.namedParameters().map(\.name))
            let usedInEval = Set(imported.namedParameters().map(\.name))
            XCTAssertTrue(usedInEval.isSubset(of: trainable), entry.name)
            XCTAssertFalse(usedInEval.isEmpty, entry.name)
        }
    }
}
