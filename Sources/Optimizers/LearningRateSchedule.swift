import Foundation

/// How the learning rate moves over a run, as a function of the step (0-based, counted over
/// all epochs) and the run's total step count.
///
/// - `constant`: `base` throughout.
/// - `cosine(minimum:)`: `minimum + (base - minimum) * (1 + cos(pi * step / total)) / 2`,
///   PyTorch's `CosineAnnealingLR` with `T_max` = total steps, stepped after every batch.
/// - `stepDecay(every:gamma:)`: `base * gamma^floor(step / every)` (PyTorch's `StepLR`, counted in steps).
public enum LearningRateSchedule: Sendable, Equatable, CustomStringConvertible {
    case constant
    case cosine(minimum: Float)
    case stepDecay(every: Int, gamma: Float)

    /// The learning rate for `step` of `totalSteps` when the schedule starts from `base`.
    public func rate(base: Float, step: Int, totalSteps: Int) -> Float {
        switch self {
        case .constant:
            return base
        case .cosine(let minimum):
            guard totalSteps > 0 else { return base }
            let t = Double(min(max(step, 0), totalSteps)) / Double(totalSteps)
            return minimum + (base - minimum) * Float((1 + cos(Double.pi * t)) / 2)
        case .stepDecay(let every, let gamma):
            guard every > 0 else { return base }
            return base * pow(gamma, Float(max(step, 0) / every))
        }
    }

    /// Parses `constant`, `cosine` or `step:EVERY:GAMMA` (the `--schedule` flag's spelling).
    public init(parsing text: String) throws {
        let parts = text.lowercased().split(separator: ":").map(String.init)
        switch parts.first {
        case "constant" where parts.count == 1: self = .constant
        case "cosine" where parts.count == 1: self = .cosine(minimum: 0)
        case "step" where parts.count == 3:
            guard let every = Int(parts[1]), every > 0, let gamma = Float(parts[2]), gamma > 0, gamma.isFinite else {
                throw OptimizerError.invalid("schedule '\(text)': expected step:EVERY:GAMMA with EVERY > 0 and GAMMA > 0")
            }
            self = .stepDecay(every: every, gamma: gamma)
        default:
            throw OptimizerError.invalid("unknown schedule '\(text)'; expected constant, cosine or step:EVERY:GAMMA")
        }
    }

    public var description: String {
        switch self {
        case .constant: return "constant"
        case .cosine(let m): return m == 0 ? "cosine" : "cosine (minimum \(m))"
        case .stepDecay(let every, let gamma): return "step:\(every):\(gamma)"
        }
    }
}
