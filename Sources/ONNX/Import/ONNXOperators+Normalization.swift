import TensorCore
import NN

// BatchNormalization, LRN, Softmax/LogSoftmax and Dropout: the operators whose behaviour
// depends on training versus evaluation, or on the operator-set version.

extension ONNXOperatorFactory {
    /// `BatchNormalization(X, scale, B, mean, var)`: running statistics in evaluation; batch
    /// statistics while fine-tuning, moving the running ones with PyTorch's momentum
    /// `1 - ONNX momentum`. `[N, C]`, `[N, C, L]` and `[N, C, H, W]` inputs.
    static func batchNormalization(_ node: ONNXNode) throws -> Body {
        try node.expectInputs(5, 5, outputs: 1...5)
        if node.outputs.dropFirst().contains(where: { !$0.isEmpty }) {
            throw node.fail("only the Y output is supported (the training outputs are not)")
        }
        try node.allowAttributes(["epsilon", "momentum", "spatial", "training_mode", "is_test", "consumed_inputs"])
        let eps = try node.float("epsilon", 1e-5), momentum = try node.float("momentum", 0.9)
        guard eps > 0 else { throw node.fail("epsilon must be positive, got \(eps)") }
        guard momentum >= 0, momentum <= 1 else { throw node.fail("momentum must be in [0, 1], got \(momentum)") }
        guard try node.int("spatial", 1, range: 0...1) == 1 else { throw node.fail("spatial = 0 (per-pixel statistics) is not supported") }
        guard try node.int("training_mode", 0, range: 0...1) == 0 else { throw node.fail("training_mode = 1 is not supported; Fovea switches modes with train()/eval()") }
        return { inputs, context in
            let x = inputs[0]!
            guard (2...4).contains(x.rank) else { throw node.fail("input must be [N, C], [N, C, L] or [N, C, H, W], got \(describe(x.shape))") }
            let c = x.shape[1]
            let params = inputs[1...4].map { $0! }
            for (t, what) in zip(params, ["scale", "B", "mean", "var"]) where t.count != c {
                throw node.fail("\(what) has shape \(describe(t.shape)); \(c) channels need [\(c)]")
            }
            let flat = try params.map { $0.shape == [c] ? $0 : try $0.reshaped([c]) }
            let input = x.rank == 3 ? try x.reshaped(x.shape + [1]) : x
            let y = try Tensor.batchNorm(input, weight: flat[0], bias: flat[1], runningMean: flat[2], runningVar: flat[3],
                                         training: context.training, momentum: 1 - momentum, eps: eps)
            return [x.rank == 3 ? try y.reshaped(x.shape) : y]
        }
    }

    /// `LRN(size, alpha, beta, bias)` across channels; odd sizes (even ones centre differently from Fovea's).
    static func localResponseNorm(_ node: ONNXNode) throws -> Body {
        try node.expectInputs(1, 1)
        try node.allowAttributes(["size", "alpha", "beta", "bias"])
        let size = try node.int("size", nil, range: 1...1024)
        guard size % 2 == 1 else { throw node.fail("even window sizes (\(size)) are not supported") }
        let alpha = try node.float("alpha", 1e-4), beta = try node.float("beta", 0.75), bias = try node.float("bias", 1)
        guard alpha >= 0, beta >= 0, bias > 0 else { throw node.fail("needs alpha >= 0, beta >= 0, bias > 0; got \(alpha), \(beta), \(bias)") }
        return { inputs, _ in [try inputs[0]!.localResponseNorm(size: size, alpha: alpha, beta: beta, k: bias)] }
    }

    /// `Softmax` and `LogSoftmax`: along `axis` (default -1) from opset 13; before it, over
    /// everything from `axis` (default 1) on, the input seen as a matrix.
    static func softmax(_ node: ONNXNode) throws -> Body {
        try node.expectInputs(1, 1)
        try node.allowAttributes(["axis"])
        let legacy = node.opset < 13
        let axis = try node.int("axis", legacy ? 1 : -1, range: -64...64)
        let log = node.opType == "LogSoftmax"
        return { inputs, _ in
            let x = inputs[0]!
            let a = try node.axis(axis, rank: Swift.max(x.rank, 1))
            func apply(_ t: Tensor, _ along: Int) throws -> Tensor { log ? try t.logSoftmax(axis: along) : try t.softmax(axis: along) }
            guard legacy else { return [try apply(x, a)] }
            let matrix = try x.reshaped([x.shape[..<a].reduce(1, *), x.shape[a...].reduce(1, *)])
            return [try apply(matrix, 1).reshaped(x.shape)]
        }
    }

    /// `Dropout`: the identity in evaluation; while fine-tuning, drops with the ratio
    /// (attribute before opset 12, constant input from 12 on; 0.5 by default).
    static func dropout(_ node: ONNXNode) throws -> Body {
        try node.expectInputs(1, 3, outputs: 1...2)
        if node.outputs.count == 2 && !node.outputs[1].isEmpty { throw node.fail("the mask output is not supported") }
        try node.allowAttributes(["ratio", "seed", "is_test"])
        let ratio = node.opset < 12 ? try node.float("ratio", 0.5) : (try node.constantScalar(1) ?? 0.5)
        guard ratio >= 0, ratio < 1 else { throw node.fail("ratio must be in [0, 1), got \(ratio)") }
        return { inputs, context in
            guard context.training, ratio > 0 else { return [inputs[0]!] }
            var generator = GlobalRandom.split()
            return [try inputs[0]!.dropout(p: ratio, generator: &generator)]
        }
    }
}
