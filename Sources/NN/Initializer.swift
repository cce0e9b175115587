import TensorCore

/// How a weight tensor is filled before training.
///
/// `fanIn` of a weight `[out, in, kh, kw]` is `in * kh * kw`, `fanOut` is `out * kh * kw`
/// (for `[out, in]`: `in` and `out`).
/// - Kaiming/He (ReLU gain √2): normal `std = √(2 / fanIn)`, uniform bound `√(6 / fanIn)`.
/// - Xavier/Glorot: normal `std = √(2 / (fanIn + fanOut))`, uniform bound `√(6 / (fanIn + fanOut))`.
/// - `pytorchDefault`: uniform bound `1 / √fanIn` (what `nn.Conv2d`/`nn.Linear` do).
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
        }
    }

    /// A new parameter (requires gradients) drawn from the global generator.
    public func makeParameter(_ shape: [Int]) -> Tensor {
        let t = GlobalRandom.with { make(shape, generator: &$0) }
        t.requiresGrad = true
        return t
    }
}
