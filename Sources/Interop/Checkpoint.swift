import Foundation
import TensorCore
import NN

/// A model's weights saved as safetensors with PyTorch state-dict names, plus metadata
/// that records how to rebuild the model (`model`, `input`, `classes`, and class names).
public enum Checkpoint {
    /// Saves `model`'s state dict and `metadata` to `url` (atomically).
    public static func save(_ model: Layer, metadata: [String: String], to url: URL) throws {
        try Safetensors.write(model.stateDict(), metadata: metadata, to: url)
    }

    /// Reads the tensors and metadata of a checkpoint.
    public static func load(from url: URL) throws -> (state: [String: Tensor], metadata: [String: String]) {
        let (tensors, metadata) = try Safetensors.read(from: url)
        return (Dictionary(tensors, uniquingKeysWith: { a, _ in a }), metadata)
    }
}
