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
}
