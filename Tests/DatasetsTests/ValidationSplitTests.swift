import Datasets
import TensorCore
import XCTest

final class ValidationSplitTests: XCTestCase {
    func numbered(_ n: Int) throws -> LabeledImages {
        try LabeledImages(images: Tensor(shape: [n, 1, 1, 1], values: (0..<n).map(Float.init)),
                          labels: (0..<n).map { $0 % 3 }, classNames: ["a", "b", "c"])
    }

    func testSplitIsADisjointCoverOfTheRequestedSize() throws {
        let data = try numbered(100)
        let (train, validation) = try data.split(validationFraction: 0.2, seed: 7)
        XCTAssertEqual(validation.count, 20)
        XCTAssertEqual(train.count, 80)
        let all = (train.images.values + validation.images.values).map(Int.init).sorted()
        XCTAssertEqual(all, Array(0..<100))
        // Each side keeps the original order, and labels travel with their images.
        XCTAssertEqual(train.images.values, train.images.values.sorted())
        for (v, label) in zip(validation.images.values, validation.labels) { XCTAssertEqual(Int(v) % 3, label) }
        XCTAssertEqual(validation.classNames, ["a", "b", "c"])
    }

    func testSameSeedSameSplitOtherSeedOtherSplit() throws {
        let data = try numbered(50)
        let a = try data.split(validationFraction: 0.3, seed: 1).validation.images.values
        let b = try data.split(validationFraction: 0.3, seed: 1).validation.images.values
        let c = try data.split(validationFraction: 0.3, seed: 2).validation.images.values
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, c)
        XCTAssertNotEqual(a, Array(35..<50).map(Float.init), "not simply the last images")
    }

    func testBadFractionsAndTinySetsAreRefused() throws {
        let data = try numbered(10)
        for bad in [0, 1, -0.1, 1.5, Double.nan] {
            XCTAssertThrowsError(try data.split(validationFraction: bad, seed: 0)) { error in
                XCTAssertTrue("\(error)".contains("validation fraction"), "\(error)")
            }
        }
        XCTAssertThrowsError(try numbered(1).split(validationFraction: 0.5, seed: 0))
        // Rounding never leaves a side empty.
        let (train, validation) = try numbered(3).split(validationFraction: 0.01, seed: 0)
        XCTAssertEqual(validation.count, 1)
        XCTAssertEqual(train.count, 2)
    }
}
