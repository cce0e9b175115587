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

    // issue 29 finding 8: Adam at lr 1e6 ran to the end, exit 0, with inf in its checkpoint.
    func testDivergenceInTheFirstEpochFailsAndSavesNothing() throws {
        let run = try makeTemporaryDirectory().appendingPathComponent("run")
        let message = try assertFails(["train", "--optimizer", "adam", "--lr", "1e6", "--output", run.path] + quick,
                                      mentioning: ["training diverged", "epoch 1", "inf or NaN", "--lr is 1000000.0", "nothing was saved"])
        XCTAssertFalse(message.contains("NSCocoaErrorDomain"), message)
        XCTAssertFalse(FileManager.default.fileExists(atPath: run.path), "no run folder is left behind")
    }

    // issue 29 finding 8: LeNet_modify at lr 1e6 failed writing NaN into JSON and left a
    // history.csv with a NaN row.
    func testBatchNormDivergenceWritesNoNaN() throws {
        let run = try makeTemporaryDirectory().appendingPathComponent("run")
        let message = try assertFails(["train", "--model", "lenet-bn", "--lr", "1e6", "--output", run.path] + quick,
                                      mentioning: ["training diverged", "epoch 1", "lower the learning rate"])
        XCTAssertFalse(message.contains("JSON"), message)
        XCTAssertFalse(FileManager.default.fileExists(atPath: run.appendingPathComponent("history.csv").path))
    }

    // issue 29 finding 8: divergence after a good epoch keeps that epoch's checkpoint and
    // history, with nothing non-finite, and writes no model.safetensors.
    func testDivergenceKeepsTheLastGoodEpoch() throws {
        let run = try makeTemporaryDirectory().appendingPathComponent("run")
        // 1,000 images in batches of 24: 42 steps per epoch; the rate jumps 1e5-fold after them.
        try assertFails(["train", "--lr", "0.01", "--schedule", "multistep:42:100000", "--epochs", "3", "--output", run.path] + quick,
                        mentioning: ["training diverged", "at epoch 2", "keeps", "epoch 1, the last good one"])
        let checkpoint = run.appendingPathComponent("checkpoint.safetensors")
        XCTAssertEqual(try Safetensors.read(from: checkpoint).metadata["epoch"], "1")
        XCTAssertEqual(try nonFiniteCount(checkpoint), 0)
        let history = try String(contentsOf: run.appendingPathComponent("history.csv"), encoding: .utf8)
        XCTAssertEqual(history.split(separator: "\n").count, 2, history)
        XCTAssertFalse(history.lowercased().contains("nan") || history.contains("inf"), history)
        XCTAssertFalse(FileManager.default.fileExists(atPath: run.appendingPathComponent("model.safetensors").path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: run.appendingPathComponent("metrics.json").path))
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
