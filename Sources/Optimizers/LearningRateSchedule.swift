import Foundation

/// How the learning rate moves over a run, as a function of the step (0-based, counted over
/// all epochs) and the run's total step count.
///
/// - `constant`: `base` throughout.
/// - `cosine(minimum:)`: `minimum + (base - minimum) * (1 + cos(pi * step / total)) / 2`,
///   PyTorch's `CosineAnnealingLR` with `T_max` = total steps, stepped after every batch.
/// - `stepDecay(every:gamma:)`: `base * gamma^floor(step / every)` (PyTorch's `StepLR`, counted in steps).
/// - `multiStep(milestones:gamma:)`: `base * gamma^(milestones passed)` (`MultiStepLR`).
/// - `exponential(gamma:)`: `base * gamma^step` (`ExponentialLR`).
/// - `warmupCosine(warmupSteps:minimum:)`: linear from `base / warmupSteps` up to `base` over the
///   first `warmupSteps` steps, then cosine from `base` down to `minimum` over the rest.
/// - `oneCycle(pctStart:divFactor:finalDivFactor:)`: PyTorch's `OneCycleLR` with `max_lr` = base:
///   cosine from `base / divFactor` up to `base` until step `pctStart * total - 1`, then cosine down
///   to `base / divFactor / finalDivFactor` at the last step.
public enum LearningRateSchedule: Sendable, Equatable, CustomStringConvertible {
    case constant
    case cosine(minimum: Float)
    case stepDecay(every: Int, gamma: Float)
    case multiStep(milestones: [Int], gamma: Float)
    case exponential(gamma: Float)
    case warmupCosine(warmupSteps: Int, minimum: Float)
    case oneCycle(pctStart: Float, divFactor: Float, finalDivFactor: Float)

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
        case .multiStep(let milestones, let gamma):
            return base * pow(gamma, Float(milestones.filter { $0 <= step }.count))
        case .exponential(let gamma):
            return base * pow(gamma, Float(max(step, 0)))
        case .warmupCosine(let warmup, let minimum):
            if step < warmup { return base * Float(step + 1) / Float(warmup) }
            let span = max(totalSteps - warmup, 1)
            let t = Double(min(step - warmup, span)) / Double(span)
            return minimum + (base - minimum) * Float((1 + cos(Double.pi * t)) / 2)
        case .oneCycle(let pctStart, let divFactor, let finalDivFactor):
            let initial = base / divFactor, final = initial / finalDivFactor
            let peak = Double(pctStart) * Double(totalSteps) - 1, end = Double(totalSteps - 1)
            func anneal(_ from: Float, _ to: Float, _ pct: Double) -> Float {
                to + (from - to) / 2 * Float(cos(Double.pi * pct) + 1)
            }
            let s = Double(step)
            if s <= peak { return anneal(initial, base, peak > 0 ? s / peak : 1) }
            return anneal(base, final, end > peak ? min((s - peak) / (end - peak), 1) : 1)
        }
    }

    /// Parses the `--schedule` flag's spellings: `constant`, `cosine`, `cosine:WARMUP_STEPS`,
    /// `step:EVERY:GAMMA`, `multistep:M1,M2,...:GAMMA`, `exponential:GAMMA`, `onecycle`.
    public init(parsing text: String) throws {
        let parts = text.lowercased().split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        func bad(_ expected: String) -> OptimizerError {
            OptimizerError.invalid("schedule '\(text)': expected \(expected)")
        }
        switch parts.first {
        case "constant" where parts.count == 1: self = .constant
        case "cosine" where parts.count == 1: self = .cosine(minimum: 0)
        case "cosine" where parts.count == 2:
            guard let warmup = Int(parts[1]), warmup > 0 else { throw bad("cosine:WARMUP_STEPS with WARMUP_STEPS > 0") }
            self = .warmupCosine(warmupSteps: warmup, minimum: 0)
        case "multistep" where parts.count == 3:
            let milestones = parts[1].split(separator: ",").map { Int($0) }
            guard !milestones.isEmpty, milestones.allSatisfy({ ($0 ?? -1) > 0 }), let gamma = Float(parts[2]), gamma > 0, gamma.isFinite else {
                throw bad("multistep:M1,M2,...:GAMMA with positive milestones and GAMMA > 0")
            }
            self = .multiStep(milestones: milestones.map { $0! }.sorted(), gamma: gamma)
        case "exponential" where parts.count == 2:
            guard let gamma = Float(parts[1]), gamma > 0, gamma <= 1 else { throw bad("exponential:GAMMA with 0 < GAMMA <= 1") }
            self = .exponential(gamma: gamma)
        case "onecycle" where parts.count == 1: self = .oneCycle(pctStart: 0.3, divFactor: 25, finalDivFactor: 1e4)
        case "step" where parts.count == 3:
            guard let every = Int(parts[1]), every > 0, let gamma = Float(parts[2]), gamma > 0, gamma.isFinite else {
                throw OptimizerError.invalid("schedule '\(text)': expected step:EVERY:GAMMA with EVERY > 0 and GAMMA > 0")
            }
            self = .stepDecay(every: every, gamma: gamma)
        default:
            throw OptimizerError.invalid("unknown schedule '\(text)'; expected constant, cosine, cosine:WARMUP, step:EVERY:GAMMA, multistep:M1,M2:GAMMA, exponential:GAMMA or onecycle")
        }
    }

    public var description: String {
        switch self {
        case .constant: return "constant"
        case .cosine(let m): return m == 0 ? "cosine" : "cosine (minimum \(m))"
        case .stepDecay(let every, let gamma): return "step:\(every):\(gamma)"
        case .multiStep(let milestones, let gamma): return "multistep:\(milestones.map(String.init).joined(separator: ",")):\(gamma)"
        case .exponential(let gamma): return "exponential:\(gamma)"
        case .warmupCosine(let warmup, _): return "cosine:\(warmup)"
        case .oneCycle: return "onecycle"
        }
    }
}
