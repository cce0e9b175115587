import TensorCore
import NN

/// A network imported from ONNX, runnable and trainable as any Fovea layer.
///
/// `forward` feeds the graph's one input (`[N, C, H, W]` for a CNN) and returns its first
/// output. The nodes run in topological order as Fovea tensor ops, so gradients flow through
/// them; the float initializers that feed data inputs (weights, biases, batch-norm scale and
/// shift, PReLU slopes) are its trainable parameters, and batch-norm running statistics its
/// buffers, all under their initializer names, so `namedParameters()`, `stateDict()`,
/// `loadStateDict` and the optimizers work on it as on a zoo model. `train()` makes batch norm
/// use batch statistics and dropout drop; `eval()` (the state after import) is inference.
public final class ONNXGraphModel: Layer, @unchecked Sendable {
    /// The graph input's name.
    public let inputName: String
    /// Its declared sizes; nil where the file leaves a size free (the batch).
    public let inputShape: [Int?]
    /// The graph outputs; `forward` returns the first.
    public let outputNames: [String]
    /// The default-domain operator set version of the file.
    public let opset: Int64
    /// Who wrote the file (`producer_name producer_version`).
    public let producer: String
    /// The nodes, ready to run, in execution order.
    public let operators: [ONNXOperator]
    /// The most elements one intermediate may have (2^28 by default); a node that would make a
    /// larger one throws instead.
    public var maxActivationElements = 1 << 28

    private let parameterList: [(name: String, tensor: Tensor)]
    private let bufferList: [(name: String, tensor: Tensor)]
    /// Every value known before running: parameters, buffers, float constants.
    private let fixedValues: [String: Tensor]
    /// For each step, the values no later step or output needs, dropped after it.
    private let releases: [[String]]

    init(inputName: String, inputShape: [Int?], outputNames: [String], opset: Int64, producer: String,
         operators: [ONNXOperator], parameters: [(name: String, tensor: Tensor)], buffers: [(name: String, tensor: Tensor)],
         constants: [String: Tensor]) {
        self.inputName = inputName
        self.inputShape = inputShape
        self.outputNames = outputNames
        self.opset = opset
        self.producer = producer
        self.operators = operators
        parameterList = parameters
        bufferList = buffers
        var fixed = constants
        for (name, t) in parameters + buffers { fixed[name] = t }
        fixedValues = fixed
        // Last use of each computed value, so memory is given back as the graph runs.
        var last: [String: Int] = [:]
        for (i, op) in operators.enumerated() { for name in op.node.inputs where !name.isEmpty { last[name] = i } }
        let keep = Set(outputNames).union(fixed.keys)
        var releases = [[String]](repeating: [], count: operators.count)
        for (name, i) in last where !keep.contains(name) { releases[i].append(name) }
        self.releases = releases
        super.init()
        eval()
    }

    public override var parameterSlots: [(name: String, tensor: Tensor)] { parameterList }
    public override var bufferSlots: [(name: String, tensor: Tensor)] { bufferList }
    public override var typeName: String { "ONNXGraphModel" }
    public override var configuration: String {
        "\(operators.count) nodes, opset \(opset)\(producer.isEmpty ? "" : ", from \(producer)")"
    }

    /// Runs the graph on `input` and returns the first output.
    public override func forward(_ input: Tensor) throws -> Tensor {
        try run([inputName: input])[outputNames[0]]!
    }

    /// Runs the graph on named inputs and returns every graph output by name.
    public func run(_ inputs: [String: Tensor]) throws -> [String: Tensor] {
        guard let x = inputs[inputName], inputs.count == 1 else {
            throw ONNXError.executionFailed(node: "(graph input)", opType: "Input", "the graph takes one input named '\(inputName)', got \(inputs.keys.sorted())")
        }
        if !inputShape.isEmpty {
            let fits = x.rank == inputShape.count && zip(x.shape, inputShape).allSatisfy { $1 == nil || $0 == $1! }
            guard fits else {
                let declared = "[" + inputShape.map { $0.map(String.init) ?? "N" }.joined(separator: ", ") + "]"
                throw ONNXError.executionFailed(node: "(graph input)", opType: "Input", "input '\(inputName)' must be \(declared), got \(describe(x.shape))")
            }
        }
        var values = fixedValues
        values[inputName] = x
        let context = ONNXRunContext(training: isTraining, maxElements: maxActivationElements)
        for (i, op) in operators.enumerated() {
            let args = op.node.inputs.map { $0.isEmpty ? nil : values[$0] }
            let results = try op.run(args, context)
            for (name, value) in zip(op.node.outputs, results) where !name.isEmpty { values[name] = value }
            for name in releases[i] { values[name] = nil }
        }
        var out: [String: Tensor] = [:]
        for name in outputNames { out[name] = values[name] }
        return out
    }
}
