import Foundation
import Fovea

/// What `fovea train` trains and tests on: MNIST (bundled), or the user's images (`--data`,
/// an ImageFolder or a CSV of labels), fitted to the model input and normalised.
struct TrainingData {
    /// "MNIST" or the path of the user's data.
    let name: String
    let train: LabeledImages
    let validation: LabeledImages?
    /// MNIST's test split; user data have none (the validation split is reported instead).
    let test: LabeledImages?
    let shape: [Int]
    let fitMode: ImageFitting.Mode?
    let mean: [Float]
    let std: [Float]
    /// The line printed after loading.
    let summary: String
    /// Checkpoint metadata saying how inputs were prepared and where the data came from.
    let metadata: [String: String]

    var classNames: [String] { train.classNames }

    /// MNIST (bundled) or Fashion-MNIST (`--dataset fashion-mnist`, from `--data-dir`, the
    /// data folders or Debian's install): the same IDX layout, fitted to the model input
    /// and normalised by the set's own training mean and std.
    static func idx(_ options: FoveaCommand.Train, entry: ModelZoo.Entry) throws -> TrainingData {
        let start = Date()
        let fashion = options.dataset == "fashion-mnist"
        let title = fashion ? "Fashion-MNIST" : "MNIST"
        let directory = try options.dataDir.map { URL(fileURLWithPath: $0) }
            ?? (fashion ? FashionMNIST.defaultDirectory() : MNIST.defaultDirectory())
        let load = { (split: MNIST.Split) throws -> LabeledImages in
            fashion ? try FashionMNIST.load(split: split, from: directory, checksums: options.noVerify ? nil : FashionMNIST.sha256)
                    : try MNIST.load(split: split, from: directory, verify: !options.noVerify)
        }
        let rawTrain = try load(.train), rawTest = try load(.test)
        let shape = try options.input.map(ModelZoo.parseInput) ?? FoveaCommand.Train.defaultInput(for: entry)
        let fitMode = shape[1...] == [28, 28] ? nil
            : options.fit.flatMap(ImageFitting.Mode.init(rawValue:)) ?? ImageFitting.Mode.automatic(from: (28, 28), to: (shape[1], shape[2]))
        let (setMean, setStd) = fashion ? (FashionMNIST.mean, FashionMNIST.std) : (MNIST.mean, MNIST.std)
        let mean = [Float](repeating: setMean, count: shape[0]), std = [Float](repeating: setStd, count: shape[0])
        let kept = try options.trainImages.map { try rawTrain.subset(0..<min($0, rawTrain.count)) } ?? rawTrain
        let split = try options.validationSplit.map { try kept.split(validationFraction: $0, seed: options.seed) }
        let train = try (split?.training ?? kept).fitted(to: shape, mode: fitMode).normalized(mean: mean, std: std)
        let validation = try split.map { try $0.validation.fitted(to: shape, mode: fitMode).normalized(mean: mean, std: std) }
        let testKept = try options.testImages.map { try rawTest.subset(0..<min($0, rawTest.count)) } ?? rawTest
        let test = try testKept.fitted(to: shape, mode: fitMode).normalized(mean: mean, std: std)
        let summary = String(format: "%@: %d training%@ and %d test images from %@ (%@) in %.2fs", title,
                             train.count, validation.map { " + \($0.count) validation" } ?? "", test.count, directory.path,
                             options.noVerify ? "not verified" : "SHA-256 verified", Date().timeIntervalSince(start))
        var metadata = ["dataset": fashion ? "fashion-mnist" : "mnist", "normalize_mean": "\(setMean)", "normalize_std": "\(setStd)"]
        if let fitMode { metadata["fit"] = fitMode.rawValue }
        return TrainingData(name: title, train: train, validation: validation, test: test, shape: shape, fitMode: fitMode,
                            mean: mean, std: std, summary: summary, metadata: metadata)
    }

    /// The user's images: an ImageFolder (`root/<class>/<image>`) or a CSV of `file,label`
    /// (images relative to the CSV). With `--input CxHxW` they are converted and resized to
    /// it, otherwise they must share one size. A stratified `--validation-split` (0.2 unless
    /// given) is held out; the per-channel mean and std of the training images normalise both.
    static func images(_ path: String, _ options: FoveaCommand.Train, entry: ModelZoo.Entry) throws -> TrainingData {
        let start = Date()
        let url = URL(fileURLWithPath: path)
        let requested = try options.input.map(ModelZoo.parseInput)
        let load = ImageLoadOptions(channels: requested?[0], size: requested.map { ($0[1], $0[2]) }, skipBad: options.skipBadImages)
        let (all, warnings) = url.pathExtension.lowercased() == "csv" ? try LabeledCSV.load(url, options: load)
                                                                       : try ImageFolder.load(url, options: load)
        for w in warnings { Console.error("fovea: warning: \(w)") }
        let kept = try options.trainImages.map { try all.subset(0..<min($0, all.count)) } ?? all
        let shape = [kept.channels, kept.height, kept.width]
        guard shape[1] >= entry.minimumSize, shape[2] >= entry.minimumSize else {
            throw ValidationErrorText("\(entry.name) needs inputs of at least \(entry.minimumSize)x\(entry.minimumSize), the images are \(shape[2])x\(shape[1]); pass --input \(shape[0])x\(entry.minimumSize)x\(entry.minimumSize) to resize them")
        }
        let split = try kept.stratifiedSplit(validationFraction: options.validationSplit ?? 0.2, seed: options.seed)
        let (mean, std) = channelStatistics(split.training)
        let train = try split.training.normalized(mean: mean, std: std)
        let validation = try split.validation.normalized(mean: mean, std: std)
        let counts = kept.classCounts.enumerated().map { "\(kept.classNames[$0.offset]) \($0.element)" }.joined(separator: ", ")
        let summary = String(format: "Images: %d training + %d validation (stratified), %@, %d classes (%@) from %@ in %.2fs",
                             train.count, validation.count, ModelZoo.inputText(shape), kept.classNames.count, counts, url.path,
                             Date().timeIntervalSince(start))
        let metadata = ["dataset": "images", "data": url.path, "fit": ImageFitting.Mode.resize.rawValue,
                        "normalize_mean": mean.map { "\($0)" }.joined(separator: ","),
                        "normalize_std": std.map { "\($0)" }.joined(separator: ",")]
        return TrainingData(name: url.path, train: train, validation: validation, test: nil, shape: shape, fitMode: .resize,
                            mean: mean, std: std, summary: summary, metadata: metadata)
    }

    /// Per-channel mean and standard deviation of pixels in `data` (std at least 1e-6).
    static func channelStatistics(_ data: LabeledImages) -> (mean: [Float], std: [Float]) {
        let c = data.channels, plane = data.height * data.width, p = data.images.pointer
        var mean = [Float](), std = [Float]()
        for ch in 0..<c {
            var sum = 0.0, sq = 0.0
            for n in 0..<data.count {
                let base = (n * c + ch) * plane
                for i in base..<(base + plane) { let v = Double(p[i]); sum += v; sq += v * v }
            }
            let count = Double(data.count * plane), m = sum / count
            mean.append(Float(m))
            std.append(Float(max((sq / count - m * m).squareRoot(), 1e-6)))
        }
        return (mean, std)
    }
}

/// An error that is just its text (for checks made after argument validation).
struct ValidationErrorText: Error, CustomStringConvertible {
    let description: String
    init(_ text: String) { description = text }
}
