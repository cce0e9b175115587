import Datasets
import Foundation

/// One file of a data set as its publishers serve it.
public struct RemoteFile: Sendable, Equatable {
    /// The file name, both on the mirrors (appended to each mirror URL) and in the cache.
    public var name: String
    /// The published size in bytes, when known (a hint for progress; the digests decide).
    public var size: Int?
    /// SHA-256 of the file exactly as published (64 lower-case hex digits).
    public var sha256: String
    /// SHA-256 of the gunzipped contents, when known: a mirror that recompressed a `.gz`
    /// file is still accepted when its contents have this digest.
    public var uncompressedSHA256: String?

    public init(name: String, size: Int? = nil, sha256: String, uncompressedSHA256: String? = nil) {
        self.name = name; self.size = size; self.sha256 = sha256; self.uncompressedSHA256 = uncompressedSHA256
    }
}

/// A `.tar.gz` archive among a data set's files, unpacked after it is verified.
public struct ArchiveLayout: Sendable, Equatable {
    /// A file the archive must deliver, with its exact size when known.
    public struct Member: Sendable, Equatable {
        /// The name inside `dataFolder`.
        public var name: String
        /// The size in bytes, or nil when any size will do.
        public var size: Int?

        public init(_ name: String, size: Int? = nil) { self.name = name; self.size = size }
    }

    /// The archive's name among the data set's `files`.
    public var archive: String
    /// The folder, inside the archive and so inside the data set folder, that holds the data
    /// (`cifar-10-batches-bin`); the data set is ready in `<dataset folder>/<dataFolder>`.
    public var dataFolder: String
    /// Files that must be in `dataFolder` after unpacking.
    public var members: [Member]
    /// When set, each `.bin` member must also parse as CIFAR records of this variant.
    public var cifarVariant: CIFAR.Variant?

    public init(archive: String, dataFolder: String, members: [Member], cifarVariant: CIFAR.Variant? = nil) {
        self.archive = archive; self.dataFolder = dataFolder; self.members = members; self.cifarVariant = cifarVariant
    }
}

/// Everything needed to fetch and check one data set: its files and digests, the mirrors
/// that serve them, and where it lives in the cache.
///
/// A file's URL is the mirror URL with the file name appended, so a mirror is a folder URL
/// (`https://ossci-datasets.s3.amazonaws.com/mnist/`).
public struct DatasetManifest: Sendable, Equatable {
    /// The name on the command line: `mnist`, `fashion-mnist`, `cifar10`.
    public var name: String
    /// The name for people: `MNIST`.
    public var displayName: String
    /// The folder inside the cache (`mnist`), the same name `DataDirectory` looks for.
    public var folder: String
    /// The mirrors, tried in order.
    public var mirrors: [URL]
    /// The files, downloaded in order.
    public var files: [RemoteFile]
    /// An archive to unpack after verification, if the data set ships as one.
    public var archive: ArchiveLayout?
    /// Where else the files can be had when no mirror answers (quoted by the offline error).
    public var offlineHint: String?

    public init(name: String, displayName: String, folder: String, mirrors: [URL], files: [RemoteFile],
                archive: ArchiveLayout? = nil, offlineHint: String? = nil) {
        self.name = name; self.displayName = displayName; self.folder = folder; self.mirrors = mirrors
        self.files = files; self.archive = archive; self.offlineHint = offlineHint
    }

    /// MNIST's four gzipped IDX files. The compressed sizes and digests are those of
    /// tensorflow-datasets' `url_checksums` for MNIST; the uncompressed digests are `MNIST.sha256`.
    public static let mnist = DatasetManifest(
        name: "mnist", displayName: "MNIST", folder: "mnist",
        mirrors: ["https://ossci-datasets.s3.amazonaws.com/mnist/", "https://storage.googleapis.com/cvdf-datasets/mnist/",
                  "http://yann.lecun.com/exdb/mnist/"].map { URL(string: $0)! },
        files: idxFiles(uncompressed: MNIST.sha256, published: [
            "train-images-idx3-ubyte": (9912422, "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
            "train-labels-idx1-ubyte": (28881, "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
            "t10k-images-idx3-ubyte": (1648877, "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
            "t10k-labels-idx1-ubyte": (4542, "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
        ]),
        offlineHint: "this repository also bundles MNIST in Data/mnist")

    /// Fashion-MNIST's four gzipped IDX files from Zalando's S3 mirror. Compressed sizes and
    /// digests from tensorflow-datasets' `url_checksums`; uncompressed ones are `FashionMNIST.sha256`.
    public static let fashionMNIST = DatasetManifest(
        name: "fashion-mnist", displayName: "Fashion-MNIST", folder: "fashion-mnist",
        mirrors: [URL(string: "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/")!],
        files: idxFiles(uncompressed: FashionMNIST.sha256, published: [
            "train-images-idx3-ubyte": (26421880, "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"),
            "train-labels-idx1-ubyte": (29515, "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"),
            "t10k-images-idx3-ubyte": (4422102, "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"),
            "t10k-labels-idx1-ubyte": (5148, "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"),
        ]),
        offlineHint: "Debian's package dataset-fashion-mnist installs them in \(FashionMNIST.systemDirectory.path)")

    /// CIFAR-10's binary version, one `.tar.gz` (digest from tensorflow-datasets'
    /// `url_checksums`), unpacked to `cifar-10-batches-bin/`: five training batches and the
    /// test batch of 10,000 records of 3,073 bytes each, and the class names.
    public static let cifar10 = DatasetManifest(
        name: "cifar10", displayName: "CIFAR-10", folder: "cifar10",
        mirrors: [URL(string: "https://www.cs.toronto.edu/~kriz/")!],
        files: [RemoteFile(name: "cifar-10-binary.tar.gz", size: 170052171,
                           sha256: "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd")],
        archive: ArchiveLayout(
            archive: "cifar-10-binary.tar.gz", dataFolder: "cifar-10-batches-bin",
            members: ((1...5).map { "data_batch_\($0).bin" } + ["test_batch.bin"])
                .map { ArchiveLayout.Member($0, size: 10000 * (1 + CIFAR.imageBytes)) }
                + [ArchiveLayout.Member("batches.meta.txt")],
            cifarVariant: .cifar10))

    /// The data sets `fovea data download` knows, in the order its help lists them.
    public static let builtIn: [DatasetManifest] = [mnist, fashionMNIST, cifar10]

    /// The built-in data set called `name` (`mnist`, `fashion-mnist`, `cifar10`).
    ///
    /// - Throws: `DownloadError.unknownDataset` listing the valid names.
    public static func named(_ name: String) throws -> DatasetManifest {
        guard let manifest = builtIn.first(where: { $0.name == name }) else {
            throw DownloadError.unknownDataset(name: name, known: builtIn.map(\.name))
        }
        return manifest
    }

    /// The folder in `cache` that holds the ready data: the data set folder, or the archive's
    /// data folder inside it.
    public func dataDirectory(in cache: URL) -> URL {
        let root = cache.appendingPathComponent(folder, isDirectory: true)
        return archive.map { root.appendingPathComponent($0.dataFolder, isDirectory: true) } ?? root
    }

    /// The four `.gz` files of an MNIST-format set, in `MNIST.Split` order (train, then test).
    private static func idxFiles(uncompressed: [String: String], published: [String: (Int, String)]) -> [RemoteFile] {
        MNIST.Split.allCases.flatMap { [$0.imagesFileName, $0.labelsFileName] }.map { base in
            let (size, digest) = published[base]!
            return RemoteFile(name: base + ".gz", size: size, sha256: digest, uncompressedSHA256: uncompressed[base])
        }
    }
}
