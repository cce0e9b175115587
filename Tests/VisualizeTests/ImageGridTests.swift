import Datasets
import Foundation
import FoveaTestSupport
import Visualize
import XCTest

final class ImageGridTests: XCTestCase {
    /// Two 2x2 tiles, enlarged twice, one pixel apart, in one row:
    /// width 1 + 4 + 1 + 4 + 1 = 11, height 1 + 4 + 1 = 6.
    func testGeometryAndHandCheckedPixels() throws {
        let image = try ImageGrid.image([[0, 1, 2, 3], [10, 10, 10, 20]], height: 2, width: 2, columns: 2, scale: 2, gap: 1,
                                        gapShade: 0.25, colormap: .grey, scaling: .perTile)
        XCTAssertEqual(image.width, 11)
        XCTAssertEqual(image.height, 6)
        XCTAssertEqual(image.channels, 3)
        for c in 0..<3 {
            XCTAssertEqual(image[c, 0, 0], 0.25, "gap")
            XCTAssertEqual(image[c, 1, 5], 0.25, "gap between the tiles")
            // Tile 0 from its own 0...3: pixel (0, 0) is 0 -> black, (1, 1) is 3 -> white, (0, 1) is 1 -> 1/3.
            XCTAssertEqual(image[c, 1, 1], 0); XCTAssertEqual(image[c, 2, 2], 0, "enlarged: a 2x2 block")
            XCTAssertEqual(image[c, 3, 3], 1, accuracy: 1e-6)
            XCTAssertEqual(image[c, 1, 3], 1.0 / 3, accuracy: 1e-6)
            // Tile 1 from 10...20: its last pixel is white, the others black.
            XCTAssertEqual(image[c, 1, 6], 0)
            XCTAssertEqual(image[c, 4, 9], 1, accuracy: 1e-6)
        }
    }

    func testSharedAndSymmetricScaling() throws {
        let shared = try ImageGrid.image([[0, 2], [4, 8]], height: 1, width: 2, columns: 2, gap: 0, colormap: .grey, scaling: .shared)
        XCTAssertEqual(shared.pixels[0..<4].map { $0 }, [0, 0.25, 0.5, 1])
        let symmetric = try ImageGrid.image([[-2, 0, 1]], height: 1, width: 3, gap: 0, colormap: .grey, scaling: .symmetric)
        XCTAssertEqual(symmetric.pixels[0..<3].map { $0 }, [0, 0.5, 0.75])
        let constant = try ImageGrid.image([[5, 5]], height: 1, width: 2, gap: 0, colormap: .grey, scaling: .perTile)
        XCTAssertEqual(constant.pixels[0..<2].map { $0 }, [0, 0], "a flat tile is drawn at the bottom of the map, not NaN")
    }

    func testDefaultColumnsMakeAboutASquare() throws {
        let image = try ImageGrid.image(Array(repeating: [0], count: 10), height: 1, width: 1, gap: 1, colormap: .grey, scaling: .none)
        // ceil(sqrt(10)) = 4 columns, 3 rows.
        XCTAssertEqual(image.width, 4 * 1 + 5)
        XCTAssertEqual(image.height, 3 * 1 + 4)
    }

    func testColourTilesKeepTheirChannels() throws {
        // One 1x1 filter with red +1, green -1, blue 0: red white, green black, blue mid grey.
        let image = try ImageGrid.colourImage([[1, -1, 0]], height: 1, width: 1, gap: 0)
        XCTAssertEqual(image.pixels, [1, 0, 0.5])
    }

    func testBadTilesAreRefused() {
        XCTAssertThrowsError(try ImageGrid.image([], height: 2, width: 2, colormap: .grey, scaling: .none))
        XCTAssertThrowsError(try ImageGrid.image([[1, 2, 3]], height: 2, width: 2, colormap: .grey, scaling: .none)) { error in
            XCTAssertTrue("\(error)".contains("tile 0 has 3 values, a 2x2 tile needs 4"), "\(error)")
        }
    }

    func testRGBRepeatsGreyAndDropsAlpha() throws {
        let grey = try Image(width: 2, height: 1, channels: 1, pixels: [0.2, 0.8])
        XCTAssertEqual(try ImageGrid.rgb(grey).pixels, [0.2, 0.8, 0.2, 0.8, 0.2, 0.8])
        let rgba = try Image(width: 1, height: 1, channels: 4, pixels: [0.1, 0.2, 0.3, 0.5])
        XCTAssertEqual(try ImageGrid.rgb(rgba).pixels, [0.1, 0.2, 0.3])
    }
}
