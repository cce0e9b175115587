/// Lowers the learning rate when a watched figure stops improving (PyTorch's
/// `ReduceLROnPlateau`; AlexNet's divide-by-10 when validation accuracy stalls).
///
/// Call `step(_:)` once per epoch with the figure. It counts epochs that are not better than the
/// best so far by more than `threshold` (relative: `> best * (1 + threshold)` when maximising,
/// `< best * (1 - threshold)` when minimising); when that count exceeds `patience`, `scale` is
/// multiplied by `factor` (not below `minimumScale`), then `cooldown` epochs pass before
/// counting again. `scale` multiplies the learning rate.
public final class ReduceLROnPlateau {
    public enum Mode: String, Sendable { case min, max }

    public let mode: Mode
    public let factor: Float
    public let patience: Int
    public let threshold: Double
    public let cooldown: Int
    public let minimumScale: Float
    /// The multiplier to apply to the learning rate; starts at 1.
    public fileprivate(set) var scale: Float = 1
    public fileprivate(set) var best: Double?
    fileprivate var badEpochs = 0
    fileprivate var cooldownLeft = 0

    public init(mode: Mode = .max, factor: Float = 0.1, patience: Int = 10, threshold: Double = 1e-4,
                cooldown: Int = 0, minimumScale: Float = 0) throws {
        guard factor > 0, factor < 1 else { throw OptimizerError.invalid("plateau factor must be in (0, 1), got \(factor)") }
        guard patience >= 0 else { throw OptimizerError.invalid("plateau patience must be >= 0, got \(patience)") }
        guard threshold >= 0 else { throw OptimizerError.invalid("plateau threshold must be >= 0, got \(threshold)") }
        guard cooldown >= 0 else { throw OptimizerError.invalid("plateau cooldown must be >= 0, got \(cooldown)") }
        self.mode = mode; self.factor = factor; self.patience = patience
        self.threshold = threshold; self.cooldown = cooldown; self.minimumScale = minimumScale
    }

    /// Takes one epoch's figure; returns true when it lowered `scale`.
    @discardableResult
    public func step(_ value: Double) -> Bool {
        let better = best.map { mode == .max ? value > $0 * (1 + threshold) : value < $0 * (1 - threshold) } ?? true
        if better { best = value; badEpochs = 0 } else { badEpochs += 1 }
        if cooldownLeft > 0 { cooldownLeft -= 1; badEpochs = 0 }
        guard badEpochs > patience else { return false }
        let lowered = Swift.max(scale * factor, minimumScale)
        cooldownLeft = cooldown
        badEpochs = 0
        guard scale - lowered > 1e-8 else { return false }
        scale = lowered
        return true
    }
}

extension ReduceLROnPlateau {
    /// The running state (scale, best value, bad epochs, cooldown), for a checkpoint.
    public var state: [String: Double] {
        var s = ["scale": Double(scale), "bad_epochs": Double(badEpochs), "cooldown_left": Double(cooldownLeft)]
        if let best { s["best"] = best }
        return s
    }

    /// Restores what `state` returned.
    public func restore(_ state: [String: Double]) throws {
        guard let scale = state["scale"], let bad = state["bad_epochs"], let cooldown = state["cooldown_left"] else {
            throw OptimizerError.invalid("reduce-on-plateau state needs scale, bad_epochs and cooldown_left, got \(state.keys.sorted())")
        }
        // Counts from a file: NaN or infinity must not trap in Int() (issue 29 finding 6).
        guard let badEpochs = Int(exactly: bad), let cooldownLeft = Int(exactly: cooldown), badEpochs >= 0, cooldownLeft >= 0,
              scale.isFinite else {
            throw OptimizerError.invalid("reduce-on-plateau state needs a finite scale and whole, non-negative counts; "
                + "got scale \(scale), bad_epochs \(bad), cooldown_left \(cooldown)")
        }
        self.scale = Float(scale)
        best = state["best"]
        self.badEpochs = badEpochs
        self.cooldownLeft = cooldownLeft
    }
}
