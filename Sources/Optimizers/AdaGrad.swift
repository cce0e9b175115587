import TensorCore

/// AdaGrad (Duchi et al. 2011): each weight's step shrinks with the sum of its squared
/// gradients.
///
///     g = ∇θ + λ θ,   n = n + g²
///     θ = θ - η g / (√n + ε)          (PyTorch's `torch.optim.Adagrad`, ε = 1e-10)
///     θ = θ - η g / √(n + ε)          (the course notes' form, seed 003: `epsilonInsideRoot`)
/// with PyTorch's learning-rate decay η / (1 + (t - 1) lrDecay).
public final class AdaGrad: Optimizer {
    public let parameters: [Tensor]
    public var learningRate: Float
    public let eps: Float
    public let weightDecay: Float
    public let learningRateDecay: Float
    public let epsilonInsideRoot: Bool
    public private(set) var stepCount = 0
    private var sums: [Tensor]

    public init(parameters: [Tensor], learningRate: Float = 1e-2, learningRateDecay: Float = 0, weightDecay: Float = 0,
                initialAccumulatorValue: Float = 0, eps: Float = 1e-10, epsilonInsideRoot: Bool = false) throws {
        try Check.learningRate(learningRate)
        try Check.nonNegative(learningRateDecay, "learning-rate decay")
        try Check.nonNegative(weightDecay, "weight decay")
        try Check.nonNegative(initialAccumulatorValue, "initial accumulator value")
        try Check.positive(eps, "eps")
        self.parameters = parameters
        self.learningRate = learningRate; self.learningRateDecay = learningRateDecay
        self.weightDecay = weightDecay; self.eps = eps; self.epsilonInsideRoot = epsilonInsideRoot
        sums = parameters.map { Tensor(repeating: initialAccumulatorValue, shape: $0.shape) }
    }

    public func step() {
        stepCount += 1
        let lr = learningRate / (1 + Float(stepCount - 1) * learningRateDecay), wd = weightDecay, e = eps
        for (i, p) in parameters.enumerated() {
            guard let grad = p.grad else { continue }
            let theta = p.pointer, g = grad.pointer, s = sums[i].pointer
            for j in 0..<p.count {
                let gj = g[j] + wd * theta[j]
                s[j] += gj * gj
                let denominator = epsilonInsideRoot ? (s[j] + e).squareRoot() : s[j].squareRoot() + e
                theta[j] -= lr * gj / denominator
            }
        }
    }
}
