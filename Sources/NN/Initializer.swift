import TensorCore

/// How a weight tensor is filled before training.
///
/// `fanIn` of a weight `[out, in, kh, kw]` is `in * kh * kw`, `fanOut` is `out * kh * kw`
/// (for `[out, in]`: `in` and `out`).
/// - Kaiming/He (ReLU gain √2): normal `std = √(2 / fanIn)`, uniform bound `√(6 / fanIn)`.
/// - Xavier/Glorot: normal `std = √(2 / (fanIn + fanOut))`, uniform bound `√(6 / (fanIn + fanOut))`.
/// - `pytorchDefault`: uniform bound `1 / √fanIn` (what `nn.Conv2d`/`nn.Linear` do).
/// - `varianceScaling(scale:mode:normal:)`: the general rule behind all of these,
///   `Var(w) = scale / fan` with fan = fanIn, fanOut or their average, drawn from a normal
///   (`std = √Var`) or a uniform (`bound = √(3 Var)`). Kaiming with a gain g and mode m is
///   `varianceScaling(scale: g², mode: m)`; Xavier with gain g is `varianceScaling(scale: g², mode: .average)`;
///   the course notes' "Xavier" variance `1 / units_in` (seed 004) is `varianceScaling(scale: 1, mode: .fanIn)`.
///
/// `kaiming(normal:mode:nonlinearity:)` and `xavier(normal:gain:)` give every fan mode and gain of
/// `torch.nn.init`; `distribution(for:)` says what a rule draws from for a given shape.
public enum Initializer: Sendable, Equatable {
    /// All zeros (`nn.init.zeros_`): right for biases, wrong for weights (seed 004: every unit
    /// of a layer then computes and learns the same thing).
    case zeros
    /// Every element `value` (`nn.init.constant_`).
    case constant(Float)
    /// `U(low, high)` (`nn.init.uniform_`).
    case uniform(low: Float, high: Float)
    /// `N(mean, std²)` (`nn.init.normal_`).
    case normal(mean: Float, std: Float)
    /// `kaiming_uniform_` defaults: fan-in, ReLU gain √2, bound `√(6 / fanIn)`.
    case kaimingUniform
    /// `kaiming_normal_` defaults: fan-in, ReLU gain √2, `std = √(2 / fanIn)`.
    case kaimingNormal
    /// `xavier_uniform_` with gain 1: bound `√(6 / (fanIn + fanOut))`.
    case xavierUniform
    /// `xavier_normal_` with gain 1: `std = √(2 / (fanIn + fanOut))`.
    case xavierNormal
    /// What `nn.Linear`/`nn.Conv2d` do to their weights (`kaiming_uniform_(a: √5)`): bound `1 / √fanIn`.
    case pytorchDefault
    /// `Var(w) = scale / fan`, fan by `mode`, normal (`std = √Var`) or uniform (`bound = √(3 Var)`).
    case varianceScaling(scale: Float, mode: FanMode, normal: Bool)

    /// Which fan `varianceScaling` divides by: `fanIn` keeps the variance of the activations in
    /// the forward pass, `fanOut` that of the gradients in the backward pass (PyTorch's
    /// `mode="fan_in"/"fan_out"`), `average` is `(fanIn + fanOut) / 2` (Xavier).
    public enum FanMode: String, Sendable, Equatable { case fanIn, fanOut, average }

    /// The non-linearities `gain(for:)` knows, as `torch.nn.init.calculate_gain` (whose conv
    /// and identity gains are `linear`'s 1; its `leaky_relu` default slope is 0.01, and Kaiming's
    /// default `a = 0` makes it `relu`).
    public enum Nonlinearity: Sendable, Equatable {
        case linear, sigmoid, tanh, relu, leakyRelu(slope: Float), selu
    }

    /// The recommended gain for a non-linearity: 1 (linear, sigmoid), 5/3 (tanh), √2 (ReLU),
    /// √(2 / (1 + a²)) (leaky ReLU with slope a), 3/4 (SELU).
    public static func gain(for nonlinearity: Nonlinearity) -> Float {
        switch nonlinearity {
        case .linear, .sigmoid: return 1
        case .tanh: return 5.0 / 3
        case .relu: return Float(2).squareRoot()
        case .leakyRelu(let a): return (2 / (1 + a * a)).squareRoot()
        case .selu: return 0.75
        }
    }

    /// Kaiming/He: `Var = gain² / fan`, with the fan of `mode` (PyTorch's `kaiming_*_(mode:, nonlinearity:)`).
    public static func kaiming(normal: Bool = false, mode: FanMode = .fanIn, nonlinearity: Nonlinearity = .relu) -> Initializer {
        let g = gain(for: nonlinearity)
        return .varianceScaling(scale: g * g, mode: mode, normal: normal)
    }

    /// Xavier/Glorot: `Var = 2 gain² / (fanIn + fanOut)` (PyTorch's `xavier_*_(gain:)`).
    public static func xavier(normal: Bool = false, gain: Float = 1) -> Initializer {
        .varianceScaling(scale: gain * gain, mode: .average, normal: normal)
    }

    /// Xavier/Glorot with the gain of a non-linearity (`xavier_*_(gain: calculate_gain(...))`).
    public static func xavier(normal: Bool = false, nonlinearity: Nonlinearity) -> Initializer {
        xavier(normal: normal, gain: gain(for: nonlinearity))
    }

    /// What an initialiser draws each element from.
    public enum Distribution: Sendable, Equatable {
        /// Every element is the value.
        case constant(Float)
        /// Uniform on `[low, high)`.
        case uniform(low: Float, high: Float)
        /// Gaussian with this mean and standard deviation.
        case normal(mean: Float, std: Float)
    }

    /// `(fanIn, fanOut)` of a weight shape, as PyTorch's `_calculate_fan_in_and_fan_out`:
    /// `[out, in, k...]` gives `(in · Πk, out · Πk)`, `[out, in]` gives `(in, out)`. A shape of
    /// rank 0 or 1 (where PyTorch throws) gives `(n, n)`, n its only size (1 for a scalar).
    public static func fans(_ shape: [Int]) -> (fanIn: Int, fanOut: Int) {
        guard shape.count >= 2 else { return (shape.first ?? 1, shape.first ?? 1) }
        let receptive = shape[2...].reduce(1, *)
        return (shape[1] * receptive, shape[0] * receptive)
    }

    /// The distribution this rule draws from for a weight of `shape` (its fans from `fans(_:)`):
    /// the bounds and standard deviations of `torch.nn.init`, e.g. Kaiming uniform
    /// `U(-g √(3 / fan), g √(3 / fan))`, Kaiming normal `N(0, g² / fan)`, Xavier uniform
    /// `U(-g √(6 / (fanIn + fanOut)), +...)`, Xavier normal `N(0, 2 g² / (fanIn + fanOut))`.
    public func distribution(for shape: [Int]) -> Distribution {
        let (fanIn, fanOut) = Initializer.fans(shape)
        switch self {
        case .zeros: return .constant(0)
        case .constant(let v): return .constant(v)
        case .uniform(let lo, let hi): return .uniform(low: lo, high: hi)
        case .normal(let m, let s): return .normal(mean: m, std: s)
        // Written out rather than through `varianceScaling`, whose Float (√2)² is not exactly 2:
        // the draws of the named cases stay bit-for-bit what saved runs were trained from.
        case .kaimingUniform:
            let b = (6 / Float(max(fanIn, 1))).squareRoot()
            return .uniform(low: -b, high: b)
        case .kaimingNormal: return .normal(mean: 0, std: (2 / Float(max(fanIn, 1))).squareRoot())
        case .xavierUniform:
            let b = (6 / Float(max(fanIn + fanOut, 1))).squareRoot()
            return .uniform(low: -b, high: b)
        case .xavierNormal: return .normal(mean: 0, std: (2 / Float(max(fanIn + fanOut, 1))).squareRoot())
        case .pytorchDefault:
            let b = 1 / Float(max(fanIn, 1)).squareRoot()
            return .uniform(low: -b, high: b)
        case .varianceScaling(let scale, let mode, let normal):
            let fan: Float
            switch mode {
            case .fanIn: fan = Float(max(fanIn, 1))
            case .fanOut: fan = Float(max(fanOut, 1))
            case .average: fan = Float(max(fanIn + fanOut, 2)) / 2
            }
            let variance = scale / fan
            if normal { return .normal(mean: 0, std: variance.squareRoot()) }
            let b = (3 * variance).squareRoot()
            return .uniform(low: -b, high: b)
        }
    }

    /// A new tensor of `shape` filled by this rule from `generator`.
    public func make(_ shape: [Int], generator: inout SeededGenerator) -> Tensor {
        switch distribution(for: shape) {
        case .constant(let v): return v == 0 ? Tensor(zeros: shape) : Tensor(repeating: v, shape: shape)
        case .uniform(let lo, let hi): return .uniform(shape, low: lo, high: hi, generator: &generator)
        case .normal(let m, let s): return .normal(shape, mean: m, std: s, generator: &generator)
        }
    }

    /// A new parameter (requires gradients) drawn from the global generator.
    public func makeParameter(_ shape: [Int]) -> Tensor {
        let t = GlobalRandom.with { make(shape, generator: &$0) }
        t.requiresGrad = true
        return t
    }
}
