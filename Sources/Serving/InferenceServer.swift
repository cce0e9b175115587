import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore

/// The HTTP face of an `InferenceService`: Hummingbird 2 on SwiftNIO.
///
/// | route | answer |
/// |---|---|
/// | `GET /` | the visualizer page (HTML, CSS and JavaScript in one file, no external assets) |
/// | `GET /v1/model` | the model: name, input, classes, layers, first filters (JSON) |
/// | `POST /v1/predict` | class probabilities and timings for a PNG, JPEG or JSON-pixels body |
/// | `POST /v1/activations` | every layer's output for the same kinds of body |
/// | `GET /metrics` | Prometheus text: requests by route and status, latencies, connections |
///
/// Anything else is a 404 (a wrong method on a known path, 405); only these routes exist, so
/// no file is ever served. Every error is JSON, `{"error": {"code", "message", "status"}}`,
/// and a client's mistake is never a 5xx. What holds it up under abuse (see `Limits`):
/// - NIO's HTTP parser, linear in the bytes, refuses a header line or a header block over
///   `maxHeaderBytes` with 400 and closes the connection.
/// - A connection that has not sent a whole request head within `idleTimeout` seconds
///   (after connecting or after its last answer) is closed, slowloris included; a request
///   whose body has not arrived within `timeout` seconds of its head gets 408 and its
///   connection is closed (`RequestDeadline`).
/// - At most `maxConnections` connections are open; further ones wait in the kernel's
///   backlog, and running out of file descriptors pauses accepting instead of ending the
///   process (NIO's accept back-off).
/// - Bodies over `maxBodyBytes` get 413 (on `Content-Length` before reading, then while
///   reading); images declaring more than `maxPixels` get 413 before they are decoded.
/// - Decoding and model calls run on bounded lanes of their own threads (`WorkLane`), never
///   on the threads that parse HTTP and keep time, so a 408 is sent on time; small inputs
///   take a lane of their own, so expensive ones cannot queue ahead of them.
/// - At most `maxConcurrent` requests are decoded or computed at once (503 past that); a
///   request counts only once its body has arrived, so stalled uploads hold no slot.
public final class InferenceServer: Sendable {
    /// What the server accepts, and for how long it waits.
    public struct Limits: Sendable {
        /// The largest request body, in bytes (413 past it).
        public var maxBodyBytes: Int
        /// Requests being decoded or computed at once (503 past it).
        public var maxConcurrent: Int
        /// Seconds from a request's head to its answer (408 past it); the body must arrive
        /// within this time too.
        public var timeout: Double
        /// Open connections; more wait in the listen backlog until one closes.
        public var maxConnections: Int
        /// Seconds a connection may take to send a request head, on connecting and between
        /// keep-alive requests, before it is closed.
        public var idleTimeout: Double
        /// Bytes of one header line, and of all header lines together (400 and close past it).
        public var maxHeaderBytes: Int
        /// Pixels (width x height) an image or JSON input may declare (413 past it).
        public var maxPixels: Int
        /// Threads that decode large inputs (more than 64 KB, or images over 512x512 pixels).
        public var decodeThreads: Int

        public init(maxBodyBytes: Int = 8 << 20, maxConcurrent: Int = 64, timeout: Double = 10,
                    maxConnections: Int = 512, idleTimeout: Double = 5, maxHeaderBytes: Int = 16 << 10,
                    maxPixels: Int = 4096 * 4096, decodeThreads: Int = 1) {
            self.maxBodyBytes = maxBodyBytes; self.maxConcurrent = maxConcurrent; self.timeout = timeout
            self.maxConnections = maxConnections; self.idleTimeout = idleTimeout; self.maxHeaderBytes = maxHeaderBytes
            self.maxPixels = maxPixels; self.decodeThreads = decodeThreads
        }
    }

    public let service: InferenceService
    public let limits: Limits
    /// The counters and histograms that `GET /metrics` prints.
    public let metrics: ServerMetrics
    private let host: String
    private let requestedPort: Int
    private let logger: Logger
    private let background = Background()

    /// A server for `service` on `host` (an IPv4 or IPv6 address, loopback by default) and
    /// `port` (0 picks a free port; see `port()` once listening). `accessLog` receives one
    /// line per request (method, path, status, milliseconds); none by default.
    public init(service: InferenceService, host: String = "127.0.0.1", port: UInt16 = 8080, limits: Limits = Limits(),
                accessLog: Logger? = nil) throws {
        guard (try? SocketAddress(ipAddress: host, port: 0)) != nil else {
            throw ServiceError.badRequest("--host '\(host)' is not an IP address")
        }
        try Self.validate(limits)
        self.service = service
        self.limits = limits
        self.host = host
        self.requestedPort = Int(port)
        self.logger = accessLog ?? Logger(label: "fovea.serve", factory: { _ in SwiftLogNoOpLogHandler() })
        self.metrics = ServerMetrics()
    }

    private static func validate(_ limits: Limits) throws {
        func check(_ ok: Bool, _ what: String, _ value: Any) throws {
            guard ok else { throw ServiceError.badRequest("server limit \(what) must be positive, got \(value)") }
        }
        try check(limits.maxBodyBytes > 0, "maxBodyBytes", limits.maxBodyBytes)
        try check(limits.maxConcurrent > 0, "maxConcurrent", limits.maxConcurrent)
        try check(limits.timeout > 0 && limits.timeout.isFinite, "timeout", limits.timeout)
        try check(limits.maxConnections > 0, "maxConnections", limits.maxConnections)
        try check(limits.idleTimeout > 0 && limits.idleTimeout.isFinite, "idleTimeout", limits.idleTimeout)
        try check(limits.maxHeaderBytes > 0, "maxHeaderBytes", limits.maxHeaderBytes)
        try check(limits.maxPixels > 0, "maxPixels", limits.maxPixels)
        try check(limits.decodeThreads > 0, "decodeThreads", limits.decodeThreads)
    }

    /// Serves until the calling task is cancelled or `stop()` is called.
    public func run() async throws {
        let limits = self.limits, metrics = self.metrics, logger = self.logger
        let routes = InferenceRoutes(service: service, limits: limits, metrics: metrics, logger: logger)
        let background = self.background
        let http = HTTP1Channel.Configuration(
            additionalChannelHandlers: [RequestDeadline(seconds: limits.timeout + 0.5, metrics: metrics)],
            idleTimeout: .nanoseconds(Int64(limits.idleTimeout * 1e9)),
            httpDecoderConfiguration: .init(maxHeaderFieldSize: limits.maxHeaderBytes, maxHeaderListSize: limits.maxHeaderBytes,
                                            maxHeaderFieldCount: 256))
        let app = Application(
            responder: CallbackResponder<BasicRequestContext> { request, _ in await routes.respond(to: request) },
            server: .http1(configuration: http),
            configuration: .init(address: .hostname(host, port: requestedPort), serverName: nil,
                                 availableConnectionsDelegate: MaximumAvailableConnections(limits.maxConnections)),
            onServerRunning: { channel in background.listening(port: channel.localAddress?.port) },
            logger: Logger(label: "fovea.serve.engine", factory: { _ in SwiftLogNoOpLogHandler() }))
        try await app.run()
    }

    /// The port the server listens on (useful after asking for port 0), once listening.
    public func port() -> UInt16? { background.port.map(UInt16.init) }

    /// Starts `run()` on a background task and blocks until the socket listens; returns the
    /// port. For synchronous callers (the CLI, tests, benchmarks).
    ///
    /// - Throws: the server's own error (a port in use, say) when it stops before listening,
    ///   or `ServiceError` 503 when it is not listening after `timeout` seconds.
    @discardableResult
    public func start(timeout: Double = 10) throws -> UInt16 {
        let background = self.background
        background.task = Task {
            do { try await self.run() } catch { background.failed(error) }
            background.stopped()
        }
        return try background.waitUntilListening(timeout: timeout)
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

    /// Stops a server started by `start()`: open connections get their answers, and the
    /// call returns once it has stopped.
    public func shutdown() {
        guard let task = background.task else { return }
        let done = DispatchSemaphore(value: 0)
        Task {
            task.cancel()
            await task.value
            done.signal()
        }
        done.wait()
    }
}

/// The state of a server run by `start()`, shared between its tasks.
private final class Background: @unchecked Sendable {
    private let condition = NSCondition()
    private var _task: Task<Void, Never>?
    private var _error: Error?
    private var _finished = false
    private var _port: Int?

    var task: Task<Void, Never>? {
        get { condition.withLock { _task } }
        set { condition.withLock { _task = newValue } }
    }
    var error: Error? { condition.withLock { _error } }
    var port: Int? { condition.withLock { _port } }

    func listening(port: Int?) { condition.withLock { _port = port; condition.broadcast() } }
    func failed(_ error: Error) { condition.withLock { _error = error } }
    func stopped() { condition.withLock { _finished = true; condition.broadcast() } }

    func waitUntilListening(timeout: Double) throws -> UInt16 {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        while _port == nil && !_finished && condition.wait(until: deadline) {}
        if let error = _error { throw error }
        guard !_finished, let port = _port else {
            throw ServiceError.busy("the server is not listening after \(timeout) s")
        }
        return UInt16(port)
    }
}
