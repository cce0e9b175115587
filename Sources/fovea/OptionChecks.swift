import ArgumentParser
import Foundation
import Fovea

/// The checks every subcommand's `validate()` makes of its numeric and path options, so a
/// bad value gets the same kind of message everywhere: the flag, the allowed range and the
/// value given ("--epochs must be between 1 and 100000, got -1").
///
/// Numeric options are declared with `parsing: .unconditional`: otherwise the argument
/// parser takes `-1` after `--epochs` for a flag and says only "Missing value".
enum OptionCheck {
    /// The most `--threads`: the kernels' thread pool runs at most 256 threads.
    static let maximumThreads = 256
    /// The most `--epochs` (a learning-rate schedule counts epochs x steps).
    static let maximumEpochs = 100_000
    /// The largest `--batch-size`.
    static let maximumBatchSize = 65_536
    /// The most classes a model may be built with (`--classes`).
    static let maximumClasses = ModelZoo.maxClasses

    /// `value`, when given, lies in `range`.
    static func whole<T: BinaryInteger>(_ flag: String, _ value: T?, in range: ClosedRange<T>, note: String = "") throws {
        guard let value, !range.contains(value) else { return }
        throw ValidationError("\(flag) must be between \(range.lowerBound) and \(range.upperBound), got \(value)\(note)")
    }

    /// `value`, when given, is at least `minimum`.
    static func whole<T: BinaryInteger>(_ flag: String, _ value: T?, atLeast minimum: T) throws {
        guard let value, value < minimum else { return }
        throw ValidationError("\(flag) must be at least \(minimum), got \(value)")
    }

    /// What a real-valued option may be.
    enum Real {
        /// Greater than 0 and finite.
        case positive
        /// At least 0 and finite.
        case nonNegative
        /// In [0, 1).
        case fraction
        /// In (0, 1).
        case openFraction
        /// In (0, maximum].
        case upTo(Double)

        func allows(_ x: Double) -> Bool {
            switch self {
            case .positive: return x > 0 && x.isFinite
            case .nonNegative: return x >= 0 && x.isFinite
            case .fraction: return x >= 0 && x < 1
            case .openFraction: return x > 0 && x < 1
            case .upTo(let maximum): return x > 0 && x <= maximum
            }
        }

        var text: String {
            switch self {
            case .positive: return "a positive number"
            case .nonNegative: return "a number >= 0"
            case .fraction: return "in [0, 1)"
            case .openFraction: return "in (0, 1)"
            case .upTo(let maximum): return "in (0, \(maximum.rounded() == maximum ? "\(Int(maximum))" : "\(maximum)")]"
            }
        }
    }

    /// `value`, when given, is what `rule` allows.
    static func real<T: BinaryFloatingPoint & CustomStringConvertible>(_ flag: String, _ value: T?, _ rule: Real) throws {
        guard let value, !rule.allows(Double(value)) else { return }
        throw ValidationError("\(flag) must be \(rule.text), got \(value)")
    }

    /// A path option, when given, is not empty: `--output ""` would write into the current folder.
    static func path(_ flag: String, _ value: String?) throws {
        guard let value, value.trimmingCharacters(in: .whitespaces).isEmpty else { return }
        throw ValidationError("\(flag) must name a file or folder, got '\(value)'")
    }

    /// `--threads`: 1...256 (the thread pool's limit), naming the cores the machine has.
    static func threads(_ value: Int?) throws {
        try whole("--threads", value, in: 1...maximumThreads,
                  note: " (this machine has \(ProcessInfo.processInfo.activeProcessorCount) cores)")
    }

    /// Parses a `--seed`: a whole number in 0...2^64-1 (the argument parser quotes the value).
    static func seed(_ text: String) throws -> UInt64 {
        guard let seed = UInt64(text) else { throw ValidationError("a seed must be a whole number between 0 and \(UInt64.max)") }
        return seed
    }
}
