import Datasets
import TensorCore
import Foundation
import FoveaTestSupport
import XCTest

final class ImageFolderTests: XCTestCase {
    /// Writes a flat grey image of `value`.
    func grey(_ value: Float, _ w: Int = 4, _ h: Int = 4) throws -> Image {
        try Image(width: w, height: h, channels: 1, pixels: [Float](repeating: value, count: w * h))
    }

    func testClassesSortedFormatsMixedAndChannelsConverted() throws {
        let root = try makeTemporaryDirectory()
        let fm = FileManager.default
        for c in ["zebra", "ant", "moth"] { try fm.createDirectory(at: root.appendingPathComponent(c), withIntermediateDirectories: true) }
        try PNG.write(try grey(0.2), to: root.appendingPathComponent("ant/b.png"))
        try PNG.write(try grey(0.4), to: root.appendingPathComponent("ant/a.png"), bitDepth: 16)
        let rgba = try Image(width: 4, height: 4, channels: 4, pixels: [Float](repeating: 1, count: 16) + [Float](repeating: 0, count: 32) + [Float](repeating: 1, count: 16))
        try PNG.write(rgba, to: root.appendingPathComponent("moth/red.png"))
        try JPEG.write(try grey(0.6), to: root.appendingPathComponent("zebra/z.jpg"), quality: 100)
        try Data("not an image".utf8).write(to: root.appendingPathComponent("zebra/notes.txt"))
        try Data().write(to: root.appendingPathComponent(".hidden"))

        let (data, warnings) = try ImageFolder.load(root)
        XCTAssertTrue(warnings.isEmpty)
        XCTAssertEqual(data.classNames, ["ant", "moth", "zebra"])
        XCTAssertEqual(data.labels, [0, 0, 1, 2], "files sorted within a class: a.png, b.png")
        XCTAssertEqual(data.images.shape, [4, 1, 4, 4], "the first image is grey, so all are")
        XCTAssertEqual(data.images[0, 0, 0, 0], 0.4, accuracy: 1e-4, "16-bit a.png first")
        XCTAssertEqual(data.images[1, 0, 0, 0], 51 / 255, accuracy: 1e-6)
        XCTAssertEqual(data.images[2, 0, 0, 0], 0.299, accuracy: 0.01, "opaque red as luminance")
        XCTAssertEqual(data.images[3, 0, 0, 0], 0.6, accuracy: 3 / 255)

        let (colour, _) = try ImageFolder.load(root, options: ImageLoadOptions(channels: 3, size: (8, 6)))
        XCTAssertEqual(colour.images.shape, [4, 3, 8, 6])
        XCTAssertEqual(colour.images[2, 0, 3, 3], 1, accuracy: 1e-6, "red stays red")
        XCTAssertEqual(colour.images[2, 1, 3, 3], 0, accuracy: 1e-6)
        XCTAssertEqual(colour.images[0, 2, 5, 5], 0.4, accuracy: 1e-4, "grey repeated, flat images resize to themselves")
    }

    func testBadFolderContentsNameTheFile() throws {
        let root = try makeTemporaryDirectory()
        let fm = FileManager.default
        for c in ["a", "b", "empty"] { try fm.createDirectory(at: root.appendingPathComponent(c), withIntermediateDirectories: true) }
        try PNG.write(try grey(0.5), to: root.appendingPathComponent("a/1.png"))
        try PNG.write(try grey(0.5, 6, 6), to: root.appendingPathComponent("b/big.png"))
        XCTAssertThrowsError(try ImageFolder.load(root)) { XCTAssertTrue("\($0)".contains("empty"), "\($0)") }
        try fm.removeItem(at: root.appendingPathComponent("empty"))
        XCTAssertThrowsError(try ImageFolder.load(root)) { error in
            XCTAssertTrue("\(error)".contains("b/big.png") && "\(error)".contains("6x6") && "\(error)".contains("4x4"), "\(error)")
        }
        XCTAssertEqual(try ImageFolder.load(root, options: ImageLoadOptions(size: (4, 4))).data.count, 2, "resizing takes mixed sizes")

        let full = try PNG.encode(try grey(0.5))
        try Data(full.prefix(full.count / 2)).write(to: root.appendingPathComponent("a/truncated.png"))
        try Data("this is text, not a JPEG".utf8).write(to: root.appendingPathComponent("a/fake.jpg"))
        XCTAssertThrowsError(try ImageFolder.load(root, options: ImageLoadOptions(size: (4, 4)))) { error in
            XCTAssertTrue("\(error)".contains("a/fake.jpg"), "\(error)")
        }
        let (kept, warnings) = try ImageFolder.load(root, options: ImageLoadOptions(size: (4, 4), skipBad: true))
        XCTAssertEqual(kept.count, 2)
        XCTAssertEqual(warnings.count, 2)
        XCTAssertTrue(warnings.contains { $0.contains("a/fake.jpg") } && warnings.contains { $0.contains("a/truncated.png") }, "\(warnings)")
        XCTAssertThrowsError(try ImageFolder.load(root.appendingPathComponent("nope"))) { XCTAssertTrue("\($0)".contains("nope")) }
    }

    func testCSVLabelsBesideAFolder() throws {
        let root = try makeTemporaryDirectory()
        try FileManager.default.createDirectory(at: root.appendingPathComponent("img"), withIntermediateDirectories: true)
        for (i, v) in [0.1, 0.2, 0.3].enumerated() { try PNG.write(try grey(Float(v)), to: root.appendingPathComponent("img/\(i).png")) }
        let csv = root.appendingPathComponent("train.csv")
        try Data("ID,Label\n0.png,2\n1.png,0\n2.png,10\n".utf8).write(to: csv)
        let (data, _) = try LabeledCSV.load(csv, images: root.appendingPathComponent("img"))
        XCTAssertEqual(data.labels, [2, 0, 10])
        XCTAssertEqual(data.classNames.count, 11, "numeric labels name classes 0...10")
        let named = root.appendingPathComponent("named.csv")
        try Data("file,label\nimg/0.png,void\nimg/1.png,normal\n".utf8).write(to: named)
        let (byName, _) = try LabeledCSV.load(named)
        XCTAssertEqual(byName.classNames, ["normal", "void"])
        XCTAssertEqual(byName.labels, [1, 0])

        let missing = root.appendingPathComponent("missing.csv")
        try Data("ID,Label\nimg/0.png,1\nimg/gone.png,0\n".utf8).write(to: missing)
        XCTAssertThrowsError(try LabeledCSV.load(missing)) { error in
            XCTAssertTrue("\(error)".contains("line 3") && "\(error)".contains("img/gone.png"), "\(error)")
        }
        let (kept, warnings) = try LabeledCSV.load(missing, options: ImageLoadOptions(skipBad: true))
        XCTAssertEqual(kept.count, 1)
        XCTAssertEqual(warnings.count, 1)
        let bad = root.appendingPathComponent("bad.csv")
        try Data("ID,Label\njust-one-cell\n".utf8).write(to: bad)
        XCTAssertThrowsError(try LabeledCSV.load(bad)) { XCTAssertTrue("\($0)".contains("line 2 is 'just-one-cell'"), "\($0)") }
        // Issue 29: a huge numeric label once made 0...label class names (billions of strings).
        let huge = root.appendingPathComponent("huge.csv")
        try Data("ID,Label\nimg/0.png,9223372036854775807\n".utf8).write(to: huge)
        XCTAssertThrowsError(try LabeledCSV.load(huge)) { error in
            for needle in ["huge.csv", "9223372036854775807", "\(LabeledCSV.maxClasses)"] {
                XCTAssertTrue("\(error)".contains(needle), "\(error)")
            }
        }
    }

    /// Found by Fuzz/ (FuzzLabeledCSV): a numeric label of 10^18 made the reader allocate that
    /// many class names; Int.max overflowed the range. Both are refused naming the line.
    func testHugeNumericLabelIsRefusedNamingTheLine() throws {
        let root = try makeTemporaryDirectory()
        try PNG.write(try grey(0.5), to: root.appendingPathComponent("a.png"))
        for label in ["2426047410323587071", "\(Int.max)", "\(LabeledCSV.maxClasses)"] {
            let csv = root.appendingPathComponent("huge.csv")
            try Data("a.png,0\na.png,\(label)\n".utf8).write(to: csv)
            XCTAssertThrowsError(try LabeledCSV.load(csv)) { error in
                XCTAssertTrue("\(error)".contains("line 2") && "\(error)".contains(label), "\(error)")
            }
        }
        let csv = root.appendingPathComponent("large.csv")
        try Data("a.png,\(LabeledCSV.maxClasses - 1)\n".utf8).write(to: csv)
        XCTAssertEqual(try LabeledCSV.load(csv).data.classNames.count, LabeledCSV.maxClasses)
    }

    func testStratifiedSplitKeepsProportionsAndRepeats() throws {
        // 80 of class 0, 20 of class 1.
        let labels = [Int](repeating: 0, count: 80) + [Int](repeating: 1, count: 20)
        let data = try LabeledImages(images: Tensor(zeros: [100, 1, 2, 2]), labels: labels, classNames: ["a", "b"])
        let (train, validation) = try data.stratifiedSplit(validationFraction: 0.25, seed: 3)
        XCTAssertEqual(validation.classCounts, [20, 5])
        XCTAssertEqual(train.classCounts, [60, 15])
        let again = try data.stratifiedSplit(validationFraction: 0.25, seed: 3)
        XCTAssertEqual(again.validation.labels, validation.labels)
        XCTAssertEqual(data.balancedClassWeights, [100 / (2 * 80), 100 / (2 * 20)])
        XCTAssertThrowsError(try data.stratifiedSplit(validationFraction: 1, seed: 0))
    }

    func testSyntheticAOIIsDeterministicAndLoadsBothWays() throws {
        let a = try makeTemporaryDirectory(), b = try makeTemporaryDirectory()
        XCTAssertEqual(try SyntheticAOI.write(to: a, perClass: 3, size: 32, seed: 9), 18)
        try SyntheticAOI.write(to: b, perClass: 3, size: 32, seed: 9)
        let file = "4_edge_defect/aoi_00013.png"
        XCTAssertEqual(try Data(contentsOf: a.appendingPathComponent(file)), try Data(contentsOf: b.appendingPathComponent(file)))
        let (folder, _) = try ImageFolder.load(a)
        let (csv, _) = try LabeledCSV.load(a.appendingPathComponent("labels.csv"))
        XCTAssertEqual(folder.classNames, ["0_normal", "1_void", "2_horizontal_defect", "3_vertical_defect", "4_edge_defect", "5_particle"])
        XCTAssertEqual(folder.labels, csv.labels)
        XCTAssertEqual(folder.images.values, csv.images.values)
        XCTAssertEqual(folder.images.shape, [18, 1, 32, 32])
        XCTAssertTrue(try String(contentsOf: a.appendingPathComponent("README.txt"), encoding: .utf8).contains("SYNTHETIC"))
        // A void is darker in its middle than a normal surface; a particle brighter at its peak.
        var gen = SeededGenerator(seed: 5)
        let normal = SyntheticAOI.image(label: 0, size: 64, generator: &gen)
        let particle = SyntheticAOI.image(label: 5, size: 64, generator: &gen)
        XCTAssertGreaterThan(particle.pixels.max()! - normal.pixels.max()!, 0.15)
    }
}
