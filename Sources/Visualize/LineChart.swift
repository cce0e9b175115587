import Foundation

/// A line chart with axes, "nice" ticks, grid lines and a legend: training curves, ROC and
/// precision-recall curves. Draws into a frame of an `SVGDocument`, so several charts can
/// share one picture.
public struct LineChart: Sendable {
    /// One curve.
    public struct Series: Sendable {
        public var name: String
        public var points: [(x: Double, y: Double)]
        /// `#rrggbb`; nil takes the next of `seriesColors`.
        public var color: String?
        public var dashed: Bool
        /// Dots at the points (for short series such as per-epoch figures).
        public var markers: Bool

        public init(name: String, points: [(x: Double, y: Double)], color: String? = nil,
                    dashed: Bool = false, markers: Bool = false) {
            self.name = name; self.points = points; self.color = color; self.dashed = dashed; self.markers = markers
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]
    /// Fixed axis ranges; nil fits the data (with a little margin on y).
    public var xRange: ClosedRange<Double>?
    public var yRange: ClosedRange<Double>?
    /// At most this many legend entries; the rest are summarised as "+ N more".
    public var legendLimit = 12
    /// Plot y on a log scale (learning rates); points with y <= 0 are left out.
    public var logY = false
    /// Where the legend sits inside the plot.
    public enum LegendCorner: Sendable { case bottomRight, bottomLeft, topRight }
    public var legendCorner = LegendCorner.bottomRight
    /// Only whole-number ticks on x (epochs).
    public var integerX = false

    public init(title: String, xLabel: String, yLabel: String, series: [Series],
                xRange: ClosedRange<Double>? = nil, yRange: ClosedRange<Double>? = nil) {
        self.title = title; self.xLabel = xLabel; self.yLabel = yLabel; self.series = series
        self.xRange = xRange; self.yRange = yRange
    }

    /// The chart alone as an SVG document.
    public func svg(width: Double = 640, height: Double = 420) -> SVGDocument {
        var doc = SVGDocument(width: width, height: height)
        draw(into: &doc, x: 0, y: 0, width: width, height: height)
        return doc
    }

    /// Draws the chart in the frame (x, y, width, height) of `doc`.
    public func draw(into doc: inout SVGDocument, x: Double, y: Double, width: Double, height: Double) {
        let left = x + 72, right = x + width - 16, top = y + 34, bottom = y + height - 46
        doc.text(title, x: x + width / 2, y: y + 20, size: 14, anchor: "middle", bold: true)
        doc.text(xLabel, x: (left + right) / 2, y: y + height - 10, anchor: "middle")
        doc.text(yLabel, x: x + 16, y: (top + bottom) / 2, anchor: "middle", rotate: -90)

        let ty: (Double) -> Double = logY ? { log10($0) } : { $0 }
        let all = series.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite && (!logY || $0.y > 0) }
        let xr = xRange ?? LineChart.fit(all.map(\.x), margin: 0)
        var yr = yRange.map { ty($0.lowerBound)...ty($0.upperBound) } ?? LineChart.fit(all.map { ty($0.y) }, margin: 0.05)
        if logY && yRange == nil {
            // Whole decades, so every tick is a power of ten.
            yr = floor(yr.lowerBound)...max(ceil(yr.upperBound), floor(yr.lowerBound) + 1)
        }
        func px(_ v: Double) -> Double { left + (v - xr.lowerBound) / (xr.upperBound - xr.lowerBound) * (right - left) }
        func py(_ v: Double) -> Double { bottom - (ty(v) - yr.lowerBound) / (yr.upperBound - yr.lowerBound) * (bottom - top) }

        for t in LineChart.ticks(xr, minimumStep: integerX ? 1 : 0) {
            doc.line(x1: px(t), y1: top, x2: px(t), y2: bottom, stroke: "#e6e6e6")
            doc.text(LineChart.label(t), x: px(t), y: bottom + 16, size: 11, anchor: "middle", fill: "#555555")
        }
        for t in logY ? Array(stride(from: yr.lowerBound, through: yr.upperBound, by: 1)) : LineChart.ticks(yr) {
            let yy = bottom - (t - yr.lowerBound) / (yr.upperBound - yr.lowerBound) * (bottom - top)
            doc.line(x1: left, y1: yy, x2: right, y2: yy, stroke: "#e6e6e6")
            doc.text(logY ? String(format: "1e%d", Int(t.rounded())) : LineChart.label(t), x: left - 6, y: yy + 4, size: 11,
                     anchor: "end", fill: "#555555")
        }
        doc.rect(x: left, y: top, width: right - left, height: bottom - top, fill: "none", stroke: "#999999")

        var legend: [(String, String, Bool)] = []
        for (i, s) in series.enumerated() {
            let color = s.color ?? seriesColors[i % seriesColors.count]
            let pts = s.points.filter { $0.x.isFinite && $0.y.isFinite && (!logY || $0.y > 0) }
                .map { (x: px(Swift.min(Swift.max($0.x, xr.lowerBound), xr.upperBound)), y: py($0.y)) }
            doc.polyline(pts, stroke: color, dashed: s.dashed)
            if s.markers { for p in pts { doc.circle(cx: p.x, cy: p.y, r: 2.5, fill: color) } }
            if !s.name.isEmpty { legend.append((s.name, color, s.dashed)) }
        }
        guard !legend.isEmpty else { return }
        let shown = legend.prefix(legendLimit)
        let extra = legend.count - shown.count
        let longest = Double((shown.map(\.0.count) + [extra > 0 ? 10 : 0]).max() ?? 0)
        let boxWidth = 34 + longest * 6.6, rows = Double(shown.count + (extra > 0 ? 1 : 0))
        let bx = legendCorner == .bottomLeft ? left + 8 : right - boxWidth - 8
        let by = legendCorner == .topRight ? top + 8 : bottom - rows * 16 - 12
        doc.rect(x: bx, y: by, width: boxWidth, height: rows * 16 + 8, fill: "#ffffff", stroke: "#cccccc")
        for (i, entry) in shown.enumerated() {
            let ly = by + 12 + Double(i) * 16
            doc.line(x1: bx + 6, y1: ly, x2: bx + 24, y2: ly, stroke: entry.1, width: 2, dashed: entry.2)
            doc.text(entry.0, x: bx + 30, y: ly + 4, size: 11)
        }
        if extra > 0 { doc.text("+ \(extra) more", x: bx + 30, y: by + 12 + Double(shown.count) * 16 + 4, size: 11, fill: "#666666") }
    }

    /// The data's range, widened by `margin` of its span; a single value or no data gets a unit range.
    static func fit(_ values: [Double], margin: Double) -> ClosedRange<Double> {
        guard let lo = values.min(), let hi = values.max() else { return 0...1 }
        if hi - lo < 1e-12 {
            let pad = Swift.abs(lo) > 1e-12 ? Swift.abs(lo) * 0.1 : 0.5
            return (lo - pad)...(hi + pad)
        }
        let pad = (hi - lo) * margin
        return (lo - pad)...(hi + pad)
    }

    /// Tick positions at 1, 2 or 5 times a power of ten, about five over the range, at least
    /// `minimumStep` apart.
    public static func ticks(_ range: ClosedRange<Double>, minimumStep: Double = 0) -> [Double] {
        let span = range.upperBound - range.lowerBound
        guard span > 0, span.isFinite else { return [] }
        let raw = span / 5, power = pow(10, floor(log10(raw)))
        let step = max(minimumStep, [1.0, 2, 5, 10].map { $0 * power }.first { $0 >= raw } ?? raw)
        var t = ceil(range.lowerBound / step) * step, out: [Double] = []
        while t <= range.upperBound + step * 1e-9 && out.count < 50 { out.append(Swift.abs(t) < step * 1e-9 ? 0 : t); t += step }
        return out
    }

    /// A tick label: integers plainly, small or large numbers in %g.
    static func label(_ v: Double) -> String {
        if v == v.rounded() && Swift.abs(v) < 1e6 { return String(Int(v)) }
        return String(format: "%g", v)
    }
}
