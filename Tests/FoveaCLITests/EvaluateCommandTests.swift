import Datasets
import Foundation
import FoveaTestSupport
import XCTest

/// `fovea train`'s report, `fovea evaluate` and `fovea visualize` on a short run.
final class EvaluateCommandTests: XCTestCase {
    /// Trains on 3,000 images for two epochs, testing on 500; returns the run folder.
    func quickRun() throws -> URL {
        let out = try makeTemporaryDirectory().appendingPathComponent("run")
        let result = try runFovea(["train", "--train-images", "3000", "--test-images", "500", "--epochs", "2", "--quiet", "--output", out.path])
        XCTAssertEqual(result.status, 0, result.stderr)
        return out
    }

    func testTrainLeavesTheReportAndHistoryInMetrics() throws {
        let run = try quickRun()
        for name in ["report.html", "curves.svg", "confusion_matrix.svg", "roc.svg", "pr.svg", "misclassified.svg", "filters.png",
                     "saliency.png", "gradcam.png", "evaluation.json", "per_class.csv", "feature_maps/01-conv1.png"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: run.appendingPathComponent(name).path), name)
        }
        let metrics = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: run.appendingPathComponent("metrics.json"))) as? [String: Any])
        let history = try XCTUnwrap(metrics["history"] as? [[String: Any]])
        XCTAssertEqual(history.map { $0["epoch"] as? Int }, [1, 2])
        for key in ["train_loss", "train_accuracy", "test_loss", "test_accuracy", "learning_rate", "seconds"] {
            XCTAssertNotNil(history[1][key] as? Double, key)
        }
        XCTAssertTrue(history[1]["val_loss"] is NSNull, "no validation split, null")
        XCTAssertEqual(history[1]["test_accuracy"] as? Double, metrics["test_accuracy"] as? Double)
        let evaluation = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: run.appendingPathComponent("evaluation.json"))) as? [String: Any])
        XCTAssertEqual(evaluation["accuracy"] as? Double ?? -1, metrics["test_accuracy"] as? Double ?? -2, accuracy: 1e-9)

        let skipped = try makeTemporaryDirectory().appendingPathComponent("plain")
        let result = try runFovea(["train", "--train-images", "500", "--test-images", "100", "--quiet", "--no-report", "--output", skipped.path])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: skipped.appendingPathComponent("report.html").path))
    }

    func testEvaluatePrintsTheMetricsAndWritesThePictures() throws {
        let run = try quickRun()
        let out = try makeTemporaryDirectory().appendingPathComponent("eval")
        let result = try runFovea(["evaluate", "--weights", run.appendingPathComponent("model.safetensors").path,
                                   "--test-images", "400", "--output", out.path, "--sample", "5"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines[0].hasPrefix("lenet5 on mnist: 400 test images"), lines[0])
        XCTAssertTrue(lines[1].hasPrefix("accuracy: "), lines[1])
        for key in ["top2_accuracy", "top5_accuracy", "macro_auc", "weighted_auc"] { XCTAssertTrue(lines[1].contains(key), key) }
        XCTAssertTrue(result.stdout.contains("macro avg") && result.stdout.contains("weighted avg"), result.stdout)
        XCTAssertTrue(result.stdout.contains("Wrote "), result.stdout)
        let evaluation = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("evaluation.json"))) as? [String: Any])
        XCTAssertEqual(evaluation["images"] as? Int, 400)
        let accuracy = try XCTUnwrap(evaluation["accuracy"] as? Double)
        XCTAssertTrue(lines[1].hasPrefix(String(format: "accuracy: %.4f", accuracy)), lines[1])
        XCTAssertGreaterThan(accuracy, 0.8)
        let html = try String(contentsOf: out.appendingPathComponent("report.html"), encoding: .utf8)
        XCTAssertTrue(html.contains("image #5"), "the chosen sample")
    }

    func testVisualizeWritesMapsForOneImage() throws {
        let run = try quickRun()
        let test = try MNIST.load(split: .test, from: bundledMNISTDirectory).subset([0])
        let folder = try makeTemporaryDirectory()
        let png = folder.appendingPathComponent("digit.png")
        try PNG.write(try Image(tensor: test.images), to: png)
        let weights = run.appendingPathComponent("model.safetensors").path

        let out = folder.appendingPathComponent("vis")
        let result = try runFovea(["visualize", "--weights", weights, "--image", png.path, "--output", out.path])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.hasPrefix("\(png.path): \(test.labels[0]) ("), result.stdout)
        for name in ["filters.png", "saliency.png", "gradcam.png", "visualize.html", "feature_maps/01-conv1.png", "feature_maps/02-pool.png",
                     "feature_maps/03-conv2.png", "feature_maps/04-pool-call-2.png"] {
            XCTAssertNoThrow(try Data(contentsOf: out.appendingPathComponent(name)), name)
        }
        let conv1 = try PNG.read(contentsOf: out.appendingPathComponent("feature_maps/01-conv1.png"))
        XCTAssertEqual(conv1.width, 3 * 56 + 4 * 2, "6 maps of 28x28 enlarged twice in 3 columns")

        let one = folder.appendingPathComponent("one")
        let layer = try runFovea(["visualize", "--weights", weights, "--image", png.path, "--layer", "conv2", "--class", "3", "--output", one.path])
        XCTAssertEqual(layer.status, 0, layer.stderr)
        XCTAssertTrue(layer.stdout.contains("feature_maps/01-conv2.png"), layer.stdout)
        XCTAssertFalse(layer.stdout.contains("conv1.png"), layer.stdout)
        let html = try String(contentsOf: one.appendingPathComponent("visualize.html"), encoding: .utf8)
        XCTAssertTrue(html.contains("Grad-CAM at conv2, class 3"), "Grad-CAM at the chosen layer for the chosen class")

        try assertFails(["visualize", "--weights", weights, "--image", png.path, "--layer", "conv7"], mentioning: ["--layer 'conv7'", "conv1, conv2"])
        try assertFails(["visualize", "--weights", weights, "--image", png.path, "--class", "10"], mentioning: ["--class 10", "0..<10"])
        try assertFails(["visualize", "--weights", weights, "--image", folder.appendingPathComponent("missing.png").path], mentioning: ["missing.png"])
    }

    func testBadEvaluateArgumentsAreOneLineErrors() throws {
        let folder = try makeTemporaryDirectory()
        try assertFails(["evaluate", "--weights", folder.appendingPathComponent("none.safetensors").path], mentioning: ["none.safetensors"])
        try assertFails(["evaluate", "--weights", "x", "--dataset", "cifar"], mentioning: ["--dataset", "cifar"])
        try assertFails(["evaluate", "--weights", "x", "--test-images", "0"], mentioning: ["--test-images", "0"])
        let run = try makeTemporaryDirectory().appendingPathComponent("r")
        XCTAssertEqual(try runFovea(["train", "--train-images", "300", "--test-images", "50", "--quiet", "--no-report", "--output", run.path]).status, 0)
        try assertFails(["evaluate", "--weights", run.appendingPathComponent("model.safetensors").path, "--test-images", "20", "--sample", "20"],
                        mentioning: ["--sample 20", "20 test images"])
        try assertFails(["evaluate", "--weights", run.appendingPathComponent("model.safetensors").path, "--data-dir", folder.path],
                        mentioning: [folder.path])
        // Five test images (7, 2, 1, 0, 4) leave classes out: no one-vs-rest ROC, said once, the rest written.
        let few = try runFovea(["evaluate", "--weights", run.appendingPathComponent("model.safetensors").path, "--test-images", "5",
                                "--output", folder.appendingPathComponent("few").path])
        XCTAssertEqual(few.status, 0, few.stderr)
        XCTAssertTrue(few.stdout.contains("ROC and precision-recall curves not drawn: "), few.stdout)
        let html = try String(contentsOf: folder.appendingPathComponent("few/report.html"), encoding: .utf8)
        XCTAssertTrue(html.contains("<h2>Confusion matrix</h2>") && html.contains("Not drawn: "))
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("few/roc.svg").path))
    }
}
