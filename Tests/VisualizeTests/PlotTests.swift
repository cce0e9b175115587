import Foundation
import FoveaTestSupport
import Metrics
import TensorCore
import Training
import Visualize
import XCTest

final class PlotTests: XCTestCase {
    /// Three classes: every non-zero cell shows its count, every cell is a rectangle with a
    /// tooltip, and the row-normalised colour puts the darkest blue on a full row.
    func testSmallConfusionMatrixShowsEveryCount() throws {
        let matrix = try ConfusionMatrix(counts: [[5, 0, 0], [1, 3, 1], [0, 0, 7]])
        let text = try ConfusionMatrixPlot(matrix, classNames: ["cat", "dog", "eel"]).svg().render()
        XCTAssertNil(xmlError(text))
        XCTAssertEqual(occurrences(of: "<title>true ", in: text), 9)
        for count in [">5</text>", ">3</text>", ">7</text>"] { XCTAssertTrue(text.contains(count), count) }
        XCTAssertEqual(occurrences(of: ">1</text>", in: text), 2)
        XCTAssertFalse(text.contains(">0</text>"), "empty cells carry no number")
        XCTAssertTrue(text.contains("true dog, predicted eel: 1 (20.0% of the row)"))
        XCTAssertTrue(text.contains("fill=\"\(Colormap.blues.hex(1))\""), "a full row has the darkest colour")
        XCTAssertTrue(text.contains("accuracy 88.24%"), "15 of 17")
        XCTAssertEqual(occurrences(of: ">cat</text>", in: text), 2, "row and column labels")
    }

    /// Seed 003's tumour example as a 2x2 matrix: TP 1, FP 1, FN 8, TN 90.
    func testTumourExampleMatrix() throws {
        // Rows true (benign, malignant), columns predicted.
        let matrix = try ConfusionMatrix(counts: [[90, 1], [8, 1]])
        let text = try ConfusionMatrixPlot(matrix, classNames: ["benign", "malignant"]).svg().render()
        XCTAssertTrue(text.contains("accuracy 91.00%"))
        XCTAssertTrue(text.contains("true malignant, predicted benign: 8 (88.9% of the row)"))
    }

    /// A 1000-class matrix from 100,000 predictions is one embedded PNG, not a million
    /// rectangles, and stays small.
    func testThousandClassMatrixIsRasterAndSmall() throws {
        var gen = SeededGenerator(seed: 4)
        let labels = (0..<100_000).map { _ in Int(gen.next() % 1000) }
        let predicted = labels.map { gen.next() % 4 == 0 ? Int(gen.next() % 1000) : $0 }
        let matrix = try ConfusionMatrix(labels: labels, predictions: predicted, classCount: 1000)
        let text = try ConfusionMatrixPlot(matrix).svg().render()
        XCTAssertNil(xmlError(text))
        XCTAssertEqual(occurrences(of: "<image ", in: text), 1)
        XCTAssertLessThan(occurrences(of: "<rect", in: text), 100)
        XCTAssertLessThan(text.utf8.count, 3_000_000, "a few MB at most")
        // 0.56-unit cells: every 24th class is labelled, so names do not overlap.
        XCTAssertTrue(text.contains(">24</text>") && text.contains(">984</text>"), "sparse class labels")
        XCTAssertFalse(text.contains(">23</text>"))
    }

    /// A 10,000-point ROC curve draws as one polyline of at most the pixels it covers.
    func testTenThousandPointROCIsSmall() throws {
        var gen = SeededGenerator(seed: 9)
        let positives = (0..<10_000).map { _ in gen.next() % 2 == 0 }
        let scores = positives.map { Double(gen.next() % 1_000_000_007) / 1e9 + ($0 ? 0.2 : 0) }
        let curve = try ROCCurve(positives: positives, scores: scores, dropIntermediate: false)
        XCTAssertEqual(curve.falsePositiveRates.count, 10_001)
        let text = CurvePlots.roc([("scores", curve)]).render()
        XCTAssertNil(xmlError(text))
        XCTAssertLessThan(text.utf8.count, 1_000_000)
        XCTAssertTrue(text.contains(String(format: "scores (AUC %.4f)", curve.auc)))
        XCTAssertGreaterThan(curve.auc, 0.6)
    }

    func testTrainingCurvesShowEveryFigureOfTheHistory() {
        let history = (1...4).map { e in
            EpochRecord(epoch: e, trainLoss: 1 / Double(e), trainAccuracy: 1 - 0.1 / Double(e), testLoss: 1.2 / Double(e),
                        testAccuracy: 0.9, validationLoss: 1.1 / Double(e), validationAccuracy: 0.95,
                        seconds: 1, imagesPerSecond: 100, learningRate: 0.1 * pow(0.1, Double(e - 1)))
        }
        let text = CurvePlots.training(history).render()
        XCTAssertNil(xmlError(text))
        // Loss: train, validation, test; accuracy: the same; learning rate: one.
        XCTAssertEqual(occurrences(of: "<polyline", in: text), 7)
        XCTAssertEqual(occurrences(of: "<circle", in: text), 28, "a marker per epoch per series")
        for label in ["Loss", "Accuracy", ">validation</text>", ">test</text>", ">1e-4</text>"] {
            XCTAssertTrue(text.contains(label), label)
        }
    }

    func testPrecisionRecallLegendGivesAveragePrecision() throws {
        let curve = try PrecisionRecallCurve(positives: [true, false, true, true], scores: [0.9, 0.8, 0.7, 0.1])
        let text = CurvePlots.precisionRecall([("positive", curve)]).render()
        XCTAssertNil(xmlError(text))
        XCTAssertTrue(text.contains(String(format: "positive (AP %.4f)", curve.averagePrecision)), text)
    }

    func testProbabilityBarsAreSortedAndCapped() {
        let text = CurvePlots.probabilities([0.1, 0.6, 0.3], classNames: ["a", "b", "c"], limit: 2).render()
        XCTAssertNil(xmlError(text))
        let b = text.range(of: ">b</text>"), c = text.range(of: ">c</text>")
        XCTAssertNotNil(b); XCTAssertNotNil(c)
        XCTAssertLessThan(b!.lowerBound, c!.lowerBound, "most probable first")
        XCTAssertFalse(text.contains(">a</text>"), "only the top 2")
        XCTAssertTrue(text.contains(">0.6000</text>") && text.contains(">0.3000</text>"))
        XCTAssertTrue(text.contains("width=\"180\""), "a 0.6 bar is 0.6 of the 300-unit track")
    }
}
