import Synchronization

/// The plans a model has made, kept by the model (`Layer.plans`) so that every
/// `compiled()` of it shares them: the trainer's, the evaluator's, the server's.
///
/// The entry used last is kept beside the table: a call with the same key as the one
/// before it (every call of a loop over one input shape and mode) finds it by comparing
/// the keys, without hashing the shape.
public final class PlanCache: Sendable {
    struct Key: Hashable {
        let shape: [Int]
        let training: Bool
        let tape: Bool
        let fuse: Bool
        /// The convolution plans split work for this many threads.
        let threads: Int
    }
    enum Entry {
        case plan(ExecutionPlan)
        case eager(String)
    }
    private struct State {
        var entries: [Key: Entry] = [:]
        /// The entry `entry(_:)` or `set(_:_:)` saw last, with its key.
        var last: (key: Key, entry: Entry)?
    }
    private let state = Mutex(State())

    init() {}

    func entry(_ key: Key) -> Entry? {
        state.withLock { state in
            if let last = state.last, last.key == key { return last.entry }
            guard let entry = state.entries[key] else { return nil }
            state.last = (key, entry)
            return entry
        }
    }

    func set(_ key: Key, _ entry: Entry) {
        state.withLock { state in
            state.entries[key] = entry
            state.last = (key, entry)
        }
    }

    /// Why the model runs eagerly for some input, if it does.
    var eagerReason: String? {
        state.withLock { state in
            state.entries.values.lazy.compactMap { if case .eager(let reason) = $0 { reason } else { nil } }.first
        }
    }

    /// Forgets every plan: the next calls capture again (after the model's layers change).
    public func removeAll() {
        state.withLock { state in
            state.entries.removeAll()
            state.last = nil
        }
    }
}
