import Foundation

/// A small SVG 1.1 document builder: shapes and text appended in order, rendered as one
/// self-contained string (no scripts, fonts or external files; raster images are embedded
/// as `data:` URIs). Coordinates are user units with the origin at the top left.
public struct SVGDocument: Sendable {
    public let width: Double
    public let height: Double
    private var body: [String] = []

    /// An empty `width x height` canvas with a white background.
    public init(width: Double, height: Double, background: String? = "#ffffff") {
        self.width = width
        self.height = height
        if let background { rect(x: 0, y: 0, width: width, height: height, fill: background) }
    }

    /// A rectangle; `title` becomes a hover tooltip.
    public mutating func rect(x: Double, y: Double, width: Double, height: Double, fill: String,
                              stroke: String? = nil, title: String? = nil) {
        var s = "<rect x=\"\(n(x))\" y=\"\(n(y))\" width=\"\(n(width))\" height=\"\(n(height))\" fill=\"\(fill)\""
        if let stroke { s += " stroke=\"\(stroke)\"" }
        if let title { s += "><title>\(SVGDocument.escape(title))</title></rect>" } else { s += "/>" }
        body.append(s)
    }

    /// A straight line.
    public mutating func line(x1: Double, y1: Double, x2: Double, y2: Double, stroke: String,
                              width: Double = 1, dashed: Bool = false) {
        body.append("<line x1=\"\(n(x1))\" y1=\"\(n(y1))\" x2=\"\(n(x2))\" y2=\"\(n(y2))\" stroke=\"\(stroke)\" stroke-width=\"\(n(width))\"\(dashed ? " stroke-dasharray=\"5,4\"" : "")/>")
    }

    /// A connected line through `points`. Points closer than 0.1 unit to the previous kept
    /// point are dropped, so a 10,000-point curve costs no more than the pixels it covers.
    public mutating func polyline(_ points: [(x: Double, y: Double)], stroke: String, width: Double = 1.5,
                                  dashed: Bool = false) {
        guard !points.isEmpty else { return }
        var text = ""
        text.reserveCapacity(points.count * 12)
        var last: (x: Double, y: Double)?
        for (i, p) in points.enumerated() {
            if let l = last, i != points.count - 1, Swift.abs(p.x - l.x) < 0.1, Swift.abs(p.y - l.y) < 0.1 { continue }
            if last != nil { text += " " }
            text += n(p.x) + "," + n(p.y)
            last = p
        }
        body.append("<polyline points=\"\(text)\" fill=\"none\" stroke=\"\(stroke)\" stroke-width=\"\(n(width))\" stroke-linejoin=\"round\"\(dashed ? " stroke-dasharray=\"5,4\"" : "")/>")
    }

    /// A small filled circle.
    public mutating func circle(cx: Double, cy: Double, r: Double, fill: String) {
        body.append("<circle cx=\"\(n(cx))\" cy=\"\(n(cy))\" r=\"\(n(r))\" fill=\"\(fill)\"/>")
    }

    /// Text anchored at (x, y): `anchor` is start, middle or end; `rotate` turns it about
    /// that point in degrees (-90 for a vertical axis label).
    public mutating func text(_ string: String, x: Double, y: Double, size: Double = 12, anchor: String = "start",
                              fill: String = "#222222", bold: Bool = false, rotate: Double? = nil) {
        var s = "<text x=\"\(n(x))\" y=\"\(n(y))\" font-size=\"\(n(size))\" text-anchor=\"\(anchor)\" fill=\"\(fill)\""
        if bold { s += " font-weight=\"bold\"" }
        if let rotate { s += " transform=\"rotate(\(n(rotate)) \(n(x)) \(n(y)))\"" }
        body.append(s + ">" + SVGDocument.escape(string) + "</text>")
    }

    /// A raster image embedded as a base64 PNG, scaled to the box without smoothing
    /// (each pixel stays a crisp square).
    public mutating func image(png: [UInt8], x: Double, y: Double, width: Double, height: Double) {
        let data = Data(png).base64EncodedString()
        body.append("<image x=\"\(n(x))\" y=\"\(n(y))\" width=\"\(n(width))\" height=\"\(n(height))\" preserveAspectRatio=\"none\" style=\"image-rendering:pixelated\" href=\"data:image/png;base64,\(data)\"/>")
    }

    /// The document as SVG text.
    public func render() -> String {
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(n(width))\" height=\"\(n(height))\" viewBox=\"0 0 \(n(width)) \(n(height))\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n"
        for element in body { out += element; out += "\n" }
        return out + "</svg>\n"
    }

    /// Writes `render()` to `url` atomically.
    public func write(to url: URL) throws {
        try Data(render().utf8).write(to: url, options: .atomic)
    }

    /// `&`, `<`, `>` and quotes escaped for XML text and attributes.
    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.count)
        for ch in s {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(ch)
            }
        }
        return out
    }

    /// A coordinate with at most one decimal, no trailing `.0`.
    private func n(_ v: Double) -> String {
        guard v.isFinite else { return "0" }
        let r = (v * 10).rounded() / 10
        return r == r.rounded() ? String(Int(r)) : String(r)
    }
}
