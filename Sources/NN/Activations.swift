import TensorCore

/// `max(0, x)` elementwise (`nn.ReLU`). Any shape.
public final class ReLU: Layer, @unchecked Sendable {
    public override init() { super.init() }
    public override func forward(_ input: Tensor) throws -> Tensor { input.relu() }
}

/// Hyperbolic tangent elementwise (`nn.Tanh`). Any shape.
public final class Tanh: Layer, @unchecked Sendable {
    public override init() { super.init() }
    public override func forward(_ input: Tensor) throws -> Tensor { input.tanh() }
}

/// Logistic sigmoid `1 / (1 + e^-x)` elementwise (`nn.Sigmoid`). Any shape.
public final class Sigmoid: Layer, @unchecked Sendable {
    public override init() { super.init() }
    public override func forward(_ input: Tensor) throws -> Tensor { input.sigmoid() }
}

/// Softmax along `axis` (default the last): outputs are positive and sum to 1 (`nn.Softmax`).
public final class Softmax: Layer, @unchecked Sendable {
    public let axis: Int
    public init(axis: Int = -1) { self.axis = axis; super.init() }
    public override func forward(_ input: Tensor) throws -> Tensor { try input.softmax(axis: axis) }
}

/// Log-softmax along `axis` (default the last) (`nn.LogSoftmax`).
public final class LogSoftmax: Layer, @unchecked Sendable {
    public let axis: Int
    public init(axis: Int = -1) { self.axis = axis; super.init() }
    public override func forward(_ input: Tensor) throws -> Tensor { try input.logSoftmax(axis: axis) }
}

/// `x` unchanged (`nn.Identity`): a placeholder where a model slot takes no layer.
public final class Identity: Layer, @unchecked Sendable {
    public override init() { super.init() }
    public override func forward(_ input: Tensor) throws -> Tensor { input }
}

/// `x > 0 ? x : slope * x` (`nn.LeakyReLU`, slope 0.01 by default). Any shape.
public final class LeakyReLU: Layer, @unchecked Sendable {
    public let slope: Float
    public init(slope: Float = 0.01) { self.slope = slope; super.init() }
    public override func forward(_ input: Tensor) throws -> Tensor { input.leakyRelu(slope: slope) }
    public override var configuration: String { "slope \(slope)" }
}

/// Parametric ReLU (`nn.PReLU`): `x > 0 ? x : a * x` with a learnable slope `weight`, one
/// shared value (`parameters: 1`, PyTorch's default) or one per channel of axis 1, starting at `initial` (0.25).
public final class PReLU: Layer, @unchecked Sendable {
    /// `[parameters]`.
    public let weight: Tensor
    public init(parameters: Int = 1, initial: Float = 0.25) throws {
        guard parameters >= 1 else { throw LayerError.invalidConfiguration("PReLU needs at least 1 parameter, got \(parameters)") }
        weight = Tensor(repeating: initial, shape: [parameters], requiresGrad: true)
        super.init()
    }
    public override func forward(_ input: Tensor) throws -> Tensor { try input.prelu(slope: weight) }
    public override var configuration: String { "\(weight.count) slope\(weight.count == 1 ? "" : "s")" }
}

/// Exponential linear unit (`nn.ELU`): `x > 0 ? x : alpha (e^x - 1)`. Any shape.
public final class ELU: Layer, @unchecked Sendable {
    public let alpha: Float
    public init(alpha: Float = 1) { self.alpha = alpha; super.init() }
    public override func forward(_ input: Tensor) throws -> Tensor { input.elu(alpha: alpha) }
    public override var configuration: String { "alpha \(alpha)" }
}

/// Scaled ELU (`nn.SELU`) with its fixed alpha and scale. Any shape.
public final class SELU: Layer, @unchecked Sendable {
    public override init() { super.init() }
    public override func forward(_ input: Tensor) throws -> Tensor { input.selu() }
}

/// Gaussian error linear unit (`nn.GELU`), exact or with the tanh approximation. Any shape.
public final class GELU: Layer, @unchecked Sendable {
    public let approximate: Tensor.GELUApproximation
    public init(approximate: Tensor.GELUApproximation = .none) { self.approximate = approximate; super.init() }
    public override func forward(_ input: Tensor) throws -> Tensor { input.gelu(approximate: approximate) }
    public override var configuration: String { approximate == .none ? "" : "tanh approximation" }
}

/// `min(max(x, low), high)` elementwise (`nn.Hardtanh`). Any shape.
public final class HardTanh: Layer, @unchecked Sendable {
    public let low: Float, high: Float
    public init(low: Float = -1, high: Float = 1) throws {
        guard low < high else { throw LayerError.invalidConfiguration("HardTanh needs low < high, got \(low) and \(high)") }
        self.low = low; self.high = high; super.init()
    }
    public override func forward(_ input: Tensor) throws -> Tensor { input.hardTanh(low: low, high: high) }
    public override var configuration: String { "[\(low), \(high)]" }
}

/// `min(max(x, 0), 6)` elementwise (`nn.ReLU6`, MobileNet v2). Any shape.
public final class ReLU6: Layer, @unchecked Sendable {
    public override init() { super.init() }
    public override func forward(_ input: Tensor) throws -> Tensor { input.relu6() }
}
