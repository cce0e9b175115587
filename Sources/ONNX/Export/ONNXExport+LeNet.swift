import TensorCore
import NN
import Models

// The LeNets: convolution, activation and pooling twice, then dense layers (LeNet.swift, LeNetBN.swift).

extension LeNet5: ONNXExportable {
    /// pool(act(conv1)) -> pool(act(conv2)) -> flatten -> act(fc1) -> act(fc2) -> fc3.
    public func exportONNX(_ input: ONNXValue, to graph: ONNXGraphBuilder) throws -> ONNXValue {
        func act(_ x: ONNXValue, _ scope: String) -> ONNXValue {
            activation == .relu ? graph.relu(x, scope: scope) : graph.tanh(x, scope: scope)
        }
        let pool = try child("pool")
        var x = try graph.call(pool, act(graph.call(conv1, input), "conv1"))
        x = try graph.call(pool, act(graph.call(conv2, x), "conv2"))
        x = try graph.call(self, child: "flatten", x)
        x = act(try graph.call(fc1, x), "fc1")
        x = act(try graph.call(fc2, x), "fc2")
        return try graph.call(fc3, x)
    }
}

extension LeNet20x50: ONNXExportable {
    /// pool(tanh(conv1)) -> pool(tanh(conv2)) -> flatten -> tanh(fc1) -> fc2.
    public func exportONNX(_ input: ONNXValue, to graph: ONNXGraphBuilder) throws -> ONNXValue {
        let pool = try child("pool")
        var x = try graph.call(pool, graph.tanh(graph.call(conv1, input), scope: "conv1"))
        x = try graph.call(pool, graph.tanh(graph.call(conv2, x), scope: "conv2"))
        x = try graph.call(self, child: "flatten", x)
        return try graph.call(fc2, graph.tanh(graph.call(fc1, x), scope: "fc1"))
    }
}

extension LeNetBN: ONNXExportable {
    /// pool(prelu(bn1(conv1))) -> pool(prelu(bn2(conv2))) -> flatten -> prelu(bn3(fc1)) -> fc2
    /// (dropout is the identity in evaluation); the one PReLU slope is shared by all three.
    public func exportONNX(_ input: ONNXValue, to graph: ONNXGraphBuilder) throws -> ONNXValue {
        let pool = try child("pool")
        var x = try graph.call(pool, graph.call(prelu, graph.call(bn1, graph.call(conv1, input))))
        x = try graph.call(pool, graph.call(prelu, graph.call(bn2, graph.call(conv2, x))))
        x = try graph.call(self, child: "flatten", x)
        x = try graph.call(prelu, graph.call(bn3, graph.call(fc1, x)))
        return try graph.call(fc2, graph.call(dropout, x))
    }
}
