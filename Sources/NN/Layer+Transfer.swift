import TensorCore

/// Transfer learning on any model: freezing and unfreezing parameters by dotted-name
/// prefix, loading the part of a pretrained state dict that fits (a new head), and reading
/// embeddings from any layer.
///
/// ```swift
/// let model = try ModelZoo.entry(named: "resnet18").make(input: [3, 224, 224], classes: 6)
/// let report = model.loadMatchingState(pretrained)      // every tensor but fc.weight/fc.bias
/// try model.freeze(["conv1", "bn1", "layer1", "layer2"]) // train layer3, layer4 and fc
/// let sgd = try SGD(groups: [ParameterGroup(model.trainableParameters(under: ["fc"]), learningRate: 0.01),
///                            ParameterGroup(model.trainableParameters(under: ["layer3", "layer4"]), learningRate: 0.001)],
///                   learningRate: 0.001, momentum: 0.9)
/// let embedding = try model.features(of: images, at: "avgpool")   // [N, 512, 1, 1]
/// ```
///
/// A frozen parameter has `requiresGrad == false`: backward computes no gradient for it and
/// the optimizers, which skip tensors without a gradient, leave it unchanged (weight decay
/// included). Batch-norm running statistics are buffers, not parameters: they keep
/// updating in training mode unless the layer is put in evaluation mode.
extension Layer {
    /// Whether the dotted name `name` lies under `prefix`: equal to it, or inside it at a
    /// component boundary (`"features.1"` covers `"features.1.weight"`, not `"features.10.weight"`).
    /// An empty prefix or `"*"` covers everything.
    public static func name(_ name: String, isUnder prefix: String) -> Bool {
        prefix.isEmpty || prefix == "*" || name == prefix || name.hasPrefix(prefix.hasSuffix(".") ? prefix : prefix + ".")
    }

    /// Freezes every parameter under one of `prefixes` (see `name(_:isUnder:)`); returns
    /// the names frozen.
    ///
    /// - Throws: `LayerError.invalidConfiguration` when a prefix covers no parameter, listing
    ///   the model's top-level names; nothing is changed then.
    @discardableResult
    public func freeze(_ prefixes: [String]) throws -> [String] { try setTrainable(false, under: prefixes) }

    /// Makes every parameter under one of `prefixes` trainable again; returns their names.
    @discardableResult
    public func unfreeze(_ prefixes: [String]) throws -> [String] { try setTrainable(true, under: prefixes) }

    /// Sets `requiresGrad` of the parameters under `prefixes`.
    @discardableResult
    public func setTrainable(_ trainable: Bool, under prefixes: [String]) throws -> [String] {
        let named = namedParameters()
        for prefix in prefixes where !named.contains(where: { Layer.name($0.name, isUnder: prefix) }) {
            var tops: [String] = []
            for (name, _) in named {
                let top = String(name.prefix { $0 != "." })
                if tops.last != top && !tops.contains(top) { tops.append(top) }
            }
            throw LayerError.invalidConfiguration("no parameter is named '\(prefix)' or lies under it; the model's parameters lie under \(tops.joined(separator: ", "))")
        }
        let chosen = named.filter { p in prefixes.contains { Layer.name(p.name, isUnder: $0) } }
        for (_, tensor) in chosen { tensor.requiresGrad = trainable }
        return chosen.map(\.name)
    }

    /// The parameters that will train (`requiresGrad`), optionally only those under `prefixes`.
    public func trainableParameters(under prefixes: [String] = []) -> [Tensor] {
        namedParameters().filter { p in p.tensor.requiresGrad && (prefixes.isEmpty || prefixes.contains { Layer.name(p.name, isUnder: $0) }) }
            .map(\.tensor)
    }

    /// Names of the frozen parameters.
    public var frozenParameterNames: [String] { namedParameters().filter { !$0.tensor.requiresGrad }.map(\.name) }

    /// Copies every entry of `state` whose name and shape match one of this model's
    /// parameters or buffers, and reports the rest: the usual way to keep a pretrained body
    /// under a new head (PyTorch's `load_state_dict(strict=False)` after dropping mismatched
    /// shapes).
    ///
    /// - Returns: `loaded` (copied), `skipped` (in `state` but absent here or of another
    ///   shape, with the reason) and `missing` (here but not in `state`; left as they were).
    @discardableResult
    public func loadMatchingState(_ state: [String: Tensor]) -> (loaded: [String], skipped: [String], missing: [String]) {
        var loaded: [String] = [], missing: [String] = [], skipped: [String] = []
        let mine = stateDict()
        let names = Set(mine.map(\.name))
        for (name, tensor) in mine {
            guard let source = state[name] else { missing.append(name); continue }
            guard source.shape == tensor.shape else {
                skipped.append("\(name) (\(describe(source.shape)) in the weights, \(describe(tensor.shape)) here)")
                continue
            }
            tensor.pointer.update(from: source.pointer, count: tensor.count)
            loaded.append(name)
        }
        for name in state.keys.sorted() where !names.contains(name) { skipped.append("\(name) (not in this model)") }
        return (loaded, skipped, missing)
    }

    /// The output of the sub-layer named `layerName` (dotted, as `dottedNames()` gives:
    /// `"features.3"`, `"avgpool"`) when `input` runs through this model in evaluation mode
    /// without gradients: an embedding for feature extraction. The model's mode is restored.
    ///
    /// - Throws: `LayerError.invalidConfiguration` when no sub-layer has that name, or the
    ///   forward pass never calls it.
    public func features(of input: Tensor, at layerName: String) throws -> Tensor {
        guard let target = layer(named: layerName) else {
            let names = dottedNames().values.filter { !$0.isEmpty }.sorted()
            throw LayerError.invalidConfiguration("no layer is named '\(layerName)'; the model has \(names.prefix(40).joined(separator: ", "))\(names.count > 40 ? ", ..." : "")")
        }
        let wasTraining = isTraining
        eval()
        defer { train(wasTraining) }
        var captured: Tensor?
        _ = try withNoGrad {
            try LayerTrace.record(observing: { layer, output in
                if layer === target && captured == nil { captured = output.detached() }
                return output
            }) { try self(input) }
        }
        guard let captured else {
            throw LayerError.invalidConfiguration("layer '\(layerName)' is not called by the model's forward pass")
        }
        return captured
    }
}
