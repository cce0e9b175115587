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
        try normalize(input, weight: weight, bias: bias, runningMean: runningMean, runningVar: runningVar,
                      training: training, momentum: momentum, eps: eps, slope: nil)
    }

    /// `batchNorm(...).prelu(slope:)` as one op: the PReLU is applied as the normalised
    /// values are written, and its mask is recomputed from x^ in the backward, so neither
    /// batch norm's output nor the gradient between the two is stored. `slope` is `[1]`
    /// (shared) or `[C]`. On planes of fewer than 8 values (`[N, C]`) it is the two ops
    /// one after the other. Same values and gradients as the two ops, within rounding.
    public static func batchNormPReLU(_ input: Tensor, weight: Tensor?, bias: Tensor?, runningMean: Tensor?, runningVar: Tensor?,
                                      training: Bool, momentum: Float = 0.1, eps: Float = 1e-5, slope: Tensor) throws -> Tensor {
        let channels = input.rank >= 2 ? input.shape[1] : 1
        guard slope.count == 1 || slope.count == channels else {
            throw TensorError.shapeMismatch(op: "batchNormPReLU",
                "slope \(describe(slope.shape)) for input \(describe(input.shape)): needs 1 or \(channels) values")
        }
        return try normalize(input, weight: weight, bias: bias, runningMean: runningMean, runningVar: runningVar,
                             training: training, momentum: momentum, eps: eps, slope: slope)
    }

    /// `batchNorm`, followed by a PReLU with `slope` unless it is nil.
    static func normalize(_ input: Tensor, weight: Tensor?, bias: Tensor?, runningMean: Tensor?, runningVar: Tensor?,
                          training: Bool, momentum: Float, eps: Float, slope: Tensor?) throws -> Tensor {
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
        let kernels = NormalizationKernels(N: N, C: C, plane: plane)
        var mean = [Float](repeating: 0, count: C), invstd = [Float](repeating: 0, count: C)
        let x = UnsafePointer(input.pointer)
        if useBatch {
            let sums = kernels.statistics(x, mean: nil)
            let mu = sums.map { $0 / Double(M) }
            let muF = mu.map { Float($0) }
            let squares = kernels.statistics(x, mean: muF)
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
        let affine = NormalizationKernels.Affine(gamma: weight.map { UnsafePointer($0.pointer) },
                                                 beta: bias.map { UnsafePointer($0.pointer) },
                                                 slope: slope.map { UnsafePointer($0.pointer) }, perChannelSlope: (slope?.count ?? 1) > 1)
        kernels.forward(x, mean: mean, invstd: invstd, affine, y: out.pointer)
        var inputs = [input]
        if let weight { inputs.append(weight) }
        if let bias { inputs.append(bias) }
        if let slope { inputs.append(slope) }
        let slopeShape = slope?.shape
        let graph: GraphOp? = slope == nil ? .batchNorm(training: training, momentum: momentum, eps: eps, affine: weight != nil) : nil
        let graphInputs = [input] + [weight, bias, runningMean, runningVar].compactMap { $0 }
        // The backward reads the input (x^ is recomputed from it) and the affine terms, not the output.
        return record(slope == nil ? "batchNorm" : "batchNormPReLU", out, inputs: inputs, saving: inputs, graph: graph,
                      graphInputs: graphInputs) { dOut in
            let sums = kernels.backwardSums(dy: UnsafePointer(dOut.pointer), x: x, mean: mean, invstd: invstd, affine)
            let sd = sums.dy.map { Float($0) }, sdx = sums.dyXh.map { Float($0) }
            // dx^ = dy * gamma, so the sums of dx^ are gamma times those of dy: k folds gamma in.
            let k = (0..<C).map { c in (affine.gamma?[c] ?? 1) * invstd[c] / (useBatch ? Float(M) : 1) }
            let dInput = Tensor.uninitialized(input.shape)
            kernels.inputGradient(dy: UnsafePointer(dOut.pointer), x: x, mean: mean, invstd: invstd, affine, k: k,
                                  M: M, sd: useBatch ? sd : nil, sdx: sdx, dx: dInput.pointer)
            var grads: [Tensor?] = [dInput]
            if weight != nil { grads.append(Tensor(sdx)) }
            if bias != nil { grads.append(Tensor(sd)) }
            if let slopeShape, let da = sums.slope {
                // The slope's gradient: per channel, or the channels' sums added in order when shared.
                let total = affine.perChannelSlope ? da : [da.reduce(0, +)]
                grads.append(try! Tensor(shape: slopeShape, values: total.map { Float($0) }))
            }
            return grads
        }
    }
}

/// Batch norm's passes over `[N, C, plane]` on the C kernels of batchnorm.c. Planes of 8 or
/// more go row by row (a row is one image's plane of one channel), rows split over threads
/// and their sums added in image order; shorter planes (`[N, C]` has planes of 1) go
/// through the whole tensor channel by channel in one call. Either way the sums do not
/// depend on the thread count.
struct NormalizationKernels {
    let N: Int, C: Int, plane: Int
    var rows: Int { N * C }
    var byRows: Bool { plane >= 8 }
    /// Rows per thread chunk: about 16K values.
    var chunk: Int { Swift.max(1, (1 << 14) / plane) }

    /// gamma and beta (nil: 1 and 0), and the PReLU applied after them (nil: none).
    struct Affine {
        let gamma: UnsafePointer<Float>?, beta: UnsafePointer<Float>?
        let slope: UnsafePointer<Float>?
        let perChannelSlope: Bool
        var perChannelFlag: Int32 { perChannelSlope ? 1 : 0 }
    }

    /// `[C]` sums of each channel's values, or with `mean` of their squared deviations.
    func statistics(_ x: UnsafePointer<Float>, mean: [Float]?) -> [Double] {
        mean.withOptionalBuffer { m in
            guard byRows else {
                var sums = [Double](repeating: 0, count: C)
                fovea_bn_columns_statistics(N, C, plane, x, m, &sums)
                return sums
            }
            var perRow = [Double](repeating: 0, count: rows)
            perRow.withUnsafeMutableBufferPointer { out in
                let o = UncheckedSendable(out.baseAddress!), xs = UncheckedSendable(x), ms = UncheckedSendable(m)
                Parallel.forRanges(rows, minPerChunk: chunk) { r in
                    fovea_bn_statistics(r.count, plane, C, r.lowerBound, xs.value + r.lowerBound * plane, ms.value,
                                        o.value + r.lowerBound)
                }
            }
            return Tensor.channelTotals(perRow, channels: C)
        }
    }

    /// `y = gamma * (x - mean) * invstd + beta`, then the PReLU if there is one.
    func forward(_ x: UnsafePointer<Float>, mean: [Float], invstd: [Float], _ affine: Affine, y: UnsafeMutablePointer<Float>) {
        let xs = UncheckedSendable(x), ys = UncheckedSendable(y), af = UncheckedSendable(affine)
        let plane = plane, C = C
        withStatistics(mean, invstd) { m, s in
            Parallel.forRanges(rows, minPerChunk: chunk) { r in
                let at = r.lowerBound * plane, a = af.value
                fovea_bn_forward(r.count, plane, C, r.lowerBound, xs.value + at, m.value, s.value, a.gamma, a.beta,
                                 a.slope, a.perChannelFlag, ys.value + at)
            }
        }
    }

    /// Per channel: the sums of d and of d * x^, d being the gradient that reaches batch norm
    /// (dy, or through the PReLU), and with a PReLU its slope's gradient.
    func backwardSums(dy: UnsafePointer<Float>, x: UnsafePointer<Float>, mean: [Float], invstd: [Float], _ affine: Affine)
        -> (dy: [Double], dyXh: [Double], slope: [Double]?) {
        let count = byRows ? rows : C
        var sd = [Double](repeating: 0, count: count), sdx = sd, da = sd
        let hasSlope = affine.slope != nil
        withStatistics(mean, invstd) { m, s in
            sd.withUnsafeMutableBufferPointer { a in
                sdx.withUnsafeMutableBufferPointer { b in
                    da.withUnsafeMutableBufferPointer { d in
                        guard byRows else {
                            fovea_bn_columns_backward_sums(N, C, plane, dy, x, m.value, s.value, affine.gamma, affine.beta,
                                                           affine.slope, affine.perChannelFlag, a.baseAddress!, b.baseAddress!,
                                                           d.baseAddress!)
                            return
                        }
                        let sa = UncheckedSendable(a.baseAddress!), sb = UncheckedSendable(b.baseAddress!)
                        let sda = UncheckedSendable(d.baseAddress!), dys = UncheckedSendable(dy), xs = UncheckedSendable(x)
                        let af = UncheckedSendable(affine), plane = plane, C = C
                        Parallel.forRanges(rows, minPerChunk: chunk) { r in
                            let at = r.lowerBound * plane, f = af.value, o = r.lowerBound
                            fovea_bn_backward_sums(r.count, plane, C, o, dys.value + at, xs.value + at, m.value, s.value,
                                                   f.gamma, f.beta, f.slope, f.perChannelFlag, sa.value + o, sb.value + o,
                                                   sda.value + o)
                        }
                    }
                }
            }
        }
        guard byRows else { return (sd, sdx, hasSlope ? da : nil) }
        return (Tensor.channelTotals(sd, channels: C), Tensor.channelTotals(sdx, channels: C),
                hasSlope ? Tensor.channelTotals(da, channels: C) : nil)
    }

    /// `dx = k[c] * (M * d - sd[c] - x^ * sdx[c])`, or `k[c] * d` without `sd` (running statistics).
    func inputGradient(dy: UnsafePointer<Float>, x: UnsafePointer<Float>, mean: [Float], invstd: [Float], _ affine: Affine,
                       k: [Float], M: Int, sd: [Float]?, sdx: [Float], dx: UnsafeMutablePointer<Float>) {
        let dys = UncheckedSendable(dy), xs = UncheckedSendable(x), dxs = UncheckedSendable(dx), af = UncheckedSendable(affine)
        let plane = plane, C = C
        withStatistics(mean, invstd) { m, s in
            k.withUnsafeBufferPointer { kp in
                sd.withOptionalBuffer { sdp in
                    sdx.withUnsafeBufferPointer { sdxp in
                        let ks = UncheckedSendable(kp.baseAddress!), sds = UncheckedSendable(sdp)
                        let sdxs = UncheckedSendable(sdxp.baseAddress!)
                        Parallel.forRanges(rows, minPerChunk: chunk) { r in
                            let at = r.lowerBound * plane, f = af.value
                            fovea_bn_backward(r.count, plane, C, r.lowerBound, dys.value + at, xs.value + at, m.value, s.value,
                                              f.gamma, f.beta, f.slope, f.perChannelFlag, ks.value, Float(M), sds.value,
                                              sdxs.value, dxs.value + at)
                        }
                    }
                }
            }
        }
    }

    /// `body` with the addresses of the per-channel mean and inverse standard deviation.
    private func withStatistics<R>(_ mean: [Float], _ invstd: [Float],
                                   _ body: (UncheckedSendable<UnsafePointer<Float>>, UncheckedSendable<UnsafePointer<Float>>) -> R) -> R {
        mean.withUnsafeBufferPointer { mp in
            invstd.withUnsafeBufferPointer { sp in body(UncheckedSendable(mp.baseAddress!), UncheckedSendable(sp.baseAddress!)) }
        }
    }
}

extension Optional where Wrapped == [Float] {
    /// Calls `body` with the array's base address, or with nil when there is no array
    /// (an empty array's address is not nil, so it cannot stand for "absent").
    func withOptionalBuffer<R>(_ body: (UnsafePointer<Float>?) -> R) -> R {
        switch self {
        case .some(let values): return values.withUnsafeBufferPointer { body($0.baseAddress!) }
        case .none: return body(nil)
        }
    }
}
