/// Accuracy, arg-max predictions and top-k accuracy on plain arrays.
public enum ClassificationMetrics {
    /// The fraction of positions where `labels[i] == predictions[i]`, in [0, 1]
    /// (sklearn `accuracy_score`). Any integer values may be compared.
    ///
    /// - Throws: `MetricsError` for empty or mismatched arrays.
    public static func accuracy(labels: [Int], predictions: [Int]) throws -> Double {
        try checkPaired("labels", labels.count, "predictions", predictions.count)
        var hits = 0
        for i in 0..<labels.count where labels[i] == predictions[i] { hits += 1 }
        return Double(hits) / Double(labels.count)
    }

    /// The arg-max of each row of a row-major score matrix.
    ///
    /// - Parameters:
    ///   - scores: `[N * classCount]`, row `i` = scores of sample `i` for classes `0..<classCount`
    ///     (logits or probabilities; ±infinity is ordered as usual).
    ///   - classCount: the number of columns, at least 1.
    /// - Returns: N class indices; on ties the lowest index wins.
    /// - Throws: `MetricsError` for a class count below 1, empty scores, a length that is not a
    ///   multiple of `classCount`, or a NaN score.
    public static func predictions(scores: [Float], classCount: Int) throws -> [Int] {
        let rows = try checkScoreMatrix(scores, classCount: classCount, finite: false)
        var result = [Int](repeating: 0, count: rows)
        scores.withUnsafeBufferPointer { s in
            for r in 0..<rows {
                let base = r * classCount
                var best = 0
                var bestScore = s[base]
                for c in 1..<classCount where s[base + c] > bestScore {
                    best = c
                    bestScore = s[base + c]
                }
                result[r] = best
            }
        }
        return result
    }

    /// The fraction of rows whose true label is among the `k` best-ranked classes
    /// (sklearn `top_k_accuracy_score` for multiclass scores).
    ///
    /// Ranking: classes are ordered by score descending, and tied scores by class index
    /// ascending — the same order `predictions(scores:classCount:)` uses, so `k = 1` equals
    /// `accuracy(labels:, predictions: predictions(scores:))`. Concretely, label `y` of row `i`
    /// is a hit when
    ///
    ///     #{c : s[i][c] > s[i][y]} + #{c < y : s[i][c] == s[i][y]} < k.
    ///
    /// Each row costs O(classCount), with no sorting. On tie-free scores this equals sklearn;
    /// on ties it can differ, because sklearn's stable descending sort ranks the higher index first.
    ///
    /// - Parameters:
    ///   - labels: N true classes in `0..<classCount`.
    ///   - scores: `[N * classCount]`, row-major as in `predictions(scores:classCount:)`.
    ///   - classCount: at least 1.
    ///   - k: in `1...classCount` (`k = classCount` always gives 1).
    /// - Throws: `MetricsError` for a bad class count, empty or mismatched inputs, a label out of
    ///   range, a NaN score, or `k` outside `1...classCount`.
    public static func topKAccuracy(labels: [Int], scores: [Float], classCount: Int, k: Int) throws -> Double {
        let rows = try checkScoreMatrix(scores, classCount: classCount, finite: false)
        if labels.isEmpty { throw MetricsError.empty("labels") }
        if rows != labels.count {
            throw MetricsError.scoresRowMismatch(labels: labels.count, rows: rows, classCount: classCount)
        }
        try checkClassIndices("labels", labels, classCount: classCount)
        if k < 1 || k > classCount { throw MetricsError.kOutOfRange(k: k, classCount: classCount) }
        var hits = 0
        scores.withUnsafeBufferPointer { s in
            for r in 0..<rows {
                let base = r * classCount
                let y = labels[r]
                let target = s[base + y]
                var ahead = 0
                for c in 0..<classCount {
                    let v = s[base + c]
                    if v > target || (c < y && v == target) { ahead += 1 }
                }
                if ahead < k { hits += 1 }
            }
        }
        return Double(hits) / Double(rows)
    }
}
