import ArgumentParser
import Foundation
import Fovea

extension FoveaCommand {
    /// `fovea export`: writes a trained or freshly built zoo model as an ONNX file.
    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Export a model to ONNX (opset 13): weights from `fovea train`, or a freshly initialised zoo model.",
            discussion: """
            The graph takes `input` [N, C, H, W] (any batch size N) and gives `logits` [N, classes]; \
            initializers keep the PyTorch state-dict names. Input normalisation is not part of the graph: \
            the mean and std of the checkpoint are stored in the file's metadata (normalize_mean, normalize_std).
            """)

        @Option(help: "Weights file written by `fovea train` (model.safetensors).")
        var weights: String?
        @Option(help: "A zoo model to export with fresh weights instead (see `fovea models`).")
        var model: String?
        @Option(help: "Input shape CxHxW for --model (default: the model's own).")
        var input: String?
        @Option(parsing: .unconditional, help: "Number of classes for --model (default: the model's own).")
        var classes: Int?
        @Option(help: "Output format (only onnx).")
        var format: String = "onnx"
        @Option(help: "The file to write (default: the weights file with .onnx, or MODEL.onnx).")
        var output: String?
        @Option(parsing: .unconditional, help: "Seed for --model's initial weights (default: 42).", transform: OptionCheck.seed)
        var seed: UInt64 = 42

        func validate() throws {
            guard format.lowercased() == "onnx" else { throw ValidationError("--format must be onnx, got '\(format)'") }
            guard (weights == nil) != (model == nil) else { throw ValidationError("give either --weights FILE or --model NAME") }
            if weights != nil && (input != nil || classes != nil) {
                throw ValidationError("--input and --classes go with --model; a weights file records its own")
            }
            if let model { do { _ = try ModelZoo.entry(named: model) } catch { throw ValidationError("\(error)") } }
            if let input { do { _ = try ModelZoo.parseInput(input) } catch { throw ValidationError("--input: \(error)") } }
            try OptionCheck.whole("--classes", classes, in: 1...OptionCheck.maximumClasses)
            try OptionCheck.path("--weights", weights)
            try OptionCheck.path("--output", output)
        }

        func run() throws {
            let net: Layer, name: String, shape: [Int]
            var metadata: [String: String] = [:]
            let destination: URL
            if let weights {
                let url = URL(fileURLWithPath: weights)
                let classifier = try Classifier(contentsOf: url)
                net = classifier.model
                name = classifier.modelName
                shape = [classifier.inputChannels, classifier.inputSize.h, classifier.inputSize.w]
                metadata = classifier.metadata
                destination = URL(fileURLWithPath: output ?? url.deletingPathExtension().appendingPathExtension("onnx").path)
            } else {
                let entry = try ModelZoo.entry(named: model!)
                shape = try input.map(ModelZoo.parseInput) ?? entry.defaultInput
                let classes = self.classes ?? entry.defaultClasses
                GlobalRandom.seed(seed)
                net = try entry.make(input: shape, classes: classes)
                name = entry.name
                metadata = ["model": entry.name, "input": ModelZoo.inputText(shape), "classes": String(classes), "seed": String(seed)]
                destination = URL(fileURLWithPath: output ?? entry.name + ".onnx")
            }
            let summary = try ONNXExporter.write(net, inputShape: shape, to: destination, name: name, metadata: metadata)
            let megabytes = String(format: "%.2f", Double(summary.bytes) / 1_048_576)
            Console.write("Wrote \(destination.path): \(name), ONNX opset \(summary.opset), \(summary.nodes) nodes, \(summary.initializers) initializers (\(summary.parameters) parameters), input '\(ONNXExporter.inputName)' [N, \(shape.map(String.init).joined(separator: ", "))], output '\(ONNXExporter.outputName)' [N, \(summary.outputShape.dropFirst().map(String.init).joined(separator: ", "))], \(summary.bytes) bytes (\(megabytes) MB)")
        }
    }
}
