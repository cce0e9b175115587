/// A precision-recall curve for a binary problem (sklearn `precision_recall_curve` with
/// `drop_intermediate=False`, and `average_precision_score`).
///
/// With P positives, for each distinct score θ (taken in increasing order) the point is
/// precision = TP(θ) / (TP(θ) + FP(θ)) and recall = TP(θ) / P, where TP(θ) and FP(θ) count the
/// positives and negatives with score ≥ θ. A final point (precision 1, recall 0) with no threshold
/// ends the arrays, so `precision` and `recall` have one more entry than `thresholds`.
///
/// Building costs one sort, O(n log n).
public struct PrecisionRecallCurve: Sendable {
    /// Precision at each threshold (increasing thresholds), then 1.
    public let precision: [Double]
    /// Recall at each threshold, non-increasing from 1 (at the smallest score), then 0.
    public let recall: [Double]
    /// The distinct scores, strictly increasing.
    public let thresholds: [Double]
    /// AP = Σ_n (R_n − R_{n−1}) · P_n over thresholds taken from the highest down, with R_0 = 0
    /// (sklearn `average_precision_score`: no interpolation, one step per distinct score).
    public let averagePrecision: Double

    /// Builds the curve.
    ///
    /// - Parameters:
    ///   - positives: true classes, `true` = positive; n entries, at least one positive.
    ///     All-positive labels are allowed (precision is then 1 throughout).
    ///   - scores: n finite scores, higher = more positive.
    /// - Throws: `MetricsError` for empty or mismatched arrays, a NaN or infinite score, or no
    ///   positive label (recall would be undefined; sklearn warns and sets it to 1).
    public init(positives: [Bool], scores: [Double]) throws {
        let sweep = try ThresholdSweep(positives: positives, scores: scores)
        let p = sweep.positives
        if p == 0 { throw MetricsError.noPositives(count: positives.count) }
        let count = sweep.thresholds.count
        var precision = [Double](repeating: 1, count: count + 1)
        var recall = [Double](repeating: 0, count: count + 1)
        var thresholds = [Double](repeating: 0, count: count)
        var ap = 0.0
        var previousTP = 0
        for j in 0..<count {
            // j walks thresholds downwards; the output is stored in increasing-threshold order.
            let tp = sweep.truePositives[j], fp = sweep.falsePositives[j]
            let pj = Double(tp) / Double(tp + fp)
            let out = count - 1 - j
            precision[out] = pj
            recall[out] = Double(tp) / Double(p)
            thresholds[out] = sweep.thresholds[j]
            ap += Double(tp - previousTP) / Double(p) * pj
            previousTP = tp
        }
        self.precision = precision
        self.recall = recall
        self.thresholds = thresholds
        self.averagePrecision = ap
    }

    /// The same curve from `Float` scores, each converted exactly to `Double`.
    public init(positives: [Bool], scores: [Float]) throws {
        try self.init(positives: positives, scores: scores.map(Double.init))
    }
}
