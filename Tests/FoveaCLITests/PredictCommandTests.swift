import Datasets
import Foundation
import TensorCore
import Interop
import FoveaTestSupport
import XCTest

/// `fovea predict` on weights from a short `fovea train` run.
final class PredictCommandTests: XCTestCase {
    /// Trains on 6,000 images (about a second) and returns the weights file.
    func quickWeights() throws -> URL {
        let out = try makeTemporaryDirectory()
        let result = try runFovea(["train", "--train-images", "6000", "--quiet", "--output", out.path])
        XCTAssertEqual(result.status, 0, result.stderr)
        return out.appendingPathComponent("model.safetensors")
    }

    /// Writes MNIST test image `index` as a 28x28 8-bit grey PNG; returns it and its label.
    func testDigit(_ index: Int, in folder: URL) throws -> (URL, Int) {
        let test = try MNIST.load(split: .test, from: bundledMNISTDirectory).subset([index])
        let image = try Image(tensor: test.images)
        let url = folder.appendingPathComponent("digit\(index).png")
        try PNG.write(image, to: url)
        return (url, test.labels[0])
    }

    func testPredictNamesTheDigitAndPrintsEveryProbability() throws {
        let weights = try quickWeights()
        let folder = try makeTemporaryDirectory()
        for index in [0, 1, 2] {
            let (png, label) = try testDigit(index, in: folder)
            let result = try runFovea(["predict", "--weights", weights.path, png.path])
            XCTAssertEqual(result.status, 0, result.stderr)
            let lines = result.stdout.split(separator: "\n").map(String.init)
            XCTAssertEqual(lines.count, 11, result.stdout)
            XCTAssertTrue(lines[0].contains(": \(label) ("), "test image \(index) is a \(label): \(lines[0])")
            let probabilities = lines.dropFirst().map { line -> Double in
                let fields = line.split(separator: " ")
                return Double(fields[1]) ?? -1
            }
            XCTAssertEqual(probabilities.reduce(0, +), 1, accuracy: 1e-4)
            XCTAssertEqual(probabilities, probabilities.sorted(by: >))
        }
        let (png, _) = try testDigit(0, in: folder)
        let top = try runFovea(["predict", "--weights", weights.path, "--top", "3", png.path])
        XCTAssertEqual(top.stdout.split(separator: "\n").count, 4, top.stdout)
    }

    func testBadInputsGiveOneLine() throws {
        let folder = try makeTemporaryDirectory()
        let weights = try quickWeights()
        let (digit, _) = try testDigit(0, in: folder)

        let large = folder.appendingPathComponent("large.png")
        try PNG.write(Image(width: 32, height: 30, channels: 1, pixels: [Float](repeating: 0.5, count: 960)), to: large)
        try assertFails(["predict", "--weights", weights.path, large.path], mentioning: ["large.png", "32x30", "28x28"])

        let text = folder.appendingPathComponent("notes.png")
        try Data("not an image".utf8).write(to: text)
        try assertFails(["predict", "--weights", weights.path, text.path], mentioning: ["notes.png", "not a PNG"])

        let truncated = folder.appendingPathComponent("truncated.png")
        try Data(contentsOf: digit).prefix(40).write(to: truncated)
        try assertFails(["predict", "--weights", weights.path, truncated.path], mentioning: ["truncated.png"])

        try assertFails(["predict", "--weights", folder.appendingPathComponent("none.safetensors").path, digit.path],
                        mentioning: ["none.safetensors"])
        try assertFails(["predict", "--weights", digit.path, digit.path], mentioning: [digit.lastPathComponent])
        try assertFails(["predict", "--weights", weights.path, folder.appendingPathComponent("missing.png").path],
                        mentioning: ["missing.png"])
        try assertFails(["predict", digit.path], mentioning: ["--weights"])
        try assertFails(["predict", "--weights", weights.path, "--top", "0", digit.path], mentioning: ["--top"])
    }

    /// Issue 29 finding 6: weights holding NaN trapped `fovea predict` ("Float value cannot
    /// be converted to Int"); they are refused naming the tensor. Finite weights whose
    /// outputs overflow give one error line too.
    func testNonFiniteWeightsGiveOneLine() throws {
        let folder = try makeTemporaryDirectory()
        let weights = try quickWeights()
        let (digit, _) = try testDigit(0, in: folder)
        let (tensors, metadata) = try Safetensors.read(from: weights)
        func rewritten(_ name: String, _ change: (String, Tensor) -> Void) throws -> URL {
            let copies = tensors.map { ($0.name, $0.tensor.detached()) }
            for (n, t) in copies { change(n, t) }
            let url = folder.appendingPathComponent(name)
            try Safetensors.write(copies, metadata: metadata, to: url)
            return url
        }
        let nan = try rewritten("nan.safetensors") { name, t in if name == "fc2.weight" { t.pointer[5] = .nan } }
        try assertFails(["predict", "--weights", nan.path, digit.path], mentioning: ["nan.safetensors", "NaN", "'fc2.weight' (1 of"])
        let huge = try rewritten("huge.safetensors") { name, t in
            switch name {
            case "fc2.weight": t.pointer.update(repeating: 0, count: t.count)
            case "fc2.bias": t.pointer.update(repeating: 1, count: t.count)
            case "fc3.weight": t.pointer.update(repeating: 3e38, count: t.count)
            default: break
            }
        }
        try assertFails(["predict", "--weights", huge.path, digit.path], mentioning: ["NaN or infinite"])
    }
}
