import Datasets
import Foundation
import XCTest

extension XCTestCase {
    /// Asserts that `body` throws a `DatasetError` and returns it (nil after recording a failure).
    @discardableResult
    func assertDatasetError<T>(_ body: @autoclosure () throws -> T, file: StaticString = #filePath,
                               line: UInt = #line) -> DatasetError? {
        do {
            _ = try body()
            XCTFail("expected a DatasetError, nothing was thrown", file: file, line: line)
        } catch let error as DatasetError {
            return error
        } catch {
            XCTFail("expected a DatasetError, got \(type(of: error)): \(error)", file: file, line: line)
        }
        return nil
    }
}

/// Deterministic pseudo-random bytes (a 64-bit LCG), for fixtures.
func pseudoRandomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var state = seed
    return (0..<count).map { _ in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return UInt8(truncatingIfNeeded: state >> 56)
    }
}

