import XCTest
@testable import Metrics

final class ErrorTests: XCTestCase {
    func testConfusionMatrixErrors() {
        assertThrows(.lengthMismatch("labels", 5, "predictions", 4), mentions: ["labels has 5 entries, predictions has 4"]) {
            try ConfusionMatrix(labels: [0, 1, 0, 1, 0], predictions: [0, 1, 0, 1], classCount: 2)
        }
        assertThrows(.labelOutOfRange(name: "labels", index: 3, value: 12, classCount: 10),
                     mentions: ["label 12 outside 0..<10", "labels[3]"]) {
            try ConfusionMatrix(labels: [0, 1, 2, 12], predictions: [0, 0, 0, 0], classCount: 10)
        }
        assertThrows(.labelOutOfRange(name: "predictions", index: 1, value: -1, classCount: 3),
                     mentions: ["prediction -1 outside 0..<3"]) {
            try ConfusionMatrix(labels: [0, 1], predictions: [0, -1], classCount: 3)
        }
        assertThrows(.invalidClassCount(0), mentions: ["got 0"]) {
            try ConfusionMatrix(labels: [0], predictions: [0], classCount: 0)
        }
        assertThrows(.empty("labels"), mentions: ["labels is empty"]) {
            try ConfusionMatrix(labels: [], predictions: [], classCount: 2)
        }
        assertThrows(.empty("counts")) { try ConfusionMatrix(counts: []) }
        assertThrows(.nonSquareCounts(row: 1, count: 3, expected: 2), mentions: ["row 1 has 3 entries, expected 2"]) {
            try ConfusionMatrix(counts: [[1, 2], [3, 4, 5]])
        }
        assertThrows(.negativeCount(row: 0, column: 1, value: -3), mentions: ["counts[0][1] = -3"]) {
            try ConfusionMatrix(counts: [[1, -3], [0, 0]])
        }
    }

    func testClassificationMetricsErrors() {
        assertThrows(.lengthMismatch("labels", 1, "predictions", 2), mentions: ["labels has 1 entry, predictions has 2"]) {
            try ClassificationMetrics.accuracy(labels: [1], predictions: [1, 2])
        }
        assertThrows(.empty("labels")) { try ClassificationMetrics.accuracy(labels: [], predictions: []) }
        assertThrows(.scoresNotMultiple(count: 7, classCount: 3), mentions: ["7 entries", "class count 3"]) {
            try ClassificationMetrics.predictions(scores: [Float](repeating: 0, count: 7), classCount: 3)
        }
        assertThrows(.invalidClassCount(-2)) { try ClassificationMetrics.predictions(scores: [1], classCount: -2) }
        assertThrows(.empty("scores")) { try ClassificationMetrics.predictions(scores: [], classCount: 3) }
        assertThrows(.notANumber(name: "scores", index: 4), mentions: ["scores[4] is NaN"]) {
            try ClassificationMetrics.predictions(scores: [0, 1, 2, 3, .nan, 5], classCount: 3)
        }
        let scores: [Float] = [0.1, 0.2, 0.7, 0.5, 0.3, 0.2]
        assertThrows(.kOutOfRange(k: 0, classCount: 3), mentions: ["k = 0 outside 1...3"]) {
            try ClassificationMetrics.topKAccuracy(labels: [2, 0], scores: scores, classCount: 3, k: 0)
        }
        assertThrows(.kOutOfRange(k: 4, classCount: 3), mentions: ["k = 4"]) {
            try ClassificationMetrics.topKAccuracy(labels: [2, 0], scores: scores, classCount: 3, k: 4)
        }
        assertThrows(.scoresRowMismatch(labels: 3, rows: 2, classCount: 3), mentions: ["labels has 3 entries, scores has 2 rows of 3"]) {
            try ClassificationMetrics.topKAccuracy(labels: [2, 0, 1], scores: scores, classCount: 3, k: 1)
        }
        assertThrows(.labelOutOfRange(name: "labels", index: 1, value: 3, classCount: 3), mentions: ["label 3 outside 0..<3"]) {
            try ClassificationMetrics.topKAccuracy(labels: [2, 3], scores: scores, classCount: 3, k: 1)
        }
        assertThrows(.notANumber(name: "scores", index: 0)) {
            try ClassificationMetrics.topKAccuracy(labels: [2, 0], scores: [.nan] + scores.dropFirst(), classCount: 3, k: 1)
        }
    }

    func testCurveErrors() {
        assertThrows(.rocNeedsBothClasses(count: 7, allPositive: true), mentions: ["ROC needs both classes; all 7 labels are positive"]) {
            try ROCCurve(positives: [Bool](repeating: true, count: 7), scores: [Double](repeating: 0.5, count: 7))
        }
        assertThrows(.rocNeedsBothClasses(count: 2, allPositive: false), mentions: ["all 2 labels are negative"]) {
            try ROCCurve(positives: [false, false], scores: [Float(0.1), 0.2])
        }
        assertThrows(.lengthMismatch("positives", 2, "scores", 3), mentions: ["positives has 2 entries, scores has 3"]) {
            try ROCCurve(positives: [true, false], scores: [0.1, 0.2, 0.3])
        }
        assertThrows(.empty("positives")) { try ROCCurve(positives: [], scores: [Double]()) }
        assertThrows(.notANumber(name: "scores", index: 1), mentions: ["scores[1] is NaN"]) {
            try ROCCurve(positives: [true, false], scores: [0.1, .nan])
        }
        assertThrows(.notANumber(name: "scores", index: 0)) {
            try ROCCurve(positives: [true, false], scores: [Float.nan, 0.3])
        }
        assertThrows(.infinite(name: "scores", index: 1, value: .infinity), mentions: ["scores[1] is inf"]) {
            try ROCCurve(positives: [true, false], scores: [0.1, .infinity])
        }
        assertThrows(.noPositives(count: 3), mentions: ["all 3 labels are negative"]) {
            try PrecisionRecallCurve(positives: [false, false, false], scores: [0.1, 0.2, 0.3])
        }
        assertThrows(.notANumber(name: "scores", index: 2)) {
            try PrecisionRecallCurve(positives: [true, false, true], scores: [Float(0.1), 0.2, .nan])
        }
        assertThrows(.lengthMismatch("positives", 1, "scores", 0)) {
            try PrecisionRecallCurve(positives: [true], scores: [Double]())
        }
    }

    func testOneVsRestErrors() {
        // Class 2 never occurs.
        let scores: [Float] = [0.6, 0.3, 0.1, 0.2, 0.7, 0.1, 0.5, 0.4, 0.1]
        assertThrows(.oneVsRestClassMissing(classIndex: 2, positives: 0, total: 3), mentions: ["class 2 has no samples of the 3 labels"]) {
            try OneVsRestROC(labels: [0, 1, 0], scores: scores, classCount: 3)
        }
        assertThrows(.oneVsRestClassMissing(classIndex: 0, positives: 2, total: 2), mentions: ["class 0 has all 2 samples"]) {
            try OneVsRestROC(labels: [0, 0], scores: [0.5, 0.5], classCount: 1)
        }
        assertThrows(.scoresRowMismatch(labels: 2, rows: 3, classCount: 3)) {
            try OneVsRestROC(labels: [0, 1], scores: scores, classCount: 3)
        }
        assertThrows(.labelOutOfRange(name: "labels", index: 2, value: 5, classCount: 3)) {
            try OneVsRestROC(labels: [0, 1, 5], scores: scores, classCount: 3)
        }
        assertThrows(.infinite(name: "scores", index: 4, value: -.infinity)) {
            var bad = scores
            bad[4] = -.infinity
            return try OneVsRestROC(labels: [0, 1, 2], scores: bad, classCount: 3)
        }
        assertThrows(.invalidClassCount(0)) { try OneVsRestROC(labels: [0], scores: [0.5], classCount: 0) }
    }

    func testRegressionErrors() {
        assertThrows(.lengthMismatch("targets", 3, "predictions", 2), mentions: ["targets has 3 entries, predictions has 2"]) {
            try RegressionMetrics(targets: [1.0, 2, 3], predictions: [1.0, 2])
        }
        assertThrows(.empty("targets")) { try RegressionMetrics(targets: [Double](), predictions: []) }
        assertThrows(.notANumber(name: "predictions", index: 1), mentions: ["predictions[1] is NaN"]) {
            try RegressionMetrics(targets: [Float(1), 2], predictions: [1, .nan])
        }
        assertThrows(.infinite(name: "targets", index: 0, value: .infinity)) {
            try RegressionMetrics(targets: [.infinity, 2.0], predictions: [1.0, 2])
        }
    }

    func testMessagesQuoteValues() {
        XCTAssertEqual(MetricsError.lengthMismatch("labels", 5, "predictions", 4).description, "labels has 5 entries, predictions has 4")
        XCTAssertEqual(MetricsError.labelOutOfRange(name: "labels", index: 0, value: 12, classCount: 10).description,
                       "label 12 outside 0..<10 (labels[0])")
        XCTAssertEqual(MetricsError.rocNeedsBothClasses(count: 7, allPositive: true).description,
                       "ROC needs both classes; all 7 labels are positive")
        XCTAssertEqual(MetricsError.kOutOfRange(k: 6, classCount: 5).description, "k = 6 outside 1...5")
        XCTAssertNotEqual(MetricsError.empty("labels"), MetricsError.empty("scores"))
    }
}
