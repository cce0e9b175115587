import TensorCore

/// What a running node may ask of the graph: the mode, and the cap on new tensors.
public struct ONNXRunContext {
    /// True while fine-tuning: batch norm uses batch statistics, dropout drops.
    public var training: Bool
    /// The most elements any one intermediate may have; larger ones are refused before allocation.
    public var maxElements: Int

    /// Throws when `shape` holds more than `maxElements` elements (or a negative size).
    func check(_ shape: [Int], _ node: ONNXNode) throws {
        var count = 1
        for d in shape {
            let (p, overflow) = count.multipliedReportingOverflow(by: Swift.max(d, 0))
            guard d >= 0, !overflow, p <= maxElements else {
                throw ONNXError.executionFailed(node: node.name, opType: node.opType,
                                                "output \(describe(shape)) would exceed the limit of \(maxElements) elements")
            }
            count = p
        }
    }
}

/// A node made ready to run: attributes parsed and checked at load time, so running only
/// checks shapes. Inputs arrive in the node's order, nil for omitted optional ones.
public struct ONNXOperator {
    public let node: ONNXNode
    let body: ([Tensor?], ONNXRunContext) throws -> [Tensor]

    /// Runs the node; Fovea's errors (shape mismatches) come back naming the node.
    func run(_ inputs: [Tensor?], _ context: ONNXRunContext) throws -> [Tensor] {
        do {
            return try body(inputs, context)
        } catch let error as ONNXError {
            throw error
        } catch {
            throw ONNXError.executionFailed(node: node.name, opType: node.opType, "\(error)")
        }
    }
}

/// Builds `ONNXOperator`s from nodes: the table of supported operators.
public enum ONNXOperatorFactory {
    /// The operator types Fovea imports.
    public static let supportedOperators = [
        "Add", "AveragePool", "BatchNormalization", "Clip", "Concat", "Conv", "ConvTranspose", "Div", "Dropout", "Elu",
        "Flatten", "Gemm", "GlobalAveragePool", "GlobalMaxPool", "Identity", "LeakyRelu", "LogSoftmax", "LRN", "MatMul",
        "MaxPool", "Mul", "PRelu", "Relu", "Reshape", "Sigmoid", "Slice", "Softmax", "Split", "Squeeze", "Sub", "Tanh",
        "Transpose", "Unsqueeze",
    ] + ["Constant"]

    /// The input positions of `opType` that are settings read at load time (shapes, axes,
    /// bounds), not data; initializers there are never trainable.
    static func settingInputs(_ opType: String) -> Set<Int> {
        switch opType {
        case "Reshape", "Split", "Squeeze", "Unsqueeze": return [1]
        case "Clip": return [1, 2]
        case "Slice": return [1, 2, 3, 4]
        case "Dropout": return [1, 2]
        default: return []
        }
    }

    /// The ready-to-run form of `node`; throws naming the node for an unsupported operator or a bad attribute.
    static func make(_ node: ONNXNode) throws -> ONNXOperator {
        let body: ([Tensor?], ONNXRunContext) throws -> [Tensor]
        switch node.opType {
        case "Conv": body = try convolution(node)
        case "ConvTranspose": body = try transposedConvolution(node)
        case "MaxPool", "AveragePool": body = try pooling(node)
        case "GlobalAveragePool", "GlobalMaxPool": body = try globalPooling(node)
        case "Gemm": body = try gemm(node)
        case "MatMul": body = try matmul(node)
        case "Add", "Sub", "Mul", "Div": body = try binary(node)
        case "Relu", "Sigmoid", "Tanh", "LeakyRelu", "Elu": body = try unary(node)
        case "PRelu": body = try prelu(node)
        case "Clip": body = try clip(node)
        case "BatchNormalization": body = try batchNormalization(node)
        case "LRN": body = try localResponseNorm(node)
        case "Softmax", "LogSoftmax": body = try softmax(node)
        case "Dropout": body = try dropout(node)
        case "Identity": try node.expectInputs(1, 1); try node.allowAttributes([]); body = { i, _ in [i[0]!] }
        case "Flatten": body = try flatten(node)
        case "Reshape": body = try reshape(node)
        case "Concat": body = try concat(node)
        case "Transpose": body = try transpose(node)
        case "Split": body = try split(node)
        case "Slice": body = try slice(node)
        case "Squeeze", "Unsqueeze": body = try squeeze(node)
        default:
            throw ONNXError.unsupportedOperator(opType: node.opType, node: node.name, domain: "")
        }
        return ONNXOperator(node: node, body: body)
    }

    /// `pads` `[top, left, bottom, right]` of a 2-D window op, checked.
    static func pads(_ node: ONNXNode) throws -> [Int] {
        try node.ints("pads", count: 4, range: 0...ONNXNode.maxWindow) ?? [0, 0, 0, 0]
    }

    /// A 2-entry attribute (`strides`, `dilations`) as a `Size2D`, each within 1...maxWindow.
    static func pair(_ node: ONNXNode, _ key: String) throws -> Size2D {
        let v = try node.ints(key, count: 2, range: 1...ONNXNode.maxWindow) ?? [1, 1]
        return Size2D(v[0], v[1])
    }

    /// The padding an `auto_pad` setting asks for, given the input and effective kernel
    /// (SAME_LOWER puts the odd pixel first).
    static func padding(_ autoPad: String, pads: [Int], input: [Int], kernel: Size2D, stride: Size2D) -> Padding {
        switch autoPad {
        case "VALID": return .valid
        case "SAME_UPPER": return .same
        case "SAME_LOWER":
            let (t, b) = Padding.same.amounts(input: input[2], kernel: kernel.h, stride: stride.h, axis: 0)
            let (l, r) = Padding.same.amounts(input: input[3], kernel: kernel.w, stride: stride.w, axis: 1)
            return .explicit(top: b, bottom: t, left: r, right: l)
        default: return .explicit(top: pads[0], bottom: pads[2], left: pads[1], right: pads[3])
        }
    }

    static func autoPad(_ node: ONNXNode) throws -> String {
        let value = try node.string("auto_pad", "NOTSET")
        guard ["NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"].contains(value) else { throw node.fail("auto_pad '\(value)' is not NOTSET, VALID, SAME_UPPER or SAME_LOWER") }
        return value
    }

    /// Throws unless `x` is `[N, C, H, W]`.
    static func require4D(_ x: Tensor, _ node: ONNXNode) throws {
        guard x.rank == 4 else {
            throw ONNXError.executionFailed(node: node.name, opType: node.opType, "Fovea runs 2-D \(node.opType) on [N, C, H, W]; got input \(describe(x.shape))")
        }
    }
}
