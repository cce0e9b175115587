import Foundation
import Hummingbird
import Logging
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// A static-file HTTP server on 127.0.0.1 for download tests (Hummingbird on a free port).
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
        let ready = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var listening: Int?
        let responder = CallbackResponder<BasicRequestContext> { [weak self] request, _ in
            self?.respond(to: request) ?? Response(status: .serviceUnavailable)
        }
        let app = Application(responder: responder, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in listening = channel.localAddress?.port; ready.signal() },
                              logger: Logger(label: "test-files", factory: { _ in SwiftLogNoOpLogHandler() }))
        task = Task {
            try? await app.run()
            ready.signal()
        }
        _ = ready.wait(timeout: .now() + 10)
        guard let listening else { throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "test server did not start"]) }
        port = UInt16(listening)
    }

    deinit { stop() }

    /// Stops the server and waits for it to end.
    public func stop() {
        guard let task else { return }
        self.task = nil
        let done = DispatchSemaphore(value: 0)
        Task {
            task.cancel()
            await task.value
            done.signal()
        }
        done.wait()
    }

    private func respond(to request: Hummingbird.Request) -> Response {
        let range = request.headers[.range]
        let path = request.uri.path
        let name = String(path.drop { $0 == "/" })
        let (file, honours): ([UInt8]?, Bool) = lock.withLock {
            _requests.append(Request(path: path, range: range))
            return (_files[name], _honoursRanges)
        }
        func answer(_ status: HTTPResponse.Status, _ headers: HTTPFields = [:], _ body: some Sequence<UInt8> = [UInt8]()) -> Response {
            let bytes = Array(body)
            var headers = headers
            headers[.contentLength] = "\(bytes.count)"
            return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        guard let file else { return answer(.notFound, [:], Array("no such file: \(name)\n".utf8)) }
        if honours, let range, range.hasPrefix("bytes="), range.hasSuffix("-"),
           let start = Int(range.dropFirst(6).dropLast()) {
            guard start < file.count else { return answer(.rangeNotSatisfiable, [.contentRange: "bytes */\(file.count)"]) }
            return answer(.partialContent, [.contentRange: "bytes \(start)-\(file.count - 1)/\(file.count)", .acceptRanges: "bytes"],
                          file[start...])
        }
        return answer(.ok, [.acceptRanges: honours ? "bytes" : "none"], file)
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
