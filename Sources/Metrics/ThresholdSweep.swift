/// The cumulative counts behind ROC and precision-recall curves.
///
/// Samples are sorted once by score, descending (O(n log n)). Lowering a threshold past each
/// distinct score value admits every sample with that score at once, so there is one point per
/// distinct score, in descending score order:
/// `thresholds[j]` = the j-th largest distinct score, and `truePositives[j]` /
/// `falsePositives[j]` = positives / negatives among samples with score ≥ `thresholds[j]`.
struct ThresholdSweep {
    var thresholds: [Double] = []
    var truePositives: [Int] = []
    var falsePositives: [Int] = []

    /// Total positives (the last true-positive count).
    var positives: Int { truePositives.last ?? 0 }
    /// Total negatives (the last false-positive count).
    var negatives: Int { falsePositives.last ?? 0 }

    /// Validates lengths and finiteness, then sweeps.
    init(positives labels: [Bool], scores: [Double]) throws {
        try checkPaired("positives", labels.count, "scores", scores.count)
        try checkScores("scores", scores, finite: true)
        var pairs = [(score: Double, positive: Bool)]()
        pairs.reserveCapacity(scores.count)
        for i in 0..<scores.count { pairs.append((scores[i], labels[i])) }
        pairs.sort { $0.score > $1.score }
        var tp = 0, fp = 0
        var i = 0
        while i < pairs.count {
            let value = pairs[i].score
            while i < pairs.count && pairs[i].score == value {
                if pairs[i].positive { tp += 1 } else { fp += 1 }
                i += 1
            }
            thresholds.append(value)
            truePositives.append(tp)
            falsePositives.append(fp)
        }
    }
}
