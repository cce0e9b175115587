import CZlib
import Foundation
import TensorCore

/// NumPy's `.npz` archives (`np.savez`, `np.savez_compressed`): a zip file whose entries
/// are `.npy` files named `<key>.npy`.
///
/// Reading takes stored and deflated entries, including the zip64 size fields NumPy writes,
/// and returns the arrays by key in archive order, decoded by `NumPy.decode`. Writing makes
/// a plain zip (stored, or deflated with `compressed`) of version 1.0 `<f4` arrays that
/// `np.load` reads. Every size and offset read from the file is checked against the file,
/// and each entry's CRC-32 is verified; nothing in an archive is ever executed.
public enum NumPyArchive {
    /// Reads the `.npz` file at `url`.
    public static func read(contentsOf url: URL) throws -> [(name: String, tensor: Tensor)] {
        try decode(FileIO.read(url), path: url.path)
    }

    /// Writes `arrays` to `url` as an `.npz` (atomically: a temporary file, then a rename).
    public static func write(_ arrays: [(name: String, tensor: Tensor)], to url: URL, compressed: Bool = false) throws {
        try FileIO.write(encode(arrays, compressed: compressed), to: url)
    }

    // MARK: - Reading

    /// Decodes `.npz` bytes.
    ///
    /// - Throws: `DatasetError.unexpectedContents` naming `path` and the entry for a file
    ///   that is not a zip, a damaged directory, an entry outside the file, an unsupported
    ///   compression method, a CRC mismatch, a duplicate key, or an entry that is not `.npy`.
    public static func decode(_ bytes: [UInt8], path: String? = nil) throws -> [(name: String, tensor: Tensor)] {
        func bad(_ reason: String) -> DatasetError { .unexpectedContents(path: path, reason: "not a readable .npz file: " + reason) }
        let reader = ByteReader(bytes)
        // The end-of-central-directory record: 22 bytes plus a comment of up to 65,535.
        guard bytes.count >= 22 else { throw bad("\(bytes.count) bytes is too short for a zip archive") }
        var end: Int?
        for at in stride(from: bytes.count - 22, through: max(0, bytes.count - 22 - 65_535), by: -1)
        where reader.u32(at) == 0x0605_4B50 && at + 22 + reader.u16(at + 20) == bytes.count {
            end = at
            break
        }
        guard let end else { throw bad("no zip end-of-directory record (is it a zip file?)") }
        let entries = reader.u16(end + 10), directorySize = reader.u32(end + 12), directoryStart = reader.u32(end + 16)
        guard entries != 0xFFFF, directoryStart != 0xFFFF_FFFF else {
            throw bad("zip64 archives with more than 65,535 arrays or over 4 GiB of directory are not supported")
        }
        guard directoryStart + directorySize <= end else {
            throw bad("the directory (\(directorySize) bytes at \(directoryStart)) runs past its end record at \(end)")
        }
        var arrays: [(name: String, tensor: Tensor)] = []
        var names = Set<String>()
        var at = directoryStart
        for index in 0..<entries {
            guard at + 46 <= end, reader.u32(at) == 0x0201_4B50 else { throw bad("directory entry \(index) is damaged (at byte \(at))") }
            let flags = reader.u16(at + 8), method = reader.u16(at + 10), crc = UInt32(reader.u32(at + 16))
            var compressedSize = reader.u32(at + 20), size = reader.u32(at + 24)
            let nameLength = reader.u16(at + 28), extraLength = reader.u16(at + 30), commentLength = reader.u16(at + 32)
            var offset = reader.u32(at + 42)
            let next = at + 46 + nameLength + extraLength + commentLength
            guard next <= end else { throw bad("directory entry \(index) runs past the directory") }
            let name = String(decoding: bytes[(at + 46)..<(at + 46 + nameLength)], as: UTF8.self)
            // Zip64: the fields that read 0xFFFFFFFF are in the extra block 0x0001, in this order.
            if size == 0xFFFF_FFFF || compressedSize == 0xFFFF_FFFF || offset == 0xFFFF_FFFF {
                var fields = [Int]()
                var e = at + 46 + nameLength
                let extraEnd = e + extraLength
                while e + 4 <= extraEnd {
                    let id = reader.u16(e), length = reader.u16(e + 2)
                    guard e + 4 + length <= extraEnd else { break }
                    if id == 0x0001 {
                        for k in stride(from: 0, to: length - 7, by: 8) { fields.append(reader.u64(e + 4 + k)) }
                    }
                    e += 4 + length
                }
                func take(_ value: inout Int) throws {
                    guard value == 0xFFFF_FFFF else { return }
                    guard !fields.isEmpty else { throw bad("entry '\(name)' lacks its zip64 sizes") }
                    value = fields.removeFirst()
                }
                try take(&size)
                try take(&compressedSize)
                try take(&offset)
            }
            at = next
            guard flags & 1 == 0 else { throw bad("entry '\(name)' is encrypted") }
            guard name.hasSuffix(".npy") else { throw bad("entry '\(name)' is not a .npy array") }
            let key = String(name.dropLast(4))
            guard names.insert(key).inserted else { throw bad("the key '\(key)' appears twice") }
            guard offset <= bytes.count - 30, reader.u32(offset) == 0x0403_4B50 else {
                throw bad("entry '\(name)' points at byte \(offset), where no local header is")
            }
            let dataStart = offset + 30 + reader.u16(offset + 26) + reader.u16(offset + 28)
            guard compressedSize >= 0, size >= 0, compressedSize <= bytes.count, dataStart <= bytes.count - compressedSize else {
                throw bad("entry '\(name)' claims \(compressedSize) bytes at \(dataStart), past the end of the \(bytes.count)-byte file")
            }
            let stored = Array(bytes[dataStart..<(dataStart + compressedSize)])
            let content: [UInt8]
            switch method {
            case 0:
                guard size == compressedSize else { throw bad("stored entry '\(name)' has sizes \(compressedSize) and \(size)") }
                content = stored
            case 8:
                guard size <= 1 << 40 else { throw bad("entry '\(name)' claims \(size) bytes") }
                do { content = try Gzip.decompress(stored, path: path, raw: true, limit: size) } catch {
                    throw bad("entry '\(name)': \(error)")
                }
                guard content.count == size else { throw bad("entry '\(name)' inflates to \(content.count) bytes, its header says \(size)") }
            default:
                throw bad("entry '\(name)' uses compression method \(method); .npz files are stored (0) or deflated (8)")
            }
            let actual = content.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, UInt32($0.count))) }
            guard actual == crc else {
                throw bad("entry '\(name)' fails its CRC-32 check (stored \(String(crc, radix: 16)), computed \(String(actual, radix: 16)))")
            }
            let tensor: Tensor
            do { tensor = try NumPy.decode(content, path: path.map { "\($0):\(name)" } ?? name) } catch {
                throw bad("entry '\(name)': \(error)")
            }
            arrays.append((key, tensor))
        }
        return arrays
    }

    // MARK: - Writing

    /// Encodes `arrays` as a zip of `<name>.npy` entries (in the given order).
    ///
    /// - Throws: `DatasetError.invalidArgument` for an empty or duplicate name, or an archive
    ///   past zip's 4 GiB and 65,535-entry limits.
    public static func encode(_ arrays: [(name: String, tensor: Tensor)], compressed: Bool = false) throws -> [UInt8] {
        var out: [UInt8] = [], directory: [UInt8] = []
        var names = Set<String>()
        for (name, tensor) in arrays {
            guard !name.isEmpty, names.insert(name).inserted else {
                throw DatasetError.invalidArgument(name.isEmpty ? "an .npz key cannot be empty" : "the .npz key '\(name)' is given twice")
            }
            let content = NumPy.encode(tensor)
            let payload = compressed ? try Gzip.compress(content, format: .raw) : content
            let fileName = Array((name + ".npy").utf8)
            let crc = content.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, UInt32($0.count))) }
            guard out.count < 0xFFFF_FFFF - payload.count - 30 - fileName.count, content.count < 0xFFFF_FFFF, arrays.count < 0xFFFF else {
                throw DatasetError.invalidArgument("the arrays exceed what a plain zip holds (4 GiB, 65,535 entries)")
            }
            let offset = out.count, method: UInt16 = compressed ? 8 : 0
            // Local header: version 2.0, no flags, DOS time 00:00 of 1980-01-01 so the bytes repeat.
            out.le(UInt32(0x0403_4B50)); out.le(UInt16(20)); out.le(UInt16(0)); out.le(method)
            out.le(UInt16(0)); out.le(UInt16(0x21)); out.le(crc); out.le(UInt32(payload.count)); out.le(UInt32(content.count))
            out.le(UInt16(fileName.count)); out.le(UInt16(0))
            out += fileName
            out += payload
            directory.le(UInt32(0x0201_4B50)); directory.le(UInt16(20)); directory.le(UInt16(20)); directory.le(UInt16(0))
            directory.le(method); directory.le(UInt16(0)); directory.le(UInt16(0x21)); directory.le(crc)
            directory.le(UInt32(payload.count)); directory.le(UInt32(content.count)); directory.le(UInt16(fileName.count))
            directory.le(UInt16(0)); directory.le(UInt16(0)); directory.le(UInt16(0)); directory.le(UInt16(0))
            directory.le(UInt32(0)); directory.le(UInt32(offset))
            directory += fileName
        }
        let directoryStart = out.count
        out += directory
        out.le(UInt32(0x0605_4B50)); out.le(UInt16(0)); out.le(UInt16(0))
        out.le(UInt16(arrays.count)); out.le(UInt16(arrays.count))
        out.le(UInt32(directory.count)); out.le(UInt32(directoryStart)); out.le(UInt16(0))
        return out
    }
}

/// Little-endian reads that answer 0 past the end (callers check bounds with the sizes).
private struct ByteReader {
    let bytes: [UInt8]
    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func u16(_ at: Int) -> Int {
        guard at >= 0, at + 2 <= bytes.count else { return 0 }
        return Int(bytes[at]) | Int(bytes[at + 1]) << 8
    }

    func u32(_ at: Int) -> Int { u16(at) | u16(at + 2) << 16 }

    /// Clamped to 2^62 so that sums of offsets cannot overflow.
    func u64(_ at: Int) -> Int {
        let high = u32(at + 4)
        return high >= 1 << 30 ? 1 << 62 : u32(at) | high << 32
    }
}

private extension Array where Element == UInt8 {
    mutating func le(_ value: UInt16) { append(UInt8(value & 0xFF)); append(UInt8(value >> 8)) }
    mutating func le(_ value: UInt32) { for k in 0..<4 { append(UInt8((value >> (8 * UInt32(k))) & 0xFF)) } }
}
