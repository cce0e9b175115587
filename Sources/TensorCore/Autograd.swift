/// The reverse-mode autograd tape.
///
/// Each op that sees an input requiring gradients attaches a `GradFunction` to its result:
/// the inputs plus a closure that maps the gradient of the result to gradients of the inputs
/// (hand-written beside each op's forward). `Tensor.backward()` walks the recorded graph in
/// reverse topological order and accumulates into the `grad` of leaves with `+=`.

/// One recorded op: its inputs and how to push a gradient back through it.
public final class GradFunction {
    /// Name of the op, for debugging ("conv2d", "add", ...).
    public let name: String
    /// The op's tensor inputs, in argument order.
    public let inputs: [Tensor]
    /// Given dL/d(output), returns dL/d(input) for each input (nil where not needed).
    let backward: (Tensor) -> [Tensor?]

    init(name: String, inputs: [Tensor], backward: @escaping (Tensor) -> [Tensor?]) {
        self.name = name
        self.inputs = inputs
        self.backward = backward
    }
}

/// Whether ops record themselves for the backward pass. Off inside `withNoGrad`.
public enum GradMode {
    @TaskLocal public static var isEnabled = true
}

/// Runs `body` without recording ops on the tape (inference, evaluation, optimizer updates).
public func withNoGrad<R>(_ body: () throws -> R) rethrows -> R {
    try GradMode.$isEnabled.withValue(false, operation: body)
}

extension Tensor {
    /// Attaches the backward closure to `result` when recording is on and any input needs a
    /// gradient; returns `result` either way. Ops call this last.
    @discardableResult
    ///
    /// `graph` is the op as a captured graph records it (with `graphInputs`, when they are
    /// not `inputs`), while a `GraphRecorder` captures; an op without one is noted so that
    /// a capture that meets its output fails rather than replaying a stale value.
    public static func record(_ name: String, _ result: Tensor, inputs: [Tensor], graph: GraphOp? = nil,
                              graphInputs: [Tensor]? = nil, backward: @escaping (Tensor) -> [Tensor?]) -> Tensor {
        if let recorder = GraphRecorder.current {
            if let graph { recorder.record(graph, graphInputs ?? inputs, result) } else { recorder.noteMade(name, result) }
        }
        guard GradMode.isEnabled, inputs.contains(where: { $0.requiresGrad }) else { return result }
        result.requiresGrad = true
        result.gradFunction = GradFunction(name: name, inputs: inputs, backward: backward)
        return result
    }

    /// Back-propagates from this scalar: fills `grad` (accumulating with `+=`) of every leaf
    /// that requires gradients. Throws if this tensor has more than one element or does not
    /// depend on anything that requires gradients.
    public func backward() throws {
        guard count == 1 else {
            throw TensorError.invalidArgument(op: "backward",
                "backward() needs a scalar, got shape \(describe(shape)); pass a gradient with backward(gradient:)")
        }
        try backward(gradient: Tensor(repeating: 1, shape: shape))
    }

    /// Back-propagates `gradient` (dL/d self, same shape as self) through the tape.
    public func backward(gradient: Tensor) throws {
        guard gradient.shape == shape else {
            throw TensorError.shapeMismatch(op: "backward", "gradient \(describe(gradient.shape)) for tensor \(describe(shape))")
        }
        guard requiresGrad else {
            throw TensorError.invalidArgument(op: "backward", "the tensor does not require gradients (nothing on the tape leads to a parameter)")
        }
        // Reverse topological order by iterative depth-first search.
        var order: [Tensor] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(Tensor, Bool)] = [(self, false)]
        while let (t, expanded) = stack.popLast() {
            if expanded { order.append(t); continue }
            if !visited.insert(ObjectIdentifier(t)).inserted { continue }
            stack.append((t, true))
            if let fn = t.gradFunction {
                for input in fn.inputs where input.requiresGrad && !visited.contains(ObjectIdentifier(input)) {
                    stack.append((input, false))
                }
            }
        }
        var grads: [ObjectIdentifier: Tensor] = [ObjectIdentifier(self): gradient]
        for t in order.reversed() {
            guard let g = grads.removeValue(forKey: ObjectIdentifier(t)) else { continue }
            guard let fn = t.gradFunction else {
                // A leaf: accumulate.
                if let existing = t.grad { existing.addInPlace(g) } else { t.grad = g.detached() }
                continue
            }
            let inputGrads = withNoGrad { fn.backward(g) }
            for (input, ig) in zip(fn.inputs, inputGrads) {
                guard input.requiresGrad, let ig else { continue }
                precondition(ig.shape == input.shape,
                             "\(fn.name) backward gave \(describe(ig.shape)) for input \(describe(input.shape))")
                let key = ObjectIdentifier(input)
                if let existing = grads[key] {
                    // The first gradient may be shared with another op's output; copy before accumulating.
                    let sum = existing.detached()
                    sum.addInPlace(ig)
                    grads[key] = sum
                } else {
                    grads[key] = ig
                }
            }
        }
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
