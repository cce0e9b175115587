/// A receiver-operating-characteristic curve for a binary problem (sklearn `roc_curve` and
/// the binary `roc_auc_score`).
///
/// With P positives and N negatives, the point for threshold θ is
/// (FPR, TPR) = (#{negatives with score ≥ θ} / N, #{positives with score ≥ θ} / P).
/// There is one candidate point per distinct score, thresholds descending, preceded by the
/// point (0, 0) with threshold +infinity; the last point is (1, 1) at the smallest score.
/// Tied scores enter together, giving one diagonal step.
///
/// Building costs one sort, O(n log n).
public struct ROCCurve: Sendable {
    /// FPR at each threshold, non-decreasing from 0 to 1.
    public let falsePositiveRates: [Double]
    /// TPR at each threshold, non-decreasing from 0 to 1.
    public let truePositiveRates: [Double]
    /// The thresholds, strictly decreasing; `thresholds[0]` is `+infinity`, the rest are score values.
    public let thresholds: [Double]
    /// The trapezoidal area under the curve, Σ_j (FPR_j − FPR_{j−1})(TPR_j + TPR_{j−1}) / 2
    /// (sklearn `auc` of this curve, the binary `roc_auc_score`). It equals the probability that a
    /// random positive outscores a random negative, ties counting ½. Computed from the integer
    /// counts of every point, so it does not depend on `dropIntermediate`.
    public let auc: Double

    /// Builds the curve.
    ///
    /// - Parameters:
    ///   - positives: true classes, `true` = positive; n entries with both classes present.
    ///   - scores: n finite scores, higher = more positive.
    ///   - dropIntermediate: as sklearn's `drop_intermediate`: among the per-score points
    ///     (before (0, 0) is prepended) keep the first, the last, and each point j whose second
    ///     difference FP[j+1] − 2·FP[j] + FP[j−1] or TP[j+1] − 2·TP[j] + TP[j−1] is non-zero,
    ///     i.e. drop the points lying inside a straight segment. The area is unchanged.
    /// - Throws: `MetricsError` for empty or mismatched arrays, a NaN or infinite score, or labels
    ///   that are all positive or all negative (the curve would be undefined; sklearn warns and returns NaN rates).
    public init(positives: [Bool], scores: [Double], dropIntermediate: Bool = true) throws {
        let sweep = try ThresholdSweep(positives: positives, scores: scores)
        let p = sweep.positives, n = sweep.negatives
        if p == 0 || n == 0 { throw MetricsError.rocNeedsBothClasses(count: positives.count, allPositive: n == 0) }

        // Exact area: every term is an integer, 2·area·P·N = Σ ΔFP·(TP_j + TP_{j−1}).
        var twiceArea = 0.0
        var previousFP = 0, previousTP = 0
        for j in 0..<sweep.thresholds.count {
            let fp = sweep.falsePositives[j], tp = sweep.truePositives[j]
            twiceArea += Double(fp - previousFP) * Double(tp + previousTP)
            previousFP = fp
            previousTP = tp
        }
        self.auc = twiceArea / (2 * Double(p) * Double(n))

        let count = sweep.thresholds.count
        var kept: [Int]
        if dropIntermediate && count > 2 {
            kept = [0]
            for j in 1..<(count - 1) {
                let fpCurvature = sweep.falsePositives[j + 1] - 2 * sweep.falsePositives[j] + sweep.falsePositives[j - 1]
                let tpCurvature = sweep.truePositives[j + 1] - 2 * sweep.truePositives[j] + sweep.truePositives[j - 1]
                if fpCurvature != 0 || tpCurvature != 0 { kept.append(j) }
            }
            kept.append(count - 1)
        } else {
            kept = Array(0..<count)
        }
        var fpr = [0.0], tpr = [0.0], thresholds = [Double.infinity]
        fpr.reserveCapacity(kept.count + 1)
        tpr.reserveCapacity(kept.count + 1)
        thresholds.reserveCapacity(kept.count + 1)
        for j in kept {
            fpr.append(Double(sweep.falsePositives[j]) / Double(n))
            tpr.append(Double(sweep.truePositives[j]) / Double(p))
            thresholds.append(sweep.thresholds[j])
        }
        self.falsePositiveRates = fpr
        self.truePositiveRates = tpr
        self.thresholds = thresholds
    }

    /// The same curve from `Float` scores, each converted exactly to `Double`.
    public init(positives: [Bool], scores: [Float], dropIntermediate: Bool = true) throws {
        try self.init(positives: positives, scores: scores.map(Double.init), dropIntermediate: dropIntermediate)
    }
}
