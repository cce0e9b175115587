import Foundation
import TensorCore
import NN
import Datasets

/// The output of one layer call for one image: what the network "sees" at that depth.
public struct FeatureMap: @unchecked Sendable {
    /// Dotted state-dict name (`features.0`, `layer1.0.conv1`); a layer called more than once
    /// gets ` (call 2)`, ` (call 3)`, ... after its name.
    public let name: String
    /// The layer's type (`Conv2D`, `MaxPool2D`).
    public let type: String
    /// The output without the batch axis: `[C, h, w]` (or `[features]` for dense layers).
    public let output: Tensor

    /// Channels, height and width of a spatial map; nil for a flat output.
    public var spatial: (channels: Int, height: Int, width: Int)? {
        output.rank == 3 ? (output.shape[0], output.shape[1], output.shape[2]) : nil
    }
}

public enum FeatureMaps {
    /// The layers shown by default: convolutions and pooling.
    public static func isDefault(_ layer: Layer) -> Bool { layer is Conv2D || layer is Pool2D }

    /// Runs `image` (`[1, C, H, W]`, already normalised as the model expects) through `model`
    /// in evaluation mode without a gradient tape and keeps the output of every layer call for
    /// which `include` holds (by default the convolutions and pooling layers), in the order the
    /// calls finish: a block (a layer with children) comes after the layers inside it. The
    /// model's mode is restored.
    public static func capture(model: Layer, image: Tensor,
                               include: (_ name: String, _ layer: Layer) -> Bool = { isDefault($1) }) throws -> [FeatureMap] {
        guard image.rank == 4, image.shape[0] == 1 else {
            throw TensorError.shapeMismatch(op: "FeatureMaps.capture", "input \(describe(image.shape)), expected one image [1, C, H, W]")
        }
        let names = model.dottedNames()
        let wasTraining = model.isTraining
        model.eval()
        defer { model.train(wasTraining) }
        var maps: [FeatureMap] = []
        var callsSoFar: [ObjectIdentifier: Int] = [:]
        _ = try withNoGrad {
            try LayerTrace.record(observing: { layer, output in
                guard output.shape.first == 1, layer !== model else { return output }
                let id = ObjectIdentifier(layer)
                let base = names[id].map { $0.isEmpty ? "(model)" : $0 } ?? "(unnamed)"
                let call = (callsSoFar[id] ?? 0) + 1
                callsSoFar[id] = call
                if include(base, layer) {
                    let kept = output.detached()
                    let shape = Array(output.shape.dropFirst())
                    maps.append(FeatureMap(name: call == 1 ? base : "\(base) (call \(call))", type: layer.typeName,
                                           output: Tensor(shape: shape, storage: kept.storage)))
                }
                return output
            }) { try model(image.detached()) }
        }
        return maps
    }

    /// One picture of a spatial map: its first `maxChannels` channels as tiles, all on one
    /// scale (so a channel that barely fires looks dark next to one that fires hard), with the
    /// `heat` colour map, each tile enlarged to about 56 pixels.
    public static func grid(_ map: FeatureMap, maxChannels: Int = 64) throws -> Image {
        guard let s = map.spatial else {
            throw DatasetError.invalidArgument("\(map.name) has a flat output \(describe(map.output.shape)); only [C, h, w] maps are drawn as tiles")
        }
        let plane = s.height * s.width, v = map.output.values
        let planes = (0..<min(s.channels, maxChannels)).map { Array(v[($0 * plane)..<(($0 + 1) * plane)]) }
        return try ImageGrid.image(planes, height: s.height, width: s.width,
                                   scale: ImageGrid.scale(for: max(s.height, s.width)), gap: 2,
                                   colormap: .heat, scaling: .shared)
    }

    /// The first convolution's filters `[out, in, kh, kw]` as tiles: colour for three input
    /// channels, otherwise one diverging (blue negative, red positive) tile per output and
    /// input channel pair (the first `maxTiles`), all on one symmetric scale.
    public static func filters(of model: Layer, maxTiles: Int = 256) throws -> (name: String, image: Image)? {
        let names = model.dottedNames()
        guard let conv = model.allLayers.first(where: { $0 is Conv2D }),
              let weight = conv.parameterSlots.first(where: { $0.name == "weight" })?.tensor, weight.rank == 4 else { return nil }
        let (out, inC, kh, kw) = (weight.shape[0], weight.shape[1], weight.shape[2], weight.shape[3])
        let v = weight.values, k = kh * kw
        let scale = ImageGrid.scale(for: max(kh, kw), target: 48)
        let name = names[ObjectIdentifier(conv)] ?? "conv"
        if inC == 3 {
            let tiles = (0..<min(out, maxTiles)).map { Array(v[($0 * 3 * k)..<(($0 + 1) * 3 * k)]) }
            return (name, try ImageGrid.colourImage(tiles, height: kh, width: kw, scale: scale, gap: 2))
        }
        let tiles = (0..<min(out * inC, maxTiles)).map { Array(v[($0 * k)..<(($0 + 1) * k)]) }
        return (name, try ImageGrid.image(tiles, height: kh, width: kw, columns: inC == 1 ? nil : min(inC, 16),
                                          scale: scale, gap: 2, gapShade: 0.3, colormap: .diverging, scaling: .symmetric))
    }
}
