import Foundation
import Metrics
import Training

/// The standard pictures of a classifier and its training, as SVG.
public enum CurvePlots {
    /// ROC curves, false-positive rate against true-positive rate, one per entry, with
    /// "name (AUC 0.987)" in the legend and the chance diagonal dashed.
    public static func roc(_ curves: [(name: String, curve: ROCCurve)], title: String = "ROC curves") -> SVGDocument {
        var series = curves.map { entry in
            LineChart.Series(name: entry.name + String(format: " (AUC %.4f)", entry.curve.auc),
                             points: zip(entry.curve.falsePositiveRates, entry.curve.truePositiveRates).map { (x: $0, y: $1) })
        }
        series.append(LineChart.Series(name: "", points: [(0, 0), (1, 1)], color: "#aaaaaa", dashed: true))
        return LineChart(title: title, xLabel: "False positive rate", yLabel: "True positive rate",
                         series: series, xRange: 0...1, yRange: 0...1).svg(width: 620, height: 520)
    }

    /// Precision-recall curves (recall on x), with the average precision in the legend.
    public static func precisionRecall(_ curves: [(name: String, curve: PrecisionRecallCurve)],
                                       title: String = "Precision-recall curves") -> SVGDocument {
        let series = curves.map { entry in
            LineChart.Series(name: entry.name + String(format: " (AP %.4f)", entry.curve.averagePrecision),
                             points: zip(entry.curve.recall, entry.curve.precision).map { (x: $0, y: $1) })
        }
        var chart = LineChart(title: title, xLabel: "Recall", yLabel: "Precision", series: series,
                              xRange: 0...1, yRange: 0...1.02)
        chart.legendCorner = .bottomLeft
        return chart.svg(width: 620, height: 520)
    }

    /// Loss, accuracy and learning rate per epoch, three panels side by side: training
    /// figures solid, validation dashed, test dotted with markers.
    public static func training(_ history: [EpochRecord]) -> SVGDocument {
        let epochs = history.map { Double($0.epoch) }
        func points(_ value: (EpochRecord) -> Double?) -> [(x: Double, y: Double)] {
            zip(epochs, history).compactMap { e, r in value(r).map { (x: e, y: $0) } }
        }
        func series(_ name: String, _ color: String, dashed: Bool = false, _ value: @escaping (EpochRecord) -> Double?) -> LineChart.Series? {
            let p = points(value)
            return p.isEmpty ? nil : LineChart.Series(name: name, points: p, color: color, dashed: dashed, markers: true)
        }
        let xr = history.count > 1 ? (epochs.first!)...(epochs.last!) : (epochs.first ?? 1) - 1...(epochs.first ?? 1) + 1
        var loss = LineChart(title: "Loss", xLabel: "Epoch", yLabel: "Cross-entropy", series: [
            series("train", seriesColors[0]) { $0.trainLoss }, series("validation", seriesColors[1], dashed: true) { $0.validationLoss },
            series("test", seriesColors[2], dashed: true) { $0.testLoss },
        ].compactMap { $0 })
        var accuracy = LineChart(title: "Accuracy", xLabel: "Epoch", yLabel: "Accuracy", series: [
            series("train", seriesColors[0]) { $0.trainAccuracy }, series("validation", seriesColors[1], dashed: true) { $0.validationAccuracy },
            series("test", seriesColors[2], dashed: true) { $0.testAccuracy },
        ].compactMap { $0 })
        var rate = LineChart(title: "Learning rate (end of epoch)", xLabel: "Epoch", yLabel: "Learning rate",
                             series: [series("", seriesColors[4]) { $0.learningRate }].compactMap { $0 })
        rate.logY = history.allSatisfy { $0.learningRate > 0 }
        loss.legendCorner = .topRight
        loss.xRange = xr; accuracy.xRange = xr; rate.xRange = xr
        loss.integerX = true; accuracy.integerX = true; rate.integerX = true
        var doc = SVGDocument(width: 1200, height: 360)
        loss.draw(into: &doc, x: 0, y: 0, width: 400, height: 360)
        accuracy.draw(into: &doc, x: 400, y: 0, width: 400, height: 360)
        rate.draw(into: &doc, x: 800, y: 0, width: 400, height: 360)
        return doc
    }

    /// Horizontal bars of class probabilities, most probable first (at most `limit` bars),
    /// each labelled with its class name and value.
    public static func probabilities(_ values: [Float], classNames: [String], limit: Int = 10,
                                     title: String = "Class probabilities") -> SVGDocument {
        let order = values.indices.sorted { values[$0] > values[$1] || (values[$0] == values[$1] && $0 < $1) }.prefix(limit)
        let nameWidth = 12 + 7 * Double(min(24, order.map { classNames.indices.contains($0) ? classNames[$0].count : 2 }.max() ?? 2))
        let barWidth = 300.0, row = 22.0
        var doc = SVGDocument(width: nameWidth + barWidth + 70, height: 34 + row * Double(order.count) + 8)
        doc.text(title, x: 8, y: 20, size: 14, bold: true)
        for (k, c) in order.enumerated() {
            let y = 30 + Double(k) * row, p = Double(max(0, min(1, values[c])))
            let name = classNames.indices.contains(c) ? String(classNames[c].prefix(24)) : String(c)
            doc.text(name, x: nameWidth - 6, y: y + 15, size: 12, anchor: "end")
            doc.rect(x: nameWidth, y: y + 3, width: barWidth, height: row - 6, fill: "#eef1f5")
            doc.rect(x: nameWidth, y: y + 3, width: barWidth * p, height: row - 6, fill: k == 0 ? seriesColors[0] : "#8fb3d9")
            doc.text(String(format: "%.4f", values[c]), x: nameWidth + barWidth + 6, y: y + 15, size: 11, fill: "#444444")
        }
        return doc
    }
}
