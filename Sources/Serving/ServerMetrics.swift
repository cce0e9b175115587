import Foundation
import Prometheus

/// The server's Prometheus metrics, printed by `GET /metrics` in the text exposition format:
///
/// | metric | kind | labels |
/// |---|---|---|
/// | `fovea_http_requests_total` | counter | `route` (one of the routes, or `other`), `status` |
/// | `fovea_http_request_duration_seconds` | histogram | `route` |
/// | `fovea_inference_duration_seconds` | histogram | |
/// | `fovea_http_requests_in_flight` | gauge | |
/// | `fovea_http_connections_open` | gauge | |
/// | `fovea_http_connections_total` | counter | |
/// | `fovea_http_body_deadlines_total` | counter | connections closed for a body that did not arrive in time |
///
/// Paths outside the routes all count as `other`, so hostile paths cannot grow the label set.
public final class ServerMetrics: @unchecked Sendable {
    public let registry = PrometheusCollectorRegistry()
    let inFlight: Gauge
    let connectionsOpen: Gauge
    let connectionsTotal: Counter
    let bodyDeadlinesHit: Counter
    let inference: DurationHistogram
    private let lock = NSLock()
    private var open = 0
    private var requests: [String: Counter] = [:]
    private var durations: [String: DurationHistogram] = [:]

    /// The route labels; any other path is `other`.
    static let routes = ["/", "/v1/model", "/v1/predict", "/v1/activations", "/metrics"]
    private static let buckets: [Duration] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
        .map { Duration.nanoseconds(Int64($0 * 1e9)) }

    init() {
        inFlight = registry.makeGauge(name: "fovea_http_requests_in_flight", help: "Requests being decoded or computed")
        connectionsOpen = registry.makeGauge(name: "fovea_http_connections_open", help: "Open HTTP connections")
        connectionsTotal = registry.makeCounter(name: "fovea_http_connections_total", help: "HTTP connections accepted")
        bodyDeadlinesHit = registry.makeCounter(name: "fovea_http_body_deadlines_total",
                                                help: "Connections closed because a request body did not arrive in time")
        inference = registry.makeDurationHistogram(name: "fovea_inference_duration_seconds", buckets: Self.buckets,
                                                   help: "Time in the model, per request")
    }

    /// Counts one answered request.
    func record(path: String, status: Int, seconds: Double) {
        let route = Self.routes.contains(path) ? path : "other"
        let (counter, histogram) = lock.withLock { () -> (Counter, DurationHistogram) in
            let key = "\(route) \(status)"
            if requests[key] == nil {
                requests[key] = registry.makeCounter(
                    descriptor: .init(namespace: "fovea", subsystem: "http", metricName: "requests", unitName: "total",
                                      helpText: "HTTP requests answered, by route and status"),
                    labels: [("route", route), ("status", "\(status)")])
            }
            if durations[route] == nil {
                durations[route] = registry.makeDurationHistogram(
                    descriptor: .init(namespace: "fovea", subsystem: "http", metricName: "request_duration", unitName: "seconds",
                                      helpText: "Time from request head to answer"),
                    labels: [("route", route)], buckets: Self.buckets)
            }
            return (requests[key]!, durations[route]!)
        }
        counter.increment()
        histogram.record(.nanoseconds(Int64(max(0, seconds) * 1e9)))
    }

    func connectionOpened() {
        connectionsTotal.increment()
        let n = lock.withLock { open += 1; return open }
        connectionsOpen.set(Int64(n))
    }

    func connectionClosed() {
        let n = lock.withLock { open -= 1; return open }
        connectionsOpen.set(Int64(n))
    }

    /// The open connections now.
    public var openConnections: Int { lock.withLock { open } }

    /// The Prometheus text exposition of every metric.
    public func exposition() -> [UInt8] { registry.emitToBuffer() }
}
