import Foundation
import XCTest
@testable import Metrics

/// Asserts `|actual − expected| <= rtol·|expected| + atol` (equal infinities pass).
func assertNear(_ actual: Double, _ expected: Double, rtol: Double = 1e-9, atol: Double = 1e-12,
                _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line) {
    if actual == expected { return }
    if !(abs(actual - expected) <= atol + rtol * abs(expected)) {
        XCTFail("\(actual) != expected \(expected) (rtol \(rtol)) \(message())", file: file, line: line)
    }
}

/// Elementwise `assertNear` after checking the lengths agree exactly.
func assertNear(_ actual: [Double], _ expected: [Double], rtol: Double = 1e-9, atol: Double = 1e-12,
                _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line) {
    guard actual.count == expected.count else {
        XCTFail("count \(actual.count) != expected \(expected.count) \(message())", file: file, line: line)
        return
    }
    for i in 0..<actual.count {
        let a = actual[i], e = expected[i]
        if a == e { continue }
        if !(abs(a - e) <= atol + rtol * abs(e)) {
            XCTFail("element \(i): \(a) != expected \(e) (rtol \(rtol)) \(message())", file: file, line: line)
            return
        }
    }
}

/// Asserts that `body` throws exactly `expected`, and that the message mentions each of `mentions`.
func assertThrows<T>(_ expected: MetricsError, mentions: [String] = [], file: StaticString = #filePath, line: UInt = #line,
                     _ body: () throws -> T) {
    do {
        _ = try body()
        XCTFail("expected \(expected) to be thrown", file: file, line: line)
    } catch let error as MetricsError {
        XCTAssertEqual(error, expected, file: file, line: line)
        for word in mentions {
            XCTAssertTrue(error.description.contains(word), "message \"\(error.description)\" lacks \"\(word)\"", file: file, line: line)
        }
    } catch {
        XCTFail("threw \(error), not a MetricsError", file: file, line: line)
    }
}
