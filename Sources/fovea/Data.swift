import ArgumentParser
import Foundation
import Fovea
#if canImport(Glibc)
import Glibc
#endif

extension FoveaCommand {
    /// `fovea data`: data-set tools.
    struct DataCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "data", abstract: "Data-set tools.", subcommands: [SynthAOI.self, Download.self])

        /// `fovea data synth-aoi`: the synthetic defect-inspection set.
        struct SynthAOI: ParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "synth-aoi",
                abstract: "Write SYNTHETIC grey surface images in the AOI competition's six classes (normal, void, horizontal defect, vertical defect, edge defect, particle) as PNG class folders plus labels.csv (ID,Label).")

            @Option(help: "Folder to write into.")
            var out: String
            @Option(parsing: .unconditional, help: "Images per class.")
            var perClass = 200
            @Option(parsing: .unconditional, help: "Image side in pixels.")
            var size = 64
            @Option(parsing: .unconditional, help: "Random seed (default: 1).", transform: OptionCheck.seed)
            var seed: UInt64 = 1

            func validate() throws {
                try OptionCheck.whole("--per-class", perClass, in: 1...100_000)
                try OptionCheck.whole("--size", size, in: 16...1024)
                try OptionCheck.path("--out", out)
            }

            func run() throws {
                let root = URL(fileURLWithPath: out)
                let count = try SyntheticAOI.write(to: root, perClass: perClass, size: size, seed: seed)
                Console.write("Wrote \(count) synthetic \(size)x\(size) grey images (\(perClass) per class: \(SyntheticAOI.classNames.joined(separator: ", "))) to \(root.path), with labels.csv; train with `fovea train --data \(root.path)`")
            }
        }

        /// `fovea data download`: fetches a built-in data set into the cache, resuming partial
        /// downloads and checking the SHA-256 of what arrives.
        ///
        /// Fashion-MNIST is usable without a download where Debian's `dataset-fashion-mnist` is
        /// installed: then, unless `--force`, `--cache` or `--mirror` asks for a copy, the
        /// installed files are checked and nothing is fetched.
        struct Download: ParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "download",
                abstract: "Download MNIST, Fashion-MNIST or CIFAR-10 from the standard mirrors into the cache, resuming partial downloads and checking the SHA-256 of every file.")

            @Argument(help: "The data set: \(DatasetManifest.builtIn.map(\.name).joined(separator: ", ")).")
            var dataset: String
            @Option(help: "Folder to download into; the files go to DIR/<data set>/ (default: $FOVEA_DATA_DIR, else $XDG_CACHE_HOME/fovea or ~/.cache/fovea, where the loaders look).")
            var cache: String?
            @Option(name: .customLong("mirror"), help: "A mirror (http:// or https:// URL of a folder holding the files) to use instead of the built-in ones; repeat to try several in order.")
            var mirrors: [String] = []
            @Flag(help: "Download again files already present and verified (for Fashion-MNIST, also when Debian's copy is installed).")
            var force = false

            func validate() throws {
                let names = DatasetManifest.builtIn.map(\.name)
                guard names.contains(dataset) else {
                    throw ValidationError("unknown data set '\(dataset)'; choose one of: \(names.joined(separator: ", "))")
                }
                for mirror in mirrors {
                    guard let url = URL(string: mirror), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil else {
                        throw ValidationError("--mirror must be an http:// or https:// URL, got '\(mirror)'")
                    }
                }
            }

            func run() throws {
                let manifest = try DatasetManifest.named(dataset)
                if manifest.name == DatasetManifest.fashionMNIST.name, !force, cache == nil, mirrors.isEmpty,
                   DatasetDownloader.isVerifiedCopy(of: manifest, in: FashionMNIST.systemDirectory) {
                    let folder = FashionMNIST.systemDirectory.path
                    Console.write("Fashion-MNIST is already installed in \(folder) (Debian's dataset-fashion-mnist), SHA-256 verified: usable without a download.")
                    Console.write("Train with: fovea train --dataset fashion-mnist (it is found there), or pass --force to download a copy into \(DataDirectory.defaultCache().appendingPathComponent(manifest.folder).path).")
                    return
                }
                let downloader = DatasetDownloader(cache: cache.map { URL(fileURLWithPath: $0, isDirectory: true) } ?? DataDirectory.defaultCache(),
                                                   mirrors: mirrors.isEmpty ? nil : mirrors.compactMap { URL(string: $0) }, force: force)
                let showProgress = isatty(STDOUT_FILENO) != 0
                let folder = try downloader.download(manifest) { event in
                    if case .progress = event, !showProgress { return }
                    Console.write(event.description)
                }
                Console.write("\(manifest.displayName) is ready in \(folder.path)")
                Console.write(Self.howToUse(manifest, folder: folder))
            }

            /// The command (or call) that trains on the downloaded set.
            static func howToUse(_ manifest: DatasetManifest, folder: URL) -> String {
                switch manifest.name {
                case DatasetManifest.mnist.name:
                    return "Train with: fovea train --data-dir \(folder.path)"
                case DatasetManifest.fashionMNIST.name:
                    return "Train with: fovea train --dataset fashion-mnist --data-dir \(folder.path)"
                default:
                    return "Load it with: CIFAR.load10(split: .train, from: URL(fileURLWithPath: \"\(folder.path)\"))"
                }
            }
        }
    }
}
