#if canImport(Glibc)
import Glibc
#endif

/// The ReLU family and its smooth relatives, forward and backward side by side:
/// - LeakyReLU: `x > 0 ? x : slope * x`
/// - PReLU: the same with a learnable slope `a`, one value or one per channel (axis 1)
/// - ELU: `x > 0 ? x : alpha * (e^x - 1)`
/// - SELU: `scale * ELU(x, alpha)` with alpha = 1.6732632423543772, scale = 1.0507009873554805
/// - GELU: `x * Phi(x)` (exact, with erf) or the tanh approximation
///   `0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`.
/// - HardTanh: `min(max(x, low), high)`; ReLU6 (MobileNet) is HardTanh on [0, 6].
extension Tensor {
    /// `min(max(x, low), high)` (`F.hardtanh`); gradient 1 strictly inside `(low, high)`, else 0
    /// (PyTorch's convention at the two corners).
    public func hardTanh(low: Float = -1, high: Float = 1) -> Tensor {
        let out = Tensor.uninitialized(shape)
        let o = out.pointer, p = pointer, n = count
        for i in 0..<n { o[i] = Swift.min(Swift.max(p[i], low), high) }
        return Tensor.record("hardTanh", out, inputs: [self]) { g in
            let d = Tensor.uninitialized(g.shape)
            let dp = d.pointer, gp = g.pointer
            for i in 0..<n { let v = p[i]; dp[i] = v > low && v < high ? gp[i] : 0 }
            return [d]
        }
    }

    /// `min(max(x, 0), 6)` (`F.relu6`, MobileNet v2's activation).
    public func relu6() -> Tensor { hardTanh(low: 0, high: 6) }

    /// `x > 0 ? x : slope * x`; gradient 1 or `slope`.
    public func leakyRelu(slope: Float = 0.01) -> Tensor {
        let out = Tensor.uninitialized(shape)
        let o = out.pointer, p = pointer, n = count
        for i in 0..<n { let v = p[i]; o[i] = v > 0 ? v : slope * v }
        return Tensor.record("leakyRelu", out, inputs: [self]) { g in
            let d = Tensor.uninitialized(g.shape)
            let dp = d.pointer, gp = g.pointer
            for i in 0..<n { let v = gp[i]; dp[i] = p[i] > 0 ? v : slope * v }
            return [d]
        }
    }

    /// Parametric ReLU (`F.prelu`): `x > 0 ? x : a * x` with `slope` `[1]` (shared) or `[C]`
    /// (one per channel of axis 1). Gradients: `dx = dy` or `a dy`; `da = Σ dy x` over `x <= 0`.
    public func prelu(slope: Tensor) throws -> Tensor {
        let channels = rank >= 2 ? shape[1] : 1
        guard slope.count == 1 || (rank >= 2 && slope.count == channels) else {
            throw TensorError.shapeMismatch(op: "prelu", "slope \(describe(slope.shape)) for input \(describe(shape)): needs 1 or \(channels) values")
        }
        let perChannel = slope.count > 1
        let inner = rank > 2 ? shape[2...].reduce(1, *) : 1
        let out = Tensor.uninitialized(shape)
        let o = out.pointer, p = pointer, a = slope.pointer, n = count
        func channel(_ i: Int) -> Int { perChannel ? (i / inner) % channels : 0 }
        for i in 0..<n { let v = p[i]; o[i] = v > 0 ? v : a[channel(i)] * v }
        let slopeShape = slope.shape
        return Tensor.record("prelu", out, inputs: [self, slope]) { g in
            let d = Tensor.uninitialized(g.shape)
            let da = Tensor(zeros: slopeShape)
            let dp = d.pointer, gp = g.pointer, dap = da.pointer
            for i in 0..<n {
                let v = p[i], gv = gp[i], c = channel(i)
                if v > 0 { dp[i] = gv } else { dp[i] = a[c] * gv; dap[c] += gv * v }
            }
            return [d, da]
        }
    }

    /// Exponential linear unit: `x > 0 ? x : alpha (e^x - 1)`; gradient 1 or `alpha e^x`.
    public func elu(alpha: Float = 1) -> Tensor { scaledELU(alpha: alpha, scale: 1, name: "elu") }

    /// Scaled ELU (Klambauer et al. 2017) with its fixed alpha and scale.
    public func selu() -> Tensor {
        scaledELU(alpha: 1.6732632423543772, scale: 1.0507009873554805, name: "selu")
    }

    private func scaledELU(alpha: Float, scale: Float, name: String) -> Tensor {
        let out = Tensor.uninitialized(shape)
        let o = out.pointer, p = pointer, n = count
        for i in 0..<n { let v = p[i]; o[i] = scale * (v > 0 ? v : alpha * expm1f(v)) }
        return Tensor.record(name, out, inputs: [self]) { g in
            let d = Tensor.uninitialized(g.shape)
            let dp = d.pointer, gp = g.pointer
            for i in 0..<n { let v = p[i]; dp[i] = gp[i] * scale * (v > 0 ? 1 : alpha * expf(v)) }
            return [d]
        }
    }

    /// How GELU is computed.
    public enum GELUApproximation: String, Sendable { case none, tanh }

    /// Gaussian error linear unit (Hendrycks & Gimpel 2016), `x Phi(x)`.
    public func gelu(approximate: GELUApproximation = .none) -> Tensor {
        let out = Tensor.uninitialized(shape)
        let o = out.pointer, p = pointer, n = count
        let k: Float = (2 / Float.pi).squareRoot(), c: Float = 0.044715, invSqrt2: Float = 1 / Float(2).squareRoot()
        switch approximate {
        case .none:
            for i in 0..<n { let v = p[i]; o[i] = 0.5 * v * (1 + erff(v * invSqrt2)) }
        case .tanh:
            for i in 0..<n { let v = p[i]; o[i] = 0.5 * v * (1 + tanhf(k * (v + c * v * v * v))) }
        }
        return Tensor.record("gelu", out, inputs: [self]) { g in
            let d = Tensor.uninitialized(g.shape)
            let dp = d.pointer, gp = g.pointer
            switch approximate {
            case .none:
                // d/dx x Phi(x) = Phi(x) + x phi(x)
                let invSqrt2Pi: Float = 1 / (2 * Float.pi).squareRoot()
                for i in 0..<n {
                    let v = p[i]
                    dp[i] = gp[i] * (0.5 * (1 + erff(v * invSqrt2)) + v * invSqrt2Pi * expf(-0.5 * v * v))
                }
            case .tanh:
                for i in 0..<n {
                    let v = p[i], t = tanhf(k * (v + c * v * v * v))
                    dp[i] = gp[i] * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * k * (1 + 3 * c * v * v))
                }
            }
            return [d]
        }
    }
}
