import Foundation
import FoveaTestSupport
import Fovea
import XCTest

/// A briefly trained LeNet-5 and 300 MNIST test images, shared by the report tests.
enum SmallRun {
    static func make() throws -> (model: LeNet5, test: LabeledImages, history: [EpochRecord]) {
        GlobalRandom.seed(21)
        let train = try MNIST.load(split: .train, from: bundledMNISTDirectory, verify: false).subset(0..<2000)
            .normalized(mean: [MNIST.mean], std: [MNIST.std])
        let test = try MNIST.load(split: .test, from: bundledMNISTDirectory, verify: false).subset(0..<300)
            .normalized(mean: [MNIST.mean], std: [MNIST.std])
        let model = try LeNet5()
        let trainer = Trainer(model: model, optimizer: try SGD(parameters: model.parameters, learningRate: 0.02, momentum: 0.9),
                              verbose: false)
        let history = try trainer.fit(try DataLoader(train, batchSize: 32, shuffle: true, seed: 1), epochs: 2, test: test)
        return (model, test, history)
    }
}

final class RunArtifactsTests: XCTestCase {
    func testEveryFileIsWrittenAndAgreesWithTheMetrics() throws {
        let (model, test, history) = try SmallRun.make()
        let predictions = try Predictions(model: model, data: test)
        let folder = try makeTemporaryDirectory().appendingPathComponent("report")
        var artifacts = RunArtifacts(title: "LeNet-5 <test> & co", model: model, input: [1, 28, 28], predictions: predictions, images: test.images)
        artifacts.history = history
        artifacts.settings = [("Optimizer", "sgd")]
        artifacts.sampleIndex = 3
        let files = try artifacts.write(to: folder)
        for name in ["report.html", "evaluation.json", "per_class.csv", "curves.svg", "confusion_matrix.svg", "roc.svg", "pr.svg",
                     "misclassified.svg", "filters.png", "saliency.png", "gradcam.png", "feature_maps/01-conv1.png",
                     "feature_maps/04-pool-call-2.png"] {
            XCTAssertTrue(files.contains(name), "\(name) not in \(files)")
            let size = (try FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent(name).path)[.size] as? Int) ?? 0
            XCTAssertGreaterThan(size, 100, name)
        }
        for name in files where name.hasSuffix(".svg") {
            XCTAssertNil(xmlError(try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)), name)
        }
        for name in files where name.hasSuffix(".png") {
            XCTAssertNoThrow(try PNG.read(contentsOf: folder.appendingPathComponent(name)), name)
        }

        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("evaluation.json"))) as? [String: Any])
        let matrix = try predictions.confusionMatrix()
        XCTAssertEqual(json["accuracy"] as? Double ?? -1, matrix.accuracy, accuracy: 1e-12)
        XCTAssertEqual(json["images"] as? Int, 300)
        XCTAssertEqual(json["confusion_matrix"] as? [[Int]], matrix.counts)
        XCTAssertEqual(json["accuracy"] as? Double ?? -1, history.last!.testAccuracy!, accuracy: 1e-9,
                       "the report's accuracy is the trainer's test accuracy")
        XCTAssertNotNil(json["macro_auc"] as? Double)
        XCTAssertEqual((json["per_class"] as? [[String: Any]])?.count, 10)

        let csv = try String(contentsOf: folder.appendingPathComponent("per_class.csv"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(csv.first, "class,precision,recall,f1,support,auc")
        XCTAssertEqual(csv.count, 11)

        let html = try String(contentsOf: folder.appendingPathComponent("report.html"), encoding: .utf8)
        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>"))
        XCTAssertTrue(html.contains("<title>LeNet-5 &lt;test&gt; &amp; co</title>"))
        for heading in ["Settings", "Training curves", "Confusion matrix", "Per-class precision, recall and F1", "ROC curves (one-vs-rest)",
                        "Precision-recall curves", "Model summary", "Misclassified images", "First-layer filters", "Feature maps",
                        "Where the model looks"] {
            XCTAssertTrue(html.contains("<h2>\(heading)</h2>"), heading)
        }
        XCTAssertFalse(html.contains("src=\"http") || html.contains("href=\"http") || html.contains("<script"),
                       "no external assets and no scripts")
        XCTAssertTrue(html.contains("data:image/png;base64,"))
        XCTAssertTrue(html.contains("image #3 (true \(test.classNames[test.labels[3]])"))
        XCTAssertTrue(html.contains(String(format: "%.2f%%", matrix.accuracy * 100)))
    }

    func testMismatchedImagesAreRefused() throws {
        let model = try LeNet5()
        let predictions = try Predictions(probabilities: [Float](repeating: 0.1, count: 20), labels: [0, 1], classCount: 10)
        let artifacts = RunArtifacts(title: "x", model: model, input: [1, 28, 28], predictions: predictions, images: Tensor(zeros: [3, 1, 28, 28]))
        XCTAssertThrowsError(try artifacts.write(to: try makeTemporaryDirectory())) {
            XCTAssertTrue("\($0)".contains("do not match 2 predictions"), "\($0)")
        }
    }

    func testPredictionsOfADivergedModelAreAnError() {
        XCTAssertThrowsError(try Predictions(probabilities: [0.5, .nan], labels: [0], classCount: 2)) {
            XCTAssertTrue("\($0)".lowercased().contains("nan"), "\($0)")
        }
        XCTAssertThrowsError(try Predictions(probabilities: [0.5, 0.5, 1], labels: [0], classCount: 2)) {
            XCTAssertTrue("\($0)".contains("3 probabilities for 1 labels of 2 classes"), "\($0)")
        }
    }

    func testMisclassifiedAreOrderedByConfidence() throws {
        // Image 0 right; 1 wrong with 0.6; 2 wrong with 0.9; 3 wrong with 0.7.
        let p = try Predictions(probabilities: [0.9, 0.1, 0.4, 0.6, 0.1, 0.9, 0.7, 0.3], labels: [0, 0, 0, 1], classCount: 2)
        XCTAssertEqual(MisclassifiedGrid.indices(p), [2, 3, 1])
        let svg = try MisclassifiedGrid.svg(images: Tensor(zeros: [4, 1, 4, 4]), predictions: p).render()
        XCTAssertNil(xmlError(svg))
        XCTAssertTrue(svg.contains("Misclassified: 3 of 4 images"))
        XCTAssertTrue(svg.contains("true 0 → 1"))
        XCTAssertEqual(occurrences(of: "<image ", in: svg), 3)
    }
}
