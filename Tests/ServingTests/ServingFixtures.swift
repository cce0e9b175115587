import Foundation
import FoveaTestSupport
import Fovea
import XCTest

/// A LeNet-5 briefly trained on MNIST, saved as `fovea train` saves it, and a few test
/// digits as PNG bytes with their labels. Made once for the whole test target.
enum ServingFixture {
    struct Made {
        let weights: URL
        let digits: [(png: [UInt8], label: Int, image: Image)]
    }

    static let shared: Result<Made, Error> = Result {
        GlobalRandom.seed(31)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fovea-serving-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let train = try MNIST.load(split: .train, from: bundledMNISTDirectory, verify: false).subset(0..<3000)
            .normalized(mean: [MNIST.mean], std: [MNIST.std])
        let model = try LeNet5()
        let trainer = Trainer(model: model, optimizer: try SGD(parameters: model.parameters, learningRate: 0.02, momentum: 0.9), verbose: false)
        _ = try trainer.trainEpoch(try DataLoader(train, batchSize: 32, shuffle: true, seed: 2), epoch: 1)
        let weights = folder.appendingPathComponent("model.safetensors")
        try Checkpoint.save(model, metadata: ["model": "lenet5", "input": "1x28x28", "classes": "10",
                                              "class_names": (0..<10).map(String.init).joined(separator: ","),
                                              "normalize_mean": "\(MNIST.mean)", "normalize_std": "\(MNIST.std)", "dataset": "mnist"],
                            to: weights)
        let test = try MNIST.load(split: .test, from: bundledMNISTDirectory, verify: false).subset(0..<20)
        let digits = try (0..<20).map { i -> ([UInt8], Int, Image) in
            let image = try Image(tensor: test.subset([i]).images)
            return (try PNG.encode(image), test.labels[i], image)
        }
        return Made(weights: weights, digits: digits.map { (png: $0.0, label: $0.1, image: $0.2) })
    }

    static func get() throws -> Made { try shared.get() }
}

/// Decodes a JSON object answer.
func object(_ data: Data) throws -> [String: Any] {
    try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
}
