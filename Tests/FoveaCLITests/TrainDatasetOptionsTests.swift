import Datasets
import Foundation
import FoveaTestSupport
import XCTest

/// `fovea train --dataset fashion-mnist`, the imbalanced-set options and background prefetching.
final class TrainDatasetOptionsTests: XCTestCase {
    func metrics(_ folder: URL) throws -> [String: Any] {
        let data = try Data(contentsOf: folder.appendingPathComponent("metrics.json"))
        return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// The bar: a CNN on Fashion-MNIST reaches 90% test accuracy (LeNet-5, 6 epochs).
    func testFashionMNISTReaches90Percent() throws {
        guard let directory = try? FashionMNIST.defaultDirectory() else {
            throw XCTSkip("Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist, or `fovea data download fashion-mnist`); skipped")
        }
        let out = try makeTemporaryDirectory().appendingPathComponent("run")
        let result = try runFovea(["train", "--dataset", "fashion-mnist", "--epochs", "6", "--threads", "2", "--no-report", "--output", out.path])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("Fashion-MNIST: 60000 training and 10000 test images from \(directory.path) (SHA-256 verified)"), result.stdout)
        let m = try metrics(out)
        XCTAssertEqual(m["dataset"] as? String, "fashion-mnist")
        XCTAssertEqual(m["classes"] as? [String], FashionMNIST.classNames)
        let accuracy = try XCTUnwrap(m["test_accuracy"] as? Double)
        XCTAssertGreaterThanOrEqual(accuracy, 0.90, "Fashion-MNIST test accuracy")
        // The checkpoint remembers its data set, so evaluate picks the right test set.
        let evaluation = try runFovea(["evaluate", "--weights", out.appendingPathComponent("model.safetensors").path, "--test-images", "500",
                                       "--output", out.appendingPathComponent("eval").path])
        XCTAssertEqual(evaluation.status, 0, evaluation.stderr)
        XCTAssertTrue(evaluation.stdout.contains("Ankle boot"), evaluation.stdout)
    }

    /// An imbalanced AOI set: the void class cut to 4 images of 24.
    func imbalancedAOI() throws -> URL {
        let root = try makeTemporaryDirectory().appendingPathComponent("aoi")
        let made = try runFovea(["data", "synth-aoi", "--out", root.path, "--per-class", "24", "--size", "32"])
        XCTAssertEqual(made.status, 0, made.stderr)
        let void = root.appendingPathComponent("1_void")
        let files = try FileManager.default.contentsOfDirectory(atPath: void.path).sorted()
        for name in files.dropFirst(4) { try FileManager.default.removeItem(at: void.appendingPathComponent(name)) }
        return root
    }

    func testClassWeightsAndBalancedSamplerOnAnImbalancedSet() throws {
        let root = try imbalancedAOI()
        let out = try makeTemporaryDirectory()
        let weighted = try runFovea(["train", "--data", root.path, "--epochs", "1", "--class-weights", "balanced", "--no-report",
                                     "--output", out.appendingPathComponent("weighted").path])
        XCTAssertEqual(weighted.status, 0, weighted.stderr)
        // 124 images; the stratified 0.2 split holds out round(4.8) = 5 per full class and
        // round(0.8) = 1 void, leaving 19 and 3 for training, N = 98: weights N / (6 x count)
        // = 98 / 114 = 0.860 for the full classes and 98 / 18 = 5.44 for void.
        let line = try XCTUnwrap(weighted.stdout.split(separator: "\n").first { $0.hasPrefix("Class weights: ") }, weighted.stdout)
        XCTAssertTrue(line.contains("0_normal 0.86,"), String(line))
        XCTAssertTrue(line.contains("1_void 5.44,"), String(line))
        XCTAssertEqual(try metrics(out.appendingPathComponent("weighted"))["techniques"] as? String, "class weights balanced")

        let explicit = try runFovea(["train", "--data", root.path, "--epochs", "1", "--class-weights", "1,4,1,1,1,1", "--balanced-sampler",
                                     "--prefetch", "0", "--quiet", "--no-report", "--output", out.appendingPathComponent("sampled").path])
        XCTAssertEqual(explicit.status, 0, explicit.stderr)
        let m = try metrics(out.appendingPathComponent("sampled"))
        XCTAssertEqual(m["techniques"] as? String, "class weights 1,4,1,1,1,1, balanced sampler")
        let history = try XCTUnwrap(m["history"] as? [[String: Any]])
        XCTAssertNotNil(history.first?["data_wait_seconds"] as? Double, "the wait for data is recorded per epoch")
    }

    func testBadDatasetOptionsGiveOneLine() throws {
        let root = try imbalancedAOI()
        try assertFails(["train", "--dataset", "cifar-7"], mentioning: ["--dataset", "cifar-7", "mnist", "fashion-mnist"])
        try assertFails(["train", "--data", root.path, "--dataset", "fashion-mnist"], mentioning: ["--data", "--dataset"])
        try assertFails(["train", "--class-weights", "heavy"], mentioning: ["--class-weights", "heavy", "balanced"])
        try assertFails(["train", "--class-weights", "1,-2"], mentioning: ["--class-weights", "1,-2"])
        try assertFails(["train", "--data", root.path, "--class-weights", "1,2,3", "--epochs", "1"],
                        mentioning: ["3 weights", "6 classes", "1_void"])
        try assertFails(["train", "--prefetch=-1"], mentioning: ["--prefetch", "-1"])
        let missing = try makeTemporaryDirectory().path
        try assertFails(["train", "--dataset", "fashion-mnist", "--data-dir", missing], mentioning: [missing])
    }
}
