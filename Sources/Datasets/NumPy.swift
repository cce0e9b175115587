import Foundation
import TensorCore

/// NumPy's `.npy` format (version 1.0, 2.0 and 3.0): the magic `\x93NUMPY`, a version, a
/// little-endian header length (2 bytes in 1.0, 4 after), then a Python-literal header
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }` padded to a multiple of 64
/// bytes, then the raw data.
///
/// Reading takes booleans, signed and unsigned integers of 1, 2, 4 and 8 bytes and floats of
/// 2, 4 and 8 bytes in either byte order, in C or Fortran order, and gives a `Float` tensor of
/// the array's shape (a 0-d array becomes shape `[]`). Writing produces version 1.0 `<f4`.
/// Loading never executes anything: object arrays (`|O`, pickles) are refused.
public enum NumPy {
    public static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

    /// The most elements an array read from a file may declare (2^31).
    public static let maxElements = 1 << 31

    /// Reads the `.npy` file at `url`.
    public static func read(contentsOf url: URL) throws -> Tensor { try decode(FileIO.read(url), path: url.path) }

    /// Decodes `.npy` bytes.
    ///
    /// - Throws: `DatasetError.unexpectedContents` naming `path` for a bad magic or version,
    ///   a header that is not the expected dictionary, an unsupported dtype, or data that is
    ///   shorter or longer than the shape needs.
    public static func decode(_ bytes: [UInt8], path: String? = nil) throws -> Tensor {
        func bad(_ reason: String) -> DatasetError { .unexpectedContents(path: path, reason: "not a readable .npy file: " + reason) }
        guard bytes.count >= 10, bytes.starts(with: magic) else { throw bad("no \\x93NUMPY magic") }
        let major = bytes[6]
        let (headerLength, headerStart): (Int, Int)
        switch major {
        case 1: (headerLength, headerStart) = (Int(bytes[8]) | Int(bytes[9]) << 8, 10)
        case 2, 3:
            guard bytes.count >= 12 else { throw bad("truncated header length") }
            (headerLength, headerStart) = (Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24, 12)
        default: throw bad("version \(major).\(bytes[7]) is not 1, 2 or 3")
        }
        guard headerStart + headerLength <= bytes.count else {
            throw bad("the header says \(headerLength) bytes, the file has \(bytes.count - headerStart) after it")
        }
        let header = String(decoding: bytes[headerStart..<(headerStart + headerLength)], as: UTF8.self)
        guard let descr = field("descr", in: header).flatMap(quoted), let order = field("fortran_order", in: header),
              let shapeText = field("shape", in: header) else {
            throw bad("header '\(header.trimmingCharacters(in: .whitespacesAndNewlines))' lacks descr, fortran_order or shape")
        }
        let dims = try shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "() "))
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            .map { text -> Int in
                guard let d = Int(text), d >= 0 else { throw bad("shape \(shapeText) has '\(text)'") }
                return d
            }
        // Checked without overflow (a wrapped product once passed for small; issue 29), and
        // against the data actually present below, before anything is allocated.
        guard let count = ShapeMath.checkedCount(dims), count <= maxElements else {
            throw bad("shape \(dims) has more than the \(maxElements) elements an array may have")
        }
        if descr.dropFirst().first == "O" { throw bad("dtype '\(descr)': object arrays are never loaded (they are pickles, which run code)") }
        guard descr.count >= 3, let size = Int(descr.dropFirst(2)) else { throw bad("dtype '\(descr)' is not a boolean, integer or float") }
        let endian = descr.first!, kind = descr[descr.index(after: descr.startIndex)]
        let big = endian == ">"
        guard "<>|=".contains(endian), ["b", "i", "u", "f"].contains(kind), [1, 2, 4, 8].contains(size), !(kind == "f" && size == 1) else {
            throw bad("dtype '\(descr)' is not a boolean, integer or float (object arrays are never loaded)")
        }
        let data = headerStart + headerLength
        guard bytes.count - data == count * size else {
            throw bad("shape \(dims) of '\(descr)' needs \(count * size) data bytes, the file has \(bytes.count - data)")
        }
        var values = [Float](repeating: 0, count: count)
        for i in 0..<count {
            var raw: UInt64 = 0
            for b in 0..<size {
                let byte = UInt64(bytes[data + i * size + (big ? size - 1 - b : b)])
                raw |= byte << (8 * UInt64(b))
            }
            switch (kind, size) {
            case ("f", 2): values[i] = Float(Float16(bitPattern: UInt16(raw)))
            case ("f", 4): values[i] = Float(bitPattern: UInt32(raw))
            case ("f", 8): values[i] = Float(Double(bitPattern: raw))
            case ("i", _):
                let shift = UInt64(64 - 8 * size)
                values[i] = Float(Int64(bitPattern: raw << shift) >> Int64(shift))
            default: values[i] = Float(raw)
            }
        }
        if order.trimmingCharacters(in: .whitespaces) == "True", dims.count > 1 {
            values = fortranToC(values, dims)
        }
        return try Tensor(shape: dims, values: values)
    }

    /// `.npy` version 1.0 bytes of `tensor` as little-endian float32 in C order.
    public static func encode(_ tensor: Tensor) -> [UInt8] {
        let shape = tensor.shape.count == 1 ? "(\(tensor.shape[0]),)" : "(" + tensor.shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shape), }"
        let total = ((10 + header.utf8.count + 1 + 63) / 64) * 64
        header += String(repeating: " ", count: total - 10 - header.utf8.count - 1) + "\n"
        let length = header.utf8.count
        var out = magic + [1, 0, UInt8(length & 0xFF), UInt8(length >> 8)] + Array(header.utf8)
        out.reserveCapacity(out.count + 4 * tensor.count)
        for v in tensor.values { withUnsafeBytes(of: v.bitPattern.littleEndian) { out += $0 } }
        return out
    }

    /// Writes `tensor` as `.npy` to `url` atomically.
    public static func write(_ tensor: Tensor, to url: URL) throws { try FileIO.write(encode(tensor), to: url) }

    /// The text after `'key':` up to the next top-level comma (a tuple counts as one value).
    private static func field(_ key: String, in header: String) -> String? {
        guard let range = header.range(of: "'\(key)'") else { return nil }
        var rest = header[range.upperBound...].drop { $0 == " " }
        guard rest.first == ":" else { return nil }
        rest = rest.dropFirst().drop { $0 == " " }
        var depth = 0, value = ""
        for ch in rest {
            if ch == "(" { depth += 1 } else if ch == ")" { depth -= 1 }
            if (ch == "," && depth == 0) || ch == "}" { break }
            value.append(ch)
        }
        return value.trimmingCharacters(in: .whitespaces)
    }

    private static func quoted(_ s: String) -> String? {
        guard s.count >= 2, let q = s.first, q == "'" || q == "\"", s.last == q else { return nil }
        return String(s.dropFirst().dropLast())
    }

    /// Column-major values of `dims` rearranged row-major.
    private static func fortranToC(_ values: [Float], _ dims: [Int]) -> [Float] {
        var out = [Float](repeating: 0, count: values.count)
        var index = [Int](repeating: 0, count: dims.count)
        for c in 0..<values.count {
            // index is the C-order multi-index of element c; its Fortran offset reads the source.
            var f = 0, stride = 1
            for d in 0..<dims.count { f += index[d] * stride; stride *= dims[d] }
            out[c] = values[f]
            var d = dims.count - 1
            while d >= 0 { index[d] += 1; if index[d] < dims[d] { break }; index[d] = 0; d -= 1 }
        }
        return out
    }
}
