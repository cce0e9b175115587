import Foundation

/// The element types an IDX file can hold, by their type byte.
public enum IDXType: UInt8, Sendable, CaseIterable {
    /// 0x08: unsigned byte (MNIST pixels and labels).
    case uint8 = 0x08
    /// 0x09: signed byte.
    case int8 = 0x09
    /// 0x0B: signed 16-bit integer, big-endian.
    case int16 = 0x0B
    /// 0x0C: signed 32-bit integer, big-endian.
    case int32 = 0x0C
    /// 0x0D: IEEE 754 single, big-endian.
    case float32 = 0x0D
    /// 0x0E: IEEE 754 double, big-endian.
    case float64 = 0x0E

    /// Bytes per element: 1, 1, 2, 4, 4, 8.
    public var byteWidth: Int {
        switch self {
        case .uint8, .int8: return 1
        case .int16: return 2
        case .int32, .float32: return 4
        case .float64: return 8
        }
    }
}

/// The contents of an IDX file: element type, dimensions and the elements exactly as
/// stored (row-major, big-endian).
///
/// MNIST's `train-images-idx3-ubyte` is `type: .uint8, dims: [60000, 28, 28]`; its labels
/// file is `type: .uint8, dims: [60000]`.
public struct IDXArray: Sendable, Equatable {
    /// The element type.
    public let type: IDXType
    /// Size of each dimension, outermost first.
    public let dims: [Int]
    /// The elements as stored in the file: `product(dims) * type.byteWidth` bytes, row-major,
    /// multi-byte types big-endian.
    public let data: [UInt8]

    /// Number of elements: the product of `dims` (1 for no dimensions).
    public var count: Int { dims.reduce(1, *) }

    /// Wraps raw big-endian element bytes; throws `DatasetError.idxLengthMismatch` unless
    /// `data.count == product(dims) * type.byteWidth`.
    public init(type: IDXType, dims: [Int], data: [UInt8], path: String? = nil) throws {
        guard dims.allSatisfy({ $0 >= 0 }) else {
            throw DatasetError.idxUnrepresentable(reason: "negative dimension in \(dims)")
        }
        let expected = try IDXArray.byteCount(dims: dims, type: type, path: path, actual: data.count)
        guard expected == data.count else {
            throw DatasetError.idxLengthMismatch(path: path, dims: dims, expectedBytes: expected, actualBytes: data.count)
        }
        self.type = type
        self.dims = dims
        self.data = data
    }

    /// Unsigned bytes with the given dimensions (`.uint8`), e.g. images `[N, H, W]`.
    public init(dims: [Int], bytes: [UInt8]) throws {
        try self.init(type: .uint8, dims: dims, data: bytes)
    }

    /// Encodes `values` as `type`, big-endian. Throws `DatasetError.idxUnrepresentable` when a
    /// value does not fit exactly: integer types need whole numbers within their range, and
    /// `.float32` needs values that round-trip through `Float`.
    public init(type: IDXType, dims: [Int], values: [Double]) throws {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(values.count * type.byteWidth)
        func appendBigEndian<T: FixedWidthInteger>(_ x: T) {
            withUnsafeBytes(of: x.bigEndian) { bytes.append(contentsOf: $0) }
        }
        for (i, v) in values.enumerated() {
            switch type {
            case .uint8:
                guard let x = UInt8(exactly: v) else { throw IDXArray.unfit(v, at: i, type) }
                bytes.append(x)
            case .int8:
                guard let x = Int8(exactly: v) else { throw IDXArray.unfit(v, at: i, type) }
                appendBigEndian(x)
            case .int16:
                guard let x = Int16(exactly: v) else { throw IDXArray.unfit(v, at: i, type) }
                appendBigEndian(x)
            case .int32:
                guard let x = Int32(exactly: v) else { throw IDXArray.unfit(v, at: i, type) }
                appendBigEndian(x)
            case .float32:
                let x = Float(v)
                guard Double(x) == v || v.isNaN else { throw IDXArray.unfit(v, at: i, type) }
                appendBigEndian(x.bitPattern)
            case .float64:
                appendBigEndian(v.bitPattern)
            }
        }
        try self.init(type: type, dims: dims, data: bytes)
    }

    /// The elements decoded as `Double` (exact for every IDX type), row-major.
    public func doubleValues() -> [Double] {
        decoded { Double($0) } float: { Double($0) } double: { $0 }
    }

    /// The elements decoded as `Float`, row-major, unscaled: MNIST pixels come out as
    /// 0...255 (`.float64` values are rounded to the nearest `Float`).
    public func floatValues() -> [Float] {
        decoded { Float($0) } float: { $0 } double: { Float($0) }
    }

    /// The elements as `Int`, row-major, for label files; `nil` for the floating-point types.
    public func intValues() -> [Int]? {
        switch type {
        case .float32, .float64: return nil
        default: return decoded { Int($0) } float: { _ in 0 } double: { _ in 0 }
        }
    }

    /// Decodes each element, with one conversion for integer types and one per float type.
    private func decoded<T>(integer: (Int64) -> T, float: (Float) -> T, double: (Double) -> T) -> [T] {
        let n = count
        return data.withUnsafeBytes { raw in
            switch type {
            case .uint8: return (0..<n).map { integer(Int64(raw[$0])) }
            case .int8: return (0..<n).map { integer(Int64(Int8(bitPattern: raw[$0]))) }
            case .int16:
                return (0..<n).map { integer(Int64(Int16(bigEndian: raw.loadUnaligned(fromByteOffset: $0 * 2, as: Int16.self)))) }
            case .int32:
                return (0..<n).map { integer(Int64(Int32(bigEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self)))) }
            case .float32:
                return (0..<n).map {
                    float(Float(bitPattern: UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))))
                }
            case .float64:
                return (0..<n).map {
                    double(Double(bitPattern: UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self))))
                }
            }
        }
    }

    /// `product(dims) * byteWidth`, throwing a length mismatch if it overflows `Int`.
    fileprivate static func byteCount(dims: [Int], type: IDXType, path: String?, actual: Int) throws -> Int {
        var total = type.byteWidth
        for d in dims {
            let (product, overflow) = total.multipliedReportingOverflow(by: d)
            guard !overflow else {
                throw DatasetError.idxLengthMismatch(path: path, dims: dims, expectedBytes: .max, actualBytes: actual)
            }
            total = product
        }
        return total
    }

    private static func unfit(_ value: Double, at index: Int, _ type: IDXType) -> DatasetError {
        .idxUnrepresentable(reason: "value \(value) at index \(index) does not fit exactly in \(type)")
    }
}

/// Reads and writes IDX files, the format MNIST and Fashion-MNIST ship in.
///
/// Layout: two zero bytes, the element-type byte, the number of dimensions `n`, then `n`
/// big-endian `UInt32` sizes, then the elements, row-major and big-endian. Files may be
/// gzipped; readers detect that from the `1F 8B` magic.
public enum IDX {
    /// Reads a raw or gzipped IDX file.
    public static func read(contentsOf url: URL) throws -> IDXArray {
        try parse(readUncompressed(url), path: url.path)
    }

    /// The file's bytes, inflated when they start with the gzip magic.
    public static func readUncompressed(_ url: URL) throws -> [UInt8] {
        let bytes = try FileIO.read(url)
        return Gzip.isGzip(bytes) ? try Gzip.decompress(bytes, path: url.path) : bytes
    }

    /// Parses uncompressed IDX bytes. `path` names the source in error messages.
    ///
    /// - Throws: `DatasetError.idxTooShort`, `.idxBadMagic`, `.idxUnknownType` or
    ///   `.idxLengthMismatch` (quoting the expected and actual payload sizes).
    public static func parse(_ bytes: [UInt8], path: String? = nil) throws -> IDXArray {
        guard bytes.count >= 4 else { throw DatasetError.idxTooShort(path: path, byteCount: bytes.count, needed: 4) }
        guard bytes[0] == 0, bytes[1] == 0 else {
            throw DatasetError.idxBadMagic(path: path, bytes: Array(bytes[0..<2]))
        }
        guard let type = IDXType(rawValue: bytes[2]) else { throw DatasetError.idxUnknownType(path: path, code: bytes[2]) }
        let rank = Int(bytes[3])
        let header = 4 + 4 * rank
        guard bytes.count >= header else {
            throw DatasetError.idxTooShort(path: path, byteCount: bytes.count, needed: header)
        }
        let dims = (0..<rank).map { i -> Int in
            let o = 4 + 4 * i
            return Int(bytes[o]) << 24 | Int(bytes[o + 1]) << 16 | Int(bytes[o + 2]) << 8 | Int(bytes[o + 3])
        }
        let actual = bytes.count - header
        let expected = try IDXArray.byteCount(dims: dims, type: type, path: path, actual: actual)
        guard expected == actual else {
            throw DatasetError.idxLengthMismatch(path: path, dims: dims, expectedBytes: expected, actualBytes: actual)
        }
        return try IDXArray(type: type, dims: dims, data: Array(bytes[header...]), path: path)
    }

    /// The IDX encoding of `array` (uncompressed). Throws when a dimension exceeds
    /// `UInt32.max` or there are more than 255 of them.
    public static func encode(_ array: IDXArray) throws -> [UInt8] {
        guard array.dims.count <= 255 else {
            throw DatasetError.idxUnrepresentable(reason: "\(array.dims.count) dimensions, at most 255 allowed")
        }
        var out: [UInt8] = [0, 0, array.type.rawValue, UInt8(array.dims.count)]
        out.reserveCapacity(4 + 4 * array.dims.count + array.data.count)
        for d in array.dims {
            guard let d32 = UInt32(exactly: d) else {
                throw DatasetError.idxUnrepresentable(reason: "dimension \(d) does not fit in 32 bits")
            }
            withUnsafeBytes(of: d32.bigEndian) { out.append(contentsOf: $0) }
        }
        out += array.data
        return out
    }

    /// Writes `array` to `url`, gzipped when `compressed` (name the file `.gz` then).
    public static func write(_ array: IDXArray, to url: URL, compressed: Bool = false) throws {
        let raw = try encode(array)
        try FileIO.write(compressed ? Gzip.compress(raw) : raw, to: url)
    }
}
