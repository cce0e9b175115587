import Synchronization
import TensorCore

/// Options of `Layer.compiled(_:)`.
public struct CompileOptions: Sendable {
    /// Replace the patterns the engine has fused kernels for (see `ExecutionPlan`); off, the
    /// plan runs every recorded node as it is (for comparing, and for debugging a fusion).
    public var fuse: Bool

    public init(fuse: Bool = true) { self.fuse = fuse }
}

/// A model that runs through captured graphs: the first call with a new input shape, mode
/// (training or evaluation), tape setting or thread count runs the model eagerly while
/// recording its ops (`ModelGraph`; with the tape on, that pass runs without it and the
/// running statistics it moved are put back) and plans them (`ExecutionPlan`: fusions,
/// values dropped at their last use); that call and later ones with the same key run the
/// plan (without a tape, the first returns the eager pass's result). Gradients flow
/// as in eager mode: the plan's kernels record themselves on the tape.
///
/// A forward the graph cannot replay (an op that does not record itself) runs eagerly, and
/// `eagerReason` says why. Like `torch.compile`, the capture assumes that the forward does
/// the same thing for every input of one shape: branching on tensor values, or making new
/// random tensors inside `forward` (instead of using a `Dropout` layer), is not replayed.
///
///     let fast = model.compiled()
///     let logits = try fast(images)          // [N, classes], as model(images)
public struct CompiledModel: @unchecked Sendable {
    /// The model, which keeps its parameters, mode and state dict.
    public let model: Layer
    public let options: CompileOptions

    public init(_ model: Layer, options: CompileOptions = CompileOptions()) {
        self.model = model
        self.options = options
    }

    /// `model(input)`, through the plan for the input's shape and the model's mode.
    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        // Layer traces and graph captures record the model's own calls.
        if LayerTrace.isRecording || GraphRecorder.current != nil { return try model(input) }
        let key = PlanCache.Key(shape: input.shape, training: model.isTraining, tape: GradMode.isEnabled, fuse: options.fuse,
                                 threads: Parallel.threadCount)
        switch model.plans.entry(key) {
        case .plan(let plan)?:
            let (output, auxiliary) = try plan.run(input)
            (model as? AuxiliaryClassifiers)?.auxiliaryLogits = auxiliary
            return output
        case .eager?:
            return try model(input)
        case nil:
            guard key.tape else {
                // Without a tape the capture's eager pass frees as it goes: its result is the answer.
                let (graph, failure, output) = try ModelGraph.capture(model, input: input)
                model.plans.set(key, graph.map { .plan(ExecutionPlan($0, inference: !key.training, fuse: key.fuse)) } ?? .eager(failure ?? ""))
                return output
            }
            // With a tape, an eager unfused pass would hold every intermediate value until the
            // backward, more than the plan ever does: capture without the tape (putting back
            // the running statistics it moved and the random numbers its dropout drew, so that
            // a run that captures at another step, like a resumed one, draws the same masks),
            // then run the plan for the answer.
            let saved = model.allLayers.flatMap(\.bufferSlots).map { ($0.tensor, $0.tensor.values) }
            let random = GlobalRandom.snapshot()
            let (graph, failure, _) = try withNoGrad { try ModelGraph.capture(model, input: input) }
            GlobalRandom.restore(random)
            for (tensor, values) in saved { try tensor.assign(Tensor(shape: tensor.shape, values: values)) }
            guard let graph else {
                model.plans.set(key, .eager(failure ?? ""))
                return try model(input)
            }
            let plan = ExecutionPlan(graph, inference: false, fuse: key.fuse)
            model.plans.set(key, .plan(plan))
            let (output, auxiliary) = try plan.run(input)
            (model as? AuxiliaryClassifiers)?.auxiliaryLogits = auxiliary
            return output
        }
    }

    /// Why the model runs eagerly for some input shape and mode it met, if it does.
    public var eagerReason: String? { model.plans.eagerReason }

    /// The plan for inputs of `shape` in the model's current mode and tape setting, once a
    /// call has made it.
    public func plan(for shape: [Int]) -> ExecutionPlan? {
        let key = PlanCache.Key(shape: shape, training: model.isTraining, tape: GradMode.isEnabled, fuse: options.fuse,
                                 threads: Parallel.threadCount)
        if case .plan(let plan)? = model.plans.entry(key) { return plan }
        return nil
    }
}

extension Layer {
    /// This model behind captured, fused and planned graphs (see `CompiledModel`). The
    /// model itself is unchanged and still runs eagerly when called directly; its plans are
    /// kept with it, so compiling it again is free.
    public func compiled(_ options: CompileOptions = CompileOptions()) -> CompiledModel {
        CompiledModel(self, options: options)
    }
}
