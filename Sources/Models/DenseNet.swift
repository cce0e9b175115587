// DenseNet: G. Huang, Z. Liu, L. van der Maaten, K. Q. Weinberger, "Densely connected
// convolutional networks", CVPR 2017 (arXiv:1608.06993), Table 1 (DenseNet-BC), in
// torchvision's layout and names (`features.denseblock1.denselayer1.conv1`, ...).
//
// Every layer of a dense block sees the concatenation of all earlier feature maps of the block
// and adds `growthRate` new ones (BN-ReLU-1x1 conv to 4k, BN-ReLU-3x3 conv to k); transitions
// halve channels (BN-ReLU-1x1 conv) and size (2x2 average pool). DenseNet-121: 7,978,856
// parameters, 2.9 G MACs at 3x224x224.
import TensorCore
import NN

/// One dense layer: `[N, in, H, W]` -> `[N, growthRate, H, W]` (the new maps only).
public final class DenseLayer: Layer, @unchecked Sendable {
    let norm1: BatchNorm2D, relu1 = ReLU(), conv1: Conv2D
    let norm2: BatchNorm2D, relu2 = ReLU(), conv2: Conv2D
    let dropout: Dropout

    public init(_ inChannels: Int, growthRate: Int, bottleneckFactor: Int, dropRate: Float) throws {
        norm1 = try BatchNorm2D(inChannels)
        conv1 = try Conv2D(inChannels, bottleneckFactor * growthRate, kernelSize: 1, bias: false, weightInit: .kaimingNormal)
        norm2 = try BatchNorm2D(bottleneckFactor * growthRate)
        conv2 = try Conv2D(bottleneckFactor * growthRate, growthRate, kernelSize: 3, padding: .uniform(1), bias: false,
                           weightInit: .kaimingNormal)
        dropout = try Dropout(dropRate)
        super.init()
    }

    public override func forward(_ x: Tensor) throws -> Tensor {
        try dropout(conv2(relu2(norm2(conv1(relu1(norm1(x)))))))
    }
}

/// A dense block: `[N, in, H, W]` -> `[N, in + layers * growthRate, H, W]`, each layer fed the
/// concatenation of the block input and every earlier layer's output.
public final class DenseBlock: Layer, @unchecked Sendable {
    public let layers: [DenseLayer]

    public init(layers count: Int, inChannels: Int, growthRate: Int, bottleneckFactor: Int, dropRate: Float) throws {
        layers = try (0..<count).map {
            try DenseLayer(inChannels + $0 * growthRate, growthRate: growthRate, bottleneckFactor: bottleneckFactor, dropRate: dropRate)
        }
        super.init()
    }

    public override func forward(_ input: Tensor) throws -> Tensor {
        var features = [input]
        for layer in layers {
            let x = features.count == 1 ? input : try Tensor.concatenate(features, axis: 1)
            features.append(try layer(x))
        }
        return try Tensor.concatenate(features, axis: 1)
    }

    public override var children: [(name: String, layer: Layer)] {
        layers.enumerated().map { ("denselayer\($0.offset + 1)", $0.element) }
    }
}

/// DenseNet-121/161/169/201 for `[N, inputChannels, H, W]` (at least 29x29) -> `[N, classes]`.
public final class DenseNet: Layer, @unchecked Sendable {
    /// torchvision's configurations: growth rate, layers per block, stem filters.
    public enum Depth: Int, Sendable, CaseIterable {
        case densenet121 = 121, densenet161 = 161, densenet169 = 169, densenet201 = 201

        var configuration: (growth: Int, blocks: [Int], stem: Int) {
            switch self {
            case .densenet121: return (32, [6, 12, 24, 16], 64)
            case .densenet161: return (48, [6, 12, 36, 24], 96)
            case .densenet169: return (32, [6, 12, 32, 32], 64)
            case .densenet201: return (32, [6, 12, 48, 32], 64)
            }
        }
    }

    public let inputChannels: Int
    public let features: Sequential
    let relu = ReLU()
    let avgpool = GlobalAvgPool2D()
    let flatten = Flatten()
    public let classifier: Dense

    public init(_ depth: Depth, inputChannels: Int = 3, classes: Int = 1000, dropRate: Float = 0) throws {
        self.inputChannels = inputChannels
        let (growth, blocks, stem) = depth.configuration
        features = try Sequential(named: [
            ("conv0", try Conv2D(inputChannels, stem, kernelSize: 7, stride: 2, padding: .uniform(3), bias: false,
                                 weightInit: .kaimingNormal)),
            ("norm0", try BatchNorm2D(stem)), ("relu0", ReLU()),
            ("pool0", try MaxPool2D(3, stride: 2, padding: .uniform(1))),
        ])
        var channels = stem
        for (i, count) in blocks.enumerated() {
            try features.append(try DenseBlock(layers: count, inChannels: channels, growthRate: growth, bottleneckFactor: 4,
                                               dropRate: dropRate), name: "denseblock\(i + 1)")
            channels += count * growth
            if i < blocks.count - 1 {
                let transition = try Sequential(named: [
                    ("norm", try BatchNorm2D(channels)), ("relu", ReLU()),
                    ("conv", try Conv2D(channels, channels / 2, kernelSize: 1, bias: false, weightInit: .kaimingNormal)),
                    ("pool", try AvgPool2D(2, stride: 2)),
                ])
                try features.append(transition, name: "transition\(i + 1)")
                channels /= 2
            }
        }
        try features.append(try BatchNorm2D(channels), name: "norm5")
        classifier = try Dense(channels, classes, weightInit: .pytorchDefault)
        super.init()
    }

    public override func forward(_ input: Tensor) throws -> Tensor {
        try checkImages(input, channels: inputChannels, model: "DenseNet")
        return try classifier(flatten(avgpool(relu(features(input)))))
    }
}
