import Datasets
import Foundation
import FoveaTestSupport
import TensorCore
import XCTest

final class NumPyTests: XCTestCase {
    let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    /// Every fixture numpy wrote (Golden/make_npy_golden.py) reads back as numpy reads it.
    func testNumPyWrittenFilesReadBack() throws {
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: golden.appendingPathComponent("expected.json"))) as? [String: Any])
        let cases = try XCTUnwrap(json["cases"] as? [String: [String: Any]])
        XCTAssertEqual(cases.count, 9)
        for (name, expected) in cases {
            let t = try NumPy.read(contentsOf: golden.appendingPathComponent(name))
            XCTAssertEqual(t.shape, expected["shape"] as? [Int], name)
            assertClose(t.values, try XCTUnwrap(expected["values"] as? [Double]).map(Float.init), rtol: 1e-6, atol: 0, name)
        }
    }

    func testRoundTripAndHeaderLayout() throws {
        let t = try Tensor(shape: [2, 2], values: [1, -2.5, 3, 0.125])
        let bytes = NumPy.encode(t)
        XCTAssertEqual(Array(bytes.prefix(8)), [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0])
        XCTAssertEqual((bytes.count - 16) % 64, 0, "header padded so the data starts at a multiple of 64")
        XCTAssertTrue(String(decoding: bytes[10..<70], as: UTF8.self).hasPrefix("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }"))
        let back = try NumPy.decode(bytes)
        XCTAssertEqual(back.shape, [2, 2])
        XCTAssertEqual(back.values, t.values)
    }

    func testCorruptFilesAreClearErrors() throws {
        let good = try Array(Data(contentsOf: golden.appendingPathComponent("f4_2x3.npy")))
        XCTAssertThrowsError(try NumPy.decode(Array("hello".utf8), path: "x.npy")) { XCTAssertTrue("\($0)".contains("x.npy") && "\($0)".contains("magic")) }
        XCTAssertThrowsError(try NumPy.decode(Array(good.dropLast(4)), path: "short.npy")) {
            XCTAssertTrue("\($0)".contains("needs 24 data bytes, the file has 20"), "\($0)")
        }
        var longHeader = good
        longHeader[8] = 0xFF; longHeader[9] = 0xFF
        XCTAssertThrowsError(try NumPy.decode(longHeader)) { XCTAssertTrue("\($0)".contains("the header says 65535 bytes"), "\($0)") }
        let header = Array("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }\n".utf8)
        let object = NumPy.magic + [1, 0, UInt8(header.count), 0] + header + [UInt8](repeating: 0, count: 8)
        XCTAssertThrowsError(try NumPy.decode(object)) { XCTAssertTrue("\($0)".contains("object arrays are never loaded"), "\($0)") }
    }

    /// Issue 29 finding 7: a shape whose product wraps to 0 (2^32 x 2^32) once passed the
    /// length check with no data and trapped building the tensor; it is refused, quoted.
    func testOverflowingShapeIsRefused() throws {
        func npy(_ shape: String) -> [UInt8] {
            var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shape), }"
            header += String(repeating: " ", count: 63 - (10 + header.utf8.count) % 64) + "\n"
            let n = header.utf8.count
            return NumPy.magic + [1, 0, UInt8(n & 0xFF), UInt8(n >> 8)] + Array(header.utf8)
        }
        for shape in ["(4294967296, 4294967296)", "(0, 4294967296, 4294967296)", "(3037000500, 3037000500)"] {
            XCTAssertThrowsError(try NumPy.decode(npy(shape), path: "wrap.npy"), shape) { error in
                let text = "\(error)"
                XCTAssertTrue(text.contains("wrap.npy") && (text.contains("4294967296") || text.contains("3037000500")), text)
            }
        }
        XCTAssertEqual(try NumPy.decode(npy("(0, 3)")).shape, [0, 3])
    }
}

final class CIFARTests: XCTestCase {
    /// Three CIFAR-10 records written in the binary format: label byte, then R, G, B planes.
    func record10(label: UInt8, red: UInt8, green: UInt8, blue: UInt8) -> [UInt8] {
        [label] + [UInt8](repeating: red, count: 1024) + [UInt8](repeating: green, count: 1024) + [UInt8](repeating: blue, count: 1024)
    }

    func testCIFAR10BatchesAndNames() throws {
        let dir = try makeTemporaryDirectory()
        try Data(record10(label: 3, red: 255, green: 0, blue: 51) + record10(label: 9, red: 0, green: 0, blue: 0))
            .write(to: dir.appendingPathComponent("test_batch.bin"))
        let test = try CIFAR.load10(split: .test, from: dir)
        XCTAssertEqual(test.images.shape, [2, 3, 32, 32])
        XCTAssertEqual(test.labels, [3, 9])
        XCTAssertEqual(test.classNames[3], "cat")
        XCTAssertEqual(test.images[0, 0, 5, 7], 1)
        XCTAssertEqual(test.images[0, 1, 5, 7], 0)
        XCTAssertEqual(test.images[0, 2, 31, 31], 0.2, accuracy: 1e-6)
        try Data("a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n".utf8).write(to: dir.appendingPathComponent("batches.meta.txt"))
        XCTAssertEqual(try CIFAR.load10(split: .test, from: dir).classNames[9], "j", "names from batches.meta.txt")
        for i in 1...5 { try Data(record10(label: UInt8(i), red: 1, green: 2, blue: 3)).write(to: dir.appendingPathComponent("data_batch_\(i).bin")) }
        XCTAssertEqual(try CIFAR.load10(split: .train, from: dir).labels, [1, 2, 3, 4, 5], "five batches in order")
    }

    func testCIFAR100FineAndCoarse() throws {
        let dir = try makeTemporaryDirectory()
        let record = [UInt8(4), UInt8(77)] + [UInt8](repeating: 128, count: 3072)
        try Data(record + record).write(to: dir.appendingPathComponent("train.bin"))
        XCTAssertEqual(try CIFAR.load100(split: .train, from: dir).labels, [77, 77])
        XCTAssertEqual(try CIFAR.load100(split: .train, from: dir, fine: false).labels, [4, 4])
        XCTAssertEqual(try CIFAR.load100(split: .train, from: dir).classNames.count, 100)
    }

    func testBadCIFARFilesNameTheFile() throws {
        let dir = try makeTemporaryDirectory()
        try Data(record10(label: 1, red: 0, green: 0, blue: 0).dropLast(10)).write(to: dir.appendingPathComponent("test_batch.bin"))
        XCTAssertThrowsError(try CIFAR.load10(split: .test, from: dir)) {
            XCTAssertTrue("\($0)".contains("test_batch.bin") && "\($0)".contains("3063 bytes is not a whole number of 3073-byte"), "\($0)")
        }
        try Data(record10(label: 12, red: 0, green: 0, blue: 0)).write(to: dir.appendingPathComponent("test_batch.bin"))
        XCTAssertThrowsError(try CIFAR.load10(split: .test, from: dir)) { XCTAssertTrue("\($0)".contains("12"), "\($0)") }
        XCTAssertThrowsError(try CIFAR.load10(split: .train, from: dir)) { XCTAssertTrue("\($0)".contains("data_batch_1.bin"), "\($0)") }
    }
}
