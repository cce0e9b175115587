import Foundation
import TensorCore
import NN

/// Collects the nodes and initializers of the ONNX graph the exporter writes from a captured
/// `ModelGraph`.
///
/// Parameters and buffers become initializers under their state-dict names (`features.0.weight`,
/// `bn1.running_mean`), found by identity, once however often they are used. Other float
/// tensors (a constant the forward built, a pooling matrix, a scalar of `x * 2`) become
/// `Constant` nodes, so that an importer does not take them for trainable weights; integer
/// arguments (shapes, slice bounds) are int64 initializers with generated names. Nodes are
/// named after the scope that made them (`layer1.0.conv1/Conv`), with a counter where a
/// name repeats.
final class ONNXGraphBuilder {
    /// The nodes so far, in topological order.
    private(set) var nodes: [Onnx_NodeProto] = []
    /// The initializers so far.
    private(set) var initializers: [Onnx_TensorProto] = []
    /// The state-dict name of every parameter and buffer of the model, by identity.
    private let stateNames: [ObjectIdentifier: String]
    /// The ONNX name of each float constant already written, by identity.
    private var constantNames: [ObjectIdentifier: String] = [:]
    /// Tensors written as constants, kept alive so that their identifiers stay unique.
    private var keptConstants: [Tensor] = []
    private var usedNames: Set<String> = []

    /// A builder for `model`, whose parameters and buffers get their state-dict names.
    init(model: Layer) {
        var names: [ObjectIdentifier: String] = [:]
        for (name, tensor) in model.stateDict() where names[ObjectIdentifier(tensor)] == nil {
            names[ObjectIdentifier(tensor)] = name
        }
        stateNames = names
        usedNames = Set(names.values)
    }

    /// `base`, or `base_1`, `base_2`... if it is taken; the name is then taken.
    func unique(_ base: String) -> String {
        var candidate = base, n = 1
        while usedNames.contains(candidate) { candidate = "\(base)_\(n)"; n += 1 }
        usedNames.insert(candidate)
        return candidate
    }

    /// The ONNX name of a tensor from outside the graph: its state-dict name as an initializer
    /// for a parameter or buffer, otherwise a `Constant` node named after `scope`.
    func constant(_ tensor: Tensor, scope: String) -> String {
        let id = ObjectIdentifier(tensor)
        if let name = constantNames[id] { return name }
        let name: String
        if let stateName = stateNames[id] {
            initializers.append(ONNXTensorConversion.proto(tensor, name: stateName))
            name = stateName
        } else {
            name = floatConstant(tensor, scope: scope)
        }
        constantNames[id] = name
        keptConstants.append(tensor)
        return name
    }

    /// A float value that is not a parameter (a clip bound, a pooling matrix) as a `Constant`
    /// node; returns its output name.
    func floatConstant(_ tensor: Tensor, scope: String) -> String {
        var attribute = Onnx_AttributeProto()
        attribute.name = "value"
        attribute.type = .tensor
        attribute.t = ONNXTensorConversion.proto(tensor, name: "")
        return node("Constant", inputs: [], attributes: [attribute], scope: scope)
    }

    /// A scalar float `Constant`.
    func scalar(_ value: Float, scope: String) -> String {
        floatConstant(Tensor(scalar: value), scope: scope)
    }

    /// An int64 argument (a shape, slice bounds) as an initializer named after `hint`.
    func int64s(_ values: [Int], scope: String, hint: String) -> String {
        let name = unique(scope.isEmpty ? hint : scope + "/" + hint)
        initializers.append(ONNXTensorConversion.proto(int64s: values.map(Int64.init), name: name))
        return name
    }

    /// Appends a one-output node of `opType`, named `scope/opType`, and returns its output name.
    @discardableResult
    func node(_ opType: String, inputs: [String], attributes: [Onnx_AttributeProto] = [], scope: String) -> String {
        var n = Onnx_NodeProto()
        n.opType = opType
        n.name = unique(scope.isEmpty ? opType : scope + "/" + opType)
        n.input = inputs
        n.output = [unique(n.name + "_output_0")]
        n.attribute = attributes
        nodes.append(n)
        return n.output[0]
    }

    /// Appends a node built by hand.
    func append(_ node: Onnx_NodeProto) { nodes.append(node) }

    /// Renames the output of the last node to `name` (the graph output), when `value` is what
    /// it writes; returns whether it did. Only a later node could read the last node's output.
    func renameLastOutput(_ value: String, to name: String) -> Bool {
        guard let last = nodes.indices.last, nodes[last].output == [value] else { return false }
        nodes[last].output = [name]
        return true
    }
}

/// Attribute constructors.
extension Onnx_AttributeProto {
    /// An INT attribute.
    public static func int(_ name: String, _ value: Int) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto(); a.name = name; a.type = .int; a.i = Int64(value); return a
    }
    /// An INTS attribute.
    public static func ints(_ name: String, _ values: [Int]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto(); a.name = name; a.type = .ints; a.ints = values.map(Int64.init); return a
    }
    /// A FLOAT attribute.
    public static func float(_ name: String, _ value: Float) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto(); a.name = name; a.type = .float; a.f = value; return a
    }
}
