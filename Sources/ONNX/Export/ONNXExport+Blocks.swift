import TensorCore
import NN
import Models

// Shared zoo blocks (Blocks.swift): conv-BN-ReLU and the features/classifier network shape
// of AlexNet, ZFNet, VGG and MobileNet V2.

extension ConvBNReLU: ONNXExportable {
    /// relu(bn(conv(x))).
    public func exportONNX(_ input: ONNXValue, to graph: ONNXGraphBuilder) throws -> ONNXValue {
        try graph.call(self, child: "relu", graph.call(bn, graph.call(conv, input)))
    }
}

extension FeatureClassifierNetwork: ONNXExportable {
    /// classifier(flatten(avgpool(features(x)))).
    public func exportONNX(_ input: ONNXValue, to graph: ONNXGraphBuilder) throws -> ONNXValue {
        let pooled = try graph.call(avgpool, graph.call(features, input))
        return try graph.call(classifier, graph.call(self, child: "flatten", pooled))
    }
}
