import Foundation
import TensorCore

/// A generator of SYNTHETIC grey-scale surface images in the six classes of the AOI
/// defect-classification competition (seed 003's course project), so the inspection workflow
/// (folders of grey PNGs and a CSV of labels, training, confusion matrix, ROC) runs and is
/// tested anywhere. These are drawn by formula, not photographed: they say nothing about how
/// a model does on real inspection images.
///
/// Every image is a textured surface (a base grey, a gentle shading gradient, a faint
/// diagonal weave and pixel grain) with, by class:
/// - 0 normal: nothing more;
/// - 1 void: a dark, soft-edged elliptical blob;
/// - 2 horizontal defect: a thin scratch across, within 5 degrees of horizontal;
/// - 3 vertical defect: the same, within 5 degrees of vertical;
/// - 4 edge defect: a chipped dark band along one border;
/// - 5 particle: a cluster of a few small bright specks.
public enum SyntheticAOI {
    /// Class names, in label order; folders are `<label>_<name>`.
    public static let classNames = ["normal", "void", "horizontal_defect", "vertical_defect", "edge_defect", "particle"]

    /// One `size x size` image of class `label` from `generator`, pixels in [0, 1].
    public static func image(label: Int, size: Int, generator: inout SeededGenerator) -> Image {
        func u() -> Double { Double(generator.next() >> 11) / Double(1 << 53) }
        func u(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * u() }
        func gauss() -> Double { (-2 * log(max(u(), 1e-12))).squareRoot() * cos(2 * Double.pi * u()) }
        let n = Double(size)
        var px = [Double](repeating: 0, count: size * size)
        let base = u(0.38, 0.58), gx = u(-0.08, 0.08), gy = u(-0.08, 0.08)
        let period = u(5, 9), phase = u(0, 2 * .pi), weave = u(0.01, 0.03)
        for y in 0..<size {
            for x in 0..<size {
                let (fx, fy) = (Double(x) / n - 0.5, Double(y) / n - 0.5)
                px[y * size + x] = base + gx * fx + gy * fy + weave * sin((Double(x + y)) / period * 2 * .pi + phase) + 0.025 * gauss()
            }
        }
        func add(_ x: Int, _ y: Int, _ v: Double) { if x >= 0, y >= 0, x < size, y < size { px[y * size + x] += v } }
        switch label {
        case 1:
            let cx = u(0.25, 0.75) * n, cy = u(0.25, 0.75) * n, rx = u(0.06, 0.14) * n, ry = u(0.06, 0.14) * n, depth = u(0.22, 0.38)
            for y in 0..<size { for x in 0..<size {
                let d = pow((Double(x) - cx) / rx, 2) + pow((Double(y) - cy) / ry, 2)
                if d < 1.6 { add(x, y, -depth * max(0, min(1, (1.6 - d) / 0.6))) }
            } }
        case 2, 3:
            let length = u(0.35, 0.8) * n, thick = u(0.8, 2.2), slope = tan(u(-5, 5) * .pi / 180)
            let along0 = u(0.05, 0.95 - length / n) * n, across = u(0.15, 0.85) * n
            let shift = (u() < 0.5 ? -1.0 : 1.0) * u(0.2, 0.32)
            for y in 0..<size { for x in 0..<size {
                let (a, c) = label == 2 ? (Double(x), Double(y)) : (Double(y), Double(x))
                guard a >= along0, a <= along0 + length else { continue }
                let centre = across + (a - along0) * slope
                let dist = Swift.abs(c - centre)
                if dist < thick { add(x, y, shift * (1 - dist / thick * 0.5)) }
            } }
        case 4:
            let side = Int(u() * 4), band = u(0.05, 0.13) * n, depth = u(0.25, 0.4)
            var chip = [Double](repeating: 0, count: size)
            var wobble = 0.0
            for i in 0..<size { wobble = 0.8 * wobble + 0.2 * gauss(); chip[i] = max(1, band * (1 + 0.5 * wobble)) }
            for y in 0..<size { for x in 0..<size {
                let (inward, along) = [(x, y), (size - 1 - x, y), (y, x), (size - 1 - y, x)][side]
                if Double(inward) < chip[along] { add(x, y, -depth) }
            } }
        case 5:
            let cx = u(0.25, 0.75) * n, cy = u(0.25, 0.75) * n, spread = u(0.04, 0.1) * n
            for _ in 0..<Int(u(4, 9)) {
                let sx = cx + spread * gauss(), sy = cy + spread * gauss(), r = u(0.8, 1.8), bright = u(0.3, 0.45)
                for y in Int(sy - 3)...Int(sy + 3) { for x in Int(sx - 3)...Int(sx + 3) {
                    let d = ((Double(x) - sx) * (Double(x) - sx) + (Double(y) - sy) * (Double(y) - sy)).squareRoot()
                    if d < r + 0.5 { add(x, y, bright * min(1, r + 0.5 - d)) }
                } }
            }
        default: break
        }
        return try! Image(width: size, height: size, channels: 1, pixels: px.map { Float(min(1, max(0, $0))) })
    }

    /// Writes `perClass` images of each class as 8-bit grey PNGs into `root/<label>_<name>/`
    /// (torchvision's ImageFolder layout) and `root/labels.csv` (`ID,Label`, the AOI
    /// competition's columns, ID relative to `root`), plus a README saying they are synthetic.
    /// Returns the number of images written.
    @discardableResult
    public static func write(to root: URL, perClass: Int, size: Int = 64, seed: UInt64 = 1) throws -> Int {
        guard perClass >= 1, size >= 16, size <= 1024 else {
            throw DatasetError.invalidArgument("synthetic AOI needs at least 1 image per class and a size of 16...1024, got \(perClass) and \(size)")
        }
        let fm = FileManager.default
        do { try fm.createDirectory(at: root, withIntermediateDirectories: true) } catch {
            throw DatasetError.writeFailed(path: root.path, reason: error.localizedDescription)
        }
        var generator = SeededGenerator(seed: seed)
        var csv = "ID,Label\n", k = 0
        for (label, name) in classNames.enumerated() {
            let folder = "\(label)_\(name)"
            do { try fm.createDirectory(at: root.appendingPathComponent(folder), withIntermediateDirectories: true) } catch {
                throw DatasetError.writeFailed(path: root.appendingPathComponent(folder).path, reason: error.localizedDescription)
            }
            for _ in 0..<perClass {
                k += 1
                let file = String(format: "%@/aoi_%05d.png", folder, k)
                try PNG.write(image(label: label, size: size, generator: &generator), to: root.appendingPathComponent(file))
                csv += "\(file),\(label)\n"
            }
        }
        try FileIO.write(Array(csv.utf8), to: root.appendingPathComponent("labels.csv"))
        let readme = """
        SYNTHETIC AOI-style surface images written by `fovea data synth-aoi` (seed \(seed), \(perClass) per class, \(size)x\(size)).
        They are drawn by formula to exercise the defect-inspection workflow; they are not real inspection images.
        Classes (label_name): \(classNames.enumerated().map { "\($0.offset)_\($0.element)" }.joined(separator: ", ")).
        Layout: <label>_<name>/aoi_NNNNN.png (ImageFolder) and labels.csv (ID,Label).

        """
        try FileIO.write(Array(readme.utf8), to: root.appendingPathComponent("README.txt"))
        return k
    }
}
