import Foundation
import XCTest

/// Runs ONNX files in onnxruntime through `Golden/run_onnxruntime.py --serve`, one Python
/// process for many models (one JSON job a line).
final class OnnxruntimeRunner {
    private let process = Process()
    private let input = Pipe(), output = Pipe()
    private var buffer = Data()

    init() throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", goldenDirectory.appendingPathComponent("run_onnxruntime.py").path, "--serve"]
        process.standardInput = input
        process.standardOutput = output
        try process.run()
    }

    /// Runs `model` on the float32 file `inputFile` of `shape`, writing `outputFile`; returns
    /// the output shape, or throws with onnxruntime's (or the ONNX checker's) message.
    func run(model: URL, inputFile: URL, shape: [Int], outputFile: URL) throws -> [Int] {
        let job: [String: Any] = ["model": model.path, "input": inputFile.path, "shape": shape, "output": outputFile.path]
        input.fileHandleForWriting.write(try JSONSerialization.data(withJSONObject: job) + Data("\n".utf8))
        while !buffer.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else { throw NSError(domain: "onnxruntime", code: 1, userInfo: [NSLocalizedDescriptionKey: "run_onnxruntime.py exited"]) }
            buffer.append(chunk)
        }
        let end = buffer.firstIndex(of: UInt8(ascii: "\n"))!
        let line = buffer[buffer.startIndex..<end]
        buffer = Data(buffer[(end + 1)...])
        let answer = try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] ?? [:]
        guard answer["ok"] as? Bool == true, let shape = answer["shape"] as? [Int] else {
            throw NSError(domain: "onnxruntime", code: 2, userInfo: [NSLocalizedDescriptionKey: "\(answer["error"] ?? line)"])
        }
        return shape
    }

    func close() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}
