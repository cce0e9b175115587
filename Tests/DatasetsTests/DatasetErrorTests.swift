import Datasets
import XCTest

final class DatasetErrorTests: XCTestCase {
    func testChecksumMismatchMessage() {
        let error = DatasetError.checksumMismatch(path: "train-images-idx3-ubyte.gz", expected: "ba89", actual: "1234")
        XCTAssertEqual(error.description, "train-images-idx3-ubyte.gz: SHA-256 mismatch: expected ba89, got 1234")
    }

    func testImageSizeMessage() {
        XCTAssertEqual(DatasetError.imageSize(path: nil, width: 32, height: 32, expectedWidth: 28, expectedHeight: 28).description,
                       "image is 32x32, expected 28x28")
        XCTAssertEqual(DatasetError.imageSize(path: "d.png", width: 40, height: 30, expectedWidth: 28, expectedHeight: 28).description,
                       "d.png: image is 40x30, expected 28x28")
    }

    func testMessagesQuoteTheirValues() {
        let cases: [(DatasetError, [String])] = [
            (.fileNotFound(path: "/x/y"), ["/x/y"]),
            (.corruptGzip(path: "f.gz", reason: "invalid block type"), ["f.gz", "invalid block type"]),
            (.countMismatch(imagesPath: "i", images: 60000, labelsPath: "l", labels: 59999), ["60000", "59999", " i", " l"]),
            (.labelOutOfRange(path: "l", index: 17, label: 12, classCount: 10), ["17", "12", "0..<10"]),
            (.notPNG(path: "a.png", firstBytes: [0x47, 0x49, 0x46]), ["a.png", "47 49 46"]),
            (.invalidPNG(path: "b.png", reason: "CRC error"), ["b.png", "CRC error"]),
            (.dataNotFound(dataset: "MNIST", folder: "mnist", searched: ["/a/mnist", "/b/mnist"]),
             ["MNIST", "/a/mnist", "/b/mnist", "FOVEA_DATA_DIR", "mnist/"]),
            (.noChecksum(path: "p"), ["p", "verify: false"]),
            (.invalidArgument("batchSize must be at least 1, got 0"), ["got 0"]),
        ]
        for (error, fragments) in cases {
            for fragment in fragments {
                XCTAssertTrue(error.description.contains(fragment), "\(error.description) lacks \(fragment)")
            }
        }
    }
}
