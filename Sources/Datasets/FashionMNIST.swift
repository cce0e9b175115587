import Foundation

/// Fashion-MNIST (Xiao, Rasul and Vollgraf, 2017): Zalando's drop-in replacement for
/// MNIST, 28x28 greyscale photos of clothing in 10 classes, shipped as IDX files with
/// exactly MNIST's names and layout. Images load as `[N, 1, 28, 28]` in [0, 1].
///
/// The project publishes MD5 sums only; `sha256` holds the SHA-256 of the uncompressed
/// files, which callers may pass as `checksums` (loading is unverified otherwise).
public enum FashionMNIST {
    /// Class names in label order, as the Fashion-MNIST README lists them.
    public static let classNames = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    /// Mean pixel value of the training set after scaling to [0, 1].
    public static let mean: Float = 0.2860
    /// Standard deviation of the training-set pixels after scaling to [0, 1].
    public static let std: Float = 0.3530

    /// The SHA-256 of each uncompressed Fashion-MNIST file, by file name.
    ///
    /// Origin: computed with `gunzip -c FILE | sha256sum` from Debian's `dataset-fashion-mnist`
    /// (2020, `/usr/share/datasets/fashion-mnist/*.gz`). Debian's `.gz` files are the upstream
    /// ones recompressed without the stored file name (each is exactly name length + 1 bytes
    /// shorter than the upstream file), so the uncompressed bytes are upstream's.
    public static let sha256: [String: String] = [
        "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    ]

    /// Where Debian's `dataset-fashion-mnist` package installs the files.
    public static let systemDirectory = URL(fileURLWithPath: "/usr/share/datasets/fashion-mnist", isDirectory: true)

    /// The folder holding the files: `$FOVEA_DATA_DIR/fashion-mnist`, `./Data/fashion-mnist`,
    /// `Data/fashion-mnist` in the source tree, the download cache (`~/.cache/fovea/fashion-mnist`
    /// when `$FOVEA_DATA_DIR` is unset; see `DataDirectory`), then `systemDirectory`.
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
