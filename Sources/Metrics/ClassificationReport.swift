import Foundation

/// Precision, recall and F1 of one class (or an average over classes), with its support.
///
/// For a class with TP, FP, FN:
/// - precision = TP / (TP + FP)
/// - recall = TP / (TP + FN)
/// - f1 = 2·TP / (2·TP + FP + FN), the harmonic mean of precision and recall
/// and each is 0 when its denominator is 0 (sklearn's `zero_division` result with the default setting).
public struct ClassScores: Sendable, Equatable {
    /// TP / (TP + FP), or 0 when nothing was predicted as the class.
    public let precision: Double
    /// TP / (TP + FN), or 0 when the class has no samples.
    public let recall: Double
    /// 2·TP / (2·TP + FP + FN), or 0 when that denominator is 0.
    public let f1: Double
    /// The number of true samples the scores cover.
    public let support: Int

    /// Stores the given values as they are.
    public init(precision: Double, recall: Double, f1: Double, support: Int) {
        self.precision = precision
        self.recall = recall
        self.f1 = f1
        self.support = support
    }
}

/// Per-class precision, recall and F1 for every one of the confusion matrix's classes, with
/// macro and support-weighted averages and the overall accuracy
/// (sklearn `precision_recall_fscore_support(..., labels=range(classCount))` and `classification_report`).
///
/// - macro: the unweighted mean over all `classCount` classes of each per-class score
///   (so macro F1 is the mean of the per-class F1s, not the F1 of macro precision and recall);
///   classes with no samples and no predictions count as 0, as in sklearn with explicit labels.
/// - weighted: Σ_c support(c)·score(c) / Σ_c support(c); all zeros for an all-zero table.
/// - accuracy: trace / total (0 for an all-zero table).
/// Both averages carry `support = total`.
public struct ClassificationReport: Sendable {
    /// One entry per class, index = class.
    public let perClass: [ClassScores]
    /// Unweighted means over classes; support = total.
    public let macro: ClassScores
    /// Support-weighted means over classes; support = total.
    public let weighted: ClassScores
    /// trace / total.
    public let accuracy: Double

    /// Computes the scores from a confusion matrix in O(classCount).
    public init(_ confusion: ConfusionMatrix) {
        func ratio(_ num: Int, _ den: Int) -> Double { den == 0 ? 0 : Double(num) / Double(den) }
        var perClass: [ClassScores] = []
        perClass.reserveCapacity(confusion.classCount)
        for c in 0..<confusion.classCount {
            let tp = confusion.truePositives(c)
            let fp = confusion.falsePositives(c)
            let fn = confusion.falseNegatives(c)
            perClass.append(ClassScores(precision: ratio(tp, tp + fp), recall: ratio(tp, tp + fn),
                                        f1: ratio(2 * tp, 2 * tp + fp + fn), support: tp + fn))
        }
        let total = confusion.total
        let n = Double(perClass.count)
        var mp = 0.0, mr = 0.0, mf = 0.0, wp = 0.0, wr = 0.0, wf = 0.0
        for s in perClass {
            mp += s.precision; mr += s.recall; mf += s.f1
            let w = Double(s.support)
            wp += w * s.precision; wr += w * s.recall; wf += w * s.f1
        }
        let wt = total == 0 ? 0 : 1 / Double(total)
        self.perClass = perClass
        self.macro = ClassScores(precision: mp / n, recall: mr / n, f1: mf / n, support: total)
        self.weighted = ClassScores(precision: wp * wt, recall: wr * wt, f1: wf * wt, support: total)
        self.accuracy = confusion.accuracy
    }

    /// A fixed-width text table in the layout of sklearn's `classification_report`, e.g. for
    /// `table(classNames: ["benign", "malignant"], digits: 2)` on 100 tumours (TP 1, FP 1, FN 8, TN 90):
    ///
    /// ```
    ///               precision    recall  f1-score   support
    ///
    ///       benign       0.92      0.99      0.95        91
    ///    malignant       0.50      0.11      0.18         9
    ///
    ///     accuracy                           0.91       100
    ///    macro avg       0.71      0.55      0.57       100
    /// weighted avg       0.88      0.91      0.88       100
    /// ```
    ///
    /// The name column is as wide as the longest name (at least "weighted avg"), each value column
    /// 9 characters (wider when `digits` needs it), values right-aligned.
    ///
    /// - Parameters:
    ///   - classNames: row labels, one per class; missing names fall back to the class index and
    ///     extra names are ignored. `nil` uses the class indices.
    ///   - digits: decimals for the scores (negative values are treated as 0).
    /// - Returns: the table, lines separated by `\n`, ending with a newline.
    public func table(classNames: [String]? = nil, digits: Int = 4) -> String {
        let digits = max(0, digits)
        let names = perClass.indices.map { c in
            if let classNames, c < classNames.count { return classNames[c] }
            return String(c)
        }
        let averageNames = ["accuracy", "macro avg", "weighted avg"]
        let nameWidth = max(digits, (names + averageNames).map(\.count).max() ?? 0)
        let columnWidth = max(9, digits + 2)
        func pad(_ s: String, _ width: Int) -> String {
            s.count >= width ? s : String(repeating: " ", count: width - s.count) + s
        }
        func number(_ x: Double) -> String { String(format: "%.\(digits)f", x) }
        func row(_ name: String, _ cells: [String]) -> String {
            pad(name, nameWidth) + " " + cells.map { " " + pad($0, columnWidth) }.joined() + "\n"
        }
        func scoreRow(_ name: String, _ s: ClassScores) -> String {
            row(name, [number(s.precision), number(s.recall), number(s.f1), String(s.support)])
        }
        var out = row("", ["precision", "recall", "f1-score", "support"]) + "\n"
        for (c, s) in perClass.enumerated() { out += scoreRow(names[c], s) }
        out += "\n"
        out += row(averageNames[0], ["", "", number(accuracy), String(macro.support)])
        out += scoreRow(averageNames[1], macro)
        out += scoreRow(averageNames[2], weighted)
        return out
    }
}
