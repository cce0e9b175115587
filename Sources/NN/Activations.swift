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
