import TensorCore
import NN
import Models

// ResNet (ResNet.swift): residual blocks whose shortcut is an ONNX Add.

extension BasicBlock: ONNXExportable {
    /// relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)).
    public func exportONNX(_ x: ONNXValue, to graph: ONNXGraphBuilder) throws -> ONNXValue {
        let relu = try child("relu")
        let out = try graph.call(bn2, graph.call(conv2, graph.call(relu, graph.call(bn1, graph.call(conv1, x)))))
        let shortcut = try downsample.map { try graph.call($0, x) } ?? x
        return try graph.call(relu, graph.add(out, shortcut, scope: graph.name(of: self)))
    }
}

extension Bottleneck: ONNXExportable {
    /// relu(bn3(conv3(relu(bn2(conv2(relu(bn1(conv1(x)))))))) + shortcut(x)).
    public func exportONNX(_ x: ONNXValue, to graph: ONNXGraphBuilder) throws -> ONNXValue {
        let relu = try child("relu")
        var out = try graph.call(relu, graph.call(bn1, graph.call(conv1, x)))
        out = try graph.call(relu, graph.call(bn2, graph.call(conv2, out)))
        out = try graph.call(bn3, graph.call(conv3, out))
        let shortcut = try downsample.map { try graph.call($0, x) } ?? x
        return try graph.call(relu, graph.add(out, shortcut, scope: graph.name(of: self)))
    }
}

extension ResNet: ONNXExportable {
    /// relu(bn1(conv1)) -> [maxpool] -> layer1-4 -> global average pool -> flatten -> fc.
    public func exportONNX(_ input: ONNXValue, to graph: ONNXGraphBuilder) throws -> ONNXValue {
        var x = try graph.call(self, child: "relu", graph.call(bn1, graph.call(conv1, input)))
        if let maxpool { x = try graph.call(maxpool, x) }
        for stage in [layer1, layer2, layer3, layer4] { x = try graph.call(stage, x) }
        x = try graph.call(self, child: "flatten", graph.call(self, child: "avgpool", x))
        return try graph.call(fc, x)
    }
}
