import Foundation
import Fovea

/// Small valid inputs made by Fovea itself: the seeds of the corpora and the fixed models
/// the targets use.
public enum Fixtures {
    /// A 28x28 grey "digit": a ring, values in [0, 1].
    public static let digit: Image = pattern(width: 28, height: 28, channels: 1)

    /// A deterministic image with a ring and a gradient in each channel.
    public static func pattern(width: Int, height: Int, channels: Int) -> Image {
        var pixels = [Float](repeating: 0, count: width * height * channels)
        for c in 0..<channels {
            for y in 0..<height {
                for x in 0..<width {
                    let dx = Float(x) - Float(width) / 2, dy = Float(y) - Float(height) / 2
                    let r = (dx * dx + dy * dy).squareRoot() / Float(max(width, height))
                    let ring: Float = abs(r - 0.3) < 0.08 ? 1 : 0
                    let ramp = Float((x + y * 3 + c * 7) % 16) / 16
                    pixels[(c * height + y) * width + x] = min(1, ring * 0.8 + ramp * 0.2)
                }
            }
        }
        return try! Image(width: width, height: height, channels: channels, pixels: pixels)
    }

    /// The metadata `fovea train` writes for LeNet-5 on 28x28 grey images, fitted by resizing.
    public static let lenetMetadata: [String: String] = [
        "model": "lenet5", "input": "1x28x28", "classes": "10",
        "class_names": "zero,one,two,three,four,five,six,seven,eight,nine",
        "normalize_mean": "0.1307", "normalize_std": "0.3081", "fit": "resize", "dataset": "fuzz",
    ]

    /// LeNet-5 with freshly initialised weights, in evaluation mode.
    public static func lenet() throws -> Layer {
        let model = try ModelZoo.entry(named: "lenet5").build(1, Size2D(28, 28), 10)
        model.eval()
        return model
    }

    /// A LeNet-5 checkpoint as `fovea train` writes it (safetensors with metadata).
    public static func lenetCheckpoint() throws -> [UInt8] {
        let url = Scratch.folder.appendingPathComponent("fixture-lenet5.safetensors")
        try Checkpoint.save(try lenet(), metadata: lenetMetadata, to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        return Array(try Data(contentsOf: url))
    }

    /// A classifier over `lenetCheckpoint()`, loaded once per process.
    nonisolated(unsafe) public static let classifier: Classifier = {
        let url = try! Scratch.write(try! lenetCheckpoint(), to: "fixture-classifier.safetensors")
        return try! Classifier(contentsOf: url)
    }()
}
