import Foundation
import TensorCore

/// CIFAR-10 and CIFAR-100 in their binary versions (A. Krizhevsky, "Learning multiple layers
/// of features from tiny images", 2009).
///
/// A CIFAR-10 record is 1 label byte then 3,072 pixel bytes: the red, green and blue 32x32
/// planes, each row-major. A CIFAR-100 record has 2 label bytes (coarse, then fine) before the
/// same pixels. Files: `data_batch_1.bin` ... `data_batch_5.bin` and `test_batch.bin`
/// (CIFAR-10, with `batches.meta.txt` naming the classes); `train.bin` and `test.bin`
/// (CIFAR-100, with `fine_label_names.txt` and `coarse_label_names.txt`).
public enum CIFAR {
    public enum Variant: Sendable, Equatable {
        case cifar10
        /// `fine`: the 100 fine labels; otherwise the 20 coarse superclasses.
        case cifar100(fine: Bool)

        var labelBytes: Int { self == .cifar10 ? 1 : 2 }
        var classCount: Int {
            switch self { case .cifar10: return 10; case .cifar100(let fine): return fine ? 100 : 20 }
        }
    }

    /// CIFAR-10's classes, in label order.
    public static let cifar10ClassNames = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    /// Bytes of pixels per image: 3 x 32 x 32.
    public static let imageBytes = 3 * 32 * 32

    /// Parses the records of one file: images `[N, 3, 32, 32]` in [0, 1] and their labels.
    /// `classNames` default to the indices (CIFAR-100) or CIFAR-10's names.
    ///
    /// - Throws: `DatasetError` naming the file when its size is not a whole number of
    ///   records or a label is out of range.
    public static func parse(_ bytes: [UInt8], variant: Variant, path: String? = nil, classNames: [String]? = nil) throws -> LabeledImages {
        let record = variant.labelBytes + imageBytes
        guard !bytes.isEmpty, bytes.count % record == 0 else {
            throw DatasetError.unexpectedContents(path: path, reason: "\(bytes.count) bytes is not a whole number of \(record)-byte \(variant == .cifar10 ? "CIFAR-10" : "CIFAR-100") records")
        }
        let n = bytes.count / record
        let images = Tensor(zeros: [n, 3, 32, 32])
        var labels = [Int](repeating: 0, count: n)
        let out = images.pointer
        let labelOffset: Int
        switch variant { case .cifar10: labelOffset = 0; case .cifar100(let fine): labelOffset = fine ? 1 : 0 }
        bytes.withUnsafeBufferPointer { b in
            for i in 0..<n {
                let start = i * record
                labels[i] = Int(b[start + labelOffset])
                let pixels = start + variant.labelBytes
                for j in 0..<imageBytes { out[i * imageBytes + j] = Float(b[pixels + j]) / 255 }
            }
        }
        let names = classNames ?? (variant == .cifar10 ? cifar10ClassNames : (0..<variant.classCount).map(String.init))
        if let bad = labels.firstIndex(where: { $0 >= names.count }) {
            throw DatasetError.labelOutOfRange(path: path, index: bad, label: labels[bad], classCount: names.count)
        }
        return try LabeledImages(images: images, labels: labels, classNames: names)
    }

    /// Loads and concatenates `files` (in order) from `directory`, naming the classes from
    /// the set's label-name file when it is there.
    public static func load(_ files: [String], from directory: URL, variant: Variant) throws -> LabeledImages {
        let namesFile: String
        switch variant {
        case .cifar10: namesFile = "batches.meta.txt"
        case .cifar100(let fine): namesFile = fine ? "fine_label_names.txt" : "coarse_label_names.txt"
        }
        var names: [String]?
        if let text = try? FileIO.read(directory.appendingPathComponent(namesFile)) {
            let lines = String(decoding: text, as: UTF8.self).split(whereSeparator: \.isNewline)
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            if lines.count == variant.classCount { names = lines }
        }
        var parts: [LabeledImages] = []
        for file in files {
            let url = directory.appendingPathComponent(file)
            parts.append(try parse(try FileIO.read(url), variant: variant, path: url.path, classNames: names))
        }
        guard let first = parts.first else { throw DatasetError.invalidArgument("no CIFAR files to load") }
        let total = parts.reduce(0) { $0 + $1.count }
        let images = Tensor(zeros: [total, 3, 32, 32])
        var offset = 0
        for p in parts {
            (images.pointer + offset * imageBytes).update(from: p.images.pointer, count: p.count * imageBytes)
            offset += p.count
        }
        return try LabeledImages(images: images, labels: parts.flatMap(\.labels), classNames: first.classNames)
    }

    /// CIFAR-10's training (the five data batches) or test split from `directory`.
    public static func load10(split: MNIST.Split, from directory: URL) throws -> LabeledImages {
        try load(split == .train ? (1...5).map { "data_batch_\($0).bin" } : ["test_batch.bin"], from: directory, variant: .cifar10)
    }

    /// CIFAR-100's training or test split, with fine (100) or coarse (20) labels.
    public static func load100(split: MNIST.Split, from directory: URL, fine: Bool = true) throws -> LabeledImages {
        try load([split == .train ? "train.bin" : "test.bin"], from: directory, variant: .cifar100(fine: fine))
    }
}
