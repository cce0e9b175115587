// LeNet-5: Y. LeCun, L. Bottou, Y. Bengio, P. Haffner, "Gradient-based learning applied to
// document recognition", Proceedings of the IEEE 86(11), 1998.
//
// The classic layout as taught today (and in the course notes): two 5x5 convolutions with
// 6 and 16 filters, each followed by 2x2 subsampling, then dense layers of 120, 84 and the
// class count. The first convolution pads by 2 so 28x28 MNIST digits keep LeNet's 32x32
// geometry. ReLU and max pooling by default; tanh and average pooling give the 1998 flavour.
// Weights start as PyTorch's `nn.Conv2d`/`nn.Linear` do (uniform, bound 1/sqrt(fan_in)):
// measured here, that trains one MNIST epoch about 0.5 points better than Kaiming's scale
// with the same SGD settings, as it does in PyTorch.
import TensorCore
import NN

/// LeNet-5 for `[N, inputChannels, H, W]` images (28x28 by default) -> `[N, classes]` logits.
///
/// State-dict names: `conv1`, `conv2`, `fc1`, `fc2`, `fc3` (`.weight`, `.bias`), as in the
/// PyTorch tutorial network.
public final class LeNet5: Layer, @unchecked Sendable {
    /// The non-linearity between layers.
    public enum Activation: String, Sendable, CaseIterable { case relu, tanh }
    /// The subsampling after each convolution.
    public enum Subsampling: String, Sendable, CaseIterable { case max, average }

    public let conv1: Conv2D
    let pool: Pool2D
    public let conv2: Conv2D
    let flatten = Flatten()
    public let fc1: Dense
    public let fc2: Dense
    public let fc3: Dense
    public let activation: Activation
    public let subsampling: Subsampling

    /// Throws when the input is too small for two 5x5 convolutions and two 2x2 pools.
    public init(inputChannels: Int = 1, inputSize: Size2D = 28, classes: Int = 10,
                activation: Activation = .relu, subsampling: Subsampling = .max) throws {
        // After conv1 (pad 2) and a pool: H/2; after conv2 (valid): H/2 - 4; after a pool: (H/2 - 4)/2.
        let h = (inputSize.h / 2 - 4) / 2, w = (inputSize.w / 2 - 4) / 2
        guard h >= 1, w >= 1 else {
            throw LayerError.invalidConfiguration("LeNet-5 needs inputs of at least 12x12, got \(inputSize.h)x\(inputSize.w)")
        }
        conv1 = try Conv2D(inputChannels, 6, kernelSize: 5, padding: .uniform(2), weightInit: .pytorchDefault)
        conv2 = try Conv2D(6, 16, kernelSize: 5, weightInit: .pytorchDefault)
        fc1 = try Dense(flattenedFeatures(16, h, w, model: "LeNet-5"), 120, weightInit: .pytorchDefault)
        fc2 = try Dense(120, 84, weightInit: .pytorchDefault)
        fc3 = try Dense(84, classes, weightInit: .pytorchDefault)
        self.activation = activation
        self.subsampling = subsampling
        pool = subsampling == .max ? try MaxPool2D(2) : try AvgPool2D(2)
        super.init()
    }

    /// The non-linearity: ReLU or tanh.
    private func act(_ x: Tensor) -> Tensor { activation == .relu ? x.relu() : x.tanh() }

    public override func forward(_ input: Tensor) throws -> Tensor {
        var x = try pool(act(conv1(input)))
        x = try pool(act(conv2(x)))
        x = try flatten(x)
        x = try act(fc1(x))
        x = try act(fc2(x))
        return try fc3(x)
    }

    public override var configuration: String { "\(activation), \(subsampling) pooling" }
}

/// The course's PyTorch LeNet (seed 002, "Digits Classification with PyTorch CNN"), after
/// Caffe's MNIST example: conv 20@5x5, tanh, 2x2 max pool, conv 50@5x5, tanh, 2x2 max pool,
/// dense 500 with tanh, dense classes. 431,080 parameters for 1x28x28 and 10 classes.
/// State-dict names `conv1`, `conv2`, `fc1`, `fc2`, as in the seed.
public final class LeNet20x50: Layer, @unchecked Sendable {
    public let conv1: Conv2D
    let pool: MaxPool2D
    public let conv2: Conv2D
    let flatten = Flatten()
    public let fc1: Dense
    public let fc2: Dense

    /// Throws when the input is too small for two valid 5x5 convolutions and two 2x2 pools (16x16).
    public init(inputChannels: Int = 1, inputSize: Size2D = 28, classes: Int = 10) throws {
        let h = ((inputSize.h - 4) / 2 - 4) / 2, w = ((inputSize.w - 4) / 2 - 4) / 2
        guard h >= 1, w >= 1 else {
            throw LayerError.invalidConfiguration("LeNet 20/50 needs inputs of at least 16x16, got \(inputSize.h)x\(inputSize.w)")
        }
        conv1 = try Conv2D(inputChannels, 20, kernelSize: 5, weightInit: .pytorchDefault)
        conv2 = try Conv2D(20, 50, kernelSize: 5, weightInit: .pytorchDefault)
        fc1 = try Dense(flattenedFeatures(50, h, w, model: "LeNet 20/50"), 500, weightInit: .pytorchDefault)
        fc2 = try Dense(500, classes, weightInit: .pytorchDefault)
        pool = try MaxPool2D(2)
        super.init()
    }

    public override func forward(_ input: Tensor) throws -> Tensor {
        var x = try pool(conv1(input).tanh())
        x = try pool(conv2(x).tanh())
        return try fc2(fc1(flatten(x)).tanh())
    }
}

/// `channels * h * w`, the flattened feature count before a dense layer, throwing quoting the
/// sizes when it overflows `Int` (huge input sizes; issue 29 finding 7). The dense layer
/// then checks its weight against `LayerLimits.maxParameters`.
func flattenedFeatures(_ channels: Int, _ h: Int, _ w: Int, model: String) throws -> Int {
    let (hw, o1) = h.multipliedReportingOverflow(by: w)
    let (count, o2) = hw.multipliedReportingOverflow(by: channels)
    guard !o1, !o2 else {
        throw LayerError.invalidConfiguration("\(model): \(channels) feature maps of \(h)x\(w) overflow the element count")
    }
    return count
}
