import Foundation
import FoveaTestSupport
import XCTest

/// `fovea train --resume`: a run killed mid-way and resumed ends with the weights of a run
/// that was never interrupted.
final class ResumeCommandTests: XCTestCase {
    /// LeNet_modify (batch norm, PReLU, dropout: the random generator must be restored too)
    /// with Adam (its moments and step count must be restored) on 3,000 digits, 3 epochs.
    let arguments = ["train", "--model", "lenet-bn", "--epochs", "3", "--train-images", "3000", "--test-images", "500",
                     "--validation-split", "0.1", "--plateau", "1", "--threads", "2", "--quiet", "--no-report"]

    func testKilledRunResumesToTheUninterruptedWeights() throws {
        let root = try makeTemporaryDirectory()
        let whole = root.appendingPathComponent("whole"), broken = root.appendingPathComponent("broken")
        let reference = try runFovea(arguments + ["--output", whole.path])
        XCTAssertEqual(reference.status, 0, reference.stderr)

        // Start the same run and kill it (SIGKILL: no chance to tidy up) once its first
        // epoch's checkpoint exists.
        let process = Process()
        process.executableURL = try foveaExecutable()
        process.arguments = arguments + ["--output", broken.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let checkpoint = broken.appendingPathComponent("checkpoint.safetensors")
        let deadline = Date().addingTimeInterval(300)
        while !FileManager.default.fileExists(atPath: checkpoint.path) && process.isRunning && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.005)
        }
        XCTAssertTrue(process.isRunning, "the run ended before it could be interrupted")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        XCTAssertFalse(FileManager.default.fileExists(atPath: broken.appendingPathComponent("model.safetensors").path),
                       "the killed run had not finished")

        let resumed = try runFovea(["train", "--resume", broken.path])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stdout.contains("Test accuracy: "), resumed.stdout)
        let a = try Data(contentsOf: whole.appendingPathComponent("model.safetensors"))
        let b = try Data(contentsOf: broken.appendingPathComponent("model.safetensors"))
        XCTAssertEqual(a, b, "resumed weights equal the uninterrupted run's")
        let historyA = try String(contentsOf: whole.appendingPathComponent("history.csv"), encoding: .utf8).split(separator: "\n")
        let historyB = try String(contentsOf: broken.appendingPathComponent("history.csv"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(historyB.count, 4, "a header and three epochs")
        // Losses and accuracies agree; the timing columns do not.
        XCTAssertEqual(historyA.map { $0.split(separator: ",").prefix(7) }, historyB.map { $0.split(separator: ",").prefix(7) })

        // Extending a finished run: one more epoch on top of the three.
        let extended = try runFovea(["train", "--resume", whole.path, "--epochs", "4"])
        XCTAssertEqual(extended.status, 0, extended.stderr)
        let metrics = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: whole.appendingPathComponent("metrics.json"))) as? [String: Any])
        XCTAssertEqual(metrics["epochs"] as? Int, 4)
    }

    func testResumeErrorsNameTheProblem() throws {
        let empty = try makeTemporaryDirectory()
        try assertFails(["train", "--resume", empty.path], mentioning: [empty.path, "checkpoint.safetensors"])
        // Model weights are not a training checkpoint.
        let run = empty.appendingPathComponent("run")
        let trained = try runFovea(["train", "--train-images", "200", "--test-images", "100", "--quiet", "--no-report", "--output", run.path])
        XCTAssertEqual(trained.status, 0, trained.stderr)
        try FileManager.default.copyItem(at: run.appendingPathComponent("model.safetensors"), to: empty.appendingPathComponent("checkpoint.safetensors"))
        try assertFails(["train", "--resume", empty.path], mentioning: ["not a Fovea training checkpoint"])
        // A truncated checkpoint is refused, and the run's other files are untouched.
        let checkpoint = run.appendingPathComponent("checkpoint.safetensors")
        let bytes = try Data(contentsOf: checkpoint)
        try bytes.prefix(bytes.count / 2).write(to: checkpoint)
        let weights = try Data(contentsOf: run.appendingPathComponent("model.safetensors"))
        try assertFails(["train", "--resume", run.path], mentioning: [checkpoint.path])
        XCTAssertEqual(try Data(contentsOf: run.appendingPathComponent("model.safetensors")), weights)
    }
}
