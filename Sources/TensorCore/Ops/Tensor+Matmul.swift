/// Matrix products: `matmul` for 2-D tensors and `linear` (a dense layer's `x Wᵀ + b`, and
/// `linearReLU`, with the ReLU applied as the product writes its output), all through
/// `GEMM.sgemm`, forward and backward side by side.

extension Tensor {
    /// `[M, K] x [K, N] -> [M, N]`. Throws when the inner sizes differ or a rank is not 2.
    public func matmul(_ other: Tensor) throws -> Tensor {
        guard rank == 2, other.rank == 2, shape[1] == other.shape[0] else {
            throw TensorError.shapeMismatch(op: "matmul", "\(describe(shape)) x \(describe(other.shape))")
        }
        let m = shape[0], k = shape[1], n = other.shape[1]
        let out = Tensor.uninitialized([m, n])
        if k == 0 { out.pointer.update(repeating: 0, count: out.count) }
        GEMM.sgemm(m: m, n: n, k: k, a: pointer, lda: k, b: other.pointer, ldb: n, c: out.pointer, ldc: n)
        return Tensor.record("matmul", out, inputs: [self, other], saving: [self, other], graph: .matmul) { g in
            var dA: Tensor?, dB: Tensor?
            if self.requiresGrad {   // dA[M,K] = g[M,N] Bᵀ
                let d = Tensor.uninitialized([m, k])
                GEMM.sgemm(transB: true, m: m, n: k, k: n, a: g.pointer, lda: n, b: other.pointer, ldb: n, c: d.pointer, ldc: k)
                dA = d
            }
            if other.requiresGrad {  // dB[K,N] = Aᵀ g[M,N]
                let d = Tensor.uninitialized([k, n])
                GEMM.sgemm(transA: true, m: k, n: n, k: m, a: self.pointer, lda: k, b: g.pointer, ldb: n, c: d.pointer, ldc: n)
                dB = d
            }
            return [dA, dB]
        }
    }

    /// A dense layer's map: `x[N, in] · weight[out, in]ᵀ + bias[out] -> [N, out]`
    /// (PyTorch's `F.linear`, weight laid out `[out, in]`).
    public static func linear(_ x: Tensor, weight: Tensor, bias: Tensor?) throws -> Tensor {
        try linear(x, weight: weight, bias: bias, relu: false)
    }

    /// `linear(x, weight: weight, bias: bias).relu()` as one op: the product's epilogue
    /// applies the ReLU (`y > 0 ? y : 0`, as `relu()`), and the backward masks the gradient
    /// where the output is not positive before the product's backward. Shapes as `linear`.
    public static func linearReLU(_ x: Tensor, weight: Tensor, bias: Tensor?) throws -> Tensor {
        try linear(x, weight: weight, bias: bias, relu: true)
    }

    /// `linear`, followed by a ReLU when `relu`.
    static func linear(_ x: Tensor, weight: Tensor, bias: Tensor?, relu: Bool) throws -> Tensor {
        let op = relu ? "linearReLU" : "linear"
        guard x.rank == 2, weight.rank == 2, x.shape[1] == weight.shape[1] else {
            throw TensorError.shapeMismatch(op: op, "input \(describe(x.shape)) with weight \(describe(weight.shape)) (expected input [N, \(weight.rank == 2 ? weight.shape[1] : -1)])")
        }
        let n = x.shape[0], inF = x.shape[1], outF = weight.shape[0]
        if let bias, bias.shape != [outF] {
            throw TensorError.shapeMismatch(op: op, "bias \(describe(bias.shape)) for \(outF) outputs")
        }
        let out = Tensor.uninitialized([n, outF])
        let o = out.pointer
        if let bias {
            for r in 0..<n { (o + r * outF).update(from: bias.pointer, count: outF) }
        }
        GEMM.sgemm(transB: true, m: n, n: outF, k: inF, a: x.pointer, lda: inF, b: weight.pointer, ldb: inF,
                   beta: bias == nil ? 0 : 1, c: o, ldc: outF,
                   epilogue: relu ? GEMM.Epilogue(scale: nil, shift: nil, relu: true) : nil)
        // The inputs' array and the op as a graph node, for the tape and a graph capture.
        func inputs() -> [Tensor] { bias.map { [x, weight, $0] } ?? [x, weight] }
        let graph: GraphOp? = relu ? nil : .linear(bias: bias != nil)
        // Nothing to record (inference): return before the backward's closure and the inputs'
        // array are allocated (unless a graph capture wants them), a visible share of a small
        // dense layer's time.
        guard GradMode.isEnabled, x.requiresGrad || weight.requiresGrad || bias?.requiresGrad == true else {
            if let recorder = GraphRecorder.current {
                if let graph { recorder.record(graph, inputs(), out) } else { recorder.noteMade(op, out) }
            }
            return out
        }
        // The output's address, with its storage kept on the tape when the ReLU's mask needs it.
        let y = UncheckedSendable(UnsafePointer(o))
        let operands = inputs()
        return record(op, out, inputs: operands, saving: relu ? operands + [out.storage] : operands, graph: graph) { dOut in
            // The ReLU's backward: the gradient passes where the output is positive.
            let g = relu ? Tensor.reluGradient(dOut, output: y.value) : dOut
            var dx: Tensor?, dw: Tensor?, db: Tensor?
            if x.requiresGrad {       // dx[N,in] = g[N,out] W[out,in]
                let d = Tensor.uninitialized([n, inF])
                GEMM.sgemm(m: n, n: inF, k: outF, a: g.pointer, lda: outF, b: weight.pointer, ldb: inF, c: d.pointer, ldc: inF)
                dx = d
            }
            if weight.requiresGrad {  // dW[out,in] = gᵀ[out,N] x[N,in]
                let d = Tensor.uninitialized([outF, inF])
                GEMM.sgemm(transA: true, m: outF, n: inF, k: n, a: g.pointer, lda: outF, b: x.pointer, ldb: inF, c: d.pointer, ldc: inF)
                dw = d
            }
            if let bias, bias.requiresGrad {  // db[out] = sum over rows of g
                let d = Tensor(zeros: [outF])
                let dp = d.pointer, gp = g.pointer
                for r in 0..<n { for j in 0..<outF { dp[j] += gp[r * outF + j] } }
                db = d
            }
            return bias == nil ? [dx, dw] : [dx, dw, db]
        }
    }
}
