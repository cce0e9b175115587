import FlyingFox
import FlyingSocks
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The HTTP face of an `InferenceService` (FlyingFox, Swift concurrency, non-blocking sockets).
///
/// | route | answer |
/// |---|---|
/// | `GET /` | the visualizer page (HTML, CSS and JavaScript in one file, no external assets) |
/// | `GET /v1/model` | the model: name, input, classes, layers, first filters (JSON) |
/// | `POST /v1/predict` | class probabilities and timings for a PNG, JPEG or JSON-pixels body |
/// | `POST /v1/activations` | every layer's output for the same kinds of body |
///
/// Anything else is a 404 (a wrong method on a known path, 405); only these routes exist, so
/// no file outside the page is ever served. Limits: bodies over `maxBodyBytes` get 413
/// (checked on `Content-Length` before reading, and while reading a chunked body); more than
/// `maxConcurrent` requests in flight get 503; a request not answered within `timeout`
/// seconds gets 408; a connection that sends nothing for a second longer than that is closed
/// (see `ConnectionPool`), which is what a stalled upload gets: FlyingFox reads a body to its
/// end before it sends any answer. Every error is JSON: `{"error": {"code", "message", "status"}}`.
public final class InferenceServer: Sendable {
    public struct Limits: Sendable {
        public var maxBodyBytes: Int
        public var maxConcurrent: Int
        public var timeout: Double

        public init(maxBodyBytes: Int = 8 << 20, maxConcurrent: Int = 64, timeout: Double = 10) {
            self.maxBodyBytes = maxBodyBytes; self.maxConcurrent = maxConcurrent; self.timeout = timeout
        }
    }

    public let service: InferenceService
    public let limits: Limits
    let server: HTTPServer
    private let gate: Gate

    /// A server for `service` on `host` (an IPv4 address, loopback by default) and `port`
    /// (0 picks a free port; see `port()` once listening).
    public init(service: InferenceService, host: String = "127.0.0.1", port: UInt16 = 8080, limits: Limits = Limits()) throws {
        self.service = service
        self.limits = limits
        self.gate = Gate(limit: limits.maxConcurrent)
        let address: sockaddr_in
        do { address = try .inet(ip4: host, port: port) } catch {
            throw ServiceError.badRequest("--host '\(host)' is not an IPv4 address")
        }
        // FlyingFox's own timeout is a backstop behind ours.
        server = HTTPServer(config: .init(address: address, timeout: limits.timeout + 5,
                                          pool: ConnectionPool(HTTPServer.defaultPool(), idleTimeout: limits.timeout + 1),
                                          logger: .disabled))
    }

    /// Serves until the task is cancelled or `stop()` is called.
    public func run() async throws {
        let handler = Router(service: service, limits: limits, gate: gate)
        await server.appendRoute("*", to: handler)
        try await server.run()
    }

    /// Waits until the socket is listening (at most `timeout` seconds).
    public func waitUntilListening(timeout: Double = 5) async throws {
        try await server.waitUntilListening(timeout: timeout)
    }

    /// The port the server listens on (useful after asking for port 0).
    public func port() async -> UInt16? {
        switch await server.listeningAddress {
        case .ip4(_, let port)?, .ip6(_, let port)?: return port
        default: return nil
        }
    }

    /// Stops accepting connections and ends the open ones after at most `timeout` seconds.
    public func stop(timeout: Double = 1) async { await server.stop(timeout: timeout) }

    /// Starts `run()` on a background task and blocks until the socket listens; returns the
    /// port. For synchronous callers (the CLI, tests, benchmarks).
    ///
    /// - Throws: the server's own error (a port in use, say) when it stops before listening,
    ///   or `ServiceError` 503 when it is not listening after `timeout` seconds.
    @discardableResult
    public func start(timeout: Double = 10) throws -> UInt16 {
        let signal = DispatchSemaphore(value: 0)
        let background = self.background
        background.task = Task {
            do { try await self.run() } catch { background.error = error }
            background.finished = true
            signal.signal()
        }
        Task {
            try? await self.waitUntilListening(timeout: timeout)
            background.port = await self.port()
            signal.signal()
        }
        _ = signal.wait(timeout: .now() + timeout + 1)
        if let error = background.error { throw error }
        guard !background.finished, let port = background.port else {
            throw ServiceError.busy("the server is not listening after \(timeout) s")
        }
        return port
    }

    /// Blocks until a server started by `start()` stops (it serves until the process ends or
    /// `shutdown()` is called), and rethrows the error it stopped with.
    public func wait() throws {
        guard let task = background.task else { return }
        let done = DispatchSemaphore(value: 0)
        Task { await task.value; done.signal() }
        done.wait()
        if let error = background.error { throw error }
    }

    /// Stops a server started by `start()` and waits for it to end.
    public func shutdown() {
        let done = DispatchSemaphore(value: 0)
        let task = background.task
        Task {
            await self.stop(timeout: 1)
            task?.cancel()
            await task?.value
            done.signal()
        }
        done.wait()
    }

    private let background = Background()
}

/// The state of a server run by `start()`, shared between its tasks.
private final class Background: @unchecked Sendable {
    private let lock = NSLock()
    private var _task: Task<Void, Never>?
    private var _error: Error?
    private var _finished = false
    private var _port: UInt16?
    var task: Task<Void, Never>? { get { lock.withLock { _task } } set { lock.withLock { _task = newValue } } }
    var error: Error? { get { lock.withLock { _error } } set { lock.withLock { _error = newValue } } }
    var finished: Bool { get { lock.withLock { _finished } } set { lock.withLock { _finished = newValue } } }
    var port: UInt16? { get { lock.withLock { _port } } set { lock.withLock { _port = newValue } } }
}

/// FlyingFox's socket pool with two changes for every connection socket it waits on:
/// - Nagle's algorithm is off. FlyingFox writes a response's header and body separately;
///   with Nagle on, the body waits for the client's delayed ACK of the header, about 40 ms a
///   request on Linux. The pool sees each connection when it first waits for the request,
///   before any write.
/// - A wait longer than `idleTimeout` seconds ends the connection: a client that stops
///   sending half-way through a request (or idles between keep-alive requests) is closed,
///   so slow clients cannot hold connections open for ever. FlyingFox reads bodies of up to
///   4 KB before calling the handler, so this is the only clock on them.
/// The listening socket waits for connections without a limit.
struct ConnectionPool<Inner: AsyncSocketPool>: AsyncSocketPool {
    let inner: Inner
    let idleTimeout: Double
    init(_ inner: Inner, idleTimeout: Double) { self.inner = inner; self.idleTimeout = idleTimeout }

    func prepare() async throws { try await inner.prepare() }
    func run() async throws { try await inner.run() }

    func suspendSocket(_ socket: Socket, untilReadyFor events: Socket.Events) async throws {
        let fd = socket.file.rawValue
        var listening: Int32 = 0
        var size = socklen_t(MemoryLayout<Int32>.size)
        if getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &size) == 0, listening != 0 {
            return try await inner.suspendSocket(socket, untilReadyFor: events)
        }
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        let inner = self.inner, limit = idleTimeout
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await inner.suspendSocket(socket, untilReadyFor: events)
                return true
            }
            group.addTask {
                try await Task.sleep(nanoseconds: UInt64(limit * 1e9))
                return false
            }
            defer { group.cancelAll() }
            guard try await group.next() == true else {
                throw ServiceError.timeout("the client sent nothing for \(limit) s")
            }
        }
    }
}

/// Counts requests in flight and refuses those over the limit.
final class Gate: @unchecked Sendable {
    private let lock = NSLock()
    private var inFlight = 0
    let limit: Int
    init(limit: Int) { self.limit = max(1, limit) }

    func enter() -> Bool {
        lock.withLock {
            guard inFlight < limit else { return false }
            inFlight += 1
            return true
        }
    }

    func leave() { lock.withLock { inFlight -= 1 } }
}

/// Routes, limits and error bodies.
struct Router: HTTPHandler {
    let service: InferenceService
    let limits: InferenceServer.Limits
    let gate: Gate

    func handleRequest(_ request: HTTPRequest) async throws -> HTTPResponse {
        guard gate.enter() else {
            return Router.error(.busy("more than \(limits.maxConcurrent) requests in flight; try again"))
        }
        defer { gate.leave() }
        let start = DispatchTime.now().uptimeNanoseconds
        do {
            let response = try await Router.withTimeout(limits.timeout) { try await self.route(request) }
            // Model calls are synchronous and cannot be interrupted: one that ran past the
            // limit has its answer dropped.
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            guard seconds <= limits.timeout else {
                throw ServiceError.timeout(String(format: "the answer took %.3f s, the limit is %g s", seconds, limits.timeout))
            }
            return response
        } catch let error as ServiceError {
            return Router.error(error)
        } catch {
            return Router.error(ServiceError(status: 500, code: "internal", "\(error)"))
        }
    }

    private func route(_ request: HTTPRequest) async throws -> HTTPResponse {
        let path = request.path
        let method = request.method.rawValue
        switch path {
        case "/", "/index.html":
            guard method == "GET" || method == "HEAD" else { throw ServiceError.methodNotAllowed("\(method) \(path): use GET") }
            return HTTPResponse(statusCode: .ok, headers: [.contentType: "text/html; charset=utf-8", HTTPHeader("Cache-Control"): "no-store"],
                                body: Data(VisualizerPage.html.utf8))
        case "/v1/model":
            guard method == "GET" else { throw ServiceError.methodNotAllowed("\(method) \(path): use GET") }
            return Router.json(try service.modelInfo())
        case "/v1/predict", "/v1/activations":
            guard method == "POST" else { throw ServiceError.methodNotAllowed("\(method) \(path): use POST with an image or JSON body") }
            let body = try await readBody(request)
            let type = request.headers[.contentType]
            return Router.json(path == "/v1/predict" ? try service.predict(body: body, contentType: type)
                                                     : try service.activations(body: body, contentType: type))
        default:
            throw ServiceError.notFound("no route \(method) \(path); the routes are GET /, GET /v1/model, POST /v1/predict, POST /v1/activations")
        }
    }

    /// The body, refused past `maxBodyBytes` (on `Content-Length` first, then while reading).
    /// A refused body is still read to its end and thrown away, never kept: FlyingFox would
    /// otherwise parse its bytes as the next request on the connection. The request timeout
    /// bounds how long that reading can take.
    private func readBody(_ request: HTTPRequest) async throws -> [UInt8] {
        let limit = limits.maxBodyBytes
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            for try await _ in request.bodySequence {}
            throw ServiceError.tooLarge("the body is \(length) bytes, the limit is \(limit)")
        }
        var bytes: [UInt8] = []
        var total = 0
        for try await chunk in request.bodySequence {
            total += chunk.count
            if total <= limit { bytes += chunk }
        }
        guard total <= limit else { throw ServiceError.tooLarge("the body is \(total) bytes, the limit is \(limit)") }
        return bytes
    }

    static func json(_ data: Data) -> HTTPResponse {
        HTTPResponse(statusCode: .ok, headers: [.contentType: "application/json"], body: data)
    }

    static func error(_ error: ServiceError) -> HTTPResponse {
        HTTPResponse(statusCode: HTTPStatusCode(error.status, phrase: phrase(error.status)),
                     headers: [.contentType: "application/json"], body: error.json)
    }

    static func phrase(_ status: Int) -> String {
        [400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 408: "Request Timeout", 413: "Content Too Large",
         415: "Unsupported Media Type", 422: "Unprocessable Content", 500: "Internal Server Error", 503: "Service Unavailable"][status] ?? "Error"
    }

    /// Runs `body`, or throws 408 after `seconds`. Reading a slow body is cancelled; a model
    /// call already running finishes first (it is not interruptible) and its answer is dropped.
    static func withTimeout<T: Sendable>(_ seconds: Double, _ body: @Sendable @escaping () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else {
                throw ServiceError.timeout("no answer within \(seconds) s")
            }
            return value
        }
    }
}
