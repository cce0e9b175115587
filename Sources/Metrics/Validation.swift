// Input checks shared by the metrics; each throws a `MetricsError` naming the bad value.

/// Throws unless `a` and `b` are non-empty and equally long.
func checkPaired(_ aName: String, _ aCount: Int, _ bName: String, _ bCount: Int) throws {
    if aCount != bCount { throw MetricsError.lengthMismatch(aName, aCount, bName, bCount) }
    if aCount == 0 { throw MetricsError.empty(aName) }
}

/// Throws unless `classCount >= 1`.
func checkClassCount(_ classCount: Int) throws {
    if classCount < 1 { throw MetricsError.invalidClassCount(classCount) }
}

/// Throws for the first entry of `values` outside `0..<classCount`.
func checkClassIndices(_ name: String, _ values: [Int], classCount: Int) throws {
    for (i, v) in values.enumerated() where v < 0 || v >= classCount {
        throw MetricsError.labelOutOfRange(name: name, index: i, value: v, classCount: classCount)
    }
}

/// Throws for the first NaN in `values`, and also for the first infinity when `finite` is set.
func checkScores<T: BinaryFloatingPoint>(_ name: String, _ values: [T], finite: Bool) throws {
    for (i, v) in values.enumerated() {
        if v.isNaN { throw MetricsError.notANumber(name: name, index: i) }
        if finite && v.isInfinite { throw MetricsError.infinite(name: name, index: i, value: Double(v)) }
    }
}

/// Checks a row-major `[rows * classCount]` score matrix and returns its number of rows.
func checkScoreMatrix(_ scores: [Float], classCount: Int, finite: Bool) throws -> Int {
    try checkClassCount(classCount)
    if scores.isEmpty { throw MetricsError.empty("scores") }
    if scores.count % classCount != 0 {
        throw MetricsError.scoresNotMultiple(count: scores.count, classCount: classCount)
    }
    try checkScores("scores", scores, finite: finite)
    return scores.count / classCount
}
