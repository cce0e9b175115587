import TensorCore

/// Layers applied one after another (`nn.Sequential`). Children are named "0", "1", ...
/// so parameter names match PyTorch (`0.weight`, `3.bias`).
public final class Sequential: Layer, @unchecked Sendable {
    public private(set) var layers: [Layer]

    public init(_ layers: [Layer]) { self.layers = layers; super.init() }
    public convenience init(_ layers: Layer...) { self.init(layers) }

    /// Appends a layer at the end.
    public func append(_ layer: Layer) { layers.append(layer) }

    public override func forward(_ input: Tensor) throws -> Tensor {
        var x = input
        for layer in layers { x = try layer(x) }
        return x
    }

    public override var children: [(name: String, layer: Layer)] {
        layers.enumerated().map { (String($0.offset), $0.element) }
    }
}
