/// Global and adaptive pooling of `[N, C, H, W]`, forward and backward side by side.
///
/// - global average / max: one value per channel, `[N, C, 1, 1]`;
/// - adaptive average (`F.adaptive_avg_pool2d`): output `[N, C, OH, OW]` for any input size,
///   cell (i, j) averaging rows `floor(i H / OH) ..< ceil((i + 1) H / OH)` and the columns
///   likewise, PyTorch's bins.
extension Tensor {
    /// The mean of each channel plane: `[N, C, H, W]` -> `[N, C, 1, 1]`.
    public func globalAvgPool2d() throws -> Tensor { try adaptiveAvgPool2d(Size2D(1, 1)) }

    /// The maximum of each channel plane: `[N, C, H, W]` -> `[N, C, 1, 1]`; the gradient goes
    /// to the first maximum.
    public func globalMaxPool2d() throws -> Tensor {
        guard rank == 4 else { throw TensorError.shapeMismatch(op: "globalMaxPool2d", "input must be [N, C, H, W], got \(describe(shape))") }
        let planes = shape[0] * shape[1], plane = shape[2] * shape[3]
        guard plane > 0 else { throw TensorError.shapeMismatch(op: "globalMaxPool2d", "empty planes in \(describe(shape))") }
        let out = Tensor.uninitialized([shape[0], shape[1], 1, 1])
        var at = [Int](repeating: 0, count: planes)
        let x = pointer, o = out.pointer
        for q in 0..<planes {
            let p = x + q * plane
            var best = p[0], bi = 0
            for i in 1..<plane where p[i] > best { best = p[i]; bi = i }
            o[q] = best
            at[q] = bi
        }
        let inShape = shape
        return Tensor.record("globalMaxPool2d", out, inputs: [self], saving: [], graph: .globalMaxPool) { g in
            let d = Tensor(zeros: inShape)
            for q in 0..<planes { d.pointer[q * plane + at[q]] = g.pointer[q] }
            return [d]
        }
    }

    /// Adaptive average pooling to `outputSize` (see the type's notes for the bins).
    public func adaptiveAvgPool2d(_ outputSize: Size2D) throws -> Tensor {
        guard rank == 4 else { throw TensorError.shapeMismatch(op: "adaptiveAvgPool2d", "input must be [N, C, H, W], got \(describe(shape))") }
        let H = shape[2], W = shape[3], OH = outputSize.h, OW = outputSize.w
        guard OH >= 1, OW >= 1, H >= 1, W >= 1 else {
            throw TensorError.invalidArgument(op: "adaptiveAvgPool2d", "output size \(outputSize) for input \(describe(shape))")
        }
        func bins(_ n: Int, _ out: Int) -> [(Int, Int)] { (0..<out).map { ($0 * n / out, (($0 + 1) * n + out - 1) / out) } }
        let rows = bins(H, OH), cols = bins(W, OW)
        let planes = shape[0] * shape[1]
        let out = Tensor.uninitialized([shape[0], shape[1], OH, OW])
        let x = pointer, o = out.pointer
        for q in 0..<planes {
            let p = x + q * H * W
            for (i, (r0, r1)) in rows.enumerated() {
                for (j, (c0, c1)) in cols.enumerated() {
                    var s: Float = 0
                    for r in r0..<r1 { for c in c0..<c1 { s += p[r * W + c] } }
                    o[(q * OH + i) * OW + j] = s / Float((r1 - r0) * (c1 - c0))
                }
            }
        }
        let inShape = shape
        return Tensor.record("adaptiveAvgPool2d", out, inputs: [self], saving: [], graph: .adaptiveAvgPool(outputSize)) { g in
            let d = Tensor(zeros: inShape)
            let dp = d.pointer, gp = g.pointer
            for q in 0..<planes {
                let p = dp + q * H * W
                for (i, (r0, r1)) in rows.enumerated() {
                    for (j, (c0, c1)) in cols.enumerated() {
                        let v = gp[(q * OH + i) * OW + j] / Float((r1 - r0) * (c1 - c0))
                        for r in r0..<r1 { for c in c0..<c1 { p[r * W + c] += v } }
                    }
                }
            }
            return [d]
        }
    }
}
