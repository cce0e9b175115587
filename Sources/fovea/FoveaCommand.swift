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
            let message = FoveaCommand.message(for: FoveaCommand.explainingFileErrors(error))
                .split(whereSeparator: \.isNewline).joined(separator: "; ")
            Console.error("fovea: error: " + (message.isEmpty ? String(describing: error) : message))
            Foundation.exit(code.rawValue == 0 ? 1 : code.rawValue)
        }
    }
}

extension FoveaCommand {
    /// A Foundation file error (`NSCocoaErrorDomain Code=640`) as a sentence naming the file
    /// and the reason: "cannot write runs/a/report.html: no space left on device (ENOSPC)".
    /// Other errors are returned as they are.
    static func explainingFileErrors(_ error: Error) -> Error {
        let ns = error as NSError
        guard ns.domain == NSCocoaErrorDomain, (NSFileReadUnknownError...NSFileWriteVolumeReadOnlyError).contains(ns.code) else {
            return error
        }
        let path = (ns.userInfo[NSFilePathErrorKey] as? String) ?? (ns.userInfo[NSURLErrorKey] as? URL)?.path ?? "a file"
        let verb = ns.code >= NSFileWriteUnknownError ? "write" : "read"
        var reason = FileWriteError.describe(error)
        if !(ns.userInfo[NSUnderlyingErrorKey] is NSError) {
            let known: [Int: Int32] = [NSFileWriteOutOfSpaceError: ENOSPC, NSFileWriteNoPermissionError: EACCES,
                                       NSFileReadNoPermissionError: EACCES, NSFileWriteVolumeReadOnlyError: EROFS,
                                       NSFileNoSuchFileError: ENOENT, NSFileReadNoSuchFileError: ENOENT]
            if let code = known[ns.code] { reason = FileWriteError(path: path, errno: code).reason }
        }
        return ValidationErrorText("cannot \(verb) \(path): \(reason)")
    }
}

/// Options every compute-heavy subcommand shares.
struct ComputeOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Worker threads for the kernels (default: all cores).")
    var threads: Int?

    func validate() throws {
        try OptionCheck.threads(threads)
    }

    /// Runs `body` with the thread count in force (`Parallel.withThreads`), or the
    /// machine's cores when `--threads` was not given.
    func run<T>(_ body: () throws -> T) rethrows -> T {
        guard let threads else { return try body() }
        return try Parallel.withThreads(threads, body)
    }
}
