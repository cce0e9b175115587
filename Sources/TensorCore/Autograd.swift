/// The reverse-mode autograd tape.
///
/// Each op that sees an input requiring gradients attaches a `GradFunction` to its result:
/// edges to where its inputs came from, what its backward reads (`saved`), and a closure
/// that maps the gradient of the result to gradients of the inputs (hand-written beside each
/// op's forward). `Tensor.backward()` walks the recorded ops in reverse topological order and
/// accumulates into the `grad` of leaves with `+=`.
///
/// The tape keeps what a backward reads and nothing else, as PyTorch's saved tensors do: an
/// op's inputs are reached through their producers' `GradFunction`s, not held, so an
/// intermediate value that no backward reads (a batch norm's output that a ReLU consumed, a
/// residual sum) is freed as soon as the forward is done with it. `backward()` releases each
/// op's saved values once it has run, unless it is asked to keep the graph.

/// One recorded op: where its inputs came from, what its backward reads, and how to push a
/// gradient back through it.
public final class GradFunction {
    /// Where an input's gradient goes.
    enum Edge {
        /// The input was made by a recorded op.
        case op(GradFunction)
        /// The input is a leaf that requires gradients (a parameter): its `grad` accumulates.
        case leaf(Tensor)
        /// The input needs no gradient.
        case constant
    }

    /// Name of the op, for debugging ("conv2d", "add", ...).
    public let name: String
    /// One edge per input, in argument order.
    let edges: [Edge]
    /// The inputs' shapes (a backward's gradients are checked against them).
    let inputShapes: [[Int]]
    /// What the backward closure reads (tensors and storages), kept alive until it has run.
    private var saved: [AnyObject]
    /// Given dL/d(output), returns dL/d(input) for each input (nil where not needed); nil once released.
    private var backward: ((Tensor) -> [Tensor?])?

    init(name: String, inputs: [Tensor], saved: [AnyObject], backward: @escaping (Tensor) -> [Tensor?]) {
        self.name = name
        edges = inputs.map { input in
            guard input.requiresGrad else { return .constant }
            if let producer = input.gradFunction { return .op(producer) }
            return .leaf(input)
        }
        inputShapes = inputs.map(\.shape)
        self.saved = saved
        self.backward = backward
    }

    /// Runs the backward closure on `g`; throws if the graph was already released.
    func apply(_ g: Tensor) throws -> [Tensor?] {
        guard let backward else {
            throw TensorError.invalidArgument(op: "backward",
                "the graph through '\(name)' was already back-propagated and its saved values freed; pass retainGraph: true to the first backward() to run it again")
        }
        return backward(g)
    }

    /// Frees the saved values and the closure that reads them.
    func release() {
        saved = []
        backward = nil
    }
}

/// Whether ops record themselves for the backward pass. Off inside `withNoGrad`.
public enum GradMode {
    @TaskLocal public static var isEnabled = true
    /// True while `backward()` runs (its ops run without recording).
    @TaskLocal static var isBackward = false
}

/// Runs `body` without recording ops on the tape (inference, evaluation, optimizer updates).
public func withNoGrad<R>(_ body: () throws -> R) rethrows -> R {
    try GradMode.$isEnabled.withValue(false, operation: body)
}

extension Tensor {
    /// Attaches the backward closure to `result` when recording is on and any input needs a
    /// gradient; returns `result` either way. Ops call this last.
    ///
    /// `saving` lists what `backward` reads (tensors, or a tensor's `storage` where the
    /// closure reads the result's own elements: holding the result itself would be a cycle).
    /// The tape keeps exactly that until the backward has run. Left out, it keeps every input
    /// and the result's storage, which is always safe; ops on the hot path name less.
    ///
    /// `graph` is the op as a captured graph records it (with `graphInputs`, when they are
    /// not `inputs`), while a `GraphRecorder` captures; an op without one is noted so that
    /// a capture that meets its output fails rather than replaying a stale value.
    @discardableResult
    public static func record(_ name: String, _ result: Tensor, inputs: [Tensor], saving: [AnyObject]? = nil,
                              graph: GraphOp? = nil, graphInputs: [Tensor]? = nil,
                              backward: @escaping (Tensor) -> [Tensor?]) -> Tensor {
        if let recorder = GraphRecorder.current {
            if let graph { recorder.record(graph, graphInputs ?? inputs, result) } else { recorder.noteMade(name, result) }
        }
        guard GradMode.isEnabled, inputs.contains(where: { $0.requiresGrad }) else { return result }
        let saved = saving ?? (inputs as [AnyObject] + [result.storage])
        result.gradFunction = GradFunction(name: name, inputs: inputs, saved: saved, backward: backward)
        result.requiresGrad = true
        return result
    }

    /// Back-propagates from this scalar: fills `grad` (accumulating with `+=`) of every leaf
    /// that requires gradients. Throws if this tensor has more than one element or does not
    /// depend on anything that requires gradients.
    public func backward(retainGraph: Bool = false) throws {
        guard count == 1 else {
            throw TensorError.invalidArgument(op: "backward",
                "backward() needs a scalar, got shape \(describe(shape)); pass a gradient with backward(gradient:)")
        }
        try backward(gradient: Tensor(repeating: 1, shape: shape), retainGraph: retainGraph)
    }

    /// Back-propagates `gradient` (dL/d self, same shape as self) through the tape. Each op's
    /// saved values are freed once its backward has run, so a second backward through the
    /// same ops throws, unless the first passed `retainGraph: true` (PyTorch's `retain_graph`).
    public func backward(gradient: Tensor, retainGraph: Bool = false) throws {
        guard gradient.shape == shape else {
            throw TensorError.shapeMismatch(op: "backward", "gradient \(describe(gradient.shape)) for tensor \(describe(shape))")
        }
        guard requiresGrad else {
            throw TensorError.invalidArgument(op: "backward", "the tensor does not require gradients (nothing on the tape leads to a parameter)")
        }
        guard let root = gradFunction else {
            Tensor.accumulate(gradient, into: self)
            return
        }
        // Reverse topological order of the ops, by iterative depth-first search.
        var order: [GradFunction] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(GradFunction, Bool)] = [(root, false)]
        while let (fn, expanded) = stack.popLast() {
            if expanded { order.append(fn); continue }
            if !visited.insert(ObjectIdentifier(fn)).inserted { continue }
            stack.append((fn, true))
            for case .op(let producer) in fn.edges where !visited.contains(ObjectIdentifier(producer)) {
                stack.append((producer, false))
            }
        }
        // Gradients waiting for their op (by the op) and for their leaf (by the tensor).
        var grads: [ObjectIdentifier: Tensor] = [ObjectIdentifier(root): gradient]
        var leafGrads: [ObjectIdentifier: Tensor] = [:]
        var leaves: [Tensor] = []
        func add(_ g: Tensor, to key: ObjectIdentifier, in pending: inout [ObjectIdentifier: Tensor]) {
            if let existing = pending[key] {
                // The first gradient may be shared with another op's output; copy before accumulating.
                let sum = existing.detached()
                sum.addInPlace(g)
                pending[key] = sum
            } else {
                pending[key] = g
            }
        }
        for fn in order.reversed() {
            guard let g = grads.removeValue(forKey: ObjectIdentifier(fn)) else { continue }
            let inputGrads = try GradMode.$isBackward.withValue(true) { try withNoGrad { try fn.apply(g) } }
            if !retainGraph { fn.release() }
            for (i, (edge, ig)) in zip(fn.edges, inputGrads).enumerated() {
                guard let ig else { continue }
                precondition(ig.shape == fn.inputShapes[i],
                             "\(fn.name) backward gave \(describe(ig.shape)) for input \(describe(fn.inputShapes[i]))")
                switch edge {
                case .constant: continue
                case .op(let producer): add(ig, to: ObjectIdentifier(producer), in: &grads)
                case .leaf(let leaf):
                    if leafGrads[ObjectIdentifier(leaf)] == nil { leaves.append(leaf) }
                    add(ig, to: ObjectIdentifier(leaf), in: &leafGrads)
                }
            }
        }
        for leaf in leaves { Tensor.accumulate(leafGrads[ObjectIdentifier(leaf)]!, into: leaf) }
    }

    /// `leaf.grad += g` (a copy of `g` when there is no gradient yet).
    static func accumulate(_ g: Tensor, into leaf: Tensor) {
        if let existing = leaf.grad { existing.addInPlace(g) } else { leaf.grad = g.detached() }
    }

    /// Adds `other` (same element count) into this tensor, in place, without recording.
    public func addInPlace(_ other: Tensor) {
        precondition(other.count == count, "addInPlace \(describe(other.shape)) into \(describe(shape))")
        let p = pointer, q = other.pointer
        for i in 0..<count { p[i] += q[i] }
    }

    /// Sets the gradient to nil (call between optimizer steps).
    public func zeroGrad() { grad = nil }
}
