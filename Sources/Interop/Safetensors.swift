import Foundation
import TensorCore

/// Reads and writes the safetensors format (Hugging Face): an 8-byte little-endian header
/// length `n`, `n` bytes of JSON mapping each tensor name to `{"dtype", "shape",
/// "data_offsets": [begin, end]}` (offsets into the data that follows), an optional
/// `"__metadata__"` map of strings, then the raw little-endian tensor bytes.
/// Fovea writes `F32`; it reads `F32`, `F16`, `BF16` and `F64` (converted to Float).
public enum Safetensors {
    /// Writes `tensors` (in the given order) and `metadata` to `url` atomically: a temporary
    /// file in the same directory is written, then renamed over the target, so an existing
    /// file is never left half-written.
    public static func write(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:], to url: URL) throws {
        var names = Set<String>()
        for (name, _) in tensors where !names.insert(name).inserted {
            throw SafetensorsError.invalid(url.path, "duplicate tensor name '\(name)'")
        }
        var entries: [String] = []
        if !metadata.isEmpty {
            let items = metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }
            entries.append("\"__metadata__\":{\(items.joined(separator: ","))}")
        }
        var offset = 0
        for (name, t) in tensors {
            let bytes = t.count * 4
            entries.append("\(jsonString(name)):{\"dtype\":\"F32\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + bytes)]}")
            offset += bytes
        }
        var header = Array(("{" + entries.joined(separator: ",") + "}").utf8)
        while header.count % 8 != 0 { header.append(0x20) }   // pad with spaces so the data is aligned
        var data = Data(capacity: 8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: header)
        for (_, t) in tensors {
            // Float32 little-endian: this is the in-memory layout on x86-64 and arm64.
            data.append(UnsafeBufferPointer(start: t.pointer, count: t.count))
        }
        try writeAtomically(data, to: url)
    }

    /// The tensors and metadata of a safetensors file, in file order. Throws naming the path
    /// and the problem for a truncated or malformed file.
    public static func read(from url: URL) throws -> (tensors: [(name: String, tensor: Tensor)], metadata: [String: String]) {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw SafetensorsError.invalid(url.path, "cannot read file (\(error.localizedDescription))")
        }
        return try decode(data, path: url.path)
    }

    /// The tensors and metadata of safetensors bytes; `path` names them in errors.
    public static func decode(_ data: Data, path: String = "safetensors data") throws -> (tensors: [(name: String, tensor: Tensor)], metadata: [String: String]) {
        let url = URL(fileURLWithPath: path)
        guard data.count >= 8 else { throw SafetensorsError.invalid(url.path, "file is \(data.count) bytes, too short for a header") }
        let n = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard n <= UInt64(data.count - 8) else {
            throw SafetensorsError.invalid(url.path, "header length \(n) exceeds the file size \(data.count)")
        }
        let headerData = data.subdata(in: 8..<(8 + Int(n)))
        // Loading never executes anything: the header is plain JSON, read as data.
        guard let header = try? JSONSerialization.jsonObject(with: headerData) as? [String: Any] else {
            throw SafetensorsError.invalid(url.path, "header is not a JSON object")
        }
        let base = 8 + Int(n)
        var metadata: [String: String] = [:]
        if let m = header["__metadata__"] as? [String: Any] {
            for (k, v) in m { metadata[k] = v as? String ?? "\(v)" }
        }
        var result: [(name: String, begin: Int, end: Int, tensor: Tensor)] = []
        let dataBytes = data.count - base
        for (name, value) in header where name != "__metadata__" {
            guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
                  let shape = info["shape"] as? [Int], let offsets = info["data_offsets"] as? [Int], offsets.count == 2 else {
                throw SafetensorsError.invalid(url.path, "entry '\(name)' lacks dtype, shape or data_offsets")
            }
            let width: Int
            switch dtype {
            case "F32": width = 4
            case "F16", "BF16": width = 2
            case "F64": width = 8
            default: throw SafetensorsError.invalid(url.path, "tensor '\(name)' has dtype \(dtype); Fovea reads F32, F16, BF16 and F64")
            }
            // Every product and sum is checked: a hostile header must not overflow.
            // checkedCount also refuses sizes that only a zero elsewhere hides from the product:
            // their strides would overflow (issue 29 finding 7).
            guard let count = ShapeMath.checkedCount(shape), count <= dataBytes else {
                throw SafetensorsError.invalid(url.path, "tensor '\(name)' has shape \(shape), which does not fit the \(dataBytes) data bytes")
            }
            guard offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= dataBytes, offsets[1] - offsets[0] == count * width else {
                throw SafetensorsError.invalid(url.path, "tensor '\(name)' of shape \(describe(shape)) and dtype \(dtype) has data_offsets \(offsets) that do not fit \(count * width) bytes within \(dataBytes) data bytes")
            }
            result.append((name, offsets[0], offsets[1], Tensor(zeros: shape)))
        }
        // The format lays tensors end to end: two whose bytes overlap are a damaged or hostile file.
        result.sort { ($0.begin, $0.end) < ($1.begin, $1.end) }
        for (a, b) in zip(result, result.dropFirst()) where b.begin < a.end {
            throw SafetensorsError.invalid(url.path, "tensors '\(a.name)' (bytes \(a.begin)..<\(a.end)) and '\(b.name)' (bytes \(b.begin)..<\(b.end)) overlap")
        }
        for entry in result {
            let dtype = (header[entry.name] as! [String: Any])["dtype"] as! String
            let count = entry.tensor.count
            data.withUnsafeBytes { raw in
                let src = raw.baseAddress! + base + entry.begin
                let dst = entry.tensor.pointer
                switch dtype {
                case "F32": memcpy(dst, src, count * 4)
                case "F64": for i in 0..<count { dst[i] = Float(src.loadUnaligned(fromByteOffset: i * 8, as: Double.self)) }
                case "BF16": for i in 0..<count {
                    dst[i] = Float(bitPattern: UInt32(src.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)) << 16) }
                default: for i in 0..<count { dst[i] = Float(Float16(bitPattern: src.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))) }
                }
            }
        }
        return (result.map { ($0.name, $0.tensor) }, metadata)
    }

    static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }
}

/// A safetensors file that cannot be read or written.
public enum SafetensorsError: Error, CustomStringConvertible, Equatable {
    case invalid(String, String)
    public var description: String {
        switch self { case .invalid(let path, let m): return "\(path): \(m)" }
    }
}
