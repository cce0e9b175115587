/// A seeded, reproducible random number generator (xoshiro256**, seeded through SplitMix64).
/// Same seed, same sequence, on every machine: initialisers, shuffling, dropout and
/// augmentation all draw from one of these.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var s0, s1, s2, s3: UInt64

    /// A generator whose whole sequence is fixed by `seed`.
    public init(seed: UInt64) {
        var x = seed
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix(); s1 = splitMix(); s2 = splitMix(); s3 = splitMix()
    }

    /// The generator's four state words, to save with a checkpoint; `init(stateWords:)`
    /// continues the sequence exactly where it was.
    public var stateWords: [UInt64] { [s0, s1, s2, s3] }

    /// The generator whose state `stateWords` returned.
    ///
    /// Nil unless there are four words, not all zero (the one state xoshiro never reaches).
    public init?(stateWords words: [UInt64]) {
        guard words.count == 4, words.contains(where: { $0 != 0 }) else { return nil }
        (s0, s1, s2, s3) = (words[0], words[1], words[2], words[3])
    }

    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// A uniform `Float` in [0, 1) with 24 random bits.
    public mutating func nextUniform() -> Float { Float(next() >> 40) * (1.0 / 16_777_216.0) }

    /// A standard normal sample (Box-Muller; the second value of each pair is discarded
    /// to keep the generator's state simple).
    public mutating func nextNormal() -> Float {
        var u1 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
        if u1 < 1e-300 { u1 = 1e-300 }
        let u2 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
        return Float((-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2))
    }
}

// Foundation-free libm access.
#if canImport(Glibc)
import Glibc
@inline(__always) func _log(_ x: Double) -> Double { Glibc.log(x) }
@inline(__always) func _cos(_ x: Double) -> Double { Glibc.cos(x) }
#elseif canImport(Darwin)
import Darwin
@inline(__always) func _log(_ x: Double) -> Double { Darwin.log(x) }
@inline(__always) func _cos(_ x: Double) -> Double { Darwin.cos(x) }
#endif

extension Tensor {
    /// A tensor of samples from U(low, high).
    public static func uniform(_ shape: [Int], low: Float = 0, high: Float = 1,
                               generator: inout SeededGenerator, requiresGrad: Bool = false) -> Tensor {
        let t = Tensor(zeros: shape, requiresGrad: requiresGrad)
        let p = t.pointer
        for i in 0..<t.count { p[i] = low + (high - low) * generator.nextUniform() }
        return t
    }

    /// A tensor of samples from N(mean, std²), drawn in pairs by Marsaglia's polar method
    /// (no trigonometry: a point uniform in the unit disc, `s = u² + v²`, gives the two
    /// independent normals `u √(-2 ln s / s)` and `v √(-2 ln s / s)`). Measured here,
    /// `fovea summary vgg11` (132.9 million weights) took 3.0 s this way against 6.1 s with
    /// one Box-Muller sample (a log and a cosine) per weight.
    public static func normal(_ shape: [Int], mean: Float = 0, std: Float = 1,
                              generator: inout SeededGenerator, requiresGrad: Bool = false) -> Tensor {
        let t = Tensor.uninitialized(shape)
        t.requiresGrad = requiresGrad
        let p = t.pointer, n = t.count
        var i = 0
        while i < n {
            let u = 2 * Double(generator.next() >> 11) * (1.0 / 9_007_199_254_740_992.0) - 1
            let v = 2 * Double(generator.next() >> 11) * (1.0 / 9_007_199_254_740_992.0) - 1
            let s = u * u + v * v
            guard s > 0, s < 1 else { continue }
            let f = (-2 * _log(s) / s).squareRoot()
            p[i] = mean + std * Float(u * f)
            if i + 1 < n { p[i + 1] = mean + std * Float(v * f) }
            i += 2
        }
        return t
    }
}

import Synchronization

/// The process-wide generator that initialisers and dropout draw from when no generator is
/// passed, like `torch.manual_seed`. Seed it once at start-up for reproducible runs.
public enum GlobalRandom {
    private static let state = Mutex(SeededGenerator(seed: 0))

    /// Restarts the global sequence from `seed`.
    public static func seed(_ seed: UInt64) { state.withLock { $0 = SeededGenerator(seed: seed) } }

    /// Runs `body` with exclusive use of the global generator.
    public static func with<R>(_ body: (inout SeededGenerator) throws -> R) rethrows -> R {
        try state.withLock { try body(&$0) }
    }

    /// The global generator as it is now (to save with a checkpoint).
    public static func snapshot() -> SeededGenerator { with { $0 } }

    /// Makes `generator` the global one (to resume from a checkpoint).
    public static func restore(_ generator: SeededGenerator) { with { $0 = generator } }

    /// A new generator split off the global one (advances the global sequence once).
    public static func split() -> SeededGenerator { with { SeededGenerator(seed: $0.next()) } }
}
