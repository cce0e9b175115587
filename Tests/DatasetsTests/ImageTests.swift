import Datasets
import TensorCore
import XCTest

final class ImageTests: XCTestCase {
    func testValidation() {
        XCTAssertNotNil(assertDatasetError(try Image(width: 2, height: 2, channels: 5, pixels: [Float](repeating: 0, count: 20))))
        XCTAssertNotNil(assertDatasetError(try Image(width: 2, height: 2, channels: 1, pixels: [0, 0, 0])))
        XCTAssertNotNil(assertDatasetError(try Image(width: -1, height: 2, channels: 1, pixels: [])))
    }

    func testPlanarIndexing() throws {
        // Two channels of a 3-wide, 2-high image.
        let image = try Image(width: 3, height: 2, channels: 2, pixels: (0..<12).map(Float.init))
        XCTAssertEqual(image[0, 0, 2], 2)
        XCTAssertEqual(image[0, 1, 0], 3)
        XCTAssertEqual(image[1, 0, 0], 6)
        XCTAssertEqual(image[1, 1, 2], 11)
        XCTAssertTrue(image.hasAlpha)
    }

    func testTensorRoundTrip() throws {
        let image = try Image(width: 2, height: 1, channels: 3, pixels: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
        let t = image.toTensor()
        XCTAssertEqual(t.shape, [1, 3, 1, 2])
        XCTAssertEqual(t.values, image.pixels)
        XCTAssertEqual(try Image(tensor: t), image)
        XCTAssertEqual(try Image(tensor: Tensor(shape: [3, 1, 2], values: image.pixels)), image)
        XCTAssertNotNil(assertDatasetError(try Image(tensor: Tensor(zeros: [2, 3, 1, 2]))))
        XCTAssertNotNil(assertDatasetError(try Image(tensor: Tensor(zeros: [6, 1, 2]))))
    }

    func testGrayscaleLuminanceAndAlphaOnBlack() throws {
        let rgb = try Image(width: 2, height: 1, channels: 3, pixels: [1, 0, 0, 1, 0, 0])
        let grey = rgb.grayscale()
        XCTAssertEqual(grey.channels, 1)
        XCTAssertEqual(grey.pixels[0], 0.299, accuracy: 1e-6)   // pure red
        XCTAssertEqual(grey.pixels[1], 0.587, accuracy: 1e-6)   // pure green

        let white = try Image(width: 1, height: 1, channels: 3, pixels: [1, 1, 1])
        XCTAssertEqual(white.grayscale().pixels[0], 1, accuracy: 1e-6)

        let rgba = try Image(width: 2, height: 1, channels: 4, pixels: [1, 1, 1, 1, 1, 1, 0.5, 0])
        XCTAssertEqual(rgba.grayscale().pixels[0], 0.5, accuracy: 1e-6)
        XCTAssertEqual(rgba.grayscale().pixels[1], 0, accuracy: 1e-6)  // transparent: black

        let greyAlpha = try Image(width: 1, height: 1, channels: 2, pixels: [0.8, 0.25])
        XCTAssertEqual(greyAlpha.grayscale().pixels, [0.2])

        let alreadyGrey = try Image(width: 1, height: 1, channels: 1, pixels: [0.3])
        XCTAssertEqual(alreadyGrey.grayscale(), alreadyGrey)
    }
}
