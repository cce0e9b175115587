import Datasets
import TensorCore
import XCTest

final class LabeledImagesTests: XCTestCase {
    /// Four 2-channel 1x2 images whose values encode (image, channel, pixel).
    func sample() throws -> LabeledImages {
        var values: [Float] = []
        for n in 0..<4 { for c in 0..<2 { for p in 0..<2 { values.append(Float(100 * n + 10 * c + p)) } } }
        return try LabeledImages(images: Tensor(shape: [4, 2, 1, 2], values: values), labels: [0, 2, 1, 2],
                                 classNames: ["a", "b", "c"])
    }

    func testShapeAccessors() throws {
        let data = try sample()
        XCTAssertEqual(data.count, 4)
        XCTAssertEqual(data.channels, 2)
        XCTAssertEqual(data.height, 1)
        XCTAssertEqual(data.width, 2)
        XCTAssertEqual(data.imageSize, 4)
    }

    func testValidation() {
        let t = Tensor(zeros: [2, 1, 2, 2])
        XCTAssertNotNil(assertDatasetError(try LabeledImages(images: Tensor(zeros: [2, 4]), labels: [0, 0], classNames: ["a"])))
        XCTAssertNotNil(assertDatasetError(try LabeledImages(images: t, labels: [0], classNames: ["a"])))
        XCTAssertNotNil(assertDatasetError(try LabeledImages(images: t, labels: [0, 0], classNames: [])))
        XCTAssertEqual(assertDatasetError(try LabeledImages(images: t, labels: [0, 3], classNames: ["a", "b"])),
                       .labelOutOfRange(path: nil, index: 1, label: 3, classCount: 2))
        XCTAssertNotNil(assertDatasetError(try LabeledImages(images: t, labels: [-1, 0], classNames: ["a"])))
    }

    func testSubsetCopiesImagesInOrder() throws {
        let data = try sample()
        let sub = try data.subset([3, 0, 3])
        XCTAssertEqual(sub.images.shape, [3, 2, 1, 2])
        XCTAssertEqual(sub.labels, [2, 0, 2])
        XCTAssertEqual(sub.classNames, data.classNames)
        XCTAssertEqual(sub.images.values, [300, 301, 310, 311, 0, 1, 10, 11, 300, 301, 310, 311])
        XCTAssertEqual(try data.subset(1..<3).labels, [2, 1])
        XCTAssertEqual(try data.subset([Int]()).count, 0)
    }

    func testSubsetRejectsBadIndex() throws {
        let data = try sample()
        XCTAssertEqual(assertDatasetError(try data.subset([0, 4])), .invalidArgument("subset index 4 is outside 0..<4"))
        XCTAssertNotNil(assertDatasetError(try data.subset([-1])))
    }

    func testNormalizedPerChannel() throws {
        let data = try sample()
        let norm = try data.normalized(mean: [1, 10], std: [2, 0.5])
        XCTAssertEqual(norm.labels, data.labels)
        XCTAssertEqual(norm.images.shape, data.images.shape)
        // Image 1: channel 0 holds 100, 101; channel 1 holds 110, 111.
        XCTAssertEqual(norm.images[1, 0, 0, 0], (100 - 1) / 2)
        XCTAssertEqual(norm.images[1, 0, 0, 1], (101 - 1) / 2)
        XCTAssertEqual(norm.images[1, 1, 0, 0], (110 - 10) / 0.5)
        XCTAssertEqual(norm.images[3, 1, 0, 1], (311 - 10) / 0.5)
        // The original is untouched.
        XCTAssertEqual(data.images[1, 0, 0, 0], 100)
    }

    func testNormalizedValidation() throws {
        let data = try sample()
        XCTAssertNotNil(assertDatasetError(try data.normalized(mean: [0], std: [1])))
        XCTAssertNotNil(assertDatasetError(try data.normalized(mean: [0, 0], std: [1, 0])))
        XCTAssertNotNil(assertDatasetError(try data.normalized(mean: [0, 0], std: [1, .nan])))
    }
}
