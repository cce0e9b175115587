// SqueezeNet: F. N. Iandola, S. Han, M. W. Moskewicz, K. Ashraf, W. J. Dally, K. Keutzer,
// "SqueezeNet: AlexNet-level accuracy with 50x fewer parameters and <0.5MB model size",
// arXiv:1602.07360 (2016), Table 1 (v1.0); v1.1 from the authors' repository notes (3x3 stem
// with 64 filters, pools moved earlier: 2.4x less computation, same accuracy).
//
// Fire modules squeeze with 1x1 convolutions and expand with concatenated 1x1 and 3x3 ones;
// the classifier is a 1x1 convolution to the classes and global average pooling (no dense
// layer). SqueezeNet 1.0: 1,248,424 parameters, 0.82 G MACs; 1.1: 1,235,496 and 0.35 G.
import TensorCore
import NN

/// A fire module: `[N, in, H, W]` -> `[N, expand1x1 + expand3x3, H, W]`.
public final class Fire: Layer, @unchecked Sendable {
    let squeeze: Conv2D, squeeze_activation = ReLU()
    let expand1x1: Conv2D, expand1x1_activation = ReLU()
    let expand3x3: Conv2D, expand3x3_activation = ReLU()

    public init(_ inChannels: Int, squeeze s: Int, expand1x1 e1: Int, expand3x3 e3: Int) throws {
        squeeze = try Conv2D(inChannels, s, kernelSize: 1, weightInit: .kaimingUniform)
        expand1x1 = try Conv2D(s, e1, kernelSize: 1, weightInit: .kaimingUniform)
        expand3x3 = try Conv2D(s, e3, kernelSize: 3, padding: .uniform(1), weightInit: .kaimingUniform)
        super.init()
    }

    public override func forward(_ input: Tensor) throws -> Tensor {
        let x = try squeeze_activation(squeeze(input))
        return try Tensor.concatenate([expand1x1_activation(expand1x1(x)), expand3x3_activation(expand3x3(x))], axis: 1)
    }
}

/// SqueezeNet 1.0 or 1.1 for `[N, inputChannels, H, W]` (at least 21x21 for 1.0, 17x17 for
/// 1.1) -> `[N, classes]`. Names as torchvision's: `features.N`, `classifier.1`.
public final class SqueezeNet: Layer, @unchecked Sendable {
    public enum Version: String, Sendable, CaseIterable { case v1_0 = "1.0", v1_1 = "1.1" }

    public let inputChannels: Int
    public let features: Sequential
    public let classifier: Sequential
    let flatten = Flatten()

    public init(_ version: Version, inputChannels: Int = 3, classes: Int = 1000, dropout: Float = 0.5) throws {
        self.inputChannels = inputChannels
        func pool() throws -> MaxPool2D { try MaxPool2D(3, stride: 2, ceilMode: true) }
        switch version {
        case .v1_0:
            features = Sequential(
                try Conv2D(inputChannels, 96, kernelSize: 7, stride: 2, weightInit: .kaimingUniform), ReLU(), try pool(),
                try Fire(96, squeeze: 16, expand1x1: 64, expand3x3: 64), try Fire(128, squeeze: 16, expand1x1: 64, expand3x3: 64),
                try Fire(128, squeeze: 32, expand1x1: 128, expand3x3: 128), try pool(),
                try Fire(256, squeeze: 32, expand1x1: 128, expand3x3: 128), try Fire(256, squeeze: 48, expand1x1: 192, expand3x3: 192),
                try Fire(384, squeeze: 48, expand1x1: 192, expand3x3: 192), try Fire(384, squeeze: 64, expand1x1: 256, expand3x3: 256),
                try pool(), try Fire(512, squeeze: 64, expand1x1: 256, expand3x3: 256))
        case .v1_1:
            features = Sequential(
                try Conv2D(inputChannels, 64, kernelSize: 3, stride: 2, weightInit: .kaimingUniform), ReLU(), try pool(),
                try Fire(64, squeeze: 16, expand1x1: 64, expand3x3: 64), try Fire(128, squeeze: 16, expand1x1: 64, expand3x3: 64),
                try pool(),
                try Fire(128, squeeze: 32, expand1x1: 128, expand3x3: 128), try Fire(256, squeeze: 32, expand1x1: 128, expand3x3: 128),
                try pool(),
                try Fire(256, squeeze: 48, expand1x1: 192, expand3x3: 192), try Fire(384, squeeze: 48, expand1x1: 192, expand3x3: 192),
                try Fire(384, squeeze: 64, expand1x1: 256, expand3x3: 256), try Fire(512, squeeze: 64, expand1x1: 256, expand3x3: 256))
        }
        classifier = Sequential(try Dropout(dropout),
                                try Conv2D(512, classes, kernelSize: 1, weightInit: .normal(mean: 0, std: 0.01)),
                                ReLU(), GlobalAvgPool2D())
        super.init()
    }

    public override func forward(_ input: Tensor) throws -> Tensor {
        try checkImages(input, channels: inputChannels, model: "SqueezeNet")
        return try flatten(classifier(features(input)))
    }
}
