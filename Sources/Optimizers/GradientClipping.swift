import TensorCore

/// Gradient clipping, applied between `backward()` and the optimizer's step.
public enum GradientClipping {
    /// Scales all gradients together so their joint norm is at most `maxNorm` (PyTorch's
    /// `clip_grad_norm_`): with `total = ‖(g_1, ..., g_k)‖_p` (p = 2 or infinity), every gradient
    /// is multiplied by `maxNorm / (total + 1e-6)` when that is below 1. Returns `total`.
    @discardableResult
    public static func clipNorm(_ parameters: [Tensor], maxNorm: Float, infinityNorm: Bool = false) throws -> Float {
        guard maxNorm > 0, maxNorm.isFinite else { throw OptimizerError.invalid("max gradient norm must be > 0, got \(maxNorm)") }
        var total = 0.0
        for p in parameters {
            guard let g = p.grad else { continue }
            let gp = g.pointer
            for i in 0..<g.count {
                let v = Double(gp[i])
                total = infinityNorm ? Swift.max(total, Swift.abs(v)) : total + v * v
            }
        }
        let norm = Float(infinityNorm ? total : total.squareRoot())
        let coefficient = maxNorm / (norm + 1e-6)
        if coefficient < 1 {
            for p in parameters {
                guard let g = p.grad else { continue }
                let gp = g.pointer
                for i in 0..<g.count { gp[i] *= coefficient }
            }
        }
        return norm
    }

    /// Clamps every gradient element to `[-clipValue, clipValue]` (PyTorch's `clip_grad_value_`).
    public static func clipValue(_ parameters: [Tensor], clipValue: Float) throws {
        guard clipValue > 0, clipValue.isFinite else { throw OptimizerError.invalid("gradient clip value must be > 0, got \(clipValue)") }
        for p in parameters {
            guard let g = p.grad else { continue }
            let gp = g.pointer
            for i in 0..<g.count { gp[i] = Swift.min(Swift.max(gp[i], -clipValue), clipValue) }
        }
    }
}
