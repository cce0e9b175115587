#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Loss functions on whole batches, each returning a scalar `[]` mean over the batch.

extension Tensor {
    /// Cross-entropy of logits against class indices (PyTorch's `F.cross_entropy`):
    /// `L = -(1/N) Σ_n log softmax(logits_n)[target_n]`.
    /// `logits` is `[N, C]`; `targets` holds N indices in `0..<C`.
    /// Gradient: `(softmax(logits) - onehot(target)) / N`, fused so no log-softmax tensor is kept.
    public static func crossEntropy(logits: Tensor, targets: [Int]) throws -> Tensor {
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
            total -= Double(row[targets[r]] - m - logf(s))
        }
        let out = Tensor(scalar: Float(total / Double(Swift.max(n, 1))))
        return record("crossEntropy", out, inputs: [logits]) { g in
            let d = Tensor.uninitialized([n, c])
            let scale = g.item / Float(Swift.max(n, 1))
            let dp = d.pointer, q = probabilities.pointer
            for r in 0..<n {
                for k in 0..<c { dp[r * c + k] = q[r * c + k] * scale }
                dp[r * c + targets[r]] -= scale
            }
            return [d]
        }
    }

    /// Mean squared error `(1/N) Σ (prediction - target)²` over all elements (PyTorch's
    /// `F.mse_loss`, reduction "mean"). Shapes must match.
    public static func mseLoss(_ prediction: Tensor, _ target: Tensor) throws -> Tensor {
        guard prediction.shape == target.shape else {
            throw TensorError.shapeMismatch(op: "mseLoss", "prediction \(describe(prediction.shape)) vs target \(describe(target.shape))")
        }
        return try (prediction - target).squared().mean()
    }
}
