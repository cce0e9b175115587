// ResNet: K. He, X. Zhang, S. Ren, J. Sun, "Deep residual learning for image recognition",
// CVPR 2016 (arXiv:1512.03385), Table 1; in torchvision's layout (`resnet18` ... `resnet152`,
// stride on the 3x3 convolution of bottlenecks, "ResNet v1.5").
//
// A 7x7 stride-2 stem and 3x3 max pool, four stages of residual blocks (64, 128, 256, 512
// planes), global average pooling and a dense classifier. Basic blocks (two 3x3 convolutions)
// for ResNet-18/34, bottlenecks (1x1 reduce, 3x3, 1x1 expand x4) for 50/101/152; a block
// whose shape changes adds a 1x1 strided projection (`downsample`) on the shortcut:
// `y = relu(F(x) + shortcut(x))`. Convolutions start Kaiming normal (fan-out), batch norms at
// 1 and 0. ResNet-18: 11,689,512 parameters, 1.8 G MACs at 3x224x224; ResNet-50: 25,557,032
// and 4.1 G.
//
// The CIFAR variant (section 4.2 uses 3x3 stems for 32x32 images) keeps ResNet-18's stages and
// names but starts with a 3x3 stride-1 convolution and no max pool: 11,173,962 parameters
// for 10 classes, 0.56 G MACs at 3x32x32.
import TensorCore
import NN

/// The two-convolution residual block of ResNet-18/34: `[N, in, H, W]` -> `[N, planes, H/s, W/s]`.
public final class BasicBlock: Layer, @unchecked Sendable {
    public static let expansion = 1
    public let conv1: Conv2D
    public let bn1: BatchNorm2D
    let relu = ReLU()
    public let conv2: Conv2D
    public let bn2: BatchNorm2D
    public let downsample: Sequential?

    public init(_ inChannels: Int, planes: Int, stride: Int = 1) throws {
        conv1 = try Conv2D(inChannels, planes, kernelSize: 3, stride: Size2D(stride, stride), padding: .uniform(1),
                           bias: false, weightInit: .fanOutNormal)
        bn1 = try BatchNorm2D(planes)
        conv2 = try Conv2D(planes, planes, kernelSize: 3, padding: .uniform(1), bias: false, weightInit: .fanOutNormal)
        bn2 = try BatchNorm2D(planes)
        downsample = try shortcut(inChannels, planes, stride: stride)
        super.init()
    }

    public override func forward(_ x: Tensor) throws -> Tensor {
        var out = try relu(bn1(conv1(x)))
        out = try bn2(conv2(out))
        let identity = try downsample?(x) ?? x
        return try relu(out + identity)
    }
}

/// The bottleneck block of ResNet-50/101/152: 1x1 to `planes`, 3x3 (stride here), 1x1 to
/// `4 planes`: `[N, in, H, W]` -> `[N, 4 planes, H/s, W/s]`.
public final class Bottleneck: Layer, @unchecked Sendable {
    public static let expansion = 4
    public let conv1: Conv2D
    public let bn1: BatchNorm2D
    public let conv2: Conv2D
    public let bn2: BatchNorm2D
    public let conv3: Conv2D
    public let bn3: BatchNorm2D
    let relu = ReLU()
    public let downsample: Sequential?

    public init(_ inChannels: Int, planes: Int, stride: Int = 1) throws {
        let out = planes * Bottleneck.expansion
        conv1 = try Conv2D(inChannels, planes, kernelSize: 1, bias: false, weightInit: .fanOutNormal)
        bn1 = try BatchNorm2D(planes)
        conv2 = try Conv2D(planes, planes, kernelSize: 3, stride: Size2D(stride, stride), padding: .uniform(1),
                           bias: false, weightInit: .fanOutNormal)
        bn2 = try BatchNorm2D(planes)
        conv3 = try Conv2D(planes, out, kernelSize: 1, bias: false, weightInit: .fanOutNormal)
        bn3 = try BatchNorm2D(out)
        downsample = try shortcut(inChannels, out, stride: stride)
        super.init()
    }

    public override func forward(_ x: Tensor) throws -> Tensor {
        var out = try relu(bn1(conv1(x)))
        out = try relu(bn2(conv2(out)))
        out = try bn3(conv3(out))
        let identity = try downsample?(x) ?? x
        return try relu(out + identity)
    }
}

/// The projection shortcut (1x1 strided convolution + batch norm) when a block changes shape.
private func shortcut(_ inChannels: Int, _ outChannels: Int, stride: Int) throws -> Sequential? {
    guard stride != 1 || inChannels != outChannels else { return nil }
    return Sequential(try Conv2D(inChannels, outChannels, kernelSize: 1, stride: Size2D(stride, stride), bias: false,
                                 weightInit: .fanOutNormal),
                      try BatchNorm2D(outChannels))
}

/// ResNet for `[N, inputChannels, H, W]` -> `[N, classes]` (any size of at least 1x1 for the
/// ImageNet stem; the CIFAR stem is meant for 32x32).
/// State-dict names as torchvision's: `conv1`, `bn1`, `layer1.0.conv1`, ..., `fc`.
public final class ResNet: Layer, @unchecked Sendable {
    /// The torchvision depths.
    public enum Depth: Int, Sendable, CaseIterable {
        case resnet18 = 18, resnet34 = 34, resnet50 = 50, resnet101 = 101, resnet152 = 152

        /// Blocks per stage (Table 1).
        var blocks: [Int] {
            switch self {
            case .resnet18: return [2, 2, 2, 2]
            case .resnet34, .resnet50: return [3, 4, 6, 3]
            case .resnet101: return [3, 4, 23, 3]
            case .resnet152: return [3, 8, 36, 3]
            }
        }
        var bottleneck: Bool { rawValue >= 50 }
    }

    /// The first layers: ImageNet's 7x7 stride-2 convolution and max pool, or CIFAR's 3x3 stride 1 and none.
    public enum Stem: String, Sendable { case imagenet, cifar }

    public let inputChannels: Int
    public let conv1: Conv2D
    public let bn1: BatchNorm2D
    let relu = ReLU()
    public let maxpool: MaxPool2D?
    public let layer1, layer2, layer3, layer4: Sequential
    let avgpool = GlobalAvgPool2D()
    let flatten = Flatten()
    public let fc: Dense

    public init(_ depth: Depth, stem: Stem = .imagenet, inputChannels: Int = 3, classes: Int = 1000) throws {
        self.inputChannels = inputChannels
        switch stem {
        case .imagenet:
            conv1 = try Conv2D(inputChannels, 64, kernelSize: 7, stride: 2, padding: .uniform(3), bias: false, weightInit: .fanOutNormal)
            maxpool = try MaxPool2D(3, stride: 2, padding: .uniform(1))
        case .cifar:
            conv1 = try Conv2D(inputChannels, 64, kernelSize: 3, padding: .uniform(1), bias: false, weightInit: .fanOutNormal)
            maxpool = nil
        }
        bn1 = try BatchNorm2D(64)
        var channels = 64
        var stages: [Sequential] = []
        for (i, count) in depth.blocks.enumerated() {
            let planes = 64 << i
            var blocks: [Layer] = []
            for b in 0..<count {
                let stride = (i > 0 && b == 0) ? 2 : 1
                if depth.bottleneck {
                    blocks.append(try Bottleneck(channels, planes: planes, stride: stride))
                    channels = planes * Bottleneck.expansion
                } else {
                    blocks.append(try BasicBlock(channels, planes: planes, stride: stride))
                    channels = planes
                }
            }
            stages.append(Sequential(blocks))
        }
        (layer1, layer2, layer3, layer4) = (stages[0], stages[1], stages[2], stages[3])
        fc = try Dense(channels, classes, weightInit: .pytorchDefault)
        super.init()
    }

    public override func forward(_ input: Tensor) throws -> Tensor {
        try checkImages(input, channels: inputChannels, model: "ResNet")
        var x = try relu(bn1(conv1(input)))
        if let maxpool { x = try maxpool(x) }
        x = try layer4(layer3(layer2(layer1(x))))
        return try fc(flatten(avgpool(x)))
    }
}
