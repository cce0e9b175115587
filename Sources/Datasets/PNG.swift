import CPNG
import Foundation

/// PNG decoding and encoding through libpng's simplified API.
///
/// Reading accepts every PNG colour type and bit depth: grey (1, 2, 4, 8, 16 bits), grey
/// with alpha, RGB, RGBA and palette images (with or without `tRNS` transparency, which
/// becomes an alpha channel). The result is an `Image` of 1-4 planar channels in [0, 1]:
/// - 8-bit and lower: `stored / 255` (low depths are first scaled to 8 bits), exactly the
///   stored sRGB values for ordinary files; a file with a non-sRGB `gAMA` is converted to sRGB.
/// - 16-bit: `stored / 65535`. libpng treats 16-bit data as linear and hands it back with
///   alpha premultiplied; the colour is divided back out, so colour under a fully
///   transparent pixel reads as 0.
///
/// Writing produces 8-bit grey, grey+alpha, RGB or RGBA, or 16-bit grey or RGB, from
/// values clamped to [0, 1] and rounded to the nearest level.
public enum PNG {
    /// The 8 bytes every PNG file starts with: `89 50 4E 47 0D 0A 1A 0A`.
    public static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// The default pixel budget of `decode` (and of `JPEG.decode`, `ImageFile.decode`): 2^26
    /// pixels, an 8192x8192 square. A header that declares more is refused before anything is
    /// allocated, like Pillow's decompression-bomb limit; pass `maxPixels:` to allow more.
    /// An RGBA image at the budget decodes to 1 GiB of floats.
    public static let maxPixels = 1 << 26

    /// Deflate expands at most 1032:1, so a PNG of `n` bytes holds at most about `1032 n`
    /// bytes of image data.
    static let maxDeflateRatio = 1032

    /// Reads and decodes the PNG file at `url`; images over `maxPixels` are refused.
    public static func read(contentsOf url: URL, maxPixels: Int = PNG.maxPixels) throws -> Image {
        try decode(FileIO.read(url), path: url.path, maxPixels: maxPixels)
    }

    /// Reads a PNG for a classifier trained on `width x height` greyscale images (MNIST's
    /// 28x28 by default): colour is converted to luminance and alpha composited onto black
    /// (see `Image.grayscale`). Use `.toTensor()` for the `[1, 1, H, W]` model input.
    ///
    /// - Throws: `DatasetError.imageSize` ("image is 32x32, expected 28x28") for another size,
    ///   or the errors of `decode`.
    public static func readGrayscale(contentsOf url: URL, width: Int = 28, height: Int = 28) throws -> Image {
        let image = try read(contentsOf: url)
        guard image.width == width, image.height == height else {
            throw DatasetError.imageSize(path: url.path, width: image.width, height: image.height,
                                         expectedWidth: width, expectedHeight: height)
        }
        return image.grayscale()
    }

    /// Refuses a chunk whose declared length runs past the end of the bytes. libpng allocates
    /// an ancillary chunk's declared length before reading it (a 73-byte file whose sPLT
    /// chunk declares 1.9 GB asked for 1.9 GB, found by Fuzz/FuzzPNG); with the whole file
    /// in memory, no honest chunk is longer than what is left of it.
    static func checkChunkLengths(_ bytes: [UInt8], path: String?) throws {
        var at = signature.count
        while at + 8 <= bytes.count {
            let length = bytes[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) }
            let type = String(decoding: bytes[(at + 4)..<(at + 8)], as: UTF8.self)
            let left = bytes.count - at - 12
            guard length <= left else {
                throw DatasetError.invalidPNG(path: path, reason: "chunk '\(type)' at byte \(at) declares \(length) bytes, only \(max(0, left)) remain in the file")
            }
            if type == "IEND" { return }
            at += 12 + length
        }
    }

    /// Decodes PNG bytes. `path` names the source in error messages.
    ///
    /// The header is checked before any allocation: more than `maxPixels` pixels, or more
    /// than the file's compressed bytes can hold, is an error (issue 29 finding 4).
    ///
    /// - Throws: `DatasetError.notPNG` when the signature is missing, `.imageTooLarge` for a
    ///   declared size over `maxPixels`, `.invalidPNG` with libpng's message for truncated or
    ///   corrupt data (or a size the data cannot hold).
    public static func decode(_ bytes: [UInt8], path: String? = nil, maxPixels: Int = PNG.maxPixels) throws -> Image {
        guard bytes.starts(with: signature) else {
            throw DatasetError.notPNG(path: path, firstBytes: Array(bytes.prefix(8)))
        }
        try checkChunkLengths(bytes, path: path)
        var png = png_image()
        png.version = UInt32(PNG_IMAGE_VERSION)
        defer { png_image_free(&png) }
        let begun = bytes.withUnsafeBytes { png_image_begin_read_from_memory(&png, $0.baseAddress, $0.count) }
        guard begun != 0 else { throw DatasetError.invalidPNG(path: path, reason: message(png)) }

        let hasAlpha = png.format & UInt32(PNG_FORMAT_FLAG_ALPHA) != 0
        let isColor = png.format & UInt32(PNG_FORMAT_FLAG_COLOR) != 0
        let is16Bit = png.format & UInt32(PNG_FORMAT_FLAG_LINEAR) != 0
        // Ask for the file's own layout, palettes expanded: libpng then converts nothing
        // but the bit depth (and gamma, for files that are not sRGB).
        png.format = (hasAlpha ? UInt32(PNG_FORMAT_FLAG_ALPHA) : 0) | (isColor ? UInt32(PNG_FORMAT_FLAG_COLOR) : 0)
            | (is16Bit ? UInt32(PNG_FORMAT_FLAG_LINEAR) : 0)
        let channels = (isColor ? 3 : 1) + (hasAlpha ? 1 : 0)
        let width = Int(png.width), height = Int(png.height)
        // The header alone decides the allocation: refuse absurd sizes before trusting it.
        // Both sizes are below 2^31 (libpng's own limit), so the products cannot overflow.
        guard width * height <= maxPixels else {
            throw DatasetError.imageTooLarge(path: path, width: width, height: height, maxPixels: maxPixels)
        }
        // Even 1-bit pixels need a filter byte per row and width/8 bytes: a file too small to
        // inflate to that is truncated or hostile, and must not cost the allocation.
        let leastData = height * (1 + (width + 7) / 8)
        guard leastData / maxDeflateRatio <= bytes.count else {
            throw DatasetError.invalidPNG(path: path, reason: "the header declares \(width)x\(height) pixels, at least "
                + "\(leastData) bytes of image data, which \(bytes.count) bytes of file cannot hold "
                + "(deflate expands at most \(maxDeflateRatio):1); the file is truncated or damaged")
        }
        let count = width * height * channels

        var pixels = [Float](repeating: 0, count: count)
        if is16Bit {
            var buffer = [UInt16](repeating: 0, count: count)
            let done = buffer.withUnsafeMutableBytes { png_image_finish_read(&png, nil, $0.baseAddress, 0, nil) }
            guard done != 0 else { throw DatasetError.invalidPNG(path: path, reason: message(png)) }
            deinterleave(buffer, into: &pixels, channels: channels, plane: width * height, scale: 65535)
            if hasAlpha { unpremultiply(&pixels, channels: channels, plane: width * height) }
        } else {
            var buffer = [UInt8](repeating: 0, count: count)
            let done = buffer.withUnsafeMutableBytes { png_image_finish_read(&png, nil, $0.baseAddress, 0, nil) }
            guard done != 0 else { throw DatasetError.invalidPNG(path: path, reason: message(png)) }
            deinterleave(buffer, into: &pixels, channels: channels, plane: width * height, scale: 255)
        }
        return try Image(width: width, height: height, channels: channels, pixels: pixels)
    }

    /// Encodes `image` as PNG: `bitDepth` 8 for any channel count, 16 for grey or RGB
    /// (libpng's 16-bit path expects premultiplied alpha, which would lose precision).
    public static func encode(_ image: Image, bitDepth: Int = 8) throws -> [UInt8] {
        guard bitDepth == 8 || bitDepth == 16 else {
            throw DatasetError.invalidArgument("PNG bit depth must be 8 or 16, got \(bitDepth)")
        }
        guard bitDepth == 8 || !image.hasAlpha else {
            throw DatasetError.invalidArgument("16-bit PNG writing supports grey and RGB, not \(image.channels) channels with alpha")
        }
        guard image.width > 0, image.height > 0 else {
            throw DatasetError.invalidArgument("cannot encode an empty \(image.width)x\(image.height) image")
        }
        var png = png_image()
        png.version = UInt32(PNG_IMAGE_VERSION)
        png.width = UInt32(image.width)
        png.height = UInt32(image.height)
        png.format = (image.hasAlpha ? UInt32(PNG_FORMAT_FLAG_ALPHA) : 0)
            | (image.channels >= 3 ? UInt32(PNG_FORMAT_FLAG_COLOR) : 0)
            | (bitDepth == 16 ? UInt32(PNG_FORMAT_FLAG_LINEAR) : 0)
        defer { png_image_free(&png) }

        func write(_ buffer: UnsafeRawBufferPointer) throws -> [UInt8] {
            var size = 0
            // The first call measures, the second writes.
            guard png_image_write_to_memory(&png, nil, &size, 0, buffer.baseAddress, 0, nil) != 0 else {
                throw DatasetError.invalidPNG(path: nil, reason: message(png))
            }
            var out = [UInt8](repeating: 0, count: size)
            let ok = out.withUnsafeMutableBytes {
                png_image_write_to_memory(&png, $0.baseAddress, &size, 0, buffer.baseAddress, 0, nil)
            }
            guard ok != 0 else { throw DatasetError.invalidPNG(path: nil, reason: message(png)) }
            return Array(out.prefix(size))
        }
        if bitDepth == 16 {
            let buffer: [UInt16] = interleave(image) { UInt16(quantize($0, levels: 65535)) }
            return try buffer.withUnsafeBytes { try write($0) }
        } else {
            let buffer: [UInt8] = interleave(image) { UInt8(quantize($0, levels: 255)) }
            return try buffer.withUnsafeBytes { try write($0) }
        }
    }

    /// Encodes `image` (see `encode`) and writes it to `url` atomically.
    public static func write(_ image: Image, to url: URL, bitDepth: Int = 8) throws {
        try FileIO.write(encode(image, bitDepth: bitDepth), to: url)
    }

    /// libpng's message from a failed call.
    private static func message(_ png: png_image) -> String {
        let text = withUnsafeBytes(of: png.message) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        return text.isEmpty ? "libpng error" : text
    }

    /// Interleaved HWC samples to planar CHW floats, `sample / scale`.
    static func deinterleave<T: BinaryInteger>(_ samples: [T], into pixels: inout [Float],
                                                       channels: Int, plane: Int, scale: Float) {
        for i in 0..<plane {
            for c in 0..<channels { pixels[c * plane + i] = Float(samples[i * channels + c]) / scale }
        }
    }

    /// Divides premultiplied colour channels by alpha (the last channel).
    private static func unpremultiply(_ pixels: inout [Float], channels: Int, plane: Int) {
        let alpha = (channels - 1) * plane
        for i in 0..<plane {
            let a = pixels[alpha + i]
            for c in 0..<(channels - 1) {
                pixels[c * plane + i] = a > 0 ? min(pixels[c * plane + i] / a, 1) : 0
            }
        }
    }

    /// Planar CHW floats to interleaved HWC samples.
    static func interleave<T>(_ image: Image, _ convert: (Float) -> T) -> [T] {
        let plane = image.width * image.height, channels = image.channels
        return (0..<(plane * channels)).map { j in convert(image.pixels[(j % channels) * plane + j / channels]) }
    }

    /// `value` clamped to [0, 1] and rounded to one of `levels + 1` steps; NaN maps to 0.
    static func quantize(_ value: Float, levels: Float) -> Float {
        guard value > 0 else { return 0 }
        return (min(value, 1) * levels).rounded()
    }
}
