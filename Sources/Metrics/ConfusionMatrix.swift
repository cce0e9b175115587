/// A square table of classification outcomes.
///
/// `counts[t][p]` is the number of samples whose true class is `t` and whose predicted class is `p`
/// (rows: true classes, columns: predicted classes, both `classCount` long), as in
/// `sklearn.metrics.confusion_matrix(labels, predictions, labels=range(classCount))`.
///
/// For class `c`, with `total` samples:
/// - TP(c) = counts[c][c]
/// - FP(c) = Σ_t counts[t][c] − TP(c)  (column sum minus the diagonal)
/// - FN(c) = Σ_p counts[c][p] − TP(c)  (row sum minus the diagonal)
/// - TN(c) = total − TP(c) − FP(c) − FN(c)
///
/// Building from labels is O(N + classCount²); the per-class counts are O(1) afterwards.
public struct ConfusionMatrix: Sendable, Equatable {
    /// The number of classes, the side length of `counts`.
    public let classCount: Int
    /// `counts[t][p]`: samples with true class `t` predicted as `p`; `classCount × classCount`.
    public let counts: [[Int]]
    /// Row sums: the support (number of true samples) of each class.
    private let rowSums: [Int]
    /// Column sums: how often each class was predicted.
    private let columnSums: [Int]
    /// Σ counts, the number of samples.
    public let total: Int

    /// Tallies `labels[i]` (true class) against `predictions[i]` (predicted class).
    ///
    /// - Parameters:
    ///   - labels: true classes, each in `0..<classCount`; N entries, N ≥ 1.
    ///   - predictions: predicted classes, each in `0..<classCount`; N entries.
    ///   - classCount: the number of classes, at least 1.
    /// - Throws: `MetricsError` for a class count below 1, empty or mismatched arrays,
    ///   or an index outside `0..<classCount`.
    public init(labels: [Int], predictions: [Int], classCount: Int) throws {
        try checkClassCount(classCount)
        try checkPaired("labels", labels.count, "predictions", predictions.count)
        try checkClassIndices("labels", labels, classCount: classCount)
        try checkClassIndices("predictions", predictions, classCount: classCount)
        var flat = [Int](repeating: 0, count: classCount * classCount)
        for i in 0..<labels.count {
            flat[labels[i] * classCount + predictions[i]] += 1
        }
        let rows = (0..<classCount).map { t in Array(flat[(t * classCount)..<((t + 1) * classCount)]) }
        self.init(validated: rows)
    }

    /// Wraps an existing table of counts.
    ///
    /// - Parameter counts: a square `classCount × classCount` table (classCount ≥ 1) of
    ///   non-negative counts, `counts[t][p]` as above. An all-zero table is allowed.
    /// - Throws: `MetricsError` for an empty, non-square or negative table.
    public init(counts: [[Int]]) throws {
        if counts.isEmpty { throw MetricsError.empty("counts") }
        let n = counts.count
        for (r, row) in counts.enumerated() {
            if row.count != n { throw MetricsError.nonSquareCounts(row: r, count: row.count, expected: n) }
            for (c, v) in row.enumerated() where v < 0 {
                throw MetricsError.negativeCount(row: r, column: c, value: v)
            }
        }
        self.init(validated: counts)
    }

    private init(validated rows: [[Int]]) {
        let n = rows.count
        precondition(n >= 1 && rows.allSatisfy { $0.count == n }, "ConfusionMatrix: unvalidated table")
        var rowSums = [Int](repeating: 0, count: n)
        var columnSums = [Int](repeating: 0, count: n)
        for t in 0..<n {
            for p in 0..<n {
                rowSums[t] += rows[t][p]
                columnSums[p] += rows[t][p]
            }
        }
        self.classCount = n
        self.counts = rows
        self.rowSums = rowSums
        self.columnSums = columnSums
        self.total = rowSums.reduce(0, +)
    }

    /// The number of correctly classified samples: the trace Σ_c counts[c][c].
    public var correct: Int {
        var sum = 0
        for c in 0..<classCount { sum += counts[c][c] }
        return sum
    }

    /// `correct / total`; 0 for an all-zero table.
    public var accuracy: Double {
        total == 0 ? 0 : Double(correct) / Double(total)
    }

    /// What `normalized(_:)` divides by, named after sklearn's `normalize=` values.
    public enum Normalization: String, Sendable {
        /// Divide each row by its sum (the class's support): row t gives P(predicted p | true t).
        case trueLabels = "true"
        /// Divide each column by its sum: column p gives P(true t | predicted p).
        case predictions = "pred"
        /// Divide every entry by the total.
        case all
    }

    /// The table as fractions, `classCount × classCount`.
    ///
    /// `.trueLabels`: counts[t][p] / Σ_p' counts[t][p'];
    /// `.predictions`: counts[t][p] / Σ_t' counts[t'][p];
    /// `.all`: counts[t][p] / total.
    /// A row, column or table whose sum is 0 gives 0 there, as sklearn does.
    public func normalized(_ by: Normalization) -> [[Double]] {
        (0..<classCount).map { t in
            (0..<classCount).map { p in
                let denominator: Int
                switch by {
                case .trueLabels: denominator = rowSums[t]
                case .predictions: denominator = columnSums[p]
                case .all: denominator = total
                }
                return denominator == 0 ? 0 : Double(counts[t][p]) / Double(denominator)
            }
        }
    }

    /// The number of true samples of class `c` (row sum), its support.
    /// `c` must be in `0..<classCount` (checked with a precondition, like array indexing).
    public func support(_ c: Int) -> Int {
        checkClass(c)
        return rowSums[c]
    }

    /// How often class `c` was predicted (column sum). `c` must be in `0..<classCount`.
    public func predictedCount(_ c: Int) -> Int {
        checkClass(c)
        return columnSums[c]
    }

    /// TP(c) = counts[c][c]. `c` must be in `0..<classCount`.
    public func truePositives(_ c: Int) -> Int {
        checkClass(c)
        return counts[c][c]
    }

    /// FP(c) = column sum of c − counts[c][c]: samples of other classes predicted as c.
    /// `c` must be in `0..<classCount`.
    public func falsePositives(_ c: Int) -> Int {
        checkClass(c)
        return columnSums[c] - counts[c][c]
    }

    /// FN(c) = row sum of c − counts[c][c]: samples of class c predicted as another class.
    /// `c` must be in `0..<classCount`.
    public func falseNegatives(_ c: Int) -> Int {
        checkClass(c)
        return rowSums[c] - counts[c][c]
    }

    /// TN(c) = total − TP(c) − FP(c) − FN(c): samples neither of class c nor predicted as c.
    /// `c` must be in `0..<classCount`.
    public func trueNegatives(_ c: Int) -> Int {
        checkClass(c)
        return total - rowSums[c] - columnSums[c] + counts[c][c]
    }

    private func checkClass(_ c: Int) {
        precondition(c >= 0 && c < classCount, "class \(c) outside 0..<\(classCount)")
    }
}
