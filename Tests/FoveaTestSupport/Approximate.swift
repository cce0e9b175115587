import XCTest
import TensorCore

/// Asserts that two float arrays have the same length and agree elementwise within
/// `atol + rtol * |expected|`, reporting the first index that does not.
public func assertClose(_ actual: [Float], _ expected: [Float], rtol: Float = 1e-5, atol: Float = 1e-6,
                        _ message: String = "", file: StaticString = #filePath, line: UInt = #line) {
    guard actual.count == expected.count else {
        XCTFail("count \(actual.count) != expected \(expected.count) \(message)", file: file, line: line)
        return
    }
    for i in 0..<actual.count {
        let a = actual[i], e = expected[i]
        if !(abs(a - e) <= atol + rtol * abs(e)) {
            XCTFail("element \(i): \(a) != expected \(e) (tolerance atol \(atol), rtol \(rtol)) \(message)", file: file, line: line)
            return
        }
    }
}

/// Asserts a tensor's shape and values.
public func assertTensor(_ t: Tensor, shape: [Int], _ expected: [Float], rtol: Float = 1e-5, atol: Float = 1e-6,
                         file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(t.shape, shape, "shape", file: file, line: line)
    assertClose(t.values, expected, rtol: rtol, atol: atol, file: file, line: line)
}

/// A tensor of uniform values in [-1, 1) from a fixed seed, optionally requiring gradients.
public func randomTensor(_ shape: [Int], seed: UInt64, requiresGrad: Bool = false, low: Float = -1, high: Float = 1) -> Tensor {
    var g = SeededGenerator(seed: seed)
    return Tensor.uniform(shape, low: low, high: high, generator: &g, requiresGrad: requiresGrad)
}
