import DatasetDownload
import Datasets
import Foundation
import FoveaTestSupport
import XCTest

/// The inspection workflow end to end: synthetic AOI folders, `fovea train --data`, the
/// report and `fovea evaluate` on the images.
final class DataCommandTests: XCTestCase {
    func testSyntheticAOITrainsAbove95PercentAndEvaluates() throws {
        let root = try makeTemporaryDirectory()
        let aoi = root.appendingPathComponent("aoi")
        let made = try runFovea(["data", "synth-aoi", "--out", aoi.path, "--per-class", "300"])
        XCTAssertEqual(made.status, 0, made.stderr)
        XCTAssertTrue(made.stdout.contains("Wrote 1800 synthetic 64x64 grey images"), made.stdout)

        let run = root.appendingPathComponent("run")
        let trained = try runFovea(["train", "--data", aoi.path, "--epochs", "12", "--optimizer", "adam", "--lr", "0.002",
                                    "--quiet", "--output", run.path])
        XCTAssertEqual(trained.status, 0, trained.stderr)
        XCTAssertTrue(trained.stdout.hasPrefix("Validation accuracy: "), trained.stdout)
        let metrics = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: run.appendingPathComponent("metrics.json"))) as? [String: Any])
        let accuracy = try XCTUnwrap(metrics["validation_accuracy"] as? Double)
        XCTAssertGreaterThanOrEqual(accuracy, 0.95, "the issue's bar for the synthetic AOI set")
        XCTAssertEqual(metrics["dataset"] as? String, "images")
        XCTAssertTrue(metrics["test_accuracy"] is NSNull)
        XCTAssertEqual((metrics["classes"] as? [String])?.count, 6)
        let evaluation = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: run.appendingPathComponent("evaluation.json"))) as? [String: Any])
        XCTAssertEqual(evaluation["images"] as? Int, 360, "the report is on the stratified 20% validation split")
        XCTAssertEqual(evaluation["accuracy"] as? Double ?? -1, accuracy, accuracy: 1e-9)

        // Evaluate on the CSV layout of the same images; predict one of them.
        let evaluated = try runFovea(["evaluate", "--weights", run.appendingPathComponent("model.safetensors").path,
                                      "--data", aoi.appendingPathComponent("labels.csv").path, "--output", root.appendingPathComponent("eval").path])
        XCTAssertEqual(evaluated.status, 0, evaluated.stderr)
        XCTAssertTrue(evaluated.stdout.contains("1800 test images"), evaluated.stdout)
        XCTAssertTrue(evaluated.stdout.contains("1_void"), evaluated.stdout)
        let predicted = try runFovea(["predict", "--weights", run.appendingPathComponent("model.safetensors").path,
                                      aoi.appendingPathComponent("1_void/aoi_00301.png").path, "--top", "1"])
        XCTAssertEqual(predicted.status, 0, predicted.stderr)
        XCTAssertTrue(predicted.stdout.contains(": 1_void ("), predicted.stdout)
    }

    /// The seeds' augmentation is one flag; a seeded augmented run repeats exactly.
    func testAugmentIsOneFlagAndRepeats() throws {
        let root = try makeTemporaryDirectory()
        var accuracies: [Double] = []
        for name in ["a", "b"] {
            let out = root.appendingPathComponent(name)
            let result = try runFovea(["train", "--augment", "--train-images", "6000", "--test-images", "500", "--threads", "2",
                                       "--quiet", "--no-report", "--output", out.path])
            XCTAssertEqual(result.status, 0, result.stderr)
            let metrics = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("metrics.json"))) as? [String: Any])
            XCTAssertTrue((metrics["techniques"] as? String ?? "").contains("augment"), "\(metrics["techniques"] ?? "")")
            accuracies.append(try XCTUnwrap(metrics["test_accuracy"] as? Double))
        }
        XCTAssertEqual(accuracies[0], accuracies[1])
        XCTAssertGreaterThan(accuracies[0], 0.8)
        XCTAssertEqual(try Data(contentsOf: root.appendingPathComponent("a/model.safetensors")),
                       try Data(contentsOf: root.appendingPathComponent("b/model.safetensors")))
    }

    func testBadDataArguments() throws {
        let root = try makeTemporaryDirectory()
        try assertFails(["train", "--data", root.appendingPathComponent("none").path, "--quiet"], mentioning: ["none"])
        try assertFails(["train", "--data", root.path, "--quiet"], mentioning: [root.path, "no class folders"])
        try assertFails(["train", "--data", root.path, "--data-dir", root.path], mentioning: ["--data", "--data-dir"])
        try assertFails(["data", "synth-aoi", "--out", root.path, "--size", "8"], mentioning: ["--size", "8"])
        let tiny = root.appendingPathComponent("tiny")
        XCTAssertEqual(try runFovea(["data", "synth-aoi", "--out", tiny.path, "--per-class", "2", "--size", "16"]).status, 0)
        try assertFails(["train", "--data", tiny.path, "--model", "alexnet", "--quiet"], mentioning: ["alexnet", "16x16", "--input"])
    }

    // MARK: fovea data download

    /// The bundled MNIST, served from a loopback mirror: its files are recompressed copies, so
    /// their own digests differ from the published ones and they pass by their contents.
    func testDownloadMNISTFromALoopbackMirror() throws {
        let names = DatasetManifest.mnist.files.map(\.name)
        var files: [String: [UInt8]] = [:]
        for name in names { files[name] = [UInt8](try Data(contentsOf: bundledMNISTDirectory.appendingPathComponent(name))) }
        let server = try LoopbackFileServer(files: files)
        defer { server.stop() }
        let cache = try makeTemporaryDirectory()
        let folder = cache.appendingPathComponent("mnist")
        // A partial t10k-labels file from an earlier, interrupted run.
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data(files["t10k-labels-idx1-ubyte.gz"]![..<1000]).write(to: folder.appendingPathComponent("t10k-labels-idx1-ubyte.gz.part"))

        let result = try runFovea(["data", "download", "mnist", "--cache", cache.path, "--mirror", server.baseURL.absoluteString])
        XCTAssertEqual(result.status, 0, result.stderr)
        for name in names {
            XCTAssertTrue(result.stdout.contains("\(name): \(server.baseURL.absoluteString)\(name)"), result.stdout)
            XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path), name)
            XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent(name + ".part").path), name)
        }
        XCTAssertTrue(result.stdout.contains("received \(files["train-images-idx3-ubyte.gz"]!.count) bytes"), result.stdout)
        XCTAssertTrue(result.stdout.contains("(resuming at 1000 bytes)"), result.stdout)
        XCTAssertTrue(result.stdout.contains("resumed at 1000 bytes"), result.stdout)
        XCTAssertEqual(result.stdout.components(separatedBy: "SHA-256 verified after decompression").count - 1, 4, result.stdout)
        XCTAssertTrue(result.stdout.contains("MNIST is ready in \(folder.path)"), result.stdout)
        XCTAssertTrue(result.stdout.contains("fovea train --data-dir \(folder.path)"), result.stdout)
        XCTAssertTrue(server.requests.contains(.init(path: "/t10k-labels-idx1-ubyte.gz", range: "bytes=1000-")), "\(server.requests)")
        XCTAssertEqual(try MNIST.load(split: .test, from: folder).count, 10000)
        XCTAssertEqual(try MNIST.load(split: .train, from: folder).count, 60000)

        // A second run checks the files and fetches nothing.
        let requests = server.requests.count
        let again = try runFovea(["data", "download", "mnist", "--cache", cache.path, "--mirror", server.baseURL.absoluteString])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertEqual(again.stdout.components(separatedBy: "already present, verified").count - 1, 4, again.stdout)
        XCTAssertEqual(server.requests.count, requests)
    }

    func testDownloadFailuresAreOneLineErrors() throws {
        let cache = try makeTemporaryDirectory()
        var garbage: [String: [UInt8]] = [:]
        for file in DatasetManifest.mnist.files { garbage[file.name] = Array("not MNIST at all".utf8) }
        let server = try LoopbackFileServer(files: garbage)
        defer { server.stop() }
        try assertFails(["data", "download", "mnist", "--cache", cache.path, "--mirror", server.baseURL.absoluteString],
                        mentioning: ["train-images-idx3-ubyte.gz", "SHA-256", DatasetManifest.mnist.files[0].sha256])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: cache.appendingPathComponent("mnist").path), [],
                       "a file that fails its check is not kept")

        let closed = "http://127.0.0.1:\(try LoopbackFileServer.closedPort())/"
        try assertFails(["data", "download", "fashion-mnist", "--cache", cache.path, "--mirror", closed],
                        mentioning: ["no mirror of Fashion-MNIST could be reached", closed, "by hand", "dataset-fashion-mnist", "--mirror"])
        try assertFails(["data", "download", "imagenet"], mentioning: ["imagenet", "mnist, fashion-mnist, cifar10"])
        try assertFails(["data", "download", "mnist", "--mirror", "ftp://example.org/"], mentioning: ["--mirror", "ftp://example.org/"])
    }
}
