import Foundation

/// Fashion-MNIST (Xiao, Rasul and Vollgraf, 2017): Zalando's drop-in replacement for
/// MNIST, 28x28 greyscale photos of clothing in 10 classes, shipped as IDX files with
/// exactly MNIST's names and layout. Images load as `[N, 1, 28, 28]` in [0, 1].
///
/// No SHA-256 digests are built in (the project publishes MD5 sums), so loading is
/// unverified unless the caller passes `checksums`.
public enum FashionMNIST {
    /// Class names in label order, as the Fashion-MNIST README lists them.
    public static let classNames = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    /// Mean pixel value of the training set after scaling to [0, 1].
    public static let mean: Float = 0.2860
    /// Standard deviation of the training-set pixels after scaling to [0, 1].
    public static let std: Float = 0.3530

    /// Where Debian's `dataset-fashion-mnist` package installs the files.
    public static let systemDirectory = URL(fileURLWithPath: "/usr/share/datasets/fashion-mnist", isDirectory: true)

    /// The folder holding the files: `$FOVEA_DATA_DIR/fashion-mnist`, `./Data/fashion-mnist`,
    /// `Data/fashion-mnist` in the source tree, then `systemDirectory`.
    public static func defaultDirectory(environment: [String: String] = ProcessInfo.processInfo.environment,
                                        workingDirectory: String = FileManager.default.currentDirectoryPath) throws -> URL {
        try DataDirectory.find("fashion-mnist", dataset: "Fashion-MNIST", containingAnyOf: MNIST.allFileNames,
                               environment: environment, workingDirectory: workingDirectory, extra: [systemDirectory])
    }

    /// Loads one split, images `[N, 1, 28, 28]` in [0, 1] and labels 0-9 named by
    /// `classNames`. With `checksums` (SHA-256 by uncompressed file name) the files are verified.
    public static func load(split: MNIST.Split, from directory: URL,
                            checksums: [String: String]? = nil) throws -> LabeledImages {
        try MNIST.load(split: split, from: directory, verify: checksums != nil,
                       checksums: checksums ?? [:], classNames: classNames)
    }
}
