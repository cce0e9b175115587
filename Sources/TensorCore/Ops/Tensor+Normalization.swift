import CFoveaKernels
#if canImport(Glibc)
import Glibc
#endif

/// Batch normalisation (Ioffe & Szegedy 2015) over the channel axis 1 of `[N, C]` or
/// `[N, C, H, W]`, forward and backward side by side.
///
/// Per channel c, over the `M = N * H * W` values x of that channel:
///   training:   mu = mean(x), var = mean((x - mu)^2) (biased), x^ = (x - mu) / sqrt(var + eps)
///   evaluation: mu, var = the running statistics
///   y = gamma * x^ + beta
/// In training the running statistics move as PyTorch's (`momentum` 0.1 by default):
///   running_mean = (1 - momentum) * running_mean + momentum * mu
///   running_var  = (1 - momentum) * running_var  + momentum * var * M / (M - 1)   (unbiased)
/// Backward in training (gradients through the batch statistics):
///   dbeta = sum(dy), dgamma = sum(dy * x^), dx^ = dy * gamma,
///   dx = invstd / M * (M * dx^ - sum(dx^) - x^ * sum(dx^ * x^))
/// and in evaluation `dx = dy * gamma * invstd`.
extension Tensor {
    public static func batchNorm(_ input: Tensor, weight: Tensor?, bias: Tensor?, runningMean: Tensor?, runningVar: Tensor?,
                                 training: Bool, momentum: Float = 0.1, eps: Float = 1e-5) throws -> Tensor {
        guard input.rank == 2 || input.rank == 4 else {
            throw TensorError.shapeMismatch(op: "batchNorm", "input must be [N, C] or [N, C, H, W], got \(describe(input.shape))")
        }
        let N = input.shape[0], C = input.shape[1], plane = input.rank == 4 ? input.shape[2] * input.shape[3] : 1
        let M = N * plane
        for (name, t) in [("weight", weight), ("bias", bias), ("running_mean", runningMean), ("running_var", runningVar)] {
            if let t, t.shape != [C] {
                throw TensorError.shapeMismatch(op: "batchNorm", "\(name) \(describe(t.shape)) for \(C) channels of input \(describe(input.shape))")
            }
        }
        guard eps > 0 else { throw TensorError.invalidArgument(op: "batchNorm", "eps must be positive, got \(eps)") }
        let useBatch = training || runningMean == nil || runningVar == nil
        if useBatch && M < 2 && training {
            throw TensorError.invalidArgument(op: "batchNorm",
                "training needs more than one value per channel, got input \(describe(input.shape))")
        }
        // Per-channel statistics, two passes (mean, then squared deviations).
        var mean = [Float](repeating: 0, count: C), invstd = [Float](repeating: 0, count: C)
        let x = UnsafePointer(input.pointer)
        // Planes of 8 or more go through the C row kernels (batchnorm.c), narrower ones
        // (`[N, C]`) through `channelSums`'s loops over channels.
        let rowKernels = plane >= 8
        if useBatch {
            let sums = rowKernels ? rowSums(N: N, C: C, plane: plane, x, mean: nil) :
                channelSums(N: N, C: C, plane: plane) { i in x[i] } lanes: { i in
                    UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
                }
            let mu = sums.map { $0 / Double(M) }
            let muF = mu.map { Float($0) }
            let squares = rowKernels ? rowSums(N: N, C: C, plane: plane, x, mean: muF) :
                channelSums(N: N, C: C, plane: plane) { i, c in
                    let d = x[i] - muF[c]; return d * d
                } lanes: { i, c in
                    let d = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self) - SIMD8(repeating: muF[c]); return d * d
                }
            for c in 0..<C {
                let variance = squares[c] / Double(M)
                mean[c] = muF[c]
                invstd[c] = Float(1 / (variance + Double(eps)).squareRoot())
                if training, let rm = runningMean, let rv = runningVar {
                    rm.pointer[c] = (1 - momentum) * rm.pointer[c] + momentum * Float(mu[c])
                    rv.pointer[c] = (1 - momentum) * rv.pointer[c] + momentum * Float(squares[c] / Double(M - 1))
                }
            }
        } else {
            for c in 0..<C {
                mean[c] = runningMean!.pointer[c]
                invstd[c] = 1 / (runningVar!.pointer[c] + eps).squareRoot()
            }
        }
        let out = Tensor.uninitialized(input.shape)
        let normalized = Tensor.uninitialized(input.shape)   // x^, kept for backward
        let y = out.pointer, xh = normalized.pointer
        let gamma = weight?.pointer, beta = bias?.pointer
        if rowKernels {
            let xs = UncheckedSendable(x), ys = UncheckedSendable(y), hs = UncheckedSendable(xh)
            let gs = UncheckedSendable(gamma.map { UnsafePointer($0) }), bs = UncheckedSendable(beta.map { UnsafePointer($0) })
            mean.withUnsafeBufferPointer { mp in
                invstd.withUnsafeBufferPointer { sp in
                    let m = UncheckedSendable(mp.baseAddress!), s = UncheckedSendable(sp.baseAddress!)
                    Parallel.forRanges(N * C, minPerChunk: Swift.max(1, (1 << 14) / plane)) { rows in
                        let at = rows.lowerBound * plane
                        fovea_bn_forward(rows.count, plane, C, rows.lowerBound, xs.value + at, m.value, s.value, gs.value,
                                         bs.value, hs.value + at, ys.value + at)
                    }
                }
            }
        } else {
            Parallel.forRanges(N * C, minPerChunk: 16) { rows in
                for r in rows {
                    let c = r % C, base = r * plane
                    let m = mean[c], s = invstd[c], g = gamma?[c] ?? 1, b = beta?[c] ?? 0
                    for i in base..<(base + plane) { let h = (x[i] - m) * s; xh[i] = h; y[i] = g * h + b }
                }
            }
        }
        var inputs = [input]
        if let weight { inputs.append(weight) }
        if let bias { inputs.append(bias) }
        let hasWeight = weight != nil, hasBias = bias != nil
        return record("batchNorm", out, inputs: inputs) { dOut in
            let dy = dOut.pointer, xh = normalized.pointer
            let dyc = UnsafePointer(dy), xhc = UnsafePointer(xh)
            if rowKernels {
                return rowKernelBackward(shape: input.shape, N: N, C: C, plane: plane, dy: dyc, xh: xhc, gamma: gamma.map { UnsafePointer($0) },
                                         invstd: invstd, batchStatistics: useBatch, hasWeight: hasWeight, hasBias: hasBias)
            }
            let sumDy = channelSums(N: N, C: C, plane: plane) { i in dyc[i] } lanes: { i in
                UnsafeRawPointer(dyc + i).loadUnaligned(as: SIMD8<Float>.self)
            }.map { Float($0) }
            let sumDyXh = channelSums(N: N, C: C, plane: plane) { i in dyc[i] * xhc[i] } lanes: { i in
                UnsafeRawPointer(dyc + i).loadUnaligned(as: SIMD8<Float>.self) * UnsafeRawPointer(xhc + i).loadUnaligned(as: SIMD8<Float>.self)
            }.map { Float($0) }
            let dInput = Tensor.uninitialized(input.shape)
            let dx = dInput.pointer
            Parallel.forRanges(N * C, minPerChunk: 16) { rows in
                for r in rows {
                    let c = r % C, base = r * plane
                    let g = gamma?[c] ?? 1, s = invstd[c]
                    if useBatch {
                        // dx^ = dy * g, so the sums of dx^ are g times those of dy.
                        let k = g * s / Float(M), a = Float(M), sd = sumDy[c], sdx = sumDyXh[c]
                        for i in base..<(base + plane) { dx[i] = k * (a * dy[i] - sd - xh[i] * sdx) }
                    } else {
                        let k = g * s
                        for i in base..<(base + plane) { dx[i] = k * dy[i] }
                    }
                }
            }
            var grads: [Tensor?] = [dInput]
            if hasWeight { grads.append(Tensor(sumDyXh)) }
            if hasBias { grads.append(Tensor(sumDy)) }
            return grads
        }
    }
}

extension Tensor {
    /// Per-channel totals of the rows of `[N, C, plane]` (`fovea_bn_statistics`): sums, or
    /// with `mean` squared deviations from it; rows in parallel, added in image order.
    static func rowSums(N: Int, C: Int, plane: Int, _ x: UnsafePointer<Float>, mean: [Float]?) -> [Double] {
        var perRow = [Double](repeating: 0, count: N * C)
        perRow.withUnsafeMutableBufferPointer { out in
            let o = UncheckedSendable(out.baseAddress!), xs = UncheckedSendable(x)
            let run = { (m: UnsafePointer<Float>?) in
                let ms = UncheckedSendable(m)
                Parallel.forRanges(N * C, minPerChunk: Swift.max(1, (1 << 14) / plane)) { rows in
                    fovea_bn_statistics(rows.count, plane, C, rows.lowerBound, xs.value + rows.lowerBound * plane, ms.value,
                                        o.value + rows.lowerBound)
                }
            }
            if let mean { mean.withUnsafeBufferPointer { run($0.baseAddress!) } } else { run(nil) }
        }
        return channelTotals(perRow, channels: C)
    }

    /// Batch norm's backward on the C row kernels: `[dx, dgamma?, dbeta?]`.
    static func rowKernelBackward(shape: [Int], N: Int, C: Int, plane: Int, dy: UnsafePointer<Float>, xh: UnsafePointer<Float>,
                                  gamma: UnsafePointer<Float>?, invstd: [Float], batchStatistics: Bool,
                                  hasWeight: Bool, hasBias: Bool) -> [Tensor?] {
        let rows = N * C, M = N * plane
        let chunk = Swift.max(1, (1 << 14) / plane)
        var rowDy = [Double](repeating: 0, count: rows), rowDyXh = [Double](repeating: 0, count: rows)
        let dys = UncheckedSendable(dy), xhs = UncheckedSendable(xh)
        rowDy.withUnsafeMutableBufferPointer { a in
            rowDyXh.withUnsafeMutableBufferPointer { b in
                let sa = UncheckedSendable(a.baseAddress!), sb = UncheckedSendable(b.baseAddress!)
                Parallel.forRanges(rows, minPerChunk: chunk) { r in
                    let at = r.lowerBound * plane
                    fovea_bn_backward_sums(r.count, plane, dys.value + at, xhs.value + at, sa.value + r.lowerBound,
                                           sb.value + r.lowerBound)
                }
            }
        }
        let sd = channelTotals(rowDy, channels: C).map { Float($0) }
        let sdx = channelTotals(rowDyXh, channels: C).map { Float($0) }
        // dx^ = dy * gamma, so the sums of dx^ are gamma times those of dy: k folds gamma in.
        let k = (0..<C).map { c in (gamma?[c] ?? 1) * invstd[c] / (batchStatistics ? Float(M) : 1) }
        let dInput = Tensor.uninitialized(shape)
        let dx = UncheckedSendable(dInput.pointer)
        k.withUnsafeBufferPointer { kp in
            sd.withUnsafeBufferPointer { sdp in
                sdx.withUnsafeBufferPointer { sdxp in
                    let ks = UncheckedSendable(kp.baseAddress!)
                    let sds = UncheckedSendable(batchStatistics ? sdp.baseAddress : nil), sdxs = UncheckedSendable(sdxp.baseAddress!)
                    Parallel.forRanges(rows, minPerChunk: chunk) { r in
                        let at = r.lowerBound * plane
                        fovea_bn_backward(r.count, plane, C, r.lowerBound, dys.value + at, xhs.value + at, ks.value, Float(M),
                                          sds.value, sdxs.value, dx.value + at)
                    }
                }
            }
        }
        var grads: [Tensor?] = [dInput]
        if hasWeight { grads.append(Tensor(sdx)) }
        if hasBias { grads.append(Tensor(sd)) }
        return grads
    }
}

extension Tensor {
    /// Per-channel sums `Σ_{n,i} f(index)` over an `[N, C, plane]` layout, in Double.
    ///
    /// With planes of 8 or more, each `(n, c)` plane is summed with eight float partial
    /// sums (`lanes(i)` gives `f` at indices `i..<i+8`), planes run in parallel, and the
    /// plane sums are added in Double in a fixed order, so the result does not depend on
    /// threads. Without planes (`[N, C]`) the rows are added in order, vectorised over c.
    @inline(__always)
    static func channelSums(N: Int, C: Int, plane: Int, _ f: (Int) -> Float,
                            lanes: (Int) -> SIMD8<Float>) -> [Double] {
        channelSums(N: N, C: C, plane: plane, { i, _ in f(i) }, lanes: { i, _ in lanes(i) })
    }

    /// `channelSums` where `f` and `lanes` also get the channel.
    @inline(__always)
    static func channelSums(N: Int, C: Int, plane: Int, _ f: (Int, Int) -> Float,
                            lanes: (Int, Int) -> SIMD8<Float>) -> [Double] {
        var sums = [Double](repeating: 0, count: C)
        if plane < 8 {
            for n in 0..<N { for c in 0..<C { for i in 0..<plane { sums[c] += Double(f((n * C + c) * plane + i, c)) } } }
            return sums
        }
        let rows = N * C
        var rowSums = [Double](repeating: 0, count: rows)
        rowSums.withUnsafeMutableBufferPointer { out in
            let o = out.baseAddress!
            Parallel.forRanges(rows, minPerChunk: Swift.max(1, 4096 / plane)) { range in
                for r in range {
                    let c = r % C, base = r * plane
                    var acc = SIMD8<Float>()
                    var i = base
                    while i + 8 <= base + plane { acc += lanes(i, c); i += 8 }
                    var total = Double(acc.sum())
                    while i < base + plane { total += Double(f(i, c)); i += 1 }
                    o[r] = total
                }
            }
        }
        for r in 0..<rows { sums[r % C] += rowSums[r] }
        return sums
    }
}
