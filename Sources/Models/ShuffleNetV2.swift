// ShuffleNet V2: N. Ma, X. Zhang, H.-T. Zheng, J. Sun, "ShuffleNet V2: practical guidelines
// for efficient CNN architecture design", ECCV 2018 (arXiv:1807.11164), Table 5 (1x width),
// in torchvision's `shufflenet_v2_x1_0` layout and names.
//
// Units split the channels in two, transform one half (1x1, depthwise 3x3, 1x1) and
// concatenate it with the other, then shuffle the channels between the two groups; the
// downsampling unit transforms both halves with stride 2. Stages of 4, 8 and 4 units with
// 116, 232 and 464 channels, a 1x1 convolution to 1024 and global average pooling.
// 2,278,604 parameters, 0.15 G MACs at 3x224x224. PyTorch's default initialisation.
import TensorCore
import NN

/// A ShuffleNet V2 unit: `[N, in, H, W]` -> `[N, out, H/s, W/s]`.
public final class ShuffleUnit: Layer, @unchecked Sendable {
    public let stride: Int
    /// The left branch (empty for stride 1, where the left half passes through).
    let branch1: Sequential
    let branch2: Sequential

    public init(_ inChannels: Int, _ outChannels: Int, stride: Int) throws {
        let half = outChannels / 2
        guard stride > 1 || inChannels == 2 * half else {
            throw LayerError.invalidConfiguration("ShuffleUnit with stride 1 needs in (\(inChannels)) = out (\(outChannels)), even")
        }
        self.stride = stride
        let s = Size2D(stride, stride)
        func depthwise(_ c: Int) throws -> Conv2D {
            try Conv2D(c, c, kernelSize: 3, stride: s, padding: .uniform(1), groups: c, bias: false, weightInit: .pytorchDefault)
        }
        func pointwise(_ i: Int, _ o: Int) throws -> Conv2D {
            try Conv2D(i, o, kernelSize: 1, bias: false, weightInit: .pytorchDefault)
        }
        branch1 = stride > 1
            ? Sequential(try depthwise(inChannels), try BatchNorm2D(inChannels), try pointwise(inChannels, half), try BatchNorm2D(half), ReLU())
            : Sequential([])
        branch2 = Sequential(try pointwise(stride > 1 ? inChannels : half, half), try BatchNorm2D(half), ReLU(),
                             try depthwise(half), try BatchNorm2D(half), try pointwise(half, half), try BatchNorm2D(half), ReLU())
        super.init()
    }

    public override func forward(_ x: Tensor) throws -> Tensor {
        let out: Tensor
        if stride == 1 {
            let half = x.shape[1] / 2
            out = try Tensor.concatenate([x.slice(axis: 1, 0..<half), branch2(x.slice(axis: 1, half..<x.shape[1]))], axis: 1)
        } else {
            out = try Tensor.concatenate([branch1(x), branch2(x)], axis: 1)
        }
        return try out.channelShuffled(groups: 2)
    }
}

/// ShuffleNet V2 1x for `[N, inputChannels, H, W]` -> `[N, classes]`.
public final class ShuffleNetV2: Layer, @unchecked Sendable {
    public let inputChannels: Int
    let conv1: Sequential
    let maxpool: MaxPool2D
    let stage2, stage3, stage4: Sequential
    let conv5: Sequential
    let avgpool = GlobalAvgPool2D()
    let flatten = Flatten()
    public let fc: Dense

    public init(inputChannels: Int = 3, classes: Int = 1000, stageRepeats: [Int] = [4, 8, 4],
                stageChannels: [Int] = [24, 116, 232, 464, 1024]) throws {
        guard stageRepeats.count == 3, stageChannels.count == 5 else {
            throw LayerError.invalidConfiguration("ShuffleNetV2 needs 3 stage repeats and 5 channel counts, got \(stageRepeats) and \(stageChannels)")
        }
        self.inputChannels = inputChannels
        conv1 = try convNormActivation(inputChannels, stageChannels[0], kernelSize: 3, stride: 2, activation: ReLU(),
                                       weightInit: .pytorchDefault)
        maxpool = try MaxPool2D(3, stride: 2, padding: .uniform(1))
        var channels = stageChannels[0]
        var stages: [Sequential] = []
        for (repeats, out) in zip(stageRepeats, stageChannels[1...3]) {
            var units: [Layer] = [try ShuffleUnit(channels, out, stride: 2)]
            for _ in 1..<max(repeats, 1) { units.append(try ShuffleUnit(out, out, stride: 1)) }
            stages.append(Sequential(units))
            channels = out
        }
        (stage2, stage3, stage4) = (stages[0], stages[1], stages[2])
        conv5 = try convNormActivation(channels, stageChannels[4], kernelSize: 1, activation: ReLU(), weightInit: .pytorchDefault)
        fc = try Dense(stageChannels[4], classes, weightInit: .pytorchDefault)
        super.init()
    }

    public override func forward(_ input: Tensor) throws -> Tensor {
        try checkImages(input, channels: inputChannels, model: "ShuffleNetV2")
        let x = try conv5(stage4(stage3(stage2(maxpool(conv1(input))))))
        return try fc(flatten(avgpool(x)))
    }
}
