import Datasets
import Foundation
import FoveaTestSupport
import Serving
import XCTest

/// `fovea serve` as a separate process, spoken to over loopback.
final class ServeCommandTests: XCTestCase {
    /// Starts `fovea serve` on a free port and returns the process and the port it printed.
    func serve(_ weights: URL) throws -> (Process, UInt16) {
        let (process, port, banner) = try startServe(["--weights", weights.path, "--port", "0"])
        XCTAssertTrue(banner.hasPrefix("Serving lenet5 (input 1x28x28, 10 classes) at http://127.0.0.1:"), banner)
        return (process, port)
    }

    func testServerAnswersEqualFoveaPredict() throws {
        let run = try makeTemporaryDirectory().appendingPathComponent("run")
        let trained = try runFovea(["train", "--train-images", "3000", "--test-images", "100", "--quiet", "--no-report", "--output", run.path])
        XCTAssertEqual(trained.status, 0, trained.stderr)
        let weights = run.appendingPathComponent("model.safetensors")
        let (_, port) = try serve(weights)
        let client = try LoopbackClient(port: port)
        XCTAssertEqual(try client.send("GET", "/").status, 200)

        let test = try MNIST.load(split: .test, from: bundledMNISTDirectory).subset(0..<3)
        let folder = try makeTemporaryDirectory()
        for i in 0..<3 {
            let image = try Image(tensor: test.subset([i]).images)
            let png = folder.appendingPathComponent("digit\(i).png"), jpg = folder.appendingPathComponent("digit\(i).jpg")
            try PNG.write(image, to: png)
            try JPEG.write(image, to: jpg)
            for file in [png, jpg] {
                let predicted = try runFovea(["predict", "--weights", weights.path, file.path])
                XCTAssertEqual(predicted.status, 0, predicted.stderr)
                // "  7  0.991234  ####..." lines, in class order after sorting by name.
                var cli: [String: Double] = [:]
                for line in predicted.stdout.split(separator: "\n").dropFirst() {
                    let fields = line.split(separator: " ")
                    cli[String(fields[0])] = Double(fields[1])
                }
                let body = Array(try Data(contentsOf: file))
                let answer = try client.send("POST", "/v1/predict", body: body, headers: ["Content-Type": file.pathExtension == "png" ? "image/png" : "image/jpeg"])
                XCTAssertEqual(answer.status, 200)
                let p = try XCTUnwrap(answer.json?["probabilities"] as? [Double])
                let names = try XCTUnwrap(answer.json?["classes"] as? [String])
                XCTAssertEqual(cli.count, 10)
                for (name, value) in zip(names, p) {
                    XCTAssertEqual(cli[name] ?? -1, value, accuracy: 5.1e-7, "\(file.lastPathComponent) class \(name)")
                }
            }
        }
    }

    func testBadServeArguments() throws {
        try assertFails(["serve", "--weights", "/nonexistent/model.safetensors"], mentioning: ["/nonexistent/model.safetensors"])
        try assertFails(["serve", "--weights", "x", "--port", "70000"], mentioning: ["--port", "70000"])
        try assertFails(["serve", "--weights", "x", "--max-concurrent", "0"], mentioning: ["--max-concurrent", "0"])
        try assertFails(["serve", "--weights", "x", "--timeout", "-1"], mentioning: ["--timeout"])
    }
}
