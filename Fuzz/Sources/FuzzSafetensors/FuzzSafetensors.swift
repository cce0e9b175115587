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

/// Safetensors.decode, then the path `fovea predict` and the server take: a Classifier
/// rebuilds the model its metadata names, loads the tensors into it and predicts one image
/// of the input size it declares.
func body(_ bytes: [UInt8]) throws {
    let (tensors, _) = try Safetensors.decode(Data(bytes))
    for (_, tensor) in tensors { _ = tensor.values }
    let url = try Scratch.write(bytes, to: "model.safetensors")
    let classifier = try Classifier(contentsOf: url)
    let (c, h, w) = (classifier.inputChannels, classifier.inputSize.h, classifier.inputSize.w)
    let image = c * h * w <= 1 << 20
        ? Fixtures.pattern(width: w, height: h, channels: (1...4).contains(c) ? c : 1)
        : Fixtures.digit
    _ = try classifier.top(3, of: image)
    _ = try InferenceService(classifier: classifier).modelInfo()
}

func seeds() throws -> [String: [UInt8]] {
    func checkpoint(_ channels: Int, _ side: Int, _ classes: Int, _ metadata: [String: String]) throws -> [UInt8] {
        let model = try ModelZoo.entry(named: metadata["model"]!).build(channels, Size2D(side, side), classes)
        let url = Scratch.folder.appendingPathComponent("seed.safetensors")
        try Checkpoint.save(model, metadata: metadata, to: url)
        return Array(try Data(contentsOf: url))
    }
    // LeNet-5 at its smallest input (12x12) keeps these seeds near 50 KB.
    var plain = Fixtures.lenetMetadata
    plain["fit"] = nil
    plain["class_names"] = nil
    plain["input"] = "1x12x12"
    let colour = ["model": "lenet5-classic", "input": "3x12x12", "classes": "4", "class_names": "a,b,c,d",
                  "normalize_mean": "0.5,0.4,0.3", "normalize_std": "0.2,0.2,0.25", "fit": "pad"]
    let url = Scratch.folder.appendingPathComponent("plain.safetensors")
    try Safetensors.write([("w", try Tensor(shape: [2, 2], values: [1, 2, 3, 4])), ("b", Tensor([0.5]))],
                          metadata: ["note": "no model"], to: url)
    return [
        "lenet5-resize.safetensors": try Fixtures.lenetCheckpoint(),
        "lenet5-plain.safetensors": try checkpoint(1, 12, 10, plain),
        "lenet5-classic-colour.safetensors": try checkpoint(3, 12, 4, colour),
        "tensors-only.safetensors": Array(try Data(contentsOf: url)),
    ]
}
