import TensorCore
import NN

/// A layer that can write itself into an ONNX graph.
///
/// `exportONNX` appends the nodes computing the layer's evaluation-mode `forward` from `input`
/// and returns the output value, whose sample must equal what `forward` gives for
/// `input.sample`. Leaf layers emit one node; composite blocks and zoo models call their
/// children through `graph.call` and emit the tensor ops their `forward` applies between them
/// (residual additions, concatenations, ReLUs), so each model's export reads like its forward.
public protocol ONNXExportable {
    func exportONNX(_ input: ONNXValue, to graph: ONNXGraphBuilder) throws -> ONNXValue
}

/// The tensor ops that models apply between layers, as ONNX nodes.
extension ONNXGraphBuilder {
    /// `Relu`.
    public func relu(_ x: ONNXValue, scope: String) -> ONNXValue {
        emit("Relu", inputs: [x.name], scope: scope, sample: x.sample.relu())
    }

    /// `Tanh`.
    public func tanh(_ x: ONNXValue, scope: String) -> ONNXValue {
        emit("Tanh", inputs: [x.name], scope: scope, sample: x.sample.tanh())
    }

    /// `Add` (same shapes, as residual connections use it).
    public func add(_ a: ONNXValue, _ b: ONNXValue, scope: String) throws -> ONNXValue {
        emit("Add", inputs: [a.name, b.name], scope: scope, sample: try a.sample + b.sample)
    }

    /// `Concat` along `axis`.
    public func concat(_ values: [ONNXValue], axis: Int, scope: String) throws -> ONNXValue {
        emit("Concat", inputs: values.map(\.name), attributes: [.int("axis", axis)], scope: scope,
             sample: try Tensor.concatenate(values.map(\.sample), axis: axis))
    }

    /// `Flatten` from axis 1: `[N, C, H, W]` -> `[N, C*H*W]`.
    public func flatten(_ x: ONNXValue, scope: String) throws -> ONNXValue {
        emit("Flatten", inputs: [x.name], attributes: [.int("axis", 1)], scope: scope, sample: try x.sample.flattened(from: 1))
    }

    /// `Reshape` to `shape`, where 0 keeps the input's size on that axis (the batch).
    public func reshape(_ x: ONNXValue, to shape: [Int], scope: String) throws -> ONNXValue {
        let concrete = shape.enumerated().map { $0.element == 0 ? x.shape[$0.offset] : $0.element }
        let target = int64Constant(shape, hint: (scope.isEmpty ? "" : scope + "/") + "shape")
        return emit("Reshape", inputs: [x.name, target], scope: scope, sample: try x.sample.reshaped(concrete))
    }

    /// ShuffleNet's channel shuffle: `Reshape [N, g, C/g, H, W]`, `Transpose (0, 2, 1, 3, 4)`, `Reshape [N, C, H, W]`.
    public func channelShuffle(_ x: ONNXValue, groups: Int, scope: String) throws -> ONNXValue {
        let (c, h, w) = (x.shape[1], x.shape[2], x.shape[3])
        let grouped = try reshape(x, to: [0, groups, c / groups, h, w], scope: scope)
        let swapped = emit("Transpose", inputs: [grouped.name], attributes: [.ints("perm", [0, 2, 1, 3, 4])], scope: scope,
                           sample: try grouped.sample.permuted([0, 2, 1, 3, 4]))
        return try reshape(swapped, to: [0, c, h, w], scope: scope)
    }

    /// `Split` along `axis` into pieces of `sizes` (opset 13: the sizes are an input).
    public func split(_ x: ONNXValue, axis: Int, sizes: [Int], scope: String) throws -> [ONNXValue] {
        let sizesName = int64Constant(sizes, hint: (scope.isEmpty ? "" : scope + "/") + "split")
        let names = node("Split", inputs: [x.name, sizesName], attributes: [.int("axis", axis)], scope: scope, outputs: sizes.count)
        var start = 0
        return try zip(names, sizes).map { name, size in
            defer { start += size }
            return ONNXValue(name: name, sample: try x.sample.slice(axis: axis, start..<(start + size)))
        }
    }
}
