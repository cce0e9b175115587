import Foundation
import XCTest
@testable import Metrics

/// The sizes the report must handle (a 10,000-point ROC, a 1000-class matrix from 100k
/// samples) give consistent figures. How fast they are is measured by `fovea bench --plots`,
/// not here.
final class LargeInputTests: XCTestCase {
    /// A small deterministic generator (SplitMix64) so the data is the same every run.
    private struct SplitMix {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
    }

    func testLargeROCAndPRCurves() throws {
        var g = SplitMix(state: 7)
        let n = 10_000
        var positives = [Bool](), scores = [Double]()
        for _ in 0..<n {
            let p = g.unit() < 0.3
            positives.append(p)
            scores.append(g.unit() + (p ? 0.3 : 0))
        }
        let roc = try ROCCurve(positives: positives, scores: scores)
        let pr = try PrecisionRecallCurve(positives: positives, scores: scores)
        XCTAssertGreaterThan(roc.auc, 0.6)
        XCTAssertLessThan(roc.auc, 0.95)
        XCTAssertEqual(pr.thresholds.count, Set(scores).count)
        XCTAssertEqual(roc.thresholds.first, .infinity)
        XCTAssertEqual(roc.falsePositiveRates.last, 1)
        XCTAssertEqual(roc.truePositiveRates.last, 1)
    }

    func testLargeConfusionMatrix() throws {
        var g = SplitMix(state: 11)
        let classes = 1000, n = 100_000
        var labels = [Int](), predictions = [Int]()
        labels.reserveCapacity(n)
        predictions.reserveCapacity(n)
        for _ in 0..<n {
            let y = Int(g.next() % UInt64(classes))
            labels.append(y)
            predictions.append(g.unit() < 0.6 ? y : Int(g.next() % UInt64(classes)))
        }
        let cm = try ConfusionMatrix(labels: labels, predictions: predictions, classCount: classes)
        let report = ClassificationReport(cm)
        XCTAssertEqual(cm.total, n)
        XCTAssertEqual(report.perClass.map(\.support).reduce(0, +), n)
        let accuracy = try ClassificationMetrics.accuracy(labels: labels, predictions: predictions)
        XCTAssertEqual(report.accuracy, accuracy)
        XCTAssertEqual(report.weighted.recall, accuracy, accuracy: 1e-12)  // support-weighted recall is accuracy
    }
}
