import TensorCore

/// A model with auxiliary classifiers on intermediate layers (GoogLeNet, Inception v3).
///
/// While training, `forward` returns the main logits and leaves the auxiliary heads' logits
/// in `auxiliaryLogits`; the trainer adds `auxiliaryLossWeight` times each head's loss to the
/// main loss (Szegedy et al. 2014 use 0.3). In evaluation mode, or with the heads switched off,
/// `auxiliaryLogits` is empty and the model is an ordinary classifier.
public protocol AuxiliaryClassifiers: AnyObject {
    /// `[N, classes]` logits of each auxiliary head from the last training-mode forward pass
    /// (set by the model's `forward`, or by a compiled plan that replays it).
    var auxiliaryLogits: [Tensor] { get set }
    /// The weight of each auxiliary loss in the training objective.
    var auxiliaryLossWeight: Float { get }
}
