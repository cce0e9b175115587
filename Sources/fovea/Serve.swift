import ArgumentParser
import Foundation
import Fovea

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
        @Option(help: "Seconds a request may take; slower ones get 408.")
        var timeout: Double = 10
        @OptionGroup var compute: ComputeOptions

        func validate() throws {
            guard (0...65535).contains(port) else { throw ValidationError("--port must be 0...65535, got \(port)") }
            guard maxBodyMb > 0, maxBodyMb <= 1024 else { throw ValidationError("--max-body-mb must be in (0, 1024], got \(maxBodyMb)") }
            guard maxConcurrent >= 1 else { throw ValidationError("--max-concurrent must be at least 1, got \(maxConcurrent)") }
            guard timeout > 0 else { throw ValidationError("--timeout must be positive, got \(timeout)") }
        }

        func run() throws {
            compute.apply()
            let service = try InferenceService(weights: URL(fileURLWithPath: weights))
            let limits = InferenceServer.Limits(maxBodyBytes: Int(maxBodyMb * 1_048_576), maxConcurrent: maxConcurrent, timeout: timeout)
            let server = try InferenceServer(service: service, host: host, port: UInt16(port), limits: limits)
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
            Console.write("Limits: \(limits.maxBodyBytes) bytes a body, \(limits.maxConcurrent) requests at once, \(limits.timeout) s a request. Ctrl-C stops.")
            try server.wait()
        }
    }
}
