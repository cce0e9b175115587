import Datasets
import Foundation
import FoveaTestSupport
import XCTest

final class PNGTests: XCTestCase {
    // MARK: reading files built by hand (independent of libpng's writer)

    func testGrey8() throws {
        let image = try PNG.decode(handPNG(width: 3, height: 2, depth: 8, colorType: 0, rows: [[0, 128, 255], [1, 2, 3]]))
        XCTAssertEqual(image.channels, 1)
        XCTAssertEqual([image.width, image.height], [3, 2])
        XCTAssertEqual(image.pixels, [0, 128, 255, 1, 2, 3].map { Float($0) / 255 })
    }

    func testGreyLowBitDepthsAreScaled() throws {
        let one = try PNG.decode(handPNG(width: 3, height: 1, depth: 1, colorType: 0, rows: [[0b1010_0000]]))
        XCTAssertEqual(one.pixels, [1, 0, 1])
        let four = try PNG.decode(handPNG(width: 2, height: 1, depth: 4, colorType: 0, rows: [[0xF3]]))
        XCTAssertEqual(four.pixels, [1, 51.0 / 255])
    }

    func testGrey16() throws {
        let image = try PNG.decode(handPNG(width: 2, height: 1, depth: 16, colorType: 0, rows: [[0x12, 0x34, 0xFF, 0xFF]]))
        XCTAssertEqual(image.channels, 1)
        XCTAssertEqual(image.pixels, [Float(0x1234) / 65535, 1])
    }

    func testGreyAlpha8And16() throws {
        let eight = try PNG.decode(handPNG(width: 2, height: 1, depth: 8, colorType: 4, rows: [[10, 255, 200, 0]]))
        XCTAssertEqual(eight.channels, 2)
        XCTAssertEqual(eight.pixels, [10, 200, 255, 0].map { Float($0) / 255 })  // planar: grey, then alpha

        let sixteen = try PNG.decode(handPNG(width: 2, height: 1, depth: 16, colorType: 4,
                                             rows: [[0x40, 0x00, 0xFF, 0xFF, 0x40, 0x00, 0x80, 0x00]]))
        XCTAssertEqual(sixteen.channels, 2)
        XCTAssertEqual(sixteen.pixels[0], Float(0x4000) / 65535)       // opaque: exact
        XCTAssertEqual(sixteen.pixels[1], Float(0x4000) / 65535, accuracy: 1e-4)  // half alpha: un-premultiplied
        XCTAssertEqual(sixteen.pixels[2], 1)
        XCTAssertEqual(sixteen.pixels[3], Float(0x8000) / 65535)
    }

    func testRGB8AndRGBA8() throws {
        let rgb = try PNG.decode(handPNG(width: 2, height: 1, depth: 8, colorType: 2, rows: [[255, 0, 10, 1, 2, 3]]))
        XCTAssertEqual(rgb.channels, 3)
        XCTAssertEqual(rgb.pixels, [255, 1, 0, 2, 10, 3].map { Float($0) / 255 })

        // A fully transparent pixel keeps its colour: alpha is straight at 8 bits.
        let rgba = try PNG.decode(handPNG(width: 2, height: 1, depth: 8, colorType: 6, rows: [[9, 8, 7, 0, 1, 2, 3, 255]]))
        XCTAssertEqual(rgba.channels, 4)
        XCTAssertEqual(rgba.pixels, [9, 1, 8, 2, 7, 3, 0, 255].map { Float($0) / 255 })
    }

    func testRGBA16() throws {
        let row: [UInt8] = [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0xFF, 0xFF]
        let image = try PNG.decode(handPNG(width: 1, height: 1, depth: 16, colorType: 6, rows: [row]))
        XCTAssertEqual(image.channels, 4)
        XCTAssertEqual(image.pixels, [0x0102, 0x0304, 0x0506, 0xFFFF].map { Float($0) / 65535 })
    }

    func testPaletteExpandsToRGB() throws {
        let palette: [UInt8] = [255, 0, 0, 0, 0, 255, 10, 20, 30]
        let image = try PNG.decode(handPNG(width: 2, height: 2, depth: 8, colorType: 3, rows: [[0, 1], [2, 0]], palette: palette))
        XCTAssertEqual(image.channels, 3)
        XCTAssertEqual(image[0, 0, 0], 1)                            // red
        XCTAssertEqual(image[2, 0, 1], 1)                            // blue
        XCTAssertEqual([image[0, 1, 0], image[1, 1, 0], image[2, 1, 0]], [10, 20, 30].map { Float($0) / 255 })
    }

    func testPaletteWithTransparencyExpandsToRGBA() throws {
        let image = try PNG.decode(handPNG(width: 2, height: 1, depth: 8, colorType: 3, rows: [[0, 1]],
                                           palette: [1, 2, 3, 4, 5, 6], transparency: [128]))
        XCTAssertEqual(image.channels, 4)
        XCTAssertEqual([image[3, 0, 0], image[3, 0, 1]], [128.0 / 255, 1])
        XCTAssertEqual([image[0, 0, 0], image[1, 0, 0], image[2, 0, 0]], [1, 2, 3].map { Float($0) / 255 })
    }

    func testGreyWithTransparencyGainsAlpha() throws {
        let image = try PNG.decode(handPNG(width: 2, height: 1, depth: 8, colorType: 0, rows: [[0, 77]], transparency: [0, 0]))
        XCTAssertEqual(image.channels, 2)
        XCTAssertEqual(image.pixels, [0, 77.0 / 255, 0, 1])
    }

    // MARK: round trips through the writer

    func testRoundTrip8BitEveryChannelCount() throws {
        for channels in 1...4 {
            let (w, h) = (5, 3)
            let pixels = pseudoRandomBytes(w * h * channels, seed: UInt64(channels)).map { Float($0) / 255 }
            let image = try Image(width: w, height: h, channels: channels, pixels: pixels)
            let bytes = try PNG.encode(image)
            XCTAssertEqual(Array(bytes.prefix(8)), PNG.signature)
            XCTAssertEqual(bytes[24], 8, "bit depth")
            XCTAssertEqual(bytes[25], [0, 4, 2, 6][channels - 1], "colour type for \(channels) channels")
            XCTAssertEqual(try PNG.decode(bytes), image, "\(channels) channels")
        }
    }

    func testRoundTrip16BitGreyAndRGB() throws {
        for channels in [1, 3] {
            let (w, h) = (4, 3)
            var state: UInt32 = 12345
            let pixels = (0..<(w * h * channels)).map { _ -> Float in
                state = state &* 1_103_515_245 &+ 12345
                return Float(state >> 16) / 65535
            }
            let image = try Image(width: w, height: h, channels: channels, pixels: pixels)
            let bytes = try PNG.encode(image, bitDepth: 16)
            XCTAssertEqual(bytes[24], 16, "bit depth")
            XCTAssertEqual(bytes[25], channels == 1 ? 0 : 2)
            XCTAssertEqual(try PNG.decode(bytes), image, "\(channels) channels")
        }
    }

    func testEncodingClampsAndRounds() throws {
        let image = try Image(width: 4, height: 1, channels: 1, pixels: [-0.5, 1.7, .nan, 0.5])
        let back = try PNG.decode(PNG.encode(image))
        XCTAssertEqual(back.pixels, [0, 1, 0, 128.0 / 255])
    }

    func testFileRoundTrip() throws {
        let url = try makeTemporaryDirectory().appendingPathComponent("grey.png")
        let image = try Image(width: 2, height: 2, channels: 1, pixels: [0, 1, 64.0 / 255, 200.0 / 255])
        try PNG.write(image, to: url)
        XCTAssertEqual(try PNG.read(contentsOf: url), image)
    }

    func testEncodeRejectsBadArguments() throws {
        let rgba = try Image(width: 1, height: 1, channels: 4, pixels: [0, 0, 0, 1])
        XCTAssertNotNil(assertDatasetError(try PNG.encode(rgba, bitDepth: 16)))
        XCTAssertNotNil(assertDatasetError(try PNG.encode(rgba, bitDepth: 12)))
        XCTAssertNotNil(assertDatasetError(try PNG.encode(Image(width: 0, height: 0, channels: 1, pixels: []))))
    }

    // MARK: errors

    func testNonPNGFileNamesPath() throws {
        let url = try makeTemporaryDirectory().appendingPathComponent("picture.png")
        try Data("GIF89a, not a png".utf8).write(to: url)
        let error = assertDatasetError(try PNG.read(contentsOf: url))
        XCTAssertEqual(error, .notPNG(path: url.path, firstBytes: Array("GIF89a, ".utf8)))
        XCTAssertTrue(error?.description.hasPrefix(url.path + ": not a PNG file") ?? false)
        XCTAssertNotNil(assertDatasetError(try PNG.decode([])))
    }

    func testTruncatedFileNamesPath() throws {
        let dir = try makeTemporaryDirectory()
        let full = try PNG.encode(Image(width: 20, height: 20, channels: 3,
                                        pixels: pseudoRandomBytes(1200, seed: 8).map { Float($0) / 255 }))
        for cut in [12, 40, full.count - 20] {
            let url = dir.appendingPathComponent("cut-\(cut).png")
            try Data(full.prefix(cut)).write(to: url)
            let error = assertDatasetError(try PNG.read(contentsOf: url))
            guard case .invalidPNG(let path, _)? = error else { return XCTFail("cut \(cut): got \(String(describing: error))") }
            XCTAssertEqual(path, url.path)
        }
    }

    func testCorruptCRCIsRejected() throws {
        var bytes = handPNG(width: 1, height: 1, depth: 8, colorType: 0, rows: [[7]])
        bytes[29] ^= 0xFF  // last byte of IHDR's CRC
        guard case .invalidPNG? = assertDatasetError(try PNG.decode(bytes, path: "bad.png")) else {
            return XCTFail("corrupt CRC accepted")
        }
    }

    func testAbsurdHeaderSizeIsRefused() throws {
        // A valid 1x1 file whose IHDR claims 100000x100000: rejected before allocating.
        let bytes = handPNG(width: 100_000, height: 100_000, depth: 8, colorType: 0, rows: [[7]])
        let error = assertDatasetError(try PNG.decode(bytes, path: "huge.png"))
        XCTAssertTrue(error?.description.contains("100000x100000") ?? false, "\(String(describing: error))")
    }

    func testMissingFile() throws {
        let url = try makeTemporaryDirectory().appendingPathComponent("none.png")
        XCTAssertEqual(assertDatasetError(try PNG.read(contentsOf: url)), .fileNotFound(path: url.path))
    }

    // MARK: classifier input

    func testReadGrayscaleConvertsColourTo28x28Grey() throws {
        let url = try makeTemporaryDirectory().appendingPathComponent("digit.png")
        var pixels = [Float](repeating: 0, count: 3 * 28 * 28)
        for c in 0..<3 { pixels[c * 784 + 14 * 28 + 14] = 1 }     // one white pixel in the middle
        pixels[0 * 784 + 0] = 1                                   // one pure red pixel in the corner
        try PNG.write(Image(width: 28, height: 28, channels: 3, pixels: pixels), to: url)
        let grey = try PNG.readGrayscale(contentsOf: url)
        XCTAssertEqual(grey.channels, 1)
        XCTAssertEqual(grey[0, 14, 14], 1, accuracy: 1e-6)
        XCTAssertEqual(grey[0, 0, 0], 0.299, accuracy: 1e-6)
        XCTAssertEqual(grey[0, 5, 5], 0)
        XCTAssertEqual(grey.toTensor().shape, [1, 1, 28, 28])
    }

    func testReadGrayscaleRejectsOtherSizes() throws {
        let url = try makeTemporaryDirectory().appendingPathComponent("big.png")
        try PNG.write(Image(width: 32, height: 32, channels: 1, pixels: [Float](repeating: 0, count: 1024)), to: url)
        let error = assertDatasetError(try PNG.readGrayscale(contentsOf: url))
        XCTAssertEqual(error?.description, "\(url.path): image is 32x32, expected 28x28")
    }

    // MARK: a minimal PNG writer for fixtures: unfiltered scanlines, zlib via Gzip, CRC-32 here

    // MARK: issue 29 finding 4: the pixel budget, checked from the header

    /// A 16384x16384 RGBA16 header over a tiny IDAT once reached 6.2 GB and several seconds
    /// before libpng gave up; it is refused from the header, naming the size and the budget.
    func testDecompressionBombIsRefusedFromTheHeader() throws {
        let bomb = handPNG(width: 16384, height: 16384, depth: 16, colorType: 6, rows: [[UInt8](repeating: 0, count: 8)])
        XCTAssertLessThan(bomb.count, 100)
        XCTAssertThrowsError(try PNG.decode(bomb, path: "bomb.png")) { error in
            XCTAssertEqual(error as? DatasetError,
                           .imageTooLarge(path: "bomb.png", width: 16384, height: 16384, maxPixels: PNG.maxPixels))
            let text = "\(error)"
            for needle in ["bomb.png", "16384x16384", "\(PNG.maxPixels)"] { XCTAssertTrue(text.contains(needle), text) }
        }
        XCTAssertThrowsError(try ImageFile.decode(bomb)) { XCTAssertTrue("\($0)".contains("16384x16384"), "\($0)") }
    }

    /// Under the budget, a size that the file's few bytes cannot inflate to is refused too,
    /// before the pixel buffers are allocated.
    func testSizeTheDataCannotHoldIsRefusedBeforeAllocating() throws {
        let thin = handPNG(width: 8000, height: 8000, depth: 8, colorType: 2, rows: [[0, 0, 0]])
        XCTAssertThrowsError(try PNG.decode(thin, path: "thin.png")) { error in
            let text = "\(error)"
            for needle in ["thin.png", "8000x8000", "cannot hold"] { XCTAssertTrue(text.contains(needle), text) }
        }
    }

    func testPixelBudgetIsTheCallersToChange() throws {
        let png = try PNG.encode(Image(width: 4, height: 3, channels: 1, pixels: [Float](repeating: 0.5, count: 12)))
        XCTAssertThrowsError(try PNG.decode(png, maxPixels: 11)) {
            XCTAssertEqual($0 as? DatasetError, .imageTooLarge(path: nil, width: 4, height: 3, maxPixels: 11))
        }
        XCTAssertEqual(try PNG.decode(png, maxPixels: 12).width, 4)
        XCTAssertEqual(try ImageFile.decode(png, maxPixels: 12).height, 3)
        XCTAssertThrowsError(try ImageFile.decode(png, maxPixels: 11))
    }

    func handPNG(width: Int, height: Int, depth: UInt8, colorType: UInt8, rows: [[UInt8]],
                 palette: [UInt8]? = nil, transparency: [UInt8]? = nil) -> [UInt8] {
        var ihdr = bigEndian32(UInt32(width)) + bigEndian32(UInt32(height))
        ihdr += [depth, colorType, 0, 0, 0]
        var out = PNG.signature + chunk("IHDR", ihdr)
        if let palette { out += chunk("PLTE", palette) }
        if let transparency { out += chunk("tRNS", transparency) }
        out += chunk("IDAT", try! Gzip.compress(rows.flatMap { [0] + $0 }, format: .zlib))
        return out + chunk("IEND", [])
    }

    func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        return bigEndian32(UInt32(data.count)) + body + bigEndian32(crc32(body))
    }

    func bigEndian32(_ x: UInt32) -> [UInt8] { [UInt8(x >> 24), UInt8(x >> 16 & 255), UInt8(x >> 8 & 255), UInt8(x & 255)] }

    /// CRC-32 (ISO-HDLC, reflected polynomial 0xEDB88320), bit by bit.
    func crc32(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            c ^= UInt32(b)
            for _ in 0..<8 { c = (c >> 1) ^ (0xEDB8_8320 & (0 &- (c & 1))) }
        }
        return ~c
    }

    /// Found by Fuzz/FuzzPNG (issue 29): 73 bytes whose sPLT chunk declares 1,963,786,414
    /// bytes; libpng allocated that much before reading the chunk.
    func testAChunkLongerThanTheFileIsRefusedBeforeLibpngAllocatesIt() throws {
        let bytes: [UInt8] = [
            0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x05,
            0x00, 0x00, 0x00, 0x03, 0x08, 0x04, 0x00, 0x00, 0x00, 0xf1, 0x3f, 0x0d, 0x73, 0x00, 0x00, 0x00, 0x01, 0x73, 0x72, 0x47,
            0x42, 0x00, 0xae, 0xce, 0xba, 0xce, 0x75, 0x0d, 0x00, 0xae, 0x73, 0x50, 0x4c, 0x54, 0x47, 0x0a, 0x00, 0x00, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
        ]
        XCTAssertThrowsError(try PNG.decode(bytes, path: "fuzz.png")) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("sPLT") && text.contains("1963786414") && text.contains("fuzz.png"), text)
        }
        // A valid file with ancillary chunks still decodes: every chunk fits.
        let image = try Image(width: 5, height: 3, channels: 1, pixels: (0..<15).map { Float($0) / 15 })
        XCTAssertEqual(try PNG.decode(try PNG.encode(image)).width, 5)
    }
}
