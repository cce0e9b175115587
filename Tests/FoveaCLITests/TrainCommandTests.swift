import Datasets
import Foundation
import FoveaTestSupport
import XCTest

/// `fovea train` end to end on the bundled MNIST.
final class TrainCommandTests: XCTestCase {
    func metrics(_ folder: URL) throws -> [String: Any] {
        let data = try Data(contentsOf: folder.appendingPathComponent("metrics.json"))
        return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// The bar: one default epoch of LeNet-5 reaches 98.5% test accuracy, and a second
    /// run with the same seed and thread count gives the same accuracy and the same weights.
    func testOneDefaultEpochReachesTheTargetAndRepeatsExactly() throws {
        let root = try makeTemporaryDirectory()
        var runs: [[String: Any]] = []
        for name in ["a", "b"] {
            let result = try runFovea(["train", "--epochs", "1", "--threads", "2", "--output", root.appendingPathComponent(name).path])
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertTrue(result.stdout.contains("1/1 ") || result.stdout.contains("/2500 ["), result.stdout)
            XCTAssertTrue(result.stdout.contains("Test accuracy: "), result.stdout)
            runs.append(try metrics(root.appendingPathComponent(name)))
        }
        let accuracy = try XCTUnwrap(runs[0]["test_accuracy"] as? Double)
        XCTAssertGreaterThanOrEqual(accuracy, 0.985, "test accuracy after one epoch")
        XCTAssertEqual(runs[1]["test_accuracy"] as? Double, accuracy, "same seed and threads, same accuracy")
        XCTAssertEqual(runs[1]["test_loss"] as? Double, runs[0]["test_loss"] as? Double)
        let weightsA = try Data(contentsOf: root.appendingPathComponent("a/model.safetensors"))
        let weightsB = try Data(contentsOf: root.appendingPathComponent("b/model.safetensors"))
        XCTAssertEqual(weightsA, weightsB, "same seed and threads, same weights")

        let m = runs[0]
        for key in ["test_loss", "train_seconds", "train_images_per_second"] {
            XCTAssertGreaterThan(try XCTUnwrap(m[key] as? Double, key), 0, key)
        }
        XCTAssertEqual(m["epochs"] as? Int, 1)
        XCTAssertEqual(m["model"] as? String, "lenet5")
        XCTAssertEqual(m["parameters"] as? Int, 61_706)
        let history = try String(contentsOf: root.appendingPathComponent("a/history.csv"), encoding: .utf8)
            .split(separator: "\n")
        XCTAssertEqual(history.count, 2)
        XCTAssertTrue(history[1].hasPrefix("1,"))
    }

    func testEpochsFlagWritesOneHistoryRowPerEpoch() throws {
        let out = try makeTemporaryDirectory().appendingPathComponent("run")
        let result = try runFovea(["train", "--epochs", "2", "--train-images", "600", "--batch-size", "50",
                                   "--model", "lenet5-classic", "--quiet", "--output", out.path])
        XCTAssertEqual(result.status, 0, result.stderr)
        let history = try String(contentsOf: out.appendingPathComponent("history.csv"), encoding: .utf8)
            .split(separator: "\n")
        XCTAssertEqual(history.map { $0.prefix(2) }, ["ep", "1,", "2,"])
        let m = try metrics(out)
        XCTAssertEqual(m["epochs"] as? Int, 2)
        XCTAssertEqual(m["model"] as? String, "lenet5-classic")
        XCTAssertEqual(m["batch_size"] as? Int, 50)
        // Quiet prints only the summary line.
        XCTAssertEqual(result.stdout.split(separator: "\n").count, 1, result.stdout)
    }

    func testValidationSplitAndEarlyStopping() throws {
        let out = try makeTemporaryDirectory().appendingPathComponent("run")
        let result = try runFovea(["train", "--train-images", "1200", "--epochs", "3", "--validation-split", "0.25",
                                   "--early-stopping", "5", "--monitor", "val_loss", "--output", out.path])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("900 training + 300 validation"), result.stdout)
        XCTAssertTrue(result.stdout.contains("val_accuracy: "), result.stdout)
        let m = try metrics(out)
        XCTAssertNotNil(m["validation_accuracy"] as? Double)
        XCTAssertNotNil(m["best_epoch"] as? Int)
        let rows = try String(contentsOf: out.appendingPathComponent("history.csv"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(rows.count, 4)
        XCTAssertEqual(rows[1].split(separator: ",", omittingEmptySubsequences: false).count, 10)
        XCTAssertFalse(rows[1].contains(",,"), "validation and test cells are filled: \(rows[1])")
    }

    /// The bar for the course's LeNet_modify: three epochs with its recipe (Adam) reach 99%.
    func testLeNetBNReaches99PercentInThreeEpochs() throws {
        let out = try makeTemporaryDirectory().appendingPathComponent("run")
        let result = try runFovea(["train", "--model", "lenet-bn", "--epochs", "3", "--quiet", "--output", out.path])
        XCTAssertEqual(result.status, 0, result.stderr)
        let m = try metrics(out)
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(m["test_accuracy"] as? Double), 0.99)
        XCTAssertEqual(m["optimizer"] as? String, "adam")
        XCTAssertEqual(m["epochs"] as? Int, 3)
    }

    func testTechniqueFlagsAreApplied() throws {
        let out = try makeTemporaryDirectory().appendingPathComponent("run")
        let result = try runFovea(["train", "--model", "lenet-bn", "--train-images", "600", "--epochs", "2",
                                   "--optimizer", "adamw", "--lr", "0.003", "--weight-decay", "0.05", "--clip-norm", "1",
                                   "--clip-value", "5", "--label-smoothing", "0.1", "--l1", "1e-6", "--l2", "1e-4",
                                   "--dropout", "0.3", "--schedule", "cosine:10", "--validation-split", "0.2",
                                   "--plateau", "0", "--output", out.path])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("adamw lr 0.003 (cosine:10)"), result.stdout)
        XCTAssertTrue(result.stdout.contains("dropout 0.3, label smoothing 0.1, L1 1e-06, L2 0.0001, clip norm 1.0, clip value 5.0"), result.stdout)
        let m = try metrics(out)
        XCTAssertEqual(m["optimizer"] as? String, "adamw")
        XCTAssertEqual(m["schedule"] as? String, "cosine:10")
        XCTAssertGreaterThan(try XCTUnwrap(m["test_accuracy"] as? Double), 0.3, "it still learns")
        for optimizer in ["sgd", "adam", "adagrad", "rmsprop"] {
            let run = try runFovea(["train", "--optimizer", optimizer, "--lr", "0.01", "--train-images", "300", "--quiet",
                                    "--output", out.appendingPathComponent(optimizer).path])
            XCTAssertEqual(run.status, 0, "\(optimizer): \(run.stderr)")
        }
    }

    func testBadHyperparametersAreRefused() throws {
        try assertFails(["train", "--optimizer", "nadam"], mentioning: ["unknown optimizer 'nadam'", "adamw"])
        try assertFails(["train", "--model", "lenet-bn", "--dropout", "1"], mentioning: ["--dropout", "[0, 1)", "1.0"])
        try assertFails(["train", "--dropout", "0.5", "--train-images", "10"], mentioning: ["no dropout layers"])
        try assertFails(["train", "--momentum", "1"], mentioning: ["--momentum", "1.0"])
        try assertFails(["train", "--beta1", "1"], mentioning: ["--beta1", "1.0"])
        try assertFails(["train", "--weight-decay=-0.1"], mentioning: ["--weight-decay", "-0.1"])
        try assertFails(["train", "--clip-norm", "0"], mentioning: ["--clip-norm", "0.0"])
        try assertFails(["train", "--label-smoothing", "1"], mentioning: ["--label-smoothing", "1.0"])
        try assertFails(["train", "--eps", "0"], mentioning: ["--eps"])
        try assertFails(["train", "--optimizer", "adam", "--nesterov", "--train-images", "10"], mentioning: ["--nesterov", "adam"])
        try assertFails(["train", "--plateau", "2"], mentioning: ["--plateau", "--validation-split"])
        try assertFails(["train", "--schedule", "multistep:a:0.1"], mentioning: ["multistep"])
        try assertFails(["train", "--l2=-1"], mentioning: ["--l2", "-1.0"])
    }

    func testBadFlagsGiveOneLine() throws {
        try assertFails(["train", "--model", "resnet9000"], mentioning: ["unknown model 'resnet9000'", "lenet5"])
        try assertFails(["train", "--epochs", "0"], mentioning: ["--epochs", "0"])
        try assertFails(["train", "--batch-size=-3"], mentioning: ["--batch-size", "-3"])
        try assertFails(["train", "--lr=-0.1"], mentioning: ["--lr", "-0.1"])
        try assertFails(["train", "--momentum", "1.5"], mentioning: ["--momentum", "1.5"])
        try assertFails(["train", "--threads", "0"], mentioning: ["--threads", "0"])
        try assertFails(["train", "--schedule", "linear"], mentioning: ["unknown schedule 'linear'"])
        try assertFails(["train", "--bogus"], mentioning: ["--bogus"])
        try assertFails(["train", "--epochs", "many"], mentioning: ["many"])
        try assertFails(["frobnicate"], mentioning: ["frobnicate"])
        try assertFails(["train", "--validation-split", "1.5"], mentioning: ["--validation-split", "1.5"])
        try assertFails(["train", "--early-stopping", "2"], mentioning: ["--early-stopping", "--validation-split"])
        try assertFails(["train", "--validation-split", "0.1", "--monitor", "f1"], mentioning: ["--monitor", "f1"])
    }

    func testMissingDataFolderIsNamed() throws {
        let empty = try makeTemporaryDirectory()
        try assertFails(["train", "--data-dir", empty.path], mentioning: [empty.path, "train-images-idx3-ubyte", "no such file"])
    }

    /// A copy of the bundled MNIST files in a fresh folder.
    func copyOfMNIST() throws -> URL {
        let data = try makeTemporaryDirectory()
        for name in ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                     "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"] {
            try FileManager.default.copyItem(at: bundledMNISTDirectory.appendingPathComponent(name),
                                             to: data.appendingPathComponent(name))
        }
        return data
    }

    func testTruncatedIDXFileIsCaughtAndNothingSavedIsLost() throws {
        let data = try copyOfMNIST()
        let images = data.appendingPathComponent("train-images-idx3-ubyte.gz")
        let bytes = try Data(contentsOf: images)
        try bytes.prefix(bytes.count / 2).write(to: images)

        // A run folder that already holds weights keeps them when training fails.
        let out = try makeTemporaryDirectory()
        let weights = out.appendingPathComponent("model.safetensors")
        try Data("previous weights".utf8).write(to: weights)

        for verify in [[], ["--no-verify"]] {
            try assertFails(["train", "--data-dir", data.path, "--output", out.path] + verify,
                            mentioning: ["train-images-idx3-ubyte.gz", "truncated"])
        }
        XCTAssertEqual(try Data(contentsOf: weights), Data("previous weights".utf8))
    }

    func testAlteredIDXFileFailsItsChecksum() throws {
        let data = try copyOfMNIST()
        // Replace the compressed test labels by an uncompressed copy with one label changed.
        let gz = data.appendingPathComponent("t10k-labels-idx1-ubyte.gz")
        var raw = try Gzip.decompress(Array(Data(contentsOf: gz)))
        raw[100] = (raw[100] + 1) % 10
        try FileManager.default.removeItem(at: gz)
        try Data(raw).write(to: data.appendingPathComponent("t10k-labels-idx1-ubyte"))
        try assertFails(["train", "--data-dir", data.path, "--train-images", "100"],
                        mentioning: ["t10k-labels-idx1-ubyte", "SHA-256"])
    }
}
