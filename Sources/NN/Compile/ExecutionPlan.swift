import TensorCore

/// How a captured graph runs: its live nodes in order, with the patterns the engine has
/// fused kernels for replaced by one step each, and every value dropped after its last use.
///
/// Fusions (each only where the values in between have no other use):
/// - training and inference: `conv2d -> relu` (`Tensor.conv2dReLU`), `conv2d -> relu -> 2x2
///   max pool` (`Tensor.conv2dReLUMaxPool2x2`), `linear -> relu` (`Tensor.linearReLU`), batch
///   norm `-> prelu` (`Tensor.batchNormPReLU`), `add -> relu` (`Tensor.reluOfSum`);
/// - inference without a tape: `conv2d -> batch norm [-> add residual] [-> relu]` as one
///   convolution whose epilogue applies batch norm folded once (`FoldedBatchNorm`), adds the
///   residual and the ReLU (`Tensor.conv2dInference`).
/// Every fused kernel computes what the nodes it replaces compute, so a compiled model and
/// the eager one agree to rounding.
public final class ExecutionPlan: @unchecked Sendable {
    public let graph: ModelGraph
    let steps: [PlanStep]

    /// The names of the steps in order (`conv2dReLUMaxPool2x2`, `flatten`, `linearReLU`...).
    public var stepNames: [String] { steps.map(\.name) }

    /// Plans `graph`; `inference` (evaluation without a tape) allows the fusions that record
    /// no backward. `fuse: false` runs every live node as recorded.
    init(_ graph: ModelGraph, inference: Bool, fuse: Bool) {
        self.graph = graph
        let steps = Fusion(graph: graph, inference: inference, enabled: fuse).steps()
        Self.planReleases(steps, keep: [graph.output] + graph.auxiliaryOutputs)
        self.steps = steps
    }

    /// Runs the plan on `input` (of the captured shape); returns the output and the
    /// auxiliary outputs. The values live in a buffer on the stack, and each step reads its
    /// operands from it in place: a run allocates nothing beyond what its kernels make.
    func run(_ input: Tensor) throws -> (output: Tensor, auxiliary: [Tensor]) {
        try withUnsafeTemporaryAllocation(of: Tensor?.self, capacity: graph.nodes.count + 1) { slots in
            slots.initialize(repeating: nil)
            defer { slots.deinitialize() }
            slots[0] = input
            for step in steps {
                slots[step.output] = try step.run { i in
                    switch step.operands[i] {
                    case .value(let v): return slots[v]!
                    case .constant(let t): return t
                    }
                }
                for v in step.releases { slots[v] = nil }
            }
            return (slots[graph.output]!, graph.auxiliaryOutputs.map { slots[$0]! })
        }
    }

    /// Marks on each step the values whose last reader it is, so that the run drops them
    /// there; the input is the caller's and the outputs are returned, so they are kept.
    static func planReleases(_ steps: [PlanStep], keep: [Int]) {
        var lastUse: [Int: Int] = [:]
        for (i, step) in steps.enumerated() {
            for case .value(let v) in step.operands { lastUse[v] = i }
        }
        let kept = Set(keep + [0])
        for (v, i) in lastUse where !kept.contains(v) { steps[i].releases.append(v) }
        // A value no step reads (a module's result thrown away) is dropped where it is made.
        for i in steps.indices where lastUse[steps[i].output] == nil && !kept.contains(steps[i].output) {
            steps[i].releases.append(steps[i].output)
        }
    }
}

/// The pattern matcher behind `ExecutionPlan`: walks the live nodes, and where a node starts
/// a fusable chain whose inner values have one use each, replaces the chain by one step
/// placed at its last node.
struct Fusion {
    let graph: ModelGraph
    let inference: Bool
    let enabled: Bool
    private let uses: [Int]
    private let live: [Bool]
    /// The node reading each value, where exactly one node does.
    private let onlyReader: [Int: Int]

    init(graph: ModelGraph, inference: Bool, enabled: Bool) {
        self.graph = graph
        self.inference = inference
        self.enabled = enabled
        uses = graph.useCounts
        live = graph.liveNodes
        var readers: [Int: [Int]] = [:]
        for (i, node) in graph.nodes.enumerated() where live[i] {
            for case .value(let v) in node.operands { readers[v, default: []].append(i) }
        }
        onlyReader = readers.compactMapValues { $0.count == 1 ? $0[0] : nil }
    }

    func steps() -> [PlanStep] {
        var fused: [Int: PlanStep] = [:]
        var absorbed = Set<Int>()
        if enabled {
            // A node belongs to one chain at most: the first that reaches it (a residual add
            // is claimed by the block's last convolution, not by the shortcut's).
            var claimed = Set<Int>()
            for i in graph.nodes.indices where live[i] && !claimed.contains(i) {
                guard let step = chain(from: i, claimed: claimed) else { continue }
                for n in step.nodes where n != step.nodes.last! { absorbed.insert(n) }
                claimed.formUnion(step.nodes)
                fused[step.nodes.last!] = step
            }
        }
        var steps: [PlanStep] = []
        for (i, node) in graph.nodes.enumerated() where live[i] && !absorbed.contains(i) {
            steps.append(fused[i] ?? plain(i, node))
        }
        return steps
    }

    /// Node `i` run as recorded; a convolution on the plan made for its geometry.
    private func plain(_ i: Int, _ node: ModelGraph.Node) -> PlanStep {
        if enabled, case .op(let op) = node.operation, let x = node.operands.first,
           let conv = ConvolutionCall(op, node.operands, inputShape: shape(x)) {
            return PlanStep(kernel: .convolution(conv), operands: [x], output: i + 1, nodes: [i])
        }
        return PlanStep(kernel: .node(node.operation), operands: node.operands, output: i + 1, nodes: [i])
    }

    // MARK: - Patterns

    /// The node that alone reads node `i`'s output, when nothing else (an output) does and
    /// no earlier chain has claimed it.
    private func next(_ i: Int, _ claimed: Set<Int>) -> Int? {
        guard uses[i + 1] == 1, let r = onlyReader[i + 1], !claimed.contains(r) else { return nil }
        return r
    }

    private func op(_ i: Int) -> GraphOp? {
        if case .op(let op) = graph.nodes[i].operation { return op }
        return nil
    }

    private func isReLU(_ i: Int) -> Bool { op(i) == .function(.relu) }

    /// The fused step starting at node `i`, if a pattern starts there.
    private func chain(from i: Int, claimed: Set<Int>) -> PlanStep? {
        let node = graph.nodes[i]
        guard let x = node.operands.first else { return nil }
        switch node.operation {
        case .op(let op):
            if let conv = ConvolutionCall(op, node.operands, inputShape: shape(x)) {
                return convolutionChain(i, conv, x, claimed)
            }
            if case .linear(let hasBias) = op, case .constant(let w) = node.operands[1], let r = next(i, claimed), isReLU(r) {
                var bias: Tensor?
                if hasBias { guard case .constant(let b) = node.operands[2] else { return nil }; bias = b }
                return PlanStep(kernel: .linearReLU(weight: w, bias: bias), operands: [x], output: r + 1, nodes: [i, r])
            }
            if op == .arithmetic(.add), node.operands.count == 2, let r = next(i, claimed), isReLU(r),
               node.operands.allSatisfy({ value($0) >= 0 }), graph.shape(of: value(node.operands[0])) == node.shape, graph.shape(of: value(node.operands[1])) == node.shape {
                return PlanStep(kernel: .reluOfSum, operands: node.operands, output: r + 1, nodes: [i, r])
            }
            return nil
        case .module(let m):
            guard let bn = m as? BatchNorm, let p = next(i, claimed), op(p) == .prelu, value(graph.nodes[p].operands[0]) == i + 1,
                  case .constant(let slope) = graph.nodes[p].operands[1] else { return nil }
            return PlanStep(kernel: .batchNormPReLU(bn, slope: slope), operands: [x], output: p + 1, nodes: [i, p])
        }
    }

    /// The shape of an operand.
    private func shape(_ operand: GraphRecorder.Operand) -> [Int] {
        switch operand {
        case .value(let v): return graph.shape(of: v)
        case .constant(let t): return t.shape
        }
    }

    /// The value an operand is, or -1 for a constant.
    private func value(_ operand: GraphRecorder.Operand) -> Int {
        if case .value(let v) = operand { return v }
        return -1
    }

    /// `conv -> relu [-> 2x2 max pool]`, or at inference `conv -> bn [-> add] [-> relu]`.
    private func convolutionChain(_ i: Int, _ conv: ConvolutionCall, _ x: GraphRecorder.Operand,
                                  _ claimed: Set<Int>) -> PlanStep? {
        guard let n = next(i, claimed) else { return nil }
        if isReLU(n) {
            // Where the pooled kernel was built and measured: LeNet's planes (28x28, 10x10).
            // On VGG-16's 224x224 planes the chain ran 1.25x slower than conv + ReLU, then pool.
            if graph.nodes[i].shape[2] * graph.nodes[i].shape[3] <= 32 * 32,
               let p = next(n, claimed), let pool = op(p), ConvolutionCall.isFusablePool(pool) {
                return PlanStep(kernel: .convolutionReLUMaxPool(conv), operands: [x], output: p + 1, nodes: [i, n, p])
            }
            return PlanStep(kernel: .convolutionReLU(conv), operands: [x], output: n + 1, nodes: [i, n])
        }
        guard inference, case .module(let m) = graph.nodes[n].operation, let bn = m as? BatchNorm, !bn.isTraining,
              bn.inputRank == 4, bn.features == conv.weight.shape[0] else { return nil }
        var nodes = [i, n], operands = [x], last = n
        if let a = next(last, claimed), op(a) == .arithmetic(.add), graph.nodes[a].operands.count == 2,
           let other = graph.nodes[a].operands.first(where: { value($0) != last + 1 }), value(other) >= 0,
           graph.nodes[a].shape == graph.nodes[last].shape, graph.shape(of: value(other)) == graph.nodes[a].shape {
            nodes.append(a); operands.append(other); last = a
        }
        var relu = false
        if let r = next(last, claimed), isReLU(r) { nodes.append(r); relu = true; last = r }
        return PlanStep(kernel: .convolutionInference(conv, FoldedBatchNorm(bn, convolutionBias: conv.bias), relu: relu),
                        operands: operands, output: last + 1, nodes: nodes)
    }
}
