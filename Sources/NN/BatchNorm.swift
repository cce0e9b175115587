import TensorCore

/// Batch normalisation over channel axis 1 (`nn.BatchNorm1d` for `[N, C]`, `nn.BatchNorm2d`
/// for `[N, C, H, W]`): batch statistics while training (which also move the running
/// statistics with PyTorch's `momentum`), running statistics in evaluation. See
/// `Tensor.batchNorm` for the formulas.
///
/// Parameters `weight [C]` (gamma, ones) and `bias [C]` (beta, zeros) when `affine`; buffers
/// `running_mean [C]` (zeros), `running_var [C]` (ones) and `num_batches_tracked` (shape
/// `[]`, a count stored as Float32), named as in PyTorch's state dict.
public class BatchNorm: Layer, @unchecked Sendable {
    public let features: Int
    public let eps: Float
    public let momentum: Float
    public let weight: Tensor?
    public let bias: Tensor?
    @Buffer(key: "running_mean") public private(set) var runningMean: Tensor
    @Buffer(key: "running_var") public private(set) var runningVar: Tensor
    @Buffer(key: "num_batches_tracked") public private(set) var batchesTracked: Tensor
    /// The input rank this layer accepts (2 or 4).
    let inputRank: Int

    init(features: Int, inputRank: Int, eps: Float, momentum: Float, affine: Bool) throws {
        guard features > 0 else { throw LayerError.invalidConfiguration("batch norm needs a positive feature count, got \(features)") }
        guard eps > 0, eps.isFinite else { throw LayerError.invalidConfiguration("batch norm eps must be positive, got \(eps)") }
        guard momentum >= 0, momentum <= 1 else {
            throw LayerError.invalidConfiguration("batch norm momentum must be in [0, 1], got \(momentum)")
        }
        self.features = features
        self.inputRank = inputRank
        self.eps = eps
        self.momentum = momentum
        weight = affine ? Tensor(repeating: 1, shape: [features], requiresGrad: true) : nil
        bias = affine ? Tensor(zeros: [features], requiresGrad: true) : nil
        super.init()
        runningMean = Tensor(zeros: [features])
        runningVar = Tensor(repeating: 1, shape: [features])
        batchesTracked = Tensor(scalar: 0)
    }

    public override func forward(_ input: Tensor) throws -> Tensor {
        guard input.rank == inputRank, input.shape[1] == features else {
            throw TensorError.shapeMismatch(op: typeName, "input \(describe(input.shape)); expected \(inputRank == 2 ? "[N, \(features)]" : "[N, \(features), H, W]")")
        }
        if isTraining { batchesTracked.pointer[0] += 1 }
        return try Tensor.batchNorm(input, weight: weight, bias: bias, runningMean: runningMean, runningVar: runningVar,
                                    training: isTraining, momentum: momentum, eps: eps)
    }

    /// `self(input).prelu(slope: slope)` as one op (`Tensor.batchNormPReLU`): the PReLU is
    /// applied as the normalised values are written and its gradient is folded into batch
    /// norm's backward. A compiled plan calls it for a batch norm followed by a PReLU; when
    /// the slope does not fit this layer's channels it is the two one after the other.
    func forwardThroughPReLU(_ input: Tensor, slope: Tensor) throws -> Tensor {
        guard slope.count == 1 || slope.count == features, input.rank == inputRank, input.shape[1] == features else {
            return try forward(input).prelu(slope: slope)
        }
        if isTraining { batchesTracked.pointer[0] += 1 }
        return try Tensor.batchNormPReLU(input, weight: weight, bias: bias, runningMean: runningMean, runningVar: runningVar,
                                         training: isTraining, momentum: momentum, eps: eps, slope: slope)
    }

    public override var configuration: String { "\(features), eps \(eps), momentum \(momentum)" }
}

/// Batch normalisation of `[N, features]` (after a dense layer): `nn.BatchNorm1d`.
public final class BatchNorm1D: BatchNorm, @unchecked Sendable {
    public init(_ features: Int, eps: Float = 1e-5, momentum: Float = 0.1, affine: Bool = true) throws {
        try super.init(features: features, inputRank: 2, eps: eps, momentum: momentum, affine: affine)
    }
}

/// Batch normalisation of `[N, channels, H, W]` (after a convolution): `nn.BatchNorm2d`.
public final class BatchNorm2D: BatchNorm, @unchecked Sendable {
    public init(_ channels: Int, eps: Float = 1e-5, momentum: Float = 0.1, affine: Bool = true) throws {
        try super.init(features: channels, inputRank: 4, eps: eps, momentum: momentum, affine: affine)
    }
}

/// Recorded as one node by a captured graph: its state changes as it runs.
extension BatchNorm: PrimitiveLayer {}
