import ArgumentParser
import Foundation
import Fovea

/// `fovea`: train, evaluate and run convolutional networks from the command line.
@main
struct FoveaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fovea",
        abstract: "Fovea: convolutional neural networks in Swift.",
        subcommands: [Train.self, Finetune.self, Evaluate.self, Visualize.self, Predict.self, Serve.self, DataCommand.self, Bench.self, Models.self, Summary.self, Export.self]
    )

    /// Runs the command; a failure prints one line, `fovea: error: ...`, to standard error
    /// and exits non-zero (help and `--version` print as usual).
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .success || error is CleanExit { exit(withError: error) }
            let message = FoveaCommand.message(for: error)
                .split(whereSeparator: \.isNewline).joined(separator: "; ")
            Console.error("fovea: error: " + (message.isEmpty ? String(describing: error) : message))
            Foundation.exit(code.rawValue == 0 ? 1 : code.rawValue)
        }
    }
}

/// Options every compute-heavy subcommand shares.
struct ComputeOptions: ParsableArguments {
    @Option(help: "Worker threads for the kernels (default: all cores).")
    var threads: Int?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
    }

    /// Applies the thread count.
    func apply() { if let threads { Parallel.threadCount = threads } }
}
