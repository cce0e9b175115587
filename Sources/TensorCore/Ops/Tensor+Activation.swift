import CFoveaKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Activation functions, forward and backward side by side.
/// ReLU `max(0, x)`; tanh; sigmoid `1 / (1 + e^-x)`; softmax and log-softmax along an axis.

extension Tensor {
    /// `max(0, x)` elementwise; gradient 1 where x > 0, else 0.
    public func relu() -> Tensor {
        let out = Tensor.uninitialized(shape)
        let o = out.pointer, p = pointer, n = count
        // Unconditional loads and a select, so the loops vectorise.
        Parallel.forRanges(n, minPerChunk: 1 << 16) { r in
            for i in r { let x = p[i]; o[i] = x > 0 ? x : 0 }
        }
        let y = UnsafePointer(o)
        return Tensor.record("relu", out, inputs: [self], saving: [out.storage], graph: .function(.relu)) { g in [Tensor.reluGradient(g, output: y)] }
    }

    /// A ReLU's backward: `g` where the ReLU's output `output` (shaped as `g`) is positive,
    /// 0 elsewhere, as a new tensor (`fovea_relu_mask`, split over threads).
    static func reluGradient(_ g: Tensor, output: UnsafePointer<Float>) -> Tensor {
        let d = Tensor.uninitialized(g.shape)
        let dp = UncheckedSendable(d.pointer), gp = UncheckedSendable(UnsafePointer(g.pointer)), y = UncheckedSendable(output)
        Parallel.forRanges(d.count, minPerChunk: 1 << 16) { r in
            fovea_relu_mask(r.count, y.value + r.lowerBound, gp.value + r.lowerBound, dp.value + r.lowerBound)
        }
        return d
    }

    /// `max(0, a + b)` for tensors of one shape, in one pass (a residual block's output);
    /// the gradient `g` where the output is positive, 0 elsewhere, goes to both.
    public static func reluOfSum(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        guard a.shape == b.shape else {
            throw TensorError.shapeMismatch(op: "reluOfSum", "\(describe(a.shape)) and \(describe(b.shape)) must match")
        }
        let out = Tensor.uninitialized(a.shape)
        let o = UncheckedSendable(out.pointer), pa = UncheckedSendable(UnsafePointer(a.pointer))
        let pb = UncheckedSendable(UnsafePointer(b.pointer))
        Parallel.forRanges(out.count, minPerChunk: 1 << 16) { r in
            fovea_add_relu(r.count, pa.value + r.lowerBound, pb.value + r.lowerBound, o.value + r.lowerBound)
        }
        let y = UnsafePointer(out.pointer)
        let aNeeds = a.requiresGrad, bNeeds = b.requiresGrad
        return record("reluOfSum", out, inputs: [a, b], saving: [out.storage]) { g in
            // Separate tensors: each input's gradient may later be accumulated in place.
            [aNeeds ? reluGradient(g, output: y) : nil, bNeeds ? reluGradient(g, output: y) : nil]
        }
    }

    /// Hyperbolic tangent; gradient `1 - y²`.
    public func tanh() -> Tensor {
        let out = Tensor.uninitialized(shape)
        let o = out.pointer, p = pointer
        for i in 0..<count { o[i] = tanhf(p[i]) }
        return Tensor.record("tanh", out, inputs: [self], saving: [out.storage], graph: .function(.tanh)) { g in
            let d = Tensor.uninitialized(g.shape)
            let dp = d.pointer, gp = g.pointer
            for i in 0..<d.count { dp[i] = gp[i] * (1 - o[i] * o[i]) }
            return [d]
        }
    }

    /// Logistic sigmoid `1 / (1 + e^-x)`; gradient `y (1 - y)`.
    public func sigmoid() -> Tensor {
        let out = Tensor.uninitialized(shape)
        let o = out.pointer, p = pointer
        for i in 0..<count {
            let x = p[i]
            // Split by sign so e^x never overflows.
            if x >= 0 { o[i] = 1 / (1 + expf(-x)) } else { let e = expf(x); o[i] = e / (1 + e) }
        }
        return Tensor.record("sigmoid", out, inputs: [self], saving: [out.storage], graph: .function(.sigmoid)) { g in
            let d = Tensor.uninitialized(g.shape)
            let dp = d.pointer, gp = g.pointer
            for i in 0..<d.count { dp[i] = gp[i] * o[i] * (1 - o[i]) }
            return [d]
        }
    }

    /// The lanes along `axis`: for a shape split as `[outer, n, inner]` around the axis, calls
    /// `body(base)` once per lane, whose elements are `base + k * inner` for `k` in `0..<n`.
    @inline(__always)
    static func forEachLane(outer: Int, inner: Int, n: Int, _ body: (_ base: Int) -> Void) {
        for a in 0..<outer { for i in 0..<inner { body(a * n * inner + i) } }
    }

    /// `(n, outer, inner)` for lanes along `axis`.
    func laneGeometry(_ axis: Int, op: String) throws -> (n: Int, outer: Int, inner: Int) {
        let ax = try ShapeMath.axis(axis, rank: rank, op: op)
        return (shape[ax], shape[..<ax].reduce(1, *), shape[(ax + 1)...].reduce(1, *))
    }

    /// Log-softmax along `axis`: `x_i - max - log Σ_j e^(x_j - max)` (stable).
    /// Gradient: `g - softmax · Σ g`.
    public func logSoftmax(axis: Int = -1) throws -> Tensor {
        let (n, outer, inner) = try laneGeometry(axis, op: "logSoftmax")
        let out = Tensor.uninitialized(shape)
        let o = out.pointer, p = pointer
        Tensor.forEachLane(outer: outer, inner: inner, n: n) { base in
            var m = -Float.infinity
            for k in 0..<n { m = Swift.max(m, p[base + k * inner]) }
            var s: Float = 0
            for k in 0..<n { s += expf(p[base + k * inner] - m) }
            let lse = m + logf(s)
            for k in 0..<n { o[base + k * inner] = p[base + k * inner] - lse }
        }
        return Tensor.record("logSoftmax", out, inputs: [self], saving: [out.storage], graph: .logSoftmax(axis: axis)) { g in
            let d = Tensor.uninitialized(g.shape)
            let dp = d.pointer, gp = g.pointer
            Tensor.forEachLane(outer: outer, inner: inner, n: n) { base in
                var gs: Float = 0
                for k in 0..<n { gs += gp[base + k * inner] }
                for k in 0..<n { dp[base + k * inner] = gp[base + k * inner] - expf(o[base + k * inner]) * gs }
            }
            return [d]
        }
    }

    /// Softmax along `axis`: `e^(x_i - max) / Σ_j e^(x_j - max)`.
    /// Gradient: `y ⊙ (g - Σ g ⊙ y)`.
    public func softmax(axis: Int = -1) throws -> Tensor {
        let (n, outer, inner) = try laneGeometry(axis, op: "softmax")
        let out = Tensor.uninitialized(shape)
        let o = out.pointer, p = pointer
        Tensor.forEachLane(outer: outer, inner: inner, n: n) { base in
            var m = -Float.infinity
            for k in 0..<n { m = Swift.max(m, p[base + k * inner]) }
            var s: Float = 0
            for k in 0..<n { let e = expf(p[base + k * inner] - m); o[base + k * inner] = e; s += e }
            for k in 0..<n { o[base + k * inner] /= s }
        }
        return Tensor.record("softmax", out, inputs: [self], saving: [out.storage], graph: .softmax(axis: axis)) { g in
            let d = Tensor.uninitialized(g.shape)
            let dp = d.pointer, gp = g.pointer
            Tensor.forEachLane(outer: outer, inner: inner, n: n) { base in
                var dot: Float = 0
                for k in 0..<n { dot += gp[base + k * inner] * o[base + k * inner] }
                for k in 0..<n { dp[base + k * inner] = o[base + k * inner] * (gp[base + k * inner] - dot) }
            }
            return [d]
        }
    }
}
