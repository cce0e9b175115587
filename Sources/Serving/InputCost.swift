/// What decoding a request body will cost, read from its first bytes without decoding it:
/// the pixels an image's header declares (PNG's IHDR, JPEG's start-of-frame), or the bytes
/// of JSON. The server refuses inputs over its pixel budget before decoding them, and sends
/// cheap inputs to a lane of their own so that expensive ones never queue ahead of them.
enum InputCost: Equatable {
    /// An image header declaring `width` x `height` pixels.
    case image(width: Int, height: Int)
    /// Anything else (JSON pixels, or bytes no decoder will accept): its size is its cost.
    case bytes(Int)

    /// Reads the cost of `body`.
    init(of body: [UInt8]) {
        if let size = InputCost.pngSize(body) ?? InputCost.jpegSize(body) {
            self = .image(width: size.0, height: size.1)
        } else {
            self = .bytes(body.count)
        }
    }

    /// Whether this input is cheap enough for the quick lane: at most 512x512 pixels or
    /// 64 KB of JSON (a few milliseconds of work).
    var isSmall: Bool {
        switch self {
        case .image(let w, let h): return w <= 512 && h <= 512
        case .bytes(let n): return n <= 64 << 10
        }
    }

    /// The declared pixels, when that is more than `budget` (`Int.max` when the product
    /// does not fit in an Int).
    func pixels(over budget: Int) -> Int? {
        guard case .image(let w, let h) = self else { return nil }
        let (pixels, overflow) = w.multipliedReportingOverflow(by: h)
        if overflow { return Int.max }
        return pixels > budget ? pixels : nil
    }

    /// Width and height from a PNG's IHDR (bytes 16-23, big-endian), which must come first.
    static func pngSize(_ b: [UInt8]) -> (Int, Int)? {
        guard b.count >= 24, b.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]),
              b[12...15].elementsEqual(Array("IHDR".utf8)) else { return nil }
        return (bigEndian(b, 16, 4), bigEndian(b, 20, 4))
    }

    /// Width and height from a JPEG's first start-of-frame marker (SOF0-SOF15 but DHT 0xC4,
    /// JPG 0xC8 and DAC 0xCC), walking the marker segments by their lengths.
    static func jpegSize(_ b: [UInt8]) -> (Int, Int)? {
        guard b.count >= 4, b[0] == 0xFF, b[1] == 0xD8 else { return nil }
        var i = 2
        while i + 4 <= b.count {
            guard b[i] == 0xFF else { return nil }
            let marker = b[i + 1]
            if marker == 0xFF { i += 1; continue }           // fill byte
            if marker == 0xD8 || (0xD0...0xD7).contains(marker) || marker == 0x01 { i += 2; continue }
            let length = bigEndian(b, i + 2, 2)
            guard length >= 2 else { return nil }
            if (0xC0...0xCF).contains(marker) && ![0xC4, 0xC8, 0xCC].contains(marker) {
                guard i + 9 <= b.count else { return nil }
                return (bigEndian(b, i + 7, 2), bigEndian(b, i + 5, 2))
            }
            if marker == 0xDA || marker == 0xD9 { return nil }  // scan data or end before any frame
            i += 2 + length
        }
        return nil
    }

    private static func bigEndian(_ b: [UInt8], _ at: Int, _ count: Int) -> Int {
        (at..<(at + count)).reduce(0) { $0 << 8 | Int(b[$1]) }
    }
}
