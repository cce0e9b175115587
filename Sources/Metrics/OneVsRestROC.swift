/// One-vs-rest ROC curves for a multiclass problem (sklearn
/// `roc_auc_score(labels, scores, multi_class="ovr", average="macro" | "weighted")`).
///
/// Curve c treats class c as positive and every other class as negative, scored by column c
/// of the score matrix. With n_c = #{i : labels[i] == c} and N samples:
/// - macroAUC = (1 / classCount) Σ_c AUC_c
/// - weightedAUC = Σ_c (n_c / N) · AUC_c
///
/// Every class must have at least one positive and one negative sample, otherwise its curve is
/// undefined and the initialiser throws `MetricsError.oneVsRestClassMissing` (sklearn raises too,
/// because the classes present in `labels` must match the score columns). The scores are used as
/// given: sklearn also insists that each row sums to 1, which does not change any AUC and is not checked here.
///
/// Cost: one sort per class, O(classCount · N log N).
public struct OneVsRestROC: Sendable {
    /// The ROC curve of class c against the rest, index = class.
    public let curves: [ROCCurve]
    /// The unweighted mean of the per-class AUCs.
    public let macroAUC: Double
    /// The mean of the per-class AUCs weighted by class support n_c / N.
    public let weightedAUC: Double

    /// Builds every class's curve.
    ///
    /// - Parameters:
    ///   - labels: N true classes in `0..<classCount`.
    ///   - scores: `[N * classCount]`, row-major: `scores[i * classCount + c]` is sample i's score
    ///     (probability) for class c. Finite values only.
    ///   - classCount: at least 2 in practice (with 1 class there are no negatives, so it throws).
    ///   - dropIntermediate: passed to each `ROCCurve`.
    /// - Throws: `MetricsError` for a bad class count, empty or mismatched inputs, a label out of
    ///   range, a NaN or infinite score, or a class with no positive or no negative sample.
    public init(labels: [Int], scores: [Float], classCount: Int, dropIntermediate: Bool = true) throws {
        let rows = try checkScoreMatrix(scores, classCount: classCount, finite: true)
        if labels.isEmpty { throw MetricsError.empty("labels") }
        if rows != labels.count {
            throw MetricsError.scoresRowMismatch(labels: labels.count, rows: rows, classCount: classCount)
        }
        try checkClassIndices("labels", labels, classCount: classCount)
        var support = [Int](repeating: 0, count: classCount)
        for y in labels { support[y] += 1 }
        for c in 0..<classCount where support[c] == 0 || support[c] == rows {
            throw MetricsError.oneVsRestClassMissing(classIndex: c, positives: support[c], total: rows)
        }
        var curves: [ROCCurve] = []
        curves.reserveCapacity(classCount)
        var column = [Double](repeating: 0, count: rows)
        var positives = [Bool](repeating: false, count: rows)
        for c in 0..<classCount {
            for i in 0..<rows {
                column[i] = Double(scores[i * classCount + c])
                positives[i] = labels[i] == c
            }
            curves.append(try ROCCurve(positives: positives, scores: column, dropIntermediate: dropIntermediate))
        }
        var macro = 0.0, weighted = 0.0
        for c in 0..<classCount {
            macro += curves[c].auc
            weighted += Double(support[c]) * curves[c].auc
        }
        self.curves = curves
        self.macroAUC = macro / Double(classCount)
        self.weightedAUC = weighted / Double(rows)
    }
}
