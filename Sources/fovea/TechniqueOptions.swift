import ArgumentParser
import Foundation
import Fovea

/// The training techniques `fovea train` can switch on: optimizer and its settings,
/// regularisation, clipping and label smoothing. Unset values come from the model's recipe.
struct TechniqueOptions: ParsableArguments {
    @Option(help: "Optimizer: sgd, adam, adamw, adagrad or rmsprop (default: the model's recipe).")
    var optimizer: String?
    @Option(parsing: .unconditional, help: "Weight decay: L2 added to the gradient (sgd, adam, adagrad, rmsprop) or decoupled (adamw, default 0.01).")
    var weightDecay: Float?
    @Flag(help: "Nesterov momentum (sgd).")
    var nesterov = false
    @Option(parsing: .unconditional, help: "Adam/AdamW beta1.")
    var beta1: Float = 0.9
    @Option(parsing: .unconditional, help: "Adam/AdamW beta2.")
    var beta2: Float = 0.999
    @Option(parsing: .unconditional, help: "Epsilon of adam, adamw, adagrad, rmsprop (default: the optimizer's own).")
    var eps: Float?
    @Option(parsing: .unconditional, help: "Clip the joint gradient norm to this value before each step.")
    var clipNorm: Float?
    @Option(parsing: .unconditional, help: "Clamp every gradient element to [-V, V] before each step.")
    var clipValue: Float?
    @Option(parsing: .unconditional, help: "Drop probability of every dropout layer in the model, in [0, 1).")
    var dropout: Float?
    @Option(parsing: .unconditional, help: "Label smoothing of the cross-entropy targets, in [0, 1).")
    var labelSmoothing: Float = 0
    @Option(parsing: .unconditional, help: "L1 penalty strength on conv/dense weights (lambda * sum |w|).")
    var l1: Float = 0
    @Option(parsing: .unconditional, help: "L2 penalty strength on conv/dense weights (lambda/2 * sum w^2).")
    var l2: Float = 0

    func validate() throws {
        if let optimizer {
            do { _ = try OptimizerKind(named: optimizer) } catch { throw ValidationError("--optimizer: \(error)") }
        }
        try OptionCheck.real("--weight-decay", weightDecay, .nonNegative)
        try OptionCheck.real("--beta1", beta1, .fraction)
        try OptionCheck.real("--beta2", beta2, .fraction)
        try OptionCheck.real("--eps", eps, .positive)
        try OptionCheck.real("--clip-norm", clipNorm, .positive)
        try OptionCheck.real("--clip-value", clipValue, .positive)
        try OptionCheck.real("--dropout", dropout, .fraction)
        try OptionCheck.real("--label-smoothing", labelSmoothing, .fraction)
        try OptionCheck.real("--l1", l1, .nonNegative)
        try OptionCheck.real("--l2", l2, .nonNegative)
    }

    /// The optimizer for `model`'s parameters.
    /// The optimizer over `model`'s parameters, or over `groups` when given (fine-tuning).
    func makeOptimizer(for model: Layer, recipe: TrainingRecipe, learningRate: Float, momentum: Float?,
                       groups: [ParameterGroup]? = nil) throws -> (OptimizerKind, Optimizer) {
        let kind = try OptimizerKind(named: optimizer ?? recipe.optimizer)
        if nesterov && kind != .sgd { throw ValidationError("--nesterov applies to sgd, not \(kind.rawValue)") }
        let decay = weightDecay ?? (kind == .adamw ? 0.01 : recipe.weightDecay)
        let mu = momentum ?? (kind == .sgd ? recipe.momentum : 0)
        let settings = OptimizerKind.Settings(learningRate: learningRate, momentum: mu, nesterov: nesterov,
                                              weightDecay: decay, beta1: beta1, beta2: beta2, eps: eps)
        if let groups { return (kind, try kind.make(groups: groups, settings)) }
        return (kind, try kind.make(parameters: model.parameters, settings))
    }

    /// Installs dropout, label smoothing, penalties and clipping on `trainer`.
    func apply(to trainer: Trainer) throws {
        let model = trainer.model
        if let dropout {
            let layers = model.allLayers.compactMap { $0 as? DropoutLayer }
            guard !layers.isEmpty else { throw ValidationError("--dropout: the model has no dropout layers") }
            for layer in layers { try layer.setProbability(dropout) }
        }
        if labelSmoothing > 0 {
            let smoothing = labelSmoothing
            trainer.loss = { logits, labels in try Tensor.crossEntropy(logits: logits, targets: labels, labelSmoothing: smoothing) }
        }
        if l1 > 0 || l2 > 0 {
            let weights = Regularization.penalisedWeights(of: model), l1 = self.l1, l2 = self.l2
            trainer.penalty = {
                var total = Tensor(scalar: 0)
                if l1 > 0 { total = try total + Regularization.l1(weights, lambda: l1) }
                if l2 > 0 { total = try total + Regularization.l2(weights, lambda: l2) }
                return total
            }
        }
        if clipNorm != nil || clipValue != nil {
            let parameters = model.parameters, clipNorm = self.clipNorm, clipValue = self.clipValue
            trainer.beforeStep = {
                if let clipValue { try GradientClipping.clipValue(parameters, clipValue: clipValue) }
                if let clipNorm { try GradientClipping.clipNorm(parameters, maxNorm: clipNorm) }
            }
        }
    }

    /// What is switched on, for the run's header line and metrics.
    var summary: String {
        var parts: [String] = []
        if let dropout { parts.append("dropout \(dropout)") }
        if labelSmoothing > 0 { parts.append("label smoothing \(labelSmoothing)") }
        if l1 > 0 { parts.append("L1 \(l1)") }
        if l2 > 0 { parts.append("L2 \(l2)") }
        if let clipNorm { parts.append("clip norm \(clipNorm)") }
        if let clipValue { parts.append("clip value \(clipValue)") }
        return parts.joined(separator: ", ")
    }
}
