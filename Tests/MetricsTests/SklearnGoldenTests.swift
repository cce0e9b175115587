import Foundation
import XCTest
@testable import Metrics

/// The inputs and scikit-learn outputs written by Golden/make_sklearn_golden.py.
private struct Golden: Decodable {
    struct Versions: Decodable { let sklearn: String; let numpy: String }
    struct Average: Decodable { let precision: Double; let recall: Double; let f1: Double }
    struct Multiclass: Decodable {
        let class_count: Int
        let labels: [Int]
        let scores: [Double]
        let predictions: [Int]
        let confusion: [[Int]]
        let confusion_true: [[Double]]
        let confusion_pred: [[Double]]
        let confusion_all: [[Double]]
        let precision: [Double]
        let recall: [Double]
        let f1: [Double]
        let support: [Int]
        let macro: Average
        let weighted: Average
        let accuracy: Double
        let top_k: [String: Double]
        let ovr_auc_per_class: [Double]
        let ovr_auc_macro: Double
        let ovr_auc_weighted: Double
    }
    struct Curve: Decodable { let fpr: [Double]; let tpr: [Double]; let thresholds: [Double] }
    struct PR: Decodable { let precision: [Double]; let recall: [Double]; let thresholds: [Double] }
    struct Binary: Decodable {
        let name: String
        let positives: [Bool]
        let scores: [Double]
        let roc: [String: Curve]
        let roc_auc: Double
        let pr: PR
        let average_precision: Double
    }
    struct Regression: Decodable {
        let targets: [Double]
        let predictions: [Double]
        let mse: Double
        let mae: Double
        let r2: Double
        let constant_targets: [Double]
        let constant_predictions: [Double]
        let constant_r2: Double
        let constant_r2_perfect: Double
    }
    let versions: Versions
    let multiclass: Multiclass
    let binary: [Binary]
    let regression: Regression

    static func load() throws -> Golden {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Golden/sklearn_golden.json")
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try decoder.decode(Golden.self, from: Data(contentsOf: url))
    }
}

final class SklearnGoldenTests: XCTestCase {
    private var golden: Golden!

    override func setUpWithError() throws {
        golden = try Golden.load()
        XCTAssertFalse(golden.versions.sklearn.isEmpty)
    }

    /// The golden scores are float32 values stored as doubles; the conversion must be exact.
    private func floats(_ values: [Double]) -> [Float] {
        values.map { v in
            let f = Float(v)
            precondition(Double(f) == v, "golden score \(v) is not float32-representable")
            return f
        }
    }

    func testConfusionMatrixAndNormalization() throws {
        let m = golden.multiclass
        let scores = floats(m.scores)
        let predictions = try ClassificationMetrics.predictions(scores: scores, classCount: m.class_count)
        XCTAssertEqual(predictions, m.predictions)
        let cm = try ConfusionMatrix(labels: m.labels, predictions: predictions, classCount: m.class_count)
        XCTAssertEqual(cm.counts, m.confusion)
        XCTAssertEqual(cm.total, m.labels.count)
        for (mine, theirs, name) in [(cm.normalized(.trueLabels), m.confusion_true, "true"),
                                     (cm.normalized(.predictions), m.confusion_pred, "pred"),
                                     (cm.normalized(.all), m.confusion_all, "all")] {
            XCTAssertEqual(mine.count, theirs.count)
            for (row, (a, b)) in zip(mine, theirs).enumerated() { assertNear(a, b, "normalize=\(name) row \(row)") }
        }
    }

    func testClassificationScores() throws {
        let m = golden.multiclass
        let cm = try ConfusionMatrix(labels: m.labels, predictions: m.predictions, classCount: m.class_count)
        let report = ClassificationReport(cm)
        assertNear(report.perClass.map(\.precision), m.precision, "precision")
        assertNear(report.perClass.map(\.recall), m.recall, "recall")
        assertNear(report.perClass.map(\.f1), m.f1, "f1")
        XCTAssertEqual(report.perClass.map(\.support), m.support)
        assertNear(report.macro.precision, m.macro.precision)
        assertNear(report.macro.recall, m.macro.recall)
        assertNear(report.macro.f1, m.macro.f1)
        assertNear(report.weighted.precision, m.weighted.precision)
        assertNear(report.weighted.recall, m.weighted.recall)
        assertNear(report.weighted.f1, m.weighted.f1)
        XCTAssertEqual(report.macro.support, m.labels.count)
        assertNear(report.accuracy, m.accuracy)
        assertNear(try ClassificationMetrics.accuracy(labels: m.labels, predictions: m.predictions), m.accuracy)
    }

    func testTopKAccuracy() throws {
        let m = golden.multiclass
        XCTAssertEqual(Set(m.top_k.keys), ["1", "2", "3"])
        for (key, expected) in m.top_k {
            let k = Int(key)!
            let mine = try ClassificationMetrics.topKAccuracy(labels: m.labels, scores: floats(m.scores),
                                                              classCount: m.class_count, k: k)
            assertNear(mine, expected, "k = \(k)")
        }
    }

    func testOneVsRestAUC() throws {
        let m = golden.multiclass
        let ovr = try OneVsRestROC(labels: m.labels, scores: floats(m.scores), classCount: m.class_count)
        assertNear(ovr.curves.map(\.auc), m.ovr_auc_per_class)
        assertNear(ovr.macroAUC, m.ovr_auc_macro)
        assertNear(ovr.weightedAUC, m.ovr_auc_weighted)
        let full = try OneVsRestROC(labels: m.labels, scores: floats(m.scores), classCount: m.class_count,
                                    dropIntermediate: false)
        XCTAssertEqual(full.curves.map(\.auc), ovr.curves.map(\.auc))
    }

    func testROCCurves() throws {
        XCTAssertEqual(golden.binary.count, 2)
        for b in golden.binary {
            for (drop, key) in [(true, "drop"), (false, "full")] {
                let expected = try XCTUnwrap(b.roc[key])
                for curve in [try ROCCurve(positives: b.positives, scores: b.scores, dropIntermediate: drop),
                              try ROCCurve(positives: b.positives, scores: floats(b.scores), dropIntermediate: drop)] {
                    let tag = "\(b.name) \(key)"
                    XCTAssertEqual(curve.thresholds.count, expected.thresholds.count, tag)
                    XCTAssertEqual(curve.thresholds, expected.thresholds, tag)   // inputs are exact: thresholds match exactly
                    assertNear(curve.falsePositiveRates, expected.fpr, tag)
                    assertNear(curve.truePositiveRates, expected.tpr, tag)
                    assertNear(curve.auc, b.roc_auc, tag)
                }
            }
            XCTAssertLessThan(b.roc["drop"]!.thresholds.count, b.roc["full"]!.thresholds.count, "\(b.name): dropping removed nothing")
        }
    }

    func testPrecisionRecallCurves() throws {
        for b in golden.binary {
            for pr in [try PrecisionRecallCurve(positives: b.positives, scores: b.scores),
                       try PrecisionRecallCurve(positives: b.positives, scores: floats(b.scores))] {
                XCTAssertEqual(pr.thresholds, b.pr.thresholds, b.name)
                assertNear(pr.precision, b.pr.precision, b.name)
                assertNear(pr.recall, b.pr.recall, b.name)
                assertNear(pr.averagePrecision, b.average_precision, b.name)
            }
        }
    }

    func testRegression() throws {
        let r = golden.regression
        for metrics in [try RegressionMetrics(targets: r.targets, predictions: r.predictions),
                        try RegressionMetrics(targets: floats(r.targets), predictions: floats(r.predictions))] {
            assertNear(metrics.meanSquaredError, r.mse)
            assertNear(metrics.meanAbsoluteError, r.mae)
            assertNear(metrics.r2, r.r2)
        }
        XCTAssertEqual(try RegressionMetrics(targets: r.constant_targets, predictions: r.constant_predictions).r2, r.constant_r2)
        XCTAssertEqual(try RegressionMetrics(targets: r.constant_targets, predictions: r.constant_targets).r2, r.constant_r2_perfect)
    }
}
