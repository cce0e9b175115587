// ZFNet: M. D. Zeiler, R. Fergus, "Visualizing and understanding convolutional networks",
// ECCV 2014 (arXiv:1311.2901), Figure 3.
//
// AlexNet with the first layers changed after looking at their features: 96 7x7 filters
// with stride 2 (instead of 11x11 stride 4) and 256 5x5 filters with stride 2, each followed
// by ReLU, 3x3 stride-2 max pooling and contrast normalisation across feature maps (here local
// response normalisation with AlexNet's size 5, alpha 1e-4, beta 0.75, k 2); then 384, 384 and
// 256 3x3 filters, a last pool, and dense 4096-4096-classes with dropout 0.5. Pools round up,
// which gives the paper's map sizes at 224x224: 110, 55, 26, 13, 13, 13, 6. The paper names
// no official weights; the state-dict names follow AlexNet's layout (`features.N`,
// `classifier.N`). An adaptive 6x6 average pool lets other input sizes through.
import TensorCore
import NN

/// ZFNet for `[N, inputChannels, H, W]` (at least 47x47) -> `[N, classes]`.
public final class ZFNet: FeatureClassifierNetwork, @unchecked Sendable {
    public init(inputChannels: Int = 3, classes: Int = 1000, dropout: Float = 0.5) throws {
        func lrn() throws -> LocalResponseNorm { try LocalResponseNorm(size: 5, alpha: 1e-4, beta: 0.75, k: 2) }
        let features = Sequential(
            try Conv2D(inputChannels, 96, kernelSize: 7, stride: 2, padding: .uniform(1), weightInit: .fanOutNormal), ReLU(),
            try MaxPool2D(3, stride: 2, ceilMode: true), try lrn(),
            try Conv2D(96, 256, kernelSize: 5, stride: 2, weightInit: .fanOutNormal), ReLU(),
            try MaxPool2D(3, stride: 2, ceilMode: true), try lrn(),
            try Conv2D(256, 384, kernelSize: 3, padding: .uniform(1), weightInit: .fanOutNormal), ReLU(),
            try Conv2D(384, 384, kernelSize: 3, padding: .uniform(1), weightInit: .fanOutNormal), ReLU(),
            try Conv2D(384, 256, kernelSize: 3, padding: .uniform(1), weightInit: .fanOutNormal), ReLU(),
            try MaxPool2D(3, stride: 2, ceilMode: true))
        let dense = Initializer.normal(mean: 0, std: 0.01)
        let classifier = Sequential(
            try Dropout(dropout), try Dense(256 * 6 * 6, 4096, weightInit: dense), ReLU(),
            try Dropout(dropout), try Dense(4096, 4096, weightInit: dense), ReLU(),
            try Dense(4096, classes, weightInit: dense))
        try super.init(inputChannels: inputChannels, features: features, pooledTo: Size2D(6, 6), classifier: classifier)
    }
}
