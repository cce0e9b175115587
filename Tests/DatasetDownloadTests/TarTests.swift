import DatasetDownload
import Foundation
import FoveaTestSupport
import XCTest

/// The tar reader on archives GNU tar writes and on archives this test writes by hand.
final class TarTests: XCTestCase {
    /// A tree with a nested folder, an empty file, a file of exactly one block and a name
    /// longer than ustar's 100-byte field.
    func makeTree() throws -> (root: URL, files: [String: [UInt8]]) {
        let root = try makeTemporaryDirectory()
        let long = "top/" + String(repeating: "n", count: 80) + "/" + String(repeating: "m", count: 60) + ".bin"
        let files: [String: [UInt8]] = [
            "top/a.txt": Array("hello\n".utf8),
            "top/sub/empty": [],
            "top/sub/block.bin": (0..<512).map { UInt8($0 % 251) },
            "top/big.bin": (0..<70_001).map { UInt8(truncatingIfNeeded: $0 * 7 + 3) },
            long: Array("long name".utf8),
        ]
        for (name, bytes) in files {
            let url = root.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(bytes).write(to: url)
        }
        return (root, files)
    }

    func testGNUUstarAndPaxArchivesExtractExactly() throws {
        let (root, files) = try makeTree()
        for format in ["gnu", "pax", "ustar"] {
            let archive = try makeTar(of: "top", in: root, format: format)
            let out = try makeTemporaryDirectory()
            let names = try Tar.extract(archive, into: out, path: "tree.tar")
            XCTAssertEqual(Set(names), Set(files.keys), format)
            for (name, bytes) in files {
                XCTAssertEqual(try Array(Data(contentsOf: out.appendingPathComponent(name))), bytes, "\(format): \(name)")
            }
        }
    }

    func testHandWrittenUstarMembers() throws {
        let archive = ustar([("one.txt", Array("1".utf8)), ("./dir/two.bin", [UInt8](repeating: 2, count: 600))])
        let members = try Tar.members(archive)
        XCTAssertEqual(members.map(\.name), ["one.txt", "dir/two.bin"])
        XCTAssertEqual(members.map(\.size), [1, 600])
        XCTAssertEqual(Array(archive[members[1].offset..<(members[1].offset + 600)]), [UInt8](repeating: 2, count: 600))
        XCTAssertEqual(try Tar.members([]), [], "an empty archive holds nothing")
    }

    func testTruncatedArchiveIsAClearError() throws {
        let archive = ustar([("data.bin", [UInt8](repeating: 9, count: 5_000))])
        let cut = Array(archive[..<3_000])
        XCTAssertThrowsError(try Tar.members(cut, path: "cut.tar")) { error in
            guard case .corruptTar(let path, let offset, let reason)? = error as? DownloadError else { return XCTFail("\(error)") }
            XCTAssertEqual(path, "cut.tar")
            XCTAssertEqual(offset, 0)
            XCTAssertTrue(reason.contains("data.bin") && reason.contains("5000"), reason)
        }
        // Cut inside a header.
        XCTAssertThrowsError(try Tar.members(Array(archive[..<300]))) { error in
            XCTAssertTrue("\(error)".contains("less than a 512-byte header"), "\(error)")
        }
    }

    func testCorruptHeaderIsAClearError() throws {
        var archive = ustar([("data.bin", [1, 2, 3])])
        archive[10] ^= 0x55   // a name byte: the checksum no longer matches
        XCTAssertThrowsError(try Tar.members(archive, path: "bad.tar")) { error in
            XCTAssertTrue("\(error)".hasPrefix("bad.tar: corrupt tar archive at byte 0: header checksum"), "\(error)")
        }
        // Random bytes are refused the same way, never a crash.
        var generator = SplitMix(seed: 7)
        for _ in 0..<50 {
            let junk = (0..<2048).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            XCTAssertThrowsError(try Tar.members(junk))
        }
        // A size field that is not octal.
        var badSize = ustar([("data.bin", [1])])
        badSize.replaceSubrange(124..<136, with: Array("12x4567\0\0\0\0\0".utf8))
        fixChecksum(&badSize)
        XCTAssertThrowsError(try Tar.members(badSize)) { error in
            XCTAssertTrue("\(error)".contains("size field"), "\(error)")
        }
    }

    func testEscapingNamesAreRejected() throws {
        for name in ["../evil", "a/../../evil", "/etc/evil"] {
            let out = try makeTemporaryDirectory()
            XCTAssertThrowsError(try Tar.extract(ustar([("fine.txt", [1]), (name, [2])]), into: out, path: "evil.tar")) { error in
                XCTAssertEqual(error as? DownloadError, .unsafeTarMember(path: "evil.tar", name: name))
            }
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out.path), [], "nothing is written from an unsafe archive")
        }
    }

    // MARK: a minimal ustar writer

    /// A POSIX ustar archive of regular files, written field by field (names under 100 bytes).
    func ustar(_ files: [(String, [UInt8])]) -> [UInt8] {
        var out: [UInt8] = []
        for (name, bytes) in files {
            var header = [UInt8](repeating: 0, count: 512)
            func put(_ text: String, at offset: Int) { header.replaceSubrange(offset..<(offset + text.utf8.count), with: Array(text.utf8)) }
            put(name, at: 0)
            put("0000644\0", at: 100)
            put("0000000\0", at: 108)
            put("0000000\0", at: 116)
            put(String(format: "%011o\0", bytes.count), at: 124)
            put("00000000000\0", at: 136)
            header[156] = UInt8(ascii: "0")
            put("ustar\u{0}00", at: 257)
            fixChecksum(&header)
            out += header + bytes + [UInt8](repeating: 0, count: (512 - bytes.count % 512) % 512)
        }
        return out + [UInt8](repeating: 0, count: 1024)
    }

    /// Recomputes the checksum field of the first header.
    func fixChecksum(_ archive: inout [UInt8]) {
        archive.replaceSubrange(148..<156, with: [UInt8](repeating: 32, count: 8))
        let sum = archive[0..<512].reduce(0) { $0 + Int($1) }
        archive.replaceSubrange(148..<156, with: Array(String(format: "%06o\0 ", sum).utf8))
    }
}

/// A tiny seeded generator for junk bytes.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
