import TensorCore
import CFoveaKernels

/// Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight
/// decay, with PyTorch's update rule (`torch.optim.SGD`):
///
///     g = ∇θ + λ θ                     (weight decay λ)
///     v = μ v + (1 - dampening) g      (v = g on the first step)
///     d = g + μ v  (Nesterov)  or  d = v
///     θ = θ - η d
public final class SGD: Optimizer {
    public let parameters: [Tensor]
    public var learningRate: Float
    public let momentum: Float
    public let dampening: Float
    public let weightDecay: Float
    public let nesterov: Bool
    fileprivate var velocity: [Tensor?]
    /// Per parameter: learning-rate ratio to `learningRate`, weight decay and momentum (from its group).
    private var settings: GroupSettings

    /// Throws for a negative learning rate or weight decay, momentum outside [0, 1), or Nesterov without momentum.
    public init(parameters: [Tensor], learningRate: Float, momentum: Float = 0, dampening: Float = 0,
                weightDecay: Float = 0, nesterov: Bool = false) throws {
        try Check.learningRate(learningRate)
        try Check.unitInterval(momentum, "momentum")
        try Check.unitInterval(dampening, "dampening")
        try Check.nonNegative(weightDecay, "weight decay")
        guard !nesterov || (momentum > 0 && dampening == 0) else {
            throw OptimizerError.invalid("Nesterov momentum needs momentum > 0 and dampening 0 (got \(momentum), \(dampening))")
        }
        self.parameters = parameters
        self.learningRate = learningRate; self.momentum = momentum; self.dampening = dampening
        self.weightDecay = weightDecay; self.nesterov = nesterov
        velocity = Array(repeating: nil, count: parameters.count)
        settings = GroupSettings(count: parameters.count, weightDecay: weightDecay, momentum: momentum)
    }

    /// SGD over parameter groups, each optionally with its own learning rate, weight decay and
    /// momentum (PyTorch's `param_groups`); `learningRate` etc. are the defaults.
    public convenience init(groups: [ParameterGroup], learningRate: Float, momentum: Float = 0, dampening: Float = 0,
                            weightDecay: Float = 0, nesterov: Bool = false) throws {
        try self.init(parameters: groups.flatMap(\.parameters), learningRate: learningRate, momentum: momentum,
                      dampening: dampening, weightDecay: weightDecay, nesterov: nesterov)
        settings = try GroupSettings(groups: groups, learningRate: learningRate, weightDecay: weightDecay, momentum: momentum)
    }

    public func step() {
        var updates: [SGDUpdate] = []
        for (i, p) in parameters.enumerated() {
            guard let grad = p.grad else { continue }
            let mu = settings.momentum[i]
            let first = mu != 0 && velocity[i] == nil
            if first { velocity[i] = Tensor.uninitialized(p.shape) }
            updates.append(SGDUpdate(theta: p.pointer, g: grad.pointer, v: mu == 0 ? nil : velocity[i]!.pointer,
                                     count: p.count, first: first,
                                     settings: fovea_sgd_settings(lr: learningRate * settings.rateScale[i], momentum: mu,
                                                                  damping: 1 - dampening, weight_decay: settings.decay[i],
                                                                  nesterov: nesterov ? 1 : 0)))
        }
        forEachElementRange(updates.map(\.count), minPerChunk: 1 << 14) { i, r in updates[i].run(r) }
    }
}

/// One parameter's SGD update over a range of its elements, in the C kernel
/// (`fovea_sgd_update`: one loop per variant, vectorised for AVX2 where the CPU has it).
struct SGDUpdate {
    let theta, g: UnsafeMutablePointer<Float>
    let v: UnsafeMutablePointer<Float>?
    let count: Int
    let first: Bool
    let settings: fovea_sgd_settings

    func run(_ range: Range<Int>) {
        var s = settings
        let j = range.lowerBound
        fovea_sgd_update(range.count, theta + j, g + j, v.map { $0 + j }, first ? 1 : 0, &s)
    }
}

extension SGD {
    /// `"<i>.momentum_buffer"` for every parameter that has taken a momentum step.
    public func stateDict() -> [(name: String, tensor: Tensor)] { StateSlots.export(velocity, key: "momentum_buffer") }

    public func loadStateDict(_ state: [String: Tensor]) throws {
        var slots = StateSlots(state, parameters: parameters, owner: self)
        let restored = try slots.buffers("momentum_buffer", required: false)
        try slots.finish()
        velocity = restored
    }
}
