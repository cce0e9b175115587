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
    public fileprivate(set) var stepCount = 0
    fileprivate var sums: [Tensor]
    private var settings: GroupSettings

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
        settings = GroupSettings(count: parameters.count, weightDecay: weightDecay, momentum: 0)
    }

    /// AdaGrad over parameter groups with their own learning rate and weight decay.
    public convenience init(groups: [ParameterGroup], learningRate: Float = 1e-2, learningRateDecay: Float = 0,
                            weightDecay: Float = 0, eps: Float = 1e-10, epsilonInsideRoot: Bool = false) throws {
        try self.init(parameters: groups.flatMap(\.parameters), learningRate: learningRate, learningRateDecay: learningRateDecay,
                      weightDecay: weightDecay, eps: eps, epsilonInsideRoot: epsilonInsideRoot)
        settings = try GroupSettings(groups: groups, learningRate: learningRate, weightDecay: weightDecay, momentum: 0)
    }

    public func step() {
        stepCount += 1
        let base = learningRate / (1 + Float(stepCount - 1) * learningRateDecay), e = eps
        for (i, p) in parameters.enumerated() {
            guard let grad = p.grad else { continue }
            let theta = p.pointer, g = grad.pointer, s = sums[i].pointer
            let lr = base * settings.rateScale[i], wd = settings.decay[i]
            for j in 0..<p.count {
                let gj = g[j] + wd * theta[j]
                s[j] += gj * gj
                let denominator = epsilonInsideRoot ? (s[j] + e).squareRoot() : s[j].squareRoot() + e
                theta[j] -= lr * gj / denominator
            }
        }
    }
}

extension AdaGrad {
    /// `"step"` and `"<i>.sum"`.
    public func stateDict() -> [(name: String, tensor: Tensor)] {
        StateSlots.export(step: stepCount) + StateSlots.export(sums, key: "sum")
    }

    public func loadStateDict(_ state: [String: Tensor]) throws {
        var slots = StateSlots(state, parameters: parameters, owner: self)
        let steps = try slots.step()
        let sums = try slots.buffers("sum", required: true).map { $0! }
        try slots.finish()
        (self.stepCount, self.sums) = (steps, sums)
    }
}
