import TensorCore
import NN
import Models

// GoogLeNet (GoogLeNet.swift): inception modules concatenating four branches. The export is
// the evaluation-mode network, so the auxiliary classifiers, which only train, are left out.

extension InceptionModule: ONNXExportable {
    /// Concat(branch1, branch2, branch3, branch4) along the channels.
    public func exportONNX(_ input: ONNXValue, to graph: ONNXGraphBuilder) throws -> ONNXValue {
        let branches = try [branch1, branch2, branch3, branch4].map { try graph.call($0, input) }
        return try graph.concat(branches, axis: 1, scope: graph.name(of: self))
    }
}

extension GoogLeNet: ONNXExportable {
    /// The stem, inception 3a-5b with their max pools, global average pooling and `fc`.
    public func exportONNX(_ input: ONNXValue, to graph: ONNXGraphBuilder) throws -> ONNXValue {
        var x = input
        for layer: Layer in [conv1, maxpool1, conv2, conv3, maxpool2, inception3a, inception3b, maxpool3,
                             inception4a, inception4b, inception4c, inception4d, inception4e, maxpool4,
                             inception5a, inception5b, avgpool] {
            x = try graph.call(layer, x)
        }
        x = try graph.call(self, child: "flatten", x)
        return try graph.call(fc, graph.call(dropout, x))
    }
}
