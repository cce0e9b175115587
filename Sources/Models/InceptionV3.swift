// Inception v3: C. Szegedy, V. Vanhoucke, S. Ioffe, J. Shlens, Z. Wojna, "Rethinking the
// Inception architecture for computer vision", CVPR 2016 (arXiv:1512.00567), Table 1 and
// Figures 5-7, in torchvision's `inception_v3` layout and names (`Conv2d_1a_3x3`, `Mixed_5b`, ...).
//
// A stem of 3x3 convolutions, then inception blocks that factorise large filters: 5x5 into
// two 3x3 (Mixed_5*), 7x7 into 1x7 and 7x1 (Mixed_6b-e), with grid reductions (Mixed_6a,
// Mixed_7a) and the expanded 1x3/3x1 blocks (Mixed_7b, 7c). One auxiliary classifier on
// Mixed_6e adds 0.4 of its loss while training (torchvision's reference recipe); it needs
// the 299x299 input the network is made for (at least 17x17 maps after Mixed_6e). Every
// convolution is conv (no bias) + batch norm (eps 0.001) + ReLU. 27,161,264 parameters with
// the auxiliary head (23,834,568 without), 5.7 G MACs at 3x299x299.
import TensorCore
import NN

private let stddev = Initializer.normal(mean: 0, std: 0.1)

private func basic(_ i: Int, _ o: Int, _ k: Size2D, stride: Size2D = 1, padding: (Int, Int) = (0, 0),
                   weightInit: Initializer = stddev) throws -> ConvBNReLU {
    try ConvBNReLU(i, o, kernelSize: k, stride: stride,
                   padding: .explicit(top: padding.0, bottom: padding.0, left: padding.1, right: padding.1),
                   weightInit: weightInit)
}

/// Mixed_5b-d: 1x1 | 1x1-5x5 | 1x1-3x3-3x3 | avg pool-1x1 -> 224 + poolFeatures channels.
public final class InceptionA: Layer, @unchecked Sendable {
    let branch1x1, branch5x5_1, branch5x5_2, branch3x3dbl_1, branch3x3dbl_2, branch3x3dbl_3: ConvBNReLU
    let pool: AvgPool2D
    let branch_pool: ConvBNReLU

    public init(_ inChannels: Int, poolFeatures: Int) throws {
        branch1x1 = try basic(inChannels, 64, 1)
        branch5x5_1 = try basic(inChannels, 48, 1)
        branch5x5_2 = try basic(48, 64, 5, padding: (2, 2))
        branch3x3dbl_1 = try basic(inChannels, 64, 1)
        branch3x3dbl_2 = try basic(64, 96, 3, padding: (1, 1))
        branch3x3dbl_3 = try basic(96, 96, 3, padding: (1, 1))
        branch_pool = try basic(inChannels, poolFeatures, 1)
        pool = try AvgPool2D(3, stride: 1, padding: .uniform(1))
        super.init()
    }

    public override func forward(_ x: Tensor) throws -> Tensor {
        try Tensor.concatenate([branch1x1(x), branch5x5_2(branch5x5_1(x)),
                                branch3x3dbl_3(branch3x3dbl_2(branch3x3dbl_1(x))), branch_pool(pool(x))], axis: 1)
    }
}

/// Mixed_6a, grid reduction: 3x3 stride 2 | 1x1-3x3-3x3 stride 2 | max pool -> in + 480 channels, half size.
public final class InceptionB: Layer, @unchecked Sendable {
    let branch3x3, branch3x3dbl_1, branch3x3dbl_2, branch3x3dbl_3: ConvBNReLU
    let pool: MaxPool2D

    public init(_ inChannels: Int) throws {
        branch3x3 = try basic(inChannels, 384, 3, stride: 2)
        branch3x3dbl_1 = try basic(inChannels, 64, 1)
        branch3x3dbl_2 = try basic(64, 96, 3, padding: (1, 1))
        branch3x3dbl_3 = try basic(96, 96, 3, stride: 2)
        pool = try MaxPool2D(3, stride: 2)
        super.init()
    }

    public override func forward(_ x: Tensor) throws -> Tensor {
        try Tensor.concatenate([branch3x3(x), branch3x3dbl_3(branch3x3dbl_2(branch3x3dbl_1(x))), pool(x)], axis: 1)
    }
}

/// Mixed_6b-e: 1x1 | 1x1-1x7-7x1 | 1x1-7x1-1x7-7x1-1x7 | avg pool-1x1 -> 768 channels.
public final class InceptionC: Layer, @unchecked Sendable {
    let branch1x1, branch7x7_1, branch7x7_2, branch7x7_3: ConvBNReLU
    let branch7x7dbl_1, branch7x7dbl_2, branch7x7dbl_3, branch7x7dbl_4, branch7x7dbl_5: ConvBNReLU
    let pool: AvgPool2D
    let branch_pool: ConvBNReLU

    public init(_ inChannels: Int, channels7x7 c7: Int) throws {
        branch1x1 = try basic(inChannels, 192, 1)
        branch7x7_1 = try basic(inChannels, c7, 1)
        branch7x7_2 = try basic(c7, c7, Size2D(1, 7), padding: (0, 3))
        branch7x7_3 = try basic(c7, 192, Size2D(7, 1), padding: (3, 0))
        branch7x7dbl_1 = try basic(inChannels, c7, 1)
        branch7x7dbl_2 = try basic(c7, c7, Size2D(7, 1), padding: (3, 0))
        branch7x7dbl_3 = try basic(c7, c7, Size2D(1, 7), padding: (0, 3))
        branch7x7dbl_4 = try basic(c7, c7, Size2D(7, 1), padding: (3, 0))
        branch7x7dbl_5 = try basic(c7, 192, Size2D(1, 7), padding: (0, 3))
        branch_pool = try basic(inChannels, 192, 1)
        pool = try AvgPool2D(3, stride: 1, padding: .uniform(1))
        super.init()
    }

    public override func forward(_ x: Tensor) throws -> Tensor {
        let b7 = try branch7x7_3(branch7x7_2(branch7x7_1(x)))
        let b7dbl = try branch7x7dbl_5(branch7x7dbl_4(branch7x7dbl_3(branch7x7dbl_2(branch7x7dbl_1(x)))))
        return try Tensor.concatenate([branch1x1(x), b7, b7dbl, branch_pool(pool(x))], axis: 1)
    }
}

/// Mixed_7a, grid reduction: 1x1-3x3 stride 2 | 1x1-1x7-7x1-3x3 stride 2 | max pool -> in + 512 channels.
public final class InceptionD: Layer, @unchecked Sendable {
    let branch3x3_1, branch3x3_2, branch7x7x3_1, branch7x7x3_2, branch7x7x3_3, branch7x7x3_4: ConvBNReLU
    let pool: MaxPool2D

    public init(_ inChannels: Int) throws {
        branch3x3_1 = try basic(inChannels, 192, 1)
        branch3x3_2 = try basic(192, 320, 3, stride: 2)
        branch7x7x3_1 = try basic(inChannels, 192, 1)
        branch7x7x3_2 = try basic(192, 192, Size2D(1, 7), padding: (0, 3))
        branch7x7x3_3 = try basic(192, 192, Size2D(7, 1), padding: (3, 0))
        branch7x7x3_4 = try basic(192, 192, 3, stride: 2)
        pool = try MaxPool2D(3, stride: 2)
        super.init()
    }

    public override func forward(_ x: Tensor) throws -> Tensor {
        try Tensor.concatenate([branch3x3_2(branch3x3_1(x)),
                                branch7x7x3_4(branch7x7x3_3(branch7x7x3_2(branch7x7x3_1(x)))), pool(x)], axis: 1)
    }
}

/// Mixed_7b-c: 1x1 | 1x1-(1x3, 3x1) | 1x1-3x3-(1x3, 3x1) | avg pool-1x1 -> 2048 channels.
public final class InceptionE: Layer, @unchecked Sendable {
    let branch1x1, branch3x3_1, branch3x3_2a, branch3x3_2b: ConvBNReLU
    let branch3x3dbl_1, branch3x3dbl_2, branch3x3dbl_3a, branch3x3dbl_3b: ConvBNReLU
    let pool: AvgPool2D
    let branch_pool: ConvBNReLU

    public init(_ inChannels: Int) throws {
        branch1x1 = try basic(inChannels, 320, 1)
        branch3x3_1 = try basic(inChannels, 384, 1)
        branch3x3_2a = try basic(384, 384, Size2D(1, 3), padding: (0, 1))
        branch3x3_2b = try basic(384, 384, Size2D(3, 1), padding: (1, 0))
        branch3x3dbl_1 = try basic(inChannels, 448, 1)
        branch3x3dbl_2 = try basic(448, 384, 3, padding: (1, 1))
        branch3x3dbl_3a = try basic(384, 384, Size2D(1, 3), padding: (0, 1))
        branch3x3dbl_3b = try basic(384, 384, Size2D(3, 1), padding: (1, 0))
        branch_pool = try basic(inChannels, 192, 1)
        pool = try AvgPool2D(3, stride: 1, padding: .uniform(1))
        super.init()
    }

    public override func forward(_ x: Tensor) throws -> Tensor {
        let b3 = try branch3x3_1(x)
        let b3dbl = try branch3x3dbl_2(branch3x3dbl_1(x))
        return try Tensor.concatenate([branch1x1(x), branch3x3_2a(b3), branch3x3_2b(b3),
                                       branch3x3dbl_3a(b3dbl), branch3x3dbl_3b(b3dbl), branch_pool(pool(x))], axis: 1)
    }
}

/// The auxiliary head on Mixed_6e: 5x5 stride-3 average pool, 1x1 conv 128, 5x5 conv 768,
/// global average pool, dense classes.
public final class InceptionV3Auxiliary: Layer, @unchecked Sendable {
    let pool: AvgPool2D
    let conv0, conv1: ConvBNReLU
    let globalPool = GlobalAvgPool2D()
    let flatten = Flatten()
    let fc: Dense

    public init(_ inChannels: Int, classes: Int) throws {
        pool = try AvgPool2D(5, stride: 3)
        conv0 = try basic(inChannels, 128, 1)
        conv1 = try basic(128, 768, 5, weightInit: .normal(mean: 0, std: 0.01))
        fc = try Dense(768, classes, weightInit: .normal(mean: 0, std: 0.001))
        super.init()
    }

    public override func forward(_ x: Tensor) throws -> Tensor {
        try fc(flatten(globalPool(conv1(conv0(pool(x))))))
    }
}

/// Inception v3 for `[N, inputChannels, H, W]` (at least 75x75; 299x299 with the auxiliary
/// head while training) -> `[N, classes]`. Weights start as torchvision's: N(0, 0.1) for
/// convolutions and the classifier (its truncation at ±2 is 20 standard deviations out).
public final class InceptionV3: Layer, AuxiliaryClassifiers, @unchecked Sendable {
    public let inputChannels: Int
    let Conv2d_1a_3x3, Conv2d_2a_3x3, Conv2d_2b_3x3: ConvBNReLU
    let maxpool1: MaxPool2D
    let Conv2d_3b_1x1, Conv2d_4a_3x3: ConvBNReLU
    let maxpool2: MaxPool2D
    let Mixed_5b, Mixed_5c, Mixed_5d: InceptionA
    let Mixed_6a: InceptionB
    let Mixed_6b, Mixed_6c, Mixed_6d, Mixed_6e: InceptionC
    /// The auxiliary head, or nil when switched off.
    public let AuxLogits: InceptionV3Auxiliary?
    let Mixed_7a: InceptionD
    let Mixed_7b, Mixed_7c: InceptionE
    let avgpool = GlobalAvgPool2D()
    let dropout: Dropout
    let flatten = Flatten()
    public let fc: Dense

    public var auxiliaryLogits: [Tensor] = []
    public let auxiliaryLossWeight: Float = 0.4

    public init(inputChannels: Int = 3, classes: Int = 1000, auxiliaryClassifier: Bool = true, dropout: Float = 0.5) throws {
        self.inputChannels = inputChannels
        Conv2d_1a_3x3 = try basic(inputChannels, 32, 3, stride: 2)
        Conv2d_2a_3x3 = try basic(32, 32, 3)
        Conv2d_2b_3x3 = try basic(32, 64, 3, padding: (1, 1))
        maxpool1 = try MaxPool2D(3, stride: 2)
        Conv2d_3b_1x1 = try basic(64, 80, 1)
        Conv2d_4a_3x3 = try basic(80, 192, 3)
        maxpool2 = try MaxPool2D(3, stride: 2)
        Mixed_5b = try InceptionA(192, poolFeatures: 32)
        Mixed_5c = try InceptionA(256, poolFeatures: 64)
        Mixed_5d = try InceptionA(288, poolFeatures: 64)
        Mixed_6a = try InceptionB(288)
        Mixed_6b = try InceptionC(768, channels7x7: 128)
        Mixed_6c = try InceptionC(768, channels7x7: 160)
        Mixed_6d = try InceptionC(768, channels7x7: 160)
        Mixed_6e = try InceptionC(768, channels7x7: 192)
        AuxLogits = auxiliaryClassifier ? try InceptionV3Auxiliary(768, classes: classes) : nil
        Mixed_7a = try InceptionD(768)
        Mixed_7b = try InceptionE(1280)
        Mixed_7c = try InceptionE(2048)
        self.dropout = try Dropout(dropout)
        fc = try Dense(2048, classes, weightInit: stddev)
        super.init()
    }

    public override func forward(_ input: Tensor) throws -> Tensor {
        try checkImages(input, channels: inputChannels, model: "InceptionV3")
        var x = try Conv2d_2b_3x3(Conv2d_2a_3x3(Conv2d_1a_3x3(input)))
        x = try Conv2d_4a_3x3(Conv2d_3b_1x1(maxpool1(x)))
        x = try Mixed_5d(Mixed_5c(Mixed_5b(maxpool2(x))))
        x = try Mixed_6e(Mixed_6d(Mixed_6c(Mixed_6b(Mixed_6a(x)))))
        auxiliaryLogits = []
        if isTraining, let AuxLogits {
            guard x.shape[2] >= 5, x.shape[3] >= 5 else {
                throw TensorError.shapeMismatch(op: "InceptionV3",
                    "the auxiliary classifier needs Mixed_6e maps of at least 5x5 (inputs of about 150x150 or more), got \(x.shape[2])x\(x.shape[3]) from input \(input.shape[2])x\(input.shape[3]); build with auxiliaryClassifier: false for small inputs")
            }
            auxiliaryLogits = [try AuxLogits(x)]
        }
        x = try Mixed_7c(Mixed_7b(Mixed_7a(x)))
        return try fc(flatten(dropout(avgpool(x))))
    }
}
