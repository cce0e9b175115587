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
public enum Initializer: Sendable, Equatable {
    case zeros
    case constant(Float)
    case uniform(low: Float, high: Float)
    case normal(mean: Float, std: Float)
    case kaimingUniform
    case kaimingNormal
    case xavierUniform
    case xavierNormal
    case pytorchDefault
    case varianceScaling(scale: Float, mode: FanMode, normal: Bool)

    /// Which fan `varianceScaling` divides by.
    public enum FanMode: String, Sendable, Equatable { case fanIn, fanOut, average }

    /// The non-linearities `gain(for:)` knows, as `torch.nn.init.calculate_gain`.
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

    /// `(fanIn, fanOut)` of a weight shape.
    public static func fans(_ shape: [Int]) -> (fanIn: Int, fanOut: Int) {
        guard shape.count >= 2 else { return (shape.first ?? 1, shape.first ?? 1) }
        let receptive = shape[2...].reduce(1, *)
        return (shape[1] * receptive, shape[0] * receptive)
    }

    /// A new tensor of `shape` filled by this rule from `generator` (the global one if nil).
    public func make(_ shape: [Int], generator: inout SeededGenerator) -> Tensor {
        let (fanIn, fanOut) = Initializer.fans(shape)
        switch self {
        case .zeros: return Tensor(zeros: shape)
        case .constant(let v): return Tensor(repeating: v, shape: shape)
        case .uniform(let lo, let hi): return .uniform(shape, low: lo, high: hi, generator: &generator)
        case .normal(let m, let s): return .normal(shape, mean: m, std: s, generator: &generator)
        case .kaimingUniform:
            let b = (6 / Float(max(fanIn, 1))).squareRoot()
            return .uniform(shape, low: -b, high: b, generator: &generator)
        case .kaimingNormal:
            return .normal(shape, std: (2 / Float(max(fanIn, 1))).squareRoot(), generator: &generator)
        case .xavierUniform:
            let b = (6 / Float(max(fanIn + fanOut, 1))).squareRoot()
            return .uniform(shape, low: -b, high: b, generator: &generator)
        case .xavierNormal:
            return .normal(shape, std: (2 / Float(max(fanIn + fanOut, 1))).squareRoot(), generator: &generator)
        case .pytorchDefault:
            let b = 1 / Float(max(fanIn, 1)).squareRoot()
            return .uniform(shape, low: -b, high: b, generator: &generator)
        case .varianceScaling(let scale, let mode, let normal):
            let fan: Float
            switch mode {
            case .fanIn: fan = Float(max(fanIn, 1))
            case .fanOut: fan = Float(max(fanOut, 1))
            case .average: fan = Float(max(fanIn + fanOut, 2)) / 2
            }
            let variance = scale / fan
            if normal { return .normal(shape, std: variance.squareRoot(), generator: &generator) }
            let b = (3 * variance).squareRoot()
            return .uniform(shape, low: -b, high: b, generator: &generator)
        }
    }

    /// A new parameter (requires gradients) drawn from the global generator.
    public func makeParameter(_ shape: [Int]) -> Tensor {
        let t = GlobalRandom.with { make(shape, generator: &$0) }
        t.requiresGrad = true
        return t
    }
}
