import ArgumentParser
import Foundation
import Fovea

extension FoveaCommand {
    /// `fovea evaluate`: the metrics of a trained classifier on a test set, and its pictures.
    struct Evaluate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Evaluate saved weights on a test set: print accuracy, top-k, per-class precision/recall/F1 and AUC, and write the confusion matrix, ROC and PR curves, misclassified images, filters, feature maps, saliency and report.html.")

        @Option(help: "Weights file written by `fovea train` (model.safetensors).")
        var weights: String
        @Option(help: "The test set: mnist or fashion-mnist (default: the dataset the checkpoint was trained on).")
        var dataset: String?
        @Option(name: [.customLong("data"), .customLong("data-dir")], help: "Folder holding the dataset's IDX files (default: the bundled MNIST, or where Fashion-MNIST is installed).")
        var dataDir: String?
        @Option(parsing: .unconditional, help: "Evaluate the first N test images only (default: all).")
        var testImages: Int?
        @Option(help: "Folder for the pictures and report (default: evaluation/ beside the weights).")
        var output: String?
        @Option(parsing: .unconditional, help: "Test image whose feature maps and saliency are drawn.")
        var sample = 0
        @Flag(help: "Skip the SHA-256 check of the data files.")
        var noVerify = false
        @OptionGroup var compute: ComputeOptions

        func validate() throws {
            try OptionCheck.whole("--test-images", testImages, atLeast: 1)
            try OptionCheck.path("--weights", weights)
            try OptionCheck.path("--output", output)
            if let dataset, TestSet.Name(rawValue: dataset) == nil {
                throw ValidationError("--dataset must be mnist or fashion-mnist, got '\(dataset)'")
            }
            try OptionCheck.whole("--sample", sample, atLeast: 0)
        }

        func run() throws {
            try compute.run(runWithThreads)
        }

        /// `run()` inside the thread count of `--threads`.
        private func runWithThreads() throws {
            let weightsURL = URL(fileURLWithPath: weights)
            let classifier = try Classifier(contentsOf: weightsURL)
            let test = try TestSet.load(for: classifier, dataset: dataset, directory: dataDir, limit: testImages, verify: !noVerify)
            guard sample < test.data.count else {
                throw ValidationError("--sample \(sample) is past the \(test.data.count) test images")
            }
            let start = Date()
            let predictions = try Predictions(model: classifier.model, data: test.data)
            let seconds = Date().timeIntervalSince(start)
            let confusion = try predictions.confusionMatrix()
            let report = ClassificationReport(confusion)
            Console.write(String(format: "%@ on %@: %d test images in %.2fs", classifier.modelName, test.name, predictions.count, seconds))
            var line = String(format: "accuracy: %.4f - loss: %.4f", confusion.accuracy, predictions.loss)
            for k in [2, 5] where k < predictions.classCount { line += String(format: " - top%d_accuracy: %.4f", k, try predictions.topKAccuracy(k)) }
            var rocNote: String?
            do {
                let roc = try predictions.rocCurves()
                line += String(format: " - macro_auc: %.4f - weighted_auc: %.4f", roc.macroAUC, roc.weightedAUC)
            } catch { rocNote = "ROC and precision-recall curves not drawn: \(error)" }
            Console.write(line)
            if let rocNote { Console.write(rocNote) }
            Console.write(report.table(classNames: predictions.classNames))

            let folder = output.map { URL(fileURLWithPath: $0) } ?? weightsURL.deletingLastPathComponent().appendingPathComponent("evaluation")
            var artifacts = RunArtifacts(title: "\(classifier.modelName) on \(test.name)", model: classifier.model,
                                         input: [classifier.inputChannels, classifier.inputSize.h, classifier.inputSize.w],
                                         predictions: predictions, images: test.data.images)
            artifacts.settings = [("Weights", weightsURL.path), ("Model", classifier.modelName), ("Test set", "\(test.name), \(predictions.count) images from \(test.directory.path)")]
            artifacts.sampleIndex = sample
            let files = try artifacts.write(to: folder)
            Console.write("Wrote \(files.count) files to \(folder.path): \(files.filter { !$0.hasPrefix("feature_maps/") }.joined(separator: ", ")) and feature_maps/")
        }
    }
}

/// The labelled test images a checkpoint is evaluated on, fitted and normalised as its
/// training data were.
struct TestSet {
    enum Name: String { case mnist, fashionMNIST = "fashion-mnist" }
    let name: String
    let directory: URL
    /// Images as the model sees them (fitted, normalised).
    let data: LabeledImages

    static func load(for classifier: Classifier, dataset: String?, directory: String?, limit: Int?, verify: Bool) throws -> TestSet {
        let shape = [classifier.inputChannels, classifier.inputSize.h, classifier.inputSize.w]
        // A model trained on the user's images (`fovea train --data`) is evaluated on images
        // too: the folder or CSV given, else the one it was trained on (all of it, training
        // images included, so pass a held-out folder for a fair figure).
        if dataset == nil, classifier.metadata["dataset"] == "images", let path = directory ?? classifier.metadata["data"] {
            let url = URL(fileURLWithPath: path)
            let options = ImageLoadOptions(channels: shape[0], size: (shape[1], shape[2]))
            let (all, warnings) = url.pathExtension.lowercased() == "csv" ? try LabeledCSV.load(url, options: options)
                                                                           : try ImageFolder.load(url, options: options)
            for w in warnings { Console.error("fovea: warning: \(w)") }
            // Numeric CSV labels are class indices: they take the model's class names.
            let numbered = all.classNames == (0..<all.classNames.count).map(String.init)
            guard all.classNames == classifier.classNames || (numbered && all.classNames.count <= classifier.classNames.count) else {
                throw ValidationError("\(path) has classes \(all.classNames), the model was trained on \(classifier.classNames)")
            }
            let named = try LabeledImages(images: all.images, labels: all.labels, classNames: classifier.classNames)
            let kept = try limit.map { try named.subset(0..<min($0, named.count)) } ?? named
            return TestSet(name: path, directory: url, data: try kept.normalized(mean: classifier.mean, std: classifier.std))
        }
        let name = Name(rawValue: dataset ?? classifier.metadata["dataset"] ?? "mnist") ?? .mnist
        let folder = try directory.map { URL(fileURLWithPath: $0) }
            ?? (name == .mnist ? MNIST.defaultDirectory() : FashionMNIST.defaultDirectory())
        let raw = name == .mnist ? try MNIST.load(split: .test, from: folder, verify: verify)
            : try FashionMNIST.load(split: .test, from: folder)
        let kept = try limit.map { try raw.subset(0..<min($0, raw.count)) } ?? raw
        let fitted = try kept.fitted(to: shape, mode: Array(shape[1...]) == [kept.height, kept.width] ? nil : classifier.fitMode)
        return TestSet(name: name.rawValue, directory: folder,
                       data: try fitted.normalized(mean: classifier.mean, std: classifier.std))
    }
}
