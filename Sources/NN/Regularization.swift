import TensorCore

/// Weight penalties to add to a loss (differentiable scalars).
///
/// - L1: `λ Σ |w|` (drives weights to exactly zero);
/// - L2: `λ/2 Σ w²`, whose gradient `λ w` is what SGD's `weightDecay: λ` adds, so the two are
///   the same regulariser for SGD (not for Adam, where AdamW's decoupled decay differs).
public enum Regularization {
    /// The weights usually penalised: every parameter named `weight` with rank >= 2 (convolution
    /// and dense kernels, not biases, batch-norm scales or PReLU slopes).
    public static func penalisedWeights(of model: Layer) -> [Tensor] {
        model.namedParameters().filter { $0.name.hasSuffix("weight") && $0.tensor.rank >= 2 }.map(\.tensor)
    }

    /// `λ Σ |w|` over `parameters` (a scalar to add to the loss); gradient `λ sign(w)`.
    /// Throws unless λ is finite and >= 0.
    public static func l1(_ parameters: [Tensor], lambda: Float) throws -> Tensor {
        try penalty(parameters, lambda: lambda, factor: 1, name: "L1") { $0.abs().sum() }
    }

    /// `λ/2 Σ w²` over `parameters` (a scalar to add to the loss); gradient `λ w`, so adding it
    /// to the loss and training with plain SGD is SGD with `weightDecay: λ`. The 1/2 is the
    /// usual convention that makes λ the decay rate (Keras' `l2(λ)` has no 1/2: its λ is half ours).
    /// Throws unless λ is finite and >= 0.
    public static func l2(_ parameters: [Tensor], lambda: Float) throws -> Tensor {
        try penalty(parameters, lambda: lambda, factor: 0.5, name: "L2") { $0.squared().sum() }
    }

    /// `factor λ Σ_p term(p)`; λ is checked as the caller gave it, so the error quotes that value.
    private static func penalty(_ parameters: [Tensor], lambda: Float, factor: Float, name: String,
                                _ term: (Tensor) -> Tensor) throws -> Tensor {
        guard lambda >= 0, lambda.isFinite else {
            throw LayerError.invalidConfiguration("\(name) penalty strength must be finite and >= 0, got \(lambda)")
        }
        var total = Tensor(scalar: 0)
        for p in parameters { total = try total + term(p) }
        return total.affine(scale: factor * lambda, shift: 0)
    }
}
