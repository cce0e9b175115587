import Foundation
import TensorCore
import NN
import Datasets

/// Where in an image a classifier looks, as a map over the input's pixels in [0, 1].
///
/// - `gradient`: the vanilla saliency map (Simonyan, Vedaldi, Zisserman, "Deep inside
///   convolutional networks", 2014): `|d score_c / d x|`, the largest over the colour channels.
/// - `gradCAM`: Grad-CAM (Selvaraju et al., "Grad-CAM: visual explanations from deep networks
///   via gradient-based localization", ICCV 2017): for a layer's maps `A_k` (`[K, h, w]`),
///   weights `alpha_k = mean_ij d score_c / d A_kij`, map `ReLU(sum_k alpha_k A_k)`, resized
///   bilinearly to the input.
///
/// `score_c` is the class's logit (before softmax), as in both papers. The model runs in
/// evaluation mode; its parameters' gradients are left as they were.
public enum Saliency {
    /// A map `[H * W]` (row-major) in [0, 1] with the class it explains.
    public struct Map: Sendable {
        public let values: [Float]
        public let height: Int
        public let width: Int
        /// The class whose score was differentiated.
        public let classIndex: Int
        /// Grad-CAM's layer (dotted name); nil for the gradient map.
        public let layer: String?
        /// The largest raw value before scaling to [0, 1] (0 means the map is empty).
        public let peak: Float

        public init(values: [Float], height: Int, width: Int, classIndex: Int, layer: String?, peak: Float) {
            self.values = values; self.height = height; self.width = width
            self.classIndex = classIndex; self.layer = layer; self.peak = peak
        }
    }

    /// The gradient saliency of `image` (`[1, C, H, W]`, normalised as the model expects) for
    /// `classIndex` (default: the predicted class).
    public static func gradient(model: Layer, image: Tensor, classIndex: Int? = nil) throws -> Map {
        try checkImage(image)
        let x = image.detached()
        x.requiresGrad = true
        let (c, _) = try differentiate(model: model, classIndex: classIndex) { try model(x) }
        guard let g = x.grad else { throw TensorError.invalidArgument(op: "Saliency.gradient", "the score does not depend on the input") }
        let (channels, h, w) = (image.shape[1], image.shape[2], image.shape[3])
        let gv = g.values, plane = h * w
        var raw = [Float](repeating: 0, count: plane)
        for ch in 0..<channels {
            for i in 0..<plane { raw[i] = max(raw[i], Swift.abs(gv[ch * plane + i])) }
        }
        return scaled(raw, height: h, width: w, classIndex: c, layer: nil)
    }

    /// Grad-CAM of `image` for `classIndex` (default: the predicted class) at the layer called
    /// `layerName` (default: the last convolution that runs).
    ///
    /// - Throws: `TensorError.invalidArgument` when the layer is unknown, never runs, or its
    ///   output is not a spatial map `[1, K, h, w]`.
    public static func gradCAM(model: Layer, image: Tensor, classIndex: Int? = nil, layerName: String? = nil) throws -> Map {
        try checkImage(image)
        let names = model.dottedNames()
        let target: Layer
        if let layerName {
            guard let l = model.layer(named: layerName) else {
                throw TensorError.invalidArgument(op: "Grad-CAM", "no layer named '\(layerName)' in the model")
            }
            target = l
        } else {
            guard let l = try lastConvolution(model: model, image: image) else {
                throw TensorError.invalidArgument(op: "Grad-CAM", "the model runs no convolution")
            }
            target = l
        }
        let name = names[ObjectIdentifier(target)] ?? layerName ?? "?"
        var activations: Tensor?
        let (c, _) = try differentiate(model: model, classIndex: classIndex) {
            try LayerTrace.record(observing: { layer, output in
                // Cut the tape at the first call of the layer: its output becomes a leaf whose
                // gradient backward() fills in.
                guard layer === target, activations == nil else { return output }
                let leaf = output.detached()
                leaf.requiresGrad = true
                activations = leaf
                return leaf
            }) { try model(image.detached()) }.result
        }
        guard let a = activations, a.rank == 4, a.shape[0] == 1 else {
            throw TensorError.invalidArgument(op: "Grad-CAM", "layer '\(name)' \(activations == nil ? "does not run" : "gives \(describe(activations!.shape)), not a map [1, K, h, w]")")
        }
        let (k, h, w) = (a.shape[1], a.shape[2], a.shape[3]), plane = h * w
        let av = a.values, gv = a.grad?.values ?? [Float](repeating: 0, count: a.count)
        var cam = [Float](repeating: 0, count: plane)
        for ch in 0..<k {
            var alpha: Float = 0
            for i in 0..<plane { alpha += gv[ch * plane + i] }
            alpha /= Float(plane)
            for i in 0..<plane { cam[i] += alpha * av[ch * plane + i] }
        }
        for i in 0..<plane { cam[i] = max(0, cam[i]) }
        let (H, W) = (image.shape[2], image.shape[3])
        let small = try Tensor(shape: [1, 1, h, w], values: cam)
        let big = (h, w) == (H, W) ? small : try ImageFitting.fit(small, to: [1, H, W], mode: .resize)
        return scaled(big.values.map { max(0, $0) }, height: H, width: W, classIndex: c, layer: name)
    }

    /// The input under the map: the grey (or colour) image at `1 - opacity` blended with the
    /// map in the `heat` colours at `opacity` where the map is strong.
    /// `pixels` are the image's own pixels in [0, 1], `[C, H, W]` with C 1 or 3.
    public static func overlay(_ map: Map, on pixels: Image, opacity: Float = 0.6, scale: Int = 1) throws -> Image {
        guard pixels.width == map.width, pixels.height == map.height else {
            throw DatasetError.invalidArgument("overlay: image \(pixels.width)x\(pixels.height), map \(map.width)x\(map.height)")
        }
        let rgb = try ImageGrid.rgb(pixels)
        let plane = map.width * map.height
        var out = [Float](repeating: 0, count: 3 * plane)
        for i in 0..<plane {
            let m = map.values[i], c = Colormap.heat.rgb(Double(m))
            let a = opacity * m
            out[i] = (1 - a) * rgb.pixels[i] + a * Float(c.r)
            out[plane + i] = (1 - a) * rgb.pixels[plane + i] + a * Float(c.g)
            out[2 * plane + i] = (1 - a) * rgb.pixels[2 * plane + i] + a * Float(c.b)
        }
        let blended = try Image(width: map.width, height: map.height, channels: 3, pixels: out)
        return scale == 1 ? blended : try enlarge(blended, by: scale)
    }

    /// The map alone in the `heat` colours.
    public static func image(_ map: Map, scale: Int = 1) throws -> Image {
        try ImageGrid.image([map.values], height: map.height, width: map.width, scale: scale, gap: 0,
                            colormap: .heat, scaling: .none)
    }

    /// Nearest-neighbour enlargement of an image (made RGB).
    public static func enlarge(_ image: Image, by s: Int) throws -> Image {
        let rgb = try ImageGrid.rgb(image), plane = image.width * image.height
        let channels = try (0..<3).map { c in
            try ImageGrid.image([Array(rgb.pixels[(c * plane)..<((c + 1) * plane)])], height: image.height, width: image.width,
                                scale: s, gap: 0, colormap: .grey, scaling: .none)
        }
        let big = channels[0].width * channels[0].height
        return try Image(width: channels[0].width, height: channels[0].height, channels: 3,
                         pixels: channels.enumerated().flatMap { c, grid in Array(grid.pixels[(c * big)..<((c + 1) * big)]) })
    }

    private static func checkImage(_ image: Tensor) throws {
        guard image.rank == 4, image.shape[0] == 1 else {
            throw TensorError.shapeMismatch(op: "Saliency", "input \(describe(image.shape)), expected one image [1, C, H, W]")
        }
    }

    /// The last `Conv2D` called on a forward pass of `image`.
    static func lastConvolution(model: Layer, image: Tensor) throws -> Layer? {
        let wasTraining = model.isTraining
        model.eval()
        defer { model.train(wasTraining) }
        let calls = try withNoGrad { try LayerTrace.record { try model(image.detached()) }.calls }
        return calls.last(where: { $0.layer is Conv2D })?.layer
    }

    /// Runs `forward` in evaluation mode with the tape on, back-propagates the logit of
    /// `classIndex` (or the arg-max) and restores the parameters' gradients and the mode.
    private static func differentiate(model: Layer, classIndex: Int?, _ forward: () throws -> Tensor) throws -> (Int, Tensor) {
        let wasTraining = model.isTraining
        model.eval()
        let saved = model.parameters.map(\.grad)
        defer {
            for (p, g) in zip(model.parameters, saved) { p.grad = g }
            model.train(wasTraining)
        }
        let logits = try forward()
        guard logits.rank == 2, logits.shape[0] == 1 else {
            throw TensorError.shapeMismatch(op: "Saliency", "model output \(describe(logits.shape)), expected logits [1, classes]")
        }
        let classes = logits.shape[1], v = logits.values
        let c = classIndex ?? v.indices.max { v[$0] < v[$1] || (v[$0] == v[$1] && $0 > $1) }!
        guard (0..<classes).contains(c) else {
            throw TensorError.invalidArgument(op: "Saliency", "class \(c) outside 0..<\(classes)")
        }
        var seed = [Float](repeating: 0, count: classes)
        seed[c] = 1
        try logits.backward(gradient: Tensor(shape: [1, classes], values: seed))
        return (c, logits)
    }

    private static func scaled(_ raw: [Float], height: Int, width: Int, classIndex: Int, layer: String?) -> Map {
        let peak = raw.max() ?? 0
        return Map(values: peak > 0 ? raw.map { $0 / peak } : raw, height: height, width: width,
                   classIndex: classIndex, layer: layer, peak: peak)
    }
}
