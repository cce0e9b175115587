import Datasets
import XCTest

/// Test vectors from FIPS 180-4's examples (NIST CSRC "SHA256.pdf", "SHA2_Additional.pdf").
final class SHA256Tests: XCTestCase {
    func testEmptyString() {
        XCTAssertEqual(SHA256.hexDigest([]), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    func testABC() {
        XCTAssertEqual(SHA256.hexDigest(Array("abc".utf8)),
                       "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    func test448BitMessage() {
        XCTAssertEqual(SHA256.hexDigest(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    func test896BitMessage() {
        let message = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"
        XCTAssertEqual(SHA256.hexDigest(Array(message.utf8)),
                       "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1")
    }

    func testOneMillionA() {
        XCTAssertEqual(SHA256.hexDigest([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    func testIncrementalUpdatesMatchOneShot() {
        let data = pseudoRandomBytes(1_000, seed: 5)
        let expected = SHA256.hash(data)
        XCTAssertEqual(expected.count, 32)
        for chunk in [1, 3, 55, 56, 63, 64, 65, 127, 999] {
            var h = SHA256()
            var i = 0
            while i < data.count {
                h.update(Array(data[i..<min(i + chunk, data.count)]))
                i += chunk
            }
            XCTAssertEqual(h.finalize(), expected, "chunks of \(chunk)")
        }
    }

    func testPaddingBoundaries() {
        // Lengths around the 55/56/64-byte padding edges must all differ and be stable.
        var seen = Set<String>()
        for n in 54...66 {
            let digest = SHA256.hexDigest([UInt8](repeating: 0x61, count: n))
            XCTAssertEqual(digest.count, 64)
            seen.insert(digest)
        }
        XCTAssertEqual(seen.count, 13)
        // 64 'a's, a well-known value (`printf 'a%.0s' {1..64} | sha256sum`).
        XCTAssertEqual(SHA256.hexDigest([UInt8](repeating: 0x61, count: 64)),
                       "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb")
    }

    func testFinalizeLeavesStateUsable() {
        var h = SHA256()
        h.update(Array("ab".utf8))
        _ = h.finalize()
        h.update(Array("c".utf8))
        XCTAssertEqual(SHA256.hex(h.finalize()), SHA256.hexDigest(Array("abc".utf8)))
    }

    func testRawBufferHashing() {
        let data = Array("abc".utf8)
        XCTAssertEqual(data.withUnsafeBytes { SHA256.hash($0) }, SHA256.hash(data))
    }

    func testHex() {
        XCTAssertEqual(SHA256.hex([0x00, 0x0f, 0xa0, 0xff]), "000fa0ff")
    }
}
