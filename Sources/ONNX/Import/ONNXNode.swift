import TensorCore

/// One node of a graph being imported, with typed, checked access to its attributes and
/// constant inputs. Every getter throws `ONNXError.invalidAttribute` naming the node.
public struct ONNXNode {
    /// The node's name (or `op_type#index` when the file leaves it empty).
    public let name: String
    public let opType: String
    /// Input value names; `""` marks an omitted optional input.
    public let inputs: [String]
    public let outputs: [String]
    /// The operator set version of the default domain.
    public let opset: Int64
    let attributes: [String: Onnx_AttributeProto]
    /// Values known at load time (initializers and `Constant` outputs), for inputs such as
    /// Reshape's shape that must be constant.
    let constants: [String: Onnx_TensorProto]

    /// Most entries a list attribute may have, and the largest kernel, stride, padding or
    /// dilation accepted, so hostile files cannot ask for absurd work or memory.
    public static let maxListLength = 64
    public static let maxWindow = 1 << 14

    init(_ proto: Onnx_NodeProto, index: Int, opset: Int64, constants: [String: Onnx_TensorProto]) throws {
        name = proto.name.isEmpty ? "\(proto.opType)#\(index)" : proto.name
        opType = proto.opType
        inputs = proto.input
        outputs = proto.output
        self.opset = opset
        self.constants = constants
        var attributes: [String: Onnx_AttributeProto] = [:]
        for a in proto.attribute {
            guard attributes[a.name] == nil else { throw ONNXError.invalidAttribute(node: name, opType: opType, "attribute '\(a.name)' appears twice") }
            attributes[a.name] = a
        }
        self.attributes = attributes
    }

    func fail(_ message: String) -> ONNXError { .invalidAttribute(node: name, opType: opType, message) }

    /// Throws unless every attribute is one of `known`, so a setting Fovea would ignore is never silently dropped.
    func allowAttributes(_ known: Set<String>) throws {
        if let unknown = attributes.keys.sorted().first(where: { !known.contains($0) }) {
            throw fail("attribute '\(unknown)' is not supported")
        }
    }

    /// Throws unless the node has between `min` and `max` inputs (counting omitted ones) and `outputs` outputs.
    func expectInputs(_ min: Int, _ max: Int, outputs range: ClosedRange<Int> = 1...1) throws {
        guard (min...max).contains(inputs.count) else { throw fail("takes \(min == max ? "\(min)" : "\(min) to \(max)") inputs, got \(inputs.count)") }
        guard range.contains(outputs.count) else { throw fail("gives \(range.lowerBound == range.upperBound ? "\(range.lowerBound)" : "\(range.lowerBound) to \(range.upperBound)") outputs, got \(outputs.count)") }
        for i in 0..<min where inputs[i].isEmpty { throw fail("input \(i) is required but empty") }
    }

    /// True when the node has input `i` (present and not empty).
    func hasInput(_ i: Int) -> Bool { i < inputs.count && !inputs[i].isEmpty }

    func has(_ attribute: String) -> Bool { attributes[attribute] != nil }

    /// An INT attribute, or `defaultValue`.
    func int(_ key: String, _ defaultValue: Int? = nil, range: ClosedRange<Int>? = nil) throws -> Int {
        guard let a = attributes[key] else {
            if let defaultValue { return defaultValue }
            throw fail("the attribute '\(key)' is required")
        }
        guard a.type == .int || (a.type == .undefined && a.ints.isEmpty) else { throw fail("attribute '\(key)' must be an INT, got \(a.type)") }
        let r = range ?? (-(1 << 40)...(1 << 40))
        guard r.contains(Int(clamping: a.i)) else {
            throw fail("attribute '\(key)' = \(a.i) is out of range \(range.map { "\($0.lowerBound)...\($0.upperBound)" } ?? "")")
        }
        return Int(a.i)
    }

    /// A FLOAT attribute, or `defaultValue`.
    func float(_ key: String, _ defaultValue: Float? = nil) throws -> Float {
        guard let a = attributes[key] else {
            if let defaultValue { return defaultValue }
            throw fail("the attribute '\(key)' is required")
        }
        guard a.type == .float || a.type == .undefined else { throw fail("attribute '\(key)' must be a FLOAT, got \(a.type)") }
        guard a.f.isFinite else { throw fail("attribute '\(key)' = \(a.f) is not finite") }
        return a.f
    }

    /// A STRING attribute, or `defaultValue`.
    func string(_ key: String, _ defaultValue: String) throws -> String {
        guard let a = attributes[key] else { return defaultValue }
        guard a.type == .string || a.type == .undefined else { throw fail("attribute '\(key)' must be a STRING, got \(a.type)") }
        guard let s = String(bytes: a.s, encoding: .utf8), s.count <= 64 else { throw fail("attribute '\(key)' is not a short UTF-8 string") }
        return s
    }

    /// An INTS attribute, or nil when absent; each entry within `range`, at most `maxListLength` of them.
    func ints(_ key: String, count: Int? = nil, range: ClosedRange<Int> = -(1 << 40)...(1 << 40)) throws -> [Int]? {
        guard let a = attributes[key] else { return nil }
        guard a.type == .ints || (a.type == .undefined && !a.ints.isEmpty) else { throw fail("attribute '\(key)' must be INTS, got \(a.type)") }
        guard a.ints.count <= ONNXNode.maxListLength else { throw fail("attribute '\(key)' has \(a.ints.count) entries") }
        if let count, a.ints.count != count { throw fail("attribute '\(key)' = \(a.ints) needs \(count) entries") }
        if let bad = a.ints.first(where: { !range.contains(Int(clamping: $0)) }) {
            throw fail("attribute '\(key)' = \(a.ints) has \(bad), outside \(range.lowerBound)...\(range.upperBound)")
        }
        return a.ints.map { Int($0) }
    }

    /// A TENSOR attribute (Constant's `value`).
    func tensor(_ key: String) throws -> Onnx_TensorProto? {
        guard let a = attributes[key] else { return nil }
        guard a.type == .tensor || (a.type == .undefined && a.hasT) else { throw fail("attribute '\(key)' must be a TENSOR, got \(a.type)") }
        return a.t
    }

    /// The load-time constant feeding input `i` as integers (a shape, axes, sizes), or nil when the input is omitted.
    func constantIntegers(_ i: Int) throws -> [Int]? {
        guard hasInput(i) else { return nil }
        guard let t = constants[inputs[i]] else { throw fail("input \(i) ('\(inputs[i])') must be a constant (an initializer or Constant), Fovea does not compute it at run time") }
        let values = try ONNXTensorConversion.integers(t).values
        guard values.count <= ONNXNode.maxListLength else { throw fail("constant input '\(inputs[i])' has \(values.count) entries") }
        return values.map { Int(clamping: $0) }
    }

    /// The load-time constant feeding input `i` as one float, or nil when omitted.
    func constantScalar(_ i: Int) throws -> Float? {
        guard hasInput(i) else { return nil }
        guard let t = constants[inputs[i]] else { throw fail("input \(i) ('\(inputs[i])') must be a constant, Fovea does not compute it at run time") }
        let v = try ONNXTensorConversion.floatTensor(t)
        guard v.count == 1 else { throw fail("input '\(inputs[i])' must hold one value, got shape \(describe(v.shape))") }
        return v.pointer[0]
    }

    /// A normalised axis for a tensor of `rank`.
    func axis(_ a: Int, rank: Int) throws -> Int {
        guard a >= -rank, a < rank else { throw ONNXError.executionFailed(node: name, opType: opType, "axis \(a) is out of range for rank \(rank)") }
        return a < 0 ? a + rank : a
    }
}
