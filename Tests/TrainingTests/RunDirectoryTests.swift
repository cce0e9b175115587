import Foundation
import FoveaTestSupport
import Training
import XCTest

final class RunDirectoryTests: XCTestCase {
    func testHistoryHasAHeaderAndOneRowPerEpoch() throws {
        let run = try RunDirectory(makeTemporaryDirectory().appendingPathComponent("nested/run"))
        let records = [
            EpochRecord(epoch: 1, trainLoss: 0.5, trainAccuracy: 0.8, testLoss: 0.25, testAccuracy: 0.9,
                        seconds: 2, imagesPerSecond: 30000, learningRate: 0.01),
            EpochRecord(epoch: 2, trainLoss: 0.125, trainAccuracy: 0.95, validationLoss: 0.375, validationAccuracy: 0.875,
                        seconds: 2.5, imagesPerSecond: 24000, learningRate: 0.005),
        ]
        try run.writeHistory(records)
        let lines = try String(contentsOf: run.historyURL, encoding: .utf8).split(separator: "\n").map(String.init)
        XCTAssertEqual(lines, [
            "epoch,train_loss,train_accuracy,val_loss,val_accuracy,test_loss,test_accuracy,seconds,images_per_second,learning_rate",
            "1,0.5,0.8,,,0.25,0.9,2,30000,0.01",
            "2,0.125,0.95,0.375,0.875,,,2.5,24000,0.005",
        ])
    }

    func testMetricsAreJSONWithSortedKeys() throws {
        let run = try RunDirectory(makeTemporaryDirectory())
        try run.writeMetrics(["test_accuracy": 0.985, "epochs": 1, "model": "lenet5"])
        let data = try Data(contentsOf: run.metricsURL)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        XCTAssertEqual(object["test_accuracy"] as? Double, 0.985)
        XCTAssertEqual(object["epochs"] as? Int, 1)
        XCTAssertEqual(object["model"] as? String, "lenet5")
        let text = String(decoding: data, as: UTF8.self)
        let epochs = try XCTUnwrap(text.range(of: "\"epochs\"")), model = try XCTUnwrap(text.range(of: "\"model\""))
        XCTAssertLessThan(epochs.lowerBound, model.lowerBound)
    }

    func testTimestampedRunsNeverShareAFolder() throws {
        let root = try makeTemporaryDirectory()
        let a = try RunDirectory.timestamped(model: "lenet5", root: root)
        let b = try RunDirectory.timestamped(model: "lenet5", root: root)
        XCTAssertNotEqual(a.url, b.url)
        XCTAssertTrue(a.url.lastPathComponent.hasPrefix("lenet5-"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: b.url.path))
    }

    func testAFileInTheWayIsNamed() throws {
        let file = try makeTemporaryDirectory().appendingPathComponent("taken")
        try Data("keep".utf8).write(to: file)
        XCTAssertThrowsError(try RunDirectory(file)) { error in
            XCTAssertEqual(error as? RunDirectoryError, .notADirectory(path: file.path))
        }
        XCTAssertEqual(try Data(contentsOf: file), Data("keep".utf8))
        XCTAssertThrowsError(try RunDirectory(file.appendingPathComponent("below"))) { error in
            XCTAssertTrue("\(error)".contains("cannot create"), "\(error)")
        }
    }

    // issue 29 finding 8: JSON has no NaN; writing one failed with a raw Foundation error.
    func testNonFiniteMetricsAreWrittenAsNull() throws {
        let run = try RunDirectory(makeTemporaryDirectory())
        try run.writeMetrics(["test_loss": Double.nan, "history": [["train_loss": Double.infinity, "epoch": 1]], "lr": Float.nan])
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: run.metricsURL)) as? [String: Any])
        XCTAssertTrue(object["test_loss"] is NSNull)
        XCTAssertTrue(object["lr"] is NSNull)
        let row = try XCTUnwrap((object["history"] as? [[String: Any]])?.first)
        XCTAssertTrue(row["train_loss"] is NSNull)
        XCTAssertEqual(row["epoch"] as? Int, 1)
    }

    // issue 29 finding 9: opening a run folder (a new run or --resume) removes the temporary
    // files that killed writers left, and keeps those of running processes.
    func testOpeningARunRemovesStaleTemporaryFiles() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try process.run()
        process.waitUntilExit()
        let url = try makeTemporaryDirectory()
        let stale = url.appendingPathComponent(".model.safetensors.tmp-\(process.processIdentifier)")
        let live = url.appendingPathComponent(".checkpoint.safetensors.tmp-\(getpid())")
        try Data("partial".utf8).write(to: stale)
        try Data("partial".utf8).write(to: live)
        let run = try RunDirectory(url)
        XCTAssertFalse(run.created)
        XCTAssertEqual(run.removedStaleFiles.map(\.lastPathComponent), [stale.lastPathComponent])
        XCTAssertFalse(FileManager.default.fileExists(atPath: stale.path))
        XCTAssertTrue(FileManager.default.fileExists(atPath: live.path))
    }

    func testAnEmptyNewRunFolderIsRemovedOnFailure() throws {
        let url = try makeTemporaryDirectory().appendingPathComponent("new")
        let run = try RunDirectory(url)
        XCTAssertTrue(run.created)
        run.removeIfEmpty()
        XCTAssertFalse(FileManager.default.fileExists(atPath: url.path))
        // A folder that was there before stays, empty or not.
        let existing = try makeTemporaryDirectory()
        try RunDirectory(existing).removeIfEmpty()
        XCTAssertTrue(FileManager.default.fileExists(atPath: existing.path))
    }
}
