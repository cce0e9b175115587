import TensorCore

extension LabeledImages {
    /// Splits off a validation set: a seeded random `fraction` of the images (rounded, at
    /// least one of each side) becomes `validation`, the rest `training`, both in their
    /// original order. The same seed always picks the same images.
    ///
    /// - Throws: `DatasetError.invalidArgument` when `fraction` is outside (0, 1) or the set
    ///   is too small to give both sides an image.
    public func split(validationFraction fraction: Double, seed: UInt64) throws
        -> (training: LabeledImages, validation: LabeledImages) {
        guard fraction > 0, fraction < 1, fraction.isFinite else {
            throw DatasetError.invalidArgument("validation fraction must be in (0, 1), got \(fraction)")
        }
        guard count >= 2 else {
            throw DatasetError.invalidArgument("cannot split \(count) image(s) into training and validation sets")
        }
        let validationCount = Swift.min(Swift.max(Int((Double(count) * fraction).rounded()), 1), count - 1)
        // A seeded shuffle (the loader's) picks which images go to validation.
        let picked = try DataLoader(self, batchSize: 1, shuffle: true, seed: seed).order(epoch: -1)
        var isValidation = [Bool](repeating: false, count: count)
        for i in picked.prefix(validationCount) { isValidation[i] = true }
        return (try subset((0..<count).filter { !isValidation[$0] }),
                try subset((0..<count).filter { isValidation[$0] }))
    }
}

extension LabeledImages {
    /// A stratified split: the seeded `fraction` is taken from every class on its own
    /// (rounded, at least one image of each class with two or more goes to each side), so
    /// both sides keep the class proportions. Both sides keep the original order.
    public func stratifiedSplit(validationFraction fraction: Double, seed: UInt64) throws
        -> (training: LabeledImages, validation: LabeledImages) {
        guard fraction > 0, fraction < 1, fraction.isFinite else {
            throw DatasetError.invalidArgument("validation fraction must be in (0, 1), got \(fraction)")
        }
        var generator = SeededGenerator(seed: seed)
        var isValidation = [Bool](repeating: false, count: count)
        for c in classNames.indices {
            var members = labels.indices.filter { labels[$0] == c }
            guard members.count >= 2 else { continue }
            members.shuffle(using: &generator)
            let k = Swift.min(Swift.max(Int((Double(members.count) * fraction).rounded()), 1), members.count - 1)
            for i in members.prefix(k) { isValidation[i] = true }
        }
        let validation = (0..<count).filter { isValidation[$0] }
        guard !validation.isEmpty else {
            throw DatasetError.invalidArgument("cannot split: no class has two or more of the \(count) image(s)")
        }
        return (try subset((0..<count).filter { !isValidation[$0] }), try subset(validation))
    }

    /// Images per class.
    public var classCounts: [Int] {
        var counts = [Int](repeating: 0, count: classNames.count)
        for l in labels { counts[l] += 1 }
        return counts
    }

    /// Class weights `N / (classes * count_c)` (scikit-learn's "balanced"; 0 for an absent
    /// class), for a weighted cross-entropy on an imbalanced set.
    public var balancedClassWeights: [Float] {
        let n = Float(count), k = Float(classNames.count)
        return classCounts.map { $0 > 0 ? n / (k * Float($0)) : 0 }
    }
}
