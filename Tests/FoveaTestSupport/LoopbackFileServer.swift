import FlyingFox
import FlyingSocks
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A static-file HTTP server on 127.0.0.1 for download tests (FlyingFox on a free port).
///
/// `GET /<name>` answers `files[name]`; `Range: bytes=N-` is answered `206` with
/// `Content-Range: bytes N-<last>/<total>` (or `416` past the end) unless `honoursRanges` is
/// false, when the whole file comes back with `200`, as from a server without range support.
/// Every request's path and `Range` header is recorded in `requests`.
///
/// It runs on Swift concurrency threads, so a test may block its own thread (waiting on a
/// child process, say) while the server answers.
public final class LoopbackFileServer: @unchecked Sendable {
    /// A request as the server saw it.
    public struct Request: Sendable, Equatable {
        public var path: String
        public var range: String?

        public init(path: String, range: String?) { self.path = path; self.range = range }
    }

    private let server: HTTPServer
    private let lock = NSLock()
    private var _files: [String: [UInt8]]
    private var _honoursRanges: Bool
    private var _requests: [Request] = []
    private var task: Task<Void, Never>?
    /// The port it listens on.
    public private(set) var port: UInt16 = 0

    /// The files served, by path below the root (`"train-labels-idx1-ubyte.gz"`).
    public var files: [String: [UInt8]] {
        get { lock.withLock { _files } } set { lock.withLock { _files = newValue } }
    }
    /// Whether `Range` headers are honoured (206) or ignored (200 with the whole file).
    public var honoursRanges: Bool {
        get { lock.withLock { _honoursRanges } } set { lock.withLock { _honoursRanges = newValue } }
    }
    /// The requests received so far, in order.
    public var requests: [Request] { lock.withLock { _requests } }
    /// `http://127.0.0.1:<port>/`, the mirror URL to pass a downloader.
    public var baseURL: URL { URL(string: "http://127.0.0.1:\(port)/")! }

    /// Starts serving `files` and blocks until the socket listens.
    public init(files: [String: [UInt8]], honoursRanges: Bool = true) throws {
        _files = files
        _honoursRanges = honoursRanges
        server = HTTPServer(config: .init(address: try .inet(ip4: "127.0.0.1", port: 0), timeout: 30, logger: .disabled))
        let server = self.server
        let ready = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var listening: UInt16?
        let handler: @Sendable (HTTPRequest) async -> HTTPResponse = { [weak self] request in
            self?.respond(to: request) ?? HTTPResponse(statusCode: .serviceUnavailable)
        }
        task = Task {
            await server.appendRoute("*", handler: handler)
            try? await server.run()
        }
        Task {
            try? await server.waitUntilListening(timeout: 10)
            if case .ip4(_, let port)? = await server.listeningAddress { listening = port }
            ready.signal()
        }
        ready.wait()
        guard let listening else { throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "test server did not start"]) }
        port = listening
    }

    deinit { stop() }

    /// Stops the server and waits for it to end.
    public func stop() {
        guard let task else { return }
        self.task = nil
        let done = DispatchSemaphore(value: 0)
        let server = self.server
        Task {
            await server.stop(timeout: 0.2)
            task.cancel()
            await task.value
            done.signal()
        }
        done.wait()
    }

    private func respond(to request: HTTPRequest) -> HTTPResponse {
        let range = request.headers[.range]
        let name = String(request.path.drop { $0 == "/" })
        let (file, honours): ([UInt8]?, Bool) = lock.withLock {
            _requests.append(Request(path: request.path, range: range))
            return (_files[name], _honoursRanges)
        }
        guard let file else { return HTTPResponse(statusCode: .notFound, body: Data("no such file: \(name)\n".utf8)) }
        if honours, let range, range.hasPrefix("bytes="), range.hasSuffix("-"),
           let start = Int(range.dropFirst(6).dropLast()) {
            guard start < file.count else {
                return HTTPResponse(statusCode: .rangeNotSatisfiable, headers: HTTPHeaders([.contentRange: "bytes */\(file.count)"]))
            }
            return HTTPResponse(statusCode: .partialContent,
                                headers: HTTPHeaders([.contentRange: "bytes \(start)-\(file.count - 1)/\(file.count)", .acceptRanges: "bytes"]),
                                body: Data(file[start...]))
        }
        return HTTPResponse(statusCode: .ok, headers: HTTPHeaders([.acceptRanges: honours ? "bytes" : "none"]), body: Data(file))
    }

    /// A loopback port with nothing listening on it: bound to a fresh socket, then closed.
    public static func closedPort() throws -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw POSIXError(.EADDRNOTAVAIL) }
        return UInt16(bigEndian: address.sin_port)
    }
}
