import TensorCore
import NN

/// The models Fovea can build by name, for the CLI and for checkpoints that record a name.
public enum ModelZoo {
    /// One buildable model: its canonical name, aliases, and a builder taking
    /// `(inputChannels, inputSize, classes)`.
    public struct Entry: Sendable {
        public let name: String
        public let aliases: [String]
        public let summary: String
        /// The input the model is designed for, `[C, H, W]` (`fovea summary` uses it by default).
        public let defaultInput: [Int]
        /// The class count it is designed for.
        public let defaultClasses: Int
        /// The smallest square input side it accepts.
        public let minimumSize: Int
        /// How `fovea train` trains it unless told otherwise.
        public let recipe: TrainingRecipe
        public let build: @Sendable (_ inputChannels: Int, _ inputSize: Size2D, _ classes: Int) throws -> Layer

        public init(name: String, aliases: [String] = [], summary: String, defaultInput: [Int] = [1, 28, 28],
                    defaultClasses: Int = 10, minimumSize: Int = 1, recipe: TrainingRecipe,
                    build: @escaping @Sendable (_ inputChannels: Int, _ inputSize: Size2D, _ classes: Int) throws -> Layer) {
            self.name = name
            self.aliases = aliases
            self.summary = summary
            self.defaultInput = defaultInput
            self.defaultClasses = defaultClasses
            self.minimumSize = minimumSize
            self.recipe = recipe
            self.build = build
        }

        /// Builds the model for `[C, H, W]` inputs and `classes` outputs, checking the sizes first.
        public func make(input: [Int], classes: Int) throws -> Layer {
            guard input.count == 3, input.allSatisfy({ $0 > 0 }) else {
                throw ModelZooError.badInput("\(name) takes CxHxW inputs, got \(ModelZoo.inputText(input))")
            }
            guard input[1] >= minimumSize, input[2] >= minimumSize else {
                throw ModelZooError.badInput("\(name) needs inputs of at least \(minimumSize)x\(minimumSize), got \(input[1])x\(input[2])")
            }
            guard classes >= 1 else { throw ModelZooError.badInput("\(name) needs at least 1 class, got \(classes)") }
            // Sizes may come from a file or the command line: check them against the limits
            // before any layer allocates (issue 29 finding 7).
            try ModelZoo.checkLimits(input: input)
            guard classes <= ModelZoo.maxClasses else {
                throw ModelZooError.badInput("\(name): \(classes) classes is more than the \(ModelZoo.maxClasses) allowed")
            }
            return try build(input[0], Size2D(input[1], input[2]), classes)
        }
    }

    private static let imagenet = [3, 224, 224]

    /// Every model, in display order.
    public static let entries: [Entry] = [
        Entry(name: "lenet5", aliases: ["lenet", "lenet-5"],
              summary: "LeNet-5 (LeCun et al. 1998): conv 6@5x5 pad 2, pool, conv 16@5x5, pool, dense 120-84-classes; ReLU, max pooling",
              minimumSize: 12, recipe: .lenet5) {
            try LeNet5(inputChannels: $0, inputSize: $1, classes: $2)
        },
        Entry(name: "lenet5-classic", aliases: ["lenet5-tanh"],
              summary: "LeNet-5 with tanh and average pooling, closer to the 1998 paper",
              minimumSize: 12, recipe: .lenet5) {
            try LeNet5(inputChannels: $0, inputSize: $1, classes: $2, activation: .tanh, subsampling: .average)
        },
        Entry(name: "lenet-20-50", aliases: ["lenet-seed", "lenet2050"],
              summary: "The course's PyTorch LeNet (seed 002): conv 20@5x5, pool, conv 50@5x5, pool, dense 500, classes; tanh",
              minimumSize: 16, recipe: .lenet5) {
            try LeNet20x50(inputChannels: $0, inputSize: $1, classes: $2)
        },
        Entry(name: "lenet-bn", aliases: ["lenet-modify", "lenetbn"],
              summary: "The course's LeNet_modify: conv 20@5x5, BN, PReLU, pool, conv 50@5x5, BN, PReLU, pool, dense 500, BN, PReLU, dropout 0.5, dense classes; Kaiming init, Adam",
              minimumSize: 16, recipe: .lenetBN) {
            try LeNetBN(inputChannels: $0, inputSize: $1, classes: $2)
        },
        Entry(name: "alexnet", summary: "AlexNet (Krizhevsky et al. 2012; torchvision's one-GPU form): 5 conv, 3 max pool, dense 4096-4096-classes",
              defaultInput: imagenet, defaultClasses: 1000, minimumSize: 63, recipe: .sgd) {
            try AlexNet(inputChannels: $0, classes: $2)
        },
        Entry(name: "zfnet", summary: "ZFNet (Zeiler & Fergus 2014): AlexNet with 7x7 stride-2 and 5x5 stride-2 first convolutions, local response norm",
              defaultInput: imagenet, defaultClasses: 1000, minimumSize: 47, recipe: .sgd) {
            try ZFNet(inputChannels: $0, classes: $2)
        },
    ] + vggEntries + [
        Entry(name: "googlenet", aliases: ["inception-v1"],
              summary: "GoogLeNet / Inception v1 (Szegedy et al. 2014) with batch norm, two auxiliary classifiers (weight 0.3)",
              defaultInput: imagenet, defaultClasses: 1000, minimumSize: 15, recipe: .sgd) {
            try GoogLeNet(inputChannels: $0, classes: $2)
        },
        Entry(name: "googlenet-noaux", summary: "GoogLeNet without the auxiliary classifiers",
              defaultInput: imagenet, defaultClasses: 1000, minimumSize: 15, recipe: .sgd) {
            try GoogLeNet(inputChannels: $0, classes: $2, auxiliaryClassifiers: false)
        },
        Entry(name: "inception-v3", summary: "Inception v3 (Szegedy et al. 2015): factorised inception blocks, one auxiliary classifier (weight 0.4; needs about 150x150 or more)",
              defaultInput: [3, 299, 299], defaultClasses: 1000, minimumSize: 75, recipe: .sgd) {
            try InceptionV3(inputChannels: $0, classes: $2, auxiliaryClassifier: min($1.h, $1.w) >= 150)
        },
        Entry(name: "inception-v3-noaux", summary: "Inception v3 without the auxiliary classifier",
              defaultInput: [3, 299, 299], defaultClasses: 1000, minimumSize: 75, recipe: .sgd) {
            try InceptionV3(inputChannels: $0, classes: $2, auxiliaryClassifier: false)
        },
    ] + ResNet.Depth.allCases.map { depth in
        Entry(name: "resnet\(depth.rawValue)",
              summary: "ResNet-\(depth.rawValue) (He et al. 2015): \(depth.blocks.map(String.init).joined(separator: "-")) \(depth.bottleneck ? "bottleneck" : "basic") blocks",
              defaultInput: imagenet, defaultClasses: 1000, recipe: .sgd) {
            try ResNet(depth, inputChannels: $0, classes: $2)
        }
    } + [
        Entry(name: "resnet18-cifar", aliases: ["cifar-resnet18"],
              summary: "ResNet-18 for 32x32 images: 3x3 stride-1 stem, no max pool",
              defaultInput: [3, 32, 32], defaultClasses: 10, recipe: .cifar) {
            try ResNet(.resnet18, stem: .cifar, inputChannels: $0, classes: $2)
        },
    ] + DenseNet.Depth.allCases.map { depth in
        Entry(name: "densenet\(depth.rawValue)",
              summary: "DenseNet-BC-\(depth.rawValue) (Huang et al. 2016): growth \(depth.configuration.growth), blocks \(depth.configuration.blocks.map(String.init).joined(separator: "-"))",
              defaultInput: imagenet, defaultClasses: 1000, minimumSize: 29, recipe: .sgd) {
            try DenseNet(depth, inputChannels: $0, classes: $2)
        }
    } + [
        Entry(name: "squeezenet1.0", aliases: ["squeezenet", "squeezenet1-0"],
              summary: "SqueezeNet 1.0 (Iandola et al. 2016): fire modules, convolutional classifier",
              defaultInput: imagenet, defaultClasses: 1000, minimumSize: 21, recipe: .sgd) {
            try SqueezeNet(.v1_0, inputChannels: $0, classes: $2)
        },
        Entry(name: "squeezenet1.1", aliases: ["squeezenet1-1"],
              summary: "SqueezeNet 1.1: 3x3 stem, earlier pooling, 2.4x less computation",
              defaultInput: imagenet, defaultClasses: 1000, minimumSize: 17, recipe: .sgd) {
            try SqueezeNet(.v1_1, inputChannels: $0, classes: $2)
        },
        Entry(name: "shufflenet-v2", aliases: ["shufflenet-v2-x1-0", "shufflenet"],
              summary: "ShuffleNet V2 1x (Ma et al. 2018): channel split, depthwise convolutions, channel shuffle",
              defaultInput: imagenet, defaultClasses: 1000, recipe: .sgd) {
            try ShuffleNetV2(inputChannels: $0, classes: $2)
        },
        Entry(name: "mobilenet-v2", aliases: ["mobilenet"],
              summary: "MobileNet V2 (Sandler et al. 2018): inverted residuals, linear bottlenecks, ReLU6",
              defaultInput: imagenet, defaultClasses: 1000, recipe: .sgd) {
            try MobileNetV2(inputChannels: $0, classes: $2)
        },
    ]

    private static var vggEntries: [Entry] {
        VGG.Depth.allCases.flatMap { depth in
            [false, true].map { bn in
                Entry(name: "vgg\(depth.rawValue)\(bn ? "-bn" : "")",
                      summary: "VGG-\(depth.rawValue) (Simonyan & Zisserman 2014)\(bn ? " with batch norm" : ""): 3x3 convolutions, dense 4096-4096-classes",
                      defaultInput: imagenet, defaultClasses: 1000, minimumSize: 32, recipe: .sgd) {
                    try VGG(depth, batchNorm: bn, inputChannels: $0, classes: $2)
                }
            }
        }
    }

    /// Canonical names, for messages and listings.
    public static var names: [String] { entries.map(\.name) }

    /// Finds a model by name or alias, ignoring case and treating `_` as `-`
    /// (torchvision's `vgg16_bn`, `inception_v3`, `squeezenet1_0` work too).
    public static func entry(named name: String) throws -> Entry {
        let key = name.lowercased().replacingOccurrences(of: "_", with: "-")
        let dotted = key.replacingOccurrences(of: "squeezenet1-", with: "squeezenet1.")
        guard let e = entries.first(where: { $0.name == key || $0.name == dotted || $0.aliases.contains(key) }) else {
            throw ModelZooError.unknownModel(name, known: names)
        }
        return e
    }

    /// Builds a model by name for the given input and class count.
    public static func make(_ name: String, inputChannels: Int = 1, inputSize: Size2D = 28, classes: Int = 10) throws -> Layer {
        try entry(named: name).make(input: [inputChannels, inputSize.h, inputSize.w], classes: classes)
    }
}

/// Errors from the model zoo.
public enum ModelZooError: Error, CustomStringConvertible, Equatable {
    case unknownModel(String, known: [String])
    case badInput(String)
    public var description: String {
        switch self {
        case .unknownModel(let n, let known): return "unknown model '\(n)'; known models: \(known.joined(separator: ", "))"
        case .badInput(let m): return m
        }
    }
}

extension ModelZoo {
    /// The most input channels a model is built for (`--input`, checkpoint metadata).
    public static let maxInputChannels = 1024
    /// The longest input side a model is built for.
    public static let maxInputSide = 8192
    /// The most elements one input image `C x H x W` may have (2^26: 256 MiB of floats).
    public static let maxInputElements = 1 << 26
    /// The most classes a model is built for.
    public static let maxClasses = 100_000

    /// Throws `ModelZooError.badInput` quoting the sizes unless `input` (`[C, H, W]`, each
    /// positive) is within `maxInputChannels`, `maxInputSide` and `maxInputElements`.
    public static func checkLimits(input: [Int]) throws {
        let text = inputText(input)
        guard input.count == 3, input.allSatisfy({ $0 > 0 }) else {
            throw ModelZooError.badInput("input shape must be CxHxW with positive sizes, got \(text)")
        }
        guard input[0] <= maxInputChannels else {
            throw ModelZooError.badInput("input \(text) has \(input[0]) channels, more than the \(maxInputChannels) allowed")
        }
        guard input[1] <= maxInputSide, input[2] <= maxInputSide else {
            throw ModelZooError.badInput("input \(text) has a side longer than the \(maxInputSide) allowed")
        }
        // Each factor is at most 8192 here, so the product cannot overflow.
        guard input[0] * input[1] * input[2] <= maxInputElements else {
            throw ModelZooError.badInput("input \(text) has \(input[0] * input[1] * input[2]) elements, more than the \(maxInputElements) allowed")
        }
    }

    /// Parses `CxHxW` (`3x224x224`, `1x32x32`); `HxW` alone means one channel (unless
    /// `requireChannels`). Throws quoting the text, also for sizes over the limits
    /// (`checkLimits`).
    public static func parseInput(_ text: String) throws -> [Int] { try parseInput(text, requireChannels: false) }

    /// `parseInput`, refusing `HxW` when `requireChannels`.
    public static func parseInput(_ text: String, requireChannels: Bool) throws -> [Int] {
        let parts = text.lowercased().split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
        guard parts.count == 3 || (parts.count == 2 && !requireChannels), parts.allSatisfy({ ($0 ?? 0) > 0 }) else {
            throw ModelZooError.badInput("input shape must be CxHxW with positive sizes, like 3x224x224; got '\(text)'")
        }
        let sizes = parts.map { $0! }
        let shape = sizes.count == 2 ? [1] + sizes : sizes
        try checkLimits(input: shape)
        return shape
    }

    /// `[3, 224, 224]` -> `3x224x224`, the spelling `parseInput` reads.
    public static func inputText(_ shape: [Int]) -> String { shape.map(String.init).joined(separator: "x") }
}
