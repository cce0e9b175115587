import ArgumentParser
import Foundation
import Fovea

extension FoveaCommand {
    /// `fovea visualize`: what a trained network does with one image, as pictures.
    struct Visualize: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Draw what a trained model sees in one image: first-layer filters, the feature maps of every convolution and pooling layer (or of --layer), gradient saliency and Grad-CAM, in PNGs and one visualize.html.")

        @Option(help: "Weights file written by `fovea train` (model.safetensors).")
        var weights: String
        @Option(help: "The PNG or JPEG image to look at (fitted to the model's input as `fovea predict` does).")
        var image: String
        @Option(help: "Only this layer's feature maps (dotted state-dict name, e.g. conv2 or layer4.1.conv2); Grad-CAM is taken there too when its output is a map.")
        var layer: String?
        @Option(name: .customLong("class"), parsing: .unconditional, help: "The class index saliency and Grad-CAM explain (default: the predicted class).")
        var classIndex: Int?
        @Option(help: "Folder for the pictures (default: visualize/ beside the weights).")
        var output: String?
        @OptionGroup var compute: ComputeOptions

        func validate() throws {
            try OptionCheck.whole("--class", classIndex, atLeast: 0)
            try OptionCheck.path("--weights", weights)
            try OptionCheck.path("--output", output)
        }

        func run() throws {
            try compute.run(runWithThreads)
        }

        /// `run()` inside the thread count of `--threads`.
        private func runWithThreads() throws {
            let weightsURL = URL(fileURLWithPath: weights)
            let classifier = try Classifier(contentsOf: weightsURL)
            let model = classifier.model
            if let layer, model.layer(named: layer) == nil {
                let names = model.dottedNames().values.filter { !$0.isEmpty }.sorted()
                throw ValidationError("--layer '\(layer)' is not a layer of \(classifier.modelName); its layers include \(names.prefix(12).joined(separator: ", "))\(names.count > 12 ? ", ..." : "")")
            }
            if let classIndex, classIndex >= classifier.classNames.count {
                throw ValidationError("--class \(classIndex) is outside 0..<\(classifier.classNames.count)")
            }
            let picture = try ImageFile.read(contentsOf: URL(fileURLWithPath: image))
            let pixels: Tensor
            do { pixels = try classifier.pixels(of: picture) } catch DatasetError.imageSize(nil, let w, let h, let ew, let eh) {
                throw DatasetError.imageSize(path: image, width: w, height: h, expectedWidth: ew, expectedHeight: eh)
            }
            let input = classifier.normalized(pixels)
            let probabilities = try classifier.probabilities(pixels).values
            let best = probabilities.indices.max { probabilities[$0] < probabilities[$1] }!
            Console.write(String(format: "%@: %@ (%.2f%%) with %@", image, classifier.classNames[best], probabilities[best] * 100, classifier.modelName))

            let folder = output.map { URL(fileURLWithPath: $0) } ?? weightsURL.deletingLastPathComponent().appendingPathComponent("visualize")
            try FileManager.default.createDirectory(at: folder.appendingPathComponent("feature_maps"), withIntermediateDirectories: true)
            var written: [String] = []
            var report = HTMLReport(title: "\(classifier.modelName) looking at \((image as NSString).lastPathComponent)")
            func save(_ picture: Image, _ name: String) throws {
                try PNG.write(picture, to: folder.appendingPathComponent(name)); written.append(name)
            }
            let shown = try Image(tensor: pixels)
            let scale = ImageGrid.scale(for: max(shown.width, shown.height), target: 168)
            var looks: [(String, Image)] = [("input as the network sees it (\(shown.width)x\(shown.height))", try Saliency.enlarge(shown, by: scale))]
            report.settings = [("Weights", weightsURL.path), ("Image", image), ("Model", "\(classifier.modelName), input \(classifier.inputChannels)x\(classifier.inputSize.h)x\(classifier.inputSize.w)")]
            report.add("Prediction", svg: CurvePlots.probabilities(probabilities, classNames: classifier.classNames))

            let maps = try FeatureMaps.capture(model: model, image: input) { name, layer in
                self.layer.map { name == $0 } ?? FeatureMaps.isDefault(layer)
            }
            var gallery: [(String, Image)] = []
            for (k, map) in maps.enumerated() {
                guard let s = map.spatial else {
                    Console.write("\(map.name) (\(map.type)): \(map.output.count) values: \(map.output.values.prefix(10).map { String(format: "%.3f", $0) }.joined(separator: " "))\(map.output.count > 10 ? " ..." : "")")
                    continue
                }
                let grid = try FeatureMaps.grid(map)
                try save(grid, String(format: "feature_maps/%02d-", k + 1) + RunArtifacts.fileName(map.name) + ".png")
                gallery.append(("\(map.name) (\(map.type)) \(s.channels)x\(s.height)x\(s.width)", grid))
            }
            if let (name, filters) = try FeatureMaps.filters(of: model) {
                try save(filters, "filters.png")
                try report.add("First-layer filters", images: [("\(name).weight", filters)], note: "Blue is negative, red positive.")
            }
            if !gallery.isEmpty { try report.add("Feature maps", images: gallery) }
            let gradient = try Saliency.gradient(model: model, image: input, classIndex: classIndex)
            let gradientPicture = try Saliency.image(gradient, scale: scale)
            try save(gradientPicture, "saliency.png")
            looks.append(("gradient saliency, class \(classifier.classNames[gradient.classIndex])", gradientPicture))
            let camLayer = layer.flatMap { name in maps.first { $0.name == name && $0.spatial != nil }.map { _ in name } }
            do {
                let cam = try Saliency.gradCAM(model: model, image: input, classIndex: classIndex, layerName: camLayer)
                let camPicture = try Saliency.overlay(cam, on: shown, scale: scale)
                try save(camPicture, "gradcam.png")
                looks.append(("Grad-CAM at \(cam.layer ?? "?"), class \(classifier.classNames[cam.classIndex])", camPicture))
            } catch let error as TensorError {
                Console.write("Grad-CAM skipped: \(error)")
            }
            try report.add("Where the model looks", images: looks)
            try report.write(to: folder.appendingPathComponent("visualize.html"))
            written.append("visualize.html")
            Console.write("Wrote \(written.count) files to \(folder.path): \(written.joined(separator: ", "))")
        }
    }
}
