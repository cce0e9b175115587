import CZlib

/// Gzip (RFC 1952) and zlib (RFC 1950) compression through the system zlib.
///
/// `decompress` detects which of the two wraps the data, and decodes gzip files made of
/// several members (as `cat a.gz b.gz` or `pigz` produce) into one byte array.
public enum Gzip {
    /// The container around the deflate stream.
    public enum Format: Sendable {
        /// RFC 1952: `1F 8B` header, CRC-32 and length trailer; what `.gz` files hold.
        case gzip
        /// RFC 1950: two-byte header and Adler-32 trailer; what PNG's IDAT chunks hold.
        case zlib
        /// RFC 1951: the bare deflate stream; what zip (and so `.npz`) entries hold.
        case raw
    }

    /// The default budget of `decompress`: 2^30 bytes (1 GiB) of output. MNIST's largest file
    /// inflates to 47 MB and CIFAR-10's archive to 178 MB; a decompression bomb (a few MB that
    /// inflate to many GB) stops here. Pass `limit:` to allow more.
    public static let maxOutputBytes = 1 << 30

    /// Whether `bytes` starts with the gzip magic `1F 8B`.
    public static func isGzip(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B
    }

    /// Inflates gzip or zlib data (detected from the header); members of a multi-member
    /// gzip file are concatenated, and zero padding after the last member is ignored.
    ///
    /// - Parameters:
    ///   - path: names the file in error messages, when the bytes came from one.
    ///   - raw: the bytes are a bare deflate stream (`Format.raw`), not gzip or zlib.
    ///   - limit: the most bytes the result may have (a zip entry states its size), by default
    ///     `maxOutputBytes`; more is an error, so a hostile stream cannot fill the memory. The
    ///     buffer never grows past it, nor starts larger than the input can inflate to.
    /// - Throws: `DatasetError.corruptGzip` for a bad header, checksum or truncated stream, or
    ///   output over the limit.
    public static func decompress(_ bytes: [UInt8], path: String? = nil, raw: Bool = false, limit: Int? = nil) throws -> [UInt8] {
        let budget = Swift.max(0, limit ?? maxOutputBytes)
        func overBudget() -> DatasetError {
            .corruptGzip(path: path, reason: limit == nil
                ? "the data inflate to more than \(budget) bytes, the decompression budget (Gzip.maxOutputBytes); pass a larger limit to allow more"
                : "the data inflate to more than the \(budget) bytes stated")
        }
        var stream = z_stream()
        // 15 + 32: largest window, and detect a gzip or zlib header automatically; -15: no header.
        guard inflateInit2_(&stream, raw ? -15 : 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw DatasetError.corruptGzip(path: path, reason: "zlib inflateInit failed")
        }
        defer { inflateEnd(&stream) }

        // One byte past the budget is room enough to tell that the data exceed it; a hostile
        // stated size must not decide the first allocation (issue 29).
        let ceiling = budget == .max ? budget : budget + 1
        var output = [UInt8](repeating: 0, count: Swift.max(1, Swift.min(ceiling, initialCapacity(for: bytes))))
        var produced = 0
        var consumed = 0
        try bytes.withUnsafeBufferPointer { input in
            let base = UnsafeMutablePointer(mutating: input.baseAddress)
            while true {
                if produced > budget { throw overBudget() }
                if produced == output.count {
                    output.append(contentsOf: repeatElement(0, count: Swift.min(max(output.count, 1 << 16), ceiling - output.count)))
                }
                // zlib counts in 32 bits: feed and drain at most 1 GiB per call.
                let inChunk = min(input.count - consumed, 1 << 30)
                let outChunk = min(output.count - produced, 1 << 30)
                stream.next_in = base.map { $0 + consumed }
                stream.avail_in = UInt32(inChunk)
                let status = output.withUnsafeMutableBufferPointer { out -> Int32 in
                    stream.next_out = out.baseAddress! + produced
                    stream.avail_out = UInt32(outChunk)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                let used = inChunk - Int(stream.avail_in)
                let made = outChunk - Int(stream.avail_out)
                consumed += used
                produced += made

                switch status {
                case Z_STREAM_END:
                    let rest = input[consumed...]
                    if produced > budget { throw overBudget() }
                    if !raw && rest.count >= 2 && rest[consumed] == 0x1F && rest[consumed + 1] == 0x8B {
                        inflateReset(&stream)  // another gzip member follows
                        continue
                    }
                    if rest.allSatisfy({ $0 == 0 }) { return }
                    throw DatasetError.corruptGzip(path: path,
                        reason: "\(rest.count) bytes of trailing garbage after the compressed data at offset \(consumed)")
                case Z_OK, Z_BUF_ERROR:
                    if consumed == input.count && made == 0 && produced < output.count {
                        throw DatasetError.corruptGzip(path: path,
                            reason: "unexpected end of data after \(input.count) compressed bytes "
                                + "(\(produced) bytes decoded); the file is truncated")
                    }
                case Z_NEED_DICT:
                    throw DatasetError.corruptGzip(path: path, reason: "zlib stream needs a preset dictionary")
                default:
                    let message = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                    throw DatasetError.corruptGzip(path: path, reason: "\(message) at compressed offset \(consumed)")
                }
            }
        }
        output.removeLast(output.count - produced)
        return output
    }

    /// Deflates `bytes` into a gzip (default) or zlib container, or none (`.raw`).
    ///
    /// - Parameter level: 0 (store) to 9 (smallest); 6 is zlib's and gzip's default.
    public static func compress(_ bytes: [UInt8], format: Format = .gzip, level: Int = 6) throws -> [UInt8] {
        guard (0...9).contains(level) else {
            throw DatasetError.invalidArgument("compression level must be in 0...9, got \(level)")
        }
        var stream = z_stream()
        let windowBits: Int32 = switch format { case .gzip: 15 + 16; case .zlib: 15; case .raw: -15 }
        guard deflateInit2_(&stream, Int32(level), Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY,
                            ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw DatasetError.compressionFailed(reason: "zlib deflateInit failed")
        }
        defer { deflateEnd(&stream) }

        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(bytes.count))) + 64)
        var produced = 0
        var consumed = 0
        try bytes.withUnsafeBufferPointer { input in
            let base = UnsafeMutablePointer(mutating: input.baseAddress)
            while true {
                if produced == output.count {
                    output.append(contentsOf: repeatElement(0, count: max(output.count, 1 << 16)))
                }
                let inChunk = min(input.count - consumed, 1 << 30)
                let outChunk = min(output.count - produced, 1 << 30)
                let last = consumed + inChunk == input.count
                stream.next_in = base.map { $0 + consumed }
                stream.avail_in = UInt32(inChunk)
                let status = output.withUnsafeMutableBufferPointer { out -> Int32 in
                    stream.next_out = out.baseAddress! + produced
                    stream.avail_out = UInt32(outChunk)
                    return deflate(&stream, last ? Z_FINISH : Z_NO_FLUSH)
                }
                consumed += inChunk - Int(stream.avail_in)
                produced += outChunk - Int(stream.avail_out)
                if status == Z_STREAM_END { return }
                guard status == Z_OK || status == Z_BUF_ERROR else {
                    throw DatasetError.compressionFailed(reason: "zlib deflate returned \(status)")
                }
            }
        }
        output.removeLast(output.count - produced)
        return output
    }

    /// A first guess at the inflated size: a single-member gzip file states it (modulo
    /// 2^32) in its last four bytes; deflate never expands more than about 1032:1.
    private static func initialCapacity(for bytes: [UInt8]) -> Int {
        let fallback = max(bytes.count * 4, 1 << 16)
        guard isGzip(bytes), bytes.count >= 18 else { return fallback }
        let n = bytes.count
        let stated = Int(bytes[n - 4]) | Int(bytes[n - 3]) << 8 | Int(bytes[n - 2]) << 16 | Int(bytes[n - 1]) << 24
        guard stated > 0, stated <= bytes.count * 1032 else { return fallback }
        // Slack, so the final call that reads the trailer still finds room and the
        // buffer is not doubled for nothing.
        return stated + 64
    }
}
