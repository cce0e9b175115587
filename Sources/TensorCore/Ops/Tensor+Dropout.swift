/// Dropout (Srivastava et al. 2014) with inverted scaling: in training each element (or each
/// whole channel, for spatial dropout) is zeroed with probability `p` and the survivors are
/// multiplied by `1 / (1 - p)`, so evaluation needs no rescaling. Masks come from a
/// `SeededGenerator`, so runs repeat exactly.
extension Tensor {
    /// Elementwise dropout with drop probability `p` in [0, 1).
    public func dropout(p: Float, generator: inout SeededGenerator) throws -> Tensor {
        try Tensor.checkDropProbability(p)
        return applyMask(planes: count, planeSize: 1, p: p, generator: &generator, name: "dropout")
    }

    /// Spatial dropout (`nn.Dropout2d`) on `[N, C, H, W]` (or any rank >= 3): whole channels
    /// are dropped, so neighbouring pixels stay correlated.
    public func dropout2d(p: Float, generator: inout SeededGenerator) throws -> Tensor {
        try Tensor.checkDropProbability(p)
        guard rank >= 3 else {
            throw TensorError.shapeMismatch(op: "dropout2d", "input must be [N, C, H, W], got \(describe(shape))")
        }
        let planes = shape[0] * shape[1]
        return applyMask(planes: planes, planeSize: count / Swift.max(planes, 1), p: p, generator: &generator, name: "dropout2d")
    }

    static func checkDropProbability(_ p: Float) throws {
        guard p >= 0, p < 1 else {
            throw TensorError.invalidArgument(op: "dropout", "drop probability must be in [0, 1), got \(p)")
        }
    }

    /// Keeps each of `planes` runs of `planeSize` elements with probability `1 - p`, scaled by `1/(1-p)`.
    private func applyMask(planes: Int, planeSize: Int, p: Float, generator: inout SeededGenerator, name: String) -> Tensor {
        let scale = 1 / (1 - p)
        var keep = [Float](repeating: 0, count: planes)
        // 24 random bits per draw give a uniform in [0, 1) on a 2^-24 grid.
        for i in 0..<planes { keep[i] = Float(generator.next() >> 40) * 0x1p-24 >= p ? scale : 0 }
        let out = Tensor.uninitialized(shape)
        Self.scale(pointer, by: keep, planeSize: planeSize, into: out.pointer)
        return Tensor.record(name, out, inputs: [self], saving: []) { g in
            let d = Tensor.uninitialized(g.shape)
            Self.scale(g.pointer, by: keep, planeSize: planeSize, into: d.pointer)
            return [d]
        }
    }

    /// `dst[i] = src[i] * keep[i / planeSize]`; one flat loop (vectorised) when each plane is
    /// a single element, as in elementwise dropout.
    private static func scale(_ src: UnsafePointer<Float>, by keep: [Float], planeSize: Int,
                              into dst: UnsafeMutablePointer<Float>) {
        keep.withUnsafeBufferPointer { k in
            if planeSize == 1 {
                for i in 0..<k.count { dst[i] = src[i] * k[i] }
                return
            }
            for q in 0..<k.count {
                let f = k[q], base = q * planeSize
                for i in base..<(base + planeSize) { dst[i] = src[i] * f }
            }
        }
    }
}
