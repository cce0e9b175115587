import Foundation
import TensorCore
import NN
import Models
import Datasets
import Interop

/// A trained image classifier loaded from a checkpoint written by `fovea train`
/// (`Checkpoint.save` with the metadata keys `model`, `input`, `classes`, `class_names`,
/// `normalize_mean`, `normalize_std`).
///
/// ```swift
/// let classifier = try Classifier(contentsOf: URL(fileURLWithPath: "runs/lenet5/model.safetensors"))
/// let image = try PNG.readGrayscale(contentsOf: URL(fileURLWithPath: "digit.png"))
/// for (name, p) in try classifier.top(3, of: image) { print(name, p) }
/// ```
public final class Classifier {
    /// The network, in evaluation mode.
    public let model: Layer
    /// The zoo name the network was built from.
    public let modelName: String
    /// Input channels, height and width the network expects.
    public let inputChannels: Int
    public let inputSize: Size2D
    /// One name per output class.
    public let classNames: [String]
    /// Per-channel normalisation applied to pixels in [0, 1] before the network.
    public let mean: [Float]
    public let std: [Float]
    /// How images of another size are fitted to the input (metadata `fit`, written when the
    /// training data were padded or resized); nil means images must have the input size.
    public let fitMode: ImageFitting.Mode?
    /// Every metadata entry of the checkpoint (`dataset`, `model`, ...).
    public let metadata: [String: String]

    /// Loads the weights at `url` and rebuilds the model named in its metadata.
    ///
    /// - Throws: `ClassifierError.missingMetadata` / `.badMetadata` for a checkpoint that does not
    ///   say how to rebuild its model, `ModelZooError` for an unknown model, `LayerError.stateMismatch`
    ///   when the tensors do not fit it, and the `SafetensorsError`s of a corrupt file.
    public init(contentsOf url: URL) throws {
        let (state, metadata) = try Checkpoint.load(from: url)
        self.metadata = metadata
        func field(_ key: String) throws -> String {
            guard let v = metadata[key] else { throw ClassifierError.missingMetadata(path: url.path, key: key) }
            return v
        }
        modelName = try field("model")
        let input: [Int]
        do { input = try ModelZoo.parseInput(try field("input"), requireChannels: true) } catch let error as ModelZooError {
            // Sizes from the file are checked against ModelZoo's limits before anything is
            // allocated (issue 29 finding 7).
            throw ClassifierError.badMetadata(path: url.path, key: "input", value: metadata["input"] ?? "",
                                              expected: "CxHxW, e.g. 1x28x28 (\(error))")
        }
        inputChannels = input[0]
        inputSize = Size2D(input[1], input[2])
        guard let classes = Int(try field("classes")), classes > 0, classes <= ModelZoo.maxClasses else {
            throw ClassifierError.badMetadata(path: url.path, key: "classes", value: metadata["classes"] ?? "",
                                              expected: "an integer in 1...\(ModelZoo.maxClasses)")
        }
        if let names = metadata["class_names"]?.split(separator: ",", omittingEmptySubsequences: false).map(String.init),
           names.count == classes {
            classNames = names
        } else {
            classNames = (0..<classes).map(String.init)
        }
        func floats(_ key: String, default value: Float) throws -> [Float] {
            guard let text = metadata[key] else { return Array(repeating: value, count: input[0]) }
            let values = text.split(separator: ",").compactMap { Float($0.trimmingCharacters(in: .whitespaces)) }
            // NaN, infinities and a zero std would turn every pixel into NaN (issue 29 finding 6).
            guard values.count == 1 || values.count == input[0],
                  values.allSatisfy({ $0.isFinite && (key != "normalize_std" || $0 != 0) }) else {
                throw ClassifierError.badMetadata(path: url.path, key: key, value: text,
                                                  expected: "1 or \(input[0]) comma-separated finite numbers"
                                                    + (key == "normalize_std" ? ", none of them 0" : ""))
            }
            return values.count == 1 ? Array(repeating: values[0], count: input[0]) : values
        }
        mean = try floats("normalize_mean", default: 0)
        std = try floats("normalize_std", default: 1)
        if let text = metadata["fit"] {
            guard let mode = ImageFitting.Mode(rawValue: text) else {
                throw ClassifierError.badMetadata(path: url.path, key: "fit", value: text, expected: "pad or resize")
            }
            fitMode = mode
        } else {
            fitMode = nil
        }
        // Weights with NaN or infinities give NaN probabilities, which no answer can rank or
        // print (issue 29 finding 6): refuse them here, naming the tensors.
        let nonFinite = state.keys.sorted().compactMap { name -> String? in
            let bad = state[name]!.values.reduce(0) { $1.isFinite ? $0 : $0 + 1 }
            return bad == 0 ? nil : "'\(name)' (\(bad) of \(state[name]!.count) values)"
        }
        guard nonFinite.isEmpty else { throw ClassifierError.nonFiniteWeights(path: url.path, tensors: nonFinite) }
        let entry = try ModelZoo.entry(named: modelName)
        model = try entry.make(input: input, classes: classes)
        try model.loadStateDict(state)
        model.eval()
    }

    /// Wraps a model already in memory (a user's own network, say) with what serving and
    /// prediction need to know: its class names, its input and the normalisation it was
    /// trained with. The model is put in evaluation mode.
    ///
    /// ```swift
    /// let classifier = try Classifier(model: model, name: "tiny-resnet", classNames: MNIST.classNames,
    ///                                 inputChannels: 1, inputSize: Size2D(28, 28),
    ///                                 mean: [MNIST.mean], std: [MNIST.std])
    /// ```
    ///
    /// - Parameters:
    ///   - mean, std: one value per input channel, or one for all of them; every std non-zero.
    ///   - fitMode: how images of another size are fitted (nil: they must have `inputSize`).
    ///   - metadata: what `metadata` reports (the checkpoint's entries, for a loaded model).
    /// - Throws: `ClassifierError.badMetadata` for no class names, a non-positive input size
    ///   or channel count, or a mean or std of the wrong length, not finite, or a zero std.
    public init(model: Layer, name: String, classNames: [String], inputChannels: Int, inputSize: Size2D,
                mean: [Float], std: [Float], fitMode: ImageFitting.Mode? = nil, metadata: [String: String] = [:]) throws {
        func bad(_ key: String, _ value: String, _ expected: String) -> ClassifierError {
            .badMetadata(path: "<model \(name)>", key: key, value: value, expected: expected)
        }
        guard !classNames.isEmpty else { throw bad("class_names", "", "at least one class name") }
        guard inputChannels > 0, inputSize.h > 0, inputSize.w > 0 else {
            throw bad("input", "\(inputChannels)x\(inputSize.h)x\(inputSize.w)", "positive channels, height and width")
        }
        func perChannel(_ key: String, _ values: [Float]) throws -> [Float] {
            guard values.count == 1 || values.count == inputChannels,
                  values.allSatisfy({ $0.isFinite && (key != "normalize_std" || $0 != 0) }) else {
                throw bad(key, values.map { "\($0)" }.joined(separator: ","),
                          "1 or \(inputChannels) finite numbers" + (key == "normalize_std" ? ", none of them 0" : ""))
            }
            return values.count == 1 ? Array(repeating: values[0], count: inputChannels) : values
        }
        self.mean = try perChannel("normalize_mean", mean)
        self.std = try perChannel("normalize_std", std)
        self.model = model
        self.modelName = name
        self.classNames = classNames
        self.inputChannels = inputChannels
        self.inputSize = inputSize
        self.fitMode = fitMode
        self.metadata = metadata
        model.eval()
    }

    /// Class probabilities for a batch `[N, C, H, W]` of pixels in [0, 1]: `[N, classes]`.
    public func probabilities(_ batch: Tensor) throws -> Tensor {
        let expected = [inputChannels, inputSize.h, inputSize.w]
        guard batch.rank == 4, Array(batch.shape.dropFirst()) == expected else {
            throw TensorError.shapeMismatch(op: "Classifier.probabilities",
                                            "input \(describe(batch.shape)), expected [N, \(expected.map(String.init).joined(separator: ", "))]")
        }
        let x = normalized(batch)
        return try withNoGrad { try model.compiled()(x).softmax(axis: 1) }
    }

    /// A copy of `batch` (`[N, C, H, W]`, pixels in [0, 1], the model's input shape) with the
    /// training normalisation `(x - mean[c]) / std[c]` applied: what the network sees.
    public func normalized(_ batch: Tensor) -> Tensor {
        let x = batch.detached()
        let plane = inputSize.h * inputSize.w
        let p = x.pointer
        for n in 0..<batch.shape[0] {
            for c in 0..<inputChannels {
                let base = (n * inputChannels + c) * plane
                let m = mean[c], s = 1 / std[c]
                for i in base..<(base + plane) { p[i] = (p[i] - m) * s }
            }
        }
        return x
    }

    /// Class probabilities of one image (converted to the model's channel count).
    /// An image of another size is padded or resized as the training data were (`fitMode`);
    /// a grey image is repeated over the channels of a colour model.
    ///
    /// - Throws: `ClassifierError.nonFiniteOutput` when the network's outputs overflow (NaN
    ///   probabilities cannot be ranked or shown; issue 29 finding 6).
    public func probabilities(of image: Image) throws -> [Float] {
        let p = try probabilities(pixels(of: image)).values
        let bad = p.reduce(0) { $1.isFinite ? $0 : $0 + 1 }
        guard bad == 0 else { throw ClassifierError.nonFiniteOutput(count: bad, classes: p.count) }
        return p
    }

    /// `image` as the model's input `[1, C, H, W]`, pixels in [0, 1] before normalisation:
    /// converted to the model's channel count, and padded or resized as the training data
    /// were when its size differs.
    public func pixels(of image: Image) throws -> Tensor {
        let sameSize = image.width == inputSize.w && image.height == inputSize.h
        guard sameSize || fitMode != nil else {
            throw DatasetError.imageSize(path: nil, width: image.width, height: image.height,
                                         expectedWidth: inputSize.w, expectedHeight: inputSize.h)
        }
        let ready = inputChannels == 1 || image.channels == 2 ? image.grayscale() : image
        guard ready.channels == inputChannels || ready.channels == 1 else {
            throw ClassifierError.channels(got: image.channels, expected: inputChannels)
        }
        return try ImageFitting.fit(ready.toTensor(), to: [inputChannels, inputSize.h, inputSize.w],
                                    mode: sameSize ? nil : fitMode)
    }

    /// The `k` most probable classes of `image`, most probable first.
    public func top(_ k: Int, of image: Image) throws -> [(name: String, probability: Float)] {
        let p = try probabilities(of: image)
        // NaN (an overflowing model) ranks last, so the order is a strict weak one.
        let key = p.map { $0.isNaN ? -Float.infinity : $0 }
        return p.indices.sorted { key[$0] > key[$1] || (key[$0] == key[$1] && $0 < $1) }
            .prefix(max(0, k)).map { (classNames[$0], p[$0]) }
    }
}

/// Why a checkpoint cannot be used as a classifier.
public enum ClassifierError: Error, CustomStringConvertible, Equatable {
    case missingMetadata(path: String, key: String)
    case badMetadata(path: String, key: String, value: String, expected: String)
    case channels(got: Int, expected: Int)
    /// Tensors holding NaN or infinite values, each named with its count of bad values.
    case nonFiniteWeights(path: String, tensors: [String])
    /// The network gave NaN or infinite probabilities for `count` of `classes` classes.
    case nonFiniteOutput(count: Int, classes: Int)

    public var description: String {
        switch self {
        case let .missingMetadata(path, key):
            return "\(path): checkpoint metadata has no '\(key)' entry, so the model cannot be rebuilt (was it written by `fovea train`?)"
        case let .badMetadata(path, key, value, expected):
            return "\(path): checkpoint metadata '\(key)' is '\(value)', expected \(expected)"
        case let .channels(got, expected):
            return "image has \(got) channels, the model expects \(expected)"
        case let .nonFiniteWeights(path, tensors):
            return "\(path): the weights hold NaN or infinite values, in \(tensors.count) tensor\(tensors.count == 1 ? "" : "s"): "
                + tensors.joined(separator: ", ") + " (the training diverged or the file is damaged)"
        case let .nonFiniteOutput(count, classes):
            return "the model's output is NaN or infinite for \(count) of its \(classes) classes on this image "
                + "(its activations overflow Float); no class can be ranked"
        }
    }
}
