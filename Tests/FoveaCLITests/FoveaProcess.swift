import Foundation
import FoveaTestSupport
import XCTest

/// What one run of the `fovea` executable printed and returned.
struct FoveaResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// The `fovea` executable SwiftPM built beside the test bundle.
func foveaExecutable() throws -> URL {
    var candidates: [URL] = []
    for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
        candidates.append(bundle.bundleURL.deletingLastPathComponent())
    }
    candidates.append(Bundle.main.bundleURL)
    candidates.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
    for folder in candidates {
        let url = folder.appendingPathComponent("fovea")
        if FileManager.default.isExecutableFile(atPath: url.path) { return url }
    }
    throw XCTSkip("no fovea executable beside the tests in \(candidates.map(\.path))")
}

/// Runs `fovea` with `arguments` in the repository root and waits for it.
func runFovea(_ arguments: [String]) throws -> FoveaResult {
    let process = Process()
    process.executableURL = try foveaExecutable()
    process.arguments = arguments
    process.currentDirectoryURL = repositoryRoot
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Read both pipes before waiting so a chatty child cannot block on a full pipe.
    let group = DispatchGroup()
    nonisolated(unsafe) var errData = Data()
    DispatchQueue.global().async(group: group) { errData = err.fileHandleForReading.readDataToEndOfFile() }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    return FoveaResult(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                       stderr: String(decoding: errData, as: UTF8.self))
}

extension XCTestCase {
    /// Starts `fovea serve` with `arguments` (which should include `--port 0`) and returns
    /// the process, the port it printed and its first line; the process is ended at the
    /// test's teardown. With `openFiles`, it runs under `ulimit -n openFiles`.
    func startServe(_ arguments: [String], openFiles: Int? = nil) throws -> (process: Process, port: UInt16, banner: String) {
        let process = Process()
        if let openFiles {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "ulimit -n \(openFiles) && exec \"$0\" \"$@\"", try foveaExecutable().path, "serve"] + arguments
        } else {
            process.executableURL = try foveaExecutable()
            process.arguments = ["serve"] + arguments
        }
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        addTeardownBlock { process.terminate(); process.waitUntilExit() }
        var text = ""
        while !text.contains("\n") {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        let first = text.split(separator: "\n").first.map(String.init) ?? ""
        let port = try XCTUnwrap(first.split(separator: ":").last.flatMap { UInt16($0.trimmingCharacters(in: CharacterSet(charactersIn: "/"))) },
                                 "no port in '\(first)'")
        return (process, port, first)
    }

    /// Asserts that `fovea arguments` fails with a non-zero status and exactly one line on
    /// standard error that contains every one of `needles`; returns that line.
    @discardableResult
    func assertFails(_ arguments: [String], mentioning needles: [String],
                     file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let result = try runFovea(arguments)
        XCTAssertNotEqual(result.status, 0, "fovea \(arguments.joined(separator: " ")) succeeded", file: file, line: line)
        let lines = result.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, "stderr should be one line, got:\n\(result.stderr)", file: file, line: line)
        let message = String(lines.first ?? "")
        XCTAssertTrue(message.hasPrefix("fovea: error: "), message, file: file, line: line)
        for needle in needles {
            XCTAssertTrue(message.contains(needle), "'\(message)' does not mention '\(needle)'", file: file, line: line)
        }
        return message
    }
}
