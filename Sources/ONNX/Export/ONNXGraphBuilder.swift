import Foundation
import TensorCore
import NN

/// A value flowing through the graph being exported: its ONNX name and a sample of it, the
/// result of running the model on the export's example input, so every step knows the shapes.
public struct ONNXValue {
    /// The ONNX value name.
    public let name: String
    /// The value for the example input (batch 1), `[N, ...]`.
    public let sample: Tensor
    /// `sample.shape`.
    public var shape: [Int] { sample.shape }

    public init(name: String, sample: Tensor) {
        self.name = name
        self.sample = sample
    }
}

/// Collects the nodes and initializers of a graph while a model exports itself layer by layer.
///
/// Initializers take the model's state-dict names (`features.0.weight`, `bn1.running_mean`);
/// nodes are named after the layer that emits them (`layer1.0.conv1/Conv`), with a counter
/// where a name repeats. Each `emit` helper also computes the sample of its output with the
/// Fovea op it stands for, so the graph and the samples move together.
public final class ONNXGraphBuilder {
    /// The nodes so far, in topological order.
    public private(set) var nodes: [Onnx_NodeProto] = []
    /// The initializers so far.
    public private(set) var initializers: [Onnx_TensorProto] = []
    /// The dotted state-dict name of every layer of the model being exported.
    let layerNames: [ObjectIdentifier: String]
    private var initializerNames: Set<String> = []
    private var usedNames: Set<String> = []

    /// A builder for `model`, whose layers get their state-dict names.
    public init(model: Layer) {
        layerNames = model.dottedNames()
    }

    /// The dotted name of `layer` in the exported model (`""` for the model itself).
    public func name(of layer: Layer) -> String { layerNames[ObjectIdentifier(layer)] ?? "" }

    private func unique(_ base: String) -> String {
        var candidate = base, n = 1
        while usedNames.contains(candidate) { candidate = "\(base)_\(n)"; n += 1 }
        usedNames.insert(candidate)
        return candidate
    }

    /// Adds the parameter or buffer `slot` of `layer` (`weight`, `running_var`) as an
    /// initializer named by the state dict, once however often it is used; returns the name.
    public func stateTensor(_ tensor: Tensor, of layer: Layer, slot: String) -> String {
        let prefix = name(of: layer)
        return initializer(tensor, name: prefix.isEmpty ? slot : prefix + "." + slot)
    }

    /// Adds a float initializer named `name` unless it exists; returns the name.
    @discardableResult
    public func initializer(_ tensor: Tensor, name: String) -> String {
        if initializerNames.insert(name).inserted {
            usedNames.insert(name)
            initializers.append(ONNXTensorConversion.proto(tensor, name: name))
        }
        return name
    }

    /// Adds an int64 constant (a shape, split sizes) as an initializer named after `hint`.
    public func int64Constant(_ values: [Int], hint: String) -> String {
        let name = unique(hint)
        initializerNames.insert(name)
        initializers.append(ONNXTensorConversion.proto(int64s: values.map(Int64.init), name: name))
        return name
    }

    /// Adds a float constant that is not a parameter (a pooling matrix, a clip bound) as a
    /// `Constant` node, so an importer does not train it; returns its output name.
    public func floatConstant(_ tensor: Tensor, hint: String) -> String {
        var attribute = Onnx_AttributeProto()
        attribute.name = "value"
        attribute.type = .tensor
        attribute.t = ONNXTensorConversion.proto(tensor, name: hint)
        return node("Constant", inputs: [], attributes: [attribute], scope: hint, outputs: 1)[0]
    }

    /// Appends a node of `opType`, named `scope/opType`, and returns its output names.
    @discardableResult
    public func node(_ opType: String, inputs: [String], attributes: [Onnx_AttributeProto] = [],
                     scope: String, outputs: Int = 1) -> [String] {
        var n = Onnx_NodeProto()
        n.opType = opType
        n.name = unique(scope.isEmpty ? opType : scope + "/" + opType)
        n.input = inputs
        n.output = (0..<outputs).map { unique(n.name + "_output_\($0)") }
        n.attribute = attributes
        nodes.append(n)
        return n.output
    }

    /// Appends a one-output node and pairs its name with `sample`, the output Fovea computed.
    public func emit(_ opType: String, inputs: [String], attributes: [Onnx_AttributeProto] = [],
                     scope: String, sample: Tensor) -> ONNXValue {
        ONNXValue(name: node(opType, inputs: inputs, attributes: attributes, scope: scope)[0], sample: sample)
    }

    /// Exports `layer` applied to `input`, through its `ONNXExportable` conformance.
    public func call(_ layer: Layer, _ input: ONNXValue) throws -> ONNXValue {
        guard let exportable = layer as? ONNXExportable else {
            throw ONNXError.unsupportedLayer(type: layer.typeName, name: name(of: layer),
                                             "it has no ONNX export (conform it to ONNXExportable)")
        }
        let out = try exportable.exportONNX(input, to: self)
        return out
    }

    /// Exports the child named `child` of `layer` applied to `input`.
    public func call(_ layer: Layer, child: String, _ input: ONNXValue) throws -> ONNXValue {
        try call(layer.child(child), input)
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

extension Layer {
    /// The direct child named `name`; throws naming the layer type when there is none (a model
    /// whose layout changed under its exporter).
    public func child(_ name: String) throws -> Layer {
        guard let c = children.first(where: { $0.name == name }) else {
            throw ONNXError.unsupportedLayer(type: typeName, name: "", "it has no child named '\(name)' (children: \(children.map(\.name).joined(separator: ", ")))")
        }
        return c.layer
    }
}
