/// Everything that can go wrong reading, verifying or batching a data set: missing or
/// corrupt files, wrong formats, bad arguments. Each message names the file (when there is
/// one) and quotes the offending values, e.g.
/// `train-images-idx3-ubyte.gz: SHA-256 mismatch: expected ba89..., got 1234...`.
public enum DatasetError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file does not exist.
    case fileNotFound(path: String)
    /// The file exists but could not be read.
    case readFailed(path: String, reason: String)
    /// The file could not be written.
    case writeFailed(path: String, reason: String)
    /// Gzip or zlib data that zlib refuses (bad header, bad CRC, truncated stream...).
    case corruptGzip(path: String?, reason: String)
    /// zlib failed to compress (only on exhausted memory or a bad level).
    case compressionFailed(reason: String)
    /// An IDX file shorter than its own header: `byteCount` bytes where `needed` are required.
    case idxTooShort(path: String?, byteCount: Int, needed: Int)
    /// An IDX file whose first two bytes are not `00 00`.
    case idxBadMagic(path: String?, bytes: [UInt8])
    /// An IDX element-type byte other than 0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E.
    case idxUnknownType(path: String?, code: UInt8)
    /// The IDX payload is not `product(dims) * elementSize` bytes long.
    case idxLengthMismatch(path: String?, dims: [Int], expectedBytes: Int, actualBytes: Int)
    /// Values or dimensions that an IDX file cannot hold.
    case idxUnrepresentable(reason: String)
    /// The SHA-256 of a file's (uncompressed) contents is not the published one.
    case checksumMismatch(path: String, expected: String, actual: String)
    /// Verification was asked for, but no digest is known for this file.
    case noChecksum(path: String)
    /// A well-formed file holding the wrong kind of data (an IDX of floats where bytes
    /// belong, labels with two dimensions...).
    case unexpectedContents(path: String?, reason: String)
    /// The images file and the labels file disagree on how many examples there are.
    case countMismatch(imagesPath: String, images: Int, labelsPath: String, labels: Int)
    /// A label outside `0..<classCount`.
    case labelOutOfRange(path: String?, index: Int, label: Int, classCount: Int)
    /// An image of the wrong size, e.g. `image is 32x32, expected 28x28`.
    case imageSize(path: String?, width: Int, height: Int, expectedWidth: Int, expectedHeight: Int)
    /// A file that does not start with the 8-byte PNG signature.
    case notPNG(path: String?, firstBytes: [UInt8])
    /// A PNG that libpng cannot decode or encode (truncated, corrupt, unsupported).
    case invalidPNG(path: String?, reason: String)
    /// JPEG bytes that libjpeg cannot decode, with its message.
    case invalidJPEG(path: String?, reason: String)
    /// An image whose header declares more pixels than the decoder's budget (`PNG.maxPixels`
    /// by default), refused before anything is allocated.
    case imageTooLarge(path: String?, width: Int, height: Int, maxPixels: Int)
    /// Bytes that are neither PNG nor JPEG.
    case unknownImageFormat(path: String?, firstBytes: [UInt8])
    /// No folder holding the data set was found; `searched` lists the places tried and
    /// `folder` is the name expected under `FOVEA_DATA_DIR` (`mnist`).
    case dataNotFound(dataset: String, folder: String, searched: [String])
    /// An argument out of its valid range (batch size 0, mean of the wrong length...).
    case invalidArgument(String)

    /// The message: the file first (when known), then what is wrong, quoting the values.
    public var description: String {
        switch self {
        case .fileNotFound(let path):
            return "\(path): no such file"
        case .readFailed(let path, let reason):
            return "\(path): cannot read: \(reason)"
        case .writeFailed(let path, let reason):
            return "\(path): cannot write: \(reason)"
        case .corruptGzip(let path, let reason):
            return located(path, "corrupt gzip/zlib data: \(reason)")
        case .compressionFailed(let reason):
            return "compression failed: \(reason)"
        case .idxTooShort(let path, let count, let needed):
            return located(path, "IDX file too short: \(count) bytes, the header needs \(needed)")
        case .idxBadMagic(let path, let bytes):
            return located(path, "not an IDX file: magic bytes are \(hex(bytes)), expected 00 00")
        case .idxUnknownType(let path, let code):
            return located(path, "unknown IDX element type 0x\(hex([code])) "
                + "(expected 08 u8, 09 i8, 0B i16, 0C i32, 0D f32 or 0E f64)")
        case .idxLengthMismatch(let path, let dims, let expected, let actual):
            return located(path, "IDX data length mismatch: dimensions \(dims) need \(expected) bytes of data, "
                + "the file holds \(actual)")
        case .idxUnrepresentable(let reason):
            return "cannot write IDX: \(reason)"
        case .checksumMismatch(let path, let expected, let actual):
            return "\(path): SHA-256 mismatch: expected \(expected), got \(actual)"
        case .noChecksum(let path):
            return "\(path): no SHA-256 digest known for this file; pass verify: false to load it unverified"
        case .unexpectedContents(let path, let reason):
            return located(path, reason)
        case .countMismatch(let imagesPath, let images, let labelsPath, let labels):
            return "\(images) images in \(imagesPath) but \(labels) labels in \(labelsPath)"
        case .labelOutOfRange(let path, let index, let label, let classCount):
            return located(path, "label \(label) at index \(index) is outside 0..<\(classCount)")
        case .imageSize(let path, let w, let h, let ew, let eh):
            return located(path, "image is \(w)x\(h), expected \(ew)x\(eh)")
        case .notPNG(let path, let first):
            return located(path, "not a PNG file: starts with \(hex(first)), expected 89 50 4E 47 0D 0A 1A 0A")
        case .invalidPNG(let path, let reason):
            return located(path, "invalid PNG: \(reason)")
        case .invalidJPEG(let path, let reason):
            return located(path, "invalid JPEG: \(reason)")
        case .imageTooLarge(let path, let w, let h, let budget):
            return located(path, "image declares \(w)x\(h) = \(w * h) pixels, more than the budget of \(budget) "
                + "pixels (a decompression-bomb guard; the decoders' maxPixels parameter allows more)")
        case .unknownImageFormat(let path, let first):
            return located(path, "not a PNG or JPEG image (first bytes \(hex(first)))")
        case .dataNotFound(let dataset, let folder, let searched):
            return "\(dataset) data not found; looked in:\n" + searched.map { "  \($0)" }.joined(separator: "\n")
                + "\nSet FOVEA_DATA_DIR to a folder containing \(folder)/, or pass the folder explicitly."
        case .invalidArgument(let detail):
            return "invalid argument: \(detail)"
        }
    }
}

/// `"path: text"` when the path is known, `text` otherwise.
private func located(_ path: String?, _ text: String) -> String {
    path.map { "\($0): \(text)" } ?? text
}

/// Bytes as upper-case hex pairs separated by spaces: `1F 8B`.
private func hex(_ bytes: [UInt8]) -> String {
    bytes.map { b in
        let s = String(b, radix: 16, uppercase: true)
        return b < 16 ? "0" + s : s
    }.joined(separator: " ")
}
