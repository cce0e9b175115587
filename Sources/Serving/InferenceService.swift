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
        return try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    }

    /// `POST /v1/predict`: class probabilities, the top five and timings.
    public func predict(body: [UInt8], contentType: String?) throws -> Data {
        let start = DispatchTime.now().uptimeNanoseconds
        let pixels = try input(body: body, contentType: contentType)
        let decoded = DispatchTime.now().uptimeNanoseconds
        let p = try lock.withLock { try classifier.probabilities(pixels).values }
        let done = DispatchTime.now().uptimeNanoseconds
        var object = answer(p)
        object["milliseconds"] = ["decode": ms(decoded - start), "inference": ms(done - decoded), "total": ms(done - start)]
        return try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    }

    /// `POST /v1/activations`: the input as the network sees it, the output of every layer
    /// (convolutions, pooling, activations, dense; flattening and dropout left out) in call
    /// order, and the probabilities.
    public func activations(body: [UInt8], contentType: String?) throws -> Data {
        let start = DispatchTime.now().uptimeNanoseconds
        let pixels = try input(body: body, contentType: contentType)
        let c = classifier
        let (maps, p) = try lock.withLock {
            let maps = try FeatureMaps.capture(model: c.model, image: c.normalized(pixels)) { _, layer in
                layer.children.isEmpty && !(layer is Flatten || layer is DropoutLayer)
            }
            return (maps, try c.probabilities(pixels).values)
        }
        let layers: [[String: Any]] = maps.map { map in
            ["name": map.name, "type": map.type, "shape": map.output.shape,
             "values": map.output.count <= maxValuesPerLayer ? InferenceService.rounded(map.output.values) as Any : NSNull()]
        }
        var object = answer(p)
        object["input"] = ["shape": Array(pixels.shape.dropFirst()), "values": InferenceService.rounded(pixels.values)]
        object["layers"] = layers
        object["milliseconds"] = ["total": ms(DispatchTime.now().uptimeNanoseconds - start)]
        return try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    }

    // MARK: - Inputs

    /// The model input `[1, C, H, W]` (pixels in [0, 1]) from a request body:
    /// - `image/png`, `image/jpeg` or any body starting with a PNG or JPEG signature;
    /// - `application/json`: `{"pixels": [...]}` with values in [0, 1], either rows
    ///   (`[[...], ...]`, H x W grey) or flat with `"width"`, `"height"` and optional
    ///   `"channels"` (CHW order).
    public func input(body: [UInt8], contentType: String?) throws -> Tensor {
        guard !body.isEmpty else { throw ServiceError.badRequest("the request body is empty; send a PNG or JPEG image or JSON {\"pixels\": ...}") }
        let type = contentType?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        let image: Image
        if type == "application/json" || (type.isEmpty && body.first == UInt8(ascii: "{")) {
            image = try InferenceService.pixels(fromJSON: body)
        } else if body.starts(with: PNG.signature) || body.starts(with: JPEG.signature) {
            do { image = try ImageFile.decode(body, path: "request body") } catch {
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
    static func pixels(fromJSON body: [UInt8]) throws -> Image {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            throw ServiceError.badRequest("the body is not a JSON object")
        }
        guard let raw = object["pixels"] else { throw ServiceError.badRequest("the JSON has no \"pixels\" entry") }
        if let rows = raw as? [[Any]] {
            let width = rows.first?.count ?? 0
            guard width > 0, rows.allSatisfy({ $0.count == width }) else {
                throw ServiceError.badShape("\"pixels\" rows must all have the same, non-zero length; got lengths \(Array(Set(rows.map(\.count))).sorted().prefix(5))")
            }
            return try image(width: width, height: rows.count, channels: 1, values: rows.flatMap { $0 })
        }
        guard let flat = raw as? [Any] else { throw ServiceError.badRequest("\"pixels\" must be an array of numbers or of rows") }
        guard let width = object["width"] as? Int, let height = object["height"] as? Int, width > 0, height > 0 else {
            throw ServiceError.badShape("a flat \"pixels\" array needs positive integer \"width\" and \"height\"")
        }
        let channels = object["channels"] as? Int ?? 1
        guard (1...4).contains(channels) else { throw ServiceError.badShape("\"channels\" must be 1 to 4, got \(channels)") }
        guard flat.count == width * height * channels else {
            throw ServiceError.badShape("\"pixels\" has \(flat.count) values, \(channels)x\(height)x\(width) needs \(width * height * channels)")
        }
        return try image(width: width, height: height, channels: channels, values: flat)
    }

    private static func image(width: Int, height: Int, channels: Int, values: [Any]) throws -> Image {
        guard width * height <= 4096 * 4096 else { throw ServiceError.tooLarge("\(width)x\(height) pixels is more than 4096x4096") }
        var pixels = [Float]()
        pixels.reserveCapacity(values.count)
        for (i, v) in values.enumerated() {
            guard let number = v as? NSNumber, number.doubleValue.isFinite else {
                throw ServiceError.badRequest("pixel \(i) is \(v), not a finite number")
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

    private func ms(_ nanoseconds: UInt64) -> Double { (Double(nanoseconds) / 1e4).rounded() / 100 }

    /// Values with four decimals, which keeps the JSON of a whole network small.
    static func rounded(_ values: [Float]) -> [Double] { values.map { (Double($0) * 1e4).rounded() / 1e4 } }
}
