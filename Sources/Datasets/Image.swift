import TensorCore

/// A decoded image: `channels` planes of `height x width` Float pixels, normally in [0, 1].
///
/// Channels are 1 (grey), 2 (grey, alpha), 3 (red, green, blue) or 4 (red, green, blue,
/// alpha), stored planar (CHW, like a tensor): pixel `(c, y, x)` is
/// `pixels[(c * height + y) * width + x]`. Alpha is straight (not premultiplied).
public struct Image: Sendable, Equatable {
    /// Width in pixels.
    public let width: Int
    /// Height in pixels.
    public let height: Int
    /// 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA.
    public let channels: Int
    /// `channels * height * width` values, planar CHW.
    public let pixels: [Float]

    /// Checks that `channels` is 1...4 and that `pixels` holds `channels * height * width` values.
    public init(width: Int, height: Int, channels: Int, pixels: [Float]) throws {
        guard width >= 0, height >= 0 else {
            throw DatasetError.invalidArgument("image size \(width)x\(height) is negative")
        }
        guard (1...4).contains(channels) else {
            throw DatasetError.invalidArgument("an image has 1 to 4 channels, got \(channels)")
        }
        guard pixels.count == channels * width * height else {
            throw DatasetError.invalidArgument(
                "\(pixels.count) pixel values for a \(width)x\(height) image of \(channels) channels "
                    + "(\(channels * width * height) needed)")
        }
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// An image from a tensor `[C, H, W]` or `[1, C, H, W]` with C in 1...4 (values copied
    /// as they are; encoders clamp to [0, 1]).
    public init(tensor: Tensor) throws {
        let s = tensor.shape
        let chw: [Int]
        if s.count == 3 {
            chw = s
        } else if s.count == 4 && s[0] == 1 {
            chw = Array(s[1...])
        } else {
            throw DatasetError.invalidArgument("an image tensor is [C, H, W] or [1, C, H, W], got \(describe(s))")
        }
        try self.init(width: chw[2], height: chw[1], channels: chw[0], pixels: tensor.values)
    }

    /// Whether the last channel is alpha (2 or 4 channels).
    public var hasAlpha: Bool { channels == 2 || channels == 4 }

    /// The value of channel `c` at row `y`, column `x`.
    public subscript(c: Int, y: Int, x: Int) -> Float {
        precondition(c >= 0 && c < channels && y >= 0 && y < height && x >= 0 && x < width,
                     "pixel (\(c), \(y), \(x)) outside \(channels)x\(height)x\(width)")
        return pixels[(c * height + y) * width + x]
    }

    /// The pixels as a tensor `[1, C, H, W]`, ready to feed a model.
    public func toTensor() -> Tensor {
        try! Tensor(shape: [1, channels, height, width], values: pixels)
    }

    /// A one-channel image of luminance, `0.299 R + 0.587 G + 0.114 B` (ITU-R BT.601, the
    /// weights PIL's `convert("L")` uses). Alpha is composited onto black, `grey * alpha`,
    /// so transparent areas become background: MNIST digits are white on black.
    public func grayscale() -> Image {
        if channels == 1 { return self }
        let plane = width * height
        var grey = [Float](repeating: 0, count: plane)
        pixels.withUnsafeBufferPointer { p in
            for i in 0..<plane {
                var value: Float
                switch channels {
                case 1, 2: value = p[i]
                default: value = 0.299 * p[i] + 0.587 * p[plane + i] + 0.114 * p[2 * plane + i]
                }
                if hasAlpha { value *= p[(channels - 1) * plane + i] }
                grey[i] = value
            }
        }
        return try! Image(width: width, height: height, channels: 1, pixels: grey)
    }
}
