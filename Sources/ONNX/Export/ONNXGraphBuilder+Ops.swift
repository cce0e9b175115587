import TensorCore
import NN

// The recorded tensor ops (`GraphOp`) as ONNX opset-13 nodes, in evaluation mode. Spatial
// padding is written as explicit `pads` [top, left, bottom, right], worked out for the
// captured input size when an op says `same` or `full`.

/// Explicit pads `[top, left, bottom, right]` of `padding` for an `[N, C, H, W]` input and an
/// effective kernel.
func onnxPads(_ padding: Padding, input: [Int], kernel: Size2D, stride: Size2D) -> [Int] {
    let (t, b) = padding.amounts(input: input[2], kernel: kernel.h, stride: stride.h, axis: 0)
    let (l, r) = padding.amounts(input: input[3], kernel: kernel.w, stride: stride.w, axis: 1)
    return [t, l, b, r]
}

extension ONNXGraphBuilder {
    /// Writes `op` on the operands of `c`; returns the ONNX name of its result.
    func write(_ op: GraphOp, _ c: ONNXNodeContext) throws -> String {
        let x = c.inputs[0], scope = c.scope
        switch op {
        case .arithmetic(let a):
            let type = switch a { case .add: "Add"; case .sub: "Sub"; case .mul: "Mul"; case .div: "Div" }
            return node(type, inputs: [x, c.inputs[1]], scope: scope)
        case .affine(let scale, let shift):
            var y = x
            if scale != 1 { y = node("Mul", inputs: [y, self.scalar(scale, scope: scope)], scope: scope) }
            if shift != 0 { y = node("Add", inputs: [y, self.scalar(shift, scope: scope)], scope: scope) }
            return y
        case .function(let f):
            switch f {
            case .relu: return node("Relu", inputs: [x], scope: scope)
            case .tanh: return node("Tanh", inputs: [x], scope: scope)
            case .sigmoid: return node("Sigmoid", inputs: [x], scope: scope)
            case .exp: return node("Exp", inputs: [x], scope: scope)
            case .log: return node("Log", inputs: [x], scope: scope)
            case .sqrt: return node("Sqrt", inputs: [x], scope: scope)
            case .abs: return node("Abs", inputs: [x], scope: scope)
            case .square: return node("Mul", inputs: [x, x], scope: scope)
            // ONNX's default alpha and gamma are PyTorch's SELU constants.
            case .selu: return node("Selu", inputs: [x], scope: scope)
            }
        case .power(let p):
            return node("Pow", inputs: [x, scalar(p, scope: scope)], scope: scope)
        case .hardTanh(let low, let high):
            return node("Clip", inputs: [x, scalar(low, scope: scope), scalar(high, scope: scope)], scope: scope)
        case .leakyReLU(let slope):
            return node("LeakyRelu", inputs: [x], attributes: [.float("alpha", slope)], scope: scope)
        case .elu(let alpha):
            return node("Elu", inputs: [x], attributes: [.float("alpha", alpha)], scope: scope)
        case .gelu(let approximation):
            return gelu(x, approximation, scope: scope)
        case .prelu:
            return prelu(c)
        case .softmax(let axis):
            return node("Softmax", inputs: [x], attributes: [.int("axis", axis)], scope: scope)
        case .logSoftmax(let axis):
            return node("LogSoftmax", inputs: [x], attributes: [.int("axis", axis)], scope: scope)
        case .reshape(let shape):
            return node("Reshape", inputs: [x, int64s(try reshapeTarget(shape, c), scope: scope, hint: "shape")], scope: scope)
        case .flatten(let from):
            let rank = c.shapes[0].count
            let start = from < 0 ? from + rank : from
            // ONNX's Flatten always gives 2-D: it is Fovea's only from axis 1. Otherwise keep
            // the leading axes (0 copies each) and merge the rest (-1).
            if start == 1 { return node("Flatten", inputs: [x], attributes: [.int("axis", 1)], scope: scope) }
            let target = Array(repeating: 0, count: start) + [-1]
            return node("Reshape", inputs: [x, int64s(target, scope: scope, hint: "shape")], scope: scope)
        case .permute(let order):
            return node("Transpose", inputs: [x], attributes: [.ints("perm", order)], scope: scope)
        case .slice(let axis, let range):
            let a = axis < 0 ? axis + c.shapes[0].count : axis
            if a == c.batchAxes[0] {
                throw c.unsupported("it slices the batch axis (\(range) of \(describe(c.shapes[0]))), whose size is free in the file")
            }
            return node("Slice", inputs: [x, int64s([range.lowerBound], scope: scope, hint: "starts"),
                                          int64s([range.upperBound], scope: scope, hint: "ends"),
                                          int64s([a], scope: scope, hint: "axes")], scope: scope)
        case .concatenate(let axis):
            return node("Concat", inputs: c.inputs, attributes: [.int("axis", axis)], scope: scope)
        case .channelShuffle(let groups):
            // Reshape [N, g, C/g, H, W], Transpose (0, 2, 1, 3, 4), Reshape [N, C, H, W].
            let s = c.shapes[0]
            let grouped = node("Reshape", inputs: [x, int64s([0, groups, s[1] / groups, s[2], s[3]], scope: scope, hint: "shape")],
                               scope: scope)
            let swapped = node("Transpose", inputs: [grouped], attributes: [.ints("perm", [0, 2, 1, 3, 4])], scope: scope)
            return node("Reshape", inputs: [swapped, int64s([0, s[1], s[2], s[3]], scope: scope, hint: "shape")], scope: scope)
        case .pool2d(let kind, let kernel, let stride, let padding, let ceilMode, let countIncludePad):
            var attributes: [Onnx_AttributeProto] = [
                .ints("kernel_shape", [kernel.h, kernel.w]), .ints("strides", [stride.h, stride.w]),
                .ints("pads", onnxPads(padding, input: c.shapes[0], kernel: kernel, stride: stride)),
                .int("ceil_mode", ceilMode ? 1 : 0),
            ]
            switch kind {
            case .max:
                return node("MaxPool", inputs: [x], attributes: attributes, scope: scope)
            case .average:
                attributes.append(.int("count_include_pad", countIncludePad ? 1 : 0))
                return node("AveragePool", inputs: [x], attributes: attributes, scope: scope)
            case .sum:
                // A sum is the average with padding counted, times the window area.
                attributes.append(.int("count_include_pad", 1))
                let mean = node("AveragePool", inputs: [x], attributes: attributes, scope: scope)
                return node("Mul", inputs: [mean, scalar(Float(kernel.h * kernel.w), scope: scope)], scope: scope)
            }
        case .globalMaxPool:
            return node("GlobalMaxPool", inputs: [x], scope: scope)
        case .adaptiveAvgPool(let size):
            return adaptiveAveragePool(x, input: c.shapes[0], size: size, scope: scope)
        case .linear:
            // Gemm(x, weight, bias, transB = 1): x Wᵀ + b, the weight kept [out, in] as in the state dict.
            return node("Gemm", inputs: c.inputs, attributes: [.int("transB", 1)], scope: scope)
        case .matmul:
            return node("MatMul", inputs: [x, c.inputs[1]], scope: scope)
        case .conv2d(let stride, let padding, let dilation, let groups, _):
            let w = c.shapes[1]
            let kernel = Size2D(w[2], w[3])
            let effective = Size2D(dilation.h * (kernel.h - 1) + 1, dilation.w * (kernel.w - 1) + 1)
            return node("Conv", inputs: c.inputs, attributes: [
                .ints("kernel_shape", [kernel.h, kernel.w]), .ints("strides", [stride.h, stride.w]),
                .ints("pads", onnxPads(padding, input: c.shapes[0], kernel: effective, stride: stride)),
                .ints("dilations", [dilation.h, dilation.w]), .int("group", groups),
            ], scope: scope)
        case .batchNorm(let training, let momentum, let eps, let affine):
            guard !training, c.inputs.count == (affine ? 5 : 3) else {
                throw c.unsupported("a batch norm that uses the batch's statistics (training, or no running statistics) has no ONNX form in evaluation")
            }
            let o = affine ? 2 : 0
            return batchNormalization(x, features: c.shapes[0][1], weight: affine ? c.inputs[1] : nil,
                                      bias: affine ? c.inputs[2] : nil, mean: c.inputs[1 + o], variance: c.inputs[2 + o],
                                      eps: eps, momentum: momentum, scope: scope)
        case .localResponseNorm(let size, let alpha, let beta, let k):
            guard size % 2 == 1 else {
                throw c.unsupported("ONNX's LRN places an even window (size \(size)) one channel off PyTorch's; only odd sizes export")
            }
            return node("LRN", inputs: [x], attributes: [
                .int("size", size), .float("alpha", alpha), .float("beta", beta), .float("bias", k),
            ], scope: scope)
        }
    }

    /// The target of a recorded reshape with the batch written symbolically: `0` (copy the
    /// input's axis 0) where the batch axis keeps its size, `-1` where the batch is merged into
    /// axis 0 with other axes. Throws when the batch moves elsewhere.
    func reshapeTarget(_ shape: [Int], _ c: ONNXNodeContext) throws -> [Int] {
        guard let b = c.batchAxes[0] else { return shape }   // no batch in this value
        let input = c.shapes[0]
        if b == 0, let first = shape.first {
            if first == input[0] { return [0] + shape.dropFirst() }
            if first % c.batch == 0 { return [-1] + shape.dropFirst() }
        }
        throw c.unsupported("it reshapes \(describe(input)) (batch on axis \(b)) to \(describe(shape)), which does not keep the batch on axis 0; the batch size is free in the file")
    }

    /// `BatchNormalization` with the running statistics (ONNX's momentum is `1 - momentum`);
    /// without an affine scale and shift, constant ones and zeros stand in.
    func batchNormalization(_ x: String, features: Int, weight: String?, bias: String?, mean: String, variance: String,
                            eps: Float, momentum: Float, scope: String) -> String {
        let scale = weight ?? floatConstant(Tensor(repeating: 1, shape: [features]), scope: scope)
        let shift = bias ?? floatConstant(Tensor(zeros: [features]), scope: scope)
        return node("BatchNormalization", inputs: [x, scale, shift, mean, variance],
                    attributes: [.float("epsilon", eps), .float("momentum", 1 - momentum)], scope: scope)
    }

    /// `PRelu`; a slope per channel is reshaped in the graph to `[C, 1, 1]` (or `[C]` after a
    /// dense layer) so it broadcasts over axis 1 as ONNX's right-aligned broadcasting needs,
    /// while the initializer keeps the state dict's `[C]`.
    func prelu(_ c: ONNXNodeContext) -> String {
        var slope = c.inputs[1]
        let count = c.shapes[1].reduce(1, *), rank = c.shapes[0].count
        if count > 1 && rank > 2 {
            let shape = [count] + Array(repeating: 1, count: rank - 2)
            slope = node("Reshape", inputs: [slope, int64s(shape, scope: c.scope, hint: "slope_shape")], scope: c.scope)
        }
        return node("PRelu", inputs: [c.inputs[0], slope], scope: c.scope)
    }

    /// GELU, which opset 13 lacks: `x/2 (1 + erf(x/√2))`, or with the tanh approximation
    /// `x/2 (1 + tanh(√(2/π) (x + 0.044715 x³)))`.
    func gelu(_ x: String, _ approximation: Tensor.GELUApproximation, scope: String) -> String {
        let inner: String
        switch approximation {
        case .none:
            inner = node("Erf", inputs: [node("Mul", inputs: [x, scalar(Float(0.5).squareRoot(), scope: scope)], scope: scope)],
                         scope: scope)
        case .tanh:
            let cube = node("Mul", inputs: [node("Mul", inputs: [x, x], scope: scope), x], scope: scope)
            let sum = node("Add", inputs: [x, node("Mul", inputs: [cube, scalar(0.044715, scope: scope)], scope: scope)], scope: scope)
            inner = node("Tanh", inputs: [node("Mul", inputs: [sum, scalar((2 / Float.pi).squareRoot(), scope: scope)], scope: scope)],
                         scope: scope)
        }
        let onePlus = node("Add", inputs: [inner, scalar(1, scope: scope)], scope: scope)
        let half = node("Mul", inputs: [x, scalar(0.5, scope: scope)], scope: scope)
        return node("Mul", inputs: [half, onePlus], scope: scope)
    }

    /// Adaptive average pooling for the captured input size: `GlobalAveragePool` to 1x1,
    /// `AveragePool` when the sides divide evenly, otherwise the exact bins as a matrix
    /// product: `Reshape [N, C, H*W]`, `MatMul` with a constant `[H*W, OH*OW]` averaging
    /// matrix, `Reshape [N, C, OH, OW]`.
    func adaptiveAveragePool(_ x: String, input: [Int], size: Size2D, scope: String) -> String {
        let (c, h, w) = (input[1], input[2], input[3])
        let (oh, ow) = (size.h, size.w)
        if oh == 1 && ow == 1 { return node("GlobalAveragePool", inputs: [x], scope: scope) }
        if h % oh == 0 && w % ow == 0 {
            let k = [h / oh, w / ow]
            return node("AveragePool", inputs: [x], attributes: [.ints("kernel_shape", k), .ints("strides", k),
                                                                  .ints("pads", [0, 0, 0, 0])], scope: scope)
        }
        // Adaptive bins: rows floor(i h / oh) ..< ceil((i + 1) h / oh), the same for columns.
        let matrix = Tensor(zeros: [h * w, oh * ow])
        for i in 0..<oh {
            let r0 = i * h / oh, r1 = ((i + 1) * h + oh - 1) / oh
            for j in 0..<ow {
                let c0 = j * w / ow, c1 = ((j + 1) * w + ow - 1) / ow
                let weight = 1 / Float((r1 - r0) * (c1 - c0))
                for r in r0..<r1 { for col in c0..<c1 { matrix.pointer[(r * w + col) * oh * ow + i * ow + j] = weight } }
            }
        }
        let rows = node("Reshape", inputs: [x, int64s([0, c, h * w], scope: scope, hint: "shape")], scope: scope)
        let pooled = node("MatMul", inputs: [rows, floatConstant(matrix, scope: scope)], scope: scope)
        return node("Reshape", inputs: [pooled, int64s([0, c, oh, ow], scope: scope, hint: "shape")], scope: scope)
    }
}
