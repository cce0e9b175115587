import Datasets
import Foundation
import FoveaTestSupport
import Serving
import XCTest

/// `fovea serve` as a separate process under hostile traffic (issue 29, findings 1-5): every
/// attack is answered with a 4xx or a closed connection, while a client sending valid
/// requests alongside keeps being answered, and the server's peak memory stays under 500 MB.
final class ServeHostileTrafficTests: XCTestCase {
    /// LeNet-5 weights, trained briefly once for the class.
    static let weights: Result<URL, Error> = Result {
        let run = FileManager.default.temporaryDirectory.appendingPathComponent("fovea-hostile-\(getpid())/run")
        let trained = try runFovea(["train", "--train-images", "2000", "--test-images", "100", "--quiet", "--no-report", "--output", run.path])
        guard trained.status == 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: trained.stderr]) }
        return run.appendingPathComponent("model.safetensors")
    }

    /// A digit as PNG bytes.
    static let digit: Result<[UInt8], Error> = Result {
        try PNG.encode(Image(tensor: MNIST.load(split: .test, from: bundledMNISTDirectory, verify: false).subset([0]).images))
    }

    /// Starts `fovea serve` with `options` on a free port, its request log off.
    func serve(_ options: [String], files: Int? = nil) throws -> (Process, UInt16) {
        let (process, port, _) = try startServe(["--weights", try Self.weights.get().path, "--port", "0", "--log-level", "error"] + options,
                                                openFiles: files)
        return (process, port)
    }

    /// The process's peak resident memory in MB (`VmHWM`).
    func peakMegabytes(_ process: Process) throws -> Double {
        let status = try String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)
        let line = try XCTUnwrap(status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") })
        return try XCTUnwrap(Double(line.split(separator: " ")[1])) / 1024
    }

    /// Sends `bytes` on a new connection and returns the answer's status, or nil when the
    /// server closed the connection instead of answering.
    func status(after bytes: [UInt8], port: UInt16, halfClose: Bool = false) throws -> Int? {
        let client = try LoopbackClient(port: port, timeout: 15)
        do {
            try client.write(bytes)
            if halfClose { client.closeWriting() }
            return try client.readResponse().status
        } catch LoopbackClient.ClientError.closed {
            return nil
        }
    }

    func assertRefused(_ bytes: [UInt8], _ what: String, port: UInt16, halfClose: Bool = false,
                       file: StaticString = #filePath, line: UInt = #line) throws {
        let answer = try status(after: bytes, port: port, halfClose: halfClose)
        XCTAssertTrue(answer.map { (400..<500).contains($0) } ?? true, "\(what): answered \(answer.map(String.init) ?? "closed")",
                      file: file, line: line)
    }

    func testAttacksAreRefusedWhileValidRequestsAreAnswered() throws {
        let (process, port) = try serve(["--timeout", "2", "--idle-timeout", "1"])
        let digit = try Self.digit.get()
        let valid = ValidTraffic(port: port, body: digit)
        valid.start()

        func request(_ head: String, _ body: [UInt8] = []) -> [UInt8] { Array(head.utf8) + body }
        // Finding 1: the overflow that ended the process.
        let overflow = Array(#"{"pixels":[0],"width":10000000000,"height":10000000000}"#.utf8)
        XCTAssertEqual(try status(after: request("POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(overflow.count)\r\n\r\n", overflow), port: port), 413)
        // Finding 2: a 100 KB header line, three 1 MB lines, and 93 MB of headers.
        try assertRefused(request("GET /v1/model HTTP/1.1\r\nHost: x\r\nX-Big: " + String(repeating: "a", count: 100_000) + "\r\n\r\n"), "100 KB header", port: port)
        for _ in 0..<3 {
            try assertRefused(request("GET /v1/model HTTP/1.1\r\nHost: x\r\nX-Big: " + String(repeating: "a", count: 1 << 20) + "\r\n\r\n"), "1 MB header", port: port)
        }
        let many = String(repeating: "X-Filler: " + String(repeating: "b", count: 1000) + "\r\n", count: 93_000)
        try assertRefused(request("GET /v1/model HTTP/1.1\r\nHost: x\r\n" + many + "\r\n"), "93 MB of headers", port: port)
        // Finding 4: a 65-byte PNG declaring 16384x16384 RGBA16.
        let bomb = pngDeclaring(width: 16384, height: 16384)
        XCTAssertEqual(try status(after: request("POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: \(bomb.count)\r\n\r\n", bomb), port: port), 413)
        // Finding 5: a body shorter than its length, a bad chunk size, a pixel of 1e39.
        try assertRefused(request("POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc"), "short body", port: port, halfClose: true)
        XCTAssertEqual(try status(after: request("POST /v1/predict HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"), port: port), 400)
        let huge = Array(#"{"pixels":[[1e39]]}"#.utf8)
        XCTAssertEqual(try status(after: request("POST /v1/activations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(huge.count)\r\n\r\n", huge), port: port), 400)
        // A body over the limit.
        try assertRefused(request("POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n"), "100 MB body", port: port)

        // Findings 3 and 5: 200 slowloris connections and 64 stalled uploads.
        let slow = try (0..<200).map { _ in try LoopbackClient(port: port, timeout: 15) }
        for client in slow { try client.write(Array("GET /v1/model HTTP/1.1\r\nHost: x\r\n".utf8)) }
        let stalled = try (0..<64).map { _ in try LoopbackClient(port: port, timeout: 15) }
        for client in stalled {
            try client.write(Array("POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: 100000\r\n\r\n".utf8) + Array(digit.prefix(100)))
        }
        Thread.sleep(forTimeInterval: 0.5)
        for client in slow { try? client.write(Array("X-Slow: 1\r\n".utf8)) }   // a header line now and then
        let closedSlow = slow.filter { $0.waitForClose(timeout: 4) }.count
        XCTAssertEqual(closedSlow, 200, "slowloris connections closed by the idle timeout (1 s)")
        let closedStalled = stalled.filter { $0.waitForClose(timeout: 4) }.count
        XCTAssertEqual(closedStalled, 64, "stalled uploads cut after the request timeout (2 s)")

        let report = valid.stop()
        XCTAssertGreaterThan(report.latencies.count, 20)
        XCTAssertEqual(report.failures, 0, "valid requests answered 200 throughout")
        let sorted = report.latencies.sorted()
        let p99 = sorted[min(sorted.count - 1, Int(Double(sorted.count) * 0.99))]
        print(String(format: "valid requests during the attacks: %d, p50 %.2f ms, p99 %.2f ms, max %.2f ms",
                     sorted.count, sorted[sorted.count / 2], p99, sorted.last!))
        // Not a speed goal (that is `fovea bench --server --hostile`): before the fix, a valid
        // request waited over 10 s behind three 1 MB header lines.
        XCTAssertLessThan(sorted.last!, 1000, "no valid request was stalled behind an attack")
        XCTAssertTrue(process.isRunning)
        let peak = try peakMegabytes(process)
        print(String(format: "fovea serve peak memory: %.0f MB", peak))
        XCTAssertLessThan(peak, 500)
        XCTAssertEqual(try LoopbackClient(port: port).send("GET", "/v1/model").status, 200)
    }

    /// Finding 3: out of file descriptors, the server paused accepting and ended ("Accept(24):
    /// Too many open files"); now it keeps serving once connections close.
    func testRunningOutOfFileDescriptorsIsSurvived() throws {
        let (process, port) = try serve(["--idle-timeout", "1"], files: 64)
        var held: [LoopbackClient] = []
        for _ in 0..<100 { if let client = try? LoopbackClient(port: port, timeout: 5) { held.append(client) } }
        Thread.sleep(forTimeInterval: 0.5)
        XCTAssertTrue(process.isRunning, "the server lives through EMFILE")
        held.removeAll()
        Thread.sleep(forTimeInterval: 2)
        let answer = try LoopbackClient(port: port).send("POST", "/v1/predict", body: try Self.digit.get(), headers: ["Content-Type": "image/png"])
        XCTAssertEqual(answer.status, 200)
        XCTAssertTrue(process.isRunning)
    }
}

/// One client that posts a digit every 10 ms on its own thread, recording latencies and
/// failures, until stopped.
final class ValidTraffic: @unchecked Sendable {
    struct Report { var latencies: [Double] = []; var failures = 0 }
    private let port: UInt16
    private let body: [UInt8]
    private let lock = NSLock()
    private var report = Report()
    private var running = true
    private let done = DispatchSemaphore(value: 0)

    init(port: UInt16, body: [UInt8]) { self.port = port; self.body = body }

    func start() {
        Thread.detachNewThread { [self] in
            var client = try? LoopbackClient(port: port, timeout: 10)
            while lock.withLock({ running }) {
                let start = Date()
                let status = try? client?.send("POST", "/v1/predict", body: body, headers: ["Content-Type": "image/png"]).status
                let ms = Date().timeIntervalSince(start) * 1000
                lock.withLock {
                    report.latencies.append(ms)
                    if status != 200 { report.failures += 1 }
                }
                // The server closes idle keep-alive connections; reconnect when that happened.
                if status == nil { client = try? LoopbackClient(port: port, timeout: 10) }
                Thread.sleep(forTimeInterval: 0.01)
            }
            done.signal()
        }
    }

    func stop() -> Report {
        lock.withLock { running = false }
        done.wait()
        return lock.withLock { report }
    }
}

