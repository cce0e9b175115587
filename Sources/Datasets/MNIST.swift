import Foundation
import TensorCore

/// MNIST handwritten digits (LeCun, Cortes and Burges): 60,000 training and 10,000 test
/// greyscale images of 28x28 pixels, labels 0-9, in four IDX files.
///
/// ```swift
/// let train = try MNIST.load(split: .train, from: MNIST.defaultDirectory())
/// train.images.shape  // [60000, 1, 28, 28], pixels in [0, 1]
/// let input = try train.normalized(mean: [MNIST.mean], std: [MNIST.std])
/// ```
///
/// The folder must hold `train-images-idx3-ubyte.gz`, `train-labels-idx1-ubyte.gz`,
/// `t10k-images-idx3-ubyte.gz` and `t10k-labels-idx1-ubyte.gz` (or the same names without
/// `.gz`). Fashion-MNIST ships files of the same names and format: see `FashionMNIST`.
public enum MNIST {
    /// Which half of the data set.
    public enum Split: String, Sendable, CaseIterable {
        /// 60,000 images: `train-*-ubyte`.
        case train
        /// 10,000 images: `t10k-*-ubyte`.
        case test

        /// The uncompressed images file name, `train-images-idx3-ubyte` or `t10k-images-idx3-ubyte`.
        public var imagesFileName: String { prefix + "-images-idx3-ubyte" }
        /// The uncompressed labels file name, `train-labels-idx1-ubyte` or `t10k-labels-idx1-ubyte`.
        public var labelsFileName: String { prefix + "-labels-idx1-ubyte" }

        private var prefix: String { self == .train ? "train" : "t10k" }
    }

    /// Image side in pixels: 28.
    public static let imageSide = 28
    /// Mean pixel value of the training set after scaling to [0, 1], the usual `Normalize` mean.
    public static let mean: Float = 0.1307
    /// Standard deviation of the training-set pixels after scaling to [0, 1].
    public static let std: Float = 0.3081
    /// The class names: `"0"` ... `"9"`.
    public static let classNames: [String] = (0...9).map(String.init)

    /// The SHA-256 of each official uncompressed MNIST file (as `Data/mnist/SHA256SUMS` lists).
    public static let sha256: [String: String] = [
        "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    ]

    /// The folder holding the MNIST files: `$FOVEA_DATA_DIR/mnist`, else `./Data/mnist`, else
    /// `Data/mnist` in the source tree (see `DataDirectory`). Throws
    /// `DatasetError.dataNotFound` listing the places tried.
    public static func defaultDirectory(environment: [String: String] = ProcessInfo.processInfo.environment,
                                        workingDirectory: String = FileManager.default.currentDirectoryPath) throws -> URL {
        try DataDirectory.find("mnist", dataset: "MNIST", containingAnyOf: allFileNames,
                               environment: environment, workingDirectory: workingDirectory)
    }

    /// Loads one split: images `[N, 1, 28, 28]` with pixels scaled to [0, 1], labels 0-9.
    ///
    /// - Parameters:
    ///   - directory: the folder holding the four files (gzipped or not).
    ///   - verify: check the SHA-256 of each uncompressed file against `checksums`.
    ///   - checksums: digests by uncompressed file name; the official MNIST ones by default.
    ///   - classNames: names for the 10 labels (Fashion-MNIST passes its own).
    /// - Throws: `DatasetError` for a missing or corrupt file, a checksum mismatch, images
    ///   that are not 28x28 bytes, a label outside 0..<10, or counts that disagree.
    public static func load(split: Split, from directory: URL, verify: Bool = true,
                            checksums: [String: String] = MNIST.sha256,
                            classNames: [String] = MNIST.classNames) throws -> LabeledImages {
        let (imagesURL, imageBytes) = try readFile(split.imagesFileName, in: directory, verify: verify, checksums: checksums)
        let (labelsURL, labelBytes) = try readFile(split.labelsFileName, in: directory, verify: verify, checksums: checksums)
        let images = try IDX.parse(imageBytes, path: imagesURL.path)
        let labels = try IDX.parse(labelBytes, path: labelsURL.path)

        guard images.type == .uint8, images.dims.count == 3 else {
            throw DatasetError.unexpectedContents(path: imagesURL.path,
                reason: "expected unsigned bytes [N, 28, 28], got \(images.type) \(images.dims)")
        }
        guard images.dims[1] == imageSide, images.dims[2] == imageSide else {
            throw DatasetError.imageSize(path: imagesURL.path, width: images.dims[2], height: images.dims[1],
                                         expectedWidth: imageSide, expectedHeight: imageSide)
        }
        guard labels.type == .uint8, labels.dims.count == 1 else {
            throw DatasetError.unexpectedContents(path: labelsURL.path,
                reason: "expected unsigned bytes [N], got \(labels.type) \(labels.dims)")
        }
        guard images.dims[0] == labels.dims[0] else {
            throw DatasetError.countMismatch(imagesPath: imagesURL.path, images: images.dims[0],
                                             labelsPath: labelsURL.path, labels: labels.dims[0])
        }
        let labelValues = labels.data.map(Int.init)
        if let bad = labelValues.firstIndex(where: { $0 >= classNames.count }) {
            throw DatasetError.labelOutOfRange(path: labelsURL.path, index: bad, label: labelValues[bad],
                                               classCount: classNames.count)
        }
        return try LabeledImages(images: scaledPixels(images), labels: labelValues, classNames: classNames)
    }

    /// Both uncompressed and gzipped names of all four files.
    static var allFileNames: [String] {
        Split.allCases.flatMap { [$0.imagesFileName, $0.labelsFileName] }.flatMap { [$0 + ".gz", $0] }
    }

    /// Reads `name.gz` (or `name` when there is no gzipped copy) from `directory`,
    /// inflates it and, when `verify`, checks the SHA-256 of the uncompressed bytes.
    static func readFile(_ name: String, in directory: URL, verify: Bool,
                         checksums: [String: String]) throws -> (URL, [UInt8]) {
        let gz = directory.appendingPathComponent(name + ".gz")
        let raw = directory.appendingPathComponent(name)
        let url: URL
        if FileManager.default.fileExists(atPath: gz.path) {
            url = gz
        } else if FileManager.default.fileExists(atPath: raw.path) {
            url = raw
        } else {
            throw DatasetError.fileNotFound(path: gz.path + " (or " + raw.lastPathComponent + ")")
        }
        let bytes = try IDX.readUncompressed(url)
        if verify {
            guard let expected = checksums[name] else { throw DatasetError.noChecksum(path: url.path) }
            let actual = SHA256.hexDigest(bytes)
            guard actual == expected.lowercased() else {
                throw DatasetError.checksumMismatch(path: url.path, expected: expected.lowercased(), actual: actual)
            }
        }
        return (url, bytes)
    }

    /// Bytes `[N, H, W]` to a tensor `[N, 1, H, W]` of `byte / 255`.
    private static func scaledPixels(_ images: IDXArray) -> Tensor {
        let tensor = Tensor.uninitialized([images.dims[0], 1, images.dims[1], images.dims[2]])
        let out = tensor.pointer
        images.data.withUnsafeBufferPointer { bytes in
            guard let src = bytes.baseAddress else { return }
            Parallel.forRanges(bytes.count, minPerChunk: 1 << 16) { range in
                for i in range { out[i] = Float(src[i]) / 255 }
            }
        }
        return tensor
    }
}
