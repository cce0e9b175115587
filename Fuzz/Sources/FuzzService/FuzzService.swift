import Foundation
import Fovea
import FuzzSupport

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> Int32 {
    FuzzTarget.initialize(seeds: seeds)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    FuzzTarget.run(data, size, body)
}

/// The server's request handling without HTTP: the first byte picks the endpoint
/// (`predict` or `activations`) and the Content-Type; the rest is the request body, decoded
/// (PNG, JPEG or JSON pixels), fitted to LeNet-5's input and run.
func body(_ bytes: [UInt8]) throws {
    guard let selector = bytes.first else { return }
    let body = Array(bytes.dropFirst())
    let types: [String?] = [nil, "image/png", "image/jpeg", "application/json; charset=utf-8"]
    let contentType = types[Int(selector >> 1) % types.count]
    if selector & 1 == 0 {
        _ = try service.predict(body: body, contentType: contentType)
    } else {
        _ = try service.activations(body: body, contentType: contentType)
    }
}

let service = InferenceService(classifier: Fixtures.classifier)

func seeds() throws -> [String: [UInt8]] {
    let rows = (0..<28).map { y in "[" + (0..<28).map { x in Fixtures.digit[0, y, x] == 0 ? "0" : "0.8" }.joined(separator: ",") + "]" }
    let flat = "{\"width\": 4, \"height\": 2, \"channels\": 3, \"pixels\": [" + (0..<24).map { "0.\($0 % 10)" }.joined(separator: ",") + "]}"
    return [
        "predict-png": [2] + (try PNG.encode(Fixtures.digit)),
        "activations-png": [1] + (try PNG.encode(Fixtures.pattern(width: 14, height: 20, channels: 3))),
        "predict-jpeg": [4] + (try JPEG.encode(Fixtures.pattern(width: 30, height: 28, channels: 3))),
        "predict-json-rows": [6] + Array("{\"pixels\": [\(rows.joined(separator: ","))]}".utf8),
        "activations-json-flat": [1] + Array(flat.utf8),
    ]
}
