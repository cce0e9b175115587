import Foundation

/// A minimal reader of tar archives (POSIX ustar, with GNU long names and pax `path`/`size`
/// records) that extracts regular files only; directories are made as needed, links and
/// devices are skipped.
///
/// An archive is a sequence of 512-byte blocks: a header block per member, then its data
/// padded to a whole block; two zero blocks end it. Every header's checksum and every
/// member's size is checked against the bytes present, so a corrupt or truncated archive is
/// a thrown `DownloadError.corruptTar`, never a crash; a member named with an absolute path
/// or a `..` component is refused with `DownloadError.unsafeTarMember`.
public enum Tar {
    /// A regular file in an archive.
    public struct Member: Sendable, Equatable {
        /// Its path inside the archive, `/`-separated, with `.` components dropped.
        public var name: String
        /// Where its data start in the archive bytes.
        public var offset: Int
        /// Its size in bytes.
        public var size: Int
    }

    static let block = 512

    /// The regular files of `bytes`, in archive order.
    ///
    /// - Parameter path: names the archive in error messages.
    public static func members(_ bytes: [UInt8], path: String? = nil) throws -> [Member] {
        var members: [Member] = []
        var position = 0
        var longName: String?   // from a GNU 'L' entry or a pax 'path' record, for the next member
        var paxSize: Int?
        while position + block <= bytes.count {
            let header = bytes[position..<(position + block)]
            if header.allSatisfy({ $0 == 0 }) { break }
            let fields = try Header(header, at: position, path: path)
            let size = paxSize ?? fields.size
            let dataStart = position + block
            guard size <= bytes.count - dataStart else {
                throw DownloadError.corruptTar(path: path, offset: position,
                    reason: "member '\(longName ?? fields.name)' claims \(size) bytes, but only \(bytes.count - dataStart) follow its header")
            }
            let data = bytes[dataStart..<(dataStart + size)]
            switch fields.type {
            case UInt8(ascii: "L"):
                longName = cString(data)
            case UInt8(ascii: "x"):
                let records = try paxRecords(data, at: position, path: path)
                if let name = records["path"] { longName = name }
                if let text = records["size"] {
                    guard let value = Int(text), value >= 0 else {
                        throw DownloadError.corruptTar(path: path, offset: position, reason: "pax size '\(text)' is not a byte count")
                    }
                    paxSize = value
                }
            case UInt8(ascii: "0"), 0, UInt8(ascii: "7"):
                let name = try safeName(longName ?? fields.name, path: path)
                members.append(Member(name: name, offset: dataStart, size: size))
                longName = nil; paxSize = nil
            default:
                // Directories, links, devices, global pax headers, GNU 'K' link names: nothing to extract.
                if fields.type != UInt8(ascii: "g"), fields.type != UInt8(ascii: "K") { longName = nil; paxSize = nil }
            }
            position = dataStart + (size + block - 1) / block * block
        }
        if position < bytes.count, position + block > bytes.count {
            throw DownloadError.corruptTar(path: path, offset: position,
                reason: "\(bytes.count - position) bytes left over, less than a 512-byte header")
        }
        return members
    }

    /// Writes every regular file of `bytes` under `folder` (keeping the paths inside the
    /// archive) and returns their names.
    @discardableResult
    public static func extract(_ bytes: [UInt8], into folder: URL, path: String? = nil) throws -> [String] {
        let found = try members(bytes, path: path)
        for member in found {
            let target = folder.appendingPathComponent(member.name)
            do {
                try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(bytes[member.offset..<(member.offset + member.size)]).write(to: target, options: .atomic)
            } catch {
                throw DownloadError.fileSystem(path: target.path, reason: "cannot write: \(error.localizedDescription)")
            }
        }
        return found.map(\.name)
    }

    /// The fields of one header block that extraction needs.
    private struct Header {
        var name: String
        var size: Int
        var type: UInt8

        init(_ block: ArraySlice<UInt8>, at offset: Int, path: String?) throws {
            let b = Array(block)
            // The checksum is the byte sum of the header with its own field counted as spaces.
            let stored = Tar.octal(b[148..<156])
            let sum = b.enumerated().reduce(0) { $0 + ((148..<156).contains($1.offset) ? 32 : Int($1.element)) }
            guard let stored, stored == sum else {
                throw DownloadError.corruptTar(path: path, offset: offset,
                    reason: "header checksum \(stored.map(String.init) ?? "'\(Tar.cString(b[148..<156]))'") does not match the header's byte sum \(sum)")
            }
            guard let size = Tar.number(b[124..<136]), size >= 0 else {
                throw DownloadError.corruptTar(path: path, offset: offset, reason: "size field '\(Tar.cString(b[124..<136]))' is not a number")
            }
            var name = Tar.cString(b[0..<100])
            // POSIX ustar (magic "ustar\0") keeps a path prefix at 345; GNU ("ustar  ") keeps times there.
            if b[257..<263].elementsEqual(Array("ustar".utf8) + [0]) {
                let prefix = Tar.cString(b[345..<500])
                if !prefix.isEmpty { name = prefix + "/" + name }
            }
            self.name = name; self.size = size; self.type = b[156]
        }
    }

    /// A numeric field: octal digits (space or NUL terminated), or GNU base-256 for big values.
    private static func number(_ field: ArraySlice<UInt8>) -> Int? {
        guard let first = field.first else { return nil }
        if first & 0x80 != 0 {
            guard first == 0x80 else { return nil }   // negative base-256 values make no sense here
            var value = 0
            for byte in field.dropFirst() {
                guard value <= (Int.max >> 8) else { return nil }
                value = value << 8 | Int(byte)
            }
            return value
        }
        return octal(field)
    }

    /// Octal digits, optionally surrounded by spaces and ended by NUL; nil when malformed or empty.
    private static func octal(_ field: ArraySlice<UInt8>) -> Int? {
        let text = cString(field).trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty, text.utf8.allSatisfy({ (48...55).contains($0) }), text.count <= 21 else { return nil }
        return Int(text, radix: 8)
    }

    /// The bytes up to the first NUL, as UTF-8.
    private static func cString(_ field: ArraySlice<UInt8>) -> String {
        String(decoding: field.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// Pax extended-header records, `"<length> <key>=<value>\n"` each.
    private static func paxRecords(_ data: ArraySlice<UInt8>, at offset: Int, path: String?) throws -> [String: String] {
        var records: [String: String] = [:]
        var rest = data[...]
        while let space = rest.firstIndex(of: UInt8(ascii: " ")) {
            guard let length = Int(String(decoding: rest[rest.startIndex..<space], as: UTF8.self)),
                  length > space - rest.startIndex + 1, length <= rest.count else {
                throw DownloadError.corruptTar(path: path, offset: offset, reason: "malformed pax extended header record")
            }
            let record = rest[(space + 1)..<(rest.startIndex + length - 1)]   // drops the trailing newline
            if let equals = record.firstIndex(of: UInt8(ascii: "=")) {
                records[String(decoding: record[record.startIndex..<equals], as: UTF8.self)] =
                    String(decoding: record[(equals + 1)...], as: UTF8.self)
            }
            rest = rest[(rest.startIndex + length)...]
        }
        return records
    }

    /// `name` without `.` components; refuses absolute paths and `..`.
    private static func safeName(_ name: String, path: String?) throws -> String {
        let parts = name.split(separator: "/", omittingEmptySubsequences: true).filter { $0 != "." }
        guard !name.hasPrefix("/"), !parts.isEmpty, !parts.contains("..") else {
            throw DownloadError.unsafeTarMember(path: path, name: name)
        }
        return parts.joined(separator: "/")
    }
}
