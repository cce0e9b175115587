import Datasets
import DatasetDownload
import Foundation
import FoveaTestSupport
import XCTest

/// The built-in manifests and the cache location.
final class ManifestTests: XCTestCase {
    func testBuiltInDataSets() throws {
        XCTAssertEqual(DatasetManifest.builtIn.map(\.name), ["mnist", "fashion-mnist", "cifar10"])
        XCTAssertEqual(DatasetManifest.builtIn.map(\.folder), ["mnist", "fashion-mnist", "cifar10"])
        let mnist = try DatasetManifest.named("mnist")
        XCTAssertEqual(mnist.mirrors.first?.absoluteString, "https://ossci-datasets.s3.amazonaws.com/mnist/")
        XCTAssertEqual(mnist.files.map(\.name), ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                                                 "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"])
        XCTAssertEqual(mnist.files[0].uncompressedSHA256, MNIST.sha256["train-images-idx3-ubyte"])
        for manifest in DatasetManifest.builtIn {
            for file in manifest.files {
                XCTAssertEqual(file.sha256.count, 64, file.name)
                if file.name.hasSuffix("idx3-ubyte.gz") || file.name.hasSuffix("idx1-ubyte.gz") {
                    XCTAssertEqual(file.uncompressedSHA256?.count, 64, "\(manifest.name) \(file.name)")
                }
            }
        }
        let cifar = try DatasetManifest.named("cifar10")
        XCTAssertEqual(cifar.dataDirectory(in: URL(fileURLWithPath: "/c")).path, "/c/cifar10/cifar-10-batches-bin")
        XCTAssertEqual(cifar.archive?.members.filter { $0.size == 10000 * 3073 }.count, 6)
    }

    func testUnknownNameListsTheDataSets() {
        XCTAssertThrowsError(try DatasetManifest.named("imagenet")) { error in
            XCTAssertEqual("\(error)", "unknown data set 'imagenet'; the data sets are: mnist, fashion-mnist, cifar10")
        }
    }

    /// The bundled MNIST copies are recompressed: their own digests differ from the
    /// published ones, but their contents match, which is what lets a recompressing mirror pass.
    func testBundledMNISTPassesOnlyByItsUncompressedDigest() throws {
        let file = DatasetManifest.mnist.files[3]   // t10k-labels, the smallest
        let bytes = [UInt8](try Data(contentsOf: bundledMNISTDirectory.appendingPathComponent(file.name)))
        XCTAssertNotEqual(SHA256.hexDigest(bytes), file.sha256)
        XCTAssertEqual(SHA256.hexDigest(try Gzip.decompress(bytes)), file.uncompressedSHA256)
    }

    /// `FashionMNIST.sha256` came from Debian's copies; check them where the package is installed.
    func testFashionMNISTDigestsMatchDebiansFiles() throws {
        let folder = FashionMNIST.systemDirectory
        guard FileManager.default.fileExists(atPath: folder.appendingPathComponent("t10k-labels-idx1-ubyte.gz").path) else {
            throw XCTSkip("Debian's dataset-fashion-mnist is not installed")
        }
        for base in ["t10k-labels-idx1-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte"] {
            let bytes = [UInt8](try Data(contentsOf: folder.appendingPathComponent(base + ".gz")))
            XCTAssertEqual(SHA256.hexDigest(try Gzip.decompress(bytes)), FashionMNIST.sha256[base], base)
            let published = try XCTUnwrap(DatasetManifest.fashionMNIST.files.first { $0.name == base + ".gz" })
            // Debian dropped the stored file name: exactly that many bytes plus its NUL shorter.
            XCTAssertEqual(published.size, bytes.count + base.utf8.count + 1, base)
        }
        XCTAssertEqual(try FashionMNIST.load(split: .test, from: folder, checksums: FashionMNIST.sha256).count, 10000)
    }

    func testDefaultCacheFollowsTheEnvironment() {
        XCTAssertEqual(DataDirectory.defaultCache(environment: ["FOVEA_DATA_DIR": "/data", "XDG_CACHE_HOME": "/x"]).path, "/data")
        XCTAssertEqual(DataDirectory.defaultCache(environment: ["XDG_CACHE_HOME": "/x", "HOME": "/h"]).path, "/x/fovea")
        XCTAssertEqual(DataDirectory.defaultCache(environment: ["HOME": "/h"]).path, "/h/.cache/fovea")
    }

    /// After a download into the default cache, the loaders' search finds it.
    func testDataDirectorySearchesTheDownloadCache() throws {
        let home = try makeTemporaryDirectory()
        let cwd = try makeTemporaryDirectory()
        let env = ["HOME": home.path]
        let places = DataDirectory.candidates(for: "fashion-mnist", environment: env, workingDirectory: cwd.path,
                                              extra: [FashionMNIST.systemDirectory])
        XCTAssertEqual(places.count, 4)
        XCTAssertEqual(places[2].path, home.appendingPathComponent(".cache/fovea/fashion-mnist").path, "after the source tree")
        XCTAssertEqual(places[3], FashionMNIST.systemDirectory, "before the extra places")
        // With FOVEA_DATA_DIR set, downloads go there, and the user cache is not searched.
        XCTAssertEqual(DataDirectory.candidates(for: "x", environment: ["FOVEA_DATA_DIR": "/d", "HOME": home.path]).count, 3)

        let cached = DataDirectory.defaultCache(environment: env).appendingPathComponent("fashion-mnist")
        try FileManager.default.createDirectory(at: cached, withIntermediateDirectories: true)
        try Data([0]).write(to: cached.appendingPathComponent("t10k-labels-idx1-ubyte.gz"))
        XCTAssertEqual(try FashionMNIST.defaultDirectory(environment: env, workingDirectory: cwd.path).path,
                       cached.standardizedFileURL.path)
    }
}
