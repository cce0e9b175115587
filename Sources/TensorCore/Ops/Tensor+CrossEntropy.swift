#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Multi-class losses on `[N, C]` rows: cross-entropy from logits (class indices or target
/// probabilities, with label smoothing and class weights) and the negative log-likelihood of
/// log-probabilities. N is the batch, C the number of classes; `logp = logSoftmax(logits)`
/// along C, `lse_n = log Σ_k e^(logits_nk)`.
///
/// Each row's loss is `ℓ_n = -Σ_k a_nk logp_nk` for per-class coefficients `a_nk`, whose
/// gradient with respect to the logits is `(Σ_k a_nk) softmax_n - a_n`: the cross-entropies
/// are fused so that no log-softmax tensor is kept for the backward pass.

extension Tensor {
    /// Cross-entropy of logits against class indices (PyTorch's `F.cross_entropy` with
    /// `label_smoothing` and `weight`).
    ///
    /// The target distribution of row n is `t_n = (1 - ε) onehot(y_n) + ε / C`
    /// (ε = `labelSmoothing` in [0, 1]); with class weights w (`[C]`, 1 when nil) the row loss
    /// is `ℓ_n = -(1 - ε) w_(y_n) logp[n, y_n] - (ε / C) Σ_k w_k logp[n, k]`.
    /// `.mean` divides `Σ_n ℓ_n` by `Σ_n w_(y_n)` (N without weights), `.sum` by 1,
    /// `.halfSum` by 2. With ε = 0 and no weights the mean is `-(1/N) Σ_n logp[n, y_n]`.
    ///
    /// - Parameters:
    ///   - logits: `[N, C]` unnormalised scores.
    ///   - targets: N class indices in `0..<C`.
    ///   - weight: optional `[C]` class weights (a constant, no gradient).
    /// - Returns: a scalar; gradient `f ((Σ_k a_nk) softmax(logits_n) - a_n)` with
    ///   `a_nk = (1 - ε) w_(y_n) [k = y_n] + (ε / C) w_k` and f the reduction's factor.
    public static func crossEntropy(logits: Tensor, targets: [Int], labelSmoothing: Float = 0,
                                    weight: Tensor? = nil, reduction: LossReduction = .mean) throws -> Tensor {
        let op = "crossEntropy"
        let (n, c) = try classRows(logits, op: op, name: "logits")
        guard targets.count == n else {
            throw TensorError.shapeMismatch(op: op, "\(targets.count) targets for \(n) rows of logits \(describe(logits.shape))")
        }
        try checkClassIndices(targets, classes: c, op: op)
        try checkLabelSmoothing(labelSmoothing, op: op)
        let w = try classWeights(weight, classes: c, op: op)
        let keep = 1 - labelSmoothing, spread = labelSmoothing / Float(c)
        var weightSum: Float = Float(c)
        if let w { weightSum = 0; for k in 0..<c { weightSum += w[k] } }

        let probabilities = Tensor.uninitialized([n, c])
        let x = logits.pointer, q = probabilities.pointer
        var total = 0.0, targetWeight = 0.0
        for r in 0..<n {
            let row = x + r * c, y = targets[r], wy = w?[y] ?? 1
            let lse = softmaxRow(row, into: q + r * c, count: c)
            var loss = Double(keep * wy) * Double(lse - row[y])
            if labelSmoothing > 0 {
                var smooth = 0.0
                if let w { for k in 0..<c { smooth += Double(w[k] * (lse - row[k])) } }
                else { for k in 0..<c { smooth += Double(lse - row[k]) } }
                loss += Double(spread) * smooth
            }
            total += loss
            targetWeight += Double(wy)
        }
        let factor = try meanFactor(reduction, count: targetWeight, op: op, weighted: w != nil)
        let out = Tensor(scalar: Float(total * factor))
        return record(op, out, inputs: [logits]) { g in
            let d = Tensor.uninitialized([n, c])
            let scale = g.item * Float(factor)
            // Re-read the pointers so the closure keeps the tensors (not just their memory) alive.
            let dp = d.pointer, q = probabilities.pointer, w = weight?.pointer
            for r in 0..<n {
                let y = targets[r], wy = w?[y] ?? 1
                let coefficientSum = keep * wy + spread * weightSum
                let drow = dp + r * c, qrow = q + r * c
                if let w { for k in 0..<c { drow[k] = scale * (coefficientSum * qrow[k] - spread * w[k]) } }
                else { for k in 0..<c { drow[k] = scale * (coefficientSum * qrow[k] - spread) } }
                drow[y] -= scale * keep * wy
            }
            return [d]
        }
    }

    /// Cross-entropy of logits against target probabilities (soft or one-hot labels; PyTorch's
    /// `F.cross_entropy` with probability targets).
    ///
    /// Targets are first smoothed to `t' = (1 - ε) t + ε / C` (ε = `labelSmoothing` in [0, 1]);
    /// the row loss is `ℓ_n = -Σ_k w_k t'_nk logp_nk` (w = optional `[C]` class weights, 1 when
    /// nil). `.mean` divides `Σ_n ℓ_n` by N (not by the weights, as PyTorch), `.sum` by 1,
    /// `.halfSum` by 2. Rows of `target` need not sum to 1; they are not checked.
    ///
    /// - Parameters:
    ///   - logits: `[N, C]` unnormalised scores.
    ///   - target: `[N, C]` probabilities.
    /// - Returns: a scalar; gradients `dL/dlogits = f ((Σ_k a_nk) softmax_n - a_n)` with
    ///   `a_nk = w_k t'_nk`, and `dL/dtarget = -f (1 - ε) w_k logp_nk`.
    public static func crossEntropy(logits: Tensor, probabilities target: Tensor, labelSmoothing: Float = 0,
                                    weight: Tensor? = nil, reduction: LossReduction = .mean) throws -> Tensor {
        let op = "crossEntropy"
        let (n, c) = try classRows(logits, op: op, name: "logits")
        try checkSameShape(logits, target, op: op, names: ("logits", "target probabilities"))
        try checkLabelSmoothing(labelSmoothing, op: op)
        let w = try classWeights(weight, classes: c, op: op)
        let keep = 1 - labelSmoothing, spread = labelSmoothing / Float(c)

        let probabilities = Tensor.uninitialized([n, c])
        var logSumExp = [Float](repeating: 0, count: n)
        let x = logits.pointer, t = target.pointer, q = probabilities.pointer
        var total = 0.0
        for r in 0..<n {
            let row = x + r * c, trow = t + r * c
            let lse = softmaxRow(row, into: q + r * c, count: c)
            logSumExp[r] = lse
            var loss = 0.0
            for k in 0..<c { loss += Double((w?[k] ?? 1) * (keep * trow[k] + spread) * (lse - row[k])) }
            total += loss
        }
        let factor = try meanFactor(reduction, count: Double(n), op: op, weighted: false)
        let out = Tensor(scalar: Float(total * factor))
        return record(op, out, inputs: [logits, target]) { g in
            let dx = Tensor.uninitialized([n, c]), dt = Tensor.uninitialized([n, c])
            let scale = g.item * Float(factor)
            let dxp = dx.pointer, dtp = dt.pointer, x = logits.pointer, t = target.pointer
            let q = probabilities.pointer, w = weight?.pointer
            for r in 0..<n {
                let o = r * c, lse = logSumExp[r]
                var coefficientSum: Float = 0
                for k in 0..<c { coefficientSum += (w?[k] ?? 1) * (keep * t[o + k] + spread) }
                for k in 0..<c {
                    let wk = w?[k] ?? 1
                    dxp[o + k] = scale * (coefficientSum * q[o + k] - wk * (keep * t[o + k] + spread))
                    dtp[o + k] = scale * keep * wk * (lse - x[o + k])
                }
            }
            return [dx, dt]
        }
    }

    /// Negative log-likelihood of log-probabilities at class indices (PyTorch's `F.nll_loss`):
    /// `ℓ_n = -w_(y_n) logp[n, y_n]`; `.mean` divides `Σ_n ℓ_n` by `Σ_n w_(y_n)` (N without
    /// weights), `.sum` by 1, `.halfSum` by 2. `crossEntropy(logits:targets:)` equals
    /// `nllLoss(logProbabilities: logits.logSoftmax(axis: 1), targets:)`.
    ///
    /// - Parameters:
    ///   - logProbabilities: `[N, C]`, usually the output of `logSoftmax(axis: 1)`.
    ///   - targets: N class indices in `0..<C`.
    ///   - weight: optional `[C]` class weights (a constant, no gradient).
    /// - Returns: a scalar; gradient `-f w_(y_n)` at `[n, y_n]` and 0 elsewhere.
    public static func nllLoss(logProbabilities: Tensor, targets: [Int], weight: Tensor? = nil,
                               reduction: LossReduction = .mean) throws -> Tensor {
        let op = "nllLoss"
        let (n, c) = try classRows(logProbabilities, op: op, name: "log-probabilities")
        guard targets.count == n else {
            throw TensorError.shapeMismatch(op: op, "\(targets.count) targets for \(n) rows of log-probabilities \(describe(logProbabilities.shape))")
        }
        try checkClassIndices(targets, classes: c, op: op)
        let w = try classWeights(weight, classes: c, op: op)
        let p = logProbabilities.pointer
        var total = 0.0, targetWeight = 0.0
        for r in 0..<n {
            let y = targets[r], wy = w?[y] ?? 1
            total -= Double(wy * p[r * c + y])
            targetWeight += Double(wy)
        }
        let factor = try meanFactor(reduction, count: targetWeight, op: op, weighted: w != nil)
        let out = Tensor(scalar: Float(total * factor))
        return record(op, out, inputs: [logProbabilities]) { g in
            let d = Tensor(zeros: [n, c])
            let scale = g.item * Float(factor), dp = d.pointer, w = weight?.pointer
            for r in 0..<n { let y = targets[r]; dp[r * c + y] = -scale * (w?[y] ?? 1) }
            return [d]
        }
    }

    // MARK: - Shared pieces

    /// Writes `softmax(row)` into `out` and returns `log Σ_k e^(row_k)` (max-shifted, stable).
    @inline(__always)
    static func softmaxRow(_ row: UnsafeMutablePointer<Float>, into out: UnsafeMutablePointer<Float>, count c: Int) -> Float {
        var m = -Float.infinity
        for k in 0..<c { m = Swift.max(m, row[k]) }
        var s: Float = 0
        for k in 0..<c { let e = expf(row[k] - m); out[k] = e; s += e }
        let inv = 1 / s
        for k in 0..<c { out[k] *= inv }
        return m + logf(s)
    }

    /// `(N, C)` of a `[N, C]` tensor with C >= 1, or an error quoting its shape.
    static func classRows(_ t: Tensor, op: String, name: String) throws -> (Int, Int) {
        guard t.rank == 2, t.shape[1] > 0 else {
            throw TensorError.shapeMismatch(op: op, "\(name) must be [N, C] with C >= 1, got \(describe(t.shape))")
        }
        return (t.shape[0], t.shape[1])
    }

    static func checkLabelSmoothing(_ epsilon: Float, op: String) throws {
        guard epsilon >= 0, epsilon <= 1 else {
            throw TensorError.invalidArgument(op: op, "label smoothing must be in [0, 1], got \(epsilon)")
        }
    }

    /// The pointer to `[C]` class weights, or nil without weights; throws for another shape.
    static func classWeights(_ weight: Tensor?, classes c: Int, op: String) throws -> UnsafeMutablePointer<Float>? {
        guard let weight else { return nil }
        guard weight.shape == [c] else {
            throw TensorError.shapeMismatch(op: op, "class weights must be [\(c)] for \(c) classes, got \(describe(weight.shape))")
        }
        return weight.pointer
    }

    /// The reduction's factor for a sum over `count` rows (or their total class weight); a mean
    /// over nothing is an error rather than a NaN.
    static func meanFactor(_ reduction: LossReduction, count: Double, op: String, weighted: Bool) throws -> Double {
        if reduction == .mean, !(count > 0) {
            throw TensorError.invalidArgument(op: op, weighted
                ? "mean reduction over a total target class weight of \(count) (the weights of the targets' classes sum to zero)"
                : "mean reduction over an empty batch (N = 0)")
        }
        return reduction.factor(count: count)
    }
}
