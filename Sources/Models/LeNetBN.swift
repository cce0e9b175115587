// The course's LeNet_modify (seed 002): LeNet-5 with the "tricks in deep learning" switched
// on - wider convolutions (20 and 50 filters, no padding), batch normalisation after every
// convolution and the first dense layer, one PReLU shared by all layers, dropout 0.5 before
// the classifier, and Kaiming-uniform (fan-in) weights. The seed trains it with Adam.
import TensorCore
import NN

/// `[N, inputChannels, H, W]` (28x28 by default) -> `[N, classes]` logits.
///
/// State-dict names as the seed's PyTorch module: `prelu`, `conv1`, `bn1`, `conv2`, `bn2`,
/// `fc1`, `bn3`, `fc2` (dropout has no state).
public final class LeNetBN: Layer, @unchecked Sendable {
    public let prelu: PReLU
    public let conv1: Conv2D
    public let bn1: BatchNorm2D
    let pool: MaxPool2D
    public let conv2: Conv2D
    public let bn2: BatchNorm2D
    let flatten = Flatten()
    public let fc1: Dense
    public let bn3: BatchNorm1D
    /// Named `dropout1` as in the seed's module; assigned after `super.init()`, as `@Key` needs.
    @Key("dropout1") public private(set) var dropout: Dropout
    public let fc2: Dense

    public init(inputChannels: Int = 1, inputSize: Size2D = 28, classes: Int = 10, dropout p: Float = 0.5) throws {
        // 5x5 valid convolution then 2x2 pool, twice: (H - 4) / 2, then (that - 4) / 2.
        let h = ((inputSize.h - 4) / 2 - 4) / 2, w = ((inputSize.w - 4) / 2 - 4) / 2
        guard h >= 1, w >= 1 else {
            throw LayerError.invalidConfiguration("LeNet-BN needs inputs of at least 16x16, got \(inputSize.h)x\(inputSize.w)")
        }
        prelu = try PReLU()
        conv1 = try Conv2D(inputChannels, 20, kernelSize: 5, weightInit: .kaimingUniform, biasInit: .zeros)
        bn1 = try BatchNorm2D(20)
        conv2 = try Conv2D(20, 50, kernelSize: 5, weightInit: .kaimingUniform)
        bn2 = try BatchNorm2D(50)
        fc1 = try Dense(flattenedFeatures(50, h, w, model: "LeNet-BN"), 500, weightInit: .kaimingUniform)
        bn3 = try BatchNorm1D(500)
        fc2 = try Dense(500, classes, weightInit: .kaimingUniform)
        pool = try MaxPool2D(2)
        super.init()
        dropout = try Dropout(p)
    }

    public override func forward(_ input: Tensor) throws -> Tensor {
        var x = try pool(prelu(bn1(conv1(input))))
        x = try pool(prelu(bn2(conv2(x))))
        x = try flatten(x)
        x = try dropout(prelu(bn3(fc1(x))))
        return try fc2(x)
    }

    public override var configuration: String { "20 and 50 filters, batch norm, PReLU, dropout \(dropout.p)" }
}
