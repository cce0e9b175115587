import TensorCore
import NN

// Activation layers as single ONNX nodes.

extension ReLU: ONNXExportable {
    /// `Relu`.
    public func exportONNX(_ input: ONNXValue, to graph: ONNXGraphBuilder) throws -> ONNXValue {
        graph.relu(input, scope: graph.name(of: self))
    }
}

extension Tanh: ONNXExportable {
    /// `Tanh`.
    public func exportONNX(_ input: ONNXValue, to graph: ONNXGraphBuilder) throws -> ONNXValue {
        graph.tanh(input, scope: graph.name(of: self))
    }
}

extension Sigmoid: ONNXExportable {
    /// `Sigmoid`.
    public func exportONNX(_ input: ONNXValue, to graph: ONNXGraphBuilder) throws -> ONNXValue {
        graph.emit("Sigmoid", inputs: [input.name], scope: graph.name(of: self), sample: try self(input.sample))
    }
}

extension LeakyReLU: ONNXExportable {
    /// `LeakyRelu(alpha = slope)`.
    public func exportONNX(_ input: ONNXValue, to graph: ONNXGraphBuilder) throws -> ONNXValue {
        graph.emit("LeakyRelu", inputs: [input.name], attributes: [.float("alpha", slope)], scope: graph.name(of: self),
                   sample: try self(input.sample))
    }
}

extension ELU: ONNXExportable {
    /// `Elu(alpha)`.
    public func exportONNX(_ input: ONNXValue, to graph: ONNXGraphBuilder) throws -> ONNXValue {
        graph.emit("Elu", inputs: [input.name], attributes: [.float("alpha", alpha)], scope: graph.name(of: self),
                   sample: try self(input.sample))
    }
}

extension PReLU: ONNXExportable {
    /// `PRelu` with the `weight` initializer; one slope per channel is reshaped in the graph
    /// to `[C, 1, 1]` (or `[C]` after a dense layer) so it broadcasts over axis 1 as ONNX's
    /// right-aligned broadcasting needs, while the initializer keeps the state dict's `[C]`.
    public func exportONNX(_ input: ONNXValue, to graph: ONNXGraphBuilder) throws -> ONNXValue {
        let scope = graph.name(of: self)
        var slope = graph.stateTensor(weight, of: self, slot: "weight")
        if weight.count > 1 && input.shape.count > 2 {
            let shape = [weight.count] + Array(repeating: 1, count: input.shape.count - 2)
            let target = graph.int64Constant(shape, hint: scope + "/slope_shape")
            slope = graph.node("Reshape", inputs: [slope, target], scope: scope)[0]
        }
        return graph.emit("PRelu", inputs: [input.name, slope], scope: scope, sample: try self(input.sample))
    }
}

/// `Clip` between two constant bounds (opset 11 and later take them as inputs).
func exportClip(_ input: ONNXValue, low: Float, high: Float, graph: ONNXGraphBuilder, scope: String, sample: Tensor) -> ONNXValue {
    let lo = graph.floatConstant(Tensor(scalar: low), hint: scope + "/min")
    let hi = graph.floatConstant(Tensor(scalar: high), hint: scope + "/max")
    return graph.emit("Clip", inputs: [input.name, lo, hi], scope: scope, sample: sample)
}

extension ReLU6: ONNXExportable {
    /// `Clip(x, 0, 6)`.
    public func exportONNX(_ input: ONNXValue, to graph: ONNXGraphBuilder) throws -> ONNXValue {
        exportClip(input, low: 0, high: 6, graph: graph, scope: graph.name(of: self), sample: try self(input.sample))
    }
}

extension HardTanh: ONNXExportable {
    /// `Clip(x, low, high)`.
    public func exportONNX(_ input: ONNXValue, to graph: ONNXGraphBuilder) throws -> ONNXValue {
        exportClip(input, low: low, high: high, graph: graph, scope: graph.name(of: self), sample: try self(input.sample))
    }
}

extension Softmax: ONNXExportable {
    /// `Softmax(axis)` (opset 13 semantics: along that one axis).
    public func exportONNX(_ input: ONNXValue, to graph: ONNXGraphBuilder) throws -> ONNXValue {
        graph.emit("Softmax", inputs: [input.name], attributes: [.int("axis", axis)], scope: graph.name(of: self),
                   sample: try self(input.sample))
    }
}

extension LogSoftmax: ONNXExportable {
    /// `LogSoftmax(axis)`.
    public func exportONNX(_ input: ONNXValue, to graph: ONNXGraphBuilder) throws -> ONNXValue {
        graph.emit("LogSoftmax", inputs: [input.name], attributes: [.int("axis", axis)], scope: graph.name(of: self),
                   sample: try self(input.sample))
    }
}
