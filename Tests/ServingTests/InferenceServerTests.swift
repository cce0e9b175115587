import Foundation
import FoveaTestSupport
import Fovea
import XCTest

/// The server on a loopback port, spoken to over real sockets.
final class InferenceServerTests: XCTestCase {
    func startServer(_ limits: InferenceServer.Limits = .init()) throws -> (InferenceServer, UInt16) {
        let made = try ServingFixture.get()
        let server = try InferenceServer(service: try InferenceService(weights: made.weights), port: 0, limits: limits)
        let port = try server.start()
        addTeardownBlock { server.shutdown() }
        return (server, port)
    }

    func testEveryEndpoint() throws {
        let (_, port) = try startServer()
        let made = try ServingFixture.get()
        let client = try LoopbackClient(port: port)

        let page = try client.send("GET", "/")
        XCTAssertEqual(page.status, 200)
        XCTAssertTrue(page.headers["content-type"]?.hasPrefix("text/html") == true)
        let html = String(decoding: page.body, as: UTF8.self)
        XCTAssertTrue(html.contains("<title>Fovea visualizer</title>"))
        XCTAssertFalse(html.contains("http://") || html.contains("https://"), "no external assets")

        let model = try client.send("GET", "/v1/model")
        XCTAssertEqual(model.status, 200)
        XCTAssertEqual(model.json?["model"] as? String, "lenet5")

        for digit in made.digits.prefix(3) {
            let answer = try client.send("POST", "/v1/predict", body: digit.png, headers: ["Content-Type": "image/png"])
            XCTAssertEqual(answer.status, 200)
            XCTAssertEqual(answer.headers["content-type"], "application/json")
            XCTAssertEqual((answer.json?["probabilities"] as? [Double])?.count, 10)
        }
        let activations = try client.send("POST", "/v1/activations", body: made.digits[0].png, headers: ["Content-Type": "image/png"])
        XCTAssertEqual(activations.status, 200)
        XCTAssertEqual((activations.json?["layers"] as? [[String: Any]])?.count, 7)
    }

    func testBadRequestsGetTheRightStatusAndAJSONError() throws {
        let (_, port) = try startServer(.init(maxBodyBytes: 1 << 20))
        let client = try LoopbackClient(port: port)
        func check(_ method: String, _ path: String, _ body: [UInt8], _ type: String?, _ status: Int, _ code: String,
                   line: UInt = #line) throws {
            let answer = try client.send(method, path, body: body, headers: type.map { ["Content-Type": $0] } ?? [:])
            XCTAssertEqual(answer.status, status, String(decoding: answer.body, as: UTF8.self), line: line)
            let error = answer.json?["error"] as? [String: Any]
            XCTAssertEqual(error?["code"] as? String, code, line: line)
            XCTAssertEqual(error?["status"] as? Int, status, line: line)
            XCTAssertFalse((error?["message"] as? String ?? "").isEmpty, line: line)
        }
        try check("POST", "/v1/predict", [], "image/png", 400, "bad_request")
        try check("POST", "/v1/predict", Array("not an image".utf8), "text/plain", 415, "unsupported_media_type")
        let wide = try PNG.encode(try Image(width: 40, height: 20, channels: 1, pixels: [Float](repeating: 0.5, count: 800)))
        try check("POST", "/v1/predict", wide, "image/png", 422, "bad_shape")
        try check("POST", "/v1/activations", Array("{\"pixels\": [[0.5]]}".utf8), "application/json", 422, "bad_shape")
        try check("GET", "/v1/predict", [], nil, 405, "method_not_allowed")
        try check("POST", "/v1/model", [], nil, 405, "method_not_allowed")
        try check("GET", "/etc/passwd", [], nil, 404, "not_found")
        try check("GET", "/../../etc/passwd", [], nil, 404, "not_found")
        try check("GET", "/v1/predict/../../Package.swift", [], nil, 404, "not_found")
        // 50 MB: refused on its Content-Length, the connection still answers afterwards.
        try check("POST", "/v1/predict", [UInt8](repeating: 0x89, count: 50 << 20), "image/png", 413, "body_too_large")
        XCTAssertEqual(try client.send("GET", "/v1/model").status, 200, "the connection survives the refusals")
    }

    func testStalledUploadsAreCutAndExtraRequestsAreRefused() throws {
        let (_, port) = try startServer(.init(maxConcurrent: 1, timeout: 1))
        // One client announces 100,000 bytes and sends 5,000: its request holds the only slot.
        let slow = try LoopbackClient(port: port, timeout: 10)
        try slow.write(Array("POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: 100000\r\n\r\n".utf8)
                       + PNG.signature + [UInt8](repeating: 0, count: 4992))
        Thread.sleep(forTimeInterval: 0.3)
        let other = try LoopbackClient(port: port)
        let busy = try other.send("GET", "/v1/model")
        XCTAssertEqual(busy.status, 503)
        XCTAssertEqual((busy.json?["error"] as? [String: Any])?["code"] as? String, "busy")
        // The stalled upload is cut by the server (timeout + 1 s), not by the client's 10 s.
        let start = Date()
        XCTAssertThrowsError(try slow.readResponse())
        XCTAssertLessThan(Date().timeIntervalSince(start), 8)
        let again = try LoopbackClient(port: port)
        XCTAssertEqual(try again.send("GET", "/v1/model").status, 200, "the slot is free again")
    }

    func testSlowAnswersGet408() throws {
        let (_, port) = try startServer(.init(maxBodyBytes: 64 << 20, timeout: 0.05))
        // A million JSON pixels take far longer than 50 ms to parse.
        let row = "[" + Array(repeating: "0.5", count: 1000).joined(separator: ",") + "]"
        let body = Array(("{\"pixels\": [" + Array(repeating: row, count: 1000).joined(separator: ",") + "]}").utf8)
        let client = try LoopbackClient(port: port)
        let answer = try client.send("POST", "/v1/predict", body: body, headers: ["Content-Type": "application/json"])
        XCTAssertEqual(answer.status, 408)
        let message = (answer.json?["error"] as? [String: Any])?["message"] as? String ?? ""
        XCTAssertEqual((answer.json?["error"] as? [String: Any])?["code"] as? String, "timeout")
        XCTAssertTrue(message.contains("0.05 s"), message)
    }

    /// 16 clients x 500 requests, each on its own keep-alive connection, all answered right.
    func testConcurrentLoadHasNoErrors() throws {
        let (_, port) = try startServer()
        let made = try ServingFixture.get()
        let service = try InferenceService(weights: made.weights)
        let expected = try made.digits.map { try object(service.predict(body: $0.png, contentType: "image/png"))["index"] as? Int }
        let clients = 16, requests = 500
        let failures = UnsafeMutableBufferPointer<Int>.allocate(capacity: clients)
        failures.initialize(repeating: 0)
        defer { failures.deallocate() }
        let shared = Shared(failures: failures, port: port, made: made, expected: expected)
        DispatchQueue.concurrentPerform(iterations: clients) { c in
            guard let client = try? LoopbackClient(port: shared.port) else { shared.failures[c] = requests; return }
            for r in 0..<requests {
                let k = (c + r) % shared.made.digits.count
                let answer = try? client.send("POST", "/v1/predict", body: shared.made.digits[k].png, headers: ["Content-Type": "image/png"])
                if answer?.status != 200 || answer?.json?["index"] as? Int != shared.expected[k] { shared.failures[c] += 1 }
            }
        }
        XCTAssertEqual(failures.reduce(0, +), 0, "\(clients * requests) requests, every one answered 200 with the right class")
    }

    func testAPortInUseIsAClearError() throws {
        let (_, port) = try startServer()
        let made = try ServingFixture.get()
        let second = try InferenceServer(service: try InferenceService(weights: made.weights), port: port)
        XCTAssertThrowsError(try second.start(timeout: 3))
    }
}

/// What the load test's threads share (read-only but for their own failure slot).
private struct Shared: @unchecked Sendable {
    let failures: UnsafeMutableBufferPointer<Int>
    let port: UInt16
    let made: ServingFixture.Made
    let expected: [Int?]
}
