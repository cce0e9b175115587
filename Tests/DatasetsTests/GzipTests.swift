import Datasets
import XCTest

final class GzipTests: XCTestCase {
    /// `gzip.compress(b'hello, fovea\n', mtime=0)` from Python 3's gzip module: a file made
    /// by another implementation, so decompression is not only checked against our compress.
    let pythonGzip: [UInt8] = [31, 139, 8, 0, 0, 0, 0, 0, 2, 3, 203, 72, 205, 201, 201, 215, 81, 72, 203, 47, 75, 77,
                               228, 2, 0, 240, 253, 106, 193, 13, 0, 0, 0]

    func testDecompressesPythonGzip() throws {
        XCTAssertEqual(try Gzip.decompress(pythonGzip), Array("hello, fovea\n".utf8))
    }

    func testRoundTripGzipAndZlib() throws {
        for count in [0, 1, 100, 70_000, 1 << 20] {
            let data = pseudoRandomBytes(count, seed: UInt64(count)) + [UInt8](repeating: 7, count: count)
            for format in [Gzip.Format.gzip, .zlib] {
                let packed = try Gzip.compress(data, format: format)
                XCTAssertEqual(Gzip.isGzip(packed), format == .gzip)
                XCTAssertEqual(try Gzip.decompress(packed), data, "\(format), \(count) bytes")
            }
        }
    }

    func testCompressionShrinksRedundantData() throws {
        let data = [UInt8](repeating: 42, count: 100_000)
        let packed = try Gzip.compress(data, level: 9)
        XCTAssertLessThan(packed.count, 1_000)
        XCTAssertEqual(Array(packed.prefix(3)), [0x1F, 0x8B, 0x08])
    }

    func testMultiMemberGzipIsConcatenated() throws {
        let a = Array("first member, ".utf8), b = pseudoRandomBytes(5_000, seed: 9)
        let joined = try Gzip.compress(a) + Gzip.compress(b, level: 1)
        XCTAssertEqual(try Gzip.decompress(joined), a + b)
    }

    func testTrailingZerosIgnoredButGarbageRejected() throws {
        let packed = try Gzip.compress(Array("payload".utf8))
        XCTAssertEqual(try Gzip.decompress(packed + [0, 0, 0, 0]), Array("payload".utf8))
        let error = assertDatasetError(try Gzip.decompress(packed + [1, 2, 3], path: "x.gz"))
        XCTAssertTrue(error?.description.contains("trailing garbage") ?? false, "\(String(describing: error))")
    }

    func testCorruptDataThrowsNamingTheFile() throws {
        var packed = try Gzip.compress(pseudoRandomBytes(10_000, seed: 1))
        packed[packed.count / 2] ^= 0xFF
        let error = assertDatasetError(try Gzip.decompress(packed, path: "/data/train.gz"))
        guard case .corruptGzip(let path, _)? = error else { return XCTFail("got \(String(describing: error))") }
        XCTAssertEqual(path, "/data/train.gz")
        XCTAssertTrue(error!.description.hasPrefix("/data/train.gz: corrupt gzip"), error!.description)
    }

    func testBadChecksumIsDetected() throws {
        var packed = try Gzip.compress(Array("checksummed".utf8))
        packed[packed.count - 6] ^= 0x01  // inside the CRC-32 trailer
        XCTAssertNotNil(assertDatasetError(try Gzip.decompress(packed)))
    }

    func testTruncatedStreamThrows() throws {
        let packed = try Gzip.compress(pseudoRandomBytes(50_000, seed: 2))
        for cut in [5, packed.count / 2, packed.count - 1] {
            let error = assertDatasetError(try Gzip.decompress(Array(packed.prefix(cut)), path: "cut.gz"))
            XCTAssertTrue(error?.description.hasPrefix("cut.gz:") ?? false, "cut at \(cut): \(String(describing: error))")
        }
        let empty = assertDatasetError(try Gzip.decompress([]))
        XCTAssertTrue(empty?.description.contains("truncated") ?? false, "\(String(describing: empty))")
    }

    func testNonCompressedInputThrows() {
        XCTAssertNotNil(assertDatasetError(try Gzip.decompress(Array("plain text, not deflate".utf8))))
    }

    /// Issue 29: a decompression bomb stops at the budget. 65 gzip members of 16 MiB of
    /// zeros (about 1 MB of file) inflate to 1040 MiB, past `Gzip.maxOutputBytes` (1 GiB).
    func testDecompressionBombStopsAtTheBudget() throws {
        XCTAssertEqual(Gzip.maxOutputBytes, 1 << 30)
        let member = try Gzip.compress([UInt8](repeating: 0, count: 16 << 20), level: 9)
        let bomb = Array([[UInt8]](repeating: member, count: 65).joined())
        XCTAssertLessThan(bomb.count, 2 << 20)
        XCTAssertThrowsError(try Gzip.decompress(bomb, path: "bomb.gz")) { error in
            let text = "\(error)"
            for needle in ["bomb.gz", "\(1 << 30)", "budget"] { XCTAssertTrue(text.contains(needle), text) }
        }
        // A caller's own limit applies the same way, in both directions.
        XCTAssertThrowsError(try Gzip.decompress(member, limit: (16 << 20) - 1)) {
            XCTAssertTrue("\($0)".contains("\((16 << 20) - 1)"), "\($0)")
        }
        XCTAssertEqual(try Gzip.decompress(member, limit: 16 << 20).count, 16 << 20)
    }

    func testIsGzip() {
        XCTAssertTrue(Gzip.isGzip(pythonGzip))
        XCTAssertFalse(Gzip.isGzip([0x1F]))
        XCTAssertFalse(Gzip.isGzip([0, 0, 8, 1]))
    }

    func testInvalidLevelThrows() {
        let error = assertDatasetError(try Gzip.compress([1, 2, 3], level: 10))
        XCTAssertEqual(error, .invalidArgument("compression level must be in 0...9, got 10"))
    }
}
