import Synchronization
import TensorCore

/// The base class of every layer and model, like PyTorch's `nn.Module`.
///
/// A layer holds its parameters and configuration and maps a tensor to a tensor in
/// `forward` (usually one tensor op). Parameters, buffers and sub-layers are plain stored
/// properties, found by reflection and named after them as in PyTorch's `state_dict`
/// (`conv1.weight`, `blocks.0.bias`); nothing is listed by hand:
///
/// ```swift
/// final class TinyNet: Layer, @unchecked Sendable {
///     let conv: Conv2D                        // child "conv"
///     let blocks: [[Layer]]                   // children "blocks.0.0", "blocks.0.1", ...
///     let head: Dense?                        // child "head"; nothing while nil
///     let scale: Tensor                       // parameter "scale"
///     @Buffer var seen = Tensor(scalar: 0)    // buffer "seen": saved, not trained
///     @Unregistered var tied: Layer? = nil    // a layer owned elsewhere: left out
///
///     init(classes: Int?) throws {
///         conv = try Conv2D(3, 8, kernelSize: 3, padding: .uniform(1))
///         blocks = [[try Conv2D(8, 8, kernelSize: 3, padding: .uniform(1)), ReLU()]]
///         head = try classes.map { try Dense(8, $0) }
///         scale = Tensor(repeating: 1, shape: [1, 8, 1, 1], requiresGrad: true)
///         super.init()
///     }
///
///     override func forward(_ x: Tensor) throws -> Tensor { ... }
/// }
/// ```
///
/// The rules (superclass properties first, declaration order, arrays, dictionaries, `lazy`)
/// are in `Layer+Registration.swift`. The result is cached per instance: after giving a
/// `var` property another layer or tensor, call `invalidateRegistration()`. A subclass whose
/// names cannot come from properties (`Sequential`) overrides `children`, `parameterSlots`
/// or `bufferSlots`.
open class Layer: @unchecked Sendable {
    /// True while training (dropout active, batch statistics used), false for evaluation.
    public private(set) var isTraining = true
    /// The execution plans `compiled()` has made for this layer as a model (see `CompiledModel`).
    public let plans = PlanCache()

    /// The reflected parameters, buffers and children, computed on first use.
    let registrationCache = Mutex<Registration?>(nil)

    public init() {}

    /// Computes the layer's output. Subclasses override.
    open func forward(_ input: Tensor) throws -> Tensor {
        fatalError("\(type(of: self)) must override forward(_:)")
    }

    /// Trainable tensors owned directly by this layer, with their local names ("weight", "bias"):
    /// by default its `Tensor` properties.
    open var parameterSlots: [(name: String, tensor: Tensor)] { registration.parameters }

    /// Non-trainable state saved with the weights (running statistics), with local names: by
    /// default its `@Buffer` properties.
    open var bufferSlots: [(name: String, tensor: Tensor)] { registration.buffers }

    /// Direct sub-layers with their names ("conv1", "0"): by default its layer properties,
    /// array elements named by dotted position ("blocks.0", "blocks.1.0").
    open var children: [(name: String, layer: Layer)] { registration.children }

    /// A short description of the configuration for summaries: "1 -> 6, kernel 5, padding 2".
    open var configuration: String { "" }

    /// The type name shown in summaries ("Conv2D").
    open var typeName: String { String(describing: type(of: self)) }

    /// Applies the layer: `layer(x)`. Inside `LayerTrace.record` the call is also recorded
    /// (layer, input and output shapes) for summaries.
    /// While a graph is captured (`compiled()`), the call is recorded: as one module node
    /// for a `PrimitiveLayer`, else through the ops and layers its `forward` calls.
    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        if let recorder = GraphRecorder.current {
            return try recorder.call(self, primitive: self is PrimitiveLayer, input: input) { try traced(input) }
        }
        return try traced(input)
    }

    private func traced(_ input: Tensor) throws -> Tensor {
        guard let trace = LayerTrace.current else { return try forward(input) }
        return try trace.call(self, input) { try forward(input) }
    }

    /// Multiply-accumulate operations of one `forward` from `inputShape` to `outputShape`
    /// (whole batch). Layers with weights override: a convolution costs
    /// `output elements x (inChannels / groups) x kh x kw`, a dense layer
    /// `rows x inFeatures x outFeatures`. Element-wise layers and pooling count 0, as in the
    /// published model figures.
    open func multiplyAccumulates(inputShape: [Int], outputShape: [Int]) -> Int { 0 }

    /// Every trainable tensor of this layer and its descendants, with dotted names, in
    /// declaration order.
    public func namedParameters(prefix: String = "") -> [(name: String, tensor: Tensor)] {
        parameterSlots.map { (prefix + $0.name, $0.tensor) }
            + children.flatMap { $0.layer.namedParameters(prefix: prefix + $0.name + ".") }
    }

    /// This layer and every descendant, depth first, parents before children.
    public var allLayers: [Layer] { [self] + children.flatMap { $0.layer.allLayers } }

    /// The trainable tensors (for an optimizer).
    public var parameters: [Tensor] { namedParameters().map(\.tensor) }

    /// Parameters and buffers by dotted name: what a checkpoint stores.
    public func stateDict(prefix: String = "") -> [(name: String, tensor: Tensor)] {
        parameterSlots.map { (prefix + $0.name, $0.tensor) } + bufferSlots.map { (prefix + $0.name, $0.tensor) }
            + children.flatMap { $0.layer.stateDict(prefix: prefix + $0.name + ".") }
    }

    /// Copies values from `state` into this layer's parameters and buffers, matching names.
    /// Throws naming the first missing, unexpected or mis-shaped entry; nothing is changed
    /// unless every entry fits.
    public func loadStateDict(_ state: [String: Tensor]) throws {
        let mine = stateDict()
        let names = Set(mine.map(\.name))
        if let missing = mine.first(where: { state[$0.name] == nil }) {
            throw LayerError.stateMismatch("missing entry '\(missing.name)' of shape \(describe(missing.tensor.shape))")
        }
        if let extra = state.keys.sorted().first(where: { !names.contains($0) }) {
            throw LayerError.stateMismatch("unexpected entry '\(extra)'")
        }
        for (name, tensor) in mine where state[name]!.shape != tensor.shape {
            throw LayerError.stateMismatch("'\(name)' has shape \(describe(state[name]!.shape)), the model expects \(describe(tensor.shape))")
        }
        for (name, tensor) in mine { try tensor.assign(state[name]!) }
    }

    /// Switches this layer and all descendants to training (`true`) or evaluation mode.
    public func train(_ on: Bool = true) {
        isTraining = on
        for c in children { c.layer.train(on) }
    }

    /// Switches to evaluation mode (`train(false)`).
    public func eval() { train(false) }

    /// Clears the gradients of every parameter.
    public func zeroGrad() { for p in parameters { p.grad = nil } }

    /// Total number of scalar parameters.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }
}

/// Errors from building or loading layers.
/// Limits on what a layer's constructor allocates, so that sizes from a file or the command
/// line cannot overflow or ask for absurd memory (issue 29 finding 7).
public enum LayerLimits {
    /// The most elements one parameter tensor may have (2^28: 1 GiB of floats; VGG-16's
    /// largest, fc6, has 1.0e8).
    public static let maxParameters = 1 << 28

    /// Throws `LayerError.invalidConfiguration` naming `layer` and `shape` unless the
    /// product of `shape` is at most `maxParameters` (checked without overflow).
    public static func check(_ shape: [Int], of layer: String) throws {
        var count = 1
        for d in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow, product <= maxParameters else {
                throw LayerError.invalidConfiguration("\(layer) weight of shape \(shape) has more than the \(maxParameters) elements a parameter may have")
            }
            count = product
        }
    }
}

public enum LayerError: Error, CustomStringConvertible, Equatable {
    /// A configuration value is invalid; the message quotes it.
    case invalidConfiguration(String)
    /// A state dict does not fit the model.
    case stateMismatch(String)

    public var description: String {
        switch self {
        case .invalidConfiguration(let m): return "invalid layer configuration: \(m)"
        case .stateMismatch(let m): return "state dict does not fit the model: \(m)"
        }
    }
}

/// A layer that a captured graph (`Layer.compiled()`) records and runs as one node, not
/// through the ops its `forward` calls: layers with state that changes as they run (batch
/// norm's running statistics, dropout's random generator) or an op the graph does not
/// record one by one. Other layers, a user's own included, are traced through.
public protocol PrimitiveLayer: Layer {}
