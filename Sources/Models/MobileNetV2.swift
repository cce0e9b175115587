// MobileNet V2: M. Sandler, A. Howard, M. Zhu, A. Zhmoginov, L.-C. Chen, "MobileNetV2:
// inverted residuals and linear bottlenecks", CVPR 2018 (arXiv:1801.04381), Table 2, in
// torchvision's `mobilenet_v2` layout and names.
//
// Inverted residual blocks expand with a 1x1 convolution (factor t), filter with a depthwise
// 3x3, and project back with a linear 1x1 (no activation); the shortcut adds the input when
// the shape is unchanged. ReLU6 activations, a 1x1 convolution to 1280, global average pooling,
// dropout 0.2 and a dense classifier. Convolutions start Kaiming normal (fan-out), the
// classifier N(0, 0.01), as torchvision's. 3,504,872 parameters, 0.30 G MACs at 3x224x224.
import TensorCore
import NN

/// An inverted residual block: `[N, in, H, W]` -> `[N, out, H/s, W/s]`; child `conv`.
public final class InvertedResidual: Layer, @unchecked Sendable {
    public let usesShortcut: Bool
    let conv: Sequential

    public init(_ inChannels: Int, _ outChannels: Int, stride: Int, expansion: Int) throws {
        let hidden = inChannels * expansion
        usesShortcut = stride == 1 && inChannels == outChannels
        var layers: [Layer] = []
        if expansion != 1 {
            layers.append(try convNormActivation(inChannels, hidden, kernelSize: 1, activation: ReLU6(), weightInit: .fanOutNormal))
        }
        layers.append(try convNormActivation(hidden, hidden, kernelSize: 3, stride: Size2D(stride, stride), groups: hidden,
                                             activation: ReLU6(), weightInit: .fanOutNormal))
        layers.append(try Conv2D(hidden, outChannels, kernelSize: 1, bias: false, weightInit: .fanOutNormal))
        layers.append(try BatchNorm2D(outChannels))
        conv = Sequential(layers)
        super.init()
    }

    public override func forward(_ x: Tensor) throws -> Tensor {
        usesShortcut ? try x + conv(x) : try conv(x)
    }
}

/// MobileNet V2 (width 1.0) for `[N, inputChannels, H, W]` -> `[N, classes]`.
/// Names as torchvision's: `features.N`, `classifier.1`.
public final class MobileNetV2: FeatureClassifierNetwork, @unchecked Sendable {
    public init(inputChannels: Int = 3, classes: Int = 1000, dropout: Float = 0.2) throws {
        // (expansion t, channels c, repeats n, first stride s), Table 2.
        let plan: [(Int, Int, Int, Int)] = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                                            (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]
        var layers: [Layer] = [try convNormActivation(inputChannels, 32, kernelSize: 3, stride: 2, activation: ReLU6(),
                                                      weightInit: .fanOutNormal)]
        var channels = 32
        for (t, c, n, s) in plan {
            for i in 0..<n {
                layers.append(try InvertedResidual(channels, c, stride: i == 0 ? s : 1, expansion: t))
                channels = c
            }
        }
        layers.append(try convNormActivation(channels, 1280, kernelSize: 1, activation: ReLU6(), weightInit: .fanOutNormal))
        let classifier = Sequential(try Dropout(dropout), try Dense(1280, classes, weightInit: .normal(mean: 0, std: 0.01)))
        try super.init(inputChannels: inputChannels, features: Sequential(layers), pooledTo: Size2D(1, 1), classifier: classifier)
    }
}
