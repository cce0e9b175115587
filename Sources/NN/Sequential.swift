import TensorCore

/// Layers applied one after another (`nn.Sequential`). Children are named "0", "1", ...
/// so parameter names match PyTorch (`0.weight`, `3.bias`), or given names, as PyTorch's
/// `nn.Sequential(OrderedDict(...))` (`features.conv0.weight`, `features.denseblock1...`).
public final class Sequential: Layer, @unchecked Sendable {
    public private(set) var layers: [Layer]
    /// The child names, one per layer.
    public private(set) var names: [String]

    public init(_ layers: [Layer]) {
        self.layers = layers
        names = layers.indices.map(String.init)
        super.init()
    }
    public convenience init(_ layers: Layer...) { self.init(layers) }

    /// Layers with explicit names, in order. Throws when a name is empty, contains a dot or repeats.
    public init(named: [(String, Layer)]) throws {
        layers = []; names = []
        super.init()
        for (name, layer) in named { try append(layer, name: name) }
    }

    /// Appends a layer at the end, named by its position unless `name` is given.
    public func append(_ layer: Layer) { layers.append(layer); names.append(String(layers.count - 1)) }

    /// Appends a layer with an explicit name.
    public func append(_ layer: Layer, name: String) throws {
        guard !name.isEmpty, !name.contains("."), !names.contains(name) else {
            throw LayerError.invalidConfiguration("Sequential child name '\(name)' must be non-empty, dot-free and unique")
        }
        layers.append(layer); names.append(name)
    }

    /// The layer named `name`, if any.
    public subscript(name: String) -> Layer? { names.firstIndex(of: name).map { layers[$0] } }

    /// Runs the layers in order.
    public override func forward(_ input: Tensor) throws -> Tensor {
        try layers.reduce(input) { x, layer in try layer(x) }
    }

    public override var children: [(name: String, layer: Layer)] {
        Array(zip(names, layers))
    }
}
