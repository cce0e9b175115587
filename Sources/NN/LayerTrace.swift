import TensorCore

/// Records every layer call made while `record` runs: which layer, how deep in the call
/// tree, the input and output shapes. `ModelSummary` builds its table from a trace.
public final class LayerTrace: @unchecked Sendable {
    /// One finished layer call. Calls are listed in the order they finish, so a block
    /// comes after the layers it called.
    public struct Call {
        public let layer: Layer
        /// 0 for the layer `record` was asked about, 1 for its direct callees, ...
        public let depth: Int
        public let inputShape: [Int]
        public let outputShape: [Int]
    }

    @TaskLocal static var current: LayerTrace?

    /// Whether a trace is recording on this task: models that fuse layers at run time
    /// (a residual block's add and ReLU) run them one by one while it is, so each is seen.
    public static var isRecording: Bool { current != nil }

    public private(set) var calls: [Call] = []
    private var depth = 0
    private let observe: ((Layer, Tensor) throws -> Tensor)?

    private init(observe: ((Layer, Tensor) throws -> Tensor)? = nil) { self.observe = observe }

    /// Runs `body` and returns its result with every layer call it made.
    public static func record<R>(_ body: () throws -> R) rethrows -> (result: R, calls: [Call]) {
        let trace = LayerTrace()
        let result = try $current.withValue(trace, operation: body)
        return (result, trace.calls)
    }

    /// Runs `body`, handing every layer's output to `observe` as the call finishes; what
    /// `observe` returns goes on in its place. Feature-map capture keeps the outputs it is
    /// given; Grad-CAM returns a fresh leaf for one layer so its gradient can be read.
    public static func record<R>(observing observe: (_ layer: Layer, _ output: Tensor) throws -> Tensor,
                                 _ body: () throws -> R) throws -> (result: R, calls: [Call]) {
        // The trace holds `observe` only while `body` runs.
        try withoutActuallyEscaping(observe) { observe in
            let trace = LayerTrace(observe: observe)
            let result = try $current.withValue(trace, operation: body)
            return (result, trace.calls)
        }
    }

    func call(_ layer: Layer, _ input: Tensor, _ body: () throws -> Tensor) throws -> Tensor {
        let myDepth = depth
        depth += 1
        defer { depth -= 1 }
        var output = try body()
        if let observe { output = try observe(layer, output) }
        calls.append(Call(layer: layer, depth: myDepth, inputShape: input.shape, outputShape: output.shape))
        return output
    }
}
