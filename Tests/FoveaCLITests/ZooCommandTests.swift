import Datasets
import Foundation
import FoveaTestSupport
import XCTest

/// `fovea summary`, `fovea models`, and `fovea train` with zoo models on MNIST.
final class ZooCommandTests: XCTestCase {
    func testSummaryOfResNet50MatchesTorchvision() throws {
        let result = try runFovea(["summary", "resnet50"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let out = result.stdout
        XCTAssertTrue(out.contains("layer4.2.conv3 (Conv2D)"), out)
        XCTAssertTrue(out.contains("Total params: 25,557,032"), out)
        XCTAssertTrue(out.contains("Total MACs: 4,089,184,256 (4.09 G)"), out)
        XCTAssertTrue(out.contains("Input: 3x224x224; output: 1000"), out)
        XCTAssertTrue(out.contains("Buffers (running statistics):"), out)
    }

    func testSummaryAtAnotherInputAndClassCount() throws {
        let result = try runFovea(["summary", "vgg11", "--input", "1x32x32", "--classes", "10"])
        XCTAssertEqual(result.status, 0, result.stderr)
        // features.0: 1 -> 64 filters of 3x3 (576 + 64 parameters), 64x32x32 outputs x 9 MACs each.
        let row = try XCTUnwrap(result.stdout.split(separator: "\n").first { $0.hasPrefix("features.0 (Conv2D)") })
        XCTAssertTrue(row.contains("64x32x32"), String(row))
        XCTAssertTrue(row.contains("640"), String(row))
        XCTAssertTrue(row.contains("589,824"), String(row))
        XCTAssertTrue(result.stdout.contains("Input: 1x32x32; output: 10"), result.stdout)
    }

    func testSummaryErrorsAreOneLine() throws {
        try assertFails(["summary", "resnet19"], mentioning: ["resnet19", "known models"])
        try assertFails(["summary", "alexnet", "--input", "3x40x40"], mentioning: ["alexnet", "63x63", "40x40"])
        try assertFails(["summary", "vgg11", "--input", "3x224x224x1"], mentioning: ["--input", "CxHxW"])
        try assertFails(["summary", "vgg11", "--input", "axbxc"], mentioning: ["'axbxc'"])
        try assertFails(["summary", "resnet18", "--classes", "0"], mentioning: ["--classes"])
        // Issue 29 finding 7: sizes that overflowed (a trap) or asked for many GB.
        try assertFails(["summary", "lenet5", "--input", "1x4000000000x4000000000"], mentioning: ["--input", "4000000000", "8192"])
        try assertFails(["summary", "lenet5", "--classes", "1000000000"], mentioning: ["--classes", "1000000000", "100000"])
        try assertFails(["summary", "lenet5", "--classes", "99999999999999999999"], mentioning: ["--classes"])
        try assertFails(["export", "--model", "lenet5", "--input", "1x100000x100000"], mentioning: ["--input", "100000"])
    }

    func testModelsListsTheZoo() throws {
        let result = try runFovea(["models"])
        XCTAssertEqual(result.status, 0, result.stderr)
        for name in ["lenet5", "alexnet", "zfnet", "vgg19-bn", "googlenet", "inception-v3", "resnet152", "resnet18-cifar",
                     "densenet201", "squeezenet1.1", "shufflenet-v2", "mobilenet-v2"] {
            XCTAssertTrue(result.stdout.contains("\n\(name)") || result.stdout.hasPrefix(name), name)
        }
    }

    /// The two runs, kept short: the CIFAR ResNet-18 on MNIST padded to 1x32x32 by
    /// default, and VGG-11 with `--input 1x32x32`; both write weights that `fovea predict`
    /// uses on a 28x28 digit (padded the same way).
    func testZooModelsTrainOnMNISTAndPredict() throws {
        let folder = try makeTemporaryDirectory()
        for (model, extra) in [("resnet18-cifar", [String]()), ("vgg11", ["--input", "1x32x32"])] {
            let out = folder.appendingPathComponent(model)
            let result = try runFovea(["train", "--model", model, "--train-images", "96", "--test-images", "32",
                                       "--batch-size", "32", "--output", out.path] + extra)
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertTrue(result.stdout.contains("Input: 1x32x32, digits padded from 1x28x28"), result.stdout)
            let data = try Data(contentsOf: out.appendingPathComponent("metrics.json"))
            let m = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
            XCTAssertEqual(m["model"] as? String, model)
            XCTAssertEqual(m["input"] as? String, "1x32x32")
            XCTAssertTrue((m["train_loss"] as? Double)?.isFinite == true)

            let test = try MNIST.load(split: .test, from: bundledMNISTDirectory).subset([0])
            let png = folder.appendingPathComponent("digit.png")
            try PNG.write(Image(tensor: test.images), to: png)
            let predicted = try runFovea(["predict", "--weights", out.appendingPathComponent("model.safetensors").path, png.path])
            XCTAssertEqual(predicted.status, 0, predicted.stderr)
            XCTAssertEqual(predicted.stdout.split(separator: "\n").count, 11, predicted.stdout)
        }
    }

    func testTrainInputErrors() throws {
        try assertFails(["train", "--model", "alexnet", "--input", "1x32x32"], mentioning: ["--input 1x32x32", "63x63"])
        try assertFails(["train", "--model", "resnet18", "--fit", "stretch"], mentioning: ["--fit", "stretch"])
        try assertFails(["train", "--model", "resnet18", "--input", "1x20x20", "--fit", "pad", "--train-images", "10"],
                        mentioning: ["pad", "20x20"])
        try assertFails(["train", "--test-images", "0"], mentioning: ["--test-images"])
    }
}
