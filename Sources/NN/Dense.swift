import TensorCore

/// Fully connected layer (PyTorch's `nn.Linear`, Keras' `Dense`): `y = x Wᵀ + b`.
///
/// Input `[N, inFeatures]` -> output `[N, outFeatures]`.
/// Parameters: `weight [outFeatures, inFeatures]`, `bias [outFeatures]`.
public final class Dense: Layer, @unchecked Sendable {
    public let inFeatures: Int
    public let outFeatures: Int
    /// `[outFeatures, inFeatures]`.
    public let weight: Tensor
    /// `[outFeatures]`, or nil without bias.
    public let bias: Tensor?

    /// Validates the sizes and initialises the weight with `weightInit` (Kaiming uniform by
    /// default) and the bias with `biasInit` (zeros).
    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true,
                weightInit: Initializer = .kaimingUniform, biasInit: Initializer = .zeros) throws {
        guard inFeatures > 0, outFeatures > 0 else {
            throw LayerError.invalidConfiguration("Dense sizes must be positive, got \(inFeatures) -> \(outFeatures)")
        }
        try LayerLimits.check([outFeatures, inFeatures], of: "Dense")
        self.inFeatures = inFeatures; self.outFeatures = outFeatures
        weight = weightInit.makeParameter([outFeatures, inFeatures])
        self.bias = bias ? biasInit.makeParameter([outFeatures]) : nil
        super.init()
    }

    public override func forward(_ input: Tensor) throws -> Tensor {
        try Tensor.linear(input, weight: weight, bias: bias)
    }

    public override func multiplyAccumulates(inputShape: [Int], outputShape: [Int]) -> Int {
        outputShape.reduce(1, *) * inFeatures
    }

    public override var configuration: String { "\(inFeatures) -> \(outFeatures)" }
}
