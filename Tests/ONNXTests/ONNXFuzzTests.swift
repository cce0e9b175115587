import Foundation
import XCTest
import TensorCore
import NN
import ONNX
import FoveaTestSupport

/// Thousands of seeded mutations of valid files (bit flips, truncations, insertions,
/// overwrites, duplicated runs): the importer loads each or throws an `ONNXError`, and a
/// model that loads runs or throws; nothing crashes.
final class ONNXFuzzTests: XCTestCase {
    private func mutate(_ data: Data, _ g: inout SeededGenerator) -> Data {
        var bytes = [UInt8](data)
        func position() -> Int { Int(g.next() % UInt64(max(bytes.count, 1))) }
        switch g.next() % 5 {
        case 0:   // flip 1-8 bits
            for _ in 0...(g.next() % 8) where !bytes.isEmpty { bytes[position()] ^= UInt8(1 << (g.next() % 8)) }
        case 1:   // truncate
            bytes = Array(bytes.prefix(position()))
        case 2:   // insert 1-16 random bytes
            let at = position()
            bytes.insert(contentsOf: (0...(g.next() % 16)).map { _ in UInt8(truncatingIfNeeded: g.next()) }, at: at)
        case 3:   // overwrite a run with 0xFF or random bytes (varints and lengths become huge)
            let at = position(), fill = g.next() % 2 == 0
            for i in at..<min(bytes.count, at + 1 + Int(g.next() % 8)) { bytes[i] = fill ? 0xFF : UInt8(truncatingIfNeeded: g.next()) }
        default:  // duplicate a run
            let at = position(), length = Int(g.next() % 64)
            bytes.insert(contentsOf: bytes[at..<min(bytes.count, at + length)], at: at)
        }
        return Data(bytes)
    }

    private func fuzz(_ original: Data, input: Tensor, seed: UInt64, count: Int) -> (loaded: Int, rejected: Int) {
        var g = SeededGenerator(seed: seed)
        var loaded = 0, rejected = 0
        for i in 0..<count {
            let data = mutate(original, &g)
            do {
                let model = try ONNXImporter.load(data: data, source: "mutation \(i)")
                loaded += 1
                model.maxActivationElements = 1 << 20
                do { _ = try withNoGrad { try model(input) } } catch {
                    XCTAssertTrue(error is ONNXError, "mutation \(i) ran into \(type(of: error)): \(error)")
                }
            } catch {
                rejected += 1
                XCTAssertTrue(error is ONNXError, "mutation \(i) threw \(type(of: error)): \(error)")
                XCTAssertTrue("\(error)".contains("mutation \(i)"), "\(error)")
            }
        }
        return (loaded, rejected)
    }

    func testMutatedFoveaExportsLoadOrThrow() throws {
        GlobalRandom.seed(9)
        let data = try ONNXExporter.data(try makeSmallNetwork(), inputShape: [2, 8, 8])
        let (loaded, rejected) = fuzz(data, input: randomTensor([1, 2, 8, 8], seed: 1), seed: 2024, count: 3000)
        XCTAssertGreaterThan(rejected, 300, "most structural mutations should be caught")
        XCTAssertGreaterThan(loaded, 30, "mutations of weight bytes still load")
    }

    func testMutatedPyTorchExportsLoadOrThrow() throws {
        let data = try Data(contentsOf: PyTorchFixture.modelURL)
        let (loaded, rejected) = fuzz(data, input: try PyTorchFixture.load().input, seed: 2025, count: 3000)
        XCTAssertGreaterThan(rejected, 300)
        XCTAssertGreaterThan(loaded, 30)
    }
}
