import ArgumentParser
import Foundation
import Fovea

/// Starting from pretrained weights (`fovea finetune`, or `fovea train --weights`): which
/// tensors are loaded, which layers are frozen, and how fast the new head learns.
struct TransferOptions: ParsableArguments {
    @Option(help: "Pretrained weights to start from (a Fovea checkpoint, or a torchvision state dict converted by Scripts/torchvision_to_safetensors.py); every tensor whose name and shape fit is loaded, the rest (a head for another class count) starts fresh.")
    var weights: String?
    @Option(help: "Freeze the parameters under this dotted-name prefix (repeatable): conv1, features, layer1 ...")
    var freeze: [String] = []
    @Option(help: "The head's parameters, by prefix (repeatable; default: whatever the weights did not fill, else the last layer with weights).")
    var head: [String] = []
    @Flag(help: "Keep the head's pretrained weights when the class count is unchanged (default: a new, freshly initialised head).")
    var keepHead = false
    @Option(parsing: .unconditional, help: "Learning rate of the head (default: --lr, like the body).")
    var headLr: Float?
    @Option(parsing: .unconditional, help: "Expected class count of the new data; an error when the data have another.")
    var classes: Int?

    func validate() throws {
        if weights == nil {
            for (flag, given) in [("--freeze", !freeze.isEmpty), ("--head", !head.isEmpty), ("--head-lr", headLr != nil)] where given {
                throw ValidationError("\(flag) needs --weights (the pretrained model to fine-tune)")
            }
        }
        try OptionCheck.real("--head-lr", headLr, .positive)
        try OptionCheck.whole("--classes", classes, in: 2...OptionCheck.maximumClasses)
        try OptionCheck.path("--weights", weights)
    }

    /// The zoo model the weights were saved from, when their metadata says.
    func pretrainedModelName() throws -> String? {
        guard let weights else { return nil }
        return try Checkpoint.load(from: URL(fileURLWithPath: weights)).metadata["model"]
    }

    /// Loads the weights into `net`, freezes, and returns the optimizer's parameter groups
    /// (nil: train every parameter at the run's learning rate) and a line describing what was done.
    func prepare(_ net: Layer, classNames: [String]) throws -> (groups: [ParameterGroup]?, summary: String)? {
        guard let weights else { return nil }
        if let classes, classes != classNames.count {
            throw ValidationErrorText("--classes \(classes), but the data have \(classNames.count) classes (\(classNames.joined(separator: ", ")))")
        }
        let (state, _) = try Checkpoint.load(from: URL(fileURLWithPath: weights))
        let fresh = Dictionary(net.stateDict().map { ($0.name, $0.tensor.detached()) }, uniquingKeysWith: { a, _ in a })
        let report = net.loadMatchingState(state)
        guard !report.loaded.isEmpty else {
            throw ValidationErrorText("none of the \(state.count) tensors in \(weights) fits the model (first: \(report.skipped.prefix(3).joined(separator: "; "))); pass the --model they were trained as")
        }
        let parameterNames = net.namedParameters().map(\.name)
        var headPrefixes = head
        if headPrefixes.isEmpty {
            let fresh = parameterNames.filter { !report.loaded.contains($0) }
            headPrefixes = fresh.isEmpty ? [String(parameterNames.last!.split(separator: ".").dropLast().joined(separator: "."))] : fresh
        }
        let headNames = try net.setTrainable(true, under: headPrefixes)
        // A new head: the freshly initialised weights, unless asked to keep loaded ones.
        var renewed = false
        if !keepHead {
            for (name, tensor) in net.namedParameters() where headNames.contains(name) && report.loaded.contains(name) {
                tensor.pointer.update(from: fresh[name]!.pointer, count: tensor.count)
                renewed = true
            }
        }
        let frozen = try net.freeze(freeze)
        if let clash = frozen.first(where: headNames.contains) {
            throw ValidationErrorText("--freeze covers the head parameter '\(clash)'; freeze the body only")
        }
        let headSet = Set(headNames)
        let named = net.namedParameters()
        let headParameters = named.filter { headSet.contains($0.name) }.map(\.tensor)
        let bodyParameters = named.filter { !headSet.contains($0.name) && $0.tensor.requiresGrad }.map(\.tensor)
        let groups: [ParameterGroup]? = headLr == nil && frozen.isEmpty ? nil
            : [ParameterGroup(headParameters, learningRate: headLr)] + (bodyParameters.isEmpty ? [] : [ParameterGroup(bodyParameters)])
        let trainable = named.filter { $0.tensor.requiresGrad }.reduce(0) { $0 + $1.tensor.count }
        let summary = "Fine-tuning from \(weights): \(report.loaded.count) of \(net.stateDict().count) tensors loaded"
            + (report.skipped.isEmpty ? "" : ", skipped \(report.skipped.joined(separator: ", "))")
            + "; \(renewed || report.loaded.count < parameterNames.count ? "new head" : "head") \(Self.compact(headNames))\(headLr.map { " at lr \($0)" } ?? "")"
            + (frozen.isEmpty ? "" : "; frozen \(freeze.joined(separator: ", ")) (\(frozen.count) tensors)")
            + "; \(trainable) of \(net.parameterCount) parameters train"
        return (groups, summary)
    }

    /// `fc.weight, fc.bias` as is; long lists shortened.
    static func compact(_ names: [String]) -> String {
        names.count <= 4 ? names.joined(separator: ", ") : names.prefix(3).joined(separator: ", ") + " and \(names.count - 3) more"
    }
}
