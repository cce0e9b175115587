import ArgumentParser
import Foundation
import Fovea

extension FoveaCommand {
    /// `fovea predict`: classifies one image with weights saved by `fovea train`.
    struct Predict: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Classify one PNG or JPEG image (28x28 grey for MNIST models) and print the class probabilities.")

        @Option(help: "Weights file written by `fovea train` (model.safetensors).")
        var weights: String
        @Argument(help: "The PNG or JPEG image to classify.")
        var image: String
        @Option(parsing: .unconditional, help: "Print only the K most probable classes (default: all).")
        var top: Int?
        @OptionGroup var compute: ComputeOptions

        func validate() throws {
            try OptionCheck.whole("--top", top, atLeast: 1)
            try OptionCheck.path("--weights", weights)
        }

        func run() throws {
            try compute.run(runWithThreads)
        }

        /// `run()` inside the thread count of `--threads`.
        private func runWithThreads() throws {
            let classifier = try Classifier(contentsOf: URL(fileURLWithPath: weights))
            let picture = try ImageFile.read(contentsOf: URL(fileURLWithPath: image))
            // The classifier decides which sizes it takes (fitting them as training did); its
            // error gains the file name here.
            let ranked: [(name: String, probability: Float)]
            do {
                ranked = try classifier.top(top ?? classifier.classNames.count, of: picture)
            } catch DatasetError.imageSize(nil, let w, let h, let ew, let eh) {
                throw DatasetError.imageSize(path: image, width: w, height: h, expectedWidth: ew, expectedHeight: eh)
            }
            let width = max(5, classifier.classNames.map(\.count).max() ?? 1)
            Console.write("\(image): \(ranked[0].name) (\(String(format: "%.2f", ranked[0].probability * 100))%) with \(classifier.modelName)")
            for (name, p) in ranked {
                // NaN from an overflowing model draws no bar instead of trapping (issue 29 finding 6).
                let bar = String(repeating: "#", count: p.isFinite ? Int((min(max(p, 0), 1) * 40).rounded()) : 0)
                Console.write(String(format: "  %@  %.6f  %@", name.padding(toLength: width, withPad: " ", startingAt: 0), p, bar))
            }
        }
    }
}
