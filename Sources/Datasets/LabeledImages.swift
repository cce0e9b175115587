import TensorCore

/// A classification data set held in memory: images `[N, C, H, W]` (Float) with one class
/// index per image.
///
/// `labels[i]` is the class of image `i`, in `0..<classNames.count`; `classNames[k]` is
/// the human-readable name of class `k` (`"0"`...`"9"` for MNIST).
public struct LabeledImages: Sendable {
    /// The images, `[N, C, H, W]`.
    public let images: Tensor
    /// One class index per image, `N` of them.
    public let labels: [Int]
    /// Names of the classes; labels index into it.
    public let classNames: [String]

    /// Checks that `images` is rank 4 with one image per label and that every label is a
    /// valid class index.
    public init(images: Tensor, labels: [Int], classNames: [String]) throws {
        guard images.rank == 4 else {
            throw DatasetError.invalidArgument("images must be [N, C, H, W], got shape \(describe(images.shape))")
        }
        guard images.shape[0] == labels.count else {
            throw DatasetError.invalidArgument(
                "\(images.shape[0]) images (shape \(describe(images.shape))) but \(labels.count) labels")
        }
        guard !classNames.isEmpty else { throw DatasetError.invalidArgument("classNames is empty") }
        if let bad = labels.firstIndex(where: { $0 < 0 || $0 >= classNames.count }) {
            throw DatasetError.labelOutOfRange(path: nil, index: bad, label: labels[bad], classCount: classNames.count)
        }
        self.images = images
        self.labels = labels
        self.classNames = classNames
    }

    /// Number of images, N.
    public var count: Int { labels.count }
    /// Channels per image, C.
    public var channels: Int { images.shape[1] }
    /// Image height in pixels, H.
    public var height: Int { images.shape[2] }
    /// Image width in pixels, W.
    public var width: Int { images.shape[3] }
    /// Elements per image, C * H * W.
    public var imageSize: Int { channels * height * width }

    /// The images at `indices` (in that order, repeats allowed) with their labels; each
    /// image is copied with one `memcpy`. Throws for an index outside `0..<count`.
    public func subset<Indices: Collection>(_ indices: Indices) throws -> LabeledImages where Indices.Element == Int {
        if let bad = indices.first(where: { $0 < 0 || $0 >= count }) {
            throw DatasetError.invalidArgument("subset index \(bad) is outside 0..<\(count)")
        }
        let out = Tensor.uninitialized([indices.count, channels, height, width])
        let size = imageSize
        for (row, i) in indices.enumerated() {
            (out.pointer + row * size).update(from: images.pointer + i * size, count: size)
        }
        return try LabeledImages(images: out, labels: indices.map { labels[$0] }, classNames: classNames)
    }

    /// The images normalised per channel, `(x - mean[c]) / std[c]`, like torchvision's
    /// `Normalize`. `mean` and `std` need one value per channel (C), and every `std` must be
    /// positive.
    public func normalized(mean: [Float], std: [Float]) throws -> LabeledImages {
        guard mean.count == channels, std.count == channels else {
            throw DatasetError.invalidArgument(
                "normalized: \(channels) channels but \(mean.count) means and \(std.count) standard deviations")
        }
        if let bad = std.first(where: { !($0 > 0) || !$0.isFinite }) {
            throw DatasetError.invalidArgument("normalized: standard deviation \(bad) is not positive and finite")
        }
        let out = Tensor.uninitialized(images.shape)
        let plane = height * width
        let src = images.pointer, dst = out.pointer
        let planes = count * channels
        Parallel.forRanges(planes, minPerChunk: 64) { range in
            for p in range {
                let c = p % channels
                let m = mean[c], scale = 1 / std[c]
                let s = src + p * plane, d = dst + p * plane
                for i in 0..<plane { d[i] = (s[i] - m) * scale }
            }
        }
        return try LabeledImages(images: out, labels: labels, classNames: classNames)
    }
}
