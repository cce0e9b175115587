import Datasets
import Foundation
import FoveaTestSupport
import Interop
import Models
import NN
import TensorCore
import Training
import XCTest

final class ClassifierTests: XCTestCase {
    let metadata = ["model": "lenet5", "input": "1x28x28", "classes": "10",
                    "class_names": "zero,one,two,three,four,five,six,seven,eight,nine",
                    "normalize_mean": "0.5", "normalize_std": "0.25"]

    func saved(_ net: Layer, metadata: [String: String]) throws -> URL {
        let url = try makeTemporaryDirectory().appendingPathComponent("model.safetensors")
        try Checkpoint.save(net, metadata: metadata, to: url)
        return url
    }

    func testProbabilitiesMatchTheNetworkOnNormalisedPixels() throws {
        GlobalRandom.seed(4)
        let net = try LeNet5()
        let classifier = try Classifier(contentsOf: saved(net, metadata: metadata))
        XCTAssertEqual(classifier.modelName, "lenet5")
        XCTAssertEqual(classifier.classNames[7], "seven")
        XCTAssertEqual(classifier.inputSize, Size2D(28, 28))

        var g = SeededGenerator(seed: 9)
        let pixels = (0..<784).map { _ in Float(g.next() % 256) / 255 }
        let image = try Image(width: 28, height: 28, channels: 1, pixels: pixels)
        let p = try classifier.probabilities(of: image)
        XCTAssertEqual(p.reduce(0, +), 1, accuracy: 1e-5)

        net.eval()
        let x = try Tensor(shape: [1, 1, 28, 28], values: pixels.map { ($0 - 0.5) / 0.25 })
        let expected = try withNoGrad { try net(x).softmax(axis: 1) }
        assertClose(p, expected.values, rtol: 1e-5, atol: 1e-6)

        let top = try classifier.top(3, of: image)
        XCTAssertEqual(top.count, 3)
        let best = p.indices.max { p[$0] < p[$1] }!
        XCTAssertEqual(top[0].name, classifier.classNames[best])
        XCTAssertGreaterThanOrEqual(top[0].probability, top[1].probability)
        XCTAssertGreaterThanOrEqual(top[1].probability, top[2].probability)
    }

    func testCheckpointWithoutModelMetadataIsRejected() throws {
        let url = try saved(LeNet5(), metadata: ["input": "1x28x28"])
        XCTAssertThrowsError(try Classifier(contentsOf: url)) { error in
            XCTAssertEqual(error as? ClassifierError, .missingMetadata(path: url.path, key: "model"))
            XCTAssertTrue("\(error)".contains("'model'"))
        }
    }

    func testBadInputMetadataIsQuoted() throws {
        var meta = metadata
        meta["input"] = "28x28"
        let url = try saved(LeNet5(), metadata: meta)
        XCTAssertThrowsError(try Classifier(contentsOf: url)) { error in
            XCTAssertTrue("\(error)".contains("'28x28'"), "\(error)")
        }
    }

    func testWeightsOfAnotherShapeAreRejected() throws {
        var meta = metadata
        meta["classes"] = "5"
        let url = try saved(LeNet5(), metadata: meta)   // a 10-class network labelled as 5 classes
        XCTAssertThrowsError(try Classifier(contentsOf: url)) { error in
            XCTAssertTrue(error is LayerError, "\(error)")
        }
    }

    func testWrongImageSizeIsRejected() throws {
        let classifier = try Classifier(contentsOf: saved(LeNet5(), metadata: metadata))
        let image = try Image(width: 32, height: 32, channels: 1, pixels: [Float](repeating: 0, count: 1024))
        XCTAssertThrowsError(try classifier.probabilities(of: image)) { error in
            XCTAssertTrue("\(error)".contains("32x32, expected 28x28"), "\(error)")
        }
        XCTAssertThrowsError(try classifier.probabilities(Tensor(zeros: [2, 3, 28, 28])))
    }

    // MARK: issue 29 finding 6: NaN and infinities

    /// Weights holding NaN once loaded, and every prediction then trapped converting NaN to
    /// Int (`fovea predict`) or answered 500 (the server): they are refused at load time,
    /// naming each tensor and its count of bad values.
    func testNonFiniteWeightsAreRefusedNamingTheTensors() throws {
        let net = try LeNet5()
        net.conv1.weight.pointer[0] = .nan
        net.conv1.weight.pointer[7] = -.nan
        net.fc1.weight.pointer[3] = .nan
        net.fc3.bias!.pointer[9] = .infinity
        let url = try saved(net, metadata: metadata)
        XCTAssertThrowsError(try Classifier(contentsOf: url)) { error in
            XCTAssertEqual(error as? ClassifierError, .nonFiniteWeights(path: url.path, tensors: [
                "'conv1.weight' (2 of 150 values)", "'fc1.weight' (1 of 48000 values)", "'fc3.bias' (1 of 10 values)"]))
            let text = "\(error)"
            for needle in [url.path, "NaN", "conv1.weight", "2 of 150"] { XCTAssertTrue(text.contains(needle), text) }
        }
    }

    func testNonFiniteOrZeroNormalisationIsRefused() throws {
        for (key, value) in [("normalize_std", "0"), ("normalize_std", "inf"), ("normalize_mean", "nan")] {
            var meta = metadata
            meta[key] = value
            let url = try saved(LeNet5(), metadata: meta)
            XCTAssertThrowsError(try Classifier(contentsOf: url)) { error in
                guard case .badMetadata(_, key, value, _)? = error as? ClassifierError else { return XCTFail("\(error)") }
            }
        }
    }

    /// Finite weights so large that the logits overflow give NaN probabilities: the image
    /// is answered with an error, not a ranking of NaN.
    func testOverflowingOutputIsAnError() throws {
        let net = try LeNet5()
        net.fc2.weight.pointer.update(repeating: 0, count: net.fc2.weight.count)
        net.fc2.bias!.pointer.update(repeating: 1, count: 84)
        net.fc3.weight.pointer.update(repeating: 3e38, count: net.fc3.weight.count)
        let classifier = try Classifier(contentsOf: saved(net, metadata: metadata))
        let image = try Image(width: 28, height: 28, channels: 1, pixels: [Float](repeating: 0.5, count: 784))
        XCTAssertThrowsError(try classifier.top(3, of: image)) { error in
            XCTAssertEqual(error as? ClassifierError, .nonFiniteOutput(count: 10, classes: 10))
        }
    }

    // MARK: issue 29 finding 7: sizes from the metadata

    /// `input` 1x4000000000x4000000000 trapped on overflow building LeNet-5, and a huge
    /// `classes` tried to allocate its dense layer: both are refused before any allocation.
    func testHugeMetadataSizesAreRefused() throws {
        let cases = [("input", "1x4000000000x4000000000"), ("input", "2000x28x28"), ("input", "1x28x9000"),
                     ("classes", "4000000000"), ("classes", "\(ModelZoo.maxClasses + 1)"), ("classes", "99999999999999999999")]
        for (key, value) in cases {
            var meta = metadata
            meta[key] = value
            let url = try saved(LeNet5(), metadata: meta)
            XCTAssertThrowsError(try Classifier(contentsOf: url), "\(key) \(value)") { error in
                guard case .badMetadata(_, key, value, _)? = error as? ClassifierError else { return XCTFail("\(error)") }
                XCTAssertTrue("\(error)".contains("'\(value)'"), "\(error)")
            }
        }
    }

    func testAModelInMemoryServesAsAClassifier() throws {
        GlobalRandom.seed(4)
        let net = try LeNet5()
        let classifier = try Classifier(model: net, name: "my-lenet", classNames: (0..<10).map { "c\($0)" },
                                        inputChannels: 1, inputSize: Size2D(28, 28), mean: [0.5], std: [0.25])
        XCTAssertEqual(classifier.modelName, "my-lenet")
        XCTAssertEqual(classifier.classNames[3], "c3")
        XCTAssertEqual(classifier.mean, [0.5])
        XCTAssertNil(classifier.fitMode)
        XCTAssertFalse(net.isTraining)

        var g = SeededGenerator(seed: 9)
        let pixels = (0..<784).map { _ in Float(g.next() % 256) / 255 }
        let p = try classifier.probabilities(of: Image(width: 28, height: 28, channels: 1, pixels: pixels))
        let x = try Tensor(shape: [1, 1, 28, 28], values: pixels.map { ($0 - 0.5) / 0.25 })
        let expected = try withNoGrad { try net(x).softmax(axis: 1) }.values
        for (a, b) in zip(p, expected) { XCTAssertEqual(a, b, accuracy: 1e-5) }
    }

    func testAModelInMemoryWithBadSettingsIsRefused() throws {
        let net = try LeNet5()
        func make(names: [String] = ["a", "b"], channels: Int = 1, mean: [Float] = [0], std: [Float] = [1]) throws -> Classifier {
            try Classifier(model: net, name: "net", classNames: names, inputChannels: channels, inputSize: Size2D(28, 28),
                           mean: mean, std: std)
        }
        XCTAssertThrowsError(try make(names: []))
        XCTAssertThrowsError(try make(channels: 0))
        XCTAssertThrowsError(try make(std: [0]))
        XCTAssertThrowsError(try make(mean: [.nan]))
        XCTAssertThrowsError(try make(mean: [0, 0]))
        XCTAssertEqual(try make(channels: 3, mean: [0.1], std: [0.2]).std, [0.2, 0.2, 0.2])
    }
}
