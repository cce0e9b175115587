import Foundation
import Datasets
import Metrics

/// A confusion-matrix heat map: rows are true classes, columns predicted classes, each cell
/// coloured by its share of the row (recall per class, `Colormap.blues`) and labelled with
/// its count.
///
/// Up to `vectorLimit` classes every cell is an SVG rectangle with its count and a tooltip;
/// above that (a 1000-class ImageNet model) the cells are one embedded PNG, one pixel per
/// cell, drawn without smoothing, and only every k-th class is labelled, which keeps the file
/// small and fast to render.
public struct ConfusionMatrixPlot: Sendable {
    public var matrix: ConfusionMatrix
    public var classNames: [String]
    public var title = "Confusion matrix"
    /// The largest class count drawn cell by cell.
    public var vectorLimit = 40

    /// `classNames` defaults to the class indices; a list of the wrong length is replaced by them.
    public init(_ matrix: ConfusionMatrix, classNames: [String]? = nil) {
        self.matrix = matrix
        let n = matrix.classCount
        self.classNames = classNames.flatMap { $0.count == n ? $0 : nil } ?? (0..<n).map(String.init)
    }

    /// The picture: square cells in a frame of about `size` units, labels around it.
    public func svg(size: Double = 560) throws -> SVGDocument {
        let n = matrix.classCount
        let longest = Double(min(18, classNames.map(\.count).max() ?? 1))
        let margin = 40 + longest * 6.5
        let cell = n <= vectorLimit ? max(14, min(48, size / Double(n))) : size / Double(n)
        let grid = cell * Double(n)
        var doc = SVGDocument(width: margin + grid + 80, height: 2 * margin + grid + 24)
        let x0 = margin, y0 = margin
        let shares = matrix.normalized(.trueLabels)
        doc.text(title + " (\(n) classes, \(matrix.total) samples, accuracy " + String(format: "%.2f%%", matrix.accuracy * 100) + ")",
                 x: x0 + grid / 2, y: 18, size: 14, anchor: "middle", bold: true)
        doc.text("Predicted", x: x0 + grid / 2, y: 2 * margin + grid + 14, anchor: "middle")
        doc.text("True", x: 14, y: y0 + grid / 2, anchor: "middle", rotate: -90)

        if n <= vectorLimit {
            let fontSize = min(12, cell * 0.38)
            for t in 0..<n {
                for p in 0..<n {
                    let share = shares[t][p], count = matrix.counts[t][p]
                    let x = x0 + Double(p) * cell, y = y0 + Double(t) * cell
                    doc.rect(x: x, y: y, width: cell, height: cell, fill: Colormap.blues.hex(share),
                             title: "true \(classNames[t]), predicted \(classNames[p]): \(count) (" + String(format: "%.1f%%", share * 100) + " of the row)")
                    if count > 0 {
                        doc.text(String(count), x: x + cell / 2, y: y + cell / 2 + fontSize * 0.35, size: fontSize, anchor: "middle",
                                 fill: Colormap.blues.luminance(share) < 0.45 ? "#ffffff" : "#111111")
                    }
                }
            }
            doc.rect(x: x0, y: y0, width: grid, height: grid, fill: "none", stroke: "#888888")
        } else {
            var pixels = [Float](repeating: 0, count: 3 * n * n)
            for t in 0..<n {
                for p in 0..<n {
                    let c = Colormap.blues.rgb(shares[t][p])
                    pixels[t * n + p] = Float(c.r)
                    pixels[n * n + t * n + p] = Float(c.g)
                    pixels[2 * n * n + t * n + p] = Float(c.b)
                }
            }
            let png = try PNG.encode(Image(width: n, height: n, channels: 3, pixels: pixels))
            doc.image(png: png, x: x0, y: y0, width: grid, height: grid)
            doc.rect(x: x0, y: y0, width: grid, height: grid, fill: "none", stroke: "#888888")
        }
        let every = max(1, Int((13 / cell).rounded(.up)))
        for i in stride(from: 0, to: n, by: every) {
            let c = Double(i) * cell + cell / 2
            let name = String(classNames[i].prefix(18))
            doc.text(name, x: x0 - 6, y: y0 + c + 4, size: 11, anchor: "end")
            doc.text(name, x: x0 + c + 4, y: y0 + grid + 8, size: 11, anchor: "end", rotate: -90)
        }
        // Colour bar: share of the true class's samples.
        let bx = x0 + grid + 22
        for k in 0..<50 {
            let t = 1 - Double(k) / 49
            doc.rect(x: bx, y: y0 + Double(k) * grid / 50, width: 14, height: grid / 50 + 0.5, fill: Colormap.blues.hex(t))
        }
        doc.text("100%", x: bx + 18, y: y0 + 8, size: 10)
        doc.text("0%", x: bx + 18, y: y0 + grid, size: 10)
        return doc
    }
}
