import Foundation
import Datasets

/// Tiles many small planes (filters, feature maps, digits) into one RGB image, each tile
/// enlarged by whole pixels (nearest neighbour, so every weight or activation stays one
/// visible square) with a grey gap between tiles.
public enum ImageGrid {
    /// How tile values map to [0, 1] before the colour map.
    public enum Scaling: Sendable, Equatable {
        /// Each tile from its own minimum to its own maximum.
        case perTile
        /// All tiles from the overall minimum to the overall maximum (compares tiles).
        case shared
        /// Zero at 0.5 and the largest magnitude over all tiles at 0 and 1 (signed weights).
        case symmetric
        /// Values taken as they are, already in [0, 1] (pixels).
        case none
    }

    /// One RGB image of `planes` (each `height * width` values, row-major) in `columns`
    /// columns (default: about a square), each pixel `scale x scale`, `gap` pixels of grey
    /// `gapShade` apart.
    public static func image(_ planes: [[Float]], height: Int, width: Int, columns: Int? = nil, scale: Int = 1,
                             gap: Int = 1, gapShade: Float = 0.8, colormap: Colormap, scaling: Scaling) throws -> Image {
        guard !planes.isEmpty, height > 0, width > 0, scale > 0, gap >= 0 else {
            throw DatasetError.invalidArgument("an image grid needs at least one tile of positive size, got \(planes.count) tiles of \(height)x\(width), scale \(scale)")
        }
        if let bad = planes.firstIndex(where: { $0.count != height * width }) {
            throw DatasetError.invalidArgument("tile \(bad) has \(planes[bad].count) values, a \(height)x\(width) tile needs \(height * width)")
        }
        let cols = columns.map { max(1, min($0, planes.count)) } ?? Int(Double(planes.count).squareRoot().rounded(.up))
        let rows = (planes.count + cols - 1) / cols
        let th = height * scale, tw = width * scale
        let outW = cols * tw + (cols + 1) * gap, outH = rows * th + (rows + 1) * gap
        let plane = outW * outH
        var pixels = [Float](repeating: gapShade, count: 3 * plane)

        let finite = planes.joined().filter(\.isFinite)
        let lo = finite.min() ?? 0, hi = finite.max() ?? 1
        let magnitude = max(Swift.abs(lo), Swift.abs(hi))
        for (index, tile) in planes.enumerated() {
            let (a, b): (Float, Float)
            switch scaling {
            case .perTile:
                let f = tile.filter(\.isFinite)
                (a, b) = (f.min() ?? 0, f.max() ?? 1)
            case .shared: (a, b) = (lo, hi)
            case .symmetric: (a, b) = (-magnitude, magnitude)
            case .none: (a, b) = (0, 1)
            }
            let span = b - a > 0 ? b - a : 1
            let ox = gap + (index % cols) * (tw + gap), oy = gap + (index / cols) * (th + gap)
            for y in 0..<height {
                for x in 0..<width {
                    let v = tile[y * width + x]
                    let c = colormap.rgb(Double(v.isFinite ? (v - a) / span : 0))
                    for dy in 0..<scale {
                        let row = (oy + y * scale + dy) * outW + ox + x * scale
                        for dx in 0..<scale {
                            pixels[row + dx] = Float(c.r)
                            pixels[plane + row + dx] = Float(c.g)
                            pixels[2 * plane + row + dx] = Float(c.b)
                        }
                    }
                }
            }
        }
        return try Image(width: outW, height: outH, channels: 3, pixels: pixels)
    }

    /// RGB tiles: `planes[i]` holds three planes (`3 * height * width`, planar) shown as colour,
    /// scaled symmetrically around zero by the largest magnitude of that tile (first-layer
    /// filters of a colour model).
    public static func colourImage(_ planes: [[Float]], height: Int, width: Int, columns: Int? = nil, scale: Int = 1,
                                   gap: Int = 1) throws -> Image {
        let n = height * width
        if let bad = planes.firstIndex(where: { $0.count != 3 * n }) {
            throw DatasetError.invalidArgument("colour tile \(bad) has \(planes[bad].count) values, 3x\(height)x\(width) needs \(3 * n)")
        }
        // Three grey grids, one per channel, laid side by side in the same geometry, then merged.
        var channels: [Image] = []
        for c in 0..<3 {
            let scaled = planes.map { tile -> [Float] in
                let m = tile.map(Swift.abs).max() ?? 1
                return tile[(c * n)..<((c + 1) * n)].map { m > 0 ? ($0 / m + 1) / 2 : 0.5 }
            }
            channels.append(try image(scaled, height: height, width: width, columns: columns, scale: scale, gap: gap,
                                      colormap: .grey, scaling: .none))
        }
        let plane = channels[0].width * channels[0].height
        let merged = Array(channels[0].pixels[0..<plane]) + Array(channels[1].pixels[0..<plane]) + Array(channels[2].pixels[0..<plane])
        return try Image(width: channels[0].width, height: channels[0].height, channels: 3, pixels: merged)
    }

    /// `image` as three colour planes: grey is repeated, alpha dropped.
    public static func rgb(_ image: Image) throws -> Image {
        if image.channels == 3 { return image }
        let plane = image.width * image.height
        let colour = image.channels == 4 ? Array(image.pixels[0..<(3 * plane)])
            : Array(repeating: Array(image.pixels[0..<plane]), count: 3).flatMap { $0 }
        return try Image(width: image.width, height: image.height, channels: 3, pixels: colour)
    }

    /// The whole-pixel enlargement that makes a `side`-pixel tile about `target` pixels.
    public static func scale(for side: Int, target: Int = 56) -> Int { max(1, min(16, target / max(side, 1))) }
}
