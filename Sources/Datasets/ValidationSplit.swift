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
