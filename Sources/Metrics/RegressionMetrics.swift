/// Mean squared error, mean absolute error and the coefficient of determination R² of
/// predictions against targets (sklearn `mean_squared_error`, `mean_absolute_error`, `r2_score`).
///
/// With n pairs (y_i, ŷ_i) and ȳ = (1/n) Σ y_i:
/// - MSE = (1/n) Σ (y_i − ŷ_i)²
/// - MAE = (1/n) Σ |y_i − ŷ_i|
/// - R² = 1 − SS_res / SS_tot with SS_res = Σ (y_i − ŷ_i)², SS_tot = Σ (y_i − ȳ)²
///
/// Constant targets (SS_tot = 0) follow sklearn's `force_finite=True`: R² = 1.0 when the
/// predictions are perfect (SS_res = 0) and 0.0 otherwise. A single pair counts as constant
/// targets too (sklearn returns NaN there, with a warning). All sums are in `Double`.
public struct RegressionMetrics: Sendable, Equatable {
    /// (1/n) Σ (y_i − ŷ_i)².
    public let meanSquaredError: Double
    /// (1/n) Σ |y_i − ŷ_i|.
    public let meanAbsoluteError: Double
    /// 1 − SS_res / SS_tot (see the type's notes for constant targets); at most 1, unbounded below.
    public let r2: Double

    /// Computes the three metrics.
    ///
    /// - Parameters:
    ///   - targets: n true values, finite.
    ///   - predictions: n predicted values, finite.
    /// - Throws: `MetricsError` for empty or mismatched arrays or a NaN or infinite value.
    public init(targets: [Double], predictions: [Double]) throws {
        try checkPaired("targets", targets.count, "predictions", predictions.count)
        try checkScores("targets", targets, finite: true)
        try checkScores("predictions", predictions, finite: true)
        let n = Double(targets.count)
        var sumSquared = 0.0, sumAbsolute = 0.0, sumTargets = 0.0
        for i in 0..<targets.count {
            let e = targets[i] - predictions[i]
            sumSquared += e * e
            sumAbsolute += abs(e)
            sumTargets += targets[i]
        }
        let mean = sumTargets / n
        var totalSquares = 0.0
        for y in targets { totalSquares += (y - mean) * (y - mean) }
        self.meanSquaredError = sumSquared / n
        self.meanAbsoluteError = sumAbsolute / n
        if totalSquares == 0 {
            self.r2 = sumSquared == 0 ? 1 : 0
        } else {
            self.r2 = 1 - sumSquared / totalSquares
        }
    }

    /// The same metrics from `Float` arrays, each value converted exactly to `Double`.
    public init(targets: [Float], predictions: [Float]) throws {
        try self.init(targets: targets.map(Double.init), predictions: predictions.map(Double.init))
    }
}
