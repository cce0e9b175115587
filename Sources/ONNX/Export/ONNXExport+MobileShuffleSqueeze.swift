import TensorCore
import NN
import Models

// The small-footprint families: MobileNet V2's inverted residuals, ShuffleNet V2's split and
// channel shuffle, SqueezeNet's fire modules (MobileNetV2.swift, ShuffleNetV2.swift, SqueezeNet.swift).

extension InvertedResidual: ONNXExportable {
    /// conv(x), plus x when the block keeps its shape.
    public func exportONNX(_ x: ONNXValue, to graph: ONNXGraphBuilder) throws -> ONNXValue {
        let out = try graph.call(self, child: "conv", x)
        return usesShortcut ? try graph.add(x, out, scope: graph.name(of: self)) : out
    }
}

extension ShuffleUnit: ONNXExportable {
    /// Stride 1: Split the channels in halves, Concat(left, branch2(right)); stride 2:
    /// Concat(branch1(x), branch2(x)); then the channel shuffle in two groups.
    public func exportONNX(_ x: ONNXValue, to graph: ONNXGraphBuilder) throws -> ONNXValue {
        let scope = graph.name(of: self)
        let joined: ONNXValue
        if stride == 1 {
            let half = x.shape[1] / 2
            let halves = try graph.split(x, axis: 1, sizes: [half, x.shape[1] - half], scope: scope)
            joined = try graph.concat([halves[0], graph.call(self, child: "branch2", halves[1])], axis: 1, scope: scope)
        } else {
            joined = try graph.concat([graph.call(self, child: "branch1", x), graph.call(self, child: "branch2", x)],
                                      axis: 1, scope: scope)
        }
        return try graph.channelShuffle(joined, groups: 2, scope: scope)
    }
}

extension ShuffleNetV2: ONNXExportable {
    /// conv1 -> maxpool -> stage2-4 -> conv5 -> global average pool -> flatten -> fc.
    public func exportONNX(_ input: ONNXValue, to graph: ONNXGraphBuilder) throws -> ONNXValue {
        var x = input
        for name in ["conv1", "maxpool", "stage2", "stage3", "stage4", "conv5", "avgpool", "flatten", "fc"] {
            x = try graph.call(self, child: name, x)
        }
        return x
    }
}

extension Fire: ONNXExportable {
    /// s = relu(squeeze(x)); Concat(relu(expand1x1(s)), relu(expand3x3(s))).
    public func exportONNX(_ input: ONNXValue, to graph: ONNXGraphBuilder) throws -> ONNXValue {
        let s = try graph.call(self, child: "squeeze_activation", graph.call(self, child: "squeeze", input))
        let e1 = try graph.call(self, child: "expand1x1_activation", graph.call(self, child: "expand1x1", s))
        let e3 = try graph.call(self, child: "expand3x3_activation", graph.call(self, child: "expand3x3", s))
        return try graph.concat([e1, e3], axis: 1, scope: graph.name(of: self))
    }
}

extension SqueezeNet: ONNXExportable {
    /// flatten(classifier(features(x))).
    public func exportONNX(_ input: ONNXValue, to graph: ONNXGraphBuilder) throws -> ONNXValue {
        try graph.call(self, child: "flatten", graph.call(classifier, graph.call(features, input)))
    }
}
