import CFoveaKernels
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
        return Tensor.record("hardTanh", out, inputs: [self], graph: .hardTanh(low: low, high: high)) { g in
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
        return Tensor.record("leakyRelu", out, inputs: [self], graph: .leakyReLU(slope: slope)) { g in
            let d = Tensor.uninitialized(g.shape)
            let dp = d.pointer, gp = g.pointer
            for i in 0..<n { let v = gp[i]; dp[i] = p[i] > 0 ? v : slope * v }
            return [d]
        }
    }

    /// Parametric ReLU (`F.prelu`): `x > 0 ? x : a * x` with `slope` `[1]` (shared) or `[C]`
    /// (one per channel of axis 1). Gradients: `dx = dy` or `a dy`; `da = Σ dy x` over `x <= 0`.
    ///
    /// The input is walked as runs that share one slope (the whole tensor when shared, one
    /// `H*W` plane per channel, or for `[N, C]` one row against the slope vector), split over
    /// threads for large tensors; each thread's slope gradient is added in thread order.
    public func prelu(slope: Tensor) throws -> Tensor {
        let channels = rank >= 2 ? shape[1] : 1
        guard slope.count == 1 || (rank >= 2 && slope.count == channels) else {
            throw TensorError.shapeMismatch(op: "prelu", "slope \(describe(slope.shape)) for input \(describe(shape)): needs 1 or \(channels) values")
        }
        let walk = PReLUWalk(count: count, channels: slope.count > 1 ? channels : 1,
                             inner: slope.count > 1 && rank > 2 ? shape[2...].reduce(1, *) : 1)
        let out = Tensor.uninitialized(shape)
        let o = out.pointer, p = UnsafePointer(pointer), a = UnsafePointer(slope.pointer)
        walk.run { range, _ in walk.forward(range, p, a, o) }
        let slopeShape = slope.shape
        return Tensor.record("prelu", out, inputs: [self, slope], saving: [self, slope], graph: .prelu) { g in
            let d = Tensor.uninitialized(g.shape)
            let da = Tensor(zeros: slopeShape)
            let partials = TensorStorage(count: walk.chunks * walk.channels)
            let dp = d.pointer, gp = UnsafePointer(g.pointer)
            walk.run { range, chunk in
                walk.backward(range, p, a, gp, dp, partials.pointer + chunk * walk.channels)
            }
            for chunk in 0..<walk.chunks {
                for c in 0..<walk.channels { da.pointer[c] += partials.pointer[chunk * walk.channels + c] }
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
        return Tensor.record(name, out, inputs: [self], graph: name == "selu" ? .function(.selu) : .elu(alpha: alpha)) { g in
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
        return Tensor.record("gelu", out, inputs: [self], graph: .gelu(approximate)) { g in
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

/// How `prelu` walks its input: `count` values as consecutive items that each use one
/// slope. With a shared slope (`channels == 1`) an item is one value; per channel with
/// planes (`inner > 1`) an item is one `inner`-long plane, channel `item % channels`; per
/// channel without planes (`[N, C]`) an item is one row of `channels` values.
struct PReLUWalk {
    let count, channels, inner: Int

    /// What `run` splits: values, planes or rows.
    var items: Int { channels == 1 ? count : inner > 1 ? count / inner : count / channels }
    /// Threads used: one below 64K values, where the hand-off costs more than it saves.
    var chunks: Int { count < 1 << 16 ? 1 : Swift.max(1, Swift.min(Parallel.threadCount, items)) }

    /// Runs `body(items, chunk)` on `chunks` contiguous ranges of items, concurrently.
    func run(_ body: (Range<Int>, Int) -> Void) {
        let n = items, k = chunks
        Parallel.forEachChunk(k) { c in body(n * c / k ..< n * (c + 1) / k, c) }
    }

    /// Calls `body(values, channel)` for each run of values in `range` that shares a slope
    /// (rows of `[N, C]` instead go value by value inside `rowBody`).
    @inline(__always)
    func runs(_ range: Range<Int>, _ body: (Range<Int>, Int) -> Void, rowBody: (Int) -> Void) {
        if channels == 1 {
            body(range, 0)
        } else if inner > 1 {
            for plane in range { body(plane * inner ..< (plane + 1) * inner, plane % channels) }
        } else {
            for row in range { rowBody(row * channels) }
        }
    }

    func forward(_ range: Range<Int>, _ x: UnsafePointer<Float>, _ a: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        runs(range, { values, c in
            fovea_prelu_forward(values.count, x + values.lowerBound, a[c], y + values.lowerBound)
        }, rowBody: { base in
            for c in 0..<channels { let v = x[base + c]; y[base + c] = v > 0 ? v : a[c] * v }
        })
    }

    /// `dx` for the items of `range`, and their `Σ dy x` over `x <= 0` added into `da`.
    func backward(_ range: Range<Int>, _ x: UnsafePointer<Float>, _ a: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                  _ dx: UnsafeMutablePointer<Float>, _ da: UnsafeMutablePointer<Float>) {
        runs(range, { values, c in
            // In C: eight partial sums at a time (one running float sum would wait on each add).
            let j = values.lowerBound
            da[c] += fovea_prelu_backward(values.count, x + j, a[c], dy + j, dx + j)
        }, rowBody: { base in
            for c in 0..<channels {
                let v = x[base + c], g = dy[base + c], negative = !(v > 0)
                dx[base + c] = negative ? a[c] * g : g
                da[c] += negative ? g * v : 0
            }
        })
    }
}
