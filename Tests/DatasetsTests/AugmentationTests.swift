import Datasets
import Foundation
import FoveaTestSupport
import TensorCore
import XCTest

final class AugmentationTests: XCTestCase {
    func run(_ steps: [Augmentation.Step], _ shape: [Int], _ values: [Float], seed: UInt64 = 1) throws -> Tensor {
        var g = SeededGenerator(seed: seed)
        return try Augmentation(steps).apply(try Tensor(shape: shape, values: values), generator: &g)
    }

    let six: [Float] = [1, 2, 3, 4, 5, 6]   // [[1 2 3], [4 5 6]]

    func testFlipsPadAndCrops() throws {
        XCTAssertEqual(try run([.horizontalFlip(p: 1)], [1, 2, 3], six).values, [3, 2, 1, 6, 5, 4])
        XCTAssertEqual(try run([.horizontalFlip(p: 0)], [1, 2, 3], six).values, six)
        XCTAssertEqual(try run([.verticalFlip(p: 1)], [1, 2, 3], six).values, [4, 5, 6, 1, 2, 3])
        let padded = try run([.pad(1, fill: 9)], [1, 1, 1], [5])
        XCTAssertEqual(padded.shape, [1, 3, 3])
        XCTAssertEqual(padded.values, [9, 9, 9, 9, 5, 9, 9, 9, 9])
        let sixteen = (0..<16).map(Float.init)
        XCTAssertEqual(try run([.centerCrop(height: 2, width: 2)], [1, 4, 4], sixteen).values, [5, 6, 9, 10])
        XCTAssertEqual(try run([.randomCrop(height: 4, width: 4, padding: 0, fill: 0)], [1, 4, 4], sixteen).values, sixteen)
        // A 2x2 window of the 4x4 image padded by 1: always a real 2x2 block of the padded image.
        for seed in 1...20 as ClosedRange<UInt64> {
            let w = try run([.randomCrop(height: 2, width: 2, padding: 1, fill: -1)], [1, 4, 4], sixteen, seed: seed).values
            XCTAssertEqual(w.count, 4)
            if w.allSatisfy({ $0 >= 0 }) { XCTAssertEqual(w[1] - w[0], 1); XCTAssertEqual(w[2] - w[0], 4) }
        }
        XCTAssertThrowsError(try run([.centerCrop(height: 5, width: 5)], [1, 4, 4], sixteen)) {
            XCTAssertTrue("\($0)".contains("centre crop 5x5 of a 4x4 image"), "\($0)")
        }
    }

    /// Hand-worked warps of [[1 2 3], [4 5 6], [7 8 9]].
    func testWarpRotatesShiftsAndZoomsByHand() throws {
        let nine = try Tensor(shape: [1, 3, 3], values: (1...9).map(Float.init))
        // 90 degrees counter-clockwise as displayed: the right column becomes the top row.
        assertClose(try Augmentation.warp(nine, angle: .pi / 2).values, [3, 6, 9, 2, 5, 8, 1, 4, 7], atol: 1e-5)
        // One pixel right: the left column repeats (border), the right one falls off.
        assertClose(try Augmentation.warp(nine, angle: 0, tx: 1).values, [1, 1, 2, 4, 4, 5, 7, 7, 8], atol: 1e-6)
        // Half a pixel down: rows blend with their upper neighbour.
        assertClose(try Augmentation.warp(nine, angle: 0, ty: 0.5).values, [1, 2, 3, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5], atol: 1e-6)
        // Zoom 2 about the centre: the corners sample half-way to the centre.
        assertClose(try Augmentation.warp(nine, angle: 0, scale: 2).values, [3, 3.5, 4, 4.5, 5, 5.5, 6, 6.5, 7], atol: 1e-6)
        assertClose(try run([.affine(degrees: 0, translate: 0, scale: 1...1)], [1, 3, 3], nine.values).values, nine.values)
    }

    func testJitterGreyRGBNormalizeAndErasing() throws {
        let pixels: [Float] = [0.1, 0.2, 0.3, 0.4]
        let bright = try run([.jitter(brightness: 0.5, contrast: 0, clamp: false)], [1, 2, 2], pixels).values
        let factor = bright[0] / pixels[0]
        XCTAssertTrue((0.5...1.5).contains(factor), "\(factor)")
        for i in 0..<4 { XCTAssertEqual(bright[i], pixels[i] * factor, accuracy: 1e-6, "one brightness factor for the image") }
        let contrast = try run([.jitter(brightness: 0, contrast: 0.5, clamp: false)], [1, 2, 2], pixels).values
        // Blended with the mean 0.25: differences from it scale by one factor.
        let k = (contrast[3] - 0.25) / (0.4 - 0.25)
        XCTAssertEqual(contrast[0] - 0.25, (0.1 - 0.25) * k, accuracy: 1e-6)
        XCTAssertTrue((0.5...1.5).contains(k))
        XCTAssertEqual(try run([.jitter(brightness: 0, contrast: 0, clamp: true)], [1, 2, 2], [-1, 0.5, 2, 0.25]).values, [0, 0.5, 1, 0.25])

        let red = try run([.grayscale], [3, 1, 1], [1, 0, 0]).values
        XCTAssertEqual(red, [0.299])
        XCTAssertEqual(try run([.rgb], [1, 1, 2], [0.2, 0.8]).values, [0.2, 0.8, 0.2, 0.8, 0.2, 0.8])
        XCTAssertEqual(try run([.normalize(mean: [0.5], std: [0.25])], [1, 1, 2], [0, 1]).values, [-2, 2])

        let ones = [Float](repeating: 1, count: 64)
        let erased = try run([.randomErasing(p: 1, area: 0.25...0.25, value: 0)], [1, 8, 8], ones).values
        let zeros = erased.indices.filter { erased[$0] == 0 }
        XCTAssertFalse(zeros.isEmpty)
        // The erased pixels form one rectangle.
        let rows = Set(zeros.map { $0 / 8 }), cols = Set(zeros.map { $0 % 8 })
        XCTAssertEqual(zeros.count, rows.count * cols.count)
        XCTAssertEqual(rows.max()! - rows.min()! + 1, rows.count)
        XCTAssertEqual(try run([.randomErasing(p: 0, area: 0.25...0.25, value: 0)], [1, 8, 8], ones).values, ones)
    }

    func testSeededBatchesRepeatAndTheLoaderRefusesSizeChanges() throws {
        let data = try LabeledImages(images: randomTensor([10, 1, 6, 6], seed: 3, low: 0, high: 1), labels: Array(0..<10), classNames: (0..<10).map(String.init))
        let pipeline = Augmentation([.affine(degrees: 15, translate: 0.1, scale: 0.9...1.1), .horizontalFlip(p: 0.5), .jitter(brightness: 0.2, contrast: 0.2, clamp: true)])
        let a = try pipeline.apply(batch: data.images, seed: 7).values, b = try pipeline.apply(batch: data.images, seed: 7).values
        XCTAssertEqual(a, b, "same seed, same images")
        XCTAssertNotEqual(a, try pipeline.apply(batch: data.images, seed: 8).values)
        let loader = try DataLoader(data, batchSize: 4, shuffle: true, seed: 2).augmented(with: pipeline)
        XCTAssertEqual(loader.batches(epoch: 1)[1].images.values, loader.batches(epoch: 1)[1].images.values)
        XCTAssertNotEqual(loader.batches(epoch: 1)[0].images.values, loader.batches(epoch: 2)[0].images.values)
        XCTAssertThrowsError(try DataLoader(data, batchSize: 4).augmented(with: Augmentation([.pad(2, fill: 0)]))) {
            XCTAssertTrue("\($0)".contains("[1, 6, 6]") && "\($0)".contains("[1, 10, 10]"), "\($0)")
        }
    }
}
