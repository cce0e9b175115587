import TensorCore
import NN

/// What one captured node looks like to the code writing its ONNX form: the ONNX names,
/// shapes and batch axes of its operands, its output's shape and its scope.
struct ONNXNodeContext {
    /// The dotted name of the layer that made the node (`layer1.0.conv1`).
    let scope: String
    /// The type of that layer, for error messages.
    let layerType: String
    /// The ONNX names of the operands, in `GraphOp` order.
    let inputs: [String]
    /// Their shapes at capture.
    let shapes: [[Int]]
    /// The axis holding the batch in each operand (nil for a constant, or a value without one).
    let batchAxes: [Int?]
    /// The output's shape at capture.
    let outputShape: [Int]
    /// The batch size the graph was captured with.
    let batch: Int

    /// An `ONNXError.unsupportedLayer` naming the scope and its layer type.
    func unsupported(_ reason: String) -> ONNXError {
        .unsupportedLayer(type: layerType, name: scope, reason)
    }
}

/// Walks the live nodes of a captured evaluation-mode graph in order and writes each as ONNX
/// nodes (`ONNXGraphBuilder+Ops`, `ONNXGraphBuilder+Modules`). Every value keeps its ONNX name
/// and the axis that holds the batch, which becomes the symbolic `N` of the file: shape
/// arguments (reshape targets) are written with the batch as `0` (copy) or `-1` (inferred),
/// never as the size it was captured with.
struct ONNXGraphWalk {
    let model: Layer
    let graph: ModelGraph
    let builder: ONNXGraphBuilder

    /// The ONNX name of each value (0 the input, `i + 1` node `i`'s output) once written.
    private var names: [String?]
    /// The batch axis of each value.
    private var batchAxes: [Int?]

    init(model: Layer, graph: ModelGraph, builder: ONNXGraphBuilder, inputName: String) {
        self.model = model
        self.graph = graph
        self.builder = builder
        names = [inputName] + Array(repeating: nil, count: graph.nodes.count)
        batchAxes = [0] + Array(repeating: nil, count: graph.nodes.count)
    }

    /// Writes every live node; returns the ONNX name of the graph's output value.
    mutating func run() throws -> String {
        let live = graph.liveNodes
        for (i, node) in graph.nodes.enumerated() where live[i] {
            let layer = model.layer(named: node.scope)
            var inputs: [String] = [], shapes: [[Int]] = [], axes: [Int?] = []
            for operand in node.operands {
                switch operand {
                case .value(let v):
                    guard let name = names[v] else {
                        preconditionFailure("value \(v) is used before it is written (node \(i), \(node.scope))")
                    }
                    inputs.append(name); shapes.append(graph.shape(of: v)); axes.append(batchAxes[v])
                case .constant(let t):
                    inputs.append(builder.constant(t, scope: node.scope)); shapes.append(t.shape); axes.append(nil)
                }
            }
            let context = ONNXNodeContext(scope: node.scope, layerType: layer?.typeName ?? "Layer", inputs: inputs,
                                          shapes: shapes, batchAxes: axes, outputShape: node.shape,
                                          batch: graph.inputShape[0])
            switch node.operation {
            case .op(let op):
                names[i + 1] = try builder.write(op, context)
                batchAxes[i + 1] = Self.batchAxis(after: op, context)
            case .module(let module):
                guard let module = module as? Layer else {
                    throw context.unsupported("it was recorded as a module of type \(type(of: module)), which is not a Layer")
                }
                names[i + 1] = try builder.write(module: module, context)
                batchAxes[i + 1] = axes.first ?? nil
            }
        }
        return names[graph.output]!
    }

    /// Where the batch is in the output of `op`, given where it is in the operands.
    static func batchAxis(after op: GraphOp, _ c: ONNXNodeContext) -> Int? {
        // The first operand that is a graph value (arithmetic may have a constant first).
        guard let index = c.batchAxes.firstIndex(where: { $0 != nil }), let b = c.batchAxes[index] else { return nil }
        let rank = c.shapes[index].count, outRank = c.outputShape.count
        switch op {
        case .permute(let order): return order.firstIndex(of: b)
        case .flatten(let from):
            let start = from < 0 ? from + rank : from
            return min(b, start)
        case .reshape: return b == 0 ? 0 : nil
        default:
            // Same rank: the same axis; broadcasting to a higher rank prepends axes.
            let moved = b + outRank - rank
            return moved >= 0 && moved < outRank ? moved : nil
        }
    }
}
