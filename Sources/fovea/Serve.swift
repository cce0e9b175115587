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
        @Option(help: "Port to listen on (0 picks a free one).")
        var port: Int = 8080
        @Option(help: "IPv4 address to listen on (loopback by default; 0.0.0.0 for every interface).")
        var host = "127.0.0.1"
        @Option(help: "Largest request body in MB; bigger ones get 413.")
        var maxBodyMb: Double = 8
        @Option(help: "Most requests in flight at once; more get 503.")
        var maxConcurrent = 64
        @Option(help: "Seconds a request may take, its body's upload included; slower ones get 408.")
        var timeout: Double = 10
        @Option(help: "Most open connections; more wait until one closes.")
        var maxConnections = 512
        @Option(help: "Seconds a connection may take to send a request's headers before it is closed.")
        var idleTimeout: Double = 5
        @Option(help: "Largest image or JSON input in pixels (width x height); bigger ones get 413.")
        var maxPixels = 4096 * 4096
        @Option(help: "Request log on standard error: trace, debug, info (a line per request), notice, warning, error, critical.")
        var logLevel = "info"
        @OptionGroup var compute: ComputeOptions

        func validate() throws {
            guard (0...65535).contains(port) else { throw ValidationError("--port must be 0...65535, got \(port)") }
            guard maxBodyMb > 0, maxBodyMb <= 1024 else { throw ValidationError("--max-body-mb must be in (0, 1024], got \(maxBodyMb)") }
            guard maxConcurrent >= 1 else { throw ValidationError("--max-concurrent must be at least 1, got \(maxConcurrent)") }
            guard timeout > 0, timeout <= 3600 else { throw ValidationError("--timeout must be in (0, 3600] seconds, got \(timeout)") }
            guard (1...100_000).contains(maxConnections) else { throw ValidationError("--max-connections must be 1...100000, got \(maxConnections)") }
            guard idleTimeout > 0, idleTimeout <= 3600 else { throw ValidationError("--idle-timeout must be in (0, 3600] seconds, got \(idleTimeout)") }
            guard (1...(1 << 30)).contains(maxPixels) else { throw ValidationError("--max-pixels must be 1...\(1 << 30), got \(maxPixels)") }
            guard Logger.Level(rawValue: logLevel) != nil else {
                throw ValidationError("--log-level must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")), got '\(logLevel)'")
            }
        }

        func run() throws {
            compute.apply()
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
            Console.write("Serving \(c.modelName) (input \(c.inputChannels)x\(c.inputSize.h)x\(c.inputSize.w), \(c.classNames.count) classes) at http://\(host):\(listening)/")
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
