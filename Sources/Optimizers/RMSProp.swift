import TensorCore

/// RMSProp (Hinton's lecture 6e), with PyTorch's rule (`torch.optim.RMSprop`):
///
///     g = ∇θ + λ θ
///     s = α s + (1 - α) g²
///     centered:  a = α a + (1 - α) g,  d = √(s - a²) + ε;  otherwise d = √s + ε
///     momentum μ > 0:  b = μ b + g / d,  θ = θ - η b;   otherwise θ = θ - η g / d
public final class RMSProp: Optimizer {
    public let parameters: [Tensor]
    public var learningRate: Float
    public let alpha: Float
    public let eps: Float
    public let weightDecay: Float
    public let momentum: Float
    public let centered: Bool
    fileprivate var square: [Tensor], average: [Tensor?], buffer: [Tensor?]
    private var settings: GroupSettings

    public init(parameters: [Tensor], learningRate: Float = 1e-2, alpha: Float = 0.99, eps: Float = 1e-8,
                weightDecay: Float = 0, momentum: Float = 0, centered: Bool = false) throws {
        try Check.learningRate(learningRate)
        try Check.unitInterval(alpha, "alpha")
        try Check.positive(eps, "eps")
        try Check.nonNegative(weightDecay, "weight decay")
        try Check.unitInterval(momentum, "momentum")
        self.parameters = parameters
        self.learningRate = learningRate; self.alpha = alpha; self.eps = eps
        self.weightDecay = weightDecay; self.momentum = momentum; self.centered = centered
        square = parameters.map { Tensor(zeros: $0.shape) }
        average = parameters.map { centered ? Tensor(zeros: $0.shape) : nil }
        buffer = []
        settings = GroupSettings(count: parameters.count, weightDecay: weightDecay, momentum: momentum)
        buffer = parameters.indices.map { settings.momentum[$0] > 0 ? Tensor(zeros: parameters[$0].shape) : nil }
    }

    /// RMSProp over parameter groups with their own learning rate, weight decay and momentum.
    public convenience init(groups: [ParameterGroup], learningRate: Float = 1e-2, alpha: Float = 0.99, eps: Float = 1e-8,
                            weightDecay: Float = 0, momentum: Float = 0, centered: Bool = false) throws {
        let parameters = groups.flatMap(\.parameters)
        try self.init(parameters: parameters, learningRate: learningRate, alpha: alpha, eps: eps,
                      weightDecay: weightDecay, momentum: momentum, centered: centered)
        settings = try GroupSettings(groups: groups, learningRate: learningRate, weightDecay: weightDecay, momentum: momentum)
        buffer = parameters.indices.map { settings.momentum[$0] > 0 ? Tensor(zeros: parameters[$0].shape) : nil }
    }

    public func step() {
        let a = alpha, e = eps
        for (i, p) in parameters.enumerated() {
            guard let grad = p.grad else { continue }
            let theta = p.pointer, g = grad.pointer, s = square[i].pointer
            let avg = average[i]?.pointer, buf = buffer[i]?.pointer
            let lr = learningRate * settings.rateScale[i], wd = settings.decay[i], mu = settings.momentum[i]
            for j in 0..<p.count {
                let gj = g[j] + wd * theta[j]
                s[j] = a * s[j] + (1 - a) * gj * gj
                var d: Float
                if let avg {
                    avg[j] = a * avg[j] + (1 - a) * gj
                    d = (s[j] - avg[j] * avg[j]).squareRoot() + e
                } else {
                    d = s[j].squareRoot() + e
                }
                if let buf {
                    buf[j] = mu * buf[j] + gj / d
                    theta[j] -= lr * buf[j]
                } else {
                    theta[j] -= lr * gj / d
                }
            }
        }
    }
}

extension RMSProp {
    /// `"<i>.square_avg"`, and `"<i>.grad_avg"` (centred) and `"<i>.momentum_buffer"` (momentum) where used.
    public func stateDict() -> [(name: String, tensor: Tensor)] {
        StateSlots.export(square, key: "square_avg") + StateSlots.export(average, key: "grad_avg")
            + StateSlots.export(buffer, key: "momentum_buffer")
    }

    public func loadStateDict(_ state: [String: Tensor]) throws {
        var slots = StateSlots(state, parameters: parameters, owner: self)
        let square = try slots.buffers("square_avg", required: true).map { $0! }
        let average = try slots.buffers("grad_avg", required: centered)
        let buffer = try slots.buffers("momentum_buffer", required: false)
        try slots.finish()
        for i in parameters.indices where (self.buffer[i] == nil) != (buffer[i] == nil) {
            throw OptimizerError.invalid("RMSProp state for parameter \(i) \(buffer[i] == nil ? "lacks" : "has") a momentum buffer, but its momentum is \(self.buffer[i] == nil ? "0" : "set")")
        }
        (self.square, self.average, self.buffer) = (square, centered ? average : self.average, buffer)
    }
}
