import TensorCore

/// The graph of one forward pass of a model, captured on a real input: what `compiled()`
/// fuses and plans, what the ONNX exporter writes and what a summary lists.
///
/// Values are numbered as in `GraphRecorder`: 0 is the input, `i + 1` the output of node
/// `i`. Nodes are in the order the forward made them, so every operand comes before its use.
public struct ModelGraph {
    public typealias Node = GraphRecorder.Node
    public typealias Operand = GraphRecorder.Operand

    /// The input's shape (batch included).
    public let inputShape: [Int]
    public let nodes: [Node]
    /// The value the forward returned.
    public let output: Int
    /// Values a model leaves beside its output (the auxiliary heads' logits of GoogLeNet and
    /// Inception v3 while training), in order.
    public let auxiliaryOutputs: [Int]
    /// Whether the model was in training mode.
    public let training: Bool

    /// Runs `model` on `input` once, eagerly, recording its calls. Returns the graph (nil
    /// with the reason when the forward calls something a graph cannot replay) and the
    /// forward's output, which is the eager result.
    public static func capture(_ model: Layer, input: Tensor) throws -> (graph: ModelGraph?, failure: String?, output: Tensor) {
        let recorder = GraphRecorder(input: input)
        recorder.scopeNames = model.dottedNames()
        let output = try recorder.capture { try model(input) }
        let aux = (model as? AuxiliaryClassifiers)?.auxiliaryLogits ?? []
        let outputValue = recorder.value(of: output)
        let auxValues = aux.map { recorder.value(of: $0) }
        if let failure = recorder.failure { return (nil, failure, output) }
        guard let outputValue, !auxValues.contains(nil) else {
            return (nil, "the forward pass returns a tensor that no recorded op made (a constant); run the model eagerly", output)
        }
        let graph = ModelGraph(inputShape: input.shape, nodes: recorder.nodes, output: outputValue,
                               auxiliaryOutputs: auxValues.map { $0! }, training: model.isTraining)
        return (graph, nil, output)
    }

    /// The shape of value `v`.
    public func shape(of v: Int) -> [Int] { v == 0 ? inputShape : nodes[v - 1].shape }

    /// How many operands of nodes (and graph outputs) use each value.
    public var useCounts: [Int] {
        var uses = [Int](repeating: 0, count: nodes.count + 1)
        for node in nodes {
            for case .value(let v) in node.operands { uses[v] += 1 }
        }
        for v in [output] + auxiliaryOutputs { uses[v] += 1 }
        return uses
    }

    /// The nodes whose results reach an output or that change state as they run (module
    /// nodes: batch norm's statistics, dropout's generator); the rest (the inner steps of
    /// a composite op, results thrown away) need not run.
    public var liveNodes: [Bool] {
        var live = [Bool](repeating: false, count: nodes.count)
        var needed = Set([output] + auxiliaryOutputs)
        for i in nodes.indices.reversed() {
            let isModule = if case .module = nodes[i].operation { true } else { false }
            guard isModule || needed.contains(i + 1) else { continue }
            live[i] = true
            for case .value(let v) in nodes[i].operands { needed.insert(v) }
        }
        return live
    }
}

extension Layer {
    /// The graph of one forward pass on `input` (see `ModelGraph`); throws naming the call
    /// a graph cannot replay, if the forward makes one.
    public func graph(for input: Tensor) throws -> ModelGraph {
        let (graph, failure, _) = try ModelGraph.capture(self, input: input)
        guard let graph else { throw LayerError.invalidConfiguration("cannot capture \(typeName): \(failure ?? "")") }
        return graph
    }
}
