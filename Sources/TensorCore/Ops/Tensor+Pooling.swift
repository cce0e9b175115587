import CFoveaKernels

/// Max, average and sum pooling over the spatial axes of NCHW tensors, forward and backward.
///
/// Output size per axis: `floor((W + pb + pa - F) / S) + 1` (ceil with `ceilMode`, where a
/// last window must start inside the input or its left padding). Padding counts as -inf for
/// max pooling and as 0 for sums; average pooling divides by the window size including
/// padding (PyTorch's `count_include_pad=True`) unless `countIncludePad` is false.

/// Which reduction a pooling window applies.
public enum PoolKind: Sendable, Equatable {
    case max, average, sum

    /// The op's name in errors and on the tape (a literal: interpolating the case would
    /// go through reflection on every call).
    var opName: String {
        switch self {
        case .max: "maxPool2d"
        case .average: "averagePool2d"
        case .sum: "sumPool2d"
        }
    }
}

/// The geometry of a pooling op.
struct PoolGeometry {
    var planes, H, W, OH, OW: Int
    var kh, kw, sh, sw, pt, pl: Int
}

extension Tensor {
    /// Pools windows of `kernel` moved by `stride` (default: the kernel size) over `[N, C, H, W]`,
    /// giving `[N, C, OH, OW]`.
    public static func pool2d(_ input: Tensor, kind: PoolKind, kernel: Size2D, stride: Size2D? = nil,
                              padding: Padding = .valid, ceilMode: Bool = false,
                              countIncludePad: Bool = true) throws -> Tensor {
        let name = kind.opName
        guard input.rank == 4 else {
            throw TensorError.shapeMismatch(op: name, "input must be [N, C, H, W], got \(describe(input.shape))")
        }
        let s = stride ?? kernel
        guard kernel.h >= 1, kernel.w >= 1, s.h >= 1, s.w >= 1 else {
            throw TensorError.invalidArgument(op: name, "kernel \(kernel) and stride \(s) must be positive")
        }
        let H = input.shape[2], W = input.shape[3]
        let (pt, pb) = padding.amounts(input: H, kernel: kernel.h, stride: s.h, axis: 0)
        let (pl, pr) = padding.amounts(input: W, kernel: kernel.w, stride: s.w, axis: 1)
        guard pt <= kernel.h / 2 || padding == .same || padding == .full, pl <= kernel.w / 2 || padding == .same || padding == .full else {
            throw TensorError.invalidArgument(op: name, "padding \(padding) must be at most half the kernel \(kernel)")
        }
        let OH = convolutionOutputSize(input: H, kernel: kernel.h, stride: s.h, padBefore: pt, padAfter: pb, ceilMode: ceilMode)
        let OW = convolutionOutputSize(input: W, kernel: kernel.w, stride: s.w, padBefore: pl, padAfter: pr, ceilMode: ceilMode)
        guard OH >= 1, OW >= 1 else {
            throw TensorError.shapeMismatch(op: name, "input \(H)x\(W) with padding \(padding) is smaller than the window \(kernel)")
        }
        let g = PoolGeometry(planes: input.shape[0] * input.shape[1], H: H, W: W, OH: OH, OW: OW,
                             kh: kernel.h, kw: kernel.w, sh: s.h, sw: s.w, pt: pt, pl: pl)
        let out = Tensor.uninitialized([input.shape[0], input.shape[1], OH, OW])
        let inShape = input.shape
        let graphOp = GraphOp.pool2d(kind: kind, kernel: kernel, stride: s, padding: padding, ceilMode: ceilMode,
                                     countIncludePad: countIncludePad)
        // Planes per thread: enough windows (about 64K taps) to pay for the hand-off, so a
        // single image's 64 stem planes of 112x112 still split over threads.
        let minPlanes = Swift.max(1, (1 << 16) / Swift.max(1, OH * OW * kernel.h * kernel.w))
        switch kind {
        case .max:
            let pools2x2 = g.kh == 2 && g.kw == 2 && g.sh == 2 && g.sw == 2 && g.pt == 0 && g.pl == 0
            if !(GradMode.isEnabled && input.requiresGrad), !pools2x2 {
                // Nothing will ask for the backward (inference): values only, no argmax.
                let chunks = Swift.max(1, Swift.min(Parallel.threadCount, g.planes / minPlanes))
                let rows = ChunkScratch(chunks: chunks, count: W)
                Parallel.forEachChunk(chunks) { c in
                    let lo = g.planes * c / chunks, hi = g.planes * (c + 1) / chunks
                    fovea_maxpool_values(hi - lo, H, W, OH, OW, g.kh, g.kw, g.sh, g.sw, g.pt, g.pl,
                                         input.pointer + lo * H * W, out.pointer + lo * OH * OW, rows.buffer(c)!)
                }
                return GraphRecorder.note(graphOp, [input], out)
            }
            var argmax = [Int32](repeating: -1, count: out.count)
            argmax.withUnsafeMutableBufferPointer { idx in
                let ip = idx.baseAddress!
                Parallel.forRanges(g.planes, minPerChunk: minPlanes) { planes in
                    maxPoolForward(g, planes: planes, input: input.pointer, output: out.pointer, argmax: ip)
                }
            }
            // 2x2 windows that tile the input exactly: the backward writes every input
            // element itself, with no zero-fill and no scattered adds.
            let tiles = g.kh == 2 && g.kw == 2 && g.sh == 2 && g.sw == 2 && g.pt == 0 && g.pl == 0
                && g.H == 2 * g.OH && g.W == 2 * g.OW
            return record(name, out, inputs: [input], saving: [], graph: graphOp) { dOut in
                let plane = g.OH * g.OW, inPlane = g.H * g.W
                if tiles {
                    let d = Tensor.uninitialized(inShape)
                    let dp = d.pointer, gp = UnsafePointer(dOut.pointer)
                    argmax.withUnsafeBufferPointer { idx in
                        let ip = idx.baseAddress!
                        Parallel.forRanges(g.planes, minPerChunk: minPlanes) { planes in
                            fovea_maxpool2x2_backward(planes.count, g.OH, g.OW, gp + planes.lowerBound * plane,
                                                      ip + planes.lowerBound * plane, dp + planes.lowerBound * inPlane)
                        }
                    }
                    return [d]
                }
                let d = Tensor(zeros: inShape)
                let dp = d.pointer, gp = dOut.pointer
                argmax.withUnsafeBufferPointer { idx in
                    let ip = idx.baseAddress!
                    Parallel.forRanges(g.planes, minPerChunk: minPlanes) { planes in
                        for q in planes {
                            let dst = dp + q * inPlane, src = gp + q * plane, from = ip + q * plane
                            for o in 0..<plane {
                                let a = Int(from[o])
                                if a >= 0 { dst[a] += src[o] }
                            }
                        }
                    }
                }
                return [d]
            }
        case .average, .sum:
            let divisors = windowDivisors(g, H: H + pb, W: W + pr, kind: kind, countIncludePad: countIncludePad)
            Parallel.forRanges(g.planes, minPerChunk: minPlanes) { planes in
                sumPoolForward(g, planes: planes, input: input.pointer, output: out.pointer, divisors: divisors)
            }
            return record(name, out, inputs: [input], saving: [], graph: graphOp) { dOut in
                let d = Tensor(zeros: inShape)
                sumPoolBackward(g, dOutput: dOut.pointer, dInput: d.pointer, divisors: divisors)
                return [d]
            }
        }
    }

    /// Max over each window; `argmax` receives the flat in-plane index of each maximum
    /// (the first on ties), -1 for a window wholly in the padding.
    static func maxPoolForward(_ g: PoolGeometry, planes: Range<Int>, input: UnsafePointer<Float>,
                               output: UnsafeMutablePointer<Float>, argmax: UnsafeMutablePointer<Int32>) {
        if g.kh == 2, g.kw == 2, g.sh == 2, g.sw == 2, g.pt == 0, g.pl == 0, 2 * g.OH <= g.H, 2 * g.OW <= g.W {
            maxPool2x2Forward(g, planes: planes, input: input, output: output, argmax: argmax)
            return
        }
        for q in planes {
            let src = input + q * g.H * g.W
            for oh in 0..<g.OH {
                let h0 = oh * g.sh - g.pt, hLo = Swift.max(h0, 0), hHi = Swift.max(hLo, Swift.min(h0 + g.kh, g.H))
                for ow in 0..<g.OW {
                    let w0 = ow * g.sw - g.pl, wLo = Swift.max(w0, 0), wHi = Swift.max(wLo, Swift.min(w0 + g.kw, g.W))
                    var best = -Float.infinity, bi = -1
                    if hLo < hHi, wLo < wHi {
                        bi = hLo * g.W + wLo
                        best = src[bi]
                        for h in hLo..<hHi {
                            for w in wLo..<wHi {
                                let v = src[h * g.W + w]
                                if v > best { best = v; bi = h * g.W + w }
                            }
                        }
                    }
                    let o = (q * g.OH + oh) * g.OW + ow
                    output[o] = best
                    argmax[o] = Int32(bi)
                }
            }
        }
    }

    /// The common 2x2, stride-2, unpadded case (LeNet, VGG): every window lies inside the
    /// input; the C kernel (`maxpool.c`) does eight windows per AVX2 step.
    static func maxPool2x2Forward(_ g: PoolGeometry, planes: Range<Int>, input: UnsafePointer<Float>,
                                  output: UnsafeMutablePointer<Float>, argmax: UnsafeMutablePointer<Int32>) {
        let inPlane = g.H * g.W, outPlane = g.OH * g.OW
        fovea_maxpool2x2_forward(planes.count, g.H, g.W, g.OH, g.OW, input + planes.lowerBound * inPlane,
                                 output + planes.lowerBound * outPlane, argmax + planes.lowerBound * outPlane)
    }

    /// The number each window's sum is divided by: 1 for sum pooling; for averages the window
    /// clipped to the padded input (`countIncludePad`) or to the input itself.
    static func windowDivisors(_ g: PoolGeometry, H paddedH: Int, W paddedW: Int, kind: PoolKind,
                               countIncludePad: Bool) -> [Float] {
        var d = [Float](repeating: 1, count: g.OH * g.OW)
        guard kind == .average else { return d }
        for oh in 0..<g.OH {
            let h0 = oh * g.sh - g.pt
            for ow in 0..<g.OW {
                let w0 = ow * g.sw - g.pl
                let n: Int
                if countIncludePad {
                    n = (Swift.min(h0 + g.kh, paddedH) - h0) * (Swift.min(w0 + g.kw, paddedW) - w0)
                } else {
                    n = (Swift.min(h0 + g.kh, g.H) - Swift.max(h0, 0)) * (Swift.min(w0 + g.kw, g.W) - Swift.max(w0, 0))
                }
                d[oh * g.OW + ow] = Float(Swift.max(n, 1))
            }
        }
        return d
    }

    static func sumPoolForward(_ g: PoolGeometry, planes: Range<Int>, input: UnsafePointer<Float>,
                               output: UnsafeMutablePointer<Float>, divisors: [Float]) {
        for q in planes {
            let src = input + q * g.H * g.W
            for oh in 0..<g.OH {
                let h0 = oh * g.sh - g.pt, hLo = Swift.max(h0, 0), hHi = Swift.min(h0 + g.kh, g.H)
                for ow in 0..<g.OW {
                    let w0 = ow * g.sw - g.pl, wLo = Swift.max(w0, 0), wHi = Swift.min(w0 + g.kw, g.W)
                    var acc: Float = 0
                    for h in hLo..<Swift.max(hLo, hHi) { for w in wLo..<Swift.max(wLo, wHi) { acc += src[h * g.W + w] } }
                    output[(q * g.OH + oh) * g.OW + ow] = acc / divisors[oh * g.OW + ow]
                }
            }
        }
    }

    static func sumPoolBackward(_ g: PoolGeometry, dOutput: UnsafePointer<Float>, dInput: UnsafeMutablePointer<Float>,
                                divisors: [Float]) {
        for q in 0..<g.planes {
            let dst = dInput + q * g.H * g.W
            for oh in 0..<g.OH {
                let h0 = oh * g.sh - g.pt, hLo = Swift.max(h0, 0), hHi = Swift.min(h0 + g.kh, g.H)
                for ow in 0..<g.OW {
                    let w0 = ow * g.sw - g.pl, wLo = Swift.max(w0, 0), wHi = Swift.min(w0 + g.kw, g.W)
                    let v = dOutput[(q * g.OH + oh) * g.OW + ow] / divisors[oh * g.OW + ow]
                    for h in hLo..<Swift.max(hLo, hHi) { for w in wLo..<Swift.max(wLo, wHi) { dst[h * g.W + w] += v } }
                }
            }
        }
    }

    /// Max pooling (`F.max_pool2d`): the largest value of each window.
    public static func maxPool2d(_ input: Tensor, kernel: Size2D, stride: Size2D? = nil, padding: Padding = .valid,
                                 ceilMode: Bool = false) throws -> Tensor {
        try pool2d(input, kind: .max, kernel: kernel, stride: stride, padding: padding, ceilMode: ceilMode)
    }

    /// Average pooling (`F.avg_pool2d`): the mean of each window.
    public static func avgPool2d(_ input: Tensor, kernel: Size2D, stride: Size2D? = nil, padding: Padding = .valid,
                                 ceilMode: Bool = false, countIncludePad: Bool = true) throws -> Tensor {
        try pool2d(input, kind: .average, kernel: kernel, stride: stride, padding: padding, ceilMode: ceilMode,
                   countIncludePad: countIncludePad)
    }

    /// Sum pooling: the sum of each window (LeNet-5's original subsampling before its weight).
    public static func sumPool2d(_ input: Tensor, kernel: Size2D, stride: Size2D? = nil, padding: Padding = .valid,
                                 ceilMode: Bool = false) throws -> Tensor {
        try pool2d(input, kind: .sum, kernel: kernel, stride: stride, padding: padding, ceilMode: ceilMode)
    }
}
