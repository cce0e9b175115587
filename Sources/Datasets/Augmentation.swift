import Foundation
import TensorCore

/// Composable, seeded image transforms for training, applied one image `[C, H, W]` at a time
/// in the order given (like torchvision's `transforms.Compose`). Every random choice comes
/// from the generator handed in, so a seeded pipeline gives identical images twice.
///
/// Geometry uses pixel centres: output pixel (x, y) of an affine warp samples the input at
/// `A^-1 ((x, y) - c - t) + c`, with c the image centre, bilinearly, and positions outside
/// the image take the nearest border pixel (PyTorch's `padding_mode="border"`), so a
/// normalised background stays background.
public struct Augmentation: Sendable {
    public enum Step: Sendable, Equatable {
        /// `(x - mean[c]) / std[c]` per channel.
        case normalize(mean: [Float], std: [Float])
        /// Bilinear resize to `height x width` (half-pixel centres, no antialiasing).
        case resize(height: Int, width: Int)
        /// The central `height x width` window (rounded down to the top left).
        case centerCrop(height: Int, width: Int)
        /// A random `height x width` window of the image padded by `padding` (with `fill`).
        case randomCrop(height: Int, width: Int, padding: Int, fill: Float)
        /// `padding` pixels of `fill` on every side.
        case pad(Int, fill: Float)
        /// Mirror left-right with probability `p`.
        case horizontalFlip(p: Double)
        /// Mirror top-bottom with probability `p`.
        case verticalFlip(p: Double)
        /// One affine warp: a rotation by up to `degrees` either way, a shift by up to
        /// `translate` of the size, a zoom by a factor in `scale`.
        case affine(degrees: Double, translate: Double, scale: ClosedRange<Double>)
        /// Brightness times a factor in `1 ± brightness`, then contrast: blend with the image's
        /// mean by a factor in `1 ± contrast` (torchvision's `ColorJitter` formulas), clamped to
        /// [0, 1] when `clamp`.
        case jitter(brightness: Double, contrast: Double, clamp: Bool)
        /// Colour to grey (BT.601 luminance), one channel.
        case grayscale
        /// Grey to colour, the channel repeated three times.
        case rgb
        /// With probability `p`, a random rectangle of `area` (a fraction of the image, aspect
        /// 0.3-3.3) set to `value` (Zhong et al., "Random erasing data augmentation", 2017).
        case randomErasing(p: Double, area: ClosedRange<Double>, value: Float)
    }

    public var steps: [Step]
    public init(_ steps: [Step]) { self.steps = steps }

    /// The seeds' augmentation ("translating, rotating or scaling real images"): rotations up
    /// to 10 degrees, shifts up to 10% and zooms of 0.9-1.1, as one warp.
    public static let translateRotateScale = Augmentation([.affine(degrees: 10, translate: 0.1, scale: 0.9...1.1)])

    /// Applies every step to `image` (`[C, H, W]`).
    public func apply(_ image: Tensor, generator: inout SeededGenerator) throws -> Tensor {
        guard image.rank == 3 else {
            throw DatasetError.invalidArgument("augmentation takes one image [C, H, W], got \(describe(image.shape))")
        }
        var x = Planes(c: image.shape[0], h: image.shape[1], w: image.shape[2], v: image.values)
        for step in steps { x = try Augmentation.apply(step, to: x, &generator) }
        return try Tensor(shape: [x.c, x.h, x.w], values: x.v)
    }

    /// Applies the steps to every image of `batch` (`[N, C, H, W]`, same output size for all),
    /// image i with its own generator seeded from `seed` and i, spread over the cores; the
    /// result does not depend on the thread count.
    public func apply(batch: Tensor, seed: UInt64) throws -> Tensor {
        guard batch.rank == 4, batch.shape[0] > 0 else {
            throw DatasetError.invalidArgument("augmentation takes a batch [N, C, H, W], got \(describe(batch.shape))")
        }
        let n = batch.shape[0], per = batch.count / n
        let (c, h, w) = (batch.shape[1], batch.shape[2], batch.shape[3])
        let first = try applyOne(batch, 0, per, c, h, w, seed)
        let out = Tensor(zeros: [n, first.c, first.h, first.w])
        let outPer = first.v.count
        out.pointer.update(from: first.v, count: outPer)
        let failure = FailureBox()
        // Chunks of at least 8 images: a 28x28 warp takes about ten microseconds.
        Parallel.forRanges(n - 1, minPerChunk: 8) { range in
            for i in range {
                do {
                    let y = try self.applyOne(batch, i + 1, per, c, h, w, seed)
                    guard y.v.count == outPer else { throw DatasetError.invalidArgument("augmented images differ in size") }
                    (out.pointer + (i + 1) * outPer).update(from: y.v, count: outPer)
                } catch { failure.set(error) }
            }
        }
        if let error = failure.error { throw error }
        return out
    }

    private func applyOne(_ batch: Tensor, _ i: Int, _ per: Int, _ c: Int, _ h: Int, _ w: Int, _ seed: UInt64) throws -> Planes {
        var generator = SeededGenerator(seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(i))
        var x = Planes(c: c, h: h, w: w, v: Array(UnsafeBufferPointer(start: batch.pointer + i * per, count: per)))
        for step in steps { x = try Augmentation.apply(step, to: x, &generator) }
        return x
    }

    /// Planar pixels.
    struct Planes { var c: Int, h: Int, w: Int, v: [Float]
        func at(_ ch: Int, _ y: Int, _ x: Int) -> Float { v[(ch * h + y) * w + x] }
    }

    static func uniform(_ g: inout SeededGenerator) -> Double { Double(g.next() >> 11) / Double(1 << 53) }

    static func apply(_ step: Step, to x: Planes, _ g: inout SeededGenerator) throws -> Planes {
        switch step {
        case .normalize(let mean, let std):
            guard mean.count == x.c, std.count == x.c, std.allSatisfy({ $0 > 0 }) else {
                throw DatasetError.invalidArgument("normalize needs \(x.c) means and positive stds, got \(mean) and \(std)")
            }
            var y = x
            for c in 0..<x.c { for i in 0..<(x.h * x.w) { y.v[c * x.h * x.w + i] = (x.v[c * x.h * x.w + i] - mean[c]) / std[c] } }
            return y
        case .resize(let h, let w):
            guard h > 0, w > 0 else { throw DatasetError.invalidArgument("resize to \(w)x\(h)") }
            let t = try ImageFitting.fit(try Tensor(shape: [1, x.c, x.h, x.w], values: x.v), to: [x.c, h, w], mode: .resize)
            return Planes(c: x.c, h: h, w: w, v: t.values)
        case .centerCrop(let h, let w):
            guard h > 0, w > 0, h <= x.h, w <= x.w else { throw DatasetError.invalidArgument("centre crop \(w)x\(h) of a \(x.w)x\(x.h) image") }
            return crop(x, top: (x.h - h) / 2, left: (x.w - w) / 2, h: h, w: w)
        case .randomCrop(let h, let w, let padding, let fill):
            let p = try apply(.pad(padding, fill: fill), to: x, &g)
            guard h > 0, w > 0, h <= p.h, w <= p.w else { throw DatasetError.invalidArgument("random crop \(w)x\(h) of a \(p.w)x\(p.h) padded image") }
            let top = Int(uniform(&g) * Double(p.h - h + 1)), left = Int(uniform(&g) * Double(p.w - w + 1))
            return crop(p, top: min(top, p.h - h), left: min(left, p.w - w), h: h, w: w)
        case .pad(let n, let fill):
            guard n >= 0 else { throw DatasetError.invalidArgument("padding must be 0 or more, got \(n)") }
            var y = Planes(c: x.c, h: x.h + 2 * n, w: x.w + 2 * n, v: [Float](repeating: fill, count: x.c * (x.h + 2 * n) * (x.w + 2 * n)))
            for c in 0..<x.c { for r in 0..<x.h { for q in 0..<x.w { y.v[(c * y.h + r + n) * y.w + q + n] = x.at(c, r, q) } } }
            return y
        case .horizontalFlip(let p):
            guard uniform(&g) < p else { return x }
            var y = x
            for c in 0..<x.c { for r in 0..<x.h { for q in 0..<x.w { y.v[(c * x.h + r) * x.w + q] = x.at(c, r, x.w - 1 - q) } } }
            return y
        case .verticalFlip(let p):
            guard uniform(&g) < p else { return x }
            var y = x
            for c in 0..<x.c { for r in 0..<x.h { for q in 0..<x.w { y.v[(c * x.h + r) * x.w + q] = x.at(c, x.h - 1 - r, q) } } }
            return y
        case .affine(let degrees, let translate, let scale):
            guard scale.lowerBound > 0 else { throw DatasetError.invalidArgument("affine scale must be positive, got \(scale)") }
            let angle = (uniform(&g) * 2 - 1) * degrees * .pi / 180
            let tx = (uniform(&g) * 2 - 1) * translate * Double(x.w), ty = (uniform(&g) * 2 - 1) * translate * Double(x.h)
            let s = scale.lowerBound + uniform(&g) * (scale.upperBound - scale.lowerBound)
            return warp(x, angle: angle, scale: s, tx: tx, ty: ty)
        case .jitter(let brightness, let contrast, let clamp):
            let b = 1 + (uniform(&g) * 2 - 1) * brightness, k = 1 + (uniform(&g) * 2 - 1) * contrast
            var y = x
            let plane = x.h * x.w
            // Contrast blends with the mean of the grey image (torchvision's rule).
            var mean = 0.0
            for i in 0..<plane {
                let grey = x.c == 3 ? 0.299 * x.v[i] + 0.587 * x.v[plane + i] + 0.114 * x.v[2 * plane + i] : x.v[i]
                mean += Double(grey) * b
            }
            mean /= Double(plane)
            for i in 0..<y.v.count {
                var v = Double(x.v[i]) * b
                v = (v - mean) * k + mean
                y.v[i] = Float(clamp ? min(1, max(0, v)) : v)
            }
            return y
        case .grayscale:
            guard x.c == 3 else { return x }
            let plane = x.h * x.w
            return Planes(c: 1, h: x.h, w: x.w, v: (0..<plane).map { 0.299 * x.v[$0] + 0.587 * x.v[plane + $0] + 0.114 * x.v[2 * plane + $0] })
        case .rgb:
            guard x.c == 1 else { return x }
            return Planes(c: 3, h: x.h, w: x.w, v: x.v + x.v + x.v)
        case .randomErasing(let p, let area, let value):
            guard uniform(&g) < p else { return x }
            let a = (area.lowerBound + uniform(&g) * (area.upperBound - area.lowerBound)) * Double(x.h * x.w)
            let aspect = exp(log(0.3) + uniform(&g) * (log(3.3) - log(0.3)))
            let eh = min(x.h, max(1, Int((a * aspect).squareRoot().rounded()))), ew = min(x.w, max(1, Int((a / aspect).squareRoot().rounded())))
            let top = Int(uniform(&g) * Double(x.h - eh + 1)), left = Int(uniform(&g) * Double(x.w - ew + 1))
            var y = x
            for c in 0..<x.c { for r in top..<min(x.h, top + eh) { for q in left..<min(x.w, left + ew) { y.v[(c * x.h + r) * x.w + q] = value } } }
            return y
        }
    }

    static func crop(_ x: Planes, top: Int, left: Int, h: Int, w: Int) -> Planes {
        var y = Planes(c: x.c, h: h, w: w, v: [Float](repeating: 0, count: x.c * h * w))
        for c in 0..<x.c { for r in 0..<h { for q in 0..<w { y.v[(c * h + r) * w + q] = x.at(c, top + r, left + q) } } }
        return y
    }

    /// One deterministic affine warp of `image` (`[C, H, W]`): the content turned by `angle`
    /// radians counter-clockwise as displayed (y down), zoomed by `scale` about the centre,
    /// then shifted by (tx, ty) pixels; bilinear sampling, border pixels repeated outside.
    public static func warp(_ image: Tensor, angle: Double, scale: Double = 1, tx: Double = 0, ty: Double = 0) throws -> Tensor {
        guard image.rank == 3, scale > 0 else {
            throw DatasetError.invalidArgument("warp takes one image [C, H, W] and a positive scale, got \(describe(image.shape)) and \(scale)")
        }
        let y = warp(Planes(c: image.shape[0], h: image.shape[1], w: image.shape[2], v: image.values), angle: angle, scale: scale, tx: tx, ty: ty)
        return try Tensor(shape: image.shape, values: y.v)
    }

    static func warp(_ x: Planes, angle: Double, scale: Double, tx: Double, ty: Double) -> Planes {
        var out = [Float](repeating: 0, count: x.v.count)
        let (h, w, plane) = (x.h, x.w, x.h * x.w)
        let cx = Float(w - 1) / 2, cy = Float(h - 1) / 2, maxX = Float(w - 1), maxY = Float(h - 1)
        let cosA = Float(cos(angle) / scale), sinA = Float(sin(angle) / scale), fx0 = Float(tx), fy0 = Float(ty)
        x.v.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for r in 0..<h {
                    let dy = Float(r) - cy - fy0
                    for q in 0..<w {
                        // Inverse map: undo the shift, then the zoom and the rotation.
                        let dx = Float(q) - cx - fx0
                        let fx = min(max(cosA * dx - sinA * dy + cx, 0), maxX)
                        let fy = min(max(sinA * dx + cosA * dy + cy, 0), maxY)
                        let x0 = Int(fx), y0 = Int(fy), x1 = min(x0 + 1, w - 1), y1 = min(y0 + 1, h - 1)
                        let ax = fx - Float(x0), ay = fy - Float(y0)
                        for c in 0..<x.c {
                            let base = c * plane
                            let top = src[base + y0 * w + x0] * (1 - ax) + src[base + y0 * w + x1] * ax
                            let bottom = src[base + y1 * w + x0] * (1 - ax) + src[base + y1 * w + x1] * ax
                            dst[base + r * w + q] = top * (1 - ay) + bottom * ay
                        }
                    }
                }
            }
        }
        return Planes(c: x.c, h: h, w: w, v: out)
    }
}

/// The first error thrown on any thread.
private final class FailureBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Error?
    var error: Error? { lock.withLock { stored } }
    func set(_ e: Error) { lock.withLock { if stored == nil { stored = e } } }
}
