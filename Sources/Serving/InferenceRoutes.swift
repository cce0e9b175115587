import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import TensorCore

/// The server's routes, limits and error bodies, as one Hummingbird responder.
///
/// A request goes: body read (bounded by `maxBodyBytes` and the timeout) -> cost read from
/// the body's header (`InputCost`; over `maxPixels` is 413) -> a slot among `maxConcurrent`
/// (503 when none) -> decoding on the quick or the heavy lane -> the model on its own lane.
/// The whole of it races the timeout, and any answer later than the timeout becomes a 408.
struct InferenceRoutes: Sendable {
    let service: InferenceService
    let limits: InferenceServer.Limits
    let metrics: ServerMetrics
    let logger: Logger
    private let gate: Gate
    /// Decodes cheap inputs (`InputCost.isSmall`): a few milliseconds each.
    private let quick = WorkLane(name: "decode-quick", width: 2)
    /// Decodes everything else.
    private let heavy: WorkLane
    /// Runs the model, one call at a time (the model is not reentrant).
    private let model = WorkLane(name: "model", width: 1)

    init(service: InferenceService, limits: InferenceServer.Limits, metrics: ServerMetrics, logger: Logger) {
        self.service = service; self.limits = limits; self.metrics = metrics; self.logger = logger
        gate = Gate(limit: limits.maxConcurrent)
        heavy = WorkLane(name: "decode-heavy", width: limits.decodeThreads)
    }

    func respond(to request: Request) async -> Response {
        let start = ContinuousClock.now
        var response: Response
        do {
            response = try await Self.withTimeout(limits.timeout) { try await self.route(request) }
        } catch let error as ServiceError {
            response = Self.error(error)
        } catch {
            // Not a client's mistake we know of: say so without internals, log the details.
            logger.error("\(request.method) \(request.uri.path): \(error)")
            response = Self.error(ServiceError(status: 500, code: "internal", "the server failed to answer; the server log has the details"))
        }
        let seconds = (ContinuousClock.now - start).seconds
        // Model calls cannot be interrupted: an answer of any kind later than the limit is a 408.
        if seconds > limits.timeout && response.status != .requestTimeout {
            response = Self.error(.timeout(String(format: "the answer took %.3f s, the limit is %g s", seconds, limits.timeout)))
        }
        metrics.record(path: request.uri.path, status: response.status.code, seconds: seconds)
        logger.info("\(request.method) \(request.uri.path) \(response.status.code) \(String(format: "%.2f", seconds * 1000)) ms")
        return response
    }

    private func route(_ request: Request) async throws -> Response {
        let path = request.uri.path, method = request.method
        switch path {
        case "/", "/index.html":
            guard method == .get || method == .head else { throw ServiceError.methodNotAllowed("\(method) \(path): use GET") }
            return Self.answer(Array(VisualizerPage.html.utf8), type: "text/html; charset=utf-8")
        case "/metrics":
            guard method == .get else { throw ServiceError.methodNotAllowed("\(method) \(path): use GET") }
            return Self.answer(metrics.exposition(), type: "text/plain; version=0.0.4; charset=utf-8")
        case "/v1/model":
            guard method == .get else { throw ServiceError.methodNotAllowed("\(method) \(path): use GET") }
            let service = self.service
            return Self.json(try await model.run { try service.modelInfo() })
        case "/v1/predict", "/v1/activations":
            guard method == .post else { throw ServiceError.methodNotAllowed("\(method) \(path): use POST with an image or JSON body") }
            let body = try await readBody(request)
            return Self.json(try await compute(body: body, contentType: request.headers[.contentType], activations: path == "/v1/activations"))
        default:
            throw ServiceError.notFound("no route \(method) \(Self.quoted(path)); the routes are GET /, GET /v1/model, GET /metrics, POST /v1/predict, POST /v1/activations")
        }
    }

    /// Decodes `body` on its lane and runs the model on it.
    private func compute(body: [UInt8], contentType: String?, activations: Bool) async throws -> Data {
        let cost = InputCost(of: body)
        if cost.pixels(over: limits.maxPixels) != nil, case .image(let w, let h) = cost {
            throw ServiceError.tooLarge("the image declares \(w)x\(h) pixels, more than the limit of \(limits.maxPixels)")
        }
        guard gate.enter() else { throw ServiceError.busy("more than \(limits.maxConcurrent) requests in flight; try again") }
        metrics.inFlight.increment()
        defer { gate.leave(); metrics.inFlight.decrement() }
        let service = self.service, maxPixels = limits.maxPixels
        let decodeStart = ContinuousClock.now
        let pixels = try await (cost.isSmall ? quick : heavy).run {
            try service.input(body: body, contentType: contentType, maxPixels: maxPixels)
        }
        let decoded = ContinuousClock.now
        let answer = try await model.run {
            activations ? try service.activations(pixels: pixels, started: decodeStart, decoded: decoded)
                        : try service.predict(pixels: pixels, started: decodeStart, decoded: decoded)
        }
        metrics.inference.record(ContinuousClock.now - decoded)
        return answer
    }

    /// The body, refused past `maxBodyBytes` (on `Content-Length` first, then while reading).
    /// A body that ends before its `Content-Length` or a broken chunked encoding is the
    /// client's mistake (400).
    private func readBody(_ request: Request) async throws -> [UInt8] {
        let limit = limits.maxBodyBytes
        if let declared = request.headers[.contentLength], let length = Int(declared), length > limit {
            throw ServiceError.tooLarge("the body is \(length) bytes, the limit is \(limit)")
        }
        var bytes: [UInt8] = []
        do {
            for try await chunk in request.body {
                guard bytes.count + chunk.readableBytes <= limit else {
                    throw ServiceError.tooLarge("the body is more than \(limit) bytes, the limit")
                }
                bytes += chunk.readableBytesView
            }
        } catch let error as ServiceError {
            throw error
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw ServiceError.badRequest("the request body could not be read (it ended early or its chunked encoding is broken)")
        }
        return bytes
    }

    // MARK: - Answers

    static func answer(_ bytes: [UInt8], type: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = type
        headers[.cacheControl] = "no-store"
        headers[.contentLength] = "\(bytes.count)"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func json(_ data: Data) -> Response { answer(Array(data), type: "application/json") }

    static func error(_ error: ServiceError) -> Response {
        answer(Array(error.json), type: "application/json", status: HTTPResponse.Status(code: error.status, reasonPhrase: phrase(error.status)))
    }

    static func phrase(_ status: Int) -> String {
        [400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 408: "Request Timeout", 413: "Content Too Large",
         415: "Unsupported Media Type", 422: "Unprocessable Content", 500: "Internal Server Error", 503: "Service Unavailable"][status] ?? "Error"
    }

    /// A path as it may be quoted in a message: at most 100 characters.
    static func quoted(_ path: String) -> String { path.count <= 100 ? path : String(path.prefix(100)) + "..." }

    /// Runs `body`, or throws 408 after `seconds`; `body`'s task is cancelled then (reading a
    /// body stops; a job already on a lane finishes there, and its answer is dropped).
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

extension Duration {
    /// The duration in seconds.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
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
