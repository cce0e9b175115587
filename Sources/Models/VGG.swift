// VGG: K. Simonyan, A. Zisserman, "Very deep convolutional networks for large-scale image
// recognition", ICLR 2015 (arXiv:1409.1556), Table 1 configurations A (VGG-11), B (13),
// D (16) and E (19); with batch norm after every convolution as torchvision's `vgg*_bn`.
//
// Stacks of 3x3 convolutions (padding 1) with ReLU, 2x2 max pooling between stages
// (64-128-256-512-512 filters), an adaptive 7x7 average pool, and dense 4096-4096-classes
// with dropout 0.5. Initialisation as torchvision: Kaiming normal (fan-out) convolutions,
// N(0, 0.01) dense weights, zero biases. VGG-16: 138,357,544 parameters, 15.5 G MACs at
// 3x224x224 (seed 003 works out its memory: 138M parameters, 96 MB of activations per image).
import TensorCore
import NN

/// VGG-11/13/16/19 for `[N, inputChannels, H, W]` (at least 32x32) -> `[N, classes]`.
/// State-dict names: `features.N` (convolutions and batch norms, numbered as torchvision
/// numbers its `nn.Sequential`), `classifier.{0,3,6}`.
public final class VGG: FeatureClassifierNetwork, @unchecked Sendable {
    /// The paper's configurations by depth.
    public enum Depth: Int, Sendable, CaseIterable {
        case vgg11 = 11, vgg13 = 13, vgg16 = 16, vgg19 = 19

        /// Filters per convolution, 0 for a max pool.
        var plan: [Int] {
            switch self {
            case .vgg11: return [64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0]
            case .vgg13: return [64, 64, 0, 128, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0]
            case .vgg16: return [64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0]
            case .vgg19: return [64, 64, 0, 128, 128, 0, 256, 256, 256, 256, 0, 512, 512, 512, 512, 0, 512, 512, 512, 512, 0]
            }
        }
    }

    public init(_ depth: Depth, batchNorm: Bool = false, inputChannels: Int = 3, classes: Int = 1000,
                dropout: Float = 0.5) throws {
        var layers: [Layer] = []
        var channels = inputChannels
        for filters in depth.plan {
            if filters == 0 { layers.append(try MaxPool2D(2, stride: 2)); continue }
            layers.append(try Conv2D(channels, filters, kernelSize: 3, padding: .uniform(1), weightInit: .fanOutNormal))
            if batchNorm { layers.append(try BatchNorm2D(filters)) }
            layers.append(ReLU())
            channels = filters
        }
        let dense = Initializer.normal(mean: 0, std: 0.01)
        let classifier = Sequential(
            try Dense(512 * 7 * 7, 4096, weightInit: dense), ReLU(), try Dropout(dropout),
            try Dense(4096, 4096, weightInit: dense), ReLU(), try Dropout(dropout),
            try Dense(4096, classes, weightInit: dense))
        try super.init(inputChannels: inputChannels, features: Sequential(layers), pooledTo: Size2D(7, 7), classifier: classifier)
    }
}
