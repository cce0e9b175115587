import TensorCore
import NN
import Models

// DenseNet (DenseNet.swift): every dense layer reads the concatenation of the block so far.

extension DenseLayer: ONNXExportable {
    /// conv2(relu2(norm2(conv1(relu1(norm1(x)))))) (dropout is the identity in evaluation).
    public func exportONNX(_ x: ONNXValue, to graph: ONNXGraphBuilder) throws -> ONNXValue {
        var v = x
        for name in ["norm1", "relu1", "conv1", "norm2", "relu2", "conv2", "dropout"] { v = try graph.call(self, child: name, v) }
        return v
    }
}

extension DenseBlock: ONNXExportable {
    /// Each layer on Concat(block input, every earlier layer's output); the block's output is
    /// the concatenation of all of them.
    public func exportONNX(_ input: ONNXValue, to graph: ONNXGraphBuilder) throws -> ONNXValue {
        let scope = graph.name(of: self)
        var features = [input]
        for layer in layers {
            let x = features.count == 1 ? input : try graph.concat(features, axis: 1, scope: scope)
            features.append(try graph.call(layer, x))
        }
        return try graph.concat(features, axis: 1, scope: scope)
    }
}

extension DenseNet: ONNXExportable {
    /// classifier(flatten(avgpool(relu(features(x))))).
    public func exportONNX(_ input: ONNXValue, to graph: ONNXGraphBuilder) throws -> ONNXValue {
        var x = try graph.call(self, child: "relu", graph.call(features, input))
        x = try graph.call(self, child: "flatten", graph.call(self, child: "avgpool", x))
        return try graph.call(classifier, x)
    }
}
