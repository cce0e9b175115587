import XCTest
import Foundation
import TensorCore
import NN
import Interop
import FoveaTestSupport

final class SafetensorsTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("fovea-st-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func testRoundTripKeepsNamesShapesValuesAndMetadata() throws {
        let a = randomTensor([2, 3], seed: 1), b = randomTensor([4], seed: 2), s = Tensor(scalar: 7)
        let url = dir.appendingPathComponent("t.safetensors")
        try Safetensors.write([("layer.weight", a), ("layer.bias", b), ("step", s)], metadata: ["model": "x\"y"], to: url)
        let (tensors, meta) = try Safetensors.read(from: url)
        XCTAssertEqual(tensors.map(\.name), ["layer.weight", "layer.bias", "step"])
        XCTAssertEqual(tensors[0].tensor.shape, [2, 3])
        XCTAssertEqual(tensors[0].tensor.values, a.values)
        XCTAssertEqual(tensors[1].tensor.values, b.values)
        XCTAssertEqual(tensors[2].tensor.shape, [])
        XCTAssertEqual(meta["model"], "x\"y")
    }

    /// The byte layout: u64 little-endian header length, JSON header padded to 8 bytes, data.
    func testByteLayout() throws {
        let url = dir.appendingPathComponent("one.safetensors")
        try Safetensors.write([("w", Tensor([1, 2]))], to: url)
        let bytes = [UInt8](try Data(contentsOf: url))
        let n = Int(bytes[0]) | Int(bytes[1]) << 8
        XCTAssertEqual(n % 8, 0)
        let header = String(decoding: bytes[8..<(8 + n)], as: UTF8.self)
        XCTAssertTrue(header.hasPrefix("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}"), header)
        XCTAssertEqual(Array(bytes[(8 + n)...]), [0, 0, 0x80, 0x3F, 0, 0, 0, 0x40])  // 1.0f, 2.0f little-endian
    }

    func testCorruptFilesGiveClearErrors() throws {
        let url = dir.appendingPathComponent("bad.safetensors")
        try Data([1, 2, 3]).write(to: url)
        XCTAssertThrowsError(try Safetensors.read(from: url)) { XCTAssertTrue("\($0)".contains("too short"), "\($0)") }
        try Data([255, 0, 0, 0, 0, 0, 0, 0, 123]).write(to: url)
        XCTAssertThrowsError(try Safetensors.read(from: url)) { XCTAssertTrue("\($0)".contains("exceeds"), "\($0)") }
        // A valid file cut short loses its data.
        try Safetensors.write([("w", Tensor([1, 2, 3]))], to: url)
        let whole = try Data(contentsOf: url)
        try whole.prefix(whole.count - 4).write(to: url)
        XCTAssertThrowsError(try Safetensors.read(from: url)) { XCTAssertTrue("\($0)".contains("data_offsets"), "\($0)") }
        XCTAssertThrowsError(try Safetensors.read(from: dir.appendingPathComponent("missing.safetensors")))
    }

    func testFailedWriteLeavesTheOldFileIntact() throws {
        let url = dir.appendingPathComponent("keep.safetensors")
        try Safetensors.write([("w", Tensor([1]))], to: url)
        XCTAssertThrowsError(try Safetensors.write([("w", Tensor([2])), ("w", Tensor([3]))], to: url))
        XCTAssertEqual(try Safetensors.read(from: url).tensors[0].tensor.values, [1])
    }

    func testCheckpointRestoresAModel() throws {
        GlobalRandom.seed(1)
        let a = try Sequential(Conv2D(1, 2, kernelSize: 3), Flatten(), Dense(8, 3))
        let b = try Sequential(Conv2D(1, 2, kernelSize: 3), Flatten(), Dense(8, 3))
        let url = dir.appendingPathComponent("ck.safetensors")
        try Checkpoint.save(a, metadata: ["model": "tiny"], to: url)
        let (state, meta) = try Checkpoint.load(from: url)
        try b.loadStateDict(state)
        XCTAssertEqual(meta["model"], "tiny")
        let x = randomTensor([1, 1, 4, 4], seed: 3)
        XCTAssertEqual(try a(x).values, try b(x).values)
    }
}
