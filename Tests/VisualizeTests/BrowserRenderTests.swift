import Foundation
import FoveaTestSupport
import Fovea
import XCTest

/// The report and every SVG rendered by a real headless browser (Debian's chromium), where
/// one is installed: the page must load, its DOM must hold no XML parser error (which is
/// what chromium shows for a malformed SVG), and the screenshot must not be blank.
final class BrowserRenderTests: XCTestCase {
    static let browser = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        .first(where: FileManager.default.isExecutableFile)

    /// Runs the browser headless on `url` with `arguments`; returns standard output.
    func browse(_ url: URL, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try XCTUnwrap(Self.browser))
        let profile = try makeTemporaryDirectory()
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
                             "--user-data-dir=" + profile.path] + arguments + [url.absoluteString]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    func testReportAndPicturesRenderInChromium() throws {
        guard Self.browser != nil else {
            throw XCTSkip("chromium is not installed (apt-get install chromium); the report was not rendered in a browser")
        }
        let (model, test, history) = try SmallRun.make()
        let folder = try makeTemporaryDirectory()
        var artifacts = RunArtifacts(title: "browser check", model: model, input: [1, 28, 28],
                                     predictions: try Predictions(model: model, data: test), images: test.images)
        artifacts.history = history
        let files = try artifacts.write(to: folder)
        // A 1000-class matrix too: the raster path.
        var gen = SeededGenerator(seed: 2)
        let labels = (0..<20_000).map { _ in Int(gen.next() % 1000) }
        let big = try ConfusionMatrix(labels: labels, predictions: labels.map { gen.next() % 3 == 0 ? 0 : $0 }, classCount: 1000)
        try ConfusionMatrixPlot(big).svg().write(to: folder.appendingPathComponent("big_matrix.svg"))

        for name in files.filter({ $0.hasSuffix(".svg") || $0.hasSuffix(".html") }) + ["big_matrix.svg"] {
            let url = folder.appendingPathComponent(name)
            let dom = try browse(url, ["--dump-dom"])
            XCTAssertEqual(dom.status, 0, name)
            XCTAssertFalse(dom.output.contains("parsererror"), "\(name): the browser reports a parse error:\n\(dom.output.prefix(600))")
            XCTAssertTrue(dom.output.contains(name.hasSuffix(".html") ? "<h1>browser check</h1>" : "<svg"), "\(name): \(dom.output.prefix(300))")

            let shot = folder.appendingPathComponent(name + ".png")
            let result = try browse(url, ["--window-size=1280,1600", "--screenshot=" + shot.path])
            XCTAssertEqual(result.status, 0, name)
            let image = try PNG.read(contentsOf: shot)
            XCTAssertEqual(image.width, 1280)
            let grey = image.grayscale().pixels
            let dark = grey.filter { $0 < 0.5 }.count
            XCTAssertGreaterThan(dark, 500, "\(name): the screenshot is blank (\(dark) dark pixels)")
        }
    }
}
