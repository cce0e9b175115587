import Foundation
import XCTest
import TensorCore
import ONNX
import FoveaTestSupport

/// `fovea export` writes ONNX files that import back, from a checkpoint or a zoo name.
final class ExportCommandTests: XCTestCase {
    func testExportsAFreshZooModel() throws {
        let dir = try makeTemporaryDirectory()
        let file = dir.appendingPathComponent("squeeze.onnx")
        let result = try runFovea(["export", "--model", "squeezenet1.1", "--input", "3x32x32", "--classes", "4", "--output", file.path])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("ONNX opset 13"), result.stdout)
        XCTAssertTrue(result.stdout.contains("[N, 3, 32, 32]") && result.stdout.contains("[N, 4]"), result.stdout)
        let model = try ONNXImporter.load(contentsOf: file)
        XCTAssertEqual(try model(Tensor(zeros: [2, 3, 32, 32])).shape, [2, 4])
        let proto = try Onnx_ModelProto(serializedBytes: try Data(contentsOf: file))
        XCTAssertEqual(proto.metadataProps.first { $0.key == "model" }?.value, "squeezenet1.1")
    }

    func testExportsTrainedWeightsBesideTheCheckpoint() throws {
        let dir = try makeTemporaryDirectory()
        let train = try runFovea(["train", "--train-images", "600", "--test-images", "100", "--quiet", "--no-report", "--output", dir.path])
        XCTAssertEqual(train.status, 0, train.stderr)
        let weights = dir.appendingPathComponent("model.safetensors")
        let result = try runFovea(["export", "--weights", weights.path])
        XCTAssertEqual(result.status, 0, result.stderr)
        let file = dir.appendingPathComponent("model.onnx")
        XCTAssertTrue(result.stdout.contains(file.path), result.stdout)
        let model = try ONNXImporter.load(contentsOf: file)
        XCTAssertEqual(model.namedParameters().map(\.name).first, "conv1.weight")
        XCTAssertEqual(try model(Tensor(zeros: [1, 1, 28, 28])).shape, [1, 10])
    }

    func testBadArgumentsFailWithOneLine() throws {
        try assertFails(["export"], mentioning: ["--weights", "--model"])
        try assertFails(["export", "--model", "lenet5", "--format", "tflite"], mentioning: ["tflite"])
        try assertFails(["export", "--model", "nosuchnet"], mentioning: ["nosuchnet"])
        try assertFails(["export", "--weights", "/nonexistent/model.safetensors"], mentioning: ["/nonexistent/model.safetensors"])
    }
}
