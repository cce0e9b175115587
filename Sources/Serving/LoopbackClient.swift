import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A minimal blocking HTTP/1.1 client for one keep-alive connection to a server on this
/// machine: what the tests and `fovea bench --server` use to talk to `InferenceServer` as a
/// separate program would, over a real socket. Not a general client (no TLS, no redirects,
/// no chunked responses).
public final class LoopbackClient {
    /// One answer.
    public struct Response: Sendable {
        public let status: Int
        public let headers: [String: String]
        public let body: [UInt8]
        /// The body as a JSON object, when it is one.
        public var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] }
    }

    public enum ClientError: Error, CustomStringConvertible {
        case connect(String), closed, malformed(String)
        public var description: String {
            switch self {
            case .connect(let m): return "cannot connect: \(m)"
            case .closed: return "the server closed the connection"
            case .malformed(let m): return "malformed response: \(m)"
            }
        }
    }

    private let fd: Int32
    private var buffer: [UInt8] = []

    /// Connects to `host` (IPv4) and `port`, with `timeout` seconds for each read and write.
    public init(host: String = "127.0.0.1", port: UInt16, timeout: Double = 30) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ClientError.connect(String(cString: strerror(errno))) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        inet_pton(AF_INET, host, &address.sin_addr)
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let message = String(cString: strerror(errno))
            close(fd)
            throw ClientError.connect("\(host):\(port): \(message)")
        }
    }

    deinit { close(fd) }

    /// Sends one request and reads the answer. `headers` are added as given.
    public func send(_ method: String, _ path: String, body: [UInt8] = [], headers: [String: String] = [:]) throws -> Response {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: localhost\r\nContent-Length: \(body.count)\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        try write(Array((head + "\r\n").utf8) + body)
        return try readResponse()
    }

    /// Sends raw bytes (for malformed or oversized requests).
    public func write(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw ClientError.closed }
            sent += n
        }
    }

    /// Waits up to `timeout` seconds for the server to close the connection; true if it did
    /// (end of file or a reset), false if the connection is still open then.
    public func waitForClose(timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let left = deadline.timeIntervalSinceNow
            guard left > 0, poll(&p, 1, Int32(left * 1000) + 1) >= 0 else { return false }
            guard p.revents != 0 else { continue }
            var byte: UInt8 = 0
            let n = recv(fd, &byte, 1, Int32(MSG_DONTWAIT))
            if n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) { return true }
            // Bytes of an answer: keep reading until the close.
        }
    }

    /// Closes the sending side (the server reads end of file; answers still arrive).
    public func closeWriting() { shutdown(fd, Int32(SHUT_WR)) }

    /// Reads one response (headers, then `Content-Length` bytes of body).
    public func readResponse() throws -> Response {
        var searched = 0
        let end: Int = try {
            while true {
                if let i = find([13, 10, 13, 10], from: searched) { return i }
                searched = max(0, buffer.count - 3)
                try fill()
            }
        }()
        let head = String(decoding: buffer[0..<end], as: UTF8.self).components(separatedBy: "\r\n")
        buffer.removeFirst(end + 4)
        let statusLine = head.first?.split(separator: " ") ?? []
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { throw ClientError.malformed(head.first ?? "") }
        var headers: [String: String] = [:]
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        while buffer.count < length { try fill() }
        let body = Array(buffer[0..<length])
        buffer.removeFirst(length)
        return Response(status: status, headers: headers, body: body)
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { throw ClientError.closed }
        buffer += chunk[0..<n]
    }

    /// The first index at or after `start` where `pattern` begins in the buffer.
    private func find(_ pattern: [UInt8], from start: Int) -> Int? {
        guard buffer.count >= pattern.count, start <= buffer.count - pattern.count else { return nil }
        for i in start...(buffer.count - pattern.count) where buffer[i] == pattern[0] && buffer[i..<(i + pattern.count)].elementsEqual(pattern) { return i }
        return nil
    }
}
