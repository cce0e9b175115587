// GoogLeNet (Inception v1): C. Szegedy et al., "Going deeper with convolutions", CVPR 2015
// (arXiv:1409.4842), Table 1; with batch norm after every convolution as torchvision's
// `googlenet` (S. Ioffe, C. Szegedy, arXiv:1502.03167).
//
// Nine inception modules, each concatenating four branches: 1x1; 1x1 then 3x3; 1x1 then a
// second 3x3 (torchvision uses 3x3 where the paper has 5x5, and so does Fovea, so weights
// and parameter counts match); 3x3 max pool then 1x1. Two auxiliary classifiers after
// inception 4a and 4d (4x4 average pool, 1x1 conv 128, dense 1024, dropout 0.7, dense classes)
// add 0.3 of their losses while training and are skipped in evaluation; switch them off
// with `auxiliaryClassifiers: false`. 6,624,904 parameters without them, 13,004,888 with;
// 1.5 G MACs at 3x224x224.
import TensorCore
import NN

/// One inception module: `[N, in, H, W]` -> `[N, c1 + c3 + c5 + pool, H, W]`.
/// Children `branch1` .. `branch4` as torchvision's.
public final class InceptionModule: Layer, @unchecked Sendable {
    public let branch1: ConvBNReLU
    public let branch2: Sequential
    public let branch3: Sequential
    public let branch4: Sequential

    public init(_ inChannels: Int, _ c1: Int, _ c3Reduce: Int, _ c3: Int, _ c5Reduce: Int, _ c5: Int, _ poolProjection: Int,
                weightInit: Initializer) throws {
        branch1 = try ConvBNReLU(inChannels, c1, kernelSize: 1, weightInit: weightInit)
        branch2 = Sequential(try ConvBNReLU(inChannels, c3Reduce, kernelSize: 1, weightInit: weightInit),
                             try ConvBNReLU(c3Reduce, c3, kernelSize: 3, padding: .uniform(1), weightInit: weightInit))
        branch3 = Sequential(try ConvBNReLU(inChannels, c5Reduce, kernelSize: 1, weightInit: weightInit),
                             try ConvBNReLU(c5Reduce, c5, kernelSize: 3, padding: .uniform(1), weightInit: weightInit))
        branch4 = Sequential(try MaxPool2D(3, stride: 1, padding: .uniform(1), ceilMode: true),
                             try ConvBNReLU(inChannels, poolProjection, kernelSize: 1, weightInit: weightInit))
        super.init()
    }

    public override func forward(_ input: Tensor) throws -> Tensor {
        try Tensor.concatenate([branch1(input), branch2(input), branch3(input), branch4(input)], axis: 1)
    }
}

/// GoogLeNet's auxiliary classifier: `[N, in, H, W]` -> `[N, classes]`.
public final class GoogLeNetAuxiliary: Layer, @unchecked Sendable {
    let pool: AdaptiveAvgPool2D
    public let conv: ConvBNReLU
    let flatten = Flatten()
    public let fc1: Dense
    let relu = ReLU()
    let dropout: Dropout
    public let fc2: Dense

    public init(_ inChannels: Int, classes: Int, dropout: Float = 0.7, weightInit: Initializer) throws {
        conv = try ConvBNReLU(inChannels, 128, kernelSize: 1, weightInit: weightInit)
        fc1 = try Dense(2048, 1024, weightInit: weightInit)
        fc2 = try Dense(1024, classes, weightInit: weightInit)
        pool = try AdaptiveAvgPool2D(Size2D(4, 4))
        self.dropout = try Dropout(dropout)
        super.init()
    }

    public override func forward(_ input: Tensor) throws -> Tensor {
        try fc2(dropout(relu(fc1(flatten(conv(pool(input)))))))
    }
}

/// GoogLeNet for `[N, inputChannels, H, W]` (at least 15x15) -> `[N, classes]`.
public final class GoogLeNet: Layer, AuxiliaryClassifiers, @unchecked Sendable {
    public let inputChannels: Int
    public let conv1: ConvBNReLU
    public let maxpool1: MaxPool2D
    public let conv2, conv3: ConvBNReLU
    public let maxpool2: MaxPool2D
    public let inception3a, inception3b: InceptionModule
    public let maxpool3: MaxPool2D
    public let inception4a, inception4b, inception4c, inception4d, inception4e: InceptionModule
    public let maxpool4: MaxPool2D
    public let inception5a, inception5b: InceptionModule
    /// The auxiliary heads after 4a and 4d, or nil when switched off.
    public let aux1, aux2: GoogLeNetAuxiliary?
    public let avgpool = GlobalAvgPool2D()
    let flatten = Flatten()
    public let dropout: Dropout
    public let fc: Dense

    public var auxiliaryLogits: [Tensor] = []
    public let auxiliaryLossWeight: Float = 0.3

    /// Weights start as torchvision's: truncated N(0, 0.01) for convolutions and dense layers
    /// (its bounds of ±2 lie 200 standard deviations out, so a plain normal is the same law).
    public init(inputChannels: Int = 3, classes: Int = 1000, auxiliaryClassifiers: Bool = true, dropout: Float = 0.2) throws {
        self.inputChannels = inputChannels
        let w = Initializer.normal(mean: 0, std: 0.01)
        conv1 = try ConvBNReLU(inputChannels, 64, kernelSize: 7, stride: 2, padding: .uniform(3), weightInit: w)
        maxpool1 = try MaxPool2D(3, stride: 2, ceilMode: true)
        conv2 = try ConvBNReLU(64, 64, kernelSize: 1, weightInit: w)
        conv3 = try ConvBNReLU(64, 192, kernelSize: 3, padding: .uniform(1), weightInit: w)
        maxpool2 = try MaxPool2D(3, stride: 2, ceilMode: true)
        inception3a = try InceptionModule(192, 64, 96, 128, 16, 32, 32, weightInit: w)
        inception3b = try InceptionModule(256, 128, 128, 192, 32, 96, 64, weightInit: w)
        maxpool3 = try MaxPool2D(3, stride: 2, ceilMode: true)
        inception4a = try InceptionModule(480, 192, 96, 208, 16, 48, 64, weightInit: w)
        inception4b = try InceptionModule(512, 160, 112, 224, 24, 64, 64, weightInit: w)
        inception4c = try InceptionModule(512, 128, 128, 256, 24, 64, 64, weightInit: w)
        inception4d = try InceptionModule(512, 112, 144, 288, 32, 64, 64, weightInit: w)
        inception4e = try InceptionModule(528, 256, 160, 320, 32, 128, 128, weightInit: w)
        maxpool4 = try MaxPool2D(2, stride: 2, ceilMode: true)
        inception5a = try InceptionModule(832, 256, 160, 320, 32, 128, 128, weightInit: w)
        inception5b = try InceptionModule(832, 384, 192, 384, 48, 128, 128, weightInit: w)
        aux1 = auxiliaryClassifiers ? try GoogLeNetAuxiliary(512, classes: classes, weightInit: w) : nil
        aux2 = auxiliaryClassifiers ? try GoogLeNetAuxiliary(528, classes: classes, weightInit: w) : nil
        self.dropout = try Dropout(dropout)
        fc = try Dense(1024, classes, weightInit: w)
        super.init()
    }

    public override func forward(_ input: Tensor) throws -> Tensor {
        try checkImages(input, channels: inputChannels, model: "GoogLeNet")
        var aux: [Tensor] = []
        var x = try maxpool2(conv3(conv2(maxpool1(conv1(input)))))
        x = try maxpool3(inception3b(inception3a(x)))
        x = try inception4a(x)
        if isTraining, let aux1 { aux.append(try aux1(x)) }
        x = try inception4d(inception4c(inception4b(x)))
        if isTraining, let aux2 { aux.append(try aux2(x)) }
        x = try maxpool4(inception4e(x))
        x = try inception5b(inception5a(x))
        auxiliaryLogits = aux
        return try fc(dropout(flatten(avgpool(x))))
    }
}
