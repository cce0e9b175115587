import ArgumentParser
import Fovea

extension FoveaCommand {
    /// `fovea summary MODEL`: the Keras-style table of a zoo model.
    struct Summary: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a model's layers, output shapes, parameters, multiply-accumulates and memory.")

        @Argument(help: "Model name (see `fovea models`).")
        var model: String
        @Option(help: "Input shape CxHxW (default: the model's own, e.g. 3x224x224).")
        var input: String?
        @Option(parsing: .unconditional, help: "Number of classes (default: the model's own).")
        var classes: Int?

        func validate() throws {
            do { _ = try ModelZoo.entry(named: model) } catch { throw ValidationError("\(error)") }
            if let input { do { _ = try ModelZoo.parseInput(input) } catch { throw ValidationError("--input: \(error)") } }
            try OptionCheck.whole("--classes", classes, in: 1...OptionCheck.maximumClasses)
        }

        func run() throws {
            let entry = try ModelZoo.entry(named: model)
            let shape = try input.map(ModelZoo.parseInput) ?? entry.defaultInput
            let classes = self.classes ?? entry.defaultClasses
            let net = try entry.make(input: shape, classes: classes)
            let summary: ModelSummary
            do { summary = try ModelSummary(model: net, input: shape) } catch {
                throw ValidationError("\(entry.name) cannot take input \(ModelZoo.inputText(shape)): \(error)")
            }
            Console.write(summary.table(title: "Model: \(entry.name) (\(classes) classes)"))
        }
    }
}
