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

        let metrics = try client.send("GET", "/metrics")
        XCTAssertEqual(metrics.status, 200)
        let text = String(decoding: metrics.body, as: UTF8.self)
        XCTAssertTrue(text.contains("fovea_http_requests_total{route=\"/v1/predict\",status=\"200\"} 3"), text)
        XCTAssertTrue(text.contains("fovea_http_connections_open 1"), text)
        XCTAssertTrue(text.contains("# TYPE fovea_http_request_duration_seconds histogram"), text)
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

        // Issue 29, finding 1: width x height overflowed and ended the process.
        try check("POST", "/v1/predict", Array(#"{"pixels":[0],"width":10000000000,"height":10000000000}"#.utf8), "application/json",
                  413, "body_too_large")
        try check("POST", "/v1/predict", Array(#"{"pixels":[0],"width":9223372036854775807,"height":2,"channels":4}"#.utf8), "application/json",
                  413, "body_too_large")
        // Finding 5: a pixel of 1e39 is finite as a Double, infinite as a Float.
        try check("POST", "/v1/activations", Array(#"{"pixels":[[1e39]]}"#.utf8), "application/json", 400, "bad_request")
        // Finding 4: a 65-byte PNG declaring 16384x16384 RGBA16 is refused from its header.
        try check("POST", "/v1/predict", pngDeclaring(width: 16384, height: 16384), "image/png", 413, "body_too_large")
        XCTAssertEqual(try client.send("GET", "/v1/model").status, 200)

        // Finding 5: a body shorter than its Content-Length, and a broken chunk size: 400, never
        // 500 with Swift's debug text.
        let short = try LoopbackClient(port: port)
        try short.write(Array("POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc".utf8))
        short.closeWriting()
        let cut = try short.readResponse()
        XCTAssertEqual(cut.status, 400, String(decoding: cut.body, as: UTF8.self))
        let chunked = try LoopbackClient(port: port)
        try chunked.write(Array("POST /v1/predict HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n".utf8))
        XCTAssertEqual(try chunked.readResponse().status, 400)
    }

    /// A stalled upload is cut at the timeout and holds no slot meanwhile (issue 29,
    /// finding 5: 64 stalled uploads used to lock every client out with 503).
    func testStalledUploadsAreCutAndHoldNoSlot() throws {
        let (_, port) = try startServer(.init(maxConcurrent: 1, timeout: 1))
        // Two clients announce 100,000 bytes and send 5,000.
        let stalled = try (0..<2).map { _ in try LoopbackClient(port: port, timeout: 10) }
        for client in stalled {
            try client.write(Array("POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: 100000\r\n\r\n".utf8)
                             + PNG.signature + [UInt8](repeating: 0, count: 4992))
        }
        Thread.sleep(forTimeInterval: 0.3)
        let made = try ServingFixture.get()
        let other = try LoopbackClient(port: port)
        XCTAssertEqual(try other.send("POST", "/v1/predict", body: made.digits[0].png, headers: ["Content-Type": "image/png"]).status, 200,
                       "the only slot is free while bodies are uploading")
        // The stalled uploads get 408 from the server (its timeout, 1 s), then their connections close.
        let start = Date()
        for client in stalled {
            let answer = try client.readResponse()
            XCTAssertEqual(answer.status, 408)
            XCTAssertThrowsError(try client.readResponse(), "the connection is closed after the 408")
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
    }

    /// A million JSON pixels: a few hundred milliseconds of parsing.
    private static let millionPixels: [UInt8] = {
        let row = "[" + Array(repeating: "0.5", count: 1000).joined(separator: ",") + "]"
        return Array(("{\"pixels\": [" + Array(repeating: row, count: 1000).joined(separator: ",") + "]}").utf8)
    }()

    /// More requests than `maxConcurrent` being computed at once get 503.
    func testRequestsOverTheLimitGet503() throws {
        let (_, port) = try startServer(.init(maxBodyBytes: 64 << 20, maxConcurrent: 1, timeout: 20))
        let body = Self.millionPixels
        let heavy = try LoopbackClient(port: port)
        try heavy.write(Array("POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body)
        Thread.sleep(forTimeInterval: 0.15)
        let busy = try LoopbackClient(port: port).send("POST", "/v1/predict", body: Array("{\"pixels\": [[0.5]]}".utf8),
                                                         headers: ["Content-Type": "application/json"])
        XCTAssertEqual(busy.status, 503, String(decoding: busy.body, as: UTF8.self))
        XCTAssertEqual((busy.json?["error"] as? [String: Any])?["code"] as? String, "busy")
        XCTAssertEqual(try heavy.readResponse().status, 422, "the heavy request is answered (a 1000x1000 image is the wrong shape)")
    }

    func testSlowAnswersGet408() throws {
        let (_, port) = try startServer(.init(maxBodyBytes: 64 << 20, timeout: 0.3))
        let client = try LoopbackClient(port: port)
        let body = Self.millionPixels
        try client.write(Array("POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body)
        let sent = Date()
        let answer = try client.readResponse()
        // The answer would have been an error (422: the wrong shape) after parsing a million
        // JSON numbers; the timeout holds for errors too (issue 29, finding 4), and the 408 is
        // sent on time, not when the parsing ends.
        XCTAssertEqual(answer.status, 408)
        XCTAssertLessThan(Date().timeIntervalSince(sent), 0.3 + 2)
        let message = (answer.json?["error"] as? [String: Any])?["message"] as? String ?? ""
        XCTAssertEqual((answer.json?["error"] as? [String: Any])?["code"] as? String, "timeout")
        XCTAssertTrue(message.contains("0.3 s"), message)
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
