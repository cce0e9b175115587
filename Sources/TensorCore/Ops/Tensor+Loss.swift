#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Loss functions on whole batches, each returning a scalar `[]` mean over the batch.

extension Tensor {
    /// Cross-entropy of logits against class indices (PyTorch's `F.cross_entropy`):
    /// `L = -(1/N) Σ_n Σ_k t_nk log softmax(logits_n)_k` with `t = (1 - ε) onehot(target) + ε / C`
    /// (`ε` = `labelSmoothing`, 0 by default, giving `-(1/N) Σ_n log softmax(logits_n)[target_n]`).
    /// `logits` is `[N, C]`; `targets` holds N indices in `0..<C`.
    /// Gradient: `(softmax(logits) - t) / N`, fused so no log-softmax tensor is kept.
    public static func crossEntropy(logits: Tensor, targets: [Int], labelSmoothing: Float = 0) throws -> Tensor {
        guard logits.rank == 2 else {
            throw TensorError.shapeMismatch(op: "crossEntropy", "logits must be [N, C], got \(describe(logits.shape))")
        }
        let n = logits.shape[0], c = logits.shape[1]
        guard targets.count == n else {
            throw TensorError.shapeMismatch(op: "crossEntropy", "\(targets.count) targets for \(n) rows of logits \(describe(logits.shape))")
        }
        if let bad = targets.first(where: { $0 < 0 || $0 >= c }) {
            throw TensorError.invalidArgument(op: "crossEntropy", "target \(bad) is outside 0..<\(c)")
        }
        guard labelSmoothing >= 0, labelSmoothing <= 1 else {
            throw TensorError.invalidArgument(op: "crossEntropy", "label smoothing must be in [0, 1], got \(labelSmoothing)")
        }
        let eps = labelSmoothing, offTarget = labelSmoothing / Float(c)
        let probabilities = Tensor.uninitialized([n, c])
        let p = logits.pointer, q = probabilities.pointer
        var total: Double = 0
        for r in 0..<n {
            let row = p + r * c, prow = q + r * c
            var m = -Float.infinity
            for k in 0..<c { m = Swift.max(m, row[k]) }
            var s: Float = 0
            for k in 0..<c { let e = expf(row[k] - m); prow[k] = e; s += e }
            let inv = 1 / s
            for k in 0..<c { prow[k] *= inv }
            let lse = m + logf(s)
            total -= Double(1 - eps) * Double(row[targets[r]] - lse)
            if eps > 0 {
                var logSum = 0.0
                for k in 0..<c { logSum += Double(row[k] - lse) }
                total -= Double(offTarget) * logSum
            }
        }
        let out = Tensor(scalar: Float(total / Double(Swift.max(n, 1))))
        return record("crossEntropy", out, inputs: [logits]) { g in
            let d = Tensor.uninitialized([n, c])
            let scale = g.item / Float(Swift.max(n, 1))
            let dp = d.pointer, q = probabilities.pointer
            for r in 0..<n {
                for k in 0..<c { dp[r * c + k] = (q[r * c + k] - offTarget) * scale }
                dp[r * c + targets[r]] -= (1 - eps) * scale
            }
            return [d]
        }
    }

    /// Squared error `(prediction - target)²` over all elements, reduced by `reduction`: the mean
    /// (PyTorch's `F.mse_loss` default), the sum, or the course's `1/2 Σ` whose gradient is
    /// `prediction - target` (seed 003). Shapes must match.
    public static func mseLoss(_ prediction: Tensor, _ target: Tensor, reduction: LossReduction = .mean) throws -> Tensor {
        try checkSameShape(prediction, target, op: "mseLoss")
        return reduction.apply(try (prediction - target).squared())
    }

    /// Absolute error `|prediction - target|` (MAE, PyTorch's `F.l1_loss`), reduced by `reduction`.
    /// The gradient at a zero difference is 0, as PyTorch's.
    public static func l1Loss(_ prediction: Tensor, _ target: Tensor, reduction: LossReduction = .mean) throws -> Tensor {
        try checkSameShape(prediction, target, op: "l1Loss")
        return reduction.apply(try (prediction - target).abs())
    }

    /// Cross-entropy of logits `[N, C]` against target probabilities `[N, C]` (soft or one-hot
    /// labels; PyTorch's `F.cross_entropy` with probability targets):
    /// `-(1/N) Σ_n Σ_k t_nk log softmax(logits_n)_k`, targets first smoothed to
    /// `(1 - ε) t + ε / C` by `labelSmoothing` ε.
    public static func crossEntropy(logits: Tensor, probabilities target: Tensor, labelSmoothing: Float = 0) throws -> Tensor {
        guard logits.rank == 2 else {
            throw TensorError.shapeMismatch(op: "crossEntropy", "logits must be [N, C], got \(describe(logits.shape))")
        }
        try checkSameShape(logits, target, op: "crossEntropy")
        guard labelSmoothing >= 0, labelSmoothing <= 1 else {
            throw TensorError.invalidArgument(op: "crossEntropy", "label smoothing must be in [0, 1], got \(labelSmoothing)")
        }
        let c = Float(logits.shape[1])
        let t = labelSmoothing == 0 ? target : target.affine(scale: 1 - labelSmoothing, shift: labelSmoothing / c)
        let perRow = try (try logits.logSoftmax(axis: 1) * t.detached()).sum(axes: [1])
        return try perRow.mean().negated()
    }

    /// Negative log-likelihood of log-probabilities `[N, C]` (the output of `logSoftmax`) at
    /// class indices: `-(1/N) Σ_n logp[n, target_n]` (PyTorch's `F.nll_loss`).
    public static func nllLoss(logProbabilities: Tensor, targets: [Int]) throws -> Tensor {
        guard logProbabilities.rank == 2, logProbabilities.shape[0] == targets.count else {
            throw TensorError.shapeMismatch(op: "nllLoss", "log-probabilities \(describe(logProbabilities.shape)) for \(targets.count) targets; expected [N, C]")
        }
        let c = logProbabilities.shape[1]
        if let bad = targets.first(where: { $0 < 0 || $0 >= c }) {
            throw TensorError.invalidArgument(op: "nllLoss", "target \(bad) is outside 0..<\(c)")
        }
        let picked = try oneHot(targets, classes: c)
        return try (logProbabilities * picked).sum().affine(scale: -1 / Float(Swift.max(targets.count, 1)), shift: 0)
    }

    /// Binary cross-entropy of probabilities in [0, 1] against targets in [0, 1]
    /// (PyTorch's `F.binary_cross_entropy`): `-mean(t log p + (1 - t) log(1 - p))`, each log
    /// clamped at -100 as PyTorch does.
    public static func binaryCrossEntropy(_ probabilities: Tensor, _ target: Tensor, reduction: LossReduction = .mean) throws -> Tensor {
        try checkSameShape(probabilities, target, op: "binaryCrossEntropy")
        if let bad = probabilities.values.first(where: { !($0 >= 0 && $0 <= 1) }) {
            throw TensorError.invalidArgument(op: "binaryCrossEntropy", "probabilities must be in [0, 1], got \(bad)")
        }
        let p = probabilities.pointer, t = target.pointer, n = probabilities.count
        let out = Tensor.uninitialized(probabilities.shape)
        let o = out.pointer
        for i in 0..<n {
            o[i] = -(t[i] * Swift.max(logf(p[i]), -100) + (1 - t[i]) * Swift.max(logf(1 - p[i]), -100))
        }
        let elementwise = record("binaryCrossEntropy", out, inputs: [probabilities, target]) { g in
            // d/dp = (p - t) / (p (1 - p)), with p(1-p) kept away from 0 (PyTorch clamps at 1e-12).
            let d = Tensor.uninitialized(g.shape), dt = Tensor.uninitialized(g.shape)
            let dp = d.pointer, dtp = dt.pointer, gp = g.pointer
            for i in 0..<n {
                dp[i] = gp[i] * (p[i] - t[i]) / Swift.max(p[i] * (1 - p[i]), 1e-12)
                dtp[i] = -gp[i] * (Swift.max(logf(p[i]), -100) - Swift.max(logf(1 - p[i]), -100))
            }
            return [d, dt]
        }
        return reduction.apply(elementwise)
    }

    /// Binary cross-entropy on logits (PyTorch's `F.binary_cross_entropy_with_logits`), in the
    /// stable form `max(x, 0) - x t + log(1 + e^-|x|)`; gradient `sigmoid(x) - t`.
    public static func binaryCrossEntropyWithLogits(_ logits: Tensor, _ target: Tensor, reduction: LossReduction = .mean) throws -> Tensor {
        try checkSameShape(logits, target, op: "binaryCrossEntropyWithLogits")
        let x = logits.pointer, t = target.pointer, n = logits.count
        let out = Tensor.uninitialized(logits.shape)
        let o = out.pointer
        for i in 0..<n { o[i] = Swift.max(x[i], 0) - x[i] * t[i] + log1pf(expf(-Swift.abs(x[i]))) }
        let elementwise = record("binaryCrossEntropyWithLogits", out, inputs: [logits, target]) { g in
            let d = Tensor.uninitialized(g.shape), dt = Tensor.uninitialized(g.shape)
            let dp = d.pointer, dtp = dt.pointer, gp = g.pointer
            for i in 0..<n {
                dp[i] = gp[i] * (1 / (1 + expf(-x[i])) - t[i])
                dtp[i] = -gp[i] * x[i]
            }
            return [d, dt]
        }
        return reduction.apply(elementwise)
    }

    /// One-hot rows `[N, classes]` for class indices (a constant, no gradient).
    public static func oneHot(_ labels: [Int], classes: Int) throws -> Tensor {
        guard classes > 0 else { throw TensorError.invalidArgument(op: "oneHot", "classes must be positive, got \(classes)") }
        if let bad = labels.first(where: { $0 < 0 || $0 >= classes }) {
            throw TensorError.invalidArgument(op: "oneHot", "label \(bad) is outside 0..<\(classes)")
        }
        let t = Tensor(zeros: [labels.count, classes])
        for (r, k) in labels.enumerated() { t.pointer[r * classes + k] = 1 }
        return t
    }

    static func checkSameShape(_ a: Tensor, _ b: Tensor, op: String) throws {
        guard a.shape == b.shape else {
            throw TensorError.shapeMismatch(op: op, "prediction \(describe(a.shape)) vs target \(describe(b.shape))")
        }
    }
}

/// How an elementwise loss is reduced to a scalar.
public enum LossReduction: String, Sendable, CaseIterable {
    /// The mean over all elements (PyTorch's default).
    case mean
    /// The sum over all elements.
    case sum
    /// Half the sum, the course's `1/2 Σ (ŷ - y)²` whose derivative is `ŷ - y` (seed 003).
    case halfSum

    func apply(_ t: Tensor) -> Tensor {
        switch self {
        case .mean: return t.mean()
        case .sum: return t.sum()
        case .halfSum: return t.sum().affine(scale: 0.5, shift: 0)
        }
    }
}
