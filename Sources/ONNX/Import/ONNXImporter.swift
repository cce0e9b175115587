import Foundation
import SwiftProtobuf
import TensorCore
import NN

/// Reads ONNX files into `ONNXGraphModel`s.
///
/// Loading parses protobuf data and nothing else: no code in the file is run, no other file
/// (external tensor data) is opened. Every count, size and name read from the file is checked
/// before use (tensor data against its dimensions, at most 2^31 elements a tensor, every node
/// input defined, no cycles, no value defined twice), so a corrupt, truncated or hostile file
/// gives an `ONNXError` naming the file, node or tensor, never a crash.
public enum ONNXImporter {
    /// The default-domain operator set versions Fovea reads.
    public static let supportedOpsets: ClosedRange<Int64> = 7...21
    /// The most nodes, initializers or graph inputs/outputs a file may have.
    public static let maxEntries = 1 << 20

    /// Reads and checks the ONNX file at `url`.
    public static func load(contentsOf url: URL) throws -> ONNXGraphModel {
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            throw ONNXError.malformedFile(path: url.path, reason: "cannot read it (\(error.localizedDescription))")
        }
        return try load(data: data, source: url.path)
    }

    /// Parses ONNX bytes; `source` names them in errors.
    public static func load(data: Data, source: String = "ONNX data") throws -> ONNXGraphModel {
        let proto: Onnx_ModelProto
        do {
            proto = try Onnx_ModelProto(serializedBytes: data)
        } catch {
            throw ONNXError.malformedFile(path: source, reason: "protobuf decoding failed after \(data.count) bytes (\(error)); the file is truncated, corrupt or not ONNX")
        }
        do {
            return try model(proto)
        } catch let error as ONNXError {
            if case .malformedFile = error { throw error }
            throw ONNXError.malformedFile(path: source, reason: error.description)
        }
    }

    /// Builds the runnable model of a decoded `ModelProto`.
    public static func model(_ proto: Onnx_ModelProto) throws -> ONNXGraphModel {
        guard proto.hasGraph else { throw ONNXError.invalidModel("the file has no graph") }
        let opset = try defaultOpset(proto)
        let graph = proto.graph
        for (what, count) in [("nodes", graph.node.count), ("initializers", graph.initializer.count),
                              ("inputs", graph.input.count), ("outputs", graph.output.count)] where count > maxEntries {
            throw ONNXError.invalidModel("the graph has \(count) \(what), more than the \(maxEntries) Fovea reads")
        }

        // Initializers: unique names, data that fits the dimensions.
        var initializers: [String: Onnx_TensorProto] = [:]
        var initializerOrder: [String] = []
        for t in graph.initializer {
            guard !t.name.isEmpty else { throw ONNXError.invalidModel("an initializer has no name") }
            guard initializers[t.name] == nil else { throw ONNXError.invalidModel("initializer '\(t.name)' is defined twice") }
            _ = try ONNXTensorConversion.elementCount(t.dims, name: t.name)
            initializers[t.name] = t
            initializerOrder.append(t.name)
        }

        // The one runtime input (graph inputs that are not initializers).
        let runtimeInputs = graph.input.filter { initializers[$0.name] == nil }
        guard runtimeInputs.count == 1, !runtimeInputs[0].name.isEmpty else {
            throw ONNXError.invalidModel("Fovea imports graphs with one input; this one has \(runtimeInputs.count): \(runtimeInputs.map { "'\($0.name)'" }.joined(separator: ", "))")
        }
        let input = runtimeInputs[0]
        let inputShape = try declaredShape(input)

        // Every value has one producer: the input, an initializer or one node output.
        var producer: [String: Int] = [:]   // value -> node index
        var defined = Set(initializers.keys).union([input.name])
        for (i, node) in graph.node.enumerated() {
            let label = node.name.isEmpty ? "\(node.opType)#\(i)" : node.name
            guard !node.output.isEmpty, node.output.count <= 64 else {
                throw ONNXError.invalidModel("node '\(label)' (\(node.opType)) has \(node.output.count) outputs")
            }
            guard node.input.count <= 1 << 16 else { throw ONNXError.invalidModel("node '\(label)' has \(node.input.count) inputs") }
            for out in node.output where !out.isEmpty {
                guard defined.insert(out).inserted else {
                    throw ONNXError.invalidModel("value '\(out)' written by node '\(label)' (\(node.opType)) is already defined \(producer[out].map { "by node #\($0)" } ?? "as a graph input or initializer")")
                }
                producer[out] = i
            }
        }
        for (i, node) in graph.node.enumerated() {
            for name in node.input where !name.isEmpty && !defined.contains(name) {
                throw ONNXError.invalidModel("node '\(node.name.isEmpty ? "\(node.opType)#\(i)" : node.name)' (\(node.opType)) reads '\(name)', which no node, initializer or graph input defines")
            }
        }
        let order = try topologicalOrder(graph.node, producer: producer)
        guard !graph.output.isEmpty else { throw ONNXError.invalidModel("the graph has no outputs") }
        for out in graph.output where !defined.contains(out.name) {
            throw ONNXError.invalidModel("graph output '\(out.name)' is not computed by any node")
        }

        // Constants, then the operators in execution order.
        var constants = initializers
        var constantTensors: [String: Tensor] = [:]
        var operators: [ONNXOperator] = []
        var settingUses: [String: Int] = [:], dataUses: [String: Int] = [:], statisticUses: [String: Int] = [:]
        for i in order {
            let node = try ONNXNode(graph.node[i], index: i, opset: opset, constants: constants)
            let domain = graph.node[i].domain
            guard domain.isEmpty || domain == "ai.onnx" else {
                throw ONNXError.unsupportedOperator(opType: node.opType, node: node.name, domain: domain)
            }
            if node.opType == "Constant" {
                let value = try constantValue(node)
                constants[node.outputs[0]] = value
                if ONNXTensorConversion.isFloating(value) { constantTensors[node.outputs[0]] = try ONNXTensorConversion.floatTensor(value) }
                continue
            }
            let settings = ONNXOperatorFactory.settingInputs(node.opType)
            for (position, name) in node.inputs.enumerated() where initializers[name] != nil {
                if settings.contains(position) { settingUses[name, default: 0] += 1 }
                else if node.opType == "BatchNormalization" && position >= 3 { statisticUses[name, default: 0] += 1 }
                else { dataUses[name, default: 0] += 1 }
            }
            operators.append(try ONNXOperatorFactory.make(node))
        }

        // Float initializers read as data are parameters, batch-norm statistics buffers;
        // integer ones (shapes) and settings are used at load time only.
        var parameters: [(name: String, tensor: Tensor)] = [], buffers: [(name: String, tensor: Tensor)] = []
        for name in initializerOrder {
            let t = initializers[name]!
            let isData = dataUses[name] != nil, isStatistic = statisticUses[name] != nil
            guard isData || isStatistic else { continue }
            guard ONNXTensorConversion.isFloating(t) else {
                throw ONNXError.invalidTensor(name: name, "element type \(ONNXTensorConversion.typeName(t.dataType)) feeds a node as data; Fovea computes in FLOAT")
            }
            let tensor = try ONNXTensorConversion.floatTensor(t)
            if isData {
                tensor.requiresGrad = true
                parameters.append((name, tensor))
            } else {
                buffers.append((name, tensor))
            }
        }
        let producerText = [proto.producerName, proto.producerVersion].filter { !$0.isEmpty }.joined(separator: " ")
        return ONNXGraphModel(inputName: input.name, inputShape: inputShape, outputNames: graph.output.map(\.name),
                              opset: opset, producer: producerText, operators: operators,
                              parameters: parameters, buffers: buffers, constants: constantTensors)
    }

    /// The version of the default operator set, checked against `supportedOpsets`.
    static func defaultOpset(_ proto: Onnx_ModelProto) throws -> Int64 {
        guard let entry = proto.opsetImport.first(where: { $0.domain.isEmpty || $0.domain == "ai.onnx" }) else {
            throw ONNXError.invalidModel("the file imports no ai.onnx operator set (opset_import: \(proto.opsetImport.map { "\($0.domain):\($0.version)" }))")
        }
        guard supportedOpsets.contains(entry.version) else { throw ONNXError.unsupportedOpset(domain: entry.domain, version: entry.version) }
        return entry.version
    }

    /// The declared sizes of a FLOAT graph input (nil for symbolic or missing ones).
    static func declaredShape(_ input: Onnx_ValueInfoProto) throws -> [Int?] {
        guard input.hasType, case .tensorType(let tensorType)? = input.type.value else { return [] }
        if tensorType.elemType != 0 && tensorType.elemType != Int32(Onnx_TensorProto.DataType.float.rawValue) {
            throw ONNXError.invalidModel("graph input '\(input.name)' has element type \(ONNXTensorConversion.typeName(tensorType.elemType)); Fovea feeds FLOAT")
        }
        guard tensorType.hasShape else { return [] }
        guard tensorType.shape.dim.count <= 16 else { throw ONNXError.invalidModel("graph input '\(input.name)' has \(tensorType.shape.dim.count) dimensions") }
        return try tensorType.shape.dim.map { d in
            guard case .dimValue(let v)? = d.value else { return nil }
            guard v >= 0, v <= Int64(ONNXTensorConversion.maxElements) else {
                throw ONNXError.invalidModel("graph input '\(input.name)' declares size \(v)")
            }
            return Int(v)
        }
    }

    /// Kahn's algorithm over the node graph; throws naming a node on a cycle.
    static func topologicalOrder(_ nodes: [Onnx_NodeProto], producer: [String: Int]) throws -> [Int] {
        var pending = [Int](repeating: 0, count: nodes.count)
        var consumers = [[Int]](repeating: [], count: nodes.count)
        for (i, node) in nodes.enumerated() {
            let sources = Set(node.input.compactMap { producer[$0] })
            pending[i] = sources.count
            for s in sources { consumers[s].append(i) }
        }
        var ready = (0..<nodes.count).filter { pending[$0] == 0 }.reversed() as [Int]
        var order: [Int] = []
        order.reserveCapacity(nodes.count)
        while let i = ready.popLast() {
            order.append(i)
            for c in consumers[i].reversed() {
                pending[c] -= 1
                if pending[c] == 0 { ready.append(c) }
            }
        }
        if order.count < nodes.count, let stuck = (0..<nodes.count).first(where: { pending[$0] > 0 }) {
            let n = nodes[stuck]
            throw ONNXError.invalidModel("the graph has a cycle through node '\(n.name.isEmpty ? "\(n.opType)#\(stuck)" : n.name)' (\(n.opType))")
        }
        return order
    }

    /// The tensor a `Constant` node holds (`value`, `value_float(s)`, `value_int(s)`).
    static func constantValue(_ node: ONNXNode) throws -> Onnx_TensorProto {
        try node.expectInputs(0, 0)
        try node.allowAttributes(["value", "value_float", "value_floats", "value_int", "value_ints"])
        var t: Onnx_TensorProto
        if let value = try node.tensor("value") {
            t = value
        } else if node.has("value_float") {
            t = Onnx_TensorProto(); t.dataType = 1; t.floatData = [try node.float("value_float")]
        } else if let floats = node.attributes["value_floats"]?.floats {
            t = Onnx_TensorProto(); t.dataType = 1; t.dims = [Int64(floats.count)]; t.floatData = floats
        } else if node.has("value_int") {
            t = Onnx_TensorProto(); t.dataType = 7; t.int64Data = [Int64(try node.int("value_int"))]
        } else if let ints = try node.ints("value_ints") {
            t = Onnx_TensorProto(); t.dataType = 7; t.dims = [Int64(ints.count)]; t.int64Data = ints.map(Int64.init)
        } else {
            throw node.fail("a Constant needs a value attribute")
        }
        t.name = node.outputs[0]
        _ = try ONNXTensorConversion.elementCount(t.dims, name: t.name)
        if ONNXTensorConversion.isFloating(t) { _ = try ONNXTensorConversion.floatTensor(t) }
        else { _ = try ONNXTensorConversion.integers(t) }
        return t
    }
}
