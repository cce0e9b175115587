import Foundation
import FoveaTestSupport
import Interop
import NN
import TensorCore
import XCTest

/// Hostile and damaged safetensors files: each is refused with a message naming the problem,
/// and thousands of mutated files never crash the reader.
final class SafetensorsHostileTests: XCTestCase {
    /// A file with `header` (JSON) and `data` bytes.
    func file(_ header: String, data: [UInt8]) -> Data {
        var bytes = Data()
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: Array(header.utf8))
        bytes.append(contentsOf: data)
        return bytes
    }

    func assertRefused(_ data: Data, mentioning needles: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try Safetensors.decode(data, path: "hostile.safetensors"), file: file, line: line) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("hostile.safetensors") || text.contains("hostile.safetensors"), text, file: file, line: line)
            for n in needles { XCTAssertTrue(text.contains(n), "\(text) lacks \(n)", file: file, line: line) }
        }
    }

    func testHostileHeadersAreRefused() {
        let eight = [UInt8](repeating: 0, count: 8)
        // Header length past the end.
        var long = file("{}", data: [])
        long.replaceSubrange(0..<8, with: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F])
        assertRefused(long, mentioning: ["header length", "exceeds"])
        // Overlapping offsets.
        assertRefused(file(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: eight),
                      mentioning: ["overlap", "'a'", "'b'"])
        // Shape that does not match the data.
        assertRefused(file(#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: eight), mentioning: ["'a'", "[3]"])
        // A shape whose product overflows, negative dimensions, offsets past the end, reversed offsets.
        assertRefused(file(#"{"a":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,8]}}"#, data: eight), mentioning: ["'a'", "shape"])
        assertRefused(file(#"{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#, data: eight), mentioning: ["'a'"])
        // Issue 29 finding 7: sizes that a zero hides from the product still overflow the strides.
        assertRefused(file(#"{"a":{"dtype":"F32","shape":[0,4611686018427387904,4],"data_offsets":[0,0]}}"#, data: eight),
                      mentioning: ["'a'", "4611686018427387904"])
        assertRefused(file(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,9223372036854775807]}}"#, data: eight), mentioning: ["'a'", "data_offsets"])
        assertRefused(file(#"{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}"#, data: eight), mentioning: ["'a'"])
        // Not JSON, not an object, unknown dtype, missing fields.
        assertRefused(file("[1,2]", data: []), mentioning: ["not a JSON object"])
        assertRefused(file("{\"a\":", data: []), mentioning: ["not a JSON object"])
        assertRefused(file(#"{"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}"#, data: eight), mentioning: ["I64"])
        assertRefused(file(#"{"a":{"dtype":"F32","shape":[2]}}"#, data: eight), mentioning: ["'a'", "data_offsets"])
    }

    func testAModelWhoseNamesDoNotMatchIsRefusedUnchanged() throws {
        let model = try Sequential(Dense(3, 2), ReLU(), Dense(2, 1))
        let before = model.stateDict().map { $0.tensor.values }
        var state = Dictionary(model.stateDict().map { ($0.name, $0.tensor.detached()) }, uniquingKeysWith: { a, _ in a })
        state["2.weight"] = Tensor(zeros: [7, 7])
        XCTAssertThrowsError(try model.loadStateDict(state)) { XCTAssertTrue("\($0)".contains("2.weight"), "\($0)") }
        state["2.weight"] = nil
        state["fc.weight"] = Tensor(zeros: [1, 2])
        XCTAssertThrowsError(try model.loadStateDict(state)) { XCTAssertTrue("\($0)".contains("2.weight") || "\($0)".contains("fc.weight"), "\($0)") }
        XCTAssertEqual(model.stateDict().map { $0.tensor.values }, before, "a refused load changes nothing")
    }

    /// Thousands of seeded mutations of a real checkpoint: each either reads or throws.
    func testFuzzedFilesNeverCrash() throws {
        let dir = try makeTemporaryDirectory()
        let url = dir.appendingPathComponent("lenet.safetensors")
        let model = try Sequential(Conv2D(1, 2, kernelSize: 3), ReLU(), Flatten(), Dense(2 * 26 * 26, 3))
        try Checkpoint.save(model, metadata: ["model": "tiny", "classes": "3"], to: url)
        let seed = try [UInt8](Data(contentsOf: url))
        var g = SeededGenerator(seed: 21)
        var read = 0, refused = 0
        for round in 0..<3000 {
            var bytes = seed
            // Aim half the mutations at the 8-byte length and the JSON header, where the checks are.
            if round % 2 == 0 {
                var head = Array(bytes.prefix(400))
                Fuzz.mutate(&head, using: &g)
                bytes = head + bytes.dropFirst(400)
            } else {
                Fuzz.mutate(&bytes, using: &g)
            }
            do { _ = try Safetensors.decode(Data(bytes)); read += 1 } catch { refused += 1 }
        }
        XCTAssertEqual(read + refused, 3000)
        XCTAssertGreaterThan(refused, 500)
    }
}
