import Datasets
import Foundation
import FoveaTestSupport
import TensorCore
import XCTest

/// `.npz` archives: files numpy wrote (Golden/make_npz_golden.py), round trips, and damaged
/// or hostile archives.
final class NumPyArchiveTests: XCTestCase {
    let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    struct Expected: Decodable {
        struct Array: Decodable { let shape: [Int]; let values: [Double] }
        let order: [String]
        let arrays: [String: Array]
    }

    func testReadsArchivesNumPyWrote() throws {
        let expected = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: golden.appendingPathComponent("npz_expected.json")))
        for file in ["stored.npz", "deflated.npz"] {
            let arrays = try NumPyArchive.read(contentsOf: golden.appendingPathComponent(file))
            XCTAssertEqual(arrays.map(\.name), expected.order, file)
            for (name, tensor) in arrays {
                let e = try XCTUnwrap(expected.arrays[name])
                XCTAssertEqual(tensor.shape, e.shape, "\(file) \(name)")
                XCTAssertEqual(tensor.values, e.values.map { Float($0) }, "\(file) \(name)")
            }
        }
    }

    func testRoundTripStoredAndDeflated() throws {
        var g = SeededGenerator(seed: 4)
        let arrays = [("conv1.weight", Tensor.normal([6, 1, 5, 5], generator: &g)), ("conv1.bias", Tensor(zeros: [6])),
                      ("scalar", Tensor(repeating: 3, shape: []))]
        for compressed in [false, true] {
            let bytes = try NumPyArchive.encode(arrays, compressed: compressed)
            let back = try NumPyArchive.decode(bytes)
            XCTAssertEqual(back.map(\.name), arrays.map(\.0))
            for (a, b) in zip(arrays, back) {
                XCTAssertEqual(a.1.shape, b.tensor.shape)
                XCTAssertEqual(a.1.values, b.tensor.values)
            }
        }
        // Zeros deflate well; the stored archive is the bigger one.
        let zeros = [("z", Tensor(zeros: [1000]))]
        XCTAssertLessThan(try NumPyArchive.encode(zeros, compressed: true).count, try NumPyArchive.encode(zeros).count / 10)
        XCTAssertThrowsError(try NumPyArchive.encode([("a", Tensor(zeros: [1])), ("a", Tensor(zeros: [1]))])) {
            XCTAssertTrue("\($0)".contains("'a' is given twice"), "\($0)")
        }
    }

    /// numpy reads what Fovea writes (when numpy is installed).
    func testNumPyReadsFoveaArchives() throws {
        let dir = try makeTemporaryDirectory()
        let file = dir.appendingPathComponent("w.npz")
        try NumPyArchive.write([("w", Tensor(shape: [2, 2], values: [1, 2, 3, -4.5]))], to: file, compressed: true)
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        python.arguments = ["python3", "-c", "import numpy as np, sys; a = np.load(sys.argv[1]); print(a.files, a['w'].dtype, a['w'].tolist())", file.path]
        let out = Pipe()
        python.standardOutput = out
        python.standardError = FileHandle.nullDevice
        try python.run()
        python.waitUntilExit()
        guard python.terminationStatus == 0 else { throw XCTSkip("numpy is not installed; skipped reading Fovea's .npz with numpy") }
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(text.trimmingCharacters(in: .whitespacesAndNewlines), "['w'] float32 [[1.0, 2.0], [3.0, -4.5]]")
    }

    func testDamagedArchivesAreClearErrors() throws {
        let good = try [UInt8](Data(contentsOf: golden.appendingPathComponent("deflated.npz")))
        func message(_ bytes: [UInt8]) -> String {
            do { _ = try NumPyArchive.decode(bytes, path: "x.npz"); return "no error" } catch { return "\(error)" }
        }
        XCTAssertTrue(message(Array("hello".utf8)).contains("too short"), message(Array("hello".utf8)))
        XCTAssertTrue(message([UInt8](repeating: 7, count: 100)).contains("no zip end-of-directory"))
        XCTAssertTrue(message(Array(good.prefix(good.count - 30))).contains("x.npz"))
        // A flipped byte inside the first entry's compressed data: CRC or inflate error, naming it.
        var flipped = good
        flipped[60] ^= 0xFF
        let m = message(flipped)
        XCTAssertTrue(m.contains("weight.npy"), m)
        // Directory offset pointing past the file.
        var moved = good
        let end = good.count - 22
        moved[end + 16] = 0xFF; moved[end + 17] = 0xFF; moved[end + 18] = 0xFF; moved[end + 19] = 0x7F
        XCTAssertTrue(message(moved).contains("directory"), message(moved))
    }

    /// Thousands of seeded mutations of a valid archive: each either reads or throws.
    func testFuzzedArchivesNeverCrash() throws {
        let seeds = [try [UInt8](Data(contentsOf: golden.appendingPathComponent("deflated.npz"))),
                     try [UInt8](Data(contentsOf: golden.appendingPathComponent("stored.npz")))]
        var g = SeededGenerator(seed: 11)
        var read = 0, refused = 0
        for round in 0..<3000 {
            var bytes = seeds[round % 2]
            Fuzz.mutate(&bytes, using: &g)
            do { _ = try NumPyArchive.decode(bytes); read += 1 } catch { refused += 1 }
        }
        XCTAssertEqual(read + refused, 3000)
        XCTAssertGreaterThan(refused, 1000, "most mutations damage the archive")
    }

    func testFuzzedNpyFilesNeverCrash() throws {
        let seed = NumPy.encode(try Tensor(shape: [3, 4], values: (0..<12).map(Float.init)))
        var g = SeededGenerator(seed: 12)
        var refused = 0
        for _ in 0..<3000 {
            var bytes = seed
            Fuzz.mutate(&bytes, using: &g)
            do { _ = try NumPy.decode(bytes) } catch { refused += 1 }
        }
        XCTAssertGreaterThan(refused, 500)
    }
}
