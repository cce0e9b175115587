import Foundation
import FoveaTestSupport
import Interop
import XCTest

/// `fovea train` when training diverges, when a writer was killed or the disk is full, and
/// when an option's value is out of range: a one-line error, never a crash or a half-written run.
final class TrainingRobustnessCommandTests: XCTestCase {
    let quick = ["--train-images", "1000", "--test-images", "200", "--threads", "2", "--quiet", "--no-report"]

    /// The count of inf and NaN values in a safetensors file.
    func nonFiniteCount(_ url: URL) throws -> Int {
        try Safetensors.read(from: url).tensors.reduce(0) { $0 + $1.tensor.values.filter { !$0.isFinite }.count }
    }

    /// The id of a process that has exited.
    func deadPID() throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try process.run()
        process.waitUntilExit()
        return process.processIdentifier
    }

    // issue 29 finding 9: temporary files of killed writers stayed in the run folder forever.
    func testTrainAndResumeRemoveTheTemporaryFilesOfKilledWriters() throws {
        let run = try makeTemporaryDirectory().appendingPathComponent("run")
        try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
        let dead = try deadPID()
        func plant() throws -> (stale: [URL], kept: [URL]) {
            let stale = [".checkpoint.safetensors.tmp-\(dead)", ".model.safetensors.tmp-\(dead)"].map { run.appendingPathComponent($0) }
            // This test process is alive: its temporary file may be mid-write and stays, as
            // do files that only look similar.
            let kept = [".metrics.json.tmp-\(getpid())", "notes.tmp-\(dead)", ".notes.tmp-x\(dead)"].map { run.appendingPathComponent($0) }
            for url in stale + kept { try Data("partial".utf8).write(to: url) }
            return (stale, kept)
        }
        func exists(_ url: URL) -> Bool { FileManager.default.fileExists(atPath: url.path) }

        var planted = try plant()
        let trained = try runFovea(["train", "--output", run.path] + quick)
        XCTAssertEqual(trained.status, 0, trained.stderr)
        for url in planted.stale { XCTAssertFalse(exists(url), "\(url.lastPathComponent) was left") }
        for url in planted.kept { XCTAssertTrue(exists(url), "\(url.lastPathComponent) was removed") }

        planted = try plant()
        let resumed = try runFovea(["train", "--resume", run.path, "--epochs", "2"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        for url in planted.stale { XCTAssertFalse(exists(url), "\(url.lastPathComponent) was left") }
        for url in planted.kept { XCTAssertTrue(exists(url), "\(url.lastPathComponent) was removed") }
    }

    // issue 29 finding 9: a full disk gave a raw "NSCocoaErrorDomain Code=640"; /dev/full
    // fails every write with ENOSPC.
    func testAFullDiskIsNamed() throws {
        guard FileManager.default.fileExists(atPath: "/dev/full") else { throw XCTSkip("no /dev/full here") }
        let message = try assertFails(["export", "--model", "lenet5", "--output", "/dev/full"],
                                      mentioning: ["cannot write /dev/full", "no space left on device"])
        XCTAssertFalse(message.contains("NSCocoaErrorDomain"), message)
    }
}
