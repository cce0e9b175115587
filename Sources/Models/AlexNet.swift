// AlexNet: A. Krizhevsky, I. Sutskever, G. E. Hinton, "ImageNet classification with deep
// convolutional neural networks", NeurIPS 2012; in the one-GPU form of A. Krizhevsky,
// "One weird trick for parallelizing convolutional neural networks", arXiv:1404.5997 (2014),
// which is torchvision's `alexnet`: 64-192-384-256-256 filters, no local response normalisation.
//
// Five convolutions (11x11 stride 4, 5x5, then three 3x3) with ReLU and three 3x3 stride-2
// max pools, an adaptive 6x6 average pool (so other input sizes work), and three dense layers
// with dropout 0.5. 61,100,840 parameters and 0.71 G multiply-accumulates at 3x224x224.
import TensorCore
import NN

/// AlexNet for `[N, inputChannels, H, W]` (at least 63x63) -> `[N, classes]`.
/// State-dict names: `features.{0,3,6,8,10}`, `classifier.{1,4,6}`, as torchvision's.
public final class AlexNet: FeatureClassifierNetwork, @unchecked Sendable {
    public init(inputChannels: Int = 3, classes: Int = 1000, dropout: Float = 0.5) throws {
        let features = Sequential(
            try Conv2D(inputChannels, 64, kernelSize: 11, stride: 4, padding: .uniform(2), weightInit: .pytorchDefault), ReLU(),
            try MaxPool2D(3, stride: 2),
            try Conv2D(64, 192, kernelSize: 5, padding: .uniform(2), weightInit: .pytorchDefault), ReLU(),
            try MaxPool2D(3, stride: 2),
            try Conv2D(192, 384, kernelSize: 3, padding: .uniform(1), weightInit: .pytorchDefault), ReLU(),
            try Conv2D(384, 256, kernelSize: 3, padding: .uniform(1), weightInit: .pytorchDefault), ReLU(),
            try Conv2D(256, 256, kernelSize: 3, padding: .uniform(1), weightInit: .pytorchDefault), ReLU(),
            try MaxPool2D(3, stride: 2))
        let classifier = Sequential(
            try Dropout(dropout), try Dense(256 * 6 * 6, 4096, weightInit: .pytorchDefault), ReLU(),
            try Dropout(dropout), try Dense(4096, 4096, weightInit: .pytorchDefault), ReLU(),
            try Dense(4096, classes, weightInit: .pytorchDefault))
        try super.init(inputChannels: inputChannels, features: features, pooledTo: Size2D(6, 6), classifier: classifier)
    }
}
