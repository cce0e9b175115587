import TensorCore

/// The optimizers by name, for the command line and for recipes.
public enum OptimizerKind: String, Sendable, CaseIterable {
    case sgd, adam, adamw, adagrad, rmsprop

    /// Parses a name (case-insensitive); throws listing the known ones.
    public init(named name: String) throws {
        guard let kind = OptimizerKind(rawValue: name.lowercased()) else {
            throw OptimizerError.invalid("unknown optimizer '\(name)'; known: \(OptimizerKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = kind
    }

    /// Settings shared by `make`; each optimizer uses those that apply to it.
    public struct Settings: Sendable {
        public var learningRate: Float
        /// SGD and RMSProp momentum.
        public var momentum: Float = 0
        public var nesterov = false
        /// L2 weight decay (decoupled for AdamW).
        public var weightDecay: Float = 0
        public var beta1: Float = 0.9
        public var beta2: Float = 0.999
        /// nil: the optimizer's own default (1e-8; AdaGrad 1e-10).
        public var eps: Float?

        public init(learningRate: Float, momentum: Float = 0, nesterov: Bool = false, weightDecay: Float = 0,
                    beta1: Float = 0.9, beta2: Float = 0.999, eps: Float? = nil) {
            self.learningRate = learningRate; self.momentum = momentum; self.nesterov = nesterov
            self.weightDecay = weightDecay; self.beta1 = beta1; self.beta2 = beta2; self.eps = eps
        }
    }

    /// Builds the optimizer over `parameters` (one group with the settings `s`); throws for
    /// settings it refuses.
    public func make(parameters: [Tensor], _ s: Settings) throws -> Optimizer {
        try make(groups: [ParameterGroup(parameters)], s)
    }

    /// Builds the optimizer over parameter groups (their own learning rates: a head
    /// trained faster than the body, say); `s` gives the defaults.
    public func make(groups: [ParameterGroup], _ s: Settings) throws -> Optimizer {
        switch self {
        case .sgd:
            return try SGD(groups: groups, learningRate: s.learningRate, momentum: s.momentum,
                           weightDecay: s.weightDecay, nesterov: s.nesterov)
        case .adam:
            return try Adam(groups: groups, learningRate: s.learningRate, beta1: s.beta1, beta2: s.beta2,
                            eps: s.eps ?? 1e-8, weightDecay: s.weightDecay)
        case .adamw:
            return try Adam(groups: groups, learningRate: s.learningRate, beta1: s.beta1, beta2: s.beta2,
                            eps: s.eps ?? 1e-8, weightDecay: s.weightDecay, decoupledWeightDecay: true)
        case .adagrad:
            return try AdaGrad(groups: groups, learningRate: s.learningRate, weightDecay: s.weightDecay, eps: s.eps ?? 1e-10)
        case .rmsprop:
            return try RMSProp(groups: groups, learningRate: s.learningRate, eps: s.eps ?? 1e-8,
                               weightDecay: s.weightDecay, momentum: s.momentum)
        }
    }
}
