import Foundation
import FoveaTestSupport
import Fovea
import XCTest

/// The visualizer in a real headless browser (Debian's chromium), where one is installed:
/// the page's self-test draws a "7" with pointer events on the canvas; the browser must end
/// with a prediction and a canvas per feature map.
final class BrowserPageTests: XCTestCase {
    func testScriptedStrokeGivesAPredictionAndFeatureMaps() throws {
        guard let browser = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first(where: FileManager.default.isExecutableFile) else {
            throw XCTSkip("chromium is not installed (apt-get install chromium); the visualizer was not tried in a browser")
        }
        let made = try ServingFixture.get()
        let server = try InferenceServer(service: try InferenceService(weights: made.weights), port: 0)
        let port = try server.start()
        defer { server.shutdown() }
        let profile = try makeTemporaryDirectory()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: browser)
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=" + profile.path,
                             "--window-size=1300,1000", "--virtual-time-budget=10000", "--dump-dom",
                             "http://127.0.0.1:\(port)/?selftest"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let dom = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        XCTAssertTrue(dom.contains("data-selftest=\"done\""), "the self-test did not finish:\n\(dom.prefix(2000))")
        let status = dom.components(separatedBy: "<div id=\"status\"").dropFirst().first?.components(separatedBy: "</div>").first ?? ""
        XCTAssertTrue(status.contains("prediction: "), status)
        XCTAssertTrue(status.contains("data-prediction=\""), status)
        // 6 + 6 + 16 + 16 feature maps and three dense strips.
        XCTAssertGreaterThanOrEqual(dom.components(separatedBy: "class=\"map").count - 1, 44, "feature-map canvases")
        XCTAssertEqual(dom.components(separatedBy: "class=\"dense").count - 1, 3, "dense strips")
        XCTAssertEqual(dom.components(separatedBy: "class=\"bar").count - 1, 10, "one probability bar per class")
    }
}
