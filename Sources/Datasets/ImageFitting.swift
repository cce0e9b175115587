import TensorCore

/// Brings images to the input a model expects, `[C, H, W]`: the channel count by repeating a
/// grey channel (or averaging RGB to grey with ITU-R BT.601 weights), the size by centred zero
/// padding or bilinear resizing. This is how `fovea train --model resnet18-cifar` runs on
/// 28x28 MNIST digits (padded to 32x32, as LeNet-5's paper padded them) and how
/// `--input 3x64x64` scales them up.
public enum ImageFitting {
    /// How the size changes.
    public enum Mode: String, Sendable, CaseIterable {
        /// Centred zero padding; the target must be at least the source in both axes.
        case pad
        /// Bilinear interpolation (PyTorch's `interpolate(mode="bilinear", align_corners=False)`,
        /// without antialiasing).
        case resize

        /// `pad` when the target is larger in both axes by at most a quarter of the source
        /// (28 -> 32 or 35), `resize` otherwise.
        public static func automatic(from source: (h: Int, w: Int), to target: (h: Int, w: Int)) -> Mode {
            let grows = target.h >= source.h && target.w >= source.w
            let small = (target.h - source.h) * 4 <= source.h && (target.w - source.w) * 4 <= source.w
            return grows && small ? .pad : .resize
        }
    }

    /// `images` `[N, c, h, w]` -> `[N, C, H, W]` for `target` `[C, H, W]`.
    /// - Throws: `DatasetError.invalidArgument` for a target that is not three positive sizes, a
    ///   channel change other than 1 -> C or 3 -> 1, or padding to a smaller size.
    public static func fit(_ images: Tensor, to target: [Int], mode: Mode? = nil) throws -> Tensor {
        guard images.rank == 4 else {
            throw DatasetError.invalidArgument("images must be [N, C, H, W], got \(describe(images.shape))")
        }
        guard target.count == 3, target.allSatisfy({ $0 > 0 }) else {
            throw DatasetError.invalidArgument("target input must be [C, H, W] with positive sizes, got \(describe(target))")
        }
        let (n, c, h, w) = (images.shape[0], images.shape[1], images.shape[2], images.shape[3])
        let (C, H, W) = (target[0], target[1], target[2])
        guard c == C || c == 1 || (c == 3 && C == 1) else {
            throw DatasetError.invalidArgument("cannot turn \(c)-channel images into \(C) channels (only 1 -> any, 3 -> 1)")
        }
        let chosen = mode ?? Mode.automatic(from: (h, w), to: (H, W))
        if chosen == .pad && (H < h || W < w) {
            throw DatasetError.invalidArgument("cannot pad \(h)x\(w) images to the smaller \(H)x\(W); use resize")
        }
        // Size first, on the fewer channels.
        var sized = images
        if H != h || W != w {
            sized = Tensor(zeros: [n, c, H, W])
            let src = images.pointer, dst = sized.pointer
            let rows = taps(H, from: h), cols = taps(W, from: w)
            Parallel.forRanges(n * c, minPerChunk: 16) { range in
                for p in range {
                    if chosen == .pad {
                        padPlane(src + p * h * w, h, w, into: dst + p * H * W, H, W)
                    } else {
                        resizePlane(src + p * h * w, w, into: dst + p * H * W, W, rows: rows, cols: cols)
                    }
                }
            }
        }
        guard C != c else { return sized }
        let out = Tensor.uninitialized([n, C, H, W])
        let plane = H * W, src = sized.pointer, dst = out.pointer
        for i in 0..<n {
            if c == 1 {
                for k in 0..<C { (dst + (i * C + k) * plane).update(from: src + i * plane, count: plane) }
            } else {
                let r = src + i * 3 * plane, g = r + plane, b = g + plane, d = dst + i * plane
                for q in 0..<plane { d[q] = 0.299 * r[q] + 0.587 * g[q] + 0.114 * b[q] }
            }
        }
        return out
    }

    /// Copies an `h x w` plane into the centre of a zeroed `H x W` one (extra row or column,
    /// when the difference is odd, goes to the bottom or right).
    static func padPlane(_ src: UnsafeMutablePointer<Float>, _ h: Int, _ w: Int,
                         into dst: UnsafeMutablePointer<Float>, _ H: Int, _ W: Int) {
        let top = (H - h) / 2, left = (W - w) / 2
        for y in 0..<h { (dst + (top + y) * W + left).update(from: src + y * w, count: w) }
    }

    /// Bilinear taps along one axis with half-pixel centres: output pixel `o` samples the input
    /// at `(o + 0.5) * in / out - 0.5`, clamped to the edges, between `i0` and `i1` with weight
    /// `f` on `i1`.
    static func taps(_ out: Int, from input: Int) -> [(i0: Int, i1: Int, f: Float)] {
        let scale = Float(input) / Float(out)
        return (0..<out).map { o in
            let s = max(0, (Float(o) + 0.5) * scale - 0.5)
            let i0 = min(Int(s), input - 1)
            return (i0, min(i0 + 1, input - 1), s - Float(i0))
        }
    }

    /// Resamples one plane of width `w` into one of width `W` with the row and column `taps`.
    static func resizePlane(_ src: UnsafeMutablePointer<Float>, _ w: Int, into dst: UnsafeMutablePointer<Float>, _ W: Int,
                            rows: [(i0: Int, i1: Int, f: Float)], cols: [(i0: Int, i1: Int, f: Float)]) {
        for (y, (y0, y1, fy)) in rows.enumerated() {
            let r0 = src + y0 * w, r1 = src + y1 * w, d = dst + y * W
            for (x, (x0, x1, fx)) in cols.enumerated() {
                let top = r0[x0] + (r0[x1] - r0[x0]) * fx
                let bottom = r1[x0] + (r1[x1] - r1[x0]) * fx
                d[x] = top + (bottom - top) * fy
            }
        }
    }
}

extension LabeledImages {
    /// The images brought to `[C, H, W]` (see `ImageFitting`), with the same labels. Apply to
    /// raw pixels before `normalized`, so padding is the background value 0.
    /// - Throws: as `ImageFitting.fit`, and when the result would need more than `maxBytes`.
    public func fitted(to target: [Int], mode: ImageFitting.Mode? = nil, maxBytes: Int = 6_000_000_000) throws -> LabeledImages {
        if target == [channels, height, width] { return self }
        let bytes = count * target.reduce(1, *) * 4
        guard bytes <= maxBytes else {
            throw DatasetError.invalidArgument(String(format:
                "%d images at %@ need %.1f GB in memory (limit %.1f GB); use a smaller input or fewer images",
                count, target.map(String.init).joined(separator: "x"), Double(bytes) / 1e9, Double(maxBytes) / 1e9))
        }
        return try LabeledImages(images: ImageFitting.fit(images, to: target, mode: mode), labels: labels, classNames: classNames)
    }
}
