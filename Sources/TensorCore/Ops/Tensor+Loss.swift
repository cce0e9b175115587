/// Regression losses and what every loss shares: how a loss is reduced to a scalar, the shape
/// checks, and one-hot targets. The classification losses are in `Tensor+CrossEntropy.swift`
/// and `Tensor+BinaryCrossEntropy.swift`.
///
/// Every loss returns a scalar `[]` and records a hand-written backward (forward and backward
/// side by side). The gradient of a reduced loss is the elementwise derivative times the
/// reduction's factor (`1/n` for the mean, 1 for the sum, `1/2` for the half sum).

/// How an elementwise loss `ℓ_i` is reduced to a scalar.
public enum LossReduction: String, Sendable, CaseIterable {
    /// `(1/n) Σ ℓ_i`, the mean over all elements (PyTorch's default; for class-weighted
    /// cross-entropy and NLL the weighted mean `Σ w ℓ / Σ w`, as PyTorch).
    case mean
    /// `Σ ℓ_i`, the sum over all elements.
    case sum
    /// `1/2 Σ ℓ_i`, the course's `E = 1/2 Σ (ŷ - y)²` whose derivative is `ŷ - y` (seed 003).
    case halfSum

    /// The factor the sum of the elementwise losses is multiplied by, for `count` elements
    /// (or the total class weight of a weighted mean).
    func factor(count: Double) -> Double {
        switch self {
        case .mean: return count > 0 ? 1 / count : .nan
        case .sum: return 1
        case .halfSum: return 0.5
        }
    }
}

extension Tensor {
    /// Squared error, `L = r(Σ_i (prediction_i - target_i)²)` with `r` the `reduction`: the mean
    /// (PyTorch's `F.mse_loss` default, the course's MSE `1/n Σ (y - ŷ)²`), the sum, or the
    /// course's `1/2 Σ (ŷ - y)²` (seed 003). `prediction` and `target` have the same (any) shape.
    ///
    /// Gradients: `dL/dprediction = 2 f (prediction - target)` with `f` the reduction's factor
    /// (`1/n`, 1 or `1/2`: the half sum gives `ŷ - y`), and `dL/dtarget = -dL/dprediction`.
    public static func mseLoss(_ prediction: Tensor, _ target: Tensor, reduction: LossReduction = .mean) throws -> Tensor {
        try checkSameShape(prediction, target, op: "mseLoss")
        let n = prediction.count
        let diff = Tensor.uninitialized(prediction.shape)
        let x = prediction.pointer, y = target.pointer, d = diff.pointer
        var total = 0.0
        for i in 0..<n { let e = x[i] - y[i]; d[i] = e; total += Double(e * e) }
        let factor = reduction.factor(count: Double(n))
        let out = Tensor(scalar: Float(total * factor))
        return record("mseLoss", out, inputs: [prediction, target]) { g in
            let scale = 2 * g.item * Float(factor)
            let dx = Tensor.uninitialized(diff.shape), dy = Tensor.uninitialized(diff.shape)
            let dxp = dx.pointer, dyp = dy.pointer, d = diff.pointer
            for i in 0..<n { let v = scale * d[i]; dxp[i] = v; dyp[i] = -v }
            return [dx, dy]
        }
    }

    /// Absolute error (MAE; PyTorch's `F.l1_loss`), `L = r(Σ_i |prediction_i - target_i|)`
    /// with `r` the `reduction`. `prediction` and `target` have the same (any) shape.
    ///
    /// Gradients: `dL/dprediction = f sign(prediction - target)` with `f` the reduction's factor
    /// and `sign(0) = 0` as in PyTorch; `dL/dtarget = -dL/dprediction`.
    public static func l1Loss(_ prediction: Tensor, _ target: Tensor, reduction: LossReduction = .mean) throws -> Tensor {
        try checkSameShape(prediction, target, op: "l1Loss")
        let n = prediction.count
        let diff = Tensor.uninitialized(prediction.shape)
        let x = prediction.pointer, y = target.pointer, d = diff.pointer
        var total = 0.0
        for i in 0..<n { let e = x[i] - y[i]; d[i] = e; total += Double(Swift.abs(e)) }
        let factor = reduction.factor(count: Double(n))
        let out = Tensor(scalar: Float(total * factor))
        return record("l1Loss", out, inputs: [prediction, target]) { g in
            let scale = g.item * Float(factor)
            let dx = Tensor.uninitialized(diff.shape), dy = Tensor.uninitialized(diff.shape)
            let dxp = dx.pointer, dyp = dy.pointer, d = diff.pointer
            for i in 0..<n {
                let e = d[i]
                let v: Float = e > 0 ? scale : (e < 0 ? -scale : 0)
                dxp[i] = v; dyp[i] = -v
            }
            return [dx, dy]
        }
    }

    /// One-hot rows `[N, classes]` for class indices (a constant, no gradient).
    public static func oneHot(_ labels: [Int], classes: Int) throws -> Tensor {
        guard classes > 0 else { throw TensorError.invalidArgument(op: "oneHot", "classes must be positive, got \(classes)") }
        try checkClassIndices(labels, classes: classes, op: "oneHot")
        let t = Tensor(zeros: [labels.count, classes])
        for (r, k) in labels.enumerated() { t.pointer[r * classes + k] = 1 }
        return t
    }

    static func checkSameShape(_ a: Tensor, _ b: Tensor, op: String, names: (String, String) = ("prediction", "target")) throws {
        guard a.shape == b.shape else {
            throw TensorError.shapeMismatch(op: op, "\(names.0) \(describe(a.shape)) vs \(names.1) \(describe(b.shape))")
        }
    }

    /// Throws for the first index outside `0..<classes`, quoting it and its position.
    static func checkClassIndices(_ targets: [Int], classes: Int, op: String) throws {
        for (i, k) in targets.enumerated() where k < 0 || k >= classes {
            throw TensorError.invalidArgument(op: op, "target \(k) at position \(i) is outside 0..<\(classes)")
        }
    }
}
