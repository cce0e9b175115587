import Foundation
import TensorCore
import NN
import Datasets
import Training
import Visualize

/// What the server does, without the HTTP: decodes an input (PNG or JPEG bytes, or JSON
/// pixels), runs the classifier, and answers in JSON. Model calls are serialised by a lock,
/// so any number of connections can share one model.
///
/// Inputs are fitted to the model as `fovea predict` fits them (grey repeated over colour
/// channels, padded or resized when the checkpoint says how), so the server's probabilities
/// equal `fovea predict`'s for the same image and weights.
public final class InferenceService: @unchecked Sendable {
    public let classifier: Classifier
    /// The largest spatial output whose values `/v1/activations` sends (larger layers are
    /// listed with `"values": null`).
    public var maxValuesPerLayer = 250_000
    private let lock = NSLock()

    public init(classifier: Classifier) { self.classifier = classifier }

    /// Loads the weights at `url` (see `Classifier`).
    public convenience init(weights url: URL) throws { self.init(classifier: try Classifier(contentsOf: url)) }

    // MARK: - Endpoints

    /// `GET /v1/model`: the model's name, input, classes, normalisation, layer table and the
    /// filters of every convolution with at most 50,000 weights.
    public func modelInfo() throws -> Data {
        let c = classifier
        let input = [c.inputChannels, c.inputSize.h, c.inputSize.w]
        let summary = try lock.withLock { try ModelSummary(model: c.model, input: input) }
        var filters: [String: Any] = [:]
        let names = c.model.dottedNames()
        for layer in c.model.allLayers where layer is Conv2D {
            guard let w = layer.parameterSlots.first(where: { $0.name == "weight" })?.tensor, w.count <= 50_000 else { continue }
            filters[names[ObjectIdentifier(layer)] ?? "?"] = ["shape": w.shape, "values": InferenceService.rounded(w.values)]
        }
        let object: [String: Any] = [
            "model": c.modelName, "input": input, "classes": c.classNames,
            "fit": c.fitMode?.rawValue ?? NSNull(), "normalize": ["mean": c.mean.map(Double.init), "std": c.std.map(Double.init)],
            "parameters": summary.totalParameters, "multiply_accumulates": summary.multiplyAccumulates,
            "layers": summary.rows.map { ["name": $0.name, "type": $0.type, "output": $0.outputShape, "parameters": $0.parameters] },
            "filters": filters,
        ]
        return try InferenceService.serialize(object)
    }

    /// `POST /v1/predict`: class probabilities, the top five and timings.
    public func predict(body: [UInt8], contentType: String?) throws -> Data {
        let start = ContinuousClock.now
        let pixels = try input(body: body, contentType: contentType)
        return try predict(pixels: pixels, started: start, decoded: ContinuousClock.now)
    }

    /// The answer of `/v1/predict` for a decoded input `[1, C, H, W]`; `started` and
    /// `decoded` are when the request's decoding began and ended, for the timings.
    public func predict(pixels: Tensor, started: ContinuousClock.Instant, decoded: ContinuousClock.Instant) throws -> Data {
        let p = try lock.withLock { try InferenceService.computing { try classifier.probabilities(pixels).values } }
        let done = ContinuousClock.now
        var object = answer(p)
        object["milliseconds"] = ["decode": ms(decoded - started), "inference": ms(done - decoded), "total": ms(done - started)]
        return try InferenceService.serialize(object)
    }

    /// `POST /v1/activations`: the input as the network sees it, the output of every layer
    /// (convolutions, pooling, activations, dense; flattening and dropout left out) in call
    /// order, and the probabilities.
    public func activations(body: [UInt8], contentType: String?) throws -> Data {
        let start = ContinuousClock.now
        let pixels = try input(body: body, contentType: contentType)
        return try activations(pixels: pixels, started: start, decoded: ContinuousClock.now)
    }

    /// The answer of `/v1/activations` for a decoded input `[1, C, H, W]`.
    public func activations(pixels: Tensor, started: ContinuousClock.Instant, decoded: ContinuousClock.Instant) throws -> Data {
        let c = classifier
        let (maps, p) = try lock.withLock {
            let maps = try FeatureMaps.capture(model: c.model, image: c.normalized(pixels)) { _, layer in
                layer.children.isEmpty && !(layer is Flatten || layer is DropoutLayer)
            }
            return (maps, try InferenceService.computing { try c.probabilities(pixels).values })
        }
        let layers: [[String: Any]] = maps.map { map in
            ["name": map.name, "type": map.type, "shape": map.output.shape,
             "values": map.output.count <= maxValuesPerLayer ? InferenceService.rounded(map.output.values) as Any : NSNull()]
        }
        var object = answer(p)
        object["input"] = ["shape": Array(pixels.shape.dropFirst()), "values": InferenceService.rounded(pixels.values)]
        object["layers"] = layers
        object["milliseconds"] = ["total": ms(ContinuousClock.now - started)]
        return try InferenceService.serialize(object)
    }

    /// Runs a model call; outputs that overflowed (finite weights, an input that drives them
    /// to infinity) are the model's fault: 500 with their own code, not a crash or a client error.
    static func computing<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch ClassifierError.nonFiniteOutput(let count, let classes) {
            throw ServiceError(status: 500, code: "non_finite_output",
                               "the model computed \(count) of \(classes) outputs that are not finite numbers (NaN or infinity)")
        }
    }

    /// JSON of an answer. JSON has no NaN or infinity: a model whose output is not finite
    /// (weights that overflowed in training, say) is the server's fault, said plainly.
    static func serialize(_ object: [String: Any]) throws -> Data {
        guard JSONSerialization.isValidJSONObject(object) else {
            throw ServiceError(status: 500, code: "non_finite_output",
                               "the model computed values that are not finite numbers (NaN or infinity); its weights are unusable")
        }
        return try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    }

    // MARK: - Inputs

    /// The model input `[1, C, H, W]` (pixels in [0, 1]) from a request body:
    /// - `image/png`, `image/jpeg` or any body starting with a PNG or JPEG signature;
    /// - `application/json`: `{"pixels": [...]}` with values in [0, 1], either rows
    ///   (`[[...], ...]`, H x W grey) or flat with `"width"`, `"height"` and optional
    ///   `"channels"` (CHW order).
    /// Inputs of more than `maxPixels` pixels (width x height) are refused (413) before any
    /// pixel is stored.
    public func input(body: [UInt8], contentType: String?, maxPixels: Int = 4096 * 4096) throws -> Tensor {
        guard !body.isEmpty else { throw ServiceError.badRequest("the request body is empty; send a PNG or JPEG image or JSON {\"pixels\": ...}") }
        let type = contentType?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        let image: Image
        if type == "application/json" || (type.isEmpty && body.first == UInt8(ascii: "{")) {
            image = try InferenceService.pixels(fromJSON: body, maxPixels: maxPixels)
        } else if body.starts(with: PNG.signature) || body.starts(with: JPEG.signature) {
            do { image = try ImageFile.decode(body, path: "request body", maxPixels: maxPixels) } catch let error as DatasetError {
                if case .imageTooLarge = error { throw ServiceError.tooLarge("\(error)") }
                throw ServiceError.badRequest("\(error)")
            } catch {
                throw ServiceError.badRequest("\(error)")
            }
        } else {
            throw ServiceError.unsupported("the body (Content-Type '\(contentType ?? "none")', \(body.count) bytes, first bytes \(body.prefix(4).map { String(format: "%02X", $0) }.joined(separator: " "))) is neither a PNG nor a JPEG image nor JSON pixels")
        }
        do { return try classifier.pixels(of: image) } catch DatasetError.imageSize(_, let w, let h, let ew, let eh) {
            throw ServiceError.badShape("image is \(w)x\(h), the model takes \(ew)x\(eh)")
        } catch let error as ClassifierError {
            throw ServiceError.badShape("\(error)")
        }
    }

    /// Parses `{"pixels": ...}`; see `input(body:contentType:)`.
    static func pixels(fromJSON body: [UInt8], maxPixels: Int) throws -> Image {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            throw ServiceError.badRequest("the body is not a JSON object")
        }
        guard let raw = object["pixels"] else { throw ServiceError.badRequest("the JSON has no \"pixels\" entry") }
        if let rows = raw as? [[Any]] {
            let width = rows.first?.count ?? 0
            guard width > 0, rows.allSatisfy({ $0.count == width }) else {
                throw ServiceError.badShape("\"pixels\" rows must all have the same, non-zero length; got lengths \(Array(Set(rows.map(\.count))).sorted().prefix(5))")
            }
            try checkBudget(width: width, height: rows.count, maxPixels: maxPixels)
            return try image(width: width, height: rows.count, channels: 1, values: rows.flatMap { $0 })
        }
        guard let flat = raw as? [Any] else { throw ServiceError.badRequest("\"pixels\" must be an array of numbers or of rows") }
        guard let width = object["width"] as? Int, let height = object["height"] as? Int, width > 0, height > 0 else {
            throw ServiceError.badShape("a flat \"pixels\" array needs positive integer \"width\" and \"height\"")
        }
        let channels = object["channels"] as? Int ?? 1
        guard (1...4).contains(channels) else { throw ServiceError.badShape("\"channels\" must be 1 to 4, got \(channels)") }
        try checkBudget(width: width, height: height, maxPixels: maxPixels)
        guard flat.count == width * height * channels else {
            throw ServiceError.badShape("\"pixels\" has \(flat.count) values, \(channels)x\(height)x\(width) needs \(width * height * channels)")
        }
        return try image(width: width, height: height, channels: channels, values: flat)
    }

    /// Refuses `width` x `height` over `maxPixels` (413), without overflowing on any sizes.
    private static func checkBudget(width: Int, height: Int, maxPixels: Int) throws {
        let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
        guard !overflow, pixels <= maxPixels else {
            throw ServiceError.tooLarge("\(width)x\(height) pixels is more than the limit of \(maxPixels) pixels")
        }
    }

    private static func image(width: Int, height: Int, channels: Int, values: [Any]) throws -> Image {
        var pixels = [Float]()
        pixels.reserveCapacity(values.count)
        for (i, v) in values.enumerated() {
            // Finite as a Double is not enough: 1e39 becomes infinity as a Float.
            guard let number = v as? NSNumber, number.floatValue.isFinite else {
                throw ServiceError.badRequest("pixel \(i) is \(v), not a finite 32-bit number")
            }
            pixels.append(number.floatValue)
        }
        return try Image(width: width, height: height, channels: channels, pixels: pixels)
    }

    // MARK: - Helpers

    private func answer(_ p: [Float]) -> [String: Any] {
        let order = p.indices.sorted { p[$0] > p[$1] || (p[$0] == p[$1] && $0 < $1) }
        let names = classifier.classNames
        return ["model": classifier.modelName, "classes": names, "probabilities": p.map(Double.init),
                "index": order[0], "class": names[order[0]], "probability": Double(p[order[0]]),
                "top": order.prefix(5).map { ["class": names[$0], "index": $0, "probability": Double(p[$0])] }]
    }

    private func ms(_ duration: Duration) -> Double {
        let c = duration.components
        return ((Double(c.seconds) * 1e3 + Double(c.attoseconds) / 1e15) * 100).rounded() / 100
    }

    /// Values with four decimals, which keeps the JSON of a whole network small.
    static func rounded(_ values: [Float]) -> [Double] { values.map { (Double($0) * 1e4).rounded() / 1e4 } }
}
