import ArgumentParser
import Foundation
import Fovea
import Logging

extension FoveaCommand {
    /// `fovea serve`: the inference server and the in-browser visualizer.
    struct Serve: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Serve a trained model over HTTP: GET / is the draw-a-digit visualizer, POST /v1/predict and /v1/activations take a PNG, JPEG or JSON pixels, GET /v1/model describes the model.")

        @Option(help: "Weights file written by `fovea train` (model.safetensors).")
        var weights: String
        @Option(parsing: .unconditional, help: "Port to listen on (0 picks a free one).")
        var port: Int = 8080
        @Option(help: "IP address to listen on (loopback by default; 0.0.0.0 or :: for every interface).")
        var host = "127.0.0.1"
        @Option(parsing: .unconditional, help: "Largest request body in MB; bigger ones get 413.")
        var maxBodyMb: Double = 8
        @Option(parsing: .unconditional, help: "Most requests being decoded or computed at once (an upload in progress does not count); more get 503.")
        var maxConcurrent = 64
        @Option(parsing: .unconditional, help: "Seconds a request may take, its body's upload included; slower ones get 408.")
        var timeout: Double = 10
        @Option(parsing: .unconditional, help: "Most open connections; more wait until one closes.")
        var maxConnections = 512
        @Option(parsing: .unconditional, help: "Seconds a connection may take to send a request's headers before it is closed.")
        var idleTimeout: Double = 5
        @Option(parsing: .unconditional, help: "Largest image or JSON input in pixels (width x height); bigger ones get 413.")
        var maxPixels = 4096 * 4096
        @Option(help: "Request log on standard error: trace, debug, info (a line per request), notice, warning, error, critical.")
        var logLevel = "info"
        @OptionGroup var compute: ComputeOptions

        func validate() throws {
            try OptionCheck.whole("--port", port, in: 0...65535)
            try OptionCheck.real("--max-body-mb", maxBodyMb, .upTo(1024))
            try OptionCheck.whole("--max-concurrent", maxConcurrent, in: 1...4096)
            try OptionCheck.real("--timeout", timeout, .upTo(86_400))
            try OptionCheck.path("--weights", weights)
            try OptionCheck.whole("--max-connections", maxConnections, in: 1...100_000)
            try OptionCheck.real("--idle-timeout", idleTimeout, .upTo(86_400))
            try OptionCheck.whole("--max-pixels", maxPixels, in: 1...(1 << 30))
            guard Logger.Level(rawValue: logLevel) != nil else {
                throw ValidationError("--log-level must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")), got '\(logLevel)'")
            }
        }

        func run() throws {
            try compute.run(runWithThreads)
        }

        /// `run()` inside the thread count of `--threads`.
        private func runWithThreads() throws {
            let service = try InferenceService(weights: URL(fileURLWithPath: weights))
            let limits = InferenceServer.Limits(maxBodyBytes: Int(maxBodyMb * 1_048_576), maxConcurrent: maxConcurrent, timeout: timeout,
                                                maxConnections: maxConnections, idleTimeout: idleTimeout, maxPixels: maxPixels)
            var log = Logger(label: "fovea.serve", factory: { StreamLogHandler.standardError(label: $0) })
            log.logLevel = Logger.Level(rawValue: logLevel) ?? .info
            let server = try InferenceServer(service: service, host: host, port: UInt16(port), limits: limits, accessLog: log)
            let listening: UInt16
            do { listening = try server.start() } catch let error as ServiceError {
                throw error
            } catch {
                throw ValidationError("cannot listen on \(host):\(port): \(error)")
            }
            let c = service.classifier
            Console.write("Serving \(c.modelName) (input \(c.inputChannels)x\(c.inputSize.h)x\(c.inputSize.w), \(c.classNames.count) classes) at http://\(host.contains(":") ? "[\(host)]" : host):\(listening)/")
            Console.write("  GET  /               the visualizer: draw a digit, watch every layer")
            Console.write("  GET  /v1/model       the model as JSON")
            Console.write("  POST /v1/predict     a PNG, JPEG or {\"pixels\": [[...]]} body -> probabilities")
            Console.write("  POST /v1/activations the same bodies -> every layer's output")
            Console.write("  GET  /metrics        Prometheus metrics")
            Console.write("Limits: \(limits.maxBodyBytes) bytes a body, \(limits.maxPixels) pixels an image, \(limits.maxConcurrent) requests at once,")
            Console.write("  \(limits.maxConnections) connections, \(limits.timeout) s a request, \(limits.idleTimeout) s idle. Ctrl-C stops.")
            try server.wait()
        }
    }
}
