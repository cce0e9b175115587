import TensorCore

/// Updates parameters in place from their `grad` after `backward()`.
public protocol Optimizer: AnyObject {
    /// The tensors this optimizer updates.
    var parameters: [Tensor] { get }
    /// The current learning rate (schedules change it between steps).
    var learningRate: Float { get set }
    /// Applies one update to every parameter that has a gradient.
    func step()
    /// The running state (momentum buffers, moment estimates, step count) by name, for a
    /// checkpoint; see `OptimizerState.swift` for the names.
    func stateDict() -> [(name: String, tensor: Tensor)]
    /// Restores what `stateDict()` returned (from an optimizer over parameters of the same
    /// shapes, in the same order). Throws naming the first unexpected, missing or mis-shaped
    /// entry, and changes nothing then.
    func loadStateDict(_ state: [String: Tensor]) throws
}

extension Optimizer {
    /// Clears every parameter's gradient.
    public func zeroGrad() { for p in parameters { p.grad = nil } }
}

/// Parameters with their own settings, like one of PyTorch's `param_groups`: any setting left
/// nil takes the optimizer's. A group's `learningRate` keeps its ratio to the optimizer's base
/// rate when a schedule changes `Optimizer.learningRate`.
public struct ParameterGroup {
    public var parameters: [Tensor]
    public var learningRate: Float?
    public var weightDecay: Float?
    public var momentum: Float?

    public init(_ parameters: [Tensor], learningRate: Float? = nil, weightDecay: Float? = nil, momentum: Float? = nil) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.weightDecay = weightDecay
        self.momentum = momentum
    }
}

/// Per-parameter settings resolved from parameter groups: the ratio of each parameter's
/// learning rate to the optimizer's, its weight decay and its momentum.
struct GroupSettings {
    var rateScale: [Float], decay: [Float], momentum: [Float]

    /// Every parameter with the optimizer's own settings.
    init(count: Int, weightDecay: Float, momentum: Float) {
        rateScale = Array(repeating: 1, count: count)
        decay = Array(repeating: weightDecay, count: count)
        self.momentum = Array(repeating: momentum, count: count)
    }

    /// Settings for `groups` (in order, flattened), checking each override.
    init(groups: [ParameterGroup], learningRate: Float, weightDecay: Float, momentum: Float) throws {
        self.init(count: 0, weightDecay: weightDecay, momentum: momentum)
        for group in groups {
            if let lr = group.learningRate { try Check.learningRate(lr) }
            if let wd = group.weightDecay { try Check.nonNegative(wd, "group weight decay") }
            if let mu = group.momentum { try Check.unitInterval(mu, "group momentum") }
            let scale = group.learningRate.map { learningRate > 0 ? $0 / learningRate : 0 } ?? 1
            for _ in group.parameters {
                rateScale.append(scale)
                decay.append(group.weightDecay ?? weightDecay)
                self.momentum.append(group.momentum ?? momentum)
            }
        }
    }
}

/// The checks every optimizer applies to its settings, with messages that quote the value.
enum Check {
    static func learningRate(_ lr: Float) throws {
        guard lr >= 0, lr.isFinite else { throw OptimizerError.invalid("learning rate must be >= 0 and finite, got \(lr)") }
    }
    static func unitInterval(_ value: Float, _ name: String) throws {
        guard value >= 0, value < 1 else { throw OptimizerError.invalid("\(name) must be in [0, 1), got \(value)") }
    }
    static func nonNegative(_ value: Float, _ name: String) throws {
        guard value >= 0, value.isFinite else { throw OptimizerError.invalid("\(name) must be >= 0 and finite, got \(value)") }
    }
    static func positive(_ value: Float, _ name: String) throws {
        guard value > 0, value.isFinite else { throw OptimizerError.invalid("\(name) must be > 0 and finite, got \(value)") }
    }
}

/// A bad optimizer setting; the message quotes it.
public enum OptimizerError: Error, CustomStringConvertible, Equatable {
    case invalid(String)
    public var description: String {
        switch self { case .invalid(let m): return "invalid optimizer setting: \(m)" }
    }
}

/// Runs `body(i, range)` over the elements of tensors whose sizes are `counts`, laid end to
/// end and split over threads in one parallel region (at least `minPerChunk` elements a
/// thread): an element-wise update is memory-bound and most tensors are small, so one
/// region for the whole step beats one per tensor. `range` is within tensor `i`.
func forEachElementRange(_ counts: [Int], minPerChunk: Int, _ body: (Int, Range<Int>) -> Void) {
    let total = counts.reduce(0, +)
    Parallel.forRanges(total, minPerChunk: minPerChunk) { r in
        var start = 0
        for (i, count) in counts.enumerated() {
            let lo = Swift.max(r.lowerBound, start), hi = Swift.min(r.upperBound, start + count)
            if lo < hi { body(i, (lo - start)..<(hi - start)) }
            start += count
            if start >= r.upperBound { break }
        }
    }
}
