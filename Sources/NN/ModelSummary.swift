import Foundation
import TensorCore

/// A Keras-style summary of a model for one input size: every layer that runs (in the order
/// it runs) with its output shape, parameters and multiply-accumulates, then the totals.
///
/// Built from the graph of one image's forward pass (`[1, C, H, W]`, evaluation mode, no
/// gradient tape; `ModelGraph`, the graph the ONNX exporter and `compiled()` use), so
/// branches, residual adds and concatenations are covered as they execute. Rows are the
/// calls of leaf layers (layers without children): the graph's nodes grouped by the layer
/// call that made them; a layer called twice gets two rows, its parameters counted on the
/// first. Layers that do not run in evaluation mode (auxiliary classifiers), or that record
/// no op (an identity), have no row but their parameters are in the totals. A forward the
/// graph cannot capture is tabulated from a `LayerTrace` of the same pass instead.
///
/// Conventions, as in the published figures:
/// - parameters are trainable tensors (`torch.nn.Module.parameters()`); running statistics are
///   buffers, counted apart; "non-trainable" are parameters frozen with `requiresGrad = false`;
/// - MACs count convolutions and dense layers only (`Layer.multiplyAccumulates`);
/// - activations per image are counted the way seed 003 counts VGG-16's memory: the input and
///   the output of every layer that has weights or changes the shape (convolutions, dense,
///   batch norm, pooling), leaving out element-wise activations, dropout and flattening,
///   which can work in place. `everyOutputValues` counts every layer's output as well.
public struct ModelSummary: Sendable {
    public struct Row: Sendable, Equatable {
        /// Dotted name, as in the state dict (`layer1.0.conv1`).
        public let name: String
        /// The layer's type (`Conv2D`).
        public let type: String
        /// Output shape without the batch axis.
        public let outputShape: [Int]
        public let parameters: Int
        public let multiplyAccumulates: Int

        public init(name: String, type: String, outputShape: [Int], parameters: Int, multiplyAccumulates: Int) {
            self.name = name; self.type = type; self.outputShape = outputShape
            self.parameters = parameters; self.multiplyAccumulates = multiplyAccumulates
        }
    }

    /// The input shape without the batch axis (`[C, H, W]`).
    public let inputShape: [Int]
    /// The model's output shape without the batch axis.
    public let outputShape: [Int]
    public let rows: [Row]
    public let totalParameters: Int
    public let trainableParameters: Int
    public let nonTrainableParameters: Int
    /// Values in buffers (batch-norm running statistics).
    public let bufferValues: Int
    public let multiplyAccumulates: Int
    /// Activations per image, counted as seed 003 does (see the type's notes).
    public let activationValues: Int
    /// The input plus every layer's output per image.
    public let everyOutputValues: Int

    /// Bytes of the parameters as float32.
    public var parameterBytes: Int { totalParameters * 4 }
    /// Bytes of the activations per image (float32), as seed 003 counts them.
    public var activationBytes: Int { activationValues * 4 }

    /// Runs one zero image of shape `input` (`[C, H, W]`) through `model` and tabulates it.
    /// The model's training mode is restored afterwards; its weights are not changed.
    public init(model: Layer, input: [Int]) throws {
        guard !input.isEmpty, input.allSatisfy({ $0 > 0 }) else {
            throw LayerError.invalidConfiguration("summary input shape must be positive sizes, got \(describe(input))")
        }
        let wasTraining = model.isTraining
        model.eval()
        defer { model.train(wasTraining) }
        let x = Tensor(zeros: [1] + input)
        let names = model.dottedNames()
        let output: Tensor, calls: [LeafCall]
        let (graph, _, capturedOutput) = try withNoGrad { try ModelGraph.capture(model, input: x) }
        if let graph {
            output = capturedOutput
            calls = Self.leafCalls(of: graph, in: model, names: names)
        } else {
            let (traced, trace) = try withNoGrad { try LayerTrace.record { try model(x) } }
            output = traced
            calls = trace.filter { $0.layer.children.isEmpty }
                .map { LeafCall(layer: $0.layer, inputShape: $0.inputShape, outputShape: $0.outputShape) }
        }

        var seen = Set<ObjectIdentifier>()
        var rows: [Row] = []
        var macs = 0, activations = input.reduce(1, *), every = activations
        for call in calls {
            let id = ObjectIdentifier(call.layer)
            let own = seen.insert(id).inserted ? call.layer.parameterSlots.reduce(0) { $0 + $1.tensor.count } : 0
            let mac = call.layer.multiplyAccumulates(inputShape: call.inputShape, outputShape: call.outputShape)
            let outValues = call.outputShape.reduce(1, *)
            macs += mac
            every += outValues
            let hasWeights = !call.layer.parameterSlots.isEmpty
            if !(call.layer is Flatten) && (hasWeights || call.outputShape != call.inputShape) { activations += outValues }
            let name = names[id].map { $0.isEmpty ? "(model)" : $0 } ?? "(unnamed)"
            rows.append(Row(name: name, type: call.layer.typeName, outputShape: Array(call.outputShape.dropFirst()),
                            parameters: own, multiplyAccumulates: mac))
        }
        let params = model.parameters
        inputShape = input
        outputShape = Array(output.shape.dropFirst())
        self.rows = rows
        totalParameters = params.reduce(0) { $0 + $1.count }
        trainableParameters = params.filter(\.requiresGrad).reduce(0) { $0 + $1.count }
        nonTrainableParameters = totalParameters - trainableParameters
        bufferValues = model.stateDict().reduce(0) { $0 + $1.tensor.count } - totalParameters
        multiplyAccumulates = macs
        activationValues = activations
        everyOutputValues = every
    }

    /// One call of a leaf layer: the layer and the shapes it took and gave.
    struct LeafCall {
        let layer: Layer
        let inputShape: [Int]
        var outputShape: [Int]
    }

    /// The calls of leaf layers in `graph`, in the order they ran: the live nodes made by one
    /// call of a layer without children, with the shape of the first graph value the call
    /// read and of the last node it made.
    static func leafCalls(of graph: ModelGraph, in model: Layer, names: [ObjectIdentifier: String]) -> [LeafCall] {
        var layers: [String: Layer] = [:]
        for layer in model.allLayers {
            if let name = names[ObjectIdentifier(layer)], layers[name] == nil { layers[name] = layer }
        }
        let live = graph.liveNodes
        var calls: [LeafCall] = [], position: [Int: Int] = [:]
        for (i, node) in graph.nodes.enumerated() where live[i] {
            guard let layer = layers[node.scope], layer.children.isEmpty else { continue }
            if let k = position[node.call] { calls[k].outputShape = node.shape; continue }
            var inputShape = node.shape
            for case .value(let v) in node.operands { inputShape = graph.shape(of: v); break }
            position[node.call] = calls.count
            calls.append(LeafCall(layer: layer, inputShape: inputShape, outputShape: node.shape))
        }
        return calls
    }

    /// The table, Keras style, with totals underneath.
    public func table(title: String? = nil) -> String {
        let nameWidth = min(60, max(20, rows.map { $0.name.count + $0.type.count + 3 }.max() ?? 20))
        let columns = [16, 14, 16]
        let width = nameWidth + columns.reduce(0, +) + 3
        func pad(_ s: String, _ w: Int, right: Bool = false) -> String {
            let t = s.count > w ? String(s.prefix(w - 1)) + "…" : s
            let fill = String(repeating: " ", count: max(0, w - t.count))
            return right ? fill + t : t + fill
        }
        var lines: [String] = []
        if let title { lines.append(title) }
        lines.append(pad("Layer (type)", nameWidth) + " " + pad("Output shape", columns[0]) + " "
                     + pad("Param #", columns[1], right: true) + " " + pad("MACs", columns[2], right: true))
        lines.append(String(repeating: "=", count: width))
        for r in rows {
            lines.append(pad("\(r.name) (\(r.type))", nameWidth) + " " + pad(shapeText(r.outputShape), columns[0]) + " "
                         + pad(grouped(r.parameters), columns[1], right: true) + " "
                         + pad(grouped(r.multiplyAccumulates), columns[2], right: true))
        }
        lines.append(String(repeating: "=", count: width))
        lines.append("Input: \(shapeText(inputShape)); output: \(shapeText(outputShape))")
        lines.append("Total params: \(grouped(totalParameters))")
        lines.append("Trainable params: \(grouped(trainableParameters))")
        lines.append("Non-trainable params: \(grouped(nonTrainableParameters))")
        if bufferValues > 0 { lines.append("Buffers (running statistics): \(grouped(bufferValues))") }
        lines.append("Total MACs: \(grouped(multiplyAccumulates)) (\(scaled(Double(multiplyAccumulates), units: ["", "K", "M", "G", "T"])))")
        lines.append("Parameter memory: \(megabytes(parameterBytes)) (float32)")
        lines.append("Activations per image: \(grouped(activationValues)) values, \(megabytes(activationBytes)) (input and outputs of weight, normalisation and pooling layers)")
        lines.append("Every layer output per image: \(grouped(everyOutputValues)) values, \(megabytes(everyOutputValues * 4))")
        return lines.joined(separator: "\n")
    }
}

/// `1,234,567`.
func grouped(_ n: Int) -> String {
    let digits = String(Swift.abs(n))
    var out = ""
    for (i, ch) in digits.enumerated() {
        if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
        out.append(ch)
    }
    return n < 0 ? "-" + out : out
}

/// `64x112x112`.
func shapeText(_ shape: [Int]) -> String { shape.isEmpty ? "scalar" : shape.map(String.init).joined(separator: "x") }

/// `1.81 G`.
func scaled(_ value: Double, units: [String]) -> String {
    var v = value, i = 0
    while v >= 1000 && i < units.count - 1 { v /= 1000; i += 1 }
    return String(format: "%.2f %@", v, units[i]).trimmingCharacters(in: .whitespaces)
}

/// `96.00 MB` (10^6 bytes).
func megabytes(_ bytes: Int) -> String { String(format: "%.2f MB", Double(bytes) / 1e6) }
