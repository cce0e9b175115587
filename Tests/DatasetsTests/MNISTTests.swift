import Datasets
import Foundation
import TensorCore
import FoveaTestSupport
import XCTest

final class MNISTTests: XCTestCase {
    /// The bundled splits, loaded and verified once for all tests.
    static let bundledTrain = Result { try MNIST.load(split: .train, from: bundledMNISTDirectory) }
    static let bundledTest = Result { try MNIST.load(split: .test, from: bundledMNISTDirectory) }

    // Reference values below were computed from the bundled files with Python's gzip module:
    //   tr = gzip.open('Data/mnist/train-images-idx3-ubyte.gz').read(); img0 = tr[16:16+784]
    //   sum(img0) == 27525, sum(b > 0 for b in img0) == 166, img0[14*28+13:14*28+19] == [81, 240, 253, 253, 119, 25]
    //   collections.Counter(labels) for both splits.

    func testBundledTrainSplit() throws {
        let train = try Self.bundledTrain.get()
        XCTAssertEqual(train.count, 60_000)
        XCTAssertEqual(train.images.shape, [60_000, 1, 28, 28])
        XCTAssertEqual(train.classNames, ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"])
        XCTAssertEqual(Array(train.labels.prefix(10)), [5, 0, 4, 1, 9, 2, 1, 3, 1, 4])
        XCTAssertEqual(histogram(train.labels), [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949])
        let first = Array(UnsafeBufferPointer(start: train.images.pointer, count: 784))
        XCTAssertEqual(first.filter { $0 > 0 }.count, 166)
        XCTAssertEqual(first.reduce(0) { $0 + Double($1) }, 27525.0 / 255, accuracy: 1e-3)
        XCTAssertEqual(Array(first[(14 * 28 + 13)..<(14 * 28 + 19)]), [81, 240, 253, 253, 119, 25].map { Float($0) / 255 })
        let all = UnsafeBufferPointer(start: train.images.pointer, count: train.images.count)
        XCTAssertEqual(all.min(), 0)
        XCTAssertEqual(all.max(), 1)
    }

    func testBundledTestSplit() throws {
        let test = try Self.bundledTest.get()
        XCTAssertEqual(test.count, 10_000)
        XCTAssertEqual(test.images.shape, [10_000, 1, 28, 28])
        XCTAssertEqual(Array(test.labels.prefix(10)), [7, 2, 1, 0, 4, 1, 4, 9, 5, 9])
        XCTAssertEqual(histogram(test.labels), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])
        let all = UnsafeBufferPointer(start: test.images.pointer, count: test.images.count)
        XCTAssertTrue(all.allSatisfy { $0 >= 0 && $0 <= 1 })
    }

    func testTrainMeanAndStdMatchTheConstants() throws {
        let train = try Self.bundledTrain.get()
        let all = UnsafeBufferPointer(start: train.images.pointer, count: train.images.count)
        let mean = all.reduce(0) { $0 + Double($1) } / Double(all.count)
        let variance = all.reduce(0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(all.count)
        XCTAssertEqual(mean, Double(MNIST.mean), accuracy: 1e-4)
        XCTAssertEqual(variance.squareRoot(), Double(MNIST.std), accuracy: 1e-4)
    }

    /// Prints how long loading and verifying the training split takes (no assertion on time).
    func testTimeLoadAndVerifyTrain() throws {
        let start = Date()
        let train = try MNIST.load(split: .train, from: bundledMNISTDirectory, verify: true)
        let verified = Date().timeIntervalSince(start)
        let start2 = Date()
        _ = try MNIST.load(split: .train, from: bundledMNISTDirectory, verify: false)
        let unverified = Date().timeIntervalSince(start2)
        print(String(format: "MNIST train: %d images loaded and SHA-256 verified in %.3f s (%.3f s unverified)",
                     train.count, verified, unverified))
        XCTAssertEqual(train.count, 60_000)
    }

    func testTamperedCopyFailsVerification() throws {
        let dir = try makeTemporaryDirectory()
        try FileManager.default.copyItem(at: bundledMNISTDirectory.appendingPathComponent("t10k-images-idx3-ubyte.gz"),
                                         to: dir.appendingPathComponent("t10k-images-idx3-ubyte.gz"))
        var labels = try IDX.readUncompressed(bundledMNISTDirectory.appendingPathComponent("t10k-labels-idx1-ubyte.gz"))
        labels[8] = 3  // the first label, 7 in the original
        let tampered = dir.appendingPathComponent("t10k-labels-idx1-ubyte.gz")
        try Data(Gzip.compress(labels)).write(to: tampered)

        let error = assertDatasetError(try MNIST.load(split: .test, from: dir))
        guard case .checksumMismatch(let path, let expected, let actual)? = error else {
            return XCTFail("got \(String(describing: error))")
        }
        XCTAssertEqual(path, tampered.path)
        XCTAssertEqual(expected, "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2")
        XCTAssertEqual(actual, SHA256.hexDigest(labels))
        XCTAssertTrue(error!.description.hasPrefix(tampered.path + ": SHA-256 mismatch: expected ff7bcfd4"), error!.description)

        // Unverified, the tampered label comes through.
        let loaded = try MNIST.load(split: .test, from: dir, verify: false)
        XCTAssertEqual(loaded.labels[0], 3)
    }

    func testUncompressedFilesAreAcceptedAndVerified() throws {
        let dir = try makeTemporaryDirectory()
        for name in ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"] {
            let raw = try IDX.readUncompressed(bundledMNISTDirectory.appendingPathComponent(name + ".gz"))
            try Data(raw).write(to: dir.appendingPathComponent(name))
        }
        let test = try MNIST.load(split: .test, from: dir, verify: true)
        XCTAssertEqual(test.count, 10_000)
        XCTAssertEqual(test.labels[0], 7)
    }

    func testMissingFileIsReported() throws {
        let dir = try makeTemporaryDirectory()
        let error = assertDatasetError(try MNIST.load(split: .train, from: dir))
        guard case .fileNotFound(let path)? = error else { return XCTFail("got \(String(describing: error))") }
        XCTAssertTrue(path.contains("train-images-idx3-ubyte.gz"), path)
    }

    func testSyntheticFilesLoadUnverified() throws {
        let dir = try makeTemporaryDirectory()
        try writeSet(dir, split: .train, count: 3, side: 28, labels: [9, 0, 4])
        let data = try MNIST.load(split: .train, from: dir, verify: false)
        XCTAssertEqual(data.images.shape, [3, 1, 28, 28])
        XCTAssertEqual(data.labels, [9, 0, 4])
        XCTAssertEqual(data.images[2, 0, 27, 27], Float(pixel(2, 27 * 28 + 27)) / 255)
        XCTAssertEqual(data.images[1, 0, 0, 5], Float(pixel(1, 5)) / 255)
    }

    func testVerificationWithoutAKnownDigestThrows() throws {
        let dir = try makeTemporaryDirectory()
        try writeSet(dir, split: .train, count: 2, side: 28, labels: [1, 2])
        let error = assertDatasetError(try MNIST.load(split: .train, from: dir, verify: true, checksums: [:]))
        XCTAssertEqual(error, .noChecksum(path: dir.appendingPathComponent("train-images-idx3-ubyte.gz").path))
    }

    func testCountMismatch() throws {
        let dir = try makeTemporaryDirectory()
        try writeSet(dir, split: .test, count: 3, side: 28, labels: [1, 2])
        let error = assertDatasetError(try MNIST.load(split: .test, from: dir, verify: false))
        guard case .countMismatch(_, let images, _, let labels)? = error else { return XCTFail("got \(String(describing: error))") }
        XCTAssertEqual(images, 3)
        XCTAssertEqual(labels, 2)
    }

    func testLabelOutOfRange() throws {
        let dir = try makeTemporaryDirectory()
        try writeSet(dir, split: .test, count: 3, side: 28, labels: [1, 10, 2])
        let error = assertDatasetError(try MNIST.load(split: .test, from: dir, verify: false))
        XCTAssertEqual(error, .labelOutOfRange(path: dir.appendingPathComponent("t10k-labels-idx1-ubyte.gz").path,
                                               index: 1, label: 10, classCount: 10))
    }

    func testWrongImageSize() throws {
        let dir = try makeTemporaryDirectory()
        try writeSet(dir, split: .test, count: 2, side: 32, labels: [1, 2])
        let error = assertDatasetError(try MNIST.load(split: .test, from: dir, verify: false))
        XCTAssertTrue(error?.description.hasSuffix("image is 32x32, expected 28x28") ?? false, "\(String(describing: error))")
    }

    func testWrongElementTypeOrRank() throws {
        let dir = try makeTemporaryDirectory()
        try writeSet(dir, split: .test, count: 2, side: 28, labels: [1, 2])
        try IDX.write(IDXArray(type: .int16, dims: [2], values: [1, 2]),
                      to: dir.appendingPathComponent("t10k-labels-idx1-ubyte.gz"), compressed: true)
        guard case .unexpectedContents? = assertDatasetError(try MNIST.load(split: .test, from: dir, verify: false)) else {
            return XCTFail("int16 labels accepted")
        }
    }

    func testFashionMNISTUsesItsClassNamesAndOptionalChecksums() throws {
        let dir = try makeTemporaryDirectory()
        try writeSet(dir, split: .test, count: 2, side: 28, labels: [9, 0])
        let data = try FashionMNIST.load(split: .test, from: dir)
        XCTAssertEqual(data.classNames.count, 10)
        XCTAssertEqual(data.classNames[data.labels[0]], "Ankle boot")
        XCTAssertEqual(data.classNames[data.labels[1]], "T-shirt/top")

        var sums: [String: String] = [:]
        for name in ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"] {
            sums[name] = SHA256.hexDigest(try IDX.readUncompressed(dir.appendingPathComponent(name + ".gz")))
        }
        XCTAssertEqual(try FashionMNIST.load(split: .test, from: dir, checksums: sums).count, 2)
        sums["t10k-labels-idx1-ubyte"] = String(repeating: "0", count: 64)
        guard case .checksumMismatch? = assertDatasetError(try FashionMNIST.load(split: .test, from: dir, checksums: sums)) else {
            return XCTFail("wrong digest accepted")
        }
    }

    func testDefaultDirectoryFindsBundledData() throws {
        let found = try MNIST.defaultDirectory()
        XCTAssertTrue(FileManager.default.fileExists(atPath: found.appendingPathComponent("t10k-labels-idx1-ubyte.gz").path))
    }

    func testDefaultDirectoryPrefersEnvironmentVariable() throws {
        let root = try makeTemporaryDirectory()
        let mnist = root.appendingPathComponent("mnist")
        try FileManager.default.createDirectory(at: mnist, withIntermediateDirectories: true)
        try Data([0]).write(to: mnist.appendingPathComponent("t10k-labels-idx1-ubyte"))
        let found = try MNIST.defaultDirectory(environment: ["FOVEA_DATA_DIR": root.path], workingDirectory: "/")
        XCTAssertEqual(found.resolvingSymlinksInPath().path, mnist.resolvingSymlinksInPath().path)
    }

    func testDefaultDirectoryFallsBackToWorkingDirectoryThenSourceTree() throws {
        let cwd = try makeTemporaryDirectory()
        let local = cwd.appendingPathComponent("Data/mnist")
        try FileManager.default.createDirectory(at: local, withIntermediateDirectories: true)
        try Data([0]).write(to: local.appendingPathComponent("train-images-idx3-ubyte.gz"))
        // An environment variable pointing nowhere useful is skipped.
        let env = ["FOVEA_DATA_DIR": cwd.appendingPathComponent("nothing-here").path]
        XCTAssertEqual(try MNIST.defaultDirectory(environment: env, workingDirectory: cwd.path).resolvingSymlinksInPath().path,
                       local.resolvingSymlinksInPath().path)
        // With no local copy, the source tree's Data/mnist is used.
        let fromSource = try MNIST.defaultDirectory(environment: [:], workingDirectory: try makeTemporaryDirectory().path)
        XCTAssertEqual(fromSource.resolvingSymlinksInPath().path, bundledMNISTDirectory.resolvingSymlinksInPath().path)
    }

    func testDataNotFoundListsEveryPlace() throws {
        let cwd = try makeTemporaryDirectory()
        let error = assertDatasetError(try DataDirectory.find("no-such-set", dataset: "Nothing", containingAnyOf: ["x"],
                                                              environment: ["FOVEA_DATA_DIR": "/env/root"],
                                                              workingDirectory: cwd.path))
        guard case .dataNotFound(_, _, let searched)? = error else { return XCTFail("got \(String(describing: error))") }
        XCTAssertEqual(searched.count, 3)
        XCTAssertEqual(searched[0], "/env/root/no-such-set")
        XCTAssertEqual(searched[1], cwd.appendingPathComponent("Data/no-such-set").path)
        XCTAssertTrue(searched[2].hasSuffix("/Data/no-such-set"))
        for place in searched { XCTAssertTrue(error!.description.contains(place)) }
    }

    // MARK: helpers

    func histogram(_ labels: [Int]) -> [Int] {
        var counts = [Int](repeating: 0, count: 10)
        for l in labels { counts[l] += 1 }
        return counts
    }

    /// Pixel `i` of synthetic image `n`.
    func pixel(_ n: Int, _ i: Int) -> UInt8 { UInt8((n * 31 + i * 7) % 256) }

    /// Writes gzipped images `[count, side, side]` and labels for `split` into `dir`.
    func writeSet(_ dir: URL, split: MNIST.Split, count: Int, side: Int, labels: [UInt8]) throws {
        let pixels = (0..<count).flatMap { n in (0..<(side * side)).map { pixel(n, $0) } }
        try IDX.write(IDXArray(dims: [count, side, side], bytes: pixels),
                      to: dir.appendingPathComponent(split.imagesFileName + ".gz"), compressed: true)
        try IDX.write(IDXArray(dims: [labels.count], bytes: labels),
                      to: dir.appendingPathComponent(split.labelsFileName + ".gz"), compressed: true)
    }
}
