#if canImport(Glibc)
import Glibc
#endif

/// Local response normalisation across channels (Krizhevsky et al. 2012, sec. 3.3; ZFNet's
/// "contrast normalisation"), as PyTorch's `nn.LocalResponseNorm(size, alpha, beta, k)`:
///
///     s_c = k + (alpha / size) * Σ_{c' = c - size/2}^{c + (size-1)/2} a_{c'}²
///     b_c = a_c * s_c^(-beta)
///
/// over `[N, C, ...]` (channels on axis 1; out-of-range channels count as 0).
/// Backward, for the gradient `g` of `b`:
///
///     da_j = g_j s_j^(-beta) - (2 alpha beta / size) a_j Σ_{c: j in window(c)} g_c a_c s_c^(-beta-1)
extension Tensor {
    /// Normalises each value by the squares of its `size` neighbouring channels.
    public func localResponseNorm(size: Int, alpha: Float = 1e-4, beta: Float = 0.75, k: Float = 1) throws -> Tensor {
        guard rank >= 3 else {
            throw TensorError.shapeMismatch(op: "localResponseNorm", "input must be [N, C, ...], got \(describe(shape))")
        }
        guard size >= 1 else { throw TensorError.invalidArgument(op: "localResponseNorm", "size must be at least 1, got \(size)") }
        let n = shape[0], c = shape[1], inner = shape[2...].reduce(1, *)
        let before = size / 2, after = (size - 1) / 2
        let scale = alpha / Float(size)
        let out = Tensor.uninitialized(shape)
        let s = Tensor.uninitialized(shape)          // s_c for the backward pass
        let x = pointer, o = out.pointer
        let sForward = s.pointer
        Parallel.forRanges(n, minPerChunk: 1) { images in
            let sp = sForward
            for b in images {
                let base = b * c * inner
                for ch in 0..<c {
                    let lo = Swift.max(0, ch - before), hi = Swift.min(c - 1, ch + after)
                    let dst = base + ch * inner
                    for i in 0..<inner { sp[dst + i] = 0 }
                    for j in lo...hi {
                        let src = base + j * inner
                        for i in 0..<inner { let v = x[src + i]; sp[dst + i] += v * v }
                    }
                    for i in 0..<inner {
                        let sv = k + scale * sp[dst + i]
                        sp[dst + i] = sv
                        o[dst + i] = x[dst + i] * powf(sv, -beta)
                    }
                }
            }
        }
        return Tensor.record("localResponseNorm", out, inputs: [self], graph: .localResponseNorm(size: size, alpha: alpha, beta: beta, k: k)) { g in
            let sp = s.pointer   // keeps the saved s_c alive with the closure
            let d = Tensor.uninitialized(g.shape)
            let dp = d.pointer, gp = g.pointer
            let coefficient = 2 * alpha * beta / Float(size)
            Parallel.forRanges(n, minPerChunk: 1) { images in
                // t_c = g_c a_c s_c^(-beta-1), then da_j = g_j s_j^-beta - coef a_j Σ_{c = j-after}^{j+before} t_c
                var t = [Float](repeating: 0, count: c * inner)
                for b in images {
                    let base = b * c * inner
                    for q in 0..<(c * inner) { t[q] = gp[base + q] * x[base + q] * powf(sp[base + q], -beta - 1) }
                    for j in 0..<c {
                        let lo = Swift.max(0, j - after), hi = Swift.min(c - 1, j + before)
                        let at = base + j * inner
                        for i in 0..<inner {
                            var sum: Float = 0
                            for ch in lo...hi { sum += t[ch * inner + i] }
                            dp[at + i] = gp[at + i] * powf(sp[at + i], -beta) - coefficient * x[at + i] * sum
                        }
                    }
                }
            }
            return [d]
        }
    }
}
