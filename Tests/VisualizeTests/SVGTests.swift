import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import FoveaTestSupport
import Visualize
import XCTest

/// Parses `text` as XML and returns the parser error, if any: SVG must be well-formed XML.
func xmlError(_ text: String) -> String? {
    let parser = XMLParser(data: Data(text.utf8))
    return parser.parse() ? nil : (parser.parserError.map { "\($0)" } ?? "unknown XML error")
}

/// How many times `needle` occurs in `text`.
func occurrences(of needle: String, in text: String) -> Int {
    text.components(separatedBy: needle).count - 1
}

final class SVGTests: XCTestCase {
    func testEscapingKeepsTheDocumentWellFormed() {
        var doc = SVGDocument(width: 100, height: 50)
        doc.text("a < b & \"c\" > 'd'", x: 10, y: 20)
        doc.rect(x: 0, y: 0, width: 10, height: 10, fill: "#ff0000", title: "<tooltip & more>")
        let text = doc.render()
        XCTAssertNil(xmlError(text))
        XCTAssertTrue(text.contains("a &lt; b &amp; &quot;c&quot; &gt; &#39;d&#39;"), text)
        XCTAssertTrue(text.contains("<title>&lt;tooltip &amp; more&gt;</title>"), text)
        XCTAssertTrue(text.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"100\" height=\"50\""), text)
    }

    func testPolylineDropsPointsCloserThanATenthButKeepsTheEnds() {
        var doc = SVGDocument(width: 100, height: 100, background: nil)
        // 1,001 points on a 10-unit segment: 0.01 apart, so about one in ten is kept.
        doc.polyline((0...1000).map { (x: Double($0) / 100, y: 5) }, stroke: "#000000")
        let text = doc.render()
        let points = text.components(separatedBy: "points=\"")[1].components(separatedBy: "\"")[0].split(separator: " ")
        XCTAssertEqual(points.first, "0,5")
        XCTAssertEqual(points.last, "10,5")
        // Kept points are at least 0.1 apart (the last one excepted), so at most 101 remain.
        let xs = points.map { Double($0.split(separator: ",")[0])! }
        XCTAssertLessThanOrEqual(xs.count, 101)
        XCTAssertGreaterThanOrEqual(xs.count, 50)
        for i in 1..<(xs.count - 1) { XCTAssertGreaterThanOrEqual(xs[i] - xs[i - 1], 0.1 - 1e-9, "points \(i - 1) and \(i)") }
    }

    func testCoordinatesAreRoundedToATenth() {
        var doc = SVGDocument(width: 10, height: 10, background: nil)
        doc.line(x1: 1.04, y1: 2.06, x2: 3, y2: 4.5, stroke: "#000000")
        XCTAssertTrue(doc.render().contains("x1=\"1\" y1=\"2.1\" x2=\"3\" y2=\"4.5\""), doc.render())
    }

    func testColormapEndsAndClamping() {
        XCTAssertEqual(Colormap.blues.hex(0), "#ffffff")
        XCTAssertEqual(Colormap.blues.hex(-3), "#ffffff", "below 0 clamps to the first stop")
        XCTAssertEqual(Colormap.grey.hex(1), "#ffffff")
        XCTAssertEqual(Colormap.grey.hex(0.5), "#808080")
        XCTAssertEqual(Colormap.grey.hex(.nan), "#000000")
        XCTAssertEqual(Colormap.diverging.hex(0.5), "#ffffff", "zero is white in the diverging map")
        XCTAssertLessThan(Colormap.blues.luminance(1), 0.3)
        XCTAssertGreaterThan(Colormap.blues.luminance(0), 0.99)
    }

    func testTicksAreOneTwoOrFiveTimesAPowerOfTen() {
        let unit = LineChart.ticks(0...1)
        XCTAssertEqual(unit.count, 6)
        for (t, e) in zip(unit, [0, 0.2, 0.4, 0.6, 0.8, 1.0]) { XCTAssertEqual(t, e, accuracy: 1e-12) }
        XCTAssertEqual(LineChart.ticks(3...97), [20, 40, 60, 80])
        XCTAssertEqual(LineChart.ticks(1...3, minimumStep: 1), [1, 2, 3])
        XCTAssertEqual(LineChart.ticks(1...3), [1, 1.5, 2, 2.5, 3])
        XCTAssertEqual(LineChart.ticks(5...5), [])
    }

    func testLineChartDrawsEverySeriesWithItsLegend() {
        let chart = LineChart(title: "T", xLabel: "X", yLabel: "Y", series: [
            .init(name: "first", points: [(0, 0), (1, 1)]),
            .init(name: "second", points: [(0, 1), (1, 0)], dashed: true, markers: true),
        ])
        let text = chart.svg().render()
        XCTAssertNil(xmlError(text))
        XCTAssertEqual(occurrences(of: "<polyline", in: text), 2)
        XCTAssertEqual(occurrences(of: "<circle", in: text), 2, "markers on the second series only")
        XCTAssertTrue(text.contains(">first</text>") && text.contains(">second</text>"))
    }

    func testLegendIsCappedWithACountOfTheRest() {
        var chart = LineChart(title: "", xLabel: "", yLabel: "", series: (0..<30).map {
            .init(name: "s\($0)", points: [(0, Double($0)), (1, Double($0))])
        })
        chart.legendLimit = 5
        let text = chart.svg().render()
        XCTAssertTrue(text.contains(">s4</text>"))
        XCTAssertFalse(text.contains(">s5</text>"))
        XCTAssertTrue(text.contains("+ 25 more"))
    }

    func testLogScaleTicksArePowersOfTen() {
        var chart = LineChart(title: "", xLabel: "", yLabel: "", series: [.init(name: "", points: [(1, 0.02), (2, 0.0004)])])
        chart.logY = true
        let text = chart.svg().render()
        for label in ["1e-4", "1e-3", "1e-2", "1e-1"] { XCTAssertTrue(text.contains(">\(label)</text>"), label) }
        XCTAssertFalse(text.contains(">1e-5</text>"))
    }
}
