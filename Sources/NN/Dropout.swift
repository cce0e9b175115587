import TensorCore

/// What the dropout layers share: the drop probability `p` in [0, 1) and its checks.
public class DropoutLayer: Layer, @unchecked Sendable {
    /// The drop probability, in [0, 1).
    public private(set) var p: Float

    /// - Throws: `LayerError.invalidConfiguration` unless `0 <= p < 1`.
    public init(_ p: Float = 0.5) throws {
        try DropoutLayer.check(p)
        self.p = p
        super.init()
    }

    /// Changes the drop probability (`fovea train --dropout`); throws unless `0 <= p < 1`.
    public func setProbability(_ p: Float) throws {
        try DropoutLayer.check(p)
        self.p = p
    }

    static func check(_ p: Float) throws {
        guard p >= 0, p < 1 else { throw LayerError.invalidConfiguration("dropout probability must be in [0, 1), got \(p)") }
    }

    public override var configuration: String { "p \(p)" }
}

/// Dropout (`nn.Dropout`): in training, zeroes each element with probability `p` and scales
/// the rest by `1 / (1 - p)`; the identity in evaluation. Masks come from `GlobalRandom`,
/// so a seeded run repeats exactly. Any shape.
public final class Dropout: DropoutLayer, @unchecked Sendable {
    public override func forward(_ input: Tensor) throws -> Tensor {
        guard isTraining, p > 0 else { return input }
        var generator = GlobalRandom.split()
        return try input.dropout(p: p, generator: &generator)
    }
}

/// Spatial dropout (`nn.Dropout2d`) for `[N, C, H, W]`: drops whole channels with
/// probability `p` in training, scaling the rest by `1 / (1 - p)`; identity in evaluation.
public final class Dropout2D: DropoutLayer, @unchecked Sendable {
    public override func forward(_ input: Tensor) throws -> Tensor {
        guard isTraining, p > 0 else { return input }
        var generator = GlobalRandom.split()
        return try input.dropout2d(p: p, generator: &generator)
    }
}

/// Recorded as one node by a captured graph: its state changes as it runs.
extension DropoutLayer: PrimitiveLayer {}
