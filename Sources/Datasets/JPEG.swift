import CFoveaJPEG
import Foundation

/// JPEG decoding and encoding through libjpeg(-turbo).
///
/// Decoding gives grey (1 channel) for grey JPEGs and RGB (3 channels) for colour ones
/// (YCbCr and CMYK are converted by libjpeg), pixels `stored / 255` in [0, 1]. A truncated or
/// corrupt stream is an error (libjpeg's "premature end of data" warnings included), never a
/// partly grey picture. Encoding writes baseline JPEG from grey or RGB images.
public enum JPEG {
    /// JPEG files start with the SOI marker `FF D8` followed by another marker's `FF`.
    public static let signature: [UInt8] = [0xFF, 0xD8, 0xFF]

    /// Reads and decodes the JPEG file at `url`; images over `maxPixels` are refused.
    public static func read(contentsOf url: URL, maxPixels: Int = PNG.maxPixels) throws -> Image {
        try decode(FileIO.read(url), path: url.path, maxPixels: maxPixels)
    }

    /// Decodes JPEG bytes; `path` names the source in error messages. The header's size is
    /// checked against `maxPixels` (default `PNG.maxPixels`, 2^26) before libjpeg allocates
    /// anything (issue 29 finding 4).
    ///
    /// - Throws: `DatasetError.imageTooLarge` for a declared size over `maxPixels`,
    ///   `.invalidJPEG` with libjpeg's message otherwise.
    public static func decode(_ bytes: [UInt8], path: String? = nil, maxPixels: Int = PNG.maxPixels) throws -> Image {
        guard bytes.starts(with: signature) else {
            throw DatasetError.invalidJPEG(path: path, reason: "no JPEG start-of-image marker; first bytes are \(bytes.prefix(4).map { String(format: "%02X", $0) }.joined(separator: " "))")
        }
        var buffer: UnsafeMutablePointer<UInt8>?
        var width: Int32 = 0, height: Int32 = 0, channels: Int32 = 0
        var message = [CChar](repeating: 0, count: 256)
        let status = bytes.withUnsafeBufferPointer { data in
            fovea_jpeg_decode(data.baseAddress, data.count, max(0, maxPixels), &buffer, &width, &height, &channels, &message, message.count)
        }
        defer { fovea_jpeg_free(buffer) }
        if status == 2 {
            guard width > 0, height > 0 else { throw DatasetError.invalidJPEG(path: path, reason: "the header declares \(width)x\(height) pixels") }
            throw DatasetError.imageTooLarge(path: path, width: Int(width), height: Int(height), maxPixels: maxPixels)
        }
        guard status == 0, let buffer else {
            throw DatasetError.invalidJPEG(path: path, reason: cText(message))
        }
        let (w, h, c) = (Int(width), Int(height), Int(channels))
        var pixels = [Float](repeating: 0, count: w * h * c)
        PNG.deinterleave(Array(UnsafeBufferPointer(start: buffer, count: w * h * c)), into: &pixels,
                         channels: c, plane: w * h, scale: 255)
        return try Image(width: w, height: h, channels: c, pixels: pixels)
    }

    /// Encodes a grey or RGB `image` (alpha is dropped: 2 channels become grey, 4 become RGB)
    /// at `quality` 1-100.
    public static func encode(_ image: Image, quality: Int = 95) throws -> [UInt8] {
        guard image.width > 0, image.height > 0 else {
            throw DatasetError.invalidArgument("cannot encode an empty \(image.width)x\(image.height) image")
        }
        guard (1...100).contains(quality) else {
            throw DatasetError.invalidArgument("JPEG quality must be 1...100, got \(quality)")
        }
        let plane = image.width * image.height
        let kept = image.channels >= 3 ? 3 : 1
        let opaque = try Image(width: image.width, height: image.height, channels: kept,
                               pixels: Array(image.pixels[0..<(kept * plane)]))
        let samples: [UInt8] = PNG.interleave(opaque) { UInt8(PNG.quantize($0, levels: 255)) }
        var out: UnsafeMutablePointer<UInt8>?
        var size = 0
        var message = [CChar](repeating: 0, count: 256)
        let status = samples.withUnsafeBufferPointer {
            fovea_jpeg_encode($0.baseAddress, Int32(image.width), Int32(image.height), Int32(kept), Int32(quality),
                              &out, &size, &message, message.count)
        }
        defer { fovea_jpeg_free(out) }
        guard status == 0, let out else { throw DatasetError.invalidJPEG(path: nil, reason: cText(message)) }
        return Array(UnsafeBufferPointer(start: out, count: size))
    }

    /// Encodes `image` and writes it to `url` atomically.
    public static func write(_ image: Image, to url: URL, quality: Int = 95) throws {
        try FileIO.write(encode(image, quality: quality), to: url)
    }
}

/// Decoding whichever of PNG and JPEG the bytes are.
public enum ImageFile {
    /// Decodes PNG or JPEG bytes, chosen by their signature; images over `maxPixels` (default
    /// `PNG.maxPixels`, 2^26) are refused from the header, before any allocation.
    ///
    /// - Throws: `DatasetError.unknownImageFormat` for anything else, or the format's own errors.
    public static func decode(_ bytes: [UInt8], path: String? = nil, maxPixels: Int = PNG.maxPixels) throws -> Image {
        if bytes.starts(with: PNG.signature) { return try PNG.decode(bytes, path: path, maxPixels: maxPixels) }
        if bytes.starts(with: JPEG.signature) { return try JPEG.decode(bytes, path: path, maxPixels: maxPixels) }
        throw DatasetError.unknownImageFormat(path: path, firstBytes: Array(bytes.prefix(8)))
    }

    /// Reads and decodes the PNG or JPEG file at `url` (at most `maxPixels` pixels).
    public static func read(contentsOf url: URL, maxPixels: Int = PNG.maxPixels) throws -> Image {
        try decode(FileIO.read(url), path: url.path, maxPixels: maxPixels)
    }
}

/// The text of a NUL-terminated C buffer.
private func cText(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
