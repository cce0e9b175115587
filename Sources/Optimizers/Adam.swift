#if canImport(Glibc)
import Glibc
#endif
import TensorCore
import CFoveaKernels

/// Adam (Kingma & Ba 2015) and AdamW (Loshchilov & Hutter 2019), with PyTorch's update rules
/// (`torch.optim.Adam`, `torch.optim.AdamW`), the seeds' formulas (seed 003):
///
///     g = ∇θ (+ λ θ for Adam's L2 weight decay)
///     θ = θ (1 - η λ)                                  (AdamW: decoupled decay)
///     m = β1 m + (1 - β1) g,   v = β2 v + (1 - β2) g²
///     m̂ = m / (1 - β1^t),      v̂ = v / (1 - β2^t)      (AMSGrad: v̂ uses max over time of v)
///     θ = θ - η m̂ / (√v̂ + ε)
public final class Adam: Optimizer {
    public let parameters: [Tensor]
    public var learningRate: Float
    public let beta1: Float
    public let beta2: Float
    public let eps: Float
    public let weightDecay: Float
    /// True for AdamW's decoupled weight decay, false for Adam's L2 term in the gradient.
    public let decoupledWeightDecay: Bool
    public let amsgrad: Bool
    /// Steps taken so far (t in the formulas).
    public fileprivate(set) var stepCount = 0
    fileprivate var m: [Tensor?], v: [Tensor?], vMax: [Tensor?]
    private var settings: GroupSettings

    /// Adam; throws for a negative learning rate or weight decay, betas outside [0, 1) or eps <= 0.
    public init(parameters: [Tensor], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                eps: Float = 1e-8, weightDecay: Float = 0, amsgrad: Bool = false, decoupledWeightDecay: Bool = false) throws {
        try Check.learningRate(learningRate)
        try Check.unitInterval(beta1, "beta1")
        try Check.unitInterval(beta2, "beta2")
        try Check.positive(eps, "eps")
        try Check.nonNegative(weightDecay, "weight decay")
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1; self.beta2 = beta2; self.eps = eps
        self.weightDecay = weightDecay; self.amsgrad = amsgrad; self.decoupledWeightDecay = decoupledWeightDecay
        m = Array(repeating: nil, count: parameters.count)
        v = m; vMax = m
        settings = GroupSettings(count: parameters.count, weightDecay: weightDecay, momentum: 0)
    }

    /// Adam or AdamW over parameter groups with their own learning rate and weight decay.
    public convenience init(groups: [ParameterGroup], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                            eps: Float = 1e-8, weightDecay: Float = 0, amsgrad: Bool = false, decoupledWeightDecay: Bool = false) throws {
        try self.init(parameters: groups.flatMap(\.parameters), learningRate: learningRate, beta1: beta1, beta2: beta2,
                      eps: eps, weightDecay: weightDecay, amsgrad: amsgrad, decoupledWeightDecay: decoupledWeightDecay)
        settings = try GroupSettings(groups: groups, learningRate: learningRate, weightDecay: weightDecay, momentum: 0)
    }

    /// AdamW: Adam with decoupled weight decay (0.01 by default, as PyTorch).
    public static func adamW(parameters: [Tensor], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                             eps: Float = 1e-8, weightDecay: Float = 0.01, amsgrad: Bool = false) throws -> Adam {
        try Adam(parameters: parameters, learningRate: learningRate, beta1: beta1, beta2: beta2, eps: eps,
                 weightDecay: weightDecay, amsgrad: amsgrad, decoupledWeightDecay: true)
    }

    public func step() {
        stepCount += 1
        let b1 = beta1, b2 = beta2, e = eps
        let c1 = 1 - Float(pow(Double(b1), Double(stepCount))), c2 = 1 - Float(pow(Double(b2), Double(stepCount)))
        let rootC2 = c2.squareRoot()
        var updates: [AdamUpdate] = [], counts: [Int] = []
        for (i, p) in parameters.enumerated() {
            guard let grad = p.grad else { continue }
            let lr = learningRate * settings.rateScale[i], wd = settings.decay[i]
            if m[i] == nil {
                m[i] = Tensor(zeros: p.shape); v[i] = Tensor(zeros: p.shape)
                if amsgrad { vMax[i] = Tensor(zeros: p.shape) }
            }
            updates.append(AdamUpdate(theta: p.pointer, g: grad.pointer, m: m[i]!.pointer, v: v[i]!.pointer,
                                      vMax: vMax[i]?.pointer, b1: b1, b2: b2, eps: e, lr: lr, wd: wd,
                                      c1: c1, rootC2: rootC2))
            counts.append(p.count)
        }
        let decoupled = decoupledWeightDecay
        forEachElementRange(counts, minPerChunk: 1 << 14) { i, r in updates[i].run(r, decoupled: decoupled) }
    }
}

extension Adam {
    /// `"step"`, `"<i>.exp_avg"`, `"<i>.exp_avg_sq"` and, with AMSGrad, `"<i>.max_exp_avg_sq"`.
    public func stateDict() -> [(name: String, tensor: Tensor)] {
        guard stepCount > 0 else { return [] }
        return StateSlots.export(step: stepCount) + StateSlots.export(m, key: "exp_avg") + StateSlots.export(v, key: "exp_avg_sq")
            + StateSlots.export(vMax, key: "max_exp_avg_sq")
    }

    public func loadStateDict(_ state: [String: Tensor]) throws {
        var slots = StateSlots(state, parameters: parameters, owner: self)
        let steps = try slots.step()
        let m = try slots.buffers("exp_avg", required: false), v = try slots.buffers("exp_avg_sq", required: false)
        let vMax = try slots.buffers("max_exp_avg_sq", required: false)
        try slots.finish()
        for i in parameters.indices where (m[i] == nil) != (v[i] == nil) || (amsgrad && (m[i] == nil) != (vMax[i] == nil)) {
            throw OptimizerError.invalid("Adam state for parameter \(i) has only some of its moment buffers")
        }
        (self.stepCount, self.m, self.v, self.vMax) = (steps, m, v, vMax)
    }
}

/// One parameter's Adam update over a range of its elements, in the C kernel
/// (`fovea_adam_update`: one loop per variant, vectorised for AVX2 where the CPU has it).
struct AdamUpdate {
    let theta, g, m, v: UnsafeMutablePointer<Float>
    let vMax: UnsafeMutablePointer<Float>?
    let b1, b2, eps, lr, wd, c1, rootC2: Float

    func run(_ range: Range<Int>, decoupled: Bool) {
        var settings = fovea_adam_settings(beta1: b1, beta2: b2, eps: eps, lr: lr, weight_decay: wd,
                                           bias_correction1: c1, root_bias_correction2: rootC2, decoupled: decoupled ? 1 : 0)
        let j = range.lowerBound
        fovea_adam_update(range.count, theta + j, g + j, m + j, v + j, vMax.map { $0 + j }, &settings)
    }
}
