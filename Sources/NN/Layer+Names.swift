extension Layer {
    /// The dotted state-dict name of this layer and every descendant (`layer1.0.conv1`), keyed
    /// by identity; this layer itself is `""`. A layer reachable twice keeps its first name.
    public func dottedNames() -> [ObjectIdentifier: String] {
        var names: [ObjectIdentifier: String] = [:]
        func walk(_ layer: Layer, _ prefix: String) {
            if names[ObjectIdentifier(layer)] == nil { names[ObjectIdentifier(layer)] = prefix }
            for c in layer.children { walk(c.layer, prefix.isEmpty ? c.name : prefix + "." + c.name) }
        }
        walk(self, "")
        return names
    }

    /// The descendant called `name` in dotted state-dict form (`features.0`, `layer4.1.conv2`),
    /// or nil when there is none. `""` is this layer.
    public func layer(named name: String) -> Layer? {
        if name.isEmpty { return self }
        var current: Layer = self
        for part in name.split(separator: ".", omittingEmptySubsequences: false) {
            guard let next = current.children.first(where: { $0.name == part })?.layer else { return nil }
            current = next
        }
        return current
    }
}
