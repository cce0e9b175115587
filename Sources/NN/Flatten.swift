import TensorCore

/// Flattens every axis from `startAxis` on: `[N, C, H, W]` -> `[N, C*H*W]` (`nn.Flatten`).
public final class Flatten: Layer, @unchecked Sendable {
    public let startAxis: Int
    public init(startAxis: Int = 1) { self.startAxis = startAxis; super.init() }
    public override func forward(_ input: Tensor) throws -> Tensor { try input.flattened(from: startAxis) }
}
