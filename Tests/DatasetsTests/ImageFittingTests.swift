import Datasets
import FoveaTestSupport
import TensorCore
import XCTest

/// `ImageFitting` on hand-checked pixels.
final class ImageFittingTests: XCTestCase {
    func testPadCentresTheImage() throws {
        let x = try Tensor(shape: [1, 1, 2, 2], values: [1, 2, 3, 4])
        let y = try ImageFitting.fit(x, to: [1, 4, 5], mode: .pad)
        XCTAssertEqual(y.shape, [1, 1, 4, 5])
        // One row above and below, one column left and two right (the odd one goes right).
        XCTAssertEqual(y.values, [0, 0, 0, 0, 0,
                                  0, 1, 2, 0, 0,
                                  0, 3, 4, 0, 0,
                                  0, 0, 0, 0, 0])
    }

    /// Half-pixel centres, as PyTorch's bilinear `interpolate` with `align_corners=False`:
    /// 2 -> 4 samples at -0.25 (clamped), 0.25, 0.75, 1.25 (clamped), so a row [a, b] becomes
    /// [a, 0.75a + 0.25b, 0.25a + 0.75b, b]. (PyTorch 2.15 gives these same 16 and 2 values.)
    func testBilinearUpsampling() throws {
        let x = try Tensor(shape: [1, 1, 1, 2], values: [0, 8])
        XCTAssertEqual(try ImageFitting.fit(x, to: [1, 1, 4], mode: .resize).values, [0, 2, 6, 8])
        let square = try Tensor(shape: [1, 1, 2, 2], values: [0, 4, 8, 12])
        let up = try ImageFitting.fit(square, to: [1, 4, 4], mode: .resize)
        XCTAssertEqual(up.values, [0, 1, 3, 4,
                                   2, 3, 5, 6,
                                   6, 7, 9, 10,
                                   8, 9, 11, 12])
    }

    /// 4 -> 2 samples at 0.5 and 2.5: the mean of each pair.
    func testBilinearDownsampling() throws {
        let x = try Tensor(shape: [1, 1, 1, 4], values: [1, 3, 10, 20])
        XCTAssertEqual(try ImageFitting.fit(x, to: [1, 1, 2], mode: .resize).values, [2, 15])
    }

    func testChannels() throws {
        let grey = try Tensor(shape: [2, 1, 1, 2], values: [1, 2, 3, 4])
        XCTAssertEqual(try ImageFitting.fit(grey, to: [3, 1, 2]).values, [1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4])
        let rgb = try Tensor(shape: [1, 3, 1, 1], values: [1, 0, 0])
        assertClose(try ImageFitting.fit(rgb, to: [1, 1, 1]).values, [0.299])
        XCTAssertThrowsError(try ImageFitting.fit(rgb, to: [2, 1, 1])) { error in
            XCTAssertTrue("\(error)".contains("3-channel images into 2 channels"), "\(error)")
        }
    }

    func testAutomaticModeAndErrors() throws {
        XCTAssertEqual(ImageFitting.Mode.automatic(from: (28, 28), to: (32, 32)), .pad)
        XCTAssertEqual(ImageFitting.Mode.automatic(from: (28, 28), to: (35, 35)), .pad)
        XCTAssertEqual(ImageFitting.Mode.automatic(from: (28, 28), to: (36, 36)), .resize)
        XCTAssertEqual(ImageFitting.Mode.automatic(from: (28, 28), to: (20, 20)), .resize)
        let x = Tensor(zeros: [1, 1, 28, 28])
        XCTAssertThrowsError(try ImageFitting.fit(x, to: [1, 20, 20], mode: .pad)) { error in
            XCTAssertTrue("\(error)".contains("cannot pad 28x28 images to the smaller 20x20"), "\(error)")
        }
        XCTAssertThrowsError(try ImageFitting.fit(x, to: [1, 0, 20])) { error in
            XCTAssertTrue("\(error)".contains("positive"), "\(error)")
        }
        let data = try LabeledImages(images: Tensor(zeros: [10, 1, 28, 28]), labels: Array(repeating: 0, count: 10), classNames: ["a"])
        XCTAssertThrowsError(try data.fitted(to: [3, 224, 224], maxBytes: 1_000_000)) { error in
            XCTAssertTrue("\(error)".contains("10 images at 3x224x224 need 0.0 GB"), "\(error)")
        }
        XCTAssertEqual(try data.fitted(to: [1, 32, 32]).images.shape, [10, 1, 32, 32])
    }
}
