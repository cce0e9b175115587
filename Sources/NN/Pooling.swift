import TensorCore

/// A 2-D pooling layer over `[N, C, H, W]` -> `[N, C, OH, OW]` with
/// `OH = floor((H + pt + pb - F) / S) + 1` (ceiling with `ceilMode`). Stride defaults to
/// the window size. Use `MaxPool2D`, `AvgPool2D` or `SumPool2D`.
public class Pool2D: Layer, @unchecked Sendable {
    public let kind: PoolKind
    public let kernelSize: Size2D
    public let stride: Size2D
    public let padding: Padding
    public let ceilMode: Bool

    init(kind: PoolKind, kernelSize: Size2D, stride: Size2D?, padding: Padding, ceilMode: Bool) throws {
        let s = stride ?? kernelSize
        guard kernelSize.h > 0, kernelSize.w > 0, s.h > 0, s.w > 0 else {
            throw LayerError.invalidConfiguration("pooling window \(kernelSize) and stride \(s) must be positive")
        }
        self.kind = kind; self.kernelSize = kernelSize; self.stride = s
        self.padding = padding; self.ceilMode = ceilMode
        super.init()
    }

    public override func forward(_ input: Tensor) throws -> Tensor {
        try Tensor.pool2d(input, kind: kind, kernel: kernelSize, stride: stride, padding: padding, ceilMode: ceilMode)
    }

    public override var configuration: String {
        var s = "window \(kernelSize)"
        if stride != kernelSize { s += ", stride \(stride)" }
        if padding != .valid { s += ", padding \(padding)" }
        if ceilMode { s += ", ceil" }
        return s
    }
}

/// Max pooling (`nn.MaxPool2d`): the largest value of each window.
public final class MaxPool2D: Pool2D, @unchecked Sendable {
    public init(_ kernelSize: Size2D, stride: Size2D? = nil, padding: Padding = .valid, ceilMode: Bool = false) throws {
        try super.init(kind: .max, kernelSize: kernelSize, stride: stride, padding: padding, ceilMode: ceilMode)
    }
}

/// Average pooling (`nn.AvgPool2d`, padding counted in the divisor).
public final class AvgPool2D: Pool2D, @unchecked Sendable {
    public init(_ kernelSize: Size2D, stride: Size2D? = nil, padding: Padding = .valid, ceilMode: Bool = false) throws {
        try super.init(kind: .average, kernelSize: kernelSize, stride: stride, padding: padding, ceilMode: ceilMode)
    }
}

/// Sum pooling: the sum of each window.
public final class SumPool2D: Pool2D, @unchecked Sendable {
    public init(_ kernelSize: Size2D, stride: Size2D? = nil, padding: Padding = .valid, ceilMode: Bool = false) throws {
        try super.init(kind: .sum, kernelSize: kernelSize, stride: stride, padding: padding, ceilMode: ceilMode)
    }
}

/// Global average pooling (`nn.AdaptiveAvgPool2d(1)`): `[N, C, H, W]` -> `[N, C, 1, 1]`.
public final class GlobalAvgPool2D: Layer, @unchecked Sendable {
    public override init() { super.init() }
    public override func forward(_ input: Tensor) throws -> Tensor { try input.globalAvgPool2d() }
}

/// Global max pooling (`nn.AdaptiveMaxPool2d(1)`): `[N, C, H, W]` -> `[N, C, 1, 1]`.
public final class GlobalMaxPool2D: Layer, @unchecked Sendable {
    public override init() { super.init() }
    public override func forward(_ input: Tensor) throws -> Tensor { try input.globalMaxPool2d() }
}

/// Adaptive average pooling (`nn.AdaptiveAvgPool2d`): `[N, C, H, W]` -> `[N, C, OH, OW]` for any H, W.
public final class AdaptiveAvgPool2D: Layer, @unchecked Sendable {
    public let outputSize: Size2D
    public init(_ outputSize: Size2D) throws {
        guard outputSize.h >= 1, outputSize.w >= 1 else {
            throw LayerError.invalidConfiguration("adaptive pooling output size must be positive, got \(outputSize)")
        }
        self.outputSize = outputSize
        super.init()
    }
    public override func forward(_ input: Tensor) throws -> Tensor { try input.adaptiveAvgPool2d(outputSize) }
    public override var configuration: String { "output \(outputSize)" }
}
