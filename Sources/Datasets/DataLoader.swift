import TensorCore

/// Cuts a `LabeledImages` into mini-batches, like PyTorch's `DataLoader`.
///
/// ```swift
/// let loader = try DataLoader(train, batchSize: 64, shuffle: true, seed: 42)
/// for epoch in 1...10 {
///     for batch in loader.batches(epoch: epoch) { ... }  // images [64, C, H, W]
/// }
/// ```
///
/// With `shuffle`, each epoch visits the images in a different order that depends only on
/// `seed` and the epoch number: the same seed and epoch give the same batches on every run
/// and machine, and every image appears exactly once per epoch. Without it the order is
/// `0..<count` for every epoch.
public struct DataLoader: Sendable {
    /// One mini-batch.
    public struct Batch: Sendable {
        /// The images, `[B, C, H, W]`; B is `batchSize` except perhaps for the last batch.
        public let images: Tensor
        /// The class of each image, B of them.
        public let labels: [Int]
        /// Where each image sits in the data set, B of them.
        public let indices: [Int]
    }

    /// The data set batched.
    public let data: LabeledImages
    /// Images per batch.
    public let batchSize: Int
    /// Whether each epoch uses a fresh, seeded permutation.
    public let shuffle: Bool
    /// The seed the per-epoch permutations derive from.
    public let seed: UInt64
    /// Whether a final batch smaller than `batchSize` is skipped.
    public let dropLast: Bool
    /// Transforms applied to every training image as its batch is built (see `augmented`).
    public private(set) var augmentation: Augmentation?
    /// Whether each epoch draws its images with replacement, every class equally likely
    /// (see `balancedSampling()`), instead of visiting each image once.
    public private(set) var balanced = false
    /// Batches built ahead on background threads by training loops that honour it (the
    /// `Trainer`); 0 builds each batch when it is needed. See `prefetching(depth:workers:)`.
    public private(set) var prefetchDepth = 0
    /// Background threads building batches when `prefetchDepth > 0`.
    public private(set) var prefetchWorkers = 1

    /// - Throws: `DatasetError.invalidArgument` when `batchSize < 1`.
    public init(_ data: LabeledImages, batchSize: Int, shuffle: Bool = false, seed: UInt64 = 0,
                dropLast: Bool = false) throws {
        guard batchSize >= 1 else { throw DatasetError.invalidArgument("batchSize must be at least 1, got \(batchSize)") }
        self.data = data
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.seed = seed
        self.dropLast = dropLast
    }

    /// This loader with `augmentation` applied to each image as batches are built, over the
    /// cores, image i of batch k of epoch e seeded from the loader's seed, e, k and i (so a
    /// seeded run repeats exactly). The transforms are tried on the first image here, so a
    /// bad configuration is an error now, not later.
    public func augmented(with augmentation: Augmentation) throws -> DataLoader {
        if data.count > 0 {
            let per = data.imageSize
            let first = try Tensor(shape: [data.channels, data.height, data.width],
                                   values: Array(UnsafeBufferPointer(start: data.images.pointer, count: per)))
            var generator = SeededGenerator(seed: seed)
            let out = try augmentation.apply(first, generator: &generator)
            guard out.shape == first.shape else {
                throw DatasetError.invalidArgument("augmentation turns \(describe(first.shape)) images into \(describe(out.shape)); training batches need the model's size, so end with a resize or crop back to it")
            }
        }
        var copy = self
        copy.augmentation = augmentation
        return copy
    }

    /// This loader drawing, for each epoch, `data.count` images with replacement so that every
    /// class present is equally likely (PyTorch's `WeightedRandomSampler` with weights
    /// `1 / count(class)`): a class is chosen uniformly, then one of its images uniformly.
    /// Seeded by the loader's seed and the epoch, like the shuffle. For imbalanced sets, as
    /// an alternative to class-weighted losses.
    public func balancedSampling() -> DataLoader {
        var copy = self
        copy.balanced = true
        return copy
    }

    /// This loader with `depth` batches (at least 1) built ahead by `workers` background
    /// threads during training (see `PrefetchedBatches`); the batches are unchanged.
    ///
    /// - Throws: `DatasetError.invalidArgument` when `depth` or `workers` is below 1.
    public func prefetching(depth: Int = 2, workers: Int = 1) throws -> DataLoader {
        guard depth >= 1, workers >= 1 else {
            throw DatasetError.invalidArgument("prefetching needs depth >= 1 and workers >= 1, got depth \(depth), workers \(workers)")
        }
        var copy = self
        copy.prefetchDepth = depth
        copy.prefetchWorkers = workers
        return copy
    }

    /// Batches per epoch: `count / batchSize` with `dropLast`, rounded up without it.
    public var count: Int {
        dropLast ? data.count / batchSize : (data.count + batchSize - 1) / batchSize
    }

    /// The order in which epoch `epoch` visits the images: a permutation of `0..<data.count`
    /// (Fisher-Yates driven by a generator seeded from `seed` and `epoch`), or the identity
    /// without `shuffle`.
    /// With `balancedSampling()` it is instead `data.count` draws with replacement, a class
    /// chosen uniformly among those present and then one of its images uniformly.
    public func order(epoch: Int) -> [Int] {
        // Mix the epoch into the seed; SeededGenerator's SplitMix64 seeding then spreads
        // neighbouring seeds apart.
        var generator = SeededGenerator(seed: seed ^ (UInt64(bitPattern: Int64(epoch)) &* 0x9E37_79B9_7F4A_7C15))
        if balanced { return balancedOrder(using: &generator) }
        var order = Array(0..<data.count)
        guard shuffle, order.count > 1 else { return order }
        for i in stride(from: order.count - 1, to: 0, by: -1) {
            let j = Int(DataLoader.uniform(below: UInt64(i + 1), using: &generator))
            order.swapAt(i, j)
        }
        return order
    }

    /// `data.count` indices drawn with replacement, each class present equally likely.
    private func balancedOrder(using generator: inout SeededGenerator) -> [Int] {
        var members = [[Int]](repeating: [], count: data.classNames.count)
        for (i, label) in data.labels.enumerated() { members[label].append(i) }
        let present = members.filter { !$0.isEmpty }
        guard !present.isEmpty else { return [] }
        return (0..<data.count).map { _ in
            let group = present[Int(DataLoader.uniform(below: UInt64(present.count), using: &generator))]
            return group[Int(DataLoader.uniform(below: UInt64(group.count), using: &generator))]
        }
    }

    /// The batches of epoch `epoch`, in order; a random-access collection, so
    /// `batches(epoch: e)[k]` builds batch `k` alone. Each batch is built on access.
    public func batches(epoch: Int) -> Batches {
        Batches(loader: self, order: order(epoch: epoch), epoch: epoch)
    }

    /// The batches of one epoch; each element is built (its images copied) when accessed.
    public struct Batches: RandomAccessCollection, Sendable {
        let loader: DataLoader
        let order: [Int]
        let epoch: Int

        /// The first batch's position, 0.
        public var startIndex: Int { 0 }
        /// One past the last batch: the loader's `count`.
        public var endIndex: Int { loader.count }

        /// Batch `position`: the images at `order[position * batchSize ..< ...]`, each copied
        /// with one `memcpy`.
        public subscript(position: Int) -> Batch {
            precondition(position >= 0 && position < endIndex, "batch \(position) outside 0..<\(endIndex)")
            let data = loader.data
            let lo = position * loader.batchSize
            let indices = Array(order[lo..<Swift.min(lo + loader.batchSize, order.count)])
            let size = data.imageSize
            let images = Tensor.uninitialized([indices.count, data.channels, data.height, data.width])
            let src = data.images.pointer, dst = images.pointer
            for (row, i) in indices.enumerated() {
                (dst + row * size).update(from: src + i * size, count: size)
            }
            var batch = images
            if let augmentation = loader.augmentation {
                let seed = loader.seed ^ (UInt64(bitPattern: Int64(epoch)) &* 0xD1B5_4A32_D192_ED03) ^ (UInt64(position) &* 0x9E37_79B9_7F4A_7C15)
                do { batch = try augmentation.apply(batch: images, seed: seed) } catch {
                    // `augmented(with:)` tried these transforms on an image of this size.
                    preconditionFailure("augmentation failed after validation: \(error)")
                }
            }
            return Batch(images: batch, labels: indices.map { data.labels[$0] }, indices: indices)
        }
    }

    /// A uniform integer in `0..<bound` without modulo bias (Lemire's multiply-and-reject),
    /// spelled out so the shuffle cannot change with the standard library's algorithm.
    static func uniform(below bound: UInt64, using generator: inout SeededGenerator) -> UInt64 {
        var product = generator.next().multipliedFullWidth(by: bound)
        if product.low < bound {
            let threshold = (0 &- bound) % bound
            while product.low < threshold { product = generator.next().multipliedFullWidth(by: bound) }
        }
        return product.high
    }
}
