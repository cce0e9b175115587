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

    // issue 29 finding 10: `--epochs -1` said "Missing value", `--threads 10000` started 257
    // threads and `--output ""` wrote the run into the current folder.
    func testOutOfRangeOptionsNameTheFlagTheValueAndTheRange() throws {
        try assertFails(["train", "--epochs", "-1"], mentioning: ["--epochs", "between 1 and 100000", "got -1"])
        try assertFails(["train", "--epochs=-1"], mentioning: ["--epochs", "got -1"])
        try assertFails(["train", "--epochs", "1000000"], mentioning: ["--epochs", "got 1000000"])
        try assertFails(["train", "--batch-size", "-24"], mentioning: ["--batch-size", "got -24"])
        try assertFails(["train", "--batch-size", "9223372036854775807"], mentioning: ["--batch-size", "65536"])
        try assertFails(["train", "--lr", "-0.5"], mentioning: ["--lr", "positive", "got -0.5"])
        try assertFails(["train", "--lr", "nan"], mentioning: ["--lr", "positive", "got nan"])
        try assertFails(["train", "--threads", "10000"], mentioning: ["--threads", "between 1 and 256", "got 10000", "cores"])
        try assertFails(["train", "--threads", "-2"], mentioning: ["--threads", "got -2"])
        try assertFails(["train", "--train-images", "-5"], mentioning: ["--train-images", "at least 1", "got -5"])
        try assertFails(["train", "--test-images", "-5"], mentioning: ["--test-images", "at least 1", "got -5"])
        try assertFails(["train", "--seed", "-1"], mentioning: ["--seed", "'-1'", "between 0 and 18446744073709551615"])
        try assertFails(["train", "--prefetch", "-1"], mentioning: ["--prefetch", "between 0 and 64", "got -1"])
        try assertFails(["train", "--momentum", "-0.1"], mentioning: ["--momentum", "[0, 1)", "got -0.1"])
        try assertFails(["train", "--early-stopping", "-1"], mentioning: ["--early-stopping", "at least 0", "got -1"])
        try assertFails(["train", "--clip-norm", "-1"], mentioning: ["--clip-norm", "got -1.0"])
        try assertFails(["train", "--output", ""], mentioning: ["--output", "''"])
        try assertFails(["finetune", "--weights", "w", "--epochs", "-3"], mentioning: ["--epochs", "got -3"])
        try assertFails(["evaluate", "--weights", "w", "--sample", "-1"], mentioning: ["--sample", "at least 0", "got -1"])
        try assertFails(["evaluate", "--weights", "w", "--output", ""], mentioning: ["--output"])
        try assertFails(["predict", "--weights", "w", "--top", "-1", "x.png"], mentioning: ["--top", "got -1"])
        try assertFails(["serve", "--weights", "w", "--port", "-1"], mentioning: ["--port", "between 0 and 65535", "got -1"])
        try assertFails(["serve", "--weights", "w", "--timeout", "inf"], mentioning: ["--timeout", "got inf"])
        try assertFails(["summary", "lenet5", "--classes", "-3"], mentioning: ["--classes", "got -3"])
        try assertFails(["export", "--model", "lenet5", "--classes", "1000000000000"], mentioning: ["--classes", "100000"])
        try assertFails(["data", "synth-aoi", "--out", "x", "--per-class", "-1"], mentioning: ["--per-class", "got -1"])
        try assertFails(["bench", "--clients", "100000"], mentioning: ["--clients", "between 1 and 256"])
    }
}
