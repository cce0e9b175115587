import XCTest
@testable import Metrics

final class HandComputedTests: XCTestCase {
    // The course notes' 100 tumours, class 1 = malignant = positive:
    // TP 1, FP 1, FN 8, TN 90. counts[t][p] with rows = true class.
    private let tumourCounts = [[90, 1],   // benign:    90 TN, 1 FP
                                [8, 1]]    // malignant:  8 FN, 1 TP

    private func tumourLabels() -> (labels: [Int], predictions: [Int]) {
        let labels = [Int](repeating: 0, count: 91) + [Int](repeating: 1, count: 9)
        let predictions = [Int](repeating: 0, count: 90) + [1] + [Int](repeating: 0, count: 8) + [1]
        return (labels, predictions)
    }

    func testTumourFromCounts() throws {
        let cm = try ConfusionMatrix(counts: tumourCounts)
        XCTAssertEqual(cm.classCount, 2)
        XCTAssertEqual(cm.total, 100)
        XCTAssertEqual(cm.correct, 91)
        XCTAssertEqual(cm.accuracy, 0.91, accuracy: 1e-15)
        XCTAssertEqual(cm.truePositives(1), 1)
        XCTAssertEqual(cm.falsePositives(1), 1)
        XCTAssertEqual(cm.falseNegatives(1), 8)
        XCTAssertEqual(cm.trueNegatives(1), 90)
        // From the benign class's point of view the roles swap.
        XCTAssertEqual(cm.truePositives(0), 90)
        XCTAssertEqual(cm.falsePositives(0), 8)
        XCTAssertEqual(cm.falseNegatives(0), 1)
        XCTAssertEqual(cm.trueNegatives(0), 1)
        XCTAssertEqual(cm.support(1), 9)
        XCTAssertEqual(cm.predictedCount(1), 2)

        let report = ClassificationReport(cm)
        let malignant = report.perClass[1]
        XCTAssertEqual(malignant.precision, 0.5, accuracy: 1e-15)     // 1 / (1 + 1)
        XCTAssertEqual(malignant.recall, 1.0 / 9, accuracy: 1e-15)    // 1 / (1 + 8)
        XCTAssertEqual(malignant.f1, 2.0 / 11, accuracy: 1e-15)       // 2·1 / (2·1 + 1 + 8)
        XCTAssertEqual(malignant.support, 9)
        let benign = report.perClass[0]
        XCTAssertEqual(benign.precision, 90.0 / 98, accuracy: 1e-15)
        XCTAssertEqual(benign.recall, 90.0 / 91, accuracy: 1e-15)
        XCTAssertEqual(benign.f1, 180.0 / 189, accuracy: 1e-15)
        XCTAssertEqual(report.accuracy, 0.91, accuracy: 1e-15)
        XCTAssertEqual(report.macro.precision, (90.0 / 98 + 0.5) / 2, accuracy: 1e-15)
        XCTAssertEqual(report.macro.f1, (180.0 / 189 + 2.0 / 11) / 2, accuracy: 1e-15)
        XCTAssertEqual(report.macro.support, 100)
        XCTAssertEqual(report.weighted.recall, (91 * 90.0 / 91 + 9 * 1.0 / 9) / 100, accuracy: 1e-15)  // = accuracy
        XCTAssertEqual(report.weighted.precision, (91 * 90.0 / 98 + 9 * 0.5) / 100, accuracy: 1e-15)
    }

    func testTumourFromLabels() throws {
        let (labels, predictions) = tumourLabels()
        let cm = try ConfusionMatrix(labels: labels, predictions: predictions, classCount: 2)
        XCTAssertEqual(cm, try ConfusionMatrix(counts: tumourCounts))
        XCTAssertEqual(cm.counts, tumourCounts)
        XCTAssertEqual(try ClassificationMetrics.accuracy(labels: labels, predictions: predictions), 0.91, accuracy: 1e-15)
        XCTAssertEqual(ClassificationReport(cm).perClass[1].recall, 1.0 / 9, accuracy: 1e-15)
    }

    func testNormalization() throws {
        let cm = try ConfusionMatrix(counts: [[2, 2, 0], [1, 3, 0], [0, 0, 0]])
        // Rows divide by 4, 4, 0 (zero row gives zeros); columns by 3, 5, 0; all by 8.
        XCTAssertEqual(cm.normalized(.trueLabels), [[0.5, 0.5, 0], [0.25, 0.75, 0], [0, 0, 0]])
        XCTAssertEqual(cm.normalized(.predictions), [[2.0 / 3, 0.4, 0], [1.0 / 3, 0.6, 0], [0, 0, 0]])
        XCTAssertEqual(cm.normalized(.all), [[0.25, 0.25, 0], [0.125, 0.375, 0], [0, 0, 0]])
        XCTAssertEqual(ConfusionMatrix.Normalization(rawValue: "true"), .trueLabels)
        XCTAssertEqual(ConfusionMatrix.Normalization.predictions.rawValue, "pred")
        // Class 2 has no samples and no predictions: zero scores, still part of the macro mean.
        let report = ClassificationReport(cm)
        XCTAssertEqual(report.perClass[2], ClassScores(precision: 0, recall: 0, f1: 0, support: 0))
        XCTAssertEqual(report.macro.recall, (0.5 + 0.75 + 0) / 3, accuracy: 1e-15)
    }

    func testEmptyCountsTableIsAllZero() throws {
        let cm = try ConfusionMatrix(counts: [[0, 0], [0, 0]])
        XCTAssertEqual(cm.accuracy, 0)
        XCTAssertEqual(cm.normalized(.all), [[0, 0], [0, 0]])
        let report = ClassificationReport(cm)
        XCTAssertEqual(report.weighted, ClassScores(precision: 0, recall: 0, f1: 0, support: 0))
    }

    func testReportTable() throws {
        let cm = try ConfusionMatrix(counts: tumourCounts)
        let table = ClassificationReport(cm).table(classNames: ["benign", "malignant"], digits: 2)
        let lines = table.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(lines, [
            "              precision    recall  f1-score   support",
            "",
            "      benign       0.92      0.99      0.95        91",
            "   malignant       0.50      0.11      0.18         9",
            "",
            "    accuracy                           0.91       100",
            "   macro avg       0.71      0.55      0.57       100",
            "weighted avg       0.88      0.91      0.88       100",
            "",
        ], table)
        // Missing names fall back to indices; 4 digits by default.
        let plain = ClassificationReport(cm).table()
        XCTAssertTrue(plain.contains("           1     0.5000    0.1111    0.1818         9"), plain)
    }

    func testPredictionsAndTopK() throws {
        // 3 rows × 4 classes. Row 1 ties classes 1 and 3 for the maximum.
        let scores: [Float] = [0.1, 0.5, 0.3, 0.1,
                               0.0, 0.4, 0.2, 0.4,
                               0.9, 0.05, 0.03, 0.02]
        XCTAssertEqual(try ClassificationMetrics.predictions(scores: scores, classCount: 4), [1, 1, 0])
        let labels = [2, 3, 0]
        // Row 0: label 2 ranks 2nd. Row 1: label 3 ties with class 1 and ranks 2nd (lower index first).
        // Row 2: label 0 ranks 1st.
        XCTAssertEqual(try ClassificationMetrics.topKAccuracy(labels: labels, scores: scores, classCount: 4, k: 1), 1.0 / 3)
        XCTAssertEqual(try ClassificationMetrics.topKAccuracy(labels: labels, scores: scores, classCount: 4, k: 2), 1.0)
        // [3, 1, 3]: row 0 has 0.5, 0.3 above and class 0 tied below index 3, so rank 4; row 2 rank 4.
        XCTAssertEqual(try ClassificationMetrics.topKAccuracy(labels: [3, 1, 3], scores: scores, classCount: 4, k: 2), 1.0 / 3)
        XCTAssertEqual(try ClassificationMetrics.topKAccuracy(labels: [3, 1, 3], scores: scores, classCount: 4, k: 3), 1.0 / 3)
        // k = 1 is the accuracy of the arg-max predictions [1, 1, 0]: the tie in row 1 goes to class 1.
        XCTAssertEqual(try ClassificationMetrics.topKAccuracy(labels: [1, 3, 0], scores: scores, classCount: 4, k: 1), 2.0 / 3)
        XCTAssertEqual(try ClassificationMetrics.accuracy(labels: [1, 3, 0], predictions: [1, 1, 0]), 2.0 / 3)
        XCTAssertEqual(try ClassificationMetrics.topKAccuracy(labels: [3, 1, 3], scores: scores, classCount: 4, k: 4), 1.0)
    }

    // Hand-worked ROC, 2 positives (P) and 4 negatives (N):
    //   score  0.9 0.8 0.6 0.6 0.3 0.2
    //   label   P   N   P   N   N   N
    // Per distinct score, descending: TP = 1 1 2 2 2, FP = 0 1 2 3 4.
    // With (0,0) first: thresholds inf .9 .8 .6 .3 .2, FPR 0 0 .25 .5 .75 1, TPR 0 .5 .5 1 1 1.
    // AUC by trapezoids: .25·.5 + .25·(.5+1)/2 + .25·1 + .25·1 = .125 + .1875 + .25 + .25 = .8125;
    // check: positive 0.9 beats all 4 negatives, positive 0.6 beats 2 and ties 1 → (4 + 2.5) / 8.
    // drop_intermediate: at the 0.3 point FP second difference 4−2·3+2 = 0 and TP 2−2·2+2 = 0,
    // so it goes; the points at .9, .8 and .6 bend and stay.
    private let rocPositives = [true, false, true, false, false, false]
    private let rocScores = [0.9, 0.8, 0.6, 0.6, 0.3, 0.2]

    func testHandROC() throws {
        let full = try ROCCurve(positives: rocPositives, scores: rocScores, dropIntermediate: false)
        XCTAssertEqual(full.thresholds, [.infinity, 0.9, 0.8, 0.6, 0.3, 0.2])
        XCTAssertEqual(full.falsePositiveRates, [0, 0, 0.25, 0.5, 0.75, 1])
        XCTAssertEqual(full.truePositiveRates, [0, 0.5, 0.5, 1, 1, 1])
        XCTAssertEqual(full.auc, 0.8125)

        let dropped = try ROCCurve(positives: rocPositives, scores: rocScores)
        XCTAssertEqual(dropped.thresholds, [.infinity, 0.9, 0.8, 0.6, 0.2])
        XCTAssertEqual(dropped.falsePositiveRates, [0, 0, 0.25, 0.5, 1])
        XCTAssertEqual(dropped.truePositiveRates, [0, 0.5, 0.5, 1, 1])
        XCTAssertEqual(dropped.auc, 0.8125)

        // Float input: thresholds are the Float values widened exactly.
        let floats = try ROCCurve(positives: rocPositives, scores: rocScores.map { Float($0) })
        XCTAssertEqual(floats.thresholds, [.infinity] + [0.9, 0.8, 0.6, 0.2].map { Double(Float($0)) })
        XCTAssertEqual(floats.auc, 0.8125)
    }

    func testROCExtremes() throws {
        // Perfect separation: AUC 1; reversed: 0; one shared score: the diagonal, 0.5.
        XCTAssertEqual(try ROCCurve(positives: [true, true, false], scores: [3.0, 2, 1]).auc, 1)
        XCTAssertEqual(try ROCCurve(positives: [false, true, true], scores: [3.0, 2, 1]).auc, 0)
        let flat = try ROCCurve(positives: [true, false, true, false], scores: [1.0, 1, 1, 1])
        XCTAssertEqual(flat.auc, 0.5)
        XCTAssertEqual(flat.falsePositiveRates, [0, 1])
        XCTAssertEqual(flat.thresholds, [.infinity, 1])
    }

    // Hand-worked PR curve on the ROC data above (P = 2). Thresholds descending:
    //   .9: TP 1 FP 0 → precision 1,   recall .5
    //   .8: TP 1 FP 1 → precision .5,  recall .5
    //   .6: TP 2 FP 2 → precision .5,  recall 1
    //   .3: TP 2 FP 3 → precision .4,  recall 1
    //   .2: TP 2 FP 4 → precision 1/3, recall 1
    // Reversed (thresholds increasing) and closed with (1, 0).
    // AP = (.5 − 0)·1 + (.5 − .5)·.5 + (1 − .5)·.5 + 0 + 0 = .75.
    func testHandPrecisionRecall() throws {
        let pr = try PrecisionRecallCurve(positives: rocPositives, scores: rocScores)
        XCTAssertEqual(pr.thresholds, [0.2, 0.3, 0.6, 0.8, 0.9])
        assertNear(pr.precision, [1.0 / 3, 0.4, 0.5, 0.5, 1, 1])
        XCTAssertEqual(pr.recall, [1, 1, 1, 0.5, 0.5, 0])
        XCTAssertEqual(pr.averagePrecision, 0.75)
        let floats = try PrecisionRecallCurve(positives: rocPositives, scores: rocScores.map { Float($0) })
        XCTAssertEqual(floats.averagePrecision, 0.75)
        // All positive: precision 1 everywhere, AP 1.
        let allPositive = try PrecisionRecallCurve(positives: [true, true], scores: [0.5, 0.1])
        XCTAssertEqual(allPositive.precision, [1, 1, 1])
        XCTAssertEqual(allPositive.recall, [1, 0.5, 0])
        XCTAssertEqual(allPositive.averagePrecision, 1)
    }

    func testOneVsRestByHand() throws {
        // 4 samples, 3 classes. Class 0: positives score .7 and .6, negatives .2 and .1 → AUC 1.
        // Class 1: positive .3; negatives .2, .3, .2 → beats 2, ties 1 → 2.5/3.
        // Class 2: positive .1; negatives .1, .1, .7 → ties 2 → 1/3.
        let labels = [0, 0, 1, 2]
        let scores: [Float] = [0.7, 0.2, 0.1,
                               0.6, 0.3, 0.1,
                               0.2, 0.3, 0.5,
                               0.1, 0.2, 0.1]
        let ovr = try OneVsRestROC(labels: labels, scores: scores, classCount: 3)
        XCTAssertEqual(ovr.curves.map(\.auc), [1, 2.5 / 3, 1.0 / 3])
        assertNear(ovr.macroAUC, (1 + 2.5 / 3 + 1.0 / 3) / 3)
        assertNear(ovr.weightedAUC, (2 * 1 + 2.5 / 3 + 1.0 / 3) / 4)
    }

    func testRegressionByHand() throws {
        // errors −.5, 0, 1, −1: MSE = 2.25/4, MAE = 2.5/4; mean 2.5, SS_tot = 5 → R² = 1 − 2.25/5 = .55.
        let r = try RegressionMetrics(targets: [1.0, 2, 3, 4], predictions: [1.5, 2, 2, 5])
        XCTAssertEqual(r.meanSquaredError, 0.5625)
        XCTAssertEqual(r.meanAbsoluteError, 0.625)
        assertNear(r.r2, 0.55)
        let f = try RegressionMetrics(targets: [Float(1), 2, 3, 4], predictions: [Float(1.5), 2, 2, 5])
        XCTAssertEqual(f, r)
        // Constant targets: 1 when perfect, else 0; one sample counts as constant.
        XCTAssertEqual(try RegressionMetrics(targets: [2.0, 2, 2], predictions: [2.0, 2, 2]).r2, 1)
        XCTAssertEqual(try RegressionMetrics(targets: [2.0, 2, 2], predictions: [2.0, 3, 2]).r2, 0)
        XCTAssertEqual(try RegressionMetrics(targets: [4.0], predictions: [3.0]).r2, 0)
        XCTAssertEqual(try RegressionMetrics(targets: [4.0], predictions: [3.0]).meanSquaredError, 1)
        // Predicting the mean gives 0, worse than that is negative.
        XCTAssertEqual(try RegressionMetrics(targets: [1.0, 3], predictions: [2.0, 2]).r2, 0)
        XCTAssertEqual(try RegressionMetrics(targets: [1.0, 3], predictions: [3.0, 1]).r2, -3)
    }
}
