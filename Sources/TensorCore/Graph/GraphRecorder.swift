/// Records the operations of one forward pass as a graph (`torch.fx`'s symbolic trace, but
/// on real values: the pass runs eagerly and each op notes itself as it returns).
///
/// Values are numbered: 0 is the input, value `i + 1` the output of node `i`. A node is
/// either a tensor op called as a function (`GraphOp`) or a whole module (a layer the engine
/// knows, recorded as one call; the ops inside it are not recorded). A tensor that reaches
/// a node without having been made by a recorded node is a constant: a parameter, a buffer
/// or a tensor the forward built. A tensor made by an op that does not record itself is
/// noted, and the capture fails naming it, rather than replaying a stale value.
public final class GraphRecorder: @unchecked Sendable {
    /// The recorder of the forward pass running on this task, if one is being captured.
    @TaskLocal public static var current: GraphRecorder?

    /// Where a node's operand comes from.
    public enum Operand {
        /// A value of the graph: 0 the input, `i + 1` node `i`'s output.
        case value(Int)
        /// A tensor from outside the graph (a parameter, a buffer, a constant), used as is.
        case constant(Tensor)
    }

    /// What a node runs.
    public enum Operation {
        case op(GraphOp)
        /// A layer called as a whole (the object is the layer; NN knows its type).
        case module(AnyObject)
    }

    /// One recorded call.
    public struct Node {
        public let operation: Operation
        public let operands: [Operand]
        /// The shape of its output.
        public let shape: [Int]
        /// The dotted name of the layer whose `forward` made the call (`layer1.0`), or of
        /// the module itself for a module node (`layer1.0.conv1`); `""` for the model.
        public let scope: String
        /// The layer call that made it: calls are numbered as they start (0 is the code around
        /// the model), so that two calls of one layer in a row stay apart (a summary's rows).
        public let call: Int
    }

    public private(set) var nodes: [Node] = []
    /// The input's shape.
    public let inputShape: [Int]
    /// Why the capture cannot be replayed, if it cannot.
    public private(set) var failure: String?
    /// The dotted names of the model's layers by identity, for the nodes' `scope`.
    public var scopeNames: [ObjectIdentifier: String] = [:]

    /// A tensor held weakly: the capture must not keep intermediate values alive (the eager
    /// pass frees them as it goes), and a freed tensor's identifier may be reused by a new
    /// one, which the weak reference tells apart.
    private struct Seen<Info> {
        weak var tensor: Tensor?
        let info: Info
    }
    private var values: [ObjectIdentifier: Seen<Int>] = [:]
    /// Tensors made by ops (they noted themselves on the autograd hook) that no node records.
    private var unrecorded: [ObjectIdentifier: Seen<String>] = [:]

    private func lookup<Info>(_ table: [ObjectIdentifier: Seen<Info>], _ tensor: Tensor) -> Info? {
        guard let seen = table[ObjectIdentifier(tensor)], seen.tensor === tensor else { return nil }
        return seen.info
    }
    private var moduleDepth = 0
    private var scopes: [String] = [""]
    private var calls: [Int] = [0]
    private var callCount = 0

    public init(input: Tensor) {
        inputShape = input.shape
        values[ObjectIdentifier(input)] = Seen(tensor: input, info: 0)
    }

    /// Runs `body` with this recorder current on the task.
    public func capture<R>(_ body: () throws -> R) rethrows -> R {
        try GraphRecorder.$current.withValue(self, operation: body)
    }

    /// The operand a tensor is: a value of the graph or a constant.
    public func operand(_ tensor: Tensor) -> Operand {
        if let v = lookup(values, tensor) { return .value(v) }
        if failure == nil, let op = lookup(unrecorded, tensor) {
            failure = "the forward pass calls '\(op)', which a captured graph cannot replay; run the model eagerly"
        }
        return .constant(tensor)
    }

    /// Records `op` on `inputs` giving `output`; returns `output`. Ops call this as they
    /// return; it does nothing inside a module node.
    @discardableResult
    public func record(_ op: GraphOp, _ inputs: [Tensor], _ output: Tensor) -> Tensor {
        guard moduleDepth == 0 else { return output }
        append(.op(op), inputs.map(operand), output)
        return output
    }

    /// Runs a layer's `forward` (`body`), recording it as one module node when `primitive`,
    /// or recording the ops and layers it calls otherwise, under the module's name in
    /// `scopeNames`.
    public func call(_ module: AnyObject, primitive: Bool, input: Tensor,
                     _ body: () throws -> Tensor) throws -> Tensor {
        guard moduleDepth == 0 else { return try body() }
        scopes.append(scopeNames[ObjectIdentifier(module)] ?? scopes.last ?? "")
        callCount += 1
        calls.append(callCount)
        defer { scopes.removeLast(); calls.removeLast() }
        if primitive {
            let operand = operand(input)
            moduleDepth += 1
            let output = try { defer { moduleDepth -= 1 }; return try body() }()
            append(.module(module), [operand], output)
            return output
        }
        return try body()
    }

    /// Notes a tensor made by an op (the autograd hook, `Tensor.record`), so that a tensor
    /// from an op that records no node is recognised when it reaches one.
    func noteMade(_ name: String, _ tensor: Tensor) {
        guard moduleDepth == 0, lookup(values, tensor) == nil else { return }
        unrecorded[ObjectIdentifier(tensor)] = Seen(tensor: tensor, info: name)
    }

    /// The value a tensor the forward returned is, or nil when it is not one of the graph's
    /// (a constant, or the output of an op that records nothing, which sets `failure`).
    public func value(of tensor: Tensor) -> Int? {
        if let v = lookup(values, tensor) { return v }
        if failure == nil, let op = lookup(unrecorded, tensor) {
            failure = "the forward pass ends with '\(op)', which a captured graph cannot replay; run the model eagerly"
        }
        return nil
    }

    private func append(_ operation: Operation, _ operands: [Operand], _ output: Tensor) {
        nodes.append(Node(operation: operation, operands: operands, shape: output.shape, scope: scopes.last ?? "",
                          call: calls.last ?? 0))
        values[ObjectIdentifier(output)] = Seen(tensor: output, info: nodes.count)
        unrecorded[ObjectIdentifier(output)] = nil
    }
}

extension GraphRecorder {
    /// Records `op` on the current recorder, if any; returns `output`. The ops' one line.
    @inline(__always) @discardableResult
    public static func note(_ op: @autoclosure () -> GraphOp, _ inputs: @autoclosure () -> [Tensor],
                            _ output: Tensor) -> Tensor {
        guard let recorder = current else { return output }
        return recorder.record(op(), inputs(), output)
    }
}
