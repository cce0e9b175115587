import TensorCore
import NN

/// Building blocks shared by several zoo models, named as in torchvision so state dicts match.

/// Convolution without bias, batch norm, ReLU (torchvision's `BasicConv2d` in GoogLeNet and
/// Inception v3): `[N, in, H, W]` -> `[N, out, OH, OW]`. Children `conv` and `bn`.
public final class ConvBNReLU: Layer, @unchecked Sendable {
    public let conv: Conv2D
    public let bn: BatchNorm2D
    let relu = ReLU()

    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Size2D, stride: Size2D = 1,
                padding: Padding = .valid, eps: Float = 1e-3, weightInit: Initializer) throws {
        conv = try Conv2D(inChannels, outChannels, kernelSize: kernelSize, stride: stride, padding: padding,
                          bias: false, weightInit: weightInit)
        bn = try BatchNorm2D(outChannels, eps: eps)
        super.init()
    }

    public override func forward(_ input: Tensor) throws -> Tensor { try relu(bn(conv(input))) }
}

/// `Sequential(conv without bias, batch norm[, activation])` with children `0`, `1`, `2`
/// (torchvision's `Conv2dNormActivation`, ShuffleNet's and MobileNet's stems).
func convNormActivation(_ inChannels: Int, _ outChannels: Int, kernelSize: Size2D, stride: Size2D = 1,
                        groups: Int = 1, activation: Layer?, weightInit: Initializer) throws -> Sequential {
    let pad = Padding.explicit(top: (kernelSize.h - 1) / 2, bottom: (kernelSize.h - 1) / 2,
                               left: (kernelSize.w - 1) / 2, right: (kernelSize.w - 1) / 2)
    var layers: [Layer] = [
        try Conv2D(inChannels, outChannels, kernelSize: kernelSize, stride: stride, padding: pad, groups: groups,
                   bias: false, weightInit: weightInit),
        try BatchNorm2D(outChannels),
    ]
    if let activation { layers.append(activation) }
    return Sequential(layers)
}

/// Checks the input of a model's `forward`: rank 4 with the channel count it was built for.
func checkImages(_ input: Tensor, channels: Int, model: String) throws {
    guard input.rank == 4, input.shape[1] == channels else {
        throw TensorError.shapeMismatch(op: model, "input must be [N, \(channels), H, W], got \(describe(input.shape))")
    }
}

/// A convolution initialiser torchvision's families share.
extension Initializer {
    /// `kaiming_normal_(mode="fan_out", nonlinearity="relu")`: VGG, ResNet, MobileNet convolutions.
    static let fanOutNormal = Initializer.kaiming(normal: true, mode: .fanOut, nonlinearity: .relu)
}

/// The AlexNet/VGG/MobileNet shape: `features` (the convolutions), an average pool to a fixed
/// grid (so other input sizes work), flattening, and `classifier` (the dense layers):
/// `[N, inputChannels, H, W]` -> `[N, classes]`. Children `features`, `avgpool`, `classifier`
/// as in torchvision. The family files build the two halves.
public class FeatureClassifierNetwork: Layer, @unchecked Sendable {
    public let inputChannels: Int
    public let features: Sequential
    public let avgpool: AdaptiveAvgPool2D
    let flatten = Flatten()
    public let classifier: Sequential

    init(inputChannels: Int, features: Sequential, pooledTo grid: Size2D, classifier: Sequential) throws {
        self.inputChannels = inputChannels
        self.features = features
        avgpool = try AdaptiveAvgPool2D(grid)
        self.classifier = classifier
        super.init()
    }

    public override func forward(_ input: Tensor) throws -> Tensor {
        try checkImages(input, channels: inputChannels, model: typeName)
        return try classifier(flatten(avgpool(features(input))))
    }
}
