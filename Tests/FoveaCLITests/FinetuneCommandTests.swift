import Datasets
import Interop
import Foundation
import FoveaTestSupport
import XCTest

/// `fovea finetune`: pretrained weights, frozen layers, a new head.
final class FinetuneCommandTests: XCTestCase {
    /// LeNet-5 trained one epoch on MNIST (the main job), shared by the tests.
    static let pretrained: Result<URL, Error> = Result {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fovea-finetune-\(UUID().uuidString)")
        let result = try runFovea(["train", "--threads", "2", "--quiet", "--no-report", "--output", dir.path])
        guard result.status == 0 else { throw NSError(domain: "pretraining failed: \(result.stderr)", code: 1) }
        return dir.appendingPathComponent("model.safetensors")
    }

    /// The bar: frozen, with a new head, fine-tuned on 1,000 Fashion-MNIST images, it
    /// beats the same network trained from scratch on those images (the README's command).
    func testFineTuningFromMNISTBeatsScratchOnAThousandFashionImages() throws {
        guard (try? FashionMNIST.defaultDirectory()) != nil else {
            throw XCTSkip("Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist); skipped")
        }
        let weights = try Self.pretrained.get()
        let out = try makeTemporaryDirectory().appendingPathComponent("tuned")
        let result = try runFovea(["finetune", "--weights", weights.path, "--freeze", "conv1", "--dataset", "fashion-mnist",
                                   "--train-images", "1000", "--epochs", "10", "--threads", "2", "--no-report", "--quiet",
                                   "--output", out.path, "--compare-scratch"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let line = try XCTUnwrap(result.stdout.split(separator: "\n").last { $0.hasPrefix("Fine-tuned: ") }, result.stdout)
        let numbers = line.split(whereSeparator: { !"0123456789.".contains($0) }).compactMap { Double($0) }
        XCTAssertGreaterThanOrEqual(numbers.count, 2, String(line))
        XCTAssertGreaterThan(numbers[0], numbers[1], "fine-tuned beats scratch: \(line)")
        let tuned = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("metrics.json"))) as? [String: Any])
        let scratch = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out.path + "-scratch/metrics.json"))) as? [String: Any])
        XCTAssertEqual(try XCTUnwrap(tuned["test_accuracy"] as? Double) * 100, numbers[0], accuracy: 0.006)
        XCTAssertEqual(try XCTUnwrap(scratch["test_accuracy"] as? Double) * 100, numbers[1], accuracy: 0.006)
        XCTAssertTrue((tuned["techniques"] as? String)?.contains("conv1 frozen") == true)
    }

    /// Ten digit classes to six AOI classes: the head is replaced, the body kept, conv1 frozen
    /// (its weights end exactly as loaded), and the checkpoint records its origin.
    func testNewHeadForAnotherClassCount() throws {
        let weights = try Self.pretrained.get()
        let root = try makeTemporaryDirectory()
        let aoi = root.appendingPathComponent("aoi"), out = root.appendingPathComponent("run")
        XCTAssertEqual(try runFovea(["data", "synth-aoi", "--out", aoi.path, "--per-class", "20", "--size", "28"]).status, 0)
        let result = try runFovea(["finetune", "--weights", weights.path, "--data", aoi.path, "--freeze", "conv1", "--head-lr", "0.05",
                                   "--classes", "6", "--epochs", "2", "--no-report", "--output", out.path])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("8 of 10 tensors loaded, skipped fc3.weight ([10, 84] in the weights, [6, 84] here), fc3.bias ([10] in the weights, [6] here); new head fc3.weight, fc3.bias at lr 0.05; frozen conv1 (2 tensors)"), result.stdout)
        let before = try Safetensors.read(from: weights), after = try Safetensors.read(from: out.appendingPathComponent("model.safetensors"))
        let old = Dictionary(before.tensors, uniquingKeysWith: { a, _ in a }), new = Dictionary(after.tensors, uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(new["conv1.weight"]?.values, old["conv1.weight"]?.values, "frozen conv1 is unchanged")
        XCTAssertNotEqual(new["conv2.weight"]?.values, old["conv2.weight"]?.values, "conv2 trained")
        XCTAssertEqual(new["fc3.weight"]?.shape, [6, 84])
        XCTAssertEqual(after.metadata["pretrained"], weights.path)
    }

    func testFinetuneErrors() throws {
        let weights = try Self.pretrained.get()
        try assertFails(["finetune", "--dataset", "fashion-mnist"], mentioning: ["--weights"])
        try assertFails(["train", "--freeze", "conv1"], mentioning: ["--freeze", "--weights"])
        try assertFails(["finetune", "--weights", weights.path, "--freeze", "features", "--train-images", "100", "--test-images", "100"],
                        mentioning: ["'features'", "conv1", "fc3"])
        try assertFails(["finetune", "--weights", weights.path, "--classes", "4", "--train-images", "100", "--test-images", "100"],
                        mentioning: ["--classes 4", "10 classes"])
        try assertFails(["finetune", "--weights", weights.path, "--model", "alexnet", "--train-images", "100", "--test-images", "100"],
                        mentioning: ["none of the", "tensors", "--model"])
    }
}
