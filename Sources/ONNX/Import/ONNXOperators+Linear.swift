import TensorCore

// Gemm and MatMul.

extension ONNXOperatorFactory {
    /// `Gemm`: `alpha * A' B' + beta * C` with `A' = transA ? Aᵀ : A` and `B'` likewise.
    /// The common dense-layer form (transB = 1, alpha = beta = 1, C `[N]`) runs as Fovea's `linear`.
    static func gemm(_ node: ONNXNode) throws -> Body {
        try node.expectInputs(2, 3)
        try node.allowAttributes(["alpha", "beta", "transA", "transB"])
        let alpha = try node.float("alpha", 1), beta = try node.float("beta", 1)
        let transA = try node.int("transA", 0, range: 0...1) == 1, transB = try node.int("transB", 0, range: 0...1) == 1
        return { inputs, context in
            let a = inputs[0]!, b = inputs[1]!
            let c = inputs.count > 2 ? inputs[2] : nil
            guard a.rank == 2, b.rank == 2 else { throw node.fail("A \(describe(a.shape)) and B \(describe(b.shape)) must be matrices") }
            let rows = transA ? a.shape[1] : a.shape[0], cols = transB ? b.shape[0] : b.shape[1]
            try context.check([rows, cols], node)
            if !transA && transB && alpha == 1 && (c == nil || (beta == 1 && c!.shape == [cols])) {
                return [try Tensor.linear(a, weight: b, bias: c)]
            }
            var y = try (transA ? a.transposed() : a).matmul(transB ? b.transposed() : b)
            if alpha != 1 { y = y * alpha }
            if let c { y = try y + (beta == 1 ? c : c * beta) }
            return [y]
        }
    }

    /// `MatMul` of `[..., M, K]` by `[K, N]` (or vectors), NumPy's matmul without batched right operands.
    static func matmul(_ node: ONNXNode) throws -> Body {
        try node.expectInputs(2, 2)
        try node.allowAttributes([])
        return { inputs, context in
            var a = inputs[0]!, b = inputs[1]!
            guard a.rank >= 1, b.rank >= 1, b.rank <= 2 else {
                throw node.fail("Fovea multiplies [..., M, K] by [K, N] or [K]; got \(describe(a.shape)) and \(describe(b.shape))")
            }
            let vectorB = b.rank == 1, vectorA = a.rank == 1
            if vectorB { b = try b.reshaped([b.shape[0], 1]) }
            if vectorA { a = try a.reshaped([1, a.shape[0]]) }
            let k = a.shape[a.rank - 1]
            guard k == b.shape[0] else {
                throw node.fail("inner sizes differ: \(describe(inputs[0]!.shape)) x \(describe(inputs[1]!.shape))")
            }
            let lead = Array(a.shape.dropLast()), n = b.shape[1]
            try context.check(lead + [n], node)
            let outShape = (vectorA ? [] : lead) + (vectorB ? [] : [n])
            let y = try a.reshaped([lead.reduce(1, *), k]).matmul(b).reshaped(outShape)
            return [y]
        }
    }
}
