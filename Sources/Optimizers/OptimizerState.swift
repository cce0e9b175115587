import TensorCore

/// Saving and restoring optimizer state, so that a resumed run takes exactly the steps the
/// uninterrupted run would have taken.
///
/// Names follow PyTorch's `optimizer.state_dict()["state"]`, flattened: `"<i>.<buffer>"` for
/// parameter i in the optimizer's order (`"0.momentum_buffer"`, `"3.exp_avg"`,
/// `"3.exp_avg_sq"`, `"3.max_exp_avg_sq"`, `"1.square_avg"`, `"1.grad_avg"`, `"2.sum"`), and
/// `"step"`, a one-element tensor holding the step count (exact up to 2^24 steps). Buffers
/// an optimizer creates on its first step are absent before it.
extension Optimizer {
    /// An optimizer without state saves nothing.
    public func stateDict() -> [(name: String, tensor: Tensor)] { [] }

    /// An optimizer without state accepts only an empty state.
    public func loadStateDict(_ state: [String: Tensor]) throws {
        if let key = state.keys.sorted().first {
            throw OptimizerError.invalid("\(type(of: self)) keeps no state, but the checkpoint has '\(key)'")
        }
    }
}

/// Reads and writes the per-parameter buffers of one optimizer's state dict.
struct StateSlots {
    let parameters: [Tensor]
    private(set) var unread: Set<String>
    let state: [String: Tensor]
    let owner: String

    init(_ state: [String: Tensor], parameters: [Tensor], owner: Any) {
        self.state = state
        self.parameters = parameters
        self.unread = Set(state.keys)
        self.owner = "\(type(of: owner))"
    }

    /// `"<i>.<key>"` for every buffer that exists, copied.
    static func export(_ buffers: [Tensor?], key: String) -> [(name: String, tensor: Tensor)] {
        buffers.enumerated().compactMap { i, t in t.map { ("\(i).\(key)", $0.detached()) } }
    }

    /// The step count as a one-element tensor.
    static func export(step: Int) -> [(name: String, tensor: Tensor)] {
        [("step", Tensor(repeating: Float(step), shape: [1]))]
    }

    /// Buffer `key` of every parameter, nil where the state has none (or, when `required`,
    /// an error). Each must have its parameter's shape.
    mutating func buffers(_ key: String, required: Bool) throws -> [Tensor?] {
        try parameters.enumerated().map { i, p in
            let name = "\(i).\(key)"
            guard let t = state[name] else {
                if required { throw OptimizerError.invalid("\(owner) state lacks '\(name)'") }
                return nil
            }
            guard t.shape == p.shape else {
                throw OptimizerError.invalid("\(owner) state '\(name)' has shape \(describe(t.shape)), parameter \(i) has \(describe(p.shape))")
            }
            unread.remove(name)
            return t.detached()
        }
    }

    /// The saved step count (0 when absent).
    mutating func step() throws -> Int {
        guard let t = state["step"] else { return 0 }
        unread.remove("step")
        // Int(exactly:) also refuses infinity, which once trapped (issue 29 finding 6).
        guard t.count == 1, t.pointer[0] >= 0, let step = Int(exactly: t.pointer[0]) else {
            throw OptimizerError.invalid("\(owner) state 'step' must hold one whole number, got shape \(describe(t.shape))"
                + (t.count == 1 ? " holding \(t.pointer[0])" : ""))
        }
        return step
    }

    /// Throws when an entry was not consumed (state from another optimizer, say).
    func finish() throws {
        if let extra = unread.sorted().first {
            throw OptimizerError.invalid("\(owner) state has an unexpected entry '\(extra)' (a checkpoint of another optimizer or model?)")
        }
    }
}
