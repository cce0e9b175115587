import TensorCore
import NN

// The NN layers as ONNX nodes (evaluation mode). Spatial padding is written as explicit
// `pads` [top, left, bottom, right], worked out for the example input when the layer says
// `same` or `full`.

/// Explicit pads `[top, left, bottom, right]` of `padding` for an `[N, C, H, W]` input and an
/// effective kernel.
func onnxPads(_ padding: Padding, input: [Int], kernel: Size2D, stride: Size2D) -> [Int] {
    let (t, b) = padding.amounts(input: input[2], kernel: kernel.h, stride: stride.h, axis: 0)
    let (l, r) = padding.amounts(input: input[3], kernel: kernel.w, stride: stride.w, axis: 1)
    return [t, l, b, r]
}

extension Conv2D: ONNXExportable {
    /// `Conv` with `weight [out, in/groups, kh, kw]` and `bias [out]` initializers.
    public func exportONNX(_ input: ONNXValue, to graph: ONNXGraphBuilder) throws -> ONNXValue {
        let effective = Size2D(dilation.h * (kernelSize.h - 1) + 1, dilation.w * (kernelSize.w - 1) + 1)
        var inputs = [input.name, graph.stateTensor(weight, of: self, slot: "weight")]
        if let bias { inputs.append(graph.stateTensor(bias, of: self, slot: "bias")) }
        return graph.emit("Conv", inputs: inputs, attributes: [
            .ints("kernel_shape", [kernelSize.h, kernelSize.w]), .ints("strides", [stride.h, stride.w]),
            .ints("pads", onnxPads(padding, input: input.shape, kernel: effective, stride: stride)),
            .ints("dilations", [dilation.h, dilation.w]), .int("group", groups),
        ], scope: graph.name(of: self), sample: try self(input.sample))
    }
}

extension Dense: ONNXExportable {
    /// `Gemm(x, weight, bias, transB = 1)`: `x Wᵀ + b`, weight kept `[out, in]` as in the state dict.
    public func exportONNX(_ input: ONNXValue, to graph: ONNXGraphBuilder) throws -> ONNXValue {
        var inputs = [input.name, graph.stateTensor(weight, of: self, slot: "weight")]
        if let bias { inputs.append(graph.stateTensor(bias, of: self, slot: "bias")) }
        return graph.emit("Gemm", inputs: inputs, attributes: [.int("transB", 1)], scope: graph.name(of: self),
                          sample: try self(input.sample))
    }
}

extension BatchNorm: ONNXExportable {
    /// `BatchNormalization` with the running statistics (ONNX's momentum is `1 - momentum`);
    /// without `affine`, constant ones and zeros stand in for gamma and beta.
    public func exportONNX(_ input: ONNXValue, to graph: ONNXGraphBuilder) throws -> ONNXValue {
        let scope = graph.name(of: self)
        let scale = weight.map { graph.stateTensor($0, of: self, slot: "weight") }
            ?? graph.floatConstant(Tensor(repeating: 1, shape: [features]), hint: scope + ".weight")
        let shift = bias.map { graph.stateTensor($0, of: self, slot: "bias") }
            ?? graph.floatConstant(Tensor(zeros: [features]), hint: scope + ".bias")
        return graph.emit("BatchNormalization", inputs: [
            input.name, scale, shift,
            graph.stateTensor(runningMean, of: self, slot: "running_mean"),
            graph.stateTensor(runningVar, of: self, slot: "running_var"),
        ], attributes: [.float("epsilon", eps), .float("momentum", 1 - momentum)], scope: scope, sample: try self(input.sample))
    }
}

extension Pool2D: ONNXExportable {
    /// `MaxPool` or `AveragePool` (padding counted in the divisor, as Fovea's average pooling);
    /// sum pooling is an average pool times the window area.
    public func exportONNX(_ input: ONNXValue, to graph: ONNXGraphBuilder) throws -> ONNXValue {
        let scope = graph.name(of: self)
        var attributes: [Onnx_AttributeProto] = [
            .ints("kernel_shape", [kernelSize.h, kernelSize.w]), .ints("strides", [stride.h, stride.w]),
            .ints("pads", onnxPads(padding, input: input.shape, kernel: kernelSize, stride: stride)),
            .int("ceil_mode", ceilMode ? 1 : 0),
        ]
        let sample = try self(input.sample)
        switch kind {
        case .max:
            return graph.emit("MaxPool", inputs: [input.name], attributes: attributes, scope: scope, sample: sample)
        case .average:
            attributes.append(.int("count_include_pad", 1))
            return graph.emit("AveragePool", inputs: [input.name], attributes: attributes, scope: scope, sample: sample)
        case .sum:
            attributes.append(.int("count_include_pad", 1))
            let mean = graph.node("AveragePool", inputs: [input.name], attributes: attributes, scope: scope)[0]
            let area = graph.floatConstant(Tensor(scalar: Float(kernelSize.h * kernelSize.w)), hint: scope + "/area")
            return graph.emit("Mul", inputs: [mean, area], scope: scope, sample: sample)
        }
    }
}

extension GlobalAvgPool2D: ONNXExportable {
    /// `GlobalAveragePool`: `[N, C, H, W]` -> `[N, C, 1, 1]`.
    public func exportONNX(_ input: ONNXValue, to graph: ONNXGraphBuilder) throws -> ONNXValue {
        graph.emit("GlobalAveragePool", inputs: [input.name], scope: graph.name(of: self), sample: try self(input.sample))
    }
}

extension GlobalMaxPool2D: ONNXExportable {
    /// `GlobalMaxPool`: `[N, C, H, W]` -> `[N, C, 1, 1]`.
    public func exportONNX(_ input: ONNXValue, to graph: ONNXGraphBuilder) throws -> ONNXValue {
        graph.emit("GlobalMaxPool", inputs: [input.name], scope: graph.name(of: self), sample: try self(input.sample))
    }
}

extension AdaptiveAvgPool2D: ONNXExportable {
    /// For the example input's size: `GlobalAveragePool` to 1x1, `AveragePool` when the sides
    /// divide evenly, otherwise the exact bins as a matrix product, `Reshape [N, C, H*W]`,
    /// `MatMul` with a constant `[H*W, OH*OW]` averaging matrix, `Reshape [N, C, OH, OW]`.
    public func exportONNX(_ input: ONNXValue, to graph: ONNXGraphBuilder) throws -> ONNXValue {
        let scope = graph.name(of: self)
        let (c, h, w) = (input.shape[1], input.shape[2], input.shape[3])
        let (oh, ow) = (outputSize.h, outputSize.w)
        let sample = try self(input.sample)
        if oh == 1 && ow == 1 {
            return graph.emit("GlobalAveragePool", inputs: [input.name], scope: scope, sample: sample)
        }
        if h % oh == 0 && w % ow == 0 {
            let k = [h / oh, w / ow]
            return graph.emit("AveragePool", inputs: [input.name], attributes: [
                .ints("kernel_shape", k), .ints("strides", k), .ints("pads", [0, 0, 0, 0]),
            ], scope: scope, sample: sample)
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
        let rows = try graph.reshape(input, to: [0, c, h * w], scope: scope)
        let bins = graph.floatConstant(matrix, hint: scope + "/bins")
        let pooled = graph.emit("MatMul", inputs: [rows.name, bins], scope: scope,
                                sample: try sample.reshaped([input.shape[0], c, oh * ow]))
        return try graph.reshape(pooled, to: [0, c, oh, ow], scope: scope)
    }
}

extension Flatten: ONNXExportable {
    /// `Flatten` (axis 1) or, from a later axis, `Reshape` keeping the leading sizes.
    public func exportONNX(_ input: ONNXValue, to graph: ONNXGraphBuilder) throws -> ONNXValue {
        let scope = graph.name(of: self)
        let axis = startAxis < 0 ? startAxis + input.shape.count : startAxis
        if axis == 1 { return try graph.flatten(input, scope: scope) }
        guard axis >= 1, axis < input.shape.count else {
            throw ONNXError.unsupportedLayer(type: typeName, name: scope, "flattening from axis \(startAxis) of \(describe(input.shape)) would merge the batch axis")
        }
        let target = [0] + Array(input.shape[1..<axis]) + [input.shape[axis...].reduce(1, *)]
        return try graph.reshape(input, to: target, scope: scope)
    }
}

extension DropoutLayer: ONNXExportable {
    /// Nothing: dropout is the identity in evaluation, the mode models are exported in.
    public func exportONNX(_ input: ONNXValue, to graph: ONNXGraphBuilder) throws -> ONNXValue { input }
}

extension Identity: ONNXExportable {
    /// Nothing.
    public func exportONNX(_ input: ONNXValue, to graph: ONNXGraphBuilder) throws -> ONNXValue { input }
}

extension Sequential: ONNXExportable {
    /// The children one after another.
    public func exportONNX(_ input: ONNXValue, to graph: ONNXGraphBuilder) throws -> ONNXValue {
        var x = input
        for layer in layers { x = try graph.call(layer, x) }
        return x
    }
}

extension LocalResponseNorm: ONNXExportable {
    /// `LRN(size, alpha, beta, bias = k)`; ONNX centres an even window differently from
    /// PyTorch, so only odd sizes export.
    public func exportONNX(_ input: ONNXValue, to graph: ONNXGraphBuilder) throws -> ONNXValue {
        let scope = graph.name(of: self)
        guard size % 2 == 1 else {
            throw ONNXError.unsupportedLayer(type: typeName, name: scope, "ONNX's LRN places an even window (size \(size)) one channel off PyTorch's; only odd sizes export")
        }
        return graph.emit("LRN", inputs: [input.name], attributes: [
            .int("size", size), .float("alpha", alpha), .float("beta", beta), .float("bias", k),
        ], scope: scope, sample: try self(input.sample))
    }
}
