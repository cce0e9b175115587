#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Binary (per-element) cross-entropy, on probabilities or on logits. Inputs and targets have
/// the same (any) shape; targets are probabilities in [0, 1] (hard 0/1 labels or soft ones).

extension Tensor {
    /// Binary cross-entropy of probabilities (PyTorch's `F.binary_cross_entropy`):
    /// `ℓ_i = -(t_i log p_i + (1 - t_i) log(1 - p_i))`, each log clamped at -100 as PyTorch does
    /// (so p = 0 or 1 gives a finite loss), reduced by `reduction`.
    ///
    /// - Parameters:
    ///   - probabilities: p, values in [0, 1] (e.g. a `sigmoid` output); any shape.
    ///   - target: t, the same shape.
    /// - Returns: a scalar; gradients `dL/dp = f (p - t) / max(p (1 - p), 1e-12)` (PyTorch's
    ///   clamp) and `dL/dt = f (log(1 - p) - log p)` (clamped logs), f the reduction's factor.
    /// - Throws: for different shapes, or a probability outside [0, 1] (quoted with its index).
    public static func binaryCrossEntropy(_ probabilities: Tensor, _ target: Tensor, reduction: LossReduction = .mean) throws -> Tensor {
        let op = "binaryCrossEntropy"
        try checkSameShape(probabilities, target, op: op, names: ("probabilities", "target"))
        let n = probabilities.count
        let p = probabilities.pointer, t = target.pointer
        for i in 0..<n where !(p[i] >= 0 && p[i] <= 1) {
            throw TensorError.invalidArgument(op: op, "probabilities must be in [0, 1], got \(p[i]) at flat index \(i)")
        }
        var total = 0.0
        for i in 0..<n {
            total -= Double(t[i] * Swift.max(logf(p[i]), -100) + (1 - t[i]) * Swift.max(logf(1 - p[i]), -100))
        }
        let factor = reduction.factor(count: Double(n))
        let out = Tensor(scalar: Float(total * factor))
        return record(op, out, inputs: [probabilities, target]) { g in
            let scale = g.item * Float(factor)
            let dp = Tensor.uninitialized(probabilities.shape), dt = Tensor.uninitialized(probabilities.shape)
            let dpp = dp.pointer, dtp = dt.pointer, p = probabilities.pointer, t = target.pointer
            for i in 0..<n {
                dpp[i] = scale * (p[i] - t[i]) / Swift.max(p[i] * (1 - p[i]), 1e-12)
                dtp[i] = scale * (Swift.max(logf(1 - p[i]), -100) - Swift.max(logf(p[i]), -100))
            }
            return [dp, dt]
        }
    }

    /// Binary cross-entropy on logits x (PyTorch's `F.binary_cross_entropy_with_logits`), the
    /// sigmoid folded in: `ℓ_i = -(w⁺ t_i log σ(x_i) + (1 - t_i) log(1 - σ(x_i)))`, computed in
    /// the stable form `ℓ = (1 - t) x + (1 + (w⁺ - 1) t) softplus(-x)` with
    /// `softplus(-x) = max(-x, 0) + log(1 + e^-|x|)`, reduced by `reduction`.
    ///
    /// - Parameters:
    ///   - logits: x, any shape `[..., C]`.
    ///   - target: t, the same shape.
    ///   - posWeight: optional `[C]` weights w⁺ of the positive term, one per class along the
    ///     last axis (1 when nil; a constant, no gradient).
    /// - Returns: a scalar; gradients `dL/dx = f ((1 + (w⁺ - 1) t) (σ(x) - 1) + 1 - t)` (that is
    ///   `f (σ(x) - t)` without `posWeight`) and `dL/dt = f ((w⁺ - 1) softplus(-x) - x)`.
    public static func binaryCrossEntropyWithLogits(_ logits: Tensor, _ target: Tensor, posWeight: Tensor? = nil,
                                                    reduction: LossReduction = .mean) throws -> Tensor {
        let op = "binaryCrossEntropyWithLogits"
        try checkSameShape(logits, target, op: op, names: ("logits", "target"))
        let n = logits.count, c = logits.shape.last ?? 1
        if let posWeight, posWeight.shape != [c] {
            throw TensorError.shapeMismatch(op: op, "posWeight must be [\(c)] (the last axis of logits \(describe(logits.shape))), got \(describe(posWeight.shape))")
        }
        let x = logits.pointer, t = target.pointer, pw = posWeight?.pointer
        var total = 0.0
        for i in 0..<n {
            let softplusNeg = Swift.max(-x[i], 0) + log1pf(expf(-Swift.abs(x[i])))
            let positive = 1 + ((pw?[i % c] ?? 1) - 1) * t[i]
            total += Double((1 - t[i]) * x[i] + positive * softplusNeg)
        }
        let factor = reduction.factor(count: Double(n))
        let out = Tensor(scalar: Float(total * factor))
        return record(op, out, inputs: [logits, target]) { g in
            let scale = g.item * Float(factor)
            let dx = Tensor.uninitialized(logits.shape), dt = Tensor.uninitialized(logits.shape)
            let dxp = dx.pointer, dtp = dt.pointer, x = logits.pointer, t = target.pointer, pw = posWeight?.pointer
            for i in 0..<n {
                let xi = x[i], wPlus = pw?[i % c] ?? 1
                // σ(x) split by sign so e^x never overflows.
                let sigma: Float = xi >= 0 ? 1 / (1 + expf(-xi)) : expf(xi) / (1 + expf(xi))
                let softplusNeg = Swift.max(-xi, 0) + log1pf(expf(-Swift.abs(xi)))
                dxp[i] = scale * ((1 + (wPlus - 1) * t[i]) * (sigma - 1) + 1 - t[i])
                dtp[i] = scale * ((wPlus - 1) * softplusNeg - xi)
            }
            return [dx, dt]
        }
    }
}
