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

    /// The descendant called `name` in dotted state-dict form (`features.0`, `layer4.1.conv2`,
    /// `blocks.1.0` for an element of a nested array property), or nil when there is none.
    /// `""` is this layer. An array property is not a layer: `blocks` alone is nil.
    public func layer(named name: String) -> Layer? {
        if name.isEmpty { return self }
        // A child's name may itself be dotted (array elements), so match whole prefixes.
        for (childName, child) in children {
            if name == childName { return child }
            if name.hasPrefix(childName + "."), let found = child.layer(named: String(name.dropFirst(childName.count + 1))) {
                return found
            }
        }
        return nil
    }
}
