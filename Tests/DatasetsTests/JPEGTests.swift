import Datasets
import Foundation
import FoveaTestSupport
import XCTest

final class JPEGTests: XCTestCase {
    /// Flat 8x8 blocks survive JPEG's cosine transform almost exactly, so a two-tone image
    /// made of whole blocks round-trips within a few levels.
    func testGreyAndColourRoundTrip() throws {
        let w = 16, h = 8
        let grey = try Image(width: w, height: h, channels: 1, pixels: (0..<(w * h)).map { ($0 % w) < 8 ? 0.2 : 0.8 })
        let back = try JPEG.decode(try JPEG.encode(grey, quality: 100))
        XCTAssertEqual([back.width, back.height, back.channels], [16, 8, 1])
        XCTAssertEqual(back[0, 3, 2], 0.2, accuracy: 3 / 255)
        XCTAssertEqual(back[0, 3, 13], 0.8, accuracy: 3 / 255)

        let plane = w * h
        let red = try Image(width: w, height: h, channels: 3,
                            pixels: [Float](repeating: 0.9, count: plane) + [Float](repeating: 0.1, count: plane) + [Float](repeating: 0.1, count: plane))
        let colour = try JPEG.decode(try JPEG.encode(red, quality: 100))
        XCTAssertEqual(colour.channels, 3)
        XCTAssertEqual(colour[0, 4, 4], 0.9, accuracy: 4 / 255)
        XCTAssertEqual(colour[1, 4, 4], 0.1, accuracy: 4 / 255)
    }

    func testFileRoundTripAndSniffing() throws {
        let folder = try makeTemporaryDirectory()
        let image = try Image(width: 8, height: 8, channels: 1, pixels: [Float](repeating: 0.5, count: 64))
        let jpg = folder.appendingPathComponent("a.jpg"), png = folder.appendingPathComponent("a.png")
        try JPEG.write(image, to: jpg)
        try PNG.write(image, to: png)
        XCTAssertEqual(try ImageFile.read(contentsOf: jpg).pixels[0], 0.5, accuracy: 2 / 255)
        XCTAssertEqual(try ImageFile.read(contentsOf: png).pixels[0], 128 / 255, accuracy: 1e-6)
    }

    func testTruncatedJPEGIsAnErrorNamingTheFile() throws {
        let image = try Image(width: 32, height: 32, channels: 1, pixels: (0..<1024).map { Float($0 % 7) / 7 })
        let bytes = try JPEG.encode(image)
        XCTAssertThrowsError(try JPEG.decode(Array(bytes.prefix(bytes.count / 2)), path: "half.jpg")) { error in
            XCTAssertTrue("\(error)".hasPrefix("half.jpg: invalid JPEG: "), "\(error)")
        }
        XCTAssertThrowsError(try JPEG.decode(Array(bytes.prefix(3)), path: "three.jpg"))
    }

    // MARK: issue 29 finding 4: the pixel budget, checked from the header

    /// `bytes` with the frame header (SOF0) declaring `width x height`.
    func declaring(_ bytes: [UInt8], width: Int, height: Int) throws -> [UInt8] {
        var out = bytes
        let sof = try XCTUnwrap((0..<(out.count - 9)).first { out[$0] == 0xFF && out[$0 + 1] == 0xC0 })
        // FF C0, length (2), precision (1), height (2), width (2).
        out[sof + 5] = UInt8(height >> 8); out[sof + 6] = UInt8(height & 255)
        out[sof + 7] = UInt8(width >> 8); out[sof + 8] = UInt8(width & 255)
        return out
    }

    /// A small JPEG whose header declares 9000x9000 (81 megapixels) was decoded into a 243 MB
    /// buffer before libjpeg found the data missing; it is refused from the header.
    func testHugeDeclaredSizeIsRefusedFromTheHeader() throws {
        let image = try Image(width: 16, height: 16, channels: 3, pixels: [Float](repeating: 0.5, count: 768))
        let bomb = try declaring(JPEG.encode(image), width: 9000, height: 9000)
        XCTAssertThrowsError(try JPEG.decode(bomb, path: "bomb.jpg")) { error in
            XCTAssertEqual(error as? DatasetError, .imageTooLarge(path: "bomb.jpg", width: 9000, height: 9000, maxPixels: PNG.maxPixels))
            let text = "\(error)"
            for needle in ["bomb.jpg", "9000x9000", "\(PNG.maxPixels)"] { XCTAssertTrue(text.contains(needle), text) }
        }
        XCTAssertThrowsError(try ImageFile.decode(bomb)) { XCTAssertTrue("\($0)".contains("9000x9000"), "\($0)") }
        // The largest size a JPEG can declare.
        XCTAssertThrowsError(try JPEG.decode(declaring(JPEG.encode(image), width: 65500, height: 65500))) {
            XCTAssertEqual($0 as? DatasetError, .imageTooLarge(path: nil, width: 65500, height: 65500, maxPixels: PNG.maxPixels))
        }
    }

    func testPixelBudgetIsTheCallersToChange() throws {
        let jpeg = try JPEG.encode(Image(width: 8, height: 8, channels: 1, pixels: [Float](repeating: 0.5, count: 64)))
        XCTAssertThrowsError(try JPEG.decode(jpeg, maxPixels: 63)) {
            XCTAssertEqual($0 as? DatasetError, .imageTooLarge(path: nil, width: 8, height: 8, maxPixels: 63))
        }
        XCTAssertEqual(try JPEG.decode(jpeg, maxPixels: 64).width, 8)
        XCTAssertEqual(try ImageFile.decode(jpeg, maxPixels: 64).height, 8)
    }

    func testTextIsNotAnImage() throws {
        let text = Array("this is not a JPEG at all".utf8)
        XCTAssertThrowsError(try JPEG.decode(text, path: "fake.jpg")) { error in
            XCTAssertTrue("\(error)".contains("fake.jpg: invalid JPEG: no JPEG start-of-image marker; first bytes are 74 68 69 73"), "\(error)")
        }
        XCTAssertThrowsError(try ImageFile.decode(text, path: "fake.jpg")) { error in
            XCTAssertTrue("\(error)".contains("fake.jpg: not a PNG or JPEG image"), "\(error)")
        }
        XCTAssertThrowsError(try ImageFile.decode([], path: "empty")) { error in
            XCTAssertTrue("\(error)".contains("empty: not a PNG or JPEG image"), "\(error)")
        }
        // A JPEG marker followed by garbage.
        XCTAssertThrowsError(try JPEG.decode([0xFF, 0xD8, 0xFF, 0xE0] + Array(repeating: 0x41, count: 64), path: "junk.jpg")) { error in
            XCTAssertTrue("\(error)".hasPrefix("junk.jpg: invalid JPEG: "), "\(error)")
        }
    }

    func testEncodeRefusesBadSettings() throws {
        let image = try Image(width: 2, height: 2, channels: 1, pixels: [0, 0, 0, 0])
        XCTAssertThrowsError(try JPEG.encode(image, quality: 0)) { XCTAssertTrue("\($0)".contains("quality must be 1...100, got 0")) }
    }
}
