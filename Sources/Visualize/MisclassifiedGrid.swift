import Foundation
import TensorCore
import Datasets
import Training

/// The test images a classifier got wrong, most confidently wrong first, each with its true
/// and predicted class and the probability given to the wrong answer.
public enum MisclassifiedGrid {
    /// Indices of the misclassified images, by falling confidence in the wrong class.
    public static func indices(_ predictions: Predictions) -> [Int] {
        let predicted = predictions.predicted
        let wrong = predictions.labels.indices.filter { predicted[$0] != predictions.labels[$0] }
        let confidence = Dictionary(uniqueKeysWithValues: wrong.map { ($0, predictions.confidence($0)) })
        return wrong.sorted { confidence[$0]! > confidence[$1]! || (confidence[$0]! == confidence[$1]! && $0 < $1) }
    }

    /// An SVG grid of up to `limit` misclassified images. `images` `[N, C, H, W]` (C 1 or 3)
    /// are the images the model saw, in the same order as `predictions`; each is shown
    /// stretched from its own minimum to its maximum, which undoes any normalisation.
    public static func svg(images: Tensor, predictions: Predictions, limit: Int = 36, columns: Int = 9) throws -> SVGDocument {
        guard images.rank == 4, images.shape[0] == predictions.count, [1, 3].contains(images.shape[1]) else {
            throw DatasetError.invalidArgument("misclassified grid: images \(describe(images.shape)) for \(predictions.count) predictions; expected [\(predictions.count), 1 or 3, H, W]")
        }
        let misclassified = indices(predictions)
        let wrong = Array(misclassified.prefix(limit))
        let (c, h, w) = (images.shape[1], images.shape[2], images.shape[3])
        let side = 84.0, cellW = 112.0, cellH = side + 40
        let cols = max(1, min(columns, max(wrong.count, 1)))
        let rows = (wrong.count + cols - 1) / cols
        var doc = SVGDocument(width: max(360, Double(cols) * cellW + 16), height: 40 + Double(max(rows, 1)) * cellH)
        doc.text("Misclassified: \(misclassified.count) of \(predictions.count) images" + (wrong.count < misclassified.count ? " (the \(wrong.count) most confident shown)" : ""),
                 x: 8, y: 22, size: 14, bold: true)
        if wrong.isEmpty { doc.text("none: every image was classified correctly", x: 8, y: 56, fill: "#2e9e5b") }
        let predicted = predictions.predicted, per = c * h * w, v = images.pointer
        for (k, i) in wrong.enumerated() {
            let x = 8 + Double(k % cols) * cellW, y = 36 + Double(k / cols) * cellH
            let png = try PNG.encode(stretched(Array(UnsafeBufferPointer(start: v + i * per, count: per)), channels: c, height: h, width: w))
            doc.image(png: png, x: x + (cellW - side) / 2 - 4, y: y, width: side, height: side)
            let t = predictions.classNames[predictions.labels[i]], p = predictions.classNames[predicted[i]]
            doc.text("true \(t) → \(p)", x: x + cellW / 2 - 4, y: y + side + 15, size: 11, anchor: "middle")
            doc.text(String(format: "p=%.2f  #%d", predictions.confidence(i), i), x: x + cellW / 2 - 4, y: y + side + 29,
                     size: 10, anchor: "middle", fill: "#d1495b")
        }
        return doc
    }

    /// `pixels` (`[C, H, W]`) mapped linearly from their minimum and maximum to [0, 1].
    public static func stretched(_ pixels: [Float], channels: Int, height: Int, width: Int) throws -> Image {
        let lo = pixels.min() ?? 0, hi = pixels.max() ?? 1, span = hi - lo > 0 ? hi - lo : 1
        return try Image(width: width, height: height, channels: channels, pixels: pixels.map { ($0 - lo) / span })
    }
}
