import Foundation
import Fovea
import FuzzSupport
#if canImport(Glibc)
import Glibc
#endif

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> Int32 {
    FuzzTarget.initialize(seeds: seeds)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    FuzzTarget.run(data, size, body)
}

/// The whole server: the input is sent as raw bytes on a new loopback connection to a real
/// `InferenceServer` (Hummingbird, LeNet-5) in this process, the sending side is closed, and
/// every answer is read until the server closes the connection. Besides crashes, the oracle
/// is the status: a 5xx other than 503 is a defect (a client's bytes must never be the
/// server's fault), and so is a connection the server does not close within 10 s.
func body(_ bytes: [UInt8]) throws {
    let fd = connectToServer()
    defer { close(fd) }
    var sent = 0
    while sent < bytes.count {
        let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { break }   // the server closed early: a refusal
        sent += n
    }
    shutdown(fd, Int32(SHUT_WR))
    var answer: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n == 0 { break }
        if n < 0 {
            if errno == EINTR { continue }   // libFuzzer's timer signal
            if errno == ECONNRESET { break }
            fatalError("the server neither answered nor closed the connection within 10 s (errno \(errno))")
        }
        answer += chunk[0..<n]
    }
    for status in statuses(answer) where status >= 500 && status != 503 {
        fatalError("the server answered \(status) to a client's bytes: \(String(decoding: answer.prefix(400), as: UTF8.self))")
    }
}

/// A new connection to the server, with a 10 s limit on each read. A connect interrupted by
/// libFuzzer's timer signal (EINTR) is tried again on a fresh socket.
func connectToServer() -> Int32 {
    for _ in 0..<10 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { fatalError("no socket: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var tv = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if connected == 0 { return fd }
        let error = errno
        close(fd)
        guard error == EINTR else { fatalError("cannot connect to the server: errno \(error)") }
    }
    fatalError("cannot connect to the server: interrupted ten times")
}

/// The status codes of the responses in `answer` ("HTTP/1.1 NNN" at the start of each).
func statuses(_ answer: [UInt8]) -> [Int] {
    let text = String(decoding: answer, as: UTF8.self)
    return text.components(separatedBy: "HTTP/1.1 ").dropFirst().compactMap { Int($0.prefix(3)) }
}

/// The server, started once per process on a free loopback port.
let port: UInt16 = {
    let server = try! InferenceServer(service: InferenceService(classifier: Fixtures.classifier), port: 0,
                                      limits: .init(maxBodyBytes: 1 << 20, timeout: 2, idleTimeout: 1))
    let port = try! server.start()
    servers.append(server)
    return port
}()
nonisolated(unsafe) var servers: [InferenceServer] = []

func seeds() throws -> [String: [UInt8]] {
    let png = try PNG.encode(Fixtures.digit)
    let json = Array(#"{"pixels": [[0, 0.5, 1], [0.25, 0.75, 0]]}"#.utf8)
    func post(_ path: String, _ type: String, _ body: [UInt8]) -> [UInt8] {
        Array("POST \(path) HTTP/1.1\r\nHost: fuzz\r\nContent-Type: \(type)\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body
    }
    return [
        "get-page": Array("GET / HTTP/1.1\r\nHost: fuzz\r\n\r\n".utf8),
        "get-model": Array("GET /v1/model HTTP/1.1\r\nHost: fuzz\r\nConnection: close\r\n\r\n".utf8),
        "get-metrics": Array("GET /metrics HTTP/1.1\r\nHost: fuzz\r\n\r\n".utf8),
        "predict-png": post("/v1/predict", "image/png", png),
        "activations-json": post("/v1/activations", "application/json", json),
        "chunked-json": Array("POST /v1/predict HTTP/1.1\r\nHost: fuzz\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n\(String(json.count, radix: 16))\r\n".utf8)
            + json + Array("\r\n0\r\n\r\n".utf8),
        "pipelined": Array("GET /v1/model HTTP/1.1\r\nHost: fuzz\r\n\r\n".utf8) + post("/v1/predict", "application/json", json)
            + Array("HEAD / HTTP/1.0\r\n\r\n".utf8),
    ]
}
