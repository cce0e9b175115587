import TensorCore

// Broadcasting arithmetic and the activations.

extension ONNXOperatorFactory {
    /// `Add`, `Sub`, `Mul`, `Div` with NumPy broadcasting.
    static func binary(_ node: ONNXNode) throws -> Body {
        try node.expectInputs(2, 2)
        try node.allowAttributes([])
        let op = node.opType
        return { inputs, context in
            let a = inputs[0]!, b = inputs[1]!
            try context.check(try ShapeMath.broadcast(a.shape, b.shape, op: op), node)
            switch op {
            case "Add": return [try a + b]
            case "Sub": return [try a - b]
            case "Mul": return [try a * b]
            default: return [try a / b]
            }
        }
    }

    /// `Relu`, `Sigmoid`, `Tanh`, `LeakyRelu` (alpha, 0.01), `Elu` (alpha, 1).
    static func unary(_ node: ONNXNode) throws -> Body {
        try node.expectInputs(1, 1)
        switch node.opType {
        case "LeakyRelu":
            try node.allowAttributes(["alpha"])
            let alpha = try node.float("alpha", 0.01)
            return { inputs, _ in [inputs[0]!.leakyRelu(slope: alpha)] }
        case "Elu":
            try node.allowAttributes(["alpha"])
            let alpha = try node.float("alpha", 1)
            return { inputs, _ in [inputs[0]!.elu(alpha: alpha)] }
        case "Relu":
            try node.allowAttributes([])
            return { inputs, _ in [inputs[0]!.relu()] }
        case "Sigmoid":
            try node.allowAttributes([])
            return { inputs, _ in [inputs[0]!.sigmoid()] }
        default:
            try node.allowAttributes([])
            return { inputs, _ in [inputs[0]!.tanh()] }
        }
    }

    /// `PRelu`: `x > 0 ? x : slope * x` with the slope broadcast to x (`[1]`, `[C, 1, 1]`, ...),
    /// as `relu(x) - slope * relu(-x)`, so the slope's gradient follows any broadcast.
    static func prelu(_ node: ONNXNode) throws -> Body {
        try node.expectInputs(2, 2)
        try node.allowAttributes([])
        return { inputs, context in
            let x = inputs[0]!, slope = inputs[1]!
            guard try ShapeMath.broadcast(x.shape, slope.shape, op: "PRelu") == x.shape else {
                throw node.fail("slope \(describe(slope.shape)) does not broadcast to the input \(describe(x.shape))")
            }
            return [try x.relu() - slope * x.negated().relu()]
        }
    }

    /// `Clip` between `min` and `max`: attributes before opset 11, constant inputs from 11 on.
    static func clip(_ node: ONNXNode) throws -> Body {
        try node.expectInputs(1, 3)
        let low: Float, high: Float
        if node.opset < 11 {
            try node.allowAttributes(["min", "max"])
            low = try node.float("min", -Float.greatestFiniteMagnitude)
            high = try node.float("max", Float.greatestFiniteMagnitude)
        } else {
            try node.allowAttributes([])
            low = try node.constantScalar(1) ?? -Float.infinity
            high = try node.constantScalar(2) ?? Float.infinity
        }
        guard !low.isNaN, !high.isNaN, low <= high else { throw node.fail("min \(low) must not exceed max \(high)") }
        return { inputs, _ in [inputs[0]!.hardTanh(low: low, high: high)] }
    }
}
